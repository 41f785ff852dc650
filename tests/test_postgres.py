"""A register on a PostgreSQL server: its URL, its driver, its password, its faults.

The first tests need no server; the others use the session's own (tests/pgserver.py), and are skipped where
PostgreSQL is not installed. The register's whole behaviour is test_register.py, run on SQLite and PostgreSQL both.
"""

from __future__ import annotations

import json
import socket
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import EXCHANGE, WorkbookBuilder, numbered_rows, run_cli, valid_row, write_workbook
from pgserver import Server
from register_backends import PostgresBackend

from batch.register import locate

PASSWORD = "Geheim-Wachtwoord-0x5e"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("given", "shown"), [
    (f"postgresql://klerk:{PASSWORD}@db.kantoor/asr", "postgresql://klerk@db.kantoor/asr"),
    (f"postgresql+psycopg://klerk:{PASSWORD}@db.kantoor:5433/asr", "postgresql://klerk@db.kantoor:5433/asr"),
    (f"postgres://klerk:{PASSWORD}@db.kantoor/asr", "postgresql://klerk@db.kantoor/asr"),
    (f"postgresql://klerk@db.kantoor/asr?password={PASSWORD}&sslmode=require",
     "postgresql://klerk@db.kantoor/asr?sslmode=require"),
    ("postgresql:///asr", "postgresql:///asr"),
])
def test_a_server_url_is_spoken_through_psycopg_and_shown_without_its_password(given: str, shown: str) -> None:
    location = locate(given)
    assert location.url.drivername == "postgresql+psycopg" and location.path is None and location.shared
    assert location.shown == shown


def test_a_server_out_of_reach_is_exit_2_and_never_shows_the_password() -> None:
    port = free_port()  # nothing listens there
    result = run_cli("status", "--register", f"postgresql://klerk:{PASSWORD}@127.0.0.1:{port}/asr")
    assert result.exit_code == 2, result.output
    assert f"Kan de PostgreSQL-server op 127.0.0.1:{port} niet bereiken" in result.stderr
    assert PASSWORD not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("url", [f"postgresql+psycopg2://klerk:{PASSWORD}@db/asr",
                                 f"mysql://klerk:{PASSWORD}@db/asr"])
def test_other_drivers_and_databases_are_refused_clearly(url: str) -> None:
    result = run_cli("status", "--register", url)
    assert result.exit_code == 2 and "postgresql://gebruiker@server/database" in result.stderr
    assert PASSWORD not in result.output


def test_without_the_driver_a_server_url_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails, as where it is not installed
    for args in (("status",), ("mark", "submitted", "1001")):
        result = run_cli(*args, "--register", f"postgresql://klerk:{PASSWORD}@db.kantoor/asr")
        assert result.exit_code == 2 and "pip install 'asr-batch[postgres]'" in result.stderr
        assert PASSWORD not in result.output and "Traceback" not in result.output


def test_a_malformed_server_url_never_shows_its_password() -> None:
    result = run_cli("status", "--register", f"postgresql://klerk:{PASSWORD}@db:poort/asr")
    assert result.exit_code == 2 and "geen geldig adres" in result.stderr and PASSWORD not in result.output


@pytest.mark.parametrize("url", ["postgresql://klerk:Welkom@2024!@db.kantoor/asr",
                                 "postgresql://klerk:Welkom@2024!@db.kantoor:poort/asr"])
def test_an_at_sign_in_the_password_never_shows_a_piece_of_it(url: str) -> None:
    """Not written as %40, the '@' ends the password early: what follows would be taken for the server's name."""
    result = run_cli("status", "--register", url)
    assert result.exit_code == 2, result.output
    assert "2024" not in result.output and "Welkom" not in result.output
    assert "Traceback" not in result.output and "onverwachte fout" not in result.output


def test_a_url_that_the_driver_cannot_read_is_a_dutch_message() -> None:
    result = run_cli("status", "--register", "postgresql://klerk@127.0.0.1/asr?port=x")
    assert result.exit_code == 2 and "geen geldig adres" in result.stderr
    assert "onverwachte fout" not in result.stderr


# --- on a real server (the session's own, tests/pgserver.py) --------------------------------------------------


@pytest.fixture
def database(postgres_server: Server, request: pytest.FixtureRequest) -> str:
    """A new, empty database of the clerk's own."""
    name = postgres_server.new_database()
    request.addfinalizer(lambda: postgres_server.drop_database(name))
    return name


def test_the_register_lives_on_the_server(postgres_server: Server, database: str, make_workbook: WorkbookBuilder,
                                          tmp_path: Path) -> None:
    url = postgres_server.url(database)
    result = run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html",
                     "--register", url)
    assert result.exit_code == 0, result.output
    shown = f"postgresql://klerk@127.0.0.1:{postgres_server.port}/{database}"
    data = json.loads(run_cli("status", "--json", "--register", url).stdout)
    assert data["register"] == shown and data["counts"]["new"] == 2
    assert f"Register: {shown}" in run_cli("status", "--register", url).stdout
    on_server = PostgresBackend(postgres_server, database)
    assert set(on_server.rows("select werkgeverscode from werkgevers")) == {("1001",), ("1002",)}


def test_a_wrong_password_is_exit_2_and_nothing_is_written(postgres_server: Server, database: str,
                                                           make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    url = postgres_server.url(database, password=PASSWORD)  # not the clerk's
    for args in (("status",), ("mark", "submitted", "1001"),
                 ("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit")):
        result = run_cli(*args, "--register", url)
        assert result.exit_code == 2, result.output
        assert "weigert gebruiker 'klerk': het wachtwoord klopt niet" in result.stderr, args
        assert PASSWORD not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "uit").exists() and not PostgresBackend(postgres_server, database).exists()


def test_no_password_at_all_says_where_to_put_one(postgres_server: Server, database: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "geen-pgpass"))
    result = run_cli("status", "--register", postgres_server.url(database, password=None))
    assert result.exit_code == 2 and "er is er geen opgegeven" in result.stderr
    assert "PGPASSWORD" in result.stderr and ".pgpass" in result.stderr


def test_pgpassword_and_pgpass_work_as_postgresql_users_expect(postgres_server: Server, database: str,
                                                              make_workbook: WorkbookBuilder, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = postgres_server.url(database, password=None)
    monkeypatch.setenv("PGPASSWORD", postgres_server.clerk_password)
    result = run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html",
                     "--register", url)
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{postgres_server.port}:{database}:klerk:{postgres_server.clerk_password}\n",
                      encoding="utf-8")
    pgpass.chmod(0o600)  # libpq ignores a .pgpass that others may read
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    result = run_cli("mark", "submitted", "1001", "--register", url)
    assert result.exit_code == 0, result.output
    data = json.loads(run_cli("status", "--json", "--register", url).stdout)
    assert data["counts"] == {"total": 2, "new": 1, "submitted": 1, "confirmed": 0, "changed": 0,
                              "queried": 0, "ended": 0}


def test_a_missing_database_says_to_create_it(postgres_server: Server, make_workbook: WorkbookBuilder,
                                              tmp_path: Path) -> None:
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit",
                     "--register", postgres_server.url("asr_register"))
    assert result.exit_code == 2, result.output
    assert "De database 'asr_register' bestaat niet op de PostgreSQL-server" in result.stderr
    assert "createdb --owner=klerk asr_register" in result.stderr and not (tmp_path / "uit").exists()


def test_a_server_that_is_down_is_exit_2_and_nothing_is_written(make_workbook: WorkbookBuilder,
                                                                tmp_path: Path) -> None:
    port = free_port()
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit",
                     "--register", f"postgresql://klerk:{PASSWORD}@127.0.0.1:{port}/asr")
    assert result.exit_code == 2 and f"Kan de PostgreSQL-server op 127.0.0.1:{port} niet bereiken" in result.stderr
    assert not (tmp_path / "uit").exists() and PASSWORD not in result.output


def test_a_clerk_without_rights_in_the_database_is_exit_2_and_nothing_is_written(
        postgres_server: Server, make_workbook: WorkbookBuilder, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    """IT made the database but kept it for itself: since PostgreSQL 15 nobody else may create tables in it."""
    name = postgres_server.new_database(owner="postgres")
    request.addfinalizer(lambda: postgres_server.drop_database(name))
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit",
                     "--register", postgres_server.url(name))
    assert result.exit_code == 2, result.output
    assert "gebruiker 'klerk' heeft niet de rechten om de tabellen van het register te maken" in result.stderr
    assert "OWNER TO klerk" in result.stderr
    assert not (tmp_path / "uit").exists() and not PostgresBackend(postgres_server, name).exists()


def test_a_role_that_may_only_read_sees_the_status_and_changes_nothing(postgres_server: Server, database: str,
                                                                       make_workbook: WorkbookBuilder,
                                                                       tmp_path: Path) -> None:
    url = postgres_server.url(database)
    run_cli("process", make_workbook(numbered_rows(3)), "-o", tmp_path / "uit", "--format", "html", "--register", url)
    reader, password = f"lezer_{database}", "lezer-wachtwoord"
    postgres_server.admin(f"CREATE ROLE {{}} LOGIN PASSWORD '{password}'", reader)
    with postgres_server.connect(database) as conn:
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}")
    read_only = postgres_server.url(database, user=reader, password=password)
    on_server = PostgresBackend(postgres_server, database)
    before = on_server.snapshot()
    assert json.loads(run_cli("status", "--json", "--register", read_only).stdout)["counts"]["total"] == 3
    for args in (("mark", "submitted", "1001"), ("forget", "1002"),
                 ("process", make_workbook(numbered_rows(4), name="b.xlsx"), "-o", tmp_path / "b")):
        result = run_cli(*args, "--register", read_only)
        assert result.exit_code == 2, args
        assert f"gebruiker '{reader}' heeft niet de rechten om het register bij te werken" in result.stderr, args
        assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {reader}" in result.stderr
    assert on_server.snapshot() == before and not (tmp_path / "b").exists()


def test_the_password_is_never_printed_written_or_kept(postgres_server: Server, database: str,
                                                       make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    password = postgres_server.clerk_password
    url = postgres_server.url(database)
    out = tmp_path / "uit"
    runs = [run_cli(*args, "--register", url) for args in (
        ("process", make_workbook(numbered_rows(3)), "-o", out), ("status",), ("status", "--json"),
        ("status", "--xlsx", tmp_path / "register.xlsx"), ("mark", "submitted", "1001"),
        ("mark", "confirmed", "1002", "--first-exchange", EXCHANGE), ("purge", "--dry-run"), ("purge",),
        ("forget", "1003"), ("mark", "submitted", "9999"))]
    runs.append(run_cli("status", "--register", postgres_server.url(f"{database}_bestaat_niet")))
    assert [r.exit_code for r in runs] == [0] * 9 + [2, 2]
    for result in runs:
        assert password not in result.output
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert password.encode() not in file.read_bytes(), file
    assert password.encode() not in PostgresBackend(postgres_server, database).everything()


def the_routine(folder: Path, register: str) -> dict[str, object]:
    """What a new office does over two months, as its clerk would type it: process, mark, a change in the
    workbook, --only-pending, purge. Returns `status --json` at the end."""
    def asr_batch(*args: object) -> str:
        result = run_cli(*args, "--register", register)
        assert result.exit_code == 0, result.output
        return result.stdout

    folder.mkdir()
    today = date.today()
    november = numbered_rows(4) + [valid_row(werkgeverscode="0087", naam="Reïntegratiebureau Eëndracht")]
    asr_batch("process", write_workbook(folder / "werkgevers.xlsx", november), "-o", folder / "november")
    asr_batch("mark", "submitted", "1001", "1002", "0087", "--on", (today - timedelta(days=20)).isoformat())
    asr_batch("mark", "confirmed", "1001", "--first-exchange", (today + timedelta(days=10)).isoformat(),
              "--on", (today - timedelta(days=5)).isoformat())
    december = numbered_rows(4)
    december[1]["verloning"] = "4-wekelijks"  # 1002 changed after it was submitted
    december[3]["naam"] = "Werkgever 1004 Holding B.V."  # a new name alone changes nothing a.s.r. needs
    december.append(valid_row(werkgeverscode="1005", naam="Nieuwkomer B.V."))
    asr_batch("process", write_workbook(folder / "werkgevers.xlsx", december), "-o", folder / "december",
              "--only-pending")
    asr_batch("mark", "submitted", "1002")
    asr_batch("purge")
    data: dict[str, object] = json.loads(asr_batch("status", "--json"))
    return data


def test_the_same_routine_gives_the_same_status_on_sqlite_and_postgresql(postgres_server: Server, database: str,
                                                                         tmp_path: Path) -> None:
    on_sqlite = the_routine(tmp_path / "sqlite", str(tmp_path / "register.sqlite"))
    on_postgresql = the_routine(tmp_path / "postgresql", postgres_server.url(database))
    assert on_sqlite["register"] == f"sqlite:///{tmp_path / 'register.sqlite'}"
    assert on_postgresql["register"] == f"postgresql://klerk@127.0.0.1:{postgres_server.port}/{database}"

    def alike(data: dict[str, object], folder: Path) -> str:
        """Without what differs by design: the register's address, and the folder the documents are in."""
        return json.dumps({**data, "register": None}, ensure_ascii=False).replace(str(folder), "MAP")

    assert alike(on_sqlite, tmp_path / "sqlite") == alike(on_postgresql, tmp_path / "postgresql")
    employers = {e["werkgeverscode"]: e for e in on_postgresql["employers"]}  # type: ignore[attr-defined]
    assert {code: e["state"] for code, e in employers.items()} == {
        "0087": "submitted", "1001": "confirmed", "1002": "submitted", "1003": "new", "1004": "new", "1005": "new"}
    assert employers["1001"]["documents"] == []  # purged
    assert len(employers["1005"]["documents"]) == 2 and employers["1004"]["naam"] == "Werkgever 1004 Holding B.V."


def test_a_register_missing_a_table_is_exit_2(postgres_server: Server, database: str, make_workbook: WorkbookBuilder,
                                              tmp_path: Path) -> None:
    url = postgres_server.url(database)
    run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit", "--format", "html", "--register", url)
    on_server = PostgresBackend(postgres_server, database)
    on_server.execute("drop table documents")
    before = on_server.snapshot()
    result = run_cli("status", "--register", url)
    assert result.exit_code == 2 and "geen volledig asr-batch-register" in result.stderr
    assert on_server.snapshot() == before


def test_a_writer_waits_and_goes_on_whatever_isolation_the_database_defaults_to(
        postgres_server: Server, database: str, make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """A database set to SERIALIZABLE by IT: a mark that waited for another writer must still land."""
    import subprocess
    import time

    url = postgres_server.url(database)
    assert run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html",
                   "--register", url).exit_code == 0
    postgres_server.admin("ALTER DATABASE {} SET default_transaction_isolation = 'serializable'", database)
    holder = postgres_server.connect(database, user="klerk")
    holder.autocommit = False
    holder.execute("SELECT value FROM meta WHERE key = 'generation' FOR UPDATE")  # another writer, mid-change
    holder.execute("UPDATE meta SET value = (value::int + 1)::text WHERE key = 'generation'")
    marking = subprocess.Popen([sys.executable, "-m", "batch.cli", "mark", "submitted", "1001", "--register", url],
                               stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # the mark now waits for the holder's lock
    holder.commit()
    holder.close()
    assert marking.wait(timeout=60) == 0, marking.stderr.read() if marking.stderr else ""
    states = {e["werkgeverscode"]: e["state"] for e in json.loads(run_cli("status", "--json", "--register", url)
                                                                    .stdout)["employers"]}
    assert states == {"1001": "submitted", "1002": "new"}


def test_the_tables_are_in_public_even_for_a_role_with_a_schema_of_its_own(
        postgres_server: Server, database: str, make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """PostgreSQL searches a schema named after the role first: a clerk with one would get a register of their own
    under the office's URL."""
    with postgres_server.connect(database) as admin:  # as the superuser, in the register's database
        admin.execute("CREATE SCHEMA klerk AUTHORIZATION klerk")
    url = postgres_server.url(database)
    assert run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html",
                   "--register", url).exit_code == 0
    on_server = PostgresBackend(postgres_server, database)
    assert set(on_server.rows("select table_schema from information_schema.tables where table_name = 'werkgevers'")
               ) == {("public",)}


def test_a_server_gone_right_after_the_swap_says_the_output_is_new_and_the_register_not(
        postgres_server: Server, database: str, make_workbook: WorkbookBuilder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the commit follows the swap of the output folder; should it fail, the clerk is told which is which."""
    import batch.pipeline

    url = postgres_server.url(database)
    assert run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html",
                   "--register", url).exit_code == 0
    swap_in = batch.pipeline.swap_in

    def swap_then_lose_the_server(*args: object, **kwargs: object) -> None:
        swap_in(*args, **kwargs)  # type: ignore[arg-type]
        with postgres_server.connect() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'asr-batch'")

    monkeypatch.setattr(batch.pipeline, "swap_in", swap_then_lose_the_server)
    bigger = write_workbook(tmp_path / "meer.xlsx", numbered_rows(4))
    result = run_cli("process", bigger, "-o", tmp_path / "uit", "--format", "html", "--register", url)
    assert result.exit_code == 2
    assert "De uitvoermap is al vervangen, maar het register is niet bijgewerkt." in result.stderr
    assert "Draai dezelfde opdracht opnieuw" in result.stderr
    monkeypatch.setattr(batch.pipeline, "swap_in", swap_in)
    assert run_cli("process", bigger, "-o", tmp_path / "uit", "--format", "html", "--register", url).exit_code == 0
    assert json.loads(run_cli("status", "--json", "--register", url).stdout)["counts"]["total"] == 4
