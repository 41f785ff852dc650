"""Which computer this is: a stable id, made once and kept in the user's config folder, and the name people know it
by (the host name). A document is a file on one computer: the register records which (schema version 2), so that
`purge` deletes only this computer's and names the others, and the same `-o` path on two computers is two
documents."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from batch.errors import UnusableInput
from batch.files import DIR_MODE, write_private

CONFIG_ENV = "ASR_BATCH_CONFIG_DIR"  # where this computer's id is kept, instead of the user's config folder
ID_FILE = "computer-id"
UNKNOWN = ""  # the computer of a document recorded by a version-1 register: not known


@dataclass(frozen=True)
class Computer:
    id: str | None  # None: this computer never recorded a document (and `status` or `purge` made no id for it)
    name: str


def whose(computer: str, me: Computer, shared: bool) -> str:
    """Whose document a row of `documents` is: "mine", "other" (another computer's), or "unknown" (recorded by a
    version-1 register on a server: any clerk's computer). A version-1 SQLite register was one computer's, and
    counts as this one's, as version 1 had it."""
    if computer == UNKNOWN:
        return "unknown" if shared else "mine"
    return "mine" if computer == me.id else "other"


def config_folder() -> Path:
    given = os.environ.get(CONFIG_ENV)
    if given:
        return Path(given).expanduser().absolute()
    from batch.system import user_dirs

    return Path(user_dirs().user_config_dir)


def host_name() -> str:
    return socket.gethostname() or "onbekend"


def this_computer(*, create: bool) -> Computer:
    """This computer's id and name. Without `create` (a reading: status, purge) no id is made where none is: a
    computer without one has recorded no document. With `create` (a run that records documents) it is made once,
    owner-only; one that cannot be kept is an error, never a new id for every run (its documents would be lost to
    `purge`)."""
    path = config_folder() / ID_FILE
    found = _read(path)
    if found is None and create:
        found = _make(path)
    return Computer(found, host_name())


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _unusable(path, exc) from None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise UnusableInput(
            f"Het bestand '{path}' met de id van deze computer is beschadigd. Er is niets gewijzigd.",
            "Zet het terug uit een back-up. Of verwijder het: asr-batch maakt dan een nieuwe id, en de documenten die "
            "deze computer eerder maakte gelden dan als die van een andere computer (purge laat ze staan).") from None


def _make(path: Path) -> str:
    """A new id, published whole: two commands that start at once on a new computer both end with the same id."""
    made = str(uuid.uuid4())
    draft = path.with_name(f".{ID_FILE}.{os.getpid()}.{made[:8]}")
    try:
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        write_private(draft, made + "\n")
        try:
            os.link(draft, path)  # fails when another command was first: then its id counts
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links (FAT): made in place, exclusively
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as out:
                    out.write(made + "\n")
    except OSError as exc:
        raise _unusable(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            draft.unlink()
    found = _read(path)
    if found is None:  # gone again at once: nothing to rely on
        raise _unusable(path, FileNotFoundError(2, "verdwenen"))
    return found


def _unusable(path: Path, exc: BaseException) -> UnusableInput:
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return UnusableInput(
        f"De id van deze computer kan niet worden bewaard in '{path}' ({reason}). Er is niets gewijzigd.",
        f"asr-batch bewaart die id in de map met instellingen van de gebruiker; zorg dat u daarin mag schrijven, of "
        f"wijs met de omgevingsvariabele {CONFIG_ENV} een map aan waarin dat wel kan.")
