"""The private temporary folder of `asr-batch serve`: uploaded workbooks and everything made from them.

Owner-only (0700) and removed when the server stops. A server that could not clean up (killed outright, its
console window closed on Windows) leaves its folder behind, with Client Secrets in it: the next server removes
it. Each folder holds a file that its live server keeps open and locked, so a folder whose lock can be taken
belongs to no server any more.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

from batch import system

PREFIX = "asr-batch-serve-"
IN_USE = ".in-gebruik"


def _lock(handle: IO[bytes]) -> bool:
    """Take the folder's lock without waiting; False when another live server holds it."""
    if system.windows():
        return True  # an open file cannot be deleted on Windows: holding it open is the lock (see _abandoned)
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _abandoned(folder: Path) -> bool:
    marker = folder / IN_USE
    if system.windows():  # %TEMP% is in the user's own profile: no one else's folders to leave alone
        try:
            marker.unlink()  # fails while the server that made it still has it open
        except FileNotFoundError:
            return False
        except OSError:
            return False
        return True
    if folder.stat().st_uid != os.getuid():  # only ever our own
        return False
    try:
        with marker.open("rb") as handle:
            return _lock(handle)
    except OSError:
        return False


def remove_abandoned(parent: Path | None = None) -> list[Path]:
    """Remove the folders of servers that are gone; returns them."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        with contextlib.suppress(OSError):
            if folder.is_dir() and not system.is_link(folder) and _abandoned(folder):
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


class Workspace:
    """One server's private folder: a numbered folder per upload. Removed by `close`."""

    def __init__(self) -> None:
        remove_abandoned()
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))  # mkdtemp: owner-only (0700)
        self._in_use: IO[bytes] | None = (self.root / IN_USE).open("wb")
        _lock(self._in_use)
        self._uploads = 0

    def new_upload(self) -> Path:
        self._uploads += 1
        folder = self.root / f"werkmap-{self._uploads}"
        folder.mkdir(mode=0o700)
        return folder

    def close(self) -> bool:
        """Remove the folder; True when nothing of it is left."""
        if self._in_use is not None:
            self._in_use.close()
            self._in_use = None
        shutil.rmtree(self.root, ignore_errors=True)
        return not self.root.exists()
