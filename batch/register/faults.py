"""Every database failure as one Dutch UnusableInput (exit 2), on SQLite and on PostgreSQL: which failure it was
and what to do, never a password; the register is left as it was."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy.engine import URL

from batch.errors import UnusableInput
from batch.register import engines
from batch.register.events import os_user
from batch.register.location import Location

_UNCHANGED = "Er is niets gewijzigd."

# Words of libpq and of the server (PostgreSQL has no Dutch translation; the server's words are English unless IT
# chose another language). psycopg gives a failed connection no SQLSTATE, so those are known by their words; a
# failure on an open connection by its SQLSTATE.
_UNREACHABLE = ("connection refused", "could not connect", "timeout expired", "failed to resolve host",
                "could not translate host name", "name or service not known", "no route to host",
                "network is unreachable", "server closed the connection", "is the server running",
                "connection is lost", "connection is closed", "the database system is starting up",
                "the database system is shutting down", "terminating connection")


def fault(location: Location, exc: BaseException) -> UnusableInput:
    """A database failure as a Dutch exit-2 message; the register is left as it was."""
    if location.shared:
        return _server_fault(location, getattr(exc, "orig", None) or exc)
    text = str(getattr(exc, "orig", None) or exc).lower()
    where = f"Het register '{location.shown}'"
    if "locked" in text or "busy" in text:
        return busy(location)
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


def busy(location: Location) -> UnusableInput:
    # engines.LOCK_TIMEOUT read here, not copied: the seconds named are the ones the engines waited.
    return UnusableInput(f"Het register '{location.shown}' is bezet: een andere opdracht gebruikt het al "
                         f"{engines.LOCK_TIMEOUT:g} seconden.", "Wacht tot die klaar is en probeer het opnieuw; er is "
                                                                 "niets gewijzigd.")


def damaged(location: Location) -> UnusableInput:
    return UnusableInput(f"Het register '{location.shown}' is beschadigd (de sleutel of de versie ontbreekt).",
                         "Zet een reservekopie terug; asr-batch laat het register ongemoeid.")


@dataclass(frozen=True)
class _Asked:
    """Whom a command asked for what, as libpq works it out (the URL, its query, the PG* variables, the defaults):
    named in the message, so that IT knows which server, user and database."""

    server: str  # host:port
    user: str
    database: str

    @classmethod
    def of(cls, url: URL) -> _Asked:
        server = f"{url.host or _query(url, 'host') or os.environ.get('PGHOST') or 'localhost'}:" \
                 f"{url.port or _query(url, 'port') or os.environ.get('PGPORT') or 5432}"
        user = url.username or _query(url, "user") or os.environ.get("PGUSER") or os_user()
        database = url.database or _query(url, "dbname") or os.environ.get("PGDATABASE") or user
        return cls(server, user, database)


def _query(url: URL, key: str) -> str | None:
    value = url.query.get(key)
    return value if isinstance(value, str) or value is None else ",".join(value)


def _server_fault(location: Location, exc: BaseException) -> UnusableInput:
    """A PostgreSQL failure in Dutch, naming which: the server out of reach, the password, the database, the
    rights, a lock held too long. Never the password, never the server's raw text when it is recognised.

    The checks run in this order, the first that fits chosen: a lock, a timeout, then `_refused` (the database,
    the password, this computer, the rights), then `_broken` (the tables, the connections, the server's reach)."""
    state = str(getattr(exc, "sqlstate", None) or "")
    said = str(exc).strip()
    text = said.lower()
    if state in ("55P03", "40001", "40P01") or "lock timeout" in text:  # a lock, a conflict, a deadlock
        return busy(location)
    asked = _Asked.of(location.url)
    if state in ("57014", "25P03"):  # statement_timeout, idle_in_transaction_session_timeout (engines.SESSION)
        return UnusableInput(f"De PostgreSQL-server {asked.server} antwoordde niet op tijd (register "
                             f"'{location.shown}'). {_UNCHANGED}",
                             "Probeer het opnieuw; gebeurt het vaker, vraag IT naar de server.")
    recognised = _refused(location, asked, state, text) or _broken(location, asked, state, text)
    if recognised is not None:
        return recognised
    first = said.splitlines()[0] if said else type(exc).__name__
    return UnusableInput(f"Het register '{location.shown}' kan niet worden gebruikt: {first}",
                         "Er is niets gewijzigd; vraag het zo nodig IT.")


def _refused(location: Location, asked: _Asked, state: str, text: str) -> UnusableInput | None:
    """The server refuses this user: no such database, no password or a wrong one, not from this computer, not
    the rights to create or change the tables."""
    server, user, database = asked.server, asked.user, asked.database
    where = f"Het register '{location.shown}'"
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return UnusableInput(f"De database '{database}' bestaat niet op de PostgreSQL-server {server}. {_UNCHANGED}",
                             f"Laat IT hem aanmaken, met u als eigenaar: createdb --owner={user} {database} (of in "
                             f"SQL: CREATE DATABASE {database} OWNER {user};). asr-batch maakt de tabellen zelf.")
    if "no password supplied" in text:
        return UnusableInput(f"De PostgreSQL-server {server} vraagt een wachtwoord voor gebruiker '{user}', en er is "
                             f"er geen opgegeven. {_UNCHANGED}",
                             "Zet het in de omgevingsvariabele PGPASSWORD, of in het bestand ~/.pgpass "
                             "(%APPDATA%\\postgresql\\pgpass.conf op Windows), niet in een adres dat anderen zien.")
    if state in ("28P01", "28000") or "authentication failed" in text:
        return UnusableInput(f"De PostgreSQL-server {server} weigert gebruiker '{user}': het wachtwoord klopt niet "
                             f"(of die gebruiker bestaat niet). {_UNCHANGED}",
                             "Controleer het wachtwoord in PGPASSWORD, ~/.pgpass of het adres, en de gebruikersnaam; "
                             "vraag IT zo nodig om een nieuw wachtwoord.")
    if "pg_hba.conf" in text:
        return UnusableInput(f"De PostgreSQL-server {server} laat gebruiker '{user}' van deze computer niet toe in "
                             f"database '{database}' (pg_hba.conf). {_UNCHANGED}",
                             "Vraag IT deze computer en gebruiker toe te laten.")
    if (state == "42501" or "permission denied" in text) and "schema" in text:  # creating the tables
        return UnusableInput(f"{where}: gebruiker '{user}' heeft niet de rechten om de tabellen van het register te "
                             f"maken in database '{database}'. {_UNCHANGED}",
                             f"Laat IT u eigenaar van de database maken: ALTER DATABASE {database} OWNER TO {user}; "
                             f"(of CREATE DATABASE {database} OWNER {user};).")
    if state == "42501" or "permission denied" in text:  # the tables are there, and belong to another role
        return UnusableInput(f"{where}: gebruiker '{user}' heeft niet de rechten om het register bij te werken (alleen "
                             f"lezen, of de tabellen zijn van een andere gebruiker). {_UNCHANGED}",
                             "Gebruik de databasegebruiker van het register van uw kantoor, of laat IT schrijfrechten "
                             f"geven: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {user}; "
                             f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {user};")
    return None


def _broken(location: Location, asked: _Asked, state: str, text: str) -> UnusableInput | None:
    """The register or the server cannot serve: a table or column missing, no connections left, out of reach."""
    if state in ("42P01", "42703"):  # a table or a column of ours is missing: not (or no longer) a whole register
        return UnusableInput(f"Het register '{location.shown}' is geen volledig asr-batch-register (een tabel of kolom "
                             f"ontbreekt). {_UNCHANGED}",
                             "Controleer het adres bij --register of ASR_BATCH_REGISTER; was het wel het register, "
                             "laat IT dan een reservekopie terugzetten (pg_restore).")
    if state == "53300" or "too many" in text:
        return UnusableInput(f"De PostgreSQL-server {asked.server} neemt geen verbindingen meer aan (te veel). "
                             f"{_UNCHANGED}",
                             "Probeer het over een minuut opnieuw; gebeurt het vaak, vraag IT om meer verbindingen.")
    if state.startswith(("08", "57P")) or any(words in text for words in _UNREACHABLE):
        return UnusableInput(f"Kan de PostgreSQL-server op {asked.server} niet bereiken (register "
                             f"'{location.shown}').",
                             "Staat de server aan, en kloppen de naam en de poort in het adres? Vraag het zo nodig IT. "
                             "Een wijziging wordt in zijn geheel vastgelegd of helemaal niet.")
    return None
