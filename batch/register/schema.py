"""The register's tables, declared once, and its `meta`: creating them, checking the version, upgrading an older
register in place (after a copy beside it), the locks that make writers take turns, and the generation."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from batch.errors import UnusableInput
from batch.files import FILE_MODE
from batch.register.events import entry, now, os_user
from batch.register.faults import damaged, fault
from batch.register.location import Location

SCHEMA_VERSION = 3

DATES_SINCE_3 = ("linked_on", "queried_on", "ended_on")
PRINTS_SINCE_3 = ("field_prints", "marked_field_prints", "plain_values", "marked_plain_values")

metadata = sa.MetaData()
meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
werkgevers_table = sa.Table(
    "werkgevers", metadata,
    sa.Column("werkgeverscode", sa.String(64), primary_key=True),
    sa.Column("naam", sa.Text),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("first_seen", sa.Date),
    sa.Column("last_seen", sa.Date),
    sa.Column("submitted_on", sa.Date),
    sa.Column("confirmed_on", sa.Date),
    sa.Column("first_exchange", sa.Date),
    sa.Column("source_file", sa.Text),
    sa.Column("source_row", sa.Integer),
    sa.Column("fingerprint", sa.String(64)),  # of the step-2 data in the latest workbook
    sa.Column("marked_fingerprint", sa.String(64)),  # of the step-2 data at the last submission or confirmation
    sa.Column("marked_state", sa.String(16)),  # submitted or confirmed: what `changed` returns to when data does
    # Since version 3 (what_changed.py): step 1's date, the dates of a.s.r.'s question and of the end, the clerk's
    # note; per-field fingerprints (JSON, field key -> HMAC) and the two plain values (13e maand, verloning: neither
    # secret nor personal) of the latest workbook and at the last submission or confirmation.
    *(sa.Column(name, sa.Date) for name in DATES_SINCE_3),
    sa.Column("note", sa.Text),
    *(sa.Column(name, sa.Text) for name in PRINTS_SINCE_3),
)
documents_table = sa.Table(
    "documents", metadata,
    sa.Column("werkgeverscode", sa.String(64), primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),  # absolute, on the computer that wrote it
    # Since version 2: the computer that wrote it (computer.py), '' when a version-1 register recorded it; the
    # same path on two computers is two documents.
    sa.Column("computer", sa.String(36), primary_key=True, server_default=""),
    sa.Column("computer_name", sa.Text),  # that computer's host name, for people
    sa.Column("deleting", sa.String(32)),  # purge's journal: when a purge set out to delete it (ISO 8601)
)
events_table = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),  # ISO 8601 with offset
    sa.Column("user", sa.String(128), nullable=False),
    sa.Column("werkgeverscode", sa.String(64)),
    sa.Column("event", sa.String(24), nullable=False),  # seen, new, changed, documents, submitted, ...
    sa.Column("detail", sa.Text),
)
# Since version 2: the events of one werkgever are found without reading the whole log (a `mark --from` that
# says who changed a row); a run never reads the log.
events_by_werkgever = sa.Index("ix_events_werkgeverscode", events_table.c.werkgeverscode)


def _upgrade_1_to_2(conn: Connection) -> None:
    """Documents gain the computer that wrote it (part of the key), its name, and purge's journal; the event log
    an index by werkgever. A document of version 1 gets computer '' (unknown): what that counts as, see
    computer.whose."""
    conn.execute(sa.text("ALTER TABLE documents RENAME TO documents_v1"))
    if conn.dialect.name == "postgresql":  # the key's index keeps its name, which the new table's key needs
        conn.execute(sa.text("ALTER TABLE documents_v1 RENAME CONSTRAINT documents_pkey TO documents_v1_pkey"))
    documents_table.create(conn)
    conn.execute(sa.text("INSERT INTO documents (werkgeverscode, path, computer) "
                         "SELECT werkgeverscode, path, '' FROM documents_v1"))
    conn.execute(sa.text("DROP TABLE documents_v1"))
    events_by_werkgever.create(conn)


def _upgrade_2_to_3(conn: Connection) -> None:
    """Werkgevers gain step 1's date, the dates of a.s.r.'s question and of the end, a note, and what tells which
    field changed (empty until a run sees the werkgever again: its changed fields are unknown till then)."""
    table = werkgevers_table.name
    for name in DATES_SINCE_3:
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} DATE"))
    for name in ("note", *PRINTS_SINCE_3):
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} TEXT"))


# From version N to N+1: a function of the connection, run inside the upgrade's one transaction.
UPGRADES: dict[int, Callable[[Connection], None]] = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3}

# An advisory lock of this database, while creating or upgrading the tables: any number for "asr-batch".
SCHEMA_LOCK = int.from_bytes(b"asr-bat", "big")


def prepare(location: Location, engine: Engine, *, fresh: bool, create: bool) -> bytes | None:
    """Check the schema version; create the tables of a new register, upgrade an older one (after a copy).
    Returns the fingerprint key; None: there is no register yet, and `create` is False."""
    try:
        values = None if fresh else _read_meta(location, engine)
        if values is None:  # a new SQLite file, or a database on a server without any table
            if not create:
                return None
            values = _create_tables(location, engine)
        version = int(values.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise UnusableInput(
                f"Het register '{location.shown}' is gemaakt door een nieuwere versie van asr-batch "
                f"(schema {version}; deze versie kent tot {SCHEMA_VERSION}).",
                "Werk asr-batch bij (pip install --upgrade asr-batch); het register blijft ongewijzigd.")
        if version < SCHEMA_VERSION:
            _upgrade(location, engine, version)
        return bytes.fromhex(values["fingerprint_key"])
    except sa.exc.SQLAlchemyError as exc:
        raise fault(location, exc) from None
    except (KeyError, ValueError):
        raise damaged(location) from None


def _read_meta(location: Location, engine: Engine) -> dict[str, str] | None:
    """What `meta` holds (reading only); None for a database on a server that holds no table at all."""
    with engine.connect() as conn, conn.begin():
        if location.shared and not sa.inspect(conn).get_table_names():
            return None
        return _meta(location, conn)


def _meta(location: Location, conn: Connection) -> dict[str, str]:
    # Reading any table proves it is a database; one without our `meta` is someone else's.
    if "meta" not in set(sa.inspect(conn).get_table_names()):
        raise UnusableInput(f"'{location.shown}' is geen asr-batch-register.",
                            "Kies met --register een ander bestand of een lege database; asr-batch laat deze "
                            "ongemoeid.")
    return {key: value for key, value in conn.execute(sa.select(meta_table.c.key, meta_table.c.value))}


def _create_tables(location: Location, engine: Engine) -> dict[str, str]:
    """A new register: its tables and its key, in one transaction. Another command may be doing the same at
    this moment (two clerks, a new database): whoever comes second finds the tables made and uses them."""
    with engine.connect() as conn:
        conn.info["write"] = "IMMEDIATE"
        with conn.begin():
            _lock_schema(conn)
            if not sa.inspect(conn).get_table_names():
                metadata.create_all(conn)
                conn.execute(sa.insert(meta_table), [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "fingerprint_key", "value": secrets.token_hex(32)},
                    {"key": "created", "value": now()},
                    {"key": "generation", "value": "0"}])
                conn.execute(sa.insert(events_table), [entry(now(), os_user(), None, "created", location.shown)])
            return _meta(location, conn)


def _upgrade(location: Location, engine: Engine, version: int) -> None:
    missing = [v for v in range(version, SCHEMA_VERSION) if v not in UPGRADES]
    if missing:
        raise UnusableInput(f"Het register '{location.shown}' heeft schema {version}, dat deze versie niet kan "
                            "bijwerken.", "Gebruik de versie van asr-batch die het maakte.")
    with engine.connect() as conn:
        conn.info["write"] = "EXCLUSIVE"
        with conn.begin():  # holds the write lock: no other command changes the register meanwhile
            _lock_schema(conn)
            lock_for_writing(conn, location)
            version = int(_meta(location, conn).get("schema_version", "0"))  # another command may have done it
            if version >= SCHEMA_VERSION:
                return
            if location.path is not None:
                _copy_beside(location, location.path, version)
            # On a server there is no file to copy; PostgreSQL's DDL is transactional, so the steps and the new
            # version are committed together or, should a step fail, not at all: the register stays as it was.
            for step in range(version, SCHEMA_VERSION):
                UPGRADES[step](conn)
            conn.execute(sa.update(meta_table).where(meta_table.c.key == "schema_version")
                         .values(value=str(SCHEMA_VERSION)))
            conn.execute(sa.insert(events_table), [entry(now(), os_user(), None, "upgraded",
                                                         f"schema {version} naar {SCHEMA_VERSION}")])


def _copy_beside(location: Location, path: Path, version: int) -> None:
    """The copy an upgrade of an SQLite file makes first; none, and the upgrade does not start."""
    backup = path.with_name(f"{path.name}.schema-{version}.bak")
    try:
        shutil.copy2(path, backup)
        os.chmod(backup, FILE_MODE)
    except OSError as exc:
        raise UnusableInput(
            f"Het register '{location.shown}' moet worden bijgewerkt naar schema {SCHEMA_VERSION}, maar de kopie "
            f"ernaast ('{backup.name}') kan niet worden gemaakt ({exc.strerror or type(exc).__name__}). Het register "
            "is ongewijzigd.",
            "Zorg dat er ruimte is en dat u in de map van het register mag schrijven, en draai de opdracht opnieuw."
        ) from None


def lock_for_writing(conn: Connection, location: Location) -> None:
    """Make the writers take turns, at the start of every write.

    SQLite: BEGIN IMMEDIATE (or EXCLUSIVE) has already taken the file's write lock. PostgreSQL: lock the generation
    row of `meta` (SELECT ... FOR UPDATE). Every write bumps that row at its end anyway; locking it first means a
    second writer waits at its start until the first commits, and then (READ COMMITTED) reads what the first wrote:
    a read that decides a write (the states `process` records, the werkgevers `mark` checks, the documents `purge`
    deletes) is never stale, and no event is lost. One row for the whole register rather than a lock per werkgever:
    writes are few and short (a mark, the recording of a run), and one lock cannot deadlock."""
    if conn.dialect.name != "postgresql":
        return
    held = conn.execute(sa.select(meta_table.c.key).where(meta_table.c.key == "generation")
                        .with_for_update()).first()
    if held is None:  # made by asr-batch, a register on a server always has one
        raise damaged(location)


def _lock_schema(conn: Connection) -> None:
    """Two first runs at once (two clerks on a new database) must not both create the tables, nor two newer
    versions both upgrade them: on PostgreSQL the second waits for the first (the lock ends with the
    transaction) and then finds the work done. SQLite: BEGIN IMMEDIATE/EXCLUSIVE already does."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)))


def generation(conn: Connection) -> int:
    value = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "generation")).scalar()
    return int(value or 0)


def bump_generation(conn: Connection) -> None:
    """Every write moves the register on by one: a reading taken earlier can tell whether it still holds."""
    following = str(generation(conn) + 1)
    if conn.execute(sa.update(meta_table).where(meta_table.c.key == "generation").values(value=following)).rowcount:
        return
    conn.execute(sa.insert(meta_table), [{"key": "generation", "value": following}])
