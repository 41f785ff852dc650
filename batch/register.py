"""The register: where every werkgever stands in steps 2 and 3, kept over weeks.

SQLAlchemy Core: the tables are declared once, here; every change is one transaction, so an interrupted command
leaves the register as it was. The CLI (and later the local page) call these functions and write no SQL of
their own. SQLite by default, in the user's data folder; for a team, PostgreSQL, with the same tables and the
same SQL. Where the two differ (how a transaction begins, how writers take turns, how a failure reads) is said in
a few named places: `_sqlite_engine`, `_postgres_engine`, `_lock_for_writing`, `_lock_schema`, `_server_fault`,
and `Location.shared` (a register on a server is shared by a team: a document it names may be on a colleague's
computer).

It never holds a Client ID, a Client Secret, a DGA's name or number: a keyed fingerprint (HMAC-SHA256, with a
random key made with the register) of a werkgever's step-2 data tells whether that data changed since it was
submitted. Every change is also written to an append-only event log (when, which OS user, what).
"""

from __future__ import annotations

import contextlib
import getpass
import hmac
import importlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from batch.errors import UnusableInput
from batch.files import DIR_MODE, FILE_MODE
from batch.model import REGISTER_STATES, Result, RowResult

SCHEMA_VERSION = 1
ENV_VAR = "ASR_BATCH_REGISTER"
LOCK_TIMEOUT = float(os.environ.get("ASR_BATCH_REGISTER_TIMEOUT", "15"))  # seconds to wait for another command
CONNECT_TIMEOUT = 10  # seconds: a database server that is down or out of reach never keeps a command hanging
POSTGRES_EXTRA = "pip install 'asr-batch[postgres]'"
POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")  # all spoken through psycopg 3

STATES = REGISTER_STATES
PENDING = frozenset({"new", "changed"})  # still to submit (again)

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
)
documents_table = sa.Table(
    "documents", metadata,
    sa.Column("werkgeverscode", sa.String(64), primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),  # absolute
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


# --- where it lives ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    url: URL
    path: Path | None  # the SQLite file; None for a database server

    @property
    def shown(self) -> str:
        """The URL as `status` shows it: never with a password."""
        return self.url.render_as_string(hide_password=True) if self.path is not None else _shown(self.url)

    @property
    def shared(self) -> bool:
        """A register on a database server is shared by a team, each clerk on a computer of their own."""
        return self.path is None


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("asr-batch", appauthor=False)) / "register.sqlite"


def locate(given: str | None = None) -> Location:
    """--register, else $ASR_BATCH_REGISTER, else register.sqlite in the user's data folder."""
    value = given or os.environ.get(ENV_VAR) or str(default_path())
    if "://" not in value:
        path = Path(value).expanduser().absolute()
        return Location(URL.create("sqlite", database=str(path)), path)
    try:
        url = make_url(value)
        url.get_backend_name()
    except (sa.exc.ArgumentError, ValueError):
        raise UnusableInput(f"'{_without_password(value)}' is geen geldig adres van een register.",
                            "Geef een bestandspad (register.sqlite), een adres als sqlite:///pad/register.sqlite, "
                            "of postgresql://gebruiker@server/database.") from None
    if url.get_backend_name() in ("postgresql", "postgres"):
        return _server_location(url)
    if url.get_backend_name() != "sqlite":
        raise UnusableInput(
            f"Een register op {url.get_backend_name()} ('{_shown(url)}') kan asr-batch niet gebruiken.",
            "Gebruik een SQLite-bestand (--register pad/register.sqlite) of PostgreSQL "
            "(--register postgresql://gebruiker@server/database).")
    if not url.database or url.database == ":memory:":
        raise UnusableInput("Een register in het geheugen blijft niet bewaard.", "Geef een bestandspad.")
    if url.database.startswith("file:"):  # an SQLite URI, such as file:/pad/register.sqlite?mode=ro&uri=true
        if url.query.get("uri") != "true":
            raise UnusableInput(f"'{url.render_as_string(hide_password=True)}' is een SQLite-URI zonder uri=true.",
                                "Voeg ?uri=true toe, of geef gewoon het pad van het bestand.")
        return Location(url, Path(url.database.removeprefix("file:")).expanduser().absolute())
    path = Path(url.database).expanduser().absolute()
    return Location(url.set(database=str(path)), path)


def _server_location(url: URL) -> Location:
    """A PostgreSQL URL, spoken through psycopg 3 whichever way it is written (postgres:// too)."""
    if "@" in (url.host or ""):  # an '@' in the password, not written as %40: the rest of it would show as the host
        raise UnusableInput("Het adres van het register bevat meer dan één '@': waarschijnlijk staat er een '@' in het "
                            "wachtwoord of de gebruikersnaam (het adres wordt daarom niet getoond).",
                            "Schrijf een '@' in het wachtwoord als %40, of zet het wachtwoord in PGPASSWORD of "
                            "~/.pgpass in plaats van in het adres.")
    if url.drivername not in POSTGRES_DRIVERS:
        raise UnusableInput(f"asr-batch spreekt PostgreSQL via psycopg 3, niet via '{url.drivername}' "
                            f"('{_shown(url)}').", "Schrijf het adres als postgresql://gebruiker@server/database.")
    try:
        importlib.import_module("psycopg")
    except ImportError:  # not installed, or without the libpq it needs
        raise UnusableInput(f"Voor het register '{_shown(url)}' op PostgreSQL is het stuurprogramma psycopg nodig, "
                            "en dat is niet geïnstalleerd.", f"Installeer het met: {POSTGRES_EXTRA}") from None
    return Location(url.set(drivername="postgresql+psycopg"), None)


def _shown(url: URL) -> str:
    """A server's URL as people write it (postgresql://klerk@db.kantoor/asr), without the driver and without the
    password: not the one in the URL, nor one given in its query (libpq takes ?password=... too)."""
    query = {key: value for key, value in url.query.items() if "password" not in key.lower()}
    backend = url.get_backend_name()
    return URL.create("postgresql" if backend in ("postgresql", "postgres") else backend, username=url.username,
                      host=url.host, port=url.port, database=url.database,
                      query=query).render_as_string(hide_password=False)


def _without_password(value: str) -> str:
    """A URL as typed, for a message about it: the password masked up to the last '@' (a password may hold one)."""
    return re.sub(r"(password=)[^&]*", r"\1***", re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", value))


# --- what it records --------------------------------------------------------------------------------------


def fingerprint(key: bytes, row: RowResult) -> str:
    """HMAC-SHA256 of the step-2 data: client_id, client_secret, dga, each DGA's name and number, 13e maand,
    verloning. The same data gives the same fingerprint in this register, and no other register."""
    record = row.record
    parts = [record.get("client_id"), record.get("client_secret"), record.get("dga"),
             *(value for d in row.dgas for value in (d.naam, d.medewerkersnummer)),
             record.get("dertiende_maand"), record.get("verloning")]
    # Unit separators between the values (no value holds one: the reader refuses control characters), and an
    # empty value apart from a missing one.
    payload = "\x1f".join("\x00" if part is None else part for part in parts).encode("utf-8")
    return hmac.digest(key, payload, "sha256").hex()


def state_after_seeing(known: dict[str, Any] | None, new_fingerprint: str) -> str:
    """A werkgever's state once a workbook with this step-2 data has been seen."""
    if known is None:
        return "new"
    if known["state"] == "new" or known["marked_state"] is None:
        return "new"
    return known["marked_state"] if new_fingerprint == known["marked_fingerprint"] else "changed"


def sort_key(code: str) -> tuple[int, str]:
    """Werkgeverscodes sort as numbers: 0087 before 1001."""
    return (int(code), code) if code.isdigit() else (1 << 62, code)


@dataclass
class Employer:
    werkgeverscode: str
    naam: str | None
    state: str
    first_seen: date | None
    last_seen: date | None
    source_file: str | None
    source_row: int | None
    submitted_on: date | None
    confirmed_on: date | None
    first_exchange: date | None
    documents: list[str] = field(default_factory=list)

    def days_waiting(self, today: date) -> int | None:
        """Days since submission, while a.s.r. has not confirmed."""
        if self.state != "submitted" or self.submitted_on is None:
            return None
        return (today - self.submitted_on).days

    def to_dict(self) -> dict[str, object]:
        def iso(day: date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "werkgeverscode": self.werkgeverscode, "naam": self.naam, "state": self.state,
            "state_label": STATES[self.state], "first_seen": iso(self.first_seen), "last_seen": iso(self.last_seen),
            "source": {"file": self.source_file, "row": self.source_row},
            "submitted_on": iso(self.submitted_on), "confirmed_on": iso(self.confirmed_on),
            "first_exchange": iso(self.first_exchange), "documents": list(self.documents),
        }


@dataclass
class Status:
    register: str
    employers: list[Employer]  # all of them, sorted by code

    @property
    def counts(self) -> dict[str, int]:
        counts = {"total": len(self.employers), **{state: 0 for state in STATES}}
        for employer in self.employers:
            counts[employer.state] += 1
        return counts

    def to_dict(self, state: str | None = None) -> dict[str, object]:
        shown = [e for e in self.employers if state is None or e.state == state]
        return {"register": self.register, "counts": self.counts, "employers": [e.to_dict() for e in shown]}


@dataclass(frozen=True)
class Plan:
    """What `process` will record: each valid werkgever's state, and the fingerprint of its step-2 data."""

    states: dict[str, str]
    fingerprints: dict[str, str]
    generation: int  # of the register when it was read: unchanged at recording time, the reading still holds
    known: dict[str, dict[str, Any]] = field(repr=False)
    documents: set[tuple[str, str]] = field(repr=False)


@dataclass(frozen=True)
class Purged:
    werkgeverscode: str
    path: str
    deleted: bool  # False: left alone (reason says why)
    reason: str = ""
    elsewhere: bool = False  # not on this computer; the register (a shared one) keeps it for purge where it is


# --- opening ----------------------------------------------------------------------------------------------


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name known to the system
        return "onbekend"


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _fault(location: Location, exc: BaseException) -> UnusableInput:
    """A database failure as a Dutch exit-2 message; the register is left as it was."""
    if location.shared:
        return _server_fault(location, getattr(exc, "orig", None) or exc)
    text = str(getattr(exc, "orig", None) or exc).lower()
    where = f"Het register '{location.shown}'"
    if "locked" in text or "busy" in text:
        return _busy(location)
    if "readonly" in text or "read-only" in text or "permission" in text:
        return UnusableInput(f"{where} kan niet worden bijgewerkt: de map of het bestand is alleen-lezen.",
                             "Geef uzelf schrijfrechten, of kies met --register een andere plek; er is niets "
                             "gewijzigd.")
    if "not a database" in text or "malformed" in text or "no such table" in text:
        return UnusableInput(f"{where} is geen asr-batch-register (een ander soort bestand, of beschadigd).",
                             "Controleer het pad bij --register of ASR_BATCH_REGISTER. Was het wel het register, "
                             "zet dan een reservekopie terug. asr-batch laat dit bestand ongemoeid.")
    if "unable to open" in text:
        return UnusableInput(f"{where} kan niet worden geopend: het pad is een map, of de map bestaat niet.",
                             "Geef bij --register (of ASR_BATCH_REGISTER) het pad van een bestand, zoals "
                             "register.sqlite.")
    return UnusableInput(f"{where} kan niet worden gebruikt ({type(exc).__name__}).",
                         "Controleer het pad met --register; er is niets gewijzigd.")


def _busy(location: Location) -> UnusableInput:
    return UnusableInput(f"Het register '{location.shown}' is bezet: een andere opdracht gebruikt het al "
                         f"{LOCK_TIMEOUT:g} seconden.", "Wacht tot die klaar is en probeer het opnieuw; er is niets "
                                                         "gewijzigd.")


# Words of libpq and of the server (PostgreSQL has no Dutch translation; the server's words are English unless IT
# chose another language). psycopg gives a failed connection no SQLSTATE, so those are known by their words; a
# failure on an open connection by its SQLSTATE.
_UNREACHABLE = ("connection refused", "could not connect", "timeout expired", "failed to resolve host",
                "could not translate host name", "name or service not known", "no route to host",
                "network is unreachable", "server closed the connection", "is the server running",
                "connection is lost", "connection is closed", "the database system is starting up",
                "the database system is shutting down", "terminating connection")


def _server_fault(location: Location, exc: BaseException) -> UnusableInput:
    """A PostgreSQL failure in Dutch, naming which: the server out of reach, the password, the database, the
    rights, a lock held too long. Never the password, never the server's raw text when it is recognised."""
    state = str(getattr(exc, "sqlstate", None) or "")
    said = str(exc).strip()
    text = said.lower()
    url = location.url
    where = f"Het register '{location.shown}'"
    server = f"{url.host or _query(url, 'host') or os.environ.get('PGHOST') or 'localhost'}:" \
             f"{url.port or _query(url, 'port') or os.environ.get('PGPORT') or 5432}"
    user = url.username or _query(url, "user") or os.environ.get("PGUSER") or _user()
    database = url.database or _query(url, "dbname") or os.environ.get("PGDATABASE") or user
    unchanged = "Er is niets gewijzigd."
    if state in ("55P03", "40001", "40P01") or "lock timeout" in text:  # a lock, a conflict, a deadlock
        return _busy(location)
    if state in ("57014", "25P03"):  # statement_timeout, idle_in_transaction_session_timeout (SESSION)
        return UnusableInput(f"De PostgreSQL-server {server} antwoordde niet op tijd (register '{location.shown}'). "
                             f"{unchanged}", "Probeer het opnieuw; gebeurt het vaker, vraag IT naar de server.")
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return UnusableInput(f"De database '{database}' bestaat niet op de PostgreSQL-server {server}. {unchanged}",
                             f"Laat IT hem aanmaken, met u als eigenaar: createdb --owner={user} {database} (of in "
                             f"SQL: CREATE DATABASE {database} OWNER {user};). asr-batch maakt de tabellen zelf.")
    if "no password supplied" in text:
        return UnusableInput(f"De PostgreSQL-server {server} vraagt een wachtwoord voor gebruiker '{user}', en er is "
                             f"er geen opgegeven. {unchanged}",
                             "Zet het in de omgevingsvariabele PGPASSWORD, of in het bestand ~/.pgpass "
                             "(%APPDATA%\\postgresql\\pgpass.conf op Windows), niet in een adres dat anderen zien.")
    if state in ("28P01", "28000") or "authentication failed" in text:
        return UnusableInput(f"De PostgreSQL-server {server} weigert gebruiker '{user}': het wachtwoord klopt niet "
                             f"(of die gebruiker bestaat niet). {unchanged}",
                             "Controleer het wachtwoord in PGPASSWORD, ~/.pgpass of het adres, en de gebruikersnaam; "
                             "vraag IT zo nodig om een nieuw wachtwoord.")
    if "pg_hba.conf" in text:
        return UnusableInput(f"De PostgreSQL-server {server} laat gebruiker '{user}' van deze computer niet toe in "
                             f"database '{database}' (pg_hba.conf). {unchanged}",
                             "Vraag IT deze computer en gebruiker toe te laten.")
    if (state == "42501" or "permission denied" in text) and "schema" in text:  # creating the tables
        return UnusableInput(f"{where}: gebruiker '{user}' heeft niet de rechten om de tabellen van het register te "
                             f"maken in database '{database}'. {unchanged}",
                             f"Laat IT u eigenaar van de database maken: ALTER DATABASE {database} OWNER TO {user}; "
                             f"(of CREATE DATABASE {database} OWNER {user};).")
    if state == "42501" or "permission denied" in text:  # the tables are there, and belong to another role
        return UnusableInput(f"{where}: gebruiker '{user}' heeft niet de rechten om het register bij te werken (alleen "
                             f"lezen, of de tabellen zijn van een andere gebruiker). {unchanged}",
                             "Gebruik de databasegebruiker van het register van uw kantoor, of laat IT schrijfrechten "
                             f"geven: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {user}; "
                             f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {user};")
    if state in ("42P01", "42703"):  # a table or a column of ours is missing: not (or no longer) a whole register
        return UnusableInput(f"{where} is geen volledig asr-batch-register (een tabel of kolom ontbreekt). {unchanged}",
                             "Controleer het adres bij --register of ASR_BATCH_REGISTER; was het wel het register, "
                             "laat IT dan een reservekopie terugzetten (pg_restore).")
    if state == "53300" or "too many" in text:
        return UnusableInput(f"De PostgreSQL-server {server} neemt geen verbindingen meer aan (te veel). {unchanged}",
                             "Probeer het over een minuut opnieuw; gebeurt het vaak, vraag IT om meer verbindingen.")
    if state.startswith(("08", "57P")) or any(words in text for words in _UNREACHABLE):
        return UnusableInput(f"Kan de PostgreSQL-server op {server} niet bereiken (register "
                             f"'{location.shown}').",
                             "Staat de server aan, en kloppen de naam en de poort in het adres? Vraag het zo nodig IT. "
                             "Een wijziging wordt in zijn geheel vastgelegd of helemaal niet.")
    first = said.splitlines()[0] if said else type(exc).__name__
    return UnusableInput(f"{where} kan niet worden gebruikt: {first}", "Er is niets gewijzigd; vraag het zo nodig IT.")


def _query(url: URL, key: str) -> str | None:
    value = url.query.get(key)
    return value if isinstance(value, str) or value is None else ",".join(value)


def _engine(location: Location) -> Engine:
    return _postgres_engine(location) if location.shared else _sqlite_engine(location)


def _sqlite_engine(location: Location) -> Engine:
    engine = sa.create_engine(location.url, connect_args={"timeout": LOCK_TIMEOUT}, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A write takes the lock when it starts: two writers then wait for each other instead of one failing
        # when it turns its read into a write. EXCLUSIVE also waits for the readers to finish, so that the commit
        # after the swap of an output folder cannot be kept waiting by one (process, below).
        lock = connection.info.get("write")
        connection.exec_driver_sql(f"BEGIN {lock}" if lock in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN")

    return engine


# The session settings of every connection to a register on a server:
# - search_path: the tables live in the database's `public` schema, whoever connects; a role with a schema of its
#   own (PostgreSQL's "$user" first in the default search_path) would otherwise make a register of its own;
# - statement_timeout: a server that stops answering in the middle of a command ends that command (exit 2) rather
#   than keep it, and with it the writers' lock, forever;
# - idle_in_transaction_session_timeout: a clerk's computer that went to sleep halfway a write frees the lock.
SESSION = "-c search_path=public -c statement_timeout=300000 -c idle_in_transaction_session_timeout=600000"


def _postgres_engine(location: Location) -> Engine:
    # One connection per transaction, as on SQLite (NullPool): a command runs a few, and none is left open.
    connect_args: dict[str, object] = {
        "application_name": "asr-batch",  # IT sees who is connected
        "options": SESSION,
        # a server gone from the network is noticed in about a minute, not after the system's two hours
        "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
        "tcp_user_timeout": 60_000,
    }
    if "connect_timeout" not in location.url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    engine = sa.create_engine(location.url, connect_args=connect_args, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A reading sees the register at one moment (a snapshot), as a reading of the SQLite file does; it never
        # waits for a writer and never keeps one waiting (PostgreSQL's MVCC), so EXCLUSIVE needs no counterpart.
        # A write stays READ COMMITTED: it takes the writers' lock first (_lock_for_writing), and then every
        # statement sees what the writers before it committed.
        # Both are set here, whatever the server's or the database's defaults say (a default of SERIALIZABLE would
        # make a writer that waited for the lock fail instead of going on).
        if connection.info.get("write") is None:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE")
        # Wait for another command's lock as long as on SQLite, then give up (exit 2, "bezet"); SET LOCAL.
        timeout = f"{max(1, round(LOCK_TIMEOUT * 1000))}ms"
        connection.execute(sa.select(sa.func.set_config("lock_timeout", timeout, True)))

    return engine


def _lock_for_writing(conn: Connection, location: Location) -> None:
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
        raise _damaged(location)


# An advisory lock of this database, while creating or upgrading the tables: any number for "asr-batch".
SCHEMA_LOCK = int.from_bytes(b"asr-bat", "big")


def _lock_schema(conn: Connection) -> None:
    """Two first runs at once (two clerks on a new database) must not both create the tables, nor two newer
    versions both upgrade them: on PostgreSQL the second waits for the first (the lock ends with the
    transaction) and then finds the work done. SQLite: BEGIN IMMEDIATE/EXCLUSIVE already does."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)))


class Register:
    """An open register. `open_register` makes one; reading never creates anything."""

    def __init__(self, location: Location, engine: Engine, key: bytes) -> None:
        self.location = location
        self._engine = engine
        self.key = key

    @contextlib.contextmanager
    def _connection(self, *, write: bool, exclusive: bool = False, bump: bool = True) -> Iterator[Connection]:
        """One transaction. A write bumps the generation at its end, unless the caller did (`bump=False`)."""
        try:
            with self._engine.connect() as conn:
                conn.info["write"] = "EXCLUSIVE" if exclusive else "IMMEDIATE" if write else None
                with conn.begin():
                    if write:
                        _lock_for_writing(conn, self.location)
                    yield conn
                    if write and bump:
                        _bump_generation(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise _fault(self.location, exc) from None

    def close(self) -> None:
        self._engine.dispose()

    # --- reading ------------------------------------------------------------------------------------------

    def _known(self, conn: Connection) -> dict[str, dict[str, Any]]:
        """Every werkgever in the register by code, as a dict of its columns. (Rows zipped with the column names:
        SQLAlchemy's Row._asdict took half the time at 10,000 werkgevers.)"""
        rows = conn.execute(sa.select(werkgevers_table))
        names = list(rows.keys())
        return {values[0]: dict(zip(names, values, strict=True)) for values in rows}

    def plan(self, rows: Iterable[RowResult], documents_folder: Path) -> Plan:
        """The state each of these (valid) rows will have once recorded, by werkgeverscode, for a run that writes
        its documents into `documents_folder`. Reads only."""
        prints = {row.werkgeverscode: fingerprint(self.key, row) for row in rows if row.werkgeverscode}
        with self._connection(write=False) as conn:
            generation, known = _generation(conn), self._known(conn)
            documents = _documents(conn, documents_folder)
        states = {code: state_after_seeing(known.get(code), digest) for code, digest in prints.items()}
        return Plan(states, prints, generation, known, documents)

    def status(self) -> Status:
        with self._connection(write=False) as conn:
            rows = conn.execute(sa.select(werkgevers_table)).all()
            paths: dict[str, list[str]] = {}
            for code, path in conn.execute(sa.select(documents_table.c.werkgeverscode, documents_table.c.path)):
                paths.setdefault(code, []).append(path)
        # Sorted here, not by the database: PostgreSQL sorts text by its collation (nl_NL, en_US...), SQLite by
        # bytes; the same register must list the same way on both.
        employers = [Employer(r.werkgeverscode, r.naam, r.state, r.first_seen, r.last_seen, r.source_file,
                              r.source_row, r.submitted_on, r.confirmed_on, r.first_exchange,
                              sorted(p for p in paths.get(r.werkgeverscode, []) if os.path.isfile(p)))
                     for r in rows]
        employers.sort(key=lambda e: sort_key(e.werkgeverscode))
        return Status(self.location.shown, employers)

    # --- writing ------------------------------------------------------------------------------------------

    def record(self, result: Result, plan: Plan, documents_folder: Path,
               then: Callable[[dict[str, str]], None] = lambda states: None) -> dict[str, str]:
        """Record every valid row of a run and the documents written for it, then run `then` with the states (the
        swap of the output folder) inside the same transaction: if `then` fails, nothing is recorded. Only what
        changed is written. The changes are worked out on the plan's reading of the register; should another
        command have written meanwhile (a clerk marking), they are worked out again on what the register holds
        now, inside the transaction. Returns the states."""
        changes = _changes(result, plan.fingerprints, plan.known, plan.documents, documents_folder)
        swapped = False
        try:
            with self._connection(write=True, exclusive=True, bump=False) as conn:
                if _generation(conn) != plan.generation:
                    changes = _changes(result, plan.fingerprints, self._known(conn), _documents(conn, documents_folder),
                                       documents_folder)
                if changes.inserts:
                    conn.execute(sa.insert(werkgevers_table), changes.inserts)
                if changes.updates:
                    conn.execute(sa.update(werkgevers_table)
                                 .where(werkgevers_table.c.werkgeverscode == sa.bindparam("code")), changes.updates)
                for start in range(0, len(changes.seen), 5_000):  # one statement per chunk, not one per werkgever
                    conn.execute(sa.update(werkgevers_table)
                                 .where(werkgevers_table.c.werkgeverscode.in_(changes.seen[start:start + 5_000]))
                                 .values(last_seen=changes.today, source_file=result.input.file))
                if changes.documents:
                    conn.execute(sa.insert(documents_table), changes.documents)
                conn.execute(sa.insert(events_table), changes.events)
                _bump_generation(conn)  # every statement before the swap: after it, only the commit
                then(changes.states)
                swapped = True
        except UnusableInput as exc:
            if not swapped:
                raise
            # The commit failed after the output folder was swapped (a server gone in that instant).
            raise UnusableInput(f"{exc.message} De uitvoermap is al vervangen, maar het register is niet bijgewerkt.",
                                "Draai dezelfde opdracht opnieuw zodra het register weer bereikbaar is; dan komen de "
                                "uitvoer en het register weer overeen.") from None
        return changes.states

    def _require(self, conn: Connection, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        known = self._known(conn)
        unknown = [code for code in dict.fromkeys(codes) if code not in known]
        if unknown:
            hints = []
            for code in unknown:
                alike = [k for k in known if k.lstrip("0") == code.lstrip("0")]
                hints.append(f"{code} (bedoelt u {alike[0]}?)" if alike else code)
            raise UnusableInput(
                f"Onbekende werkgeverscode{'s' if len(unknown) > 1 else ''} in het register: {', '.join(hints)}. "
                "Er is niets gewijzigd.",
                "Controleer de codes met 'asr-batch status'; een werkgever komt in het register door 'asr-batch "
                "process' op een werkmap waarin hij geldig is.")
        return known

    def mark_submitted(self, codes: Sequence[str], on: date) -> list[str]:
        """Step 2 done for these werkgevers: all or nothing. Returns the codes, sorted."""
        return self._mark(codes, on, "submitted", f"aangemeld op {on}", lambda known: {
            "state": "submitted", "submitted_on": on, "marked_state": "submitted",
            "marked_fingerprint": known["fingerprint"]})

    def mark_confirmed(self, codes: Sequence[str], on: date, first_exchange: date) -> list[str]:
        """Step 3: a.s.r. confirmed. A werkgever never marked submitted counts as submitted on `on`."""
        return self._mark(codes, on, "confirmed", f"bevestigd op {on}; eerste uitwisseling {first_exchange}",
                          lambda known: {"state": "confirmed", "confirmed_on": on, "first_exchange": first_exchange,
                                         "submitted_on": known["submitted_on"] or on, "marked_state": "confirmed",
                                         "marked_fingerprint": known["fingerprint"]})

    def _mark(self, codes: Sequence[str], on: date, event: str, detail: str,
              values: Callable[[dict[str, Any]], dict[str, Any]]) -> list[str]:
        if on > date.today():
            raise UnusableInput(f"De datum {on:%d-%m-%Y} ligt in de toekomst. Er is niets gewijzigd.",
                                "Geef bij --on de dag waarop het gebeurde, of laat --on weg voor vandaag.")
        at, user = _now(), _user()
        with self._connection(write=True) as conn:
            known = self._require(conn, codes)
            chosen = sorted(dict.fromkeys(codes), key=sort_key)
            for code in chosen:
                conn.execute(sa.update(werkgevers_table).where(werkgevers_table.c.werkgeverscode == code)
                             .values(**values(known[code])))
            conn.execute(sa.insert(events_table), [_event(at, user, code, event, detail) for code in chosen])
        return chosen

    def forget(self, codes: Sequence[str]) -> tuple[list[str], list[str]]:
        """Remove werkgevers (the event log keeps that it happened): all or nothing. Returns the codes, and the
        documents asr-batch wrote for them that still exist: they hold the Client Secret, and no `purge` will
        find them any more."""
        at, user = _now(), _user()
        with self._connection(write=True) as conn:
            self._require(conn, codes)
            chosen = sorted(dict.fromkeys(codes), key=sort_key)
            left = sorted(path for (path,) in conn.execute(sa.select(documents_table.c.path).where(
                documents_table.c.werkgeverscode.in_(chosen))) if os.path.isfile(path))
            conn.execute(sa.delete(documents_table).where(documents_table.c.werkgeverscode.in_(chosen)))
            conn.execute(sa.delete(werkgevers_table).where(werkgevers_table.c.werkgeverscode.in_(chosen)))
            conn.execute(sa.insert(events_table), [_event(at, user, code, "forgotten", "uit het register gehaald")
                                                   for code in chosen])
        return chosen, left

    def purge(self, *, dry_run: bool = False, is_ours: Callable[[Path], bool]) -> list[Purged]:
        """Delete the documents of every confirmed werkgever that still sit in an asr-batch output folder
        (`is_ours`). Lists what it deleted, or with `dry_run` what it would delete (and changes nothing).

        A document that is not on this computer is gone from an SQLite register: nothing left to purge. A register
        on a server is shared by a team, and the document may well be on a colleague's computer: that register keeps
        it (listed as `elsewhere`), so that purge on that computer still finds it; forgetting it here would leave a
        file with a Client Secret that no purge ever deletes."""
        at, user = _now(), _user()
        done: list[Purged] = []
        with self._connection(write=not dry_run) as conn:
            confirmed = sa.select(werkgevers_table.c.werkgeverscode).where(werkgevers_table.c.state == "confirmed")
            rows = conn.execute(sa.select(documents_table.c.werkgeverscode, documents_table.c.path)
                                .where(documents_table.c.werkgeverscode.in_(confirmed))).all()
            for code, path in sorted(rows, key=lambda r: (sort_key(r[0]), r[1])):
                file = Path(path)
                if not file.is_file():
                    if self.location.shared:
                        done.append(Purged(code, path, False, "niet op deze computer", elsewhere=True))
                    elif not dry_run:
                        _forget_document(conn, code, path)
                    continue
                if not is_ours(file):
                    done.append(Purged(code, path, False, "staat niet (meer) in een uitvoermap van asr-batch; het "
                                                          "bevat het Client Secret: verwijder het zelf"))
                    continue
                if not dry_run:
                    try:
                        file.unlink()
                    except OSError as exc:  # open in another program (Windows), no rights
                        done.append(Purged(code, path, False, f"kan niet worden verwijderd ({exc.strerror or exc}); "
                                                              "sluit het en draai purge opnieuw"))
                        continue
                    _forget_document(conn, code, path)
                    conn.execute(sa.insert(events_table), [_event(at, user, code, "deleted", path)])
                done.append(Purged(code, path, True))
        return done


@dataclass
class _Changes:
    """What recording a run writes: the rows to insert or update, the documents and events to add."""

    today: date
    states: dict[str, str] = field(default_factory=dict)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # known werkgevers whose last_seen or source_file moves on
    documents: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)


def _changes(result: Result, fingerprints: dict[str, str], known: dict[str, dict[str, Any]],
             have: set[tuple[str, str]], documents_folder: Path) -> _Changes:
    changes = _Changes(date.today())
    at, user, source = _now(), _user(), result.input.file
    prefix = str(documents_folder.parent) + os.sep
    valid = [(row, row.werkgeverscode) for row in result.rows
             if row.status == "valid" and row.werkgeverscode and row.werkgeverscode in fingerprints]
    for row, code in valid:
        digest = fingerprints[code]
        before = known.get(code)
        state = changes.states[code] = state_after_seeing(before, digest)
        values = {"naam": row.naam, "source_row": row.row, "fingerprint": digest, "state": state}
        if before is None:
            changes.inserts.append({"werkgeverscode": code, "first_seen": changes.today, "last_seen": changes.today,
                                    "source_file": source, **values})
            changes.events.append(_event(at, user, code, "new", f"{source} rij {row.row}"))
        else:
            if before["last_seen"] != changes.today or before["source_file"] != source:
                changes.seen.append(code)
            if any(before[key] != value for key, value in values.items()):
                changes.updates.append({"code": code, **values})
            if state == "changed" and before["state"] != "changed":
                changes.events.append(_event(at, user, code, "changed", "gegevens van stap 2 gewijzigd"))
            elif state != "changed" and before["state"] == "changed":
                changes.events.append(_event(at, user, code, state, "gegevens weer gelijk aan de aanmelding"))
        for document in row.documents:
            path = prefix + document.replace("/", os.sep)
            if (code, path) not in have:
                changes.documents.append({"werkgeverscode": code, "path": path})
    written = sum(1 for row, _ in valid if row.documents)
    changes.events.append(_event(at, user, None, "seen", f"{source}: {len(valid)} geldige werkgevers; documenten "
                                                       f"voor {written} in {documents_folder}"))
    return changes


def _documents(conn: Connection, folder: Path) -> set[tuple[str, str]]:
    """The documents recorded in this folder (not those of every earlier run elsewhere: they only grow)."""
    prefix = str(folder.parent) + os.sep
    return {(code, path) for code, path in conn.execute(
        sa.select(documents_table.c.werkgeverscode, documents_table.c.path)
        .where(documents_table.c.path.startswith(prefix, autoescape=True)))}


def _generation(conn: Connection) -> int:
    value = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "generation")).scalar()
    return int(value or 0)


def _bump_generation(conn: Connection) -> None:
    """Every write moves the register on by one: a reading taken earlier can tell whether it still holds."""
    following = str(_generation(conn) + 1)
    if conn.execute(sa.update(meta_table).where(meta_table.c.key == "generation").values(value=following)).rowcount:
        return
    conn.execute(sa.insert(meta_table), [{"key": "generation", "value": following}])


def _forget_document(conn: Connection, code: str, path: str) -> None:
    conn.execute(sa.delete(documents_table).where(documents_table.c.werkgeverscode == code,
                                                  documents_table.c.path == path))


def _event(at: str, user: str, code: str | None, event: str, detail: str) -> dict[str, object]:
    return {"at": at, "user": user, "werkgeverscode": code, "event": event, "detail": detail}


# --- opening, creating, upgrading -------------------------------------------------------------------------

# From version N to N+1: a function of the connection. None so far; the mechanism is tested with a made-up one.
UPGRADES: dict[int, Callable[[Connection], None]] = {}


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
        engine = _engine(location)
    except (sa.exc.ArgumentError, ValueError, TypeError):  # e.g. ?port=x
        raise UnusableInput(f"'{location.shown}' is geen geldig adres van een register.",
                            "Controleer het adres bij --register of ASR_BATCH_REGISTER, bijvoorbeeld "
                            "postgresql://gebruiker@server:5432/database.") from None
    try:
        key = _prepare(location, engine, fresh=fresh, create=create)
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


def _prepare(location: Location, engine: Engine, *, fresh: bool, create: bool) -> bytes | None:
    """Check the schema version; create the tables of a new register, upgrade an older one (after a copy).
    None: there is no register yet, and `create` is False."""
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
        raise _fault(location, exc) from None
    except (KeyError, ValueError):
        raise _damaged(location) from None


def _damaged(location: Location) -> UnusableInput:
    return UnusableInput(f"Het register '{location.shown}' is beschadigd (de sleutel of de versie ontbreekt).",
                         "Zet een reservekopie terug; asr-batch laat het register ongemoeid.")


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
                    {"key": "created", "value": _now()},
                    {"key": "generation", "value": "0"}])
                conn.execute(sa.insert(events_table), [_event(_now(), _user(), None, "created", location.shown)])
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
            _lock_for_writing(conn, location)
            version = int(_meta(location, conn).get("schema_version", "0"))  # another command may have done it
            if version >= SCHEMA_VERSION:
                return
            if location.path is not None:
                backup = location.path.with_name(f"{location.path.name}.schema-{version}.bak")
                shutil.copy2(location.path, backup)
                os.chmod(backup, FILE_MODE)
            # On a server there is no file to copy; PostgreSQL's DDL is transactional, so the steps and the new
            # version are committed together or, should a step fail, not at all: the register stays as it was.
            for step in range(version, SCHEMA_VERSION):
                UPGRADES[step](conn)
            conn.execute(sa.update(meta_table).where(meta_table.c.key == "schema_version")
                         .values(value=str(SCHEMA_VERSION)))
            conn.execute(sa.insert(events_table), [_event(_now(), _user(), None, "upgraded",
                                                          f"schema {version} naar {SCHEMA_VERSION}")])


def parse_date(text: str, option: str) -> date:
    """A date as Dutch people type it: 2026-12-15 or 15-12-2026 (also with / or .)."""
    value = text.strip()
    for pattern in (r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"):
        found = re.fullmatch(pattern, value)
        if found:
            numbers = [int(n) for n in found.groups()]
            year, month, day = numbers if len(found.group(1)) == 4 else numbers[::-1]
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise UnusableInput(f"De datum bij {option} ('{text}') is niet te lezen. Er is niets gewijzigd.",
                        "Schrijf de datum als 2026-12-15 of 15-12-2026.")
