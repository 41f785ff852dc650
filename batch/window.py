"""`asr-batch-venster`: the local page (`asr-batch serve`) for a Start-menu shortcut or a macOS app, without a
console window.

It is a GUI script (pyproject.toml): on Windows pip and pipx make it an .exe that starts pythonw, so no black window
opens beside the browser, and the clerk stops the page with its Stoppen button. pythonw gives Python no stdout and
no stderr (both None). The address with its token, stdout's first line, is for a terminal only and goes nowhere; the
Dutch messages of a start that fails (a register that cannot be read) go to a log file in this computer's asr-batch
folder, so that IT can read why nothing opened. Those messages are the redacted ones a terminal shows: no token, no
secret.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

LOG = "venster.log"


def _without_console() -> None:
    """Give Python the streams pythonw leaves out, so that nothing asr-batch or a library writes is lost in a
    failure of its own."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open for the life of the process
    if sys.stderr is None:
        sys.stderr = _log() or open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def _log() -> TextIO | None:
    """The log file, new at every start and owner-only (it may name the clerk's folders); None where it cannot be
    made."""
    from batch.files import DIR_MODE, FILE_MODE
    from batch.register.computer import config_folder

    with contextlib.suppress(OSError):
        folder = config_folder()
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        descriptor = os.open(folder / LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        return os.fdopen(descriptor, "w", encoding="utf-8", errors="replace", buffering=1)
    return None


def main() -> None:
    """`asr-batch serve` with the options given (`--port`, `--register`), without a console window."""
    _without_console()
    sys.argv = [sys.argv[0] if sys.argv else "asr-batch-venster", "serve", *sys.argv[1:]]
    from batch.cli import run

    run()
