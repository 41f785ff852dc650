"""File-system failures a clerk's Windows PC produces and Linux does not, in plain Dutch.

- A file open in Excel (or a PDF open in Acrobat) is locked: opening, replacing or deleting it fails with
  PermissionError, winerror 32 (ERROR_SHARING_VIOLATION) or 33 (ERROR_LOCK_VIOLATION), errno 13. Renaming a folder
  that holds such a file fails the same way, or with winerror 5 (access denied) and the folder's name.
- A path longer than MAX_PATH fails with winerror 206 (ERROR_FILENAME_EXCED_RANGE), or 3 (path not found) from
  the older calls; POSIX says ENAMETOOLONG.
- CON.xlsx, NUL, `werkgevers.xlsx.`: names Windows takes for a device, or shortens into another file.

Each message names the file and the fix; the caller keeps its own message for everything else.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from batch import system
from batch.errors import UnusableInput

SHARING_VIOLATION = 32
LOCK_VIOLATION = 33
ACCESS_DENIED = 5
PATH_NOT_FOUND = 3
FILENAME_EXCED_RANGE = 206
CLOSE_IT = "Sluit het bestand in Excel (of het andere programma) en probeer het opnieuw."
SHORTER = ("Kies een map met een korter pad, dichter bij de schijf (bijvoorbeeld C:\\asr-batch), of een kortere "
           "bestandsnaam.")
BUSY_TRIES = 8  # a virus scanner, the search indexer or OneDrive lets go of a new file within a second or so
BUSY_PAUSE = 0.15  # seconds between tries

T = TypeVar("T")


def in_use(exc: BaseException) -> bool:
    """Whether `exc` says another program holds the file open (Windows' sharing or lock violation)."""
    return isinstance(exc, OSError) and getattr(exc, "winerror", None) in (SHARING_VIOLATION, LOCK_VIOLATION)


def too_long(exc: BaseException, path: str | Path | None = None) -> bool:
    """Whether `exc` says the path is too long. Winerror 3 only counts for a path at or over MAX_PATH: below it,
    the folder really is not there."""
    if not isinstance(exc, OSError):
        return False
    winerror = getattr(exc, "winerror", None)
    if exc.errno == errno.ENAMETOOLONG or winerror == FILENAME_EXCED_RANGE:
        return True
    named = path if path is not None else exc.filename
    return winerror == PATH_NOT_FOUND and named is not None and len(os.fspath(named)) >= system.MAX_PATH


def explained(exc: OSError, path: str | Path | None, action: str) -> UnusableInput | None:
    """A Dutch message for a file held open or a path too long, or None (the caller says what it says for the
    rest). `action` is the Dutch past participle: gelezen, geschreven, vervangen, verwijderd."""
    named = Path(path if path is not None else exc.filename or "")
    if in_use(exc):
        return open_elsewhere(named, action)
    if too_long(exc, path):
        length = len(os.fspath(exc.filename or named))
        return UnusableInput(f"Het pad '{exc.filename or named}' is te lang ({length} tekens; Windows staat er "
                             f"{system.MAX_PATH - 1} toe), dus het bestand kan niet worden {action}.", SHORTER)
    return None


def open_elsewhere(path: Path, action: str, *, others: int = 0) -> UnusableInput:
    """`others`: how many more files are held open besides `path` (they are named one by one on the next try)."""
    more = f" (en nog {others} ander{'e' if others > 1 else ''} bestand{'en' if others > 1 else ''})" if others else ""
    return UnusableInput(f"Het bestand '{path.name}'{more} is geopend in een ander programma (zoals Excel) en kan "
                         f"niet worden {action} (in '{path.parent}').", CLOSE_IT)


def held_open(paths: Iterable[Path]) -> list[Path]:
    """The files among `paths` another program holds open, so that they cannot be replaced (Windows only: elsewhere
    an open file never stops a rename). Opened for writing and closed again at once: nothing is changed."""
    if not system.windows():
        return []
    held = []
    for path in paths:
        try:
            _open_for_writing(path)
        except OSError as exc:
            if in_use(exc):
                held.append(path)
    return held


def _open_for_writing(path: Path) -> None:
    os.close(os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0)))


def retry_busy(action: Callable[[], T]) -> T:
    """`action`, tried again for about a second while Windows says the file is in use: a virus scanner or OneDrive
    opens every new file for a moment. A file the clerk has open stays so, and fails after the last try."""
    for _ in range(BUSY_TRIES - 1):
        try:
            return action()
        except PermissionError as exc:
            if not system.windows() or not (in_use(exc) or getattr(exc, "winerror", None) == ACCESS_DENIED):
                raise
        time.sleep(BUSY_PAUSE)
    return action()


def check_name(path: Path, what: str) -> None:
    """On Windows, refuse a name Windows would take for a device or shorten (`what`: "Het invoerbestand", ...)."""
    if not system.windows():
        return
    problem = system.windows_name_problem(path.name)
    if problem is not None:
        raise UnusableInput(f"{what} kan zo niet worden gebruikt: {problem}.",
                            "Geef het een andere naam, bijvoorbeeld werkgevers.xlsx (of, voor een map, "
                            "werkgevers-uitvoer), zonder punt of spatie aan het eind.")
