"""Writing files the way every output file is written: owner-only from the first byte."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

FILE_MODE = 0o600  # documents and the annotated copy hold Client Secrets: owner only
DIR_MODE = 0o700


def write_private(path: str | Path, data: str | bytes, *,
                  create_lock: AbstractContextManager[object] | None = None) -> None:
    """Create a file owner-only from the start (no window in which others could read it). Processes that fill
    one folder together pass a shared `create_lock`: see documents.py."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    with create_lock or nullcontext():
        fd = os.open(path, flags, FILE_MODE)
    try:
        view = memoryview(data.encode("utf-8") if isinstance(data, str) else data)
        while view:  # os.write may write less than asked (a full disk raises OSError instead)
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
