"""What differs between Windows, macOS and Linux, decided in one place: one small function per decision.

The rest of the package asks these functions instead of testing `os.name` or `sys.platform` itself, so that a test
on Linux can force the Windows (or macOS) branch by replacing one function, and the README's list of POSIX-only
steps ("Windows and macOS") can name where each decision is made.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platformdirs.api import PlatformDirsABC

APP = "asr-batch"
MAX_PATH = 260  # Windows' classic limit for a whole path, its closing NUL included
_MOUNT_POINT = 0xA0000003  # IO_REPARSE_TAG_MOUNT_POINT: a junction, the link any Windows user may make


def windows() -> bool:
    return os.name == "nt"


def macos() -> bool:
    return sys.platform == "darwin"


def linux() -> bool:
    return sys.platform.startswith("linux")


def user_dirs() -> PlatformDirsABC:
    """The user's own folders for asr-batch: the register (data) and this computer's id (config).

    Windows: %LOCALAPPDATA%\\asr-batch, never the roaming %APPDATA%: a roaming profile would carry the computer's
    id to the clerk's other PCs (two computers, one id: `purge` would take the other's documents for its own), and
    an SQLite file does not belong in a folder that is copied at every logon. Neither is in OneDrive: Known Folder
    Move redirects Documents and Desktop, not AppData. macOS: ~/Library/Application Support/asr-batch. Linux and
    the rest: the XDG folders (~/.local/share, ~/.config)."""
    if windows():
        from platformdirs.windows import Windows

        return Windows(APP, appauthor=False, roaming=False)
    if macos():
        from platformdirs.macos import MacOS

        return MacOS(APP, appauthor=False)
    from platformdirs.unix import Unix

    return Unix(APP, appauthor=False)


def long_paths() -> bool:
    """Whether this Windows takes paths longer than MAX_PATH: only when an administrator set LongPathsEnabled
    (python.org's Python is long-path aware then). Elsewhere paths are long enough anyway."""
    if not windows():
        return True
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE,  # type: ignore[attr-defined,unused-ignore]
                            r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            value, _ = winreg.QueryValueEx(key, "LongPathsEnabled")  # type: ignore[attr-defined,unused-ignore]
    except (ImportError, OSError):
        return False
    return bool(value == 1)


def _reparse_tag(path: Path) -> int:
    return int(getattr(os.lstat(path), "st_reparse_tag", 0))


def is_link(path: Path) -> bool:
    """Whether `path` is a symbolic link or, on Windows, a junction (a directory link that needs no privilege
    and that `Path.is_symlink` does not report): either could lead a copy or a deletion out of its folder."""
    if path.is_symlink():
        return True
    if not windows():
        return False
    try:
        return _reparse_tag(path) == _MOUNT_POINT
    except OSError:
        return False


def keeps_write_bit(mode: int) -> bool:
    """On Windows `os.chmod` sets nothing but the read-only flag, taken from the owner's write bit: the owner-only
    modes must keep it, or the next run could not replace its own files."""
    return bool(mode & stat.S_IWRITE)


# Device names on Windows, whatever follows a dot: CON.xlsx is the console, NUL.pdf nothing at all. The superscript
# digits count too. CONIN$, CONOUT$ and CLOCK$ are left out: no name asr-batch makes or reads holds a `$`.
RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL"}
                           | {f"{device}{n}" for device in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"})


def windows_name_problem(name: str) -> str | None:
    """Why Windows cannot keep a file or folder called `name` as it is (Dutch, for a message), or None."""
    if name.rstrip(" .") != name:
        return (f"'{name}' eindigt op een punt of een spatie; Windows laat die weg, en dan gaat het om een ander "
                "bestand of een andere map")
    device = name.split(".", 1)[0].rstrip(" ").upper()
    if device in RESERVED_NAMES:
        return f"'{name}' is voor Windows de naam van een apparaat ({device}), geen bestand of map"
    return None
