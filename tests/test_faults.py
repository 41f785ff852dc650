"""Every register fault is told by its code and class, never by its words: the Dutch messages hold when the
database's messages arrive in another language, and a full disk says so.

On PostgreSQL the proof is a server that speaks German (tests/pgserver.py, `start(language="de")`) and a client
whose libpq speaks German too: `asr-batch` runs as a subprocess with LANGUAGE=de, a locale set, and psycopg's
Python implementation over the system's libpq (which carries its translations; the binary wheel's libpq has
none). `test_the_server_and_the_client_speak_german` checks that the proof is one: it fails where the German
cannot be had and ASR_BATCH_REQUIRE_POSTGRES is set, as the other server tests do. Where German keeps English
words ("no password supplied", "pg_hba.conf"), every psycopg error's text is replaced in-process as well.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pgserver
import pytest
import sqlalchemy as sa
from conftest import WorkbookBuilder, numbered_rows, run_cli
from register_backends import PostgresBackend

from batch.register import engines, locate
from batch.register.faults import fault

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Falsches-Passwort-0x5e"
# What a clerk's computer set to German does: a locale (Python sets none for messages by itself), then asr-batch.
LAUNCHER = ("import locale, sys; locale.setlocale(locale.LC_ALL, ''); sys.argv[0] = 'asr-batch'; "
            "from batch.cli import run; run()")
# German words the server or libpq would say; none may reach the clerk once a fault is recognised.
GERMAN = ("Passwort", "Datenbank", "existiert", "Verbindung", "Rechte", "verweigert", "FATAL", "FEHLER")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the code, not the words (no server needed) --------------------------------------------------------------


def _postgres_error(state: str) -> sa.exc.OperationalError:
    """What SQLAlchemy raises for a server's error with this SQLSTATE, its text in German."""
    from psycopg import errors

    return sa.exc.OperationalError("UPDATE werkgevers SET ...", {}, errors.lookup(state)("Ein Fehler ist aufgetreten"))


@pytest.mark.parametrize(("state", "said"), [
    ("55P03", "is bezet: een andere opdracht gebruikt het al"),
    ("40P01", "is bezet"),
    ("57014", "antwoordde niet op tijd"),
    ("3D000", "De database 'asr' bestaat niet op de PostgreSQL-server db.kantoor:5432"),
    ("28P01", "weigert gebruiker 'klerk': het wachtwoord klopt niet"),
    ("28000", "laat gebruiker 'klerk' van deze computer niet toe in database 'asr' (pg_hba.conf)"),
    ("42P01", "is geen volledig asr-batch-register"),
    ("53300", "neemt geen verbindingen meer aan (te veel)"),
    ("53100", "kan niet worden bijgewerkt: de schijf is vol op de PostgreSQL-server db.kantoor:5432"),
    ("25006", "laat nu alleen lezen toe"),
    ("57P01", "Kan de PostgreSQL-server op db.kantoor:5432 niet bereiken"),
    ("57P03", "De PostgreSQL-server db.kantoor:5432 start op of stopt"),
    ("08006", "Kan de PostgreSQL-server op db.kantoor:5432 niet bereiken"),
])
def test_a_server_fault_is_told_by_its_sqlstate(state: str, said: str) -> None:
    refused = fault(locate("postgresql://klerk:geheim@db.kantoor/asr"), _postgres_error(state))
    assert said in refused.message and "Ein Fehler" not in refused.message
    assert "geheim" not in refused.message + refused.fix


def test_a_full_disk_on_the_server_says_what_to_do() -> None:
    refused = fault(locate("postgresql://klerk@db.kantoor/asr"), _postgres_error("53100"))
    assert "Er is niets gewijzigd." in refused.message
    assert refused.fix == "Vraag IT ruimte te maken op de schijf van de databaseserver, en probeer het dan opnieuw."


def _sqlite_error(name: str, code: int) -> sa.exc.OperationalError:
    """What SQLAlchemy raises for an SQLite error with this result code, its text in German."""
    error = sqlite3.OperationalError("Ein Fehler ist aufgetreten")
    error.sqlite_errorcode, error.sqlite_errorname = code, name
    return sa.exc.OperationalError("INSERT INTO werkgevers ...", {}, error)


@pytest.mark.parametrize(("name", "code", "said"), [
    ("SQLITE_BUSY", 5, "is bezet"),
    ("SQLITE_LOCKED", 6, "is bezet"),
    ("SQLITE_READONLY", 8, "de map of het bestand is alleen-lezen"),
    ("SQLITE_READONLY_DIRECTORY", 8 | 6 << 8, "de map of het bestand is alleen-lezen"),
    ("SQLITE_NOTADB", 26, "is geen asr-batch-register"),
    ("SQLITE_CORRUPT", 11, "is geen asr-batch-register"),
    ("SQLITE_CANTOPEN", 14, "kan niet worden geopend"),
    ("SQLITE_FULL", 13, "kan niet worden bijgewerkt: de schijf is vol. Er is niets gewijzigd."),
    ("SQLITE_IOERR_WRITE", 10 | 3 << 8, "de schijf of het netwerk gaf een fout (SQLITE_IOERR_WRITE)"),
    ("SQLITE_NOMEM", 7, "kan niet worden gebruikt (SQLITE_NOMEM)"),
])
def test_an_sqlite_fault_is_told_by_its_result_code(name: str, code: int, said: str, tmp_path: Path) -> None:
    refused = fault(locate(str(tmp_path / "register.sqlite")), _sqlite_error(name, code))
    assert said in refused.message and "Ein Fehler" not in refused.message


def test_a_full_disk_under_an_sqlite_register_changes_nothing_and_says_so(
        make_workbook: WorkbookBuilder, tmp_path: Path, private_register: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLITE_FULL without filling a disk: the register may not grow beyond the pages it has (max_page_count)."""
    first = run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html")
    assert first.exit_code == 0, first.output
    before = private_register.read_bytes()
    sqlite_engine = engines._sqlite_engine

    def without_room(location: Any) -> sa.engine.Engine:
        engine = sqlite_engine(location)

        @sa.event.listens_for(engine, "connect")
        def _full(dbapi_connection: Any, record: Any) -> None:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        return engine

    monkeypatch.setattr(engines, "_sqlite_engine", without_room)
    result = run_cli("process", make_workbook(numbered_rows(300), name="meer.xlsx"), "-o", tmp_path / "meer",
                     "--format", "html")
    assert result.exit_code == 2, result.output
    assert f"Het register '{locate(None).shown}' kan niet worden bijgewerkt: de schijf is vol." in result.stderr
    assert "Er is niets gewijzigd." in result.stderr and f"op de schijf van {private_register.parent}" in result.stderr
    assert "OperationalError" not in result.output and "Traceback" not in result.output
    assert private_register.read_bytes() == before and not (tmp_path / "meer").exists()


# --- a German server and a German client ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def german_server() -> Iterator[pgserver.Server]:
    """A server of this module's own whose messages are German; few connections, so that all can be taken."""
    try:
        server = pgserver.start(language="de", max_connections=12)
    except pgserver.Unavailable as exc:
        if os.environ.get(pgserver.REQUIRE, "") not in ("", "0"):
            pytest.fail(f"{exc} ({pgserver.REQUIRE} is set: these tests must run here)", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@functools.cache
def german_environment() -> dict[str, str]:
    environment = {**os.environ, "LC_ALL": "C.UTF-8", "LANGUAGE": "de", "PYTHONPATH": str(ROOT),
                   "PSYCOPG_IMPL": "python"}
    if subprocess.run([sys.executable, "-c", "import psycopg"], env=environment, capture_output=True,
                      check=False, timeout=60).returncode != 0:
        environment["PSYCOPG_IMPL"] = "binary"  # no system libpq: the client's own texts stay English
    environment.pop("PGPASSWORD", None)
    return environment


def in_german(*args: object, **environment: str) -> subprocess.CompletedProcess[str]:
    """`asr-batch ARGS` on a computer set to German."""
    return subprocess.run([sys.executable, "-c", LAUNCHER, *map(str, args)], capture_output=True, text=True,
                          env={**german_environment(), **environment}, timeout=120, check=False, cwd=ROOT)


def refused_in_dutch(done: subprocess.CompletedProcess[str], *said: str) -> None:
    assert done.returncode == 2, done.stderr
    for words in said:
        assert words in done.stderr, done.stderr
    for word in GERMAN:
        assert word not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_server_and_the_client_speak_german(german_server: pgserver.Server) -> None:
    """The proof below is one: what psycopg raises here is German, from libpq and from the server."""
    script = ("import psycopg\n"
              "for conninfo in ({refused!r}, {wrong!r}):\n"
              "    try:\n"
              "        psycopg.connect(conninfo)\n"
              "    except psycopg.Error as exc:\n"
              "        print(exc)\n")
    refused = f"host=127.0.0.1 port={free_port()} connect_timeout=5"
    wrong = f"host=127.0.0.1 port={german_server.port} user=klerk password={PASSWORD} dbname=postgres"
    done = subprocess.run([sys.executable, "-c", "import locale; locale.setlocale(locale.LC_ALL, '')\n" +
                           script.format(refused=refused, wrong=wrong)], capture_output=True, text=True,
                          env=german_environment(), timeout=60, check=False)
    assert "Passwort-Authentifizierung" in done.stdout, done.stdout + done.stderr  # the server
    assert "Verbindung zum Server" in done.stdout, (  # libpq
        f"libpq speaks English here ({german_environment()['PSYCOPG_IMPL']}): install the system's libpq "
        f"(Debian: libpq5, which postgresql brings along)\n{done.stdout}")


@pytest.fixture
def german_database(german_server: pgserver.Server, request: pytest.FixtureRequest) -> str:
    name = german_server.new_database()
    request.addfinalizer(lambda: german_server.drop_database(name))
    return name


@pytest.fixture
def german_register(german_server: pgserver.Server, german_database: str, make_workbook: WorkbookBuilder,
                    tmp_path: Path) -> PostgresBackend:
    """A register with werkgevers 1001-1003 on the German server."""
    done = run_cli("process", make_workbook(numbered_rows(3)), "-o", tmp_path / "uit", "--format", "html",
                   "--register", german_server.url(german_database))
    assert done.exit_code == 0, done.output
    return PostgresBackend(german_server, german_database)


def test_a_server_out_of_reach(german_server: pgserver.Server) -> None:
    port = free_port()
    refused_in_dutch(in_german("status", "--register", f"postgresql://klerk:{PASSWORD}@127.0.0.1:{port}/asr"),
                     f"Kan de PostgreSQL-server op 127.0.0.1:{port} niet bereiken")
    refused_in_dutch(in_german("status", "--register", f"postgresql://klerk:{PASSWORD}@db.bestaat-niet.invalid/asr"),
                     "Kan de PostgreSQL-server op db.bestaat-niet.invalid:5432 niet bereiken")


def test_a_wrong_password_or_an_unknown_user(german_server: pgserver.Server, german_database: str) -> None:
    for user in ("klerk", "niemand"):
        done = in_german("status", "--register", german_server.url(german_database, user=user, password=PASSWORD))
        refused_in_dutch(done, f"De PostgreSQL-server 127.0.0.1:{german_server.port} weigert gebruiker '{user}': het "
                               "wachtwoord klopt niet (of die gebruiker bestaat niet)")
        assert PASSWORD not in done.stderr


def test_no_password_at_all(german_server: pgserver.Server, german_database: str, tmp_path: Path) -> None:
    refused_in_dutch(in_german("status", "--register", german_server.url(german_database, password=None),
                               PGPASSFILE=str(tmp_path / "geen-pgpass")),
                     "vraagt een wachtwoord voor gebruiker 'klerk', en er is er geen opgegeven", "PGPASSWORD")


@pytest.mark.parametrize("case", ["no password", "pg_hba.conf"])
def test_words_that_stay_english_in_german_are_not_what_tells(german_server: pgserver.Server, german_database: str,
                                                               case: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq 15's German leaves "fe_sendauth: no password supplied" untranslated, and every language names
    pg_hba.conf: here every psycopg error reads otherwise, in-process."""
    import psycopg

    monkeypatch.setattr(psycopg.Error, "__str__", lambda self: "Es ist ein Fehler aufgetreten")
    if case == "no password":
        monkeypatch.delenv("PGPASSWORD", raising=False)
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "geen-pgpass"))
        url, said = (german_server.url(german_database, password=None),
                     "vraagt een wachtwoord voor gebruiker 'klerk', en er is er geen opgegeven")
    else:
        german_server.refuse("klerk", database=german_database)
        url, said = (german_server.url(german_database),
                     f"laat gebruiker 'klerk' van deze computer niet toe in database '{german_database}' (pg_hba.conf)")
    result = run_cli("status", "--register", url)
    assert result.exit_code == 2 and said in result.stderr, result.output


def test_a_missing_database(german_server: pgserver.Server, tmp_path: Path) -> None:
    """Also with the password from a ~/.pgpass line for that database alone: the probe sends the same password."""
    said = f"De database 'asr_register' bestaat niet op de PostgreSQL-server 127.0.0.1:{german_server.port}."
    refused_in_dutch(in_german("status", "--register", german_server.url("asr_register")), said,
                     "createdb --owner=klerk asr_register")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{german_server.port}:asr_register:klerk:{german_server.clerk_password}\n",
                      encoding="utf-8")
    pgpass.chmod(0o600)
    refused_in_dutch(in_german("status", "--register", german_server.url("asr_register", password=None),
                               PGPASSFILE=str(pgpass)), said)


def test_a_database_the_user_may_not_connect_to(german_server: pgserver.Server,
                                                request: pytest.FixtureRequest) -> None:
    name = german_server.new_database(owner="postgres")
    request.addfinalizer(lambda: german_server.drop_database(name))
    german_server.admin("REVOKE CONNECT ON DATABASE {} FROM PUBLIC", name)
    refused_in_dutch(in_german("status", "--register", german_server.url(name)),
                     f"laat gebruiker 'klerk' niet toe in database '{name}': die gebruiker mag er niet mee verbinden",
                     f"GRANT CONNECT ON DATABASE {name} TO klerk;")


def test_a_user_that_pg_hba_conf_keeps_out(german_server: pgserver.Server, german_database: str) -> None:
    german_server.admin("CREATE ROLE {} LOGIN PASSWORD 'buiten'", "buiten")
    german_server.refuse("buiten")
    refused_in_dutch(in_german("status", "--register",
                               german_server.url(german_database, user="buiten", password="buiten")),
                     "laat gebruiker 'buiten' nu niet toe: deze computer of gebruiker is niet toegelaten "
                     "(pg_hba.conf), of de server neemt geen verbindingen meer aan (te veel).")


def test_a_user_that_pg_hba_conf_keeps_out_of_this_database_only(german_server: pgserver.Server,
                                                                 german_database: str) -> None:
    german_server.refuse("klerk", database=german_database)
    refused_in_dutch(in_german("status", "--register", german_server.url(german_database)),
                     f"laat gebruiker 'klerk' van deze computer niet toe in database '{german_database}' "
                     "(pg_hba.conf)")


def test_a_refusal_after_the_password_where_the_maintenance_database_is_closed(german_server: pgserver.Server,
                                                                              german_database: str) -> None:
    """pg_hba.conf lets this user into the register's database alone: a wrong password cannot be told from a
    database that is missing or closed, and the message says all three."""
    german_server.admin("CREATE ROLE {} LOGIN PASSWORD 'alleen'", "alleen")
    german_server.refuse("alleen", database="postgres")
    refused_in_dutch(in_german("status", "--register",
                               german_server.url(german_database, user="alleen", password=PASSWORD)),
                     f"weigert gebruiker 'alleen' in database '{german_database}': het wachtwoord klopt niet, die "
                     "gebruiker bestaat niet, of de database bestaat niet of is niet voor die gebruiker open.")


def test_no_rights_to_create_the_tables(german_server: pgserver.Server, make_workbook: WorkbookBuilder,
                                        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    name = german_server.new_database(owner="postgres")
    request.addfinalizer(lambda: german_server.drop_database(name))
    refused_in_dutch(in_german("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit",
                               "--register", german_server.url(name)),
                     "gebruiker 'klerk' heeft niet de rechten om de tabellen van het register te maken",
                     f"ALTER DATABASE {name} OWNER TO klerk;")
    assert not (tmp_path / "uit").exists()


def test_rights_to_read_only(german_server: pgserver.Server, german_register: PostgresBackend) -> None:
    reader = f"lezer_{german_register.database}"
    german_server.admin("CREATE ROLE {} LOGIN PASSWORD 'lezer'", reader)
    with german_server.connect(german_register.database) as conn:
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}")
    before = german_register.snapshot()
    refused_in_dutch(in_german("mark", "submitted", "1001", "--register",
                               german_server.url(german_register.database, user=reader, password="lezer")),
                     f"gebruiker '{reader}' heeft niet de rechten om het register bij te werken")
    assert german_register.snapshot() == before


def test_a_lock_held_too_long(german_register: PostgresBackend) -> None:
    before = german_register.snapshot()
    with german_register.hold_lock():
        done = in_german("mark", "submitted", "1001", "--register", german_register.setting,
                         ASR_BATCH_REGISTER_TIMEOUT="0.5")
    refused_in_dutch(done, "is bezet: een andere opdracht gebruikt het al 0.5 seconden", "niets gewijzigd")
    assert german_register.snapshot() == before


def test_too_many_connections(german_server: pgserver.Server, german_database: str) -> None:
    """For the database (after the password), and for the whole server (before it: then pg_hba.conf could be it)."""
    german_server.admin("ALTER DATABASE {} CONNECTION LIMIT 0", german_database)
    refused_in_dutch(in_german("status", "--register", german_server.url(german_database)),
                     f"De PostgreSQL-server 127.0.0.1:{german_server.port} neemt geen verbindingen meer aan (te veel).")
    german_server.admin("ALTER DATABASE {} CONNECTION LIMIT -1", german_database)
    with contextlib.ExitStack() as taken:
        import psycopg

        with contextlib.suppress(psycopg.OperationalError):
            for _ in range(20):  # every connection a clerk may have (the rest is the superuser's)
                taken.enter_context(german_server.connect(user="klerk"))
        done = in_german("status", "--register", german_server.url(german_database))
    refused_in_dutch(done, "weigert gebruiker 'klerk': het wachtwoord klopt niet (of die gebruiker bestaat niet), of "
                           "de server heeft geen verbinding meer vrij (te veel)")


def _raising(register: PostgresBackend, state: str) -> None:
    """The server answers every change of the register with this SQLSTATE (and a German text), as it would on
    its own: a full disk cannot be had on a test server, a standby is a second server."""
    register.execute(f"""
        CREATE FUNCTION scheitern() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'Es ist ein Fehler aufgetreten' USING ERRCODE = '{state}'; END $$;
        CREATE TRIGGER scheitern BEFORE INSERT OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION scheitern();""")


@pytest.mark.parametrize(("state", "said"), [
    ("53100", "kan niet worden bijgewerkt: de schijf is vol op de PostgreSQL-server"),
    ("25006", "laat nu alleen lezen toe"),
    ("57014", "antwoordde niet op tijd"),
])
def test_a_fault_while_writing(german_register: PostgresBackend, state: str, said: str) -> None:
    _raising(german_register, state)
    before = german_register.snapshot()
    refused_in_dutch(in_german("mark", "submitted", "1001", "--register", german_register.setting), said,
                     "Er is niets gewijzigd.")
    assert german_register.snapshot() == before


def test_a_server_that_ends_the_session(german_register: PostgresBackend) -> None:
    german_register.execute("""
        CREATE FUNCTION abbrechen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
        CREATE TRIGGER abbrechen BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION abbrechen();""")
    before = german_register.snapshot()
    refused_in_dutch(in_german("mark", "submitted", "1001", "--register", german_register.setting),
                     f"Kan de PostgreSQL-server op 127.0.0.1:{german_register.server.port} niet bereiken")
    assert german_register.snapshot() == before


def test_a_register_missing_a_table(german_register: PostgresBackend) -> None:
    german_register.execute("DROP TABLE documents")
    refused_in_dutch(in_german("status", "--register", german_register.setting),
                     "is geen volledig asr-batch-register (een tabel of kolom ontbreekt)")
