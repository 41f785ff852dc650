"""The register: where every werkgever stands in steps 2 and 3, kept over weeks.

SQLAlchemy Core: the tables are declared once, here; every change is one transaction, so an interrupted command
leaves the register as it was. The CLI (and later the local page) call these functions and write no SQL of
their own. SQLite by default, in the user's data folder; the SQL is the same on PostgreSQL.

It never holds a Client ID, a Client Secret, a DGA's name or number: a keyed fingerprint (HMAC-SHA256, with a
random key made with the register) of a werkgever's step-2 data tells whether that data changed since it was
submitted. Every change is also written to an append-only event log (when, which OS user, what).
"""

from __future__ import annotations

import contextlib
import getpass
import hmac
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
    path: Path | None  # the SQLite file

    @property
    def shown(self) -> str:
        """The URL as `status` shows it: never with a password."""
        return self.url.render_as_string(hide_password=True)


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
                            "Geef een bestandspad (register.sqlite) of een adres als sqlite:///pad/register.sqlite."
                            ) from None
    if url.get_backend_name() != "sqlite":
        raise UnusableInput(
            f"Een register op {url.get_backend_name()} ('{url.render_as_string(hide_password=True)}') kan deze "
            "versie van asr-batch nog niet gebruiken.",
            "Gebruik een SQLite-bestand: --register pad/register.sqlite.")
    if not url.database or url.database == ":memory:":
        raise UnusableInput("Een register in het geheugen blijft niet bewaard.", "Geef een bestandspad.")
    if url.database.startswith("file:"):  # an SQLite URI, such as file:/pad/register.sqlite?mode=ro&uri=true
        if url.query.get("uri") != "true":
            raise UnusableInput(f"'{url.render_as_string(hide_password=True)}' is een SQLite-URI zonder uri=true.",
                                "Voeg ?uri=true toe, of geef gewoon het pad van het bestand.")
        return Location(url, Path(url.database.removeprefix("file:")).expanduser().absolute())
    path = Path(url.database).expanduser().absolute()
    return Location(url.set(database=str(path)), path)


def _without_password(value: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value)


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
    text = str(getattr(exc, "orig", None) or exc).lower()
    where = f"Het register '{location.shown}'"
    if "locked" in text or "busy" in text:
        return UnusableInput(f"{where} is bezet: een andere opdracht gebruikt het al {LOCK_TIMEOUT:g} seconden.",
                             "Wacht tot die klaar is en probeer het opnieuw; er is niets gewijzigd.")
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


def _engine(location: Location) -> Engine:
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


class Register:
    """An open register. `open_register` makes one; reading never creates anything."""

    def __init__(self, location: Location, engine: Engine, key: bytes) -> None:
        self.location = location
        self._engine = engine
        self.key = key

    @contextlib.contextmanager
    def _connection(self, *, write: bool, exclusive: bool = False) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                conn.info["write"] = "EXCLUSIVE" if exclusive else "IMMEDIATE" if write else None
                with conn.begin():
                    yield conn
                    if write:
                        _bump_generation(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise _fault(self.location, exc) from None

    def close(self) -> None:
        self._engine.dispose()

    # --- reading ------------------------------------------------------------------------------------------

    def _known(self, conn: Connection) -> dict[str, dict[str, Any]]:
        """Every werkgever in the register by code, as a dict of its columns. (Plain tuples zipped with the
        column names: SQLAlchemy's Row._asdict took half the time at 10,000 werkgevers.)"""
        rows = conn.execute(sa.select(werkgevers_table))
        names = list(rows.keys())
        return {values[0]: dict(zip(names, values, strict=True)) for values in rows.tuples()}

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
            for code, path in conn.execute(sa.select(documents_table.c.werkgeverscode, documents_table.c.path)
                                           .order_by(documents_table.c.path)):
                paths.setdefault(code, []).append(path)
        employers = [Employer(r.werkgeverscode, r.naam, r.state, r.first_seen, r.last_seen, r.source_file,
                              r.source_row, r.submitted_on, r.confirmed_on, r.first_exchange,
                              [p for p in paths.get(r.werkgeverscode, []) if os.path.isfile(p)])
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
        with self._connection(write=True, exclusive=True) as conn:
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
            then(changes.states)
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
        (`is_ours`). Lists what it deleted, or with `dry_run` what it would delete (and changes nothing)."""
        at, user = _now(), _user()
        done: list[Purged] = []
        with self._connection(write=not dry_run) as conn:
            confirmed = [r.werkgeverscode for r in conn.execute(
                sa.select(werkgevers_table.c.werkgeverscode).where(werkgevers_table.c.state == "confirmed"))]
            rows = conn.execute(sa.select(documents_table.c.werkgeverscode, documents_table.c.path)
                                .where(documents_table.c.werkgeverscode.in_(confirmed))).all()
            for code, path in sorted(rows, key=lambda r: (sort_key(r[0]), r[1])):
                file = Path(path)
                if not file.is_file():
                    if not dry_run:  # already gone: nothing left to purge
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
        .where(documents_table.c.path.startswith(prefix, autoescape=True))).tuples()}


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
    """The register at `location`. Absent: None, or a new one when `create` (owner-only). Raises UnusableInput
    when it cannot be used, leaving the file exactly as it was."""
    path = location.path
    fresh = path is not None and (not path.exists() or path.stat().st_size == 0)
    if fresh and not create:
        return None  # nothing is created by reading
    if path is not None and not path.exists():
        _create_file(location, path)
    engine = _engine(location)
    try:
        key = _prepare(location, engine, fresh=fresh)
    except BaseException:
        engine.dispose()
        raise
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


def _prepare(location: Location, engine: Engine, *, fresh: bool) -> bytes:
    """Check the schema version; create the tables of a new register, upgrade an older one (after a copy)."""
    try:
        with engine.connect() as conn:
            conn.info["write"] = "IMMEDIATE" if fresh else None
            with conn.begin():
                tables = set(sa.inspect(conn).get_table_names())  # reading any table proves it is a database
                if not tables and fresh:
                    metadata.create_all(conn)
                    conn.execute(sa.insert(meta_table), [
                        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                        {"key": "fingerprint_key", "value": secrets.token_hex(32)},
                        {"key": "created", "value": _now()}])
                    conn.execute(sa.insert(events_table), [_event(_now(), _user(), None, "created", location.shown)])
                if "meta" not in set(sa.inspect(conn).get_table_names()):
                    raise UnusableInput(f"'{location.shown}' is geen asr-batch-register.",
                                        "Kies met --register een ander bestand; asr-batch laat dit bestand ongemoeid.")
                values = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).tuples().all())
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
        raise UnusableInput(f"Het register '{location.shown}' is beschadigd (de sleutel of de versie ontbreekt).",
                            "Zet een reservekopie terug; asr-batch laat dit bestand ongemoeid.") from None


def _upgrade(location: Location, engine: Engine, version: int) -> None:
    missing = [v for v in range(version, SCHEMA_VERSION) if v not in UPGRADES]
    if missing:
        raise UnusableInput(f"Het register '{location.shown}' heeft schema {version}, dat deze versie niet kan "
                            "bijwerken.", "Gebruik de versie van asr-batch die het maakte.")
    with engine.connect() as conn:
        conn.info["write"] = "EXCLUSIVE"
        with conn.begin():  # holds the write lock: no other command changes the file while it is copied
            if location.path is not None:
                backup = location.path.with_name(f"{location.path.name}.schema-{version}.bak")
                shutil.copy2(location.path, backup)
                os.chmod(backup, FILE_MODE)
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
