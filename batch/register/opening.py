"""Opening the register for one command: found where --register or $ASR_BATCH_REGISTER says, created only by a
command that records, and closed afterwards."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from batch.errors import UnusableInput
from batch.files import DIR_MODE, FILE_MODE
from batch.register.engines import engine_for
from batch.register.location import Location, locate
from batch.register.records import Status
from batch.register.schema import prepare
from batch.register.store import Register


@contextlib.contextmanager
def using(given: str | None) -> Iterator[Register | None]:
    """The register at --register / $ASR_BATCH_REGISTER / the default, for one command, closed afterwards; None
    when there is none yet (nothing is created)."""
    opened = open_register(locate(given), create=False)
    try:
        yield opened
    finally:
        if opened is not None:
            opened.close()


@contextlib.contextmanager
def existing(given: str | None) -> Iterator[Register]:
    """As `using`, for the commands that change a register: there must be one."""
    with using(given) as opened:
        if opened is None:
            raise UnusableInput(f"Het register '{locate(given).shown}' bestaat nog niet of is leeg.",
                                "Draai eerst 'asr-batch process werkmap.xlsx'; dan komen de geldige werkgevers erin.")
        yield opened


def status_of(given: str | None) -> Status:
    """What `status` shows: every werkgever, or none when there is no register yet."""
    with using(given) as opened:
        return opened.status() if opened is not None else Status(locate(given).shown, [])


def open_register(location: Location, *, create: bool) -> Register | None:
    """The register at `location`. Absent (no file, an empty file, a database without tables): None, or a new one
    when `create` (an SQLite file owner-only). Raises UnusableInput when it cannot be used, leaving it exactly as
    it was."""
    path = location.path
    fresh = path is not None and (not path.exists() or path.stat().st_size == 0)
    if fresh and not create:
        return None  # nothing is created by reading
    if path is not None and not path.exists():
        _create_file(location, path)
    try:
        engine = engine_for(location)
    except (sa.exc.ArgumentError, ValueError, TypeError):  # e.g. ?port=x
        raise UnusableInput(f"'{location.shown}' is geen geldig adres van een register.",
                            "Controleer het adres bij --register of ASR_BATCH_REGISTER, bijvoorbeeld "
                            "postgresql://gebruiker@server:5432/database.") from None
    try:
        key = prepare(location, engine, fresh=fresh, create=create)
    except BaseException:
        engine.dispose()
        raise
    if key is None:
        engine.dispose()
        return None
    return Register(location, engine, key)


def _create_file(location: Location, path: Path) -> None:
    try:
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another command made it just now
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except OSError as exc:
        raise UnusableInput(f"Het register '{location.shown}' kan niet worden aangemaakt "
                            f"({exc.strerror or type(exc).__name__}).",
                            "Kies met --register (of ASR_BATCH_REGISTER) een map waarin u mag schrijven.") from None
