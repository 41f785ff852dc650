"""Every database failure as one Dutch UnusableInput (exit 2), on SQLite and on PostgreSQL: which failure it was
and what to do, never a password; the register is left as it was."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy.engine import URL

from batch.errors import UnusableInput
from batch.register import engines
from batch.register.events import os_user
from batch.register.faults_postgres import Fault, diagnose
from batch.register.location import Location

_UNCHANGED = "Er is niets gewijzigd."

# SQLite's primary result codes (sqlite3 exceptions carry them as `sqlite_errorcode`, the extended code in its
# low byte): the words of its messages are not part of its interface, the codes are.
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_SQLITE_READ_ONLY = {3, 8, 23}  # SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH
_SQLITE_NOT_A_REGISTER = {1, 11, 26}  # SQLITE_ERROR (our SQL met other tables), SQLITE_CORRUPT, SQLITE_NOTADB
_SQLITE_CANTOPEN, _SQLITE_FULL, _SQLITE_IOERR = 14, 13, 10


def fault(location: Location, exc: BaseException) -> UnusableInput:
    """A database failure as a Dutch exit-2 message; the register is left as it was. Told by the error's code
    and class (SQLite's result code, PostgreSQL's SQLSTATE), never by its words."""
    orig = getattr(exc, "orig", None) or exc
    if location.shared:
        invalidated = bool(getattr(exc, "connection_invalidated", False))
        return _server_fault(location, orig, diagnose(location, orig, invalidated=invalidated))
    code = getattr(orig, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    where = f"Het register '{location.shown}'"
    if primary in _SQLITE_BUSY:
        return busy(location)
    if primary in _SQLITE_READ_ONLY:
        return UnusableInput(f"{where} kan niet worden bijgewerkt: de map of het bestand is alleen-lezen.",
                             "Geef uzelf schrijfrechten, of kies met --register een andere plek; er is niets "
                             "gewijzigd.")
    if primary in _SQLITE_NOT_A_REGISTER:
        return UnusableInput(f"{where} is geen asr-batch-register (een ander soort bestand, of beschadigd).",
                             "Controleer het pad bij --register of ASR_BATCH_REGISTER. Was het wel het register, "
                             "zet dan een reservekopie terug. asr-batch laat dit bestand ongemoeid.")
    if primary == _SQLITE_CANTOPEN:
        return UnusableInput(f"{where} kan niet worden geopend: het pad is een map, of de map bestaat niet.",
                             "Geef bij --register (of ASR_BATCH_REGISTER) het pad van een bestand, zoals "
                             "register.sqlite.")
    folder = location.path.parent if location.path is not None else "het register"
    if primary == _SQLITE_FULL:
        return UnusableInput(f"{where} kan niet worden bijgewerkt: de schijf is vol. {_UNCHANGED}",
                             f"Maak ruimte vrij op de schijf van {folder} (oude uitvoermappen, de prullenbak) en "
                             "probeer het opnieuw, of kies met --register een plek op een andere schijf.")
    name = getattr(orig, "sqlite_errorname", None) or type(orig).__name__
    if primary == _SQLITE_IOERR:
        return UnusableInput(f"{where} kan niet worden gelezen of geschreven: de schijf of het netwerk gaf een fout "
                             f"({name}). {_UNCHANGED}",
                             f"Controleer of {folder} bereikbaar is en probeer het opnieuw.")
    return UnusableInput(f"{where} kan niet worden gebruikt ({name}).",
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


def _server_fault(location: Location, exc: BaseException, found: Fault) -> UnusableInput:
    """A PostgreSQL failure in Dutch, naming which: the server out of reach, the password, the database, the
    rights, a lock held too long, a full disk. Never the password, never the server's raw text when it is
    recognised."""
    if found is Fault.BUSY:
        return busy(location)
    asked = _Asked.of(location.url)
    message = _refused(location, asked, found) or _broken(location, asked, found)
    if message is not None:
        return message
    said = str(exc).strip()
    first = said.splitlines()[0] if said else type(exc).__name__
    return UnusableInput(f"Het register '{location.shown}' kan niet worden gebruikt: {first}",
                         "Er is niets gewijzigd; vraag het zo nodig IT.")


def _refused(location: Location, asked: _Asked, found: Fault) -> UnusableInput | None:
    """The server refuses this user: no such database, no password or a wrong one, not from this computer, not
    the rights to connect, to create or to change the tables."""
    server, user, database = asked.server, asked.user, asked.database
    if found is Fault.MISSING_DATABASE:
        return UnusableInput(f"De database '{database}' bestaat niet op de PostgreSQL-server {server}. {_UNCHANGED}",
                             f"Laat IT hem aanmaken, met u als eigenaar: createdb --owner={user} {database} (of in "
                             f"SQL: CREATE DATABASE {database} OWNER {user};). asr-batch maakt de tabellen zelf.")
    if found is Fault.NO_PASSWORD:
        return UnusableInput(f"De PostgreSQL-server {server} vraagt een wachtwoord voor gebruiker '{user}', en er is "
                             f"er geen opgegeven. {_UNCHANGED}",
                             "Zet het in de omgevingsvariabele PGPASSWORD, of in het bestand ~/.pgpass "
                             "(%APPDATA%\\postgresql\\pgpass.conf op Windows), niet in een adres dat anderen zien.")
    if found is Fault.WRONG_PASSWORD:
        return UnusableInput(f"De PostgreSQL-server {server} weigert gebruiker '{user}': het wachtwoord klopt niet "
                             f"(of die gebruiker bestaat niet). {_UNCHANGED}",
                             "Controleer het wachtwoord in PGPASSWORD, ~/.pgpass of het adres, en de gebruikersnaam; "
                             "vraag IT zo nodig om een nieuw wachtwoord.")
    if found is Fault.PASSWORD_OR_FULL:
        return UnusableInput(f"De PostgreSQL-server {server} weigert gebruiker '{user}': het wachtwoord klopt niet "
                             "(of die gebruiker bestaat niet), of de server heeft geen verbinding meer vrij (te veel). "
                             f"{_UNCHANGED}",
                             "Controleer het wachtwoord in PGPASSWORD, ~/.pgpass of het adres, en de gebruikersnaam; "
                             "klopt het, probeer het dan over een minuut opnieuw. Vraag IT zo nodig om een nieuw "
                             "wachtwoord of om meer verbindingen.")
    if found is Fault.REFUSED_AFTER_PASSWORD:
        return UnusableInput(f"De PostgreSQL-server {server} weigert gebruiker '{user}' in database '{database}': het "
                             "wachtwoord klopt niet, die gebruiker bestaat niet, of de database bestaat niet of is "
                             f"niet voor die gebruiker open. {_UNCHANGED}",
                             "Controleer het wachtwoord (PGPASSWORD, ~/.pgpass of het adres), de gebruikersnaam en "
                             "de naam van de database in het adres; vraag IT welke van de drie het is.")
    if found is Fault.NOT_ADMITTED:
        return UnusableInput(f"De PostgreSQL-server {server} laat gebruiker '{user}' van deze computer niet toe in "
                             f"database '{database}' (pg_hba.conf). {_UNCHANGED}",
                             "Vraag IT deze computer en gebruiker toe te laten.")
    if found is Fault.NO_CONNECT_RIGHT:
        return UnusableInput(f"De PostgreSQL-server {server} laat gebruiker '{user}' niet toe in database "
                             f"'{database}': die gebruiker mag er niet mee verbinden. {_UNCHANGED}",
                             f"Vraag IT om dat recht: GRANT CONNECT ON DATABASE {database} TO {user}; (en, als de "
                             f"database geen verbindingen aanneemt: ALTER DATABASE {database} ALLOW_CONNECTIONS true;)")
    if found is Fault.REFUSED:
        return UnusableInput(f"De PostgreSQL-server {server} laat gebruiker '{user}' nu niet toe: deze computer of "
                             "gebruiker is niet toegelaten (pg_hba.conf), of de server neemt geen verbindingen meer "
                             f"aan (te veel). {_UNCHANGED}",
                             "Probeer het over een minuut opnieuw; lukt het dan nog niet, vraag IT deze computer en "
                             "gebruiker toe te laten, of om meer verbindingen.")
    return _denied(location, asked, found)


def _denied(location: Location, asked: _Asked, found: Fault) -> UnusableInput | None:
    """The server lets this user in, not to create or to change the tables."""
    user, database = asked.user, asked.database
    where = f"Het register '{location.shown}'"
    if found is Fault.NO_CREATE_RIGHT:
        return UnusableInput(f"{where}: gebruiker '{user}' heeft niet de rechten om de tabellen van het register te "
                             f"maken in database '{database}'. {_UNCHANGED}",
                             f"Laat IT u eigenaar van de database maken: ALTER DATABASE {database} OWNER TO {user}; "
                             f"(of CREATE DATABASE {database} OWNER {user};).")
    if found is Fault.NO_WRITE_RIGHT:
        return UnusableInput(f"{where}: gebruiker '{user}' heeft niet de rechten om het register bij te werken (alleen "
                             f"lezen, of de tabellen zijn van een andere gebruiker). {_UNCHANGED}",
                             "Gebruik de databasegebruiker van het register van uw kantoor, of laat IT schrijfrechten "
                             f"geven: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {user}; "
                             f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {user};")
    return None


def _broken(location: Location, asked: _Asked, found: Fault) -> UnusableInput | None:
    """The register or the server cannot serve: a table or column missing, no connections left, a full disk, only
    reading, too slow, out of reach."""
    server = asked.server
    if found is Fault.INCOMPLETE:  # a table or a column of ours is missing: not (or no longer) a whole register
        return UnusableInput(f"Het register '{location.shown}' is geen volledig asr-batch-register (een tabel of kolom "
                             f"ontbreekt). {_UNCHANGED}",
                             "Controleer het adres bij --register of ASR_BATCH_REGISTER; was het wel het register, "
                             "laat IT dan een reservekopie terugzetten (pg_restore).")
    if found is Fault.TOO_MANY:
        return UnusableInput(f"De PostgreSQL-server {server} neemt geen verbindingen meer aan (te veel). "
                             f"{_UNCHANGED}",
                             "Probeer het over een minuut opnieuw; gebeurt het vaak, vraag IT om meer verbindingen.")
    if found is Fault.DISK_FULL:
        return UnusableInput(f"Het register '{location.shown}' kan niet worden bijgewerkt: de schijf is vol op de "
                             f"PostgreSQL-server {server}. {_UNCHANGED}",
                             "Vraag IT ruimte te maken op de schijf van de databaseserver, en probeer het dan opnieuw.")
    if found is Fault.READ_ONLY_SERVER:
        return UnusableInput(f"De PostgreSQL-server {server} laat nu alleen lezen toe (register '{location.shown}'): "
                             f"een reserveserver, of een server die zich herstelt. {_UNCHANGED}",
                             "Gebruik het adres van de hoofdserver, of vraag IT wanneer er weer geschreven kan worden.")
    if found is Fault.STARTING:
        return UnusableInput(f"De PostgreSQL-server {server} start op of stopt, en neemt nu geen verbindingen aan. "
                             f"{_UNCHANGED}", "Probeer het over een minuut opnieuw; duurt het langer, vraag het IT.")
    if found is Fault.SLOW:  # statement_timeout, idle_in_transaction_session_timeout (engines.SESSION)
        return UnusableInput(f"De PostgreSQL-server {server} antwoordde niet op tijd (register "
                             f"'{location.shown}'). {_UNCHANGED}",
                             "Probeer het opnieuw; gebeurt het vaker, vraag IT naar de server.")
    if found is Fault.UNREACHABLE:
        return UnusableInput(f"Kan de PostgreSQL-server op {server} niet bereiken (register "
                             f"'{location.shown}').",
                             "Staat de server aan, en kloppen de naam en de poort in het adres? Vraag het zo nodig IT. "
                             "Een wijziging wordt in zijn geheel vastgelegd of helemaal niet.")
    return None
