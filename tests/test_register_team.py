"""A team on one register (schema version 2): documents belong to the computer that wrote them, purge goes through a
journal and is finished by the next one when it is killed, --only-pending decides against the state it records, a
run reads only its own werkgevers, and a version-1 register is upgraded from the real thing (tests/fixtures/).

Against a real SQLite file and a real PostgreSQL server (conftest's `backend`), with real processes where a
process is killed or two run at once. Two computers are two config folders (ASR_BATCH_CONFIG_DIR) and two host
names; their disks are two folders moved in and out of the one `-o` path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import EXCHANGE, WorkbookBuilder, numbered_rows, run_cli
from pgserver import CLERK
from register_backends import Backend, PostgresBackend

from batch import register as registry
from batch.register import computer, schema

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GONE = "0412-cafe-t-hoekje.pdf"  # of the version-1 fixture's documents, the ones not on this computer
AS_INSTALLED = [sys.executable, "-c", "from batch.cli import run; run()"]

pytestmark = pytest.mark.usefixtures("backend")


def status_json() -> dict[str, Any]:
    result = run_cli("status", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def documents() -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """Per werkgever: `documents` and `documents_elsewhere` as status --json has them."""
    return {e["werkgeverscode"]: (e["documents"], e["documents_elsewhere"]) for e in status_json()["employers"]}


def on_disk(*folders: Path) -> dict[str, list[str]]:
    """The documents in these output folders, per werkgever, as status lists them."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted((folder / "aanmeldingen").glob("*")):
            found.setdefault(path.name.split("-")[0], []).append(str(path))
    return found


def listed() -> dict[str, list[str]]:
    return {code: sorted(here) for code, (here, _) in documents().items() if here}


class Computers:
    """Two computers on one register: a config folder and a host name each, and a disk that holds `-o uit`."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path, self.monkeypatch = tmp_path, monkeypatch
        self.out = tmp_path / "uit"
        self.current: str | None = None

    def use(self, name: str) -> None:
        """Sit down at computer `name`: its config folder, its host name, its disk under the one path."""
        if self.current is not None and self.out.exists():
            self.out.rename(self.tmp_path / f"schijf-{self.current}")
        disk = self.tmp_path / f"schijf-{name}"
        if disk.exists():
            disk.rename(self.out)
        self.monkeypatch.setenv("ASR_BATCH_CONFIG_DIR", str(self.tmp_path / f"config-{name}"))
        self.monkeypatch.setattr(computer, "host_name", lambda: name)
        self.current = name


# --- documents belong to a computer -------------------------------------------------------------------------


def test_two_computers_writing_to_one_path_each_purge_their_own(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                backend: Backend) -> None:
    workbook = make_workbook(numbered_rows(3))
    pcs = Computers(tmp_path, monkeypatch)
    pcs.use("PC-ANNA")
    assert run_cli("process", workbook, "-o", pcs.out, "--format", "html").exit_code == 0
    anna = on_disk(pcs.out)
    pcs.use("PC-BERT")
    assert run_cli("process", workbook, "-o", pcs.out, "--format", "html").exit_code == 0
    bert = on_disk(pcs.out)
    assert anna == bert  # the same paths: two documents each, one on each computer
    assert backend.rows("select count(*), count(distinct path), count(distinct computer) from documents") == [(6, 3, 2)]
    assert sorted(backend.rows("select distinct computer_name from documents")) == [("PC-ANNA",), ("PC-BERT",)]
    assert run_cli("mark", "confirmed", "1001", "1002", "--first-exchange", EXCHANGE).exit_code == 0

    # Bert's computer: his own documents, and Anna's named as hers
    assert documents()["1001"] == (bert["1001"], [{"path": anna["1001"][0], "computer": "PC-ANNA"}])
    table = run_cli("status")
    assert "3 op een andere computer (PC-ANNA)" in table.stdout
    done = run_cli("purge")
    assert done.exit_code == 0, done.output
    assert "2 documenten verwijderd" in done.stderr
    assert "2 documenten van bevestigde werkgevers staan niet op deze computer" in done.stderr
    assert f"1001  {anna['1001'][0]}  (op een andere computer (PC-ANNA))" in done.stderr
    assert on_disk(pcs.out) == {"1003": bert["1003"]} and listed() == on_disk(pcs.out)

    pcs.use("PC-ANNA")  # Anna's files were never touched; her purge deletes them
    assert on_disk(pcs.out) == anna and listed() == anna
    assert documents()["1001"][1] == []  # Bert's are deleted and forgotten
    again = run_cli("purge")
    assert again.exit_code == 0 and "2 documenten verwijderd" in again.stderr
    assert "niet op deze computer" not in again.stderr
    assert on_disk(pcs.out) == {"1003": anna["1003"]} and listed() == on_disk(pcs.out)
    assert backend.rows("select count(*) from documents where werkgeverscode in ('1001', '1002')") == [(0,)]
    assert backend.rows("select count(*) from events where event = 'deleted'") == [(4,)]


def test_the_computer_id_is_made_once_owner_only_and_not_by_reading(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                    this_computer: Path, backend: Backend) -> None:
    assert run_cli("status").exit_code == 0 and not (this_computer / "computer-id").exists()
    workbook = make_workbook(numbered_rows(1))
    assert run_cli("process", workbook, "-o", tmp_path / "a", "--format", "html").exit_code == 0
    made = (this_computer / "computer-id").read_text(encoding="ascii").strip()
    assert (this_computer / "computer-id").stat().st_mode & 0o777 == 0o600
    assert run_cli("process", workbook, "-o", tmp_path / "b", "--format", "html").exit_code == 0
    assert (this_computer / "computer-id").read_text(encoding="ascii").strip() == made
    assert backend.rows("select distinct computer from documents") == [(made,)]
    assert os.listdir(this_computer) == ["computer-id"]


@pytest.mark.sqlite_only
def test_a_computer_id_that_cannot_be_kept_stops_process_before_anything_is_written(
        make_workbook: WorkbookBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        private_register: Path) -> None:
    blocked = tmp_path / "geen-map"
    blocked.write_text("een bestand, geen map", encoding="utf-8")
    monkeypatch.setenv("ASR_BATCH_CONFIG_DIR", str(blocked / "asr-batch"))
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit", "--format", "html")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "De id van deze computer kan niet worden bewaard" in result.stderr
    assert "ASR_BATCH_CONFIG_DIR" in result.stderr
    assert not (tmp_path / "uit").exists() and not private_register.exists()


@pytest.mark.sqlite_only
def test_a_damaged_computer_id_is_a_dutch_exit_2(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                 this_computer: Path) -> None:
    (this_computer / "computer-id").write_text("geen uuid\n", encoding="ascii")
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit", "--format", "html")
    assert result.exit_code == 2 and "is beschadigd" in result.stderr and not (tmp_path / "uit").exists()


@pytest.mark.sqlite_only
def test_the_config_folder_is_the_users_unless_asr_batch_config_dir_says(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASR_BATCH_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert computer.config_folder() == tmp_path / "xdg" / "asr-batch"
    monkeypatch.setenv("ASR_BATCH_CONFIG_DIR", str(tmp_path / "eigen"))
    assert computer.config_folder() == tmp_path / "eigen"


# --- purge through a journal ----------------------------------------------------------------------------------

KILL_AFTER_JOURNAL = ("import os, signal\n"
                      "import batch.register.store as store\n"
                      "store.carry_out = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
                      "from batch.cli import run; run()")
KILL_AFTER_TWO_DELETIONS = ("import os, signal, pathlib\n"
                            "real, done = pathlib.Path.unlink, []\n"
                            "def unlink(self, missing_ok=False):\n"
                            "    real(self, missing_ok=missing_ok); done.append(self)\n"
                            "    if len(done) == 2: os.kill(os.getpid(), signal.SIGKILL)\n"
                            "pathlib.Path.unlink = unlink\n"
                            "from batch.cli import run; run()")


def killed_purge(script: str) -> None:
    done = subprocess.run([sys.executable, "-c", script, "purge"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize("script", [KILL_AFTER_JOURNAL, KILL_AFTER_TWO_DELETIONS], ids=["after-journal", "halfway"])
def test_a_purge_killed_halfway_is_finished_by_the_next(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                        backend: Backend, script: str) -> None:
    out = tmp_path / "uit"
    assert run_cli("process", make_workbook(numbered_rows(4)), "-o", out, "--format", "html").exit_code == 0
    assert run_cli("mark", "confirmed", "1001", "1002", "1003", "--first-exchange", EXCHANGE).exit_code == 0
    killed_purge(script)
    # status never lists a file that is gone, nor forgets one that is there
    assert listed() == on_disk(out)
    assert backend.rows("select count(*) from documents where deleting is not null") == [(3,)]
    assert len(on_disk(out)) == (4 if script == KILL_AFTER_JOURNAL else 2)
    dry = run_cli("purge", "--dry-run")
    assert dry.exit_code == 0 and "3 documenten te verwijderen" in dry.stderr and listed() == on_disk(out)
    finished = run_cli("purge")
    assert finished.exit_code == 0, finished.output
    assert "3 documenten verwijderd" in finished.stderr
    if script != KILL_AFTER_JOURNAL:
        assert finished.stdout.count("een eerdere, onderbroken purge afgemaakt") == 2
    assert on_disk(out) == {"1004": [str(out / "aanmeldingen" / "1004-werkgever-1004.html")]}
    assert listed() == on_disk(out)
    assert backend.rows("select werkgeverscode from documents order by werkgeverscode") == [("1004",)]
    # one `deleted` event per document, written with the journal; none twice
    assert sorted(backend.rows("select werkgeverscode from events where event = 'deleted'")) == [
        ("1001",), ("1002",), ("1003",)]
    assert run_cli("purge").stderr.startswith("0 documenten verwijderd")


def test_a_document_written_again_after_a_killed_purge_is_taken_off_the_journal(make_workbook: WorkbookBuilder,
                                                                                tmp_path: Path,
                                                                                backend: Backend) -> None:
    out, workbook = tmp_path / "uit", make_workbook(numbered_rows(2))
    assert run_cli("process", workbook, "-o", out, "--format", "html").exit_code == 0
    assert run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE).exit_code == 0
    killed_purge(KILL_AFTER_JOURNAL)
    assert run_cli("mark", "submitted", "1001", "--opnieuw").exit_code == 0  # a.s.r. needs it again
    assert run_cli("process", workbook, "-o", out, "--format", "html").exit_code == 0
    assert backend.rows("select count(*) from documents where deleting is not null") == [(0,)]
    result = run_cli("purge")
    assert result.exit_code == 0 and "0 documenten verwijderd" in result.stderr
    assert listed() == on_disk(out) and "1001" in listed()


def test_a_file_purge_cannot_delete_is_taken_off_the_journal_with_an_event(make_workbook: WorkbookBuilder,
                                                                          tmp_path: Path, backend: Backend,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "uit"
    assert run_cli("process", make_workbook(numbered_rows(1)), "-o", out, "--format", "html").exit_code == 0
    assert run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE).exit_code == 0
    real = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.suffix == ".html":
            raise PermissionError(13, "Permission denied")
        real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = run_cli("purge")
    assert result.exit_code == 0 and "kan niet worden verwijderd (Permission denied)" in result.stdout
    assert backend.rows("select count(*) from documents where deleting is not null") == [(0,)]
    assert [e for (e,) in backend.rows("select event from events where werkgeverscode = '1001' order by id")][-2:] \
        == ["deleted", "not_deleted"]
    assert listed() == on_disk(out)


# --- --only-pending against one state -----------------------------------------------------------------------


def test_only_pending_withdraws_the_document_of_a_werkgever_a_colleague_marked_meanwhile(
        make_workbook: WorkbookBuilder, tmp_path: Path, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two real processes: this run, and a colleague's `mark submitted` (a process of its own) between the run's
    reading of the register and its recording."""
    workbook = make_workbook(numbered_rows(3))
    assert run_cli("process", workbook, "-o", tmp_path / "a", "--format", "html").exit_code == 0
    real = registry.Register.record

    def colleague_first(self: registry.Register, *args: Any, **kwargs: Any) -> dict[str, str]:
        done = subprocess.run([*AS_INSTALLED, "mark", "submitted", "1002"], capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return real(self, *args, **kwargs)

    monkeypatch.setattr(registry.Register, "record", colleague_first)
    out = tmp_path / "b"
    result = run_cli("process", workbook, "-o", out, "--format", "html", "--only-pending")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "aanmeldingen").iterdir()) == ["1001-werkgever-1001.html",
                                                                       "1003-werkgever-1003.html"]
    assert "Let op: 1002 intussen aangemeld of bevestigd door een collega; het document is weggehaald" in \
        result.stderr
    rows = {r["werkgeverscode"]: r for r in json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["rows"]}
    assert rows["1002"]["documents"] == [] and rows["1002"]["register_state"] == "submitted"
    assert rows["1002"]["register_note"] == "tijdens deze run aangemeld (door een collega): het document is weggehaald"
    assert "register_note" not in rows["1001"]
    overview = (out / "overzicht.html").read_text(encoding="utf-8")
    assert overview.count("het document is weggehaald") == 1
    assert backend.rows(f"select count(*) from documents where path like '{out}%' and werkgeverscode = '1002'") == \
        [(0,)]
    assert listed()["1002"] == [str(tmp_path / "a" / "aanmeldingen" / "1002-werkgever-1002.html")]
    assert {code: state for code, state in backend.rows("select werkgeverscode, state from werkgevers")} == {
        "1001": "new", "1002": "submitted", "1003": "new"}


# --- a run reads only its own werkgevers ---------------------------------------------------------------------


def test_a_run_reads_only_its_own_werkgevers_and_never_the_event_log(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("process", make_workbook(numbered_rows(5, start=5001), name="ander.xlsx"), "-o", tmp_path / "a",
                   "--format", "html").exit_code == 0
    statements: list[str] = []
    real = registry.Register.__init__

    def listening(self: registry.Register, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        import sqlalchemy as sa

        sa.event.listen(self._engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.split())))

    monkeypatch.setattr(registry.Register, "__init__", listening)
    workbook = make_workbook(numbered_rows(2))
    for _ in range(2):  # a first run, and a run that finds them known
        assert run_cli("process", workbook, "-o", tmp_path / "b", "--format", "html").exit_code == 0
    reads = [s for s in statements if s.upper().startswith("SELECT")]
    assert reads and not [s for s in reads if "FROM events" in s]
    for table in ("werkgevers", "documents"):
        scans = [s for s in reads if f"FROM {table}" in s]
        assert scans and all(f"{table}.werkgeverscode IN (" in s for s in scans), scans


# --- the upgrade from a real version-1 register --------------------------------------------------------------


def load_v1(backend: Backend, private_register: Path, tmp_path: Path) -> dict[str, Any]:
    """The version-1 fixture as this test's register, its documents moved under tmp_path/v1 (two output folders)
    and made, but 0412's PDFs (deleted by hand, or on a colleague's computer). Returns what version 1 holds, read
    past asr-batch."""
    if isinstance(backend, PostgresBackend):
        dump = (FIXTURES / "register-v1.postgres.sql").read_text(encoding="utf-8")
        with backend.server.connect(backend.database, user=CLERK) as conn:
            conn.execute(dump)  # as the clerk, so that the clerk owns the tables, as asr-batch would have made them
    else:
        shutil.copyfile(FIXTURES / "register-v1.sqlite", private_register)
    backend.execute(f"update documents set path = replace(path, '/tmp/v1/', '{tmp_path}/v1/')")
    for (path,) in backend.rows("select path from documents"):
        if not path.endswith(GONE):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text("document", encoding="utf-8")
    columns = "werkgeverscode, naam, state, first_seen, last_seen, submitted_on, confirmed_on, first_exchange, " \
              "source_file, source_row"
    werkgevers = {row[0]: [None if v is None else str(v) for v in row]
                  for row in backend.rows(f"select {columns} from werkgevers")}
    paths: dict[str, list[str]] = {}
    for code, path in backend.rows("select werkgeverscode, path from documents"):
        paths.setdefault(code, []).append(path)
    return {"werkgevers": werkgevers, "documents": paths, "events": backend.rows("select count(*) from events")}


def test_a_version_1_register_is_upgraded_and_shows_what_it_held(tmp_path: Path, backend: Backend,
                                                                 private_register: Path) -> None:
    before = load_v1(backend, private_register, tmp_path)
    data = status_json()
    shown = {e["werkgeverscode"]: [e["werkgeverscode"], e["naam"], e["state"], e["first_seen"], e["last_seen"],
                                   e["submitted_on"], e["confirmed_on"], e["first_exchange"], e["source"]["file"],
                                   e["source"]["row"]] for e in data["employers"]}
    assert {code: [None if v is None else str(v) for v in row] for code, row in shown.items()} == before["werkgevers"]
    assert data["counts"] == {"total": 10, "new": 7, "submitted": 1, "confirmed": 1, "changed": 1,
                              "queried": 0, "ended": 0}
    for employer in data["employers"]:
        recorded = sorted(before["documents"].get(employer["werkgeverscode"], []))
        assert len(recorded) == 4 and employer["documents"] == [p for p in recorded if not p.endswith(GONE)]
        # on a server a version-1 document that is not here may be on a colleague's computer: named, not lost
        assert employer["documents_elsewhere"] == [{"path": p, "computer": "onbekende computer"} for p in recorded
                                                   if p.endswith(GONE) and backend.name == "postgresql"]
    assert backend.rows("select value from meta where key = 'schema_version'") == [(str(schema.SCHEMA_VERSION),)]
    assert backend.rows("select distinct computer from documents") == [("",)]
    assert backend.rows("select detail from events where event = 'upgraded'") == [
        (f"schema 1 naar {schema.SCHEMA_VERSION}",)]
    if backend.name == "sqlite":
        backup = private_register.with_name("register.sqlite.schema-1.bak")
        assert backup.stat().st_mode & 0o777 == 0o600
        with sqlite3.connect(backup) as db:
            assert db.execute("select value from meta where key = 'schema_version'").fetchone() == ("1",)
            assert db.execute("select count(*) from documents").fetchone() == (40,)


def test_after_the_upgrade_version_1_documents_are_purged_here_and_named_when_elsewhere(
        tmp_path: Path, backend: Backend, private_register: Path) -> None:
    """1003 is confirmed: four documents of version 1, in two output folders. Those here are deleted (on a server
    they first become this computer's); the one gone is, on SQLite, this computer's and forgotten as version 1
    did; on a server perhaps on a colleague's computer: named and kept."""
    load_v1(backend, private_register, tmp_path)
    earlier, later = sorted((tmp_path / "v1").iterdir(), key=lambda folder: "later" in folder.name)
    for folder in (earlier, later):
        (folder / ".asr-batch-uitvoer").write_text("asr-batch 1\n", encoding="utf-8")
    gone = earlier / "aanmeldingen" / "1003-bakkerij-muller-b-v.pdf"
    gone.unlink()
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    deleted = [earlier / "aanmeldingen" / "1003-bakkerij-muller-b-v.html",
               *(later / "aanmeldingen" / f"1003-bakkerij-muller-b-v.{medium}" for medium in ("html", "pdf"))]
    assert sorted(result.stdout.splitlines()) == sorted(f"1003  {path}  (verwijderd)" for path in deleted)
    assert not any(path.exists() for path in deleted)
    left = backend.rows("select path, computer from documents where werkgeverscode = '1003'")
    if backend.name == "sqlite":
        assert left == [] and "niet op deze computer" not in result.stderr
    else:
        assert left == [(str(gone), "")]
        assert f"1003  {gone}  (op een onbekende computer (vastgelegd vóór versie 2 van het register))" in \
            result.stderr
    assert backend.rows("select count(*) from documents") == [(36 if backend.name == "sqlite" else 37,)]


def test_a_version_1_register_whose_upgrade_fails_stays_version_1(tmp_path: Path, backend: Backend,
                                                                  private_register: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    load_v1(backend, private_register, tmp_path)
    before = backend.snapshot()
    real = schema.UPGRADES[1]

    def then_fail(conn: Any) -> None:
        real(conn)  # every step of the upgrade done, the new documents table filled...
        conn.exec_driver_sql("update no_such_table set x = 1")  # ...and then a statement fails

    monkeypatch.setitem(schema.UPGRADES, 1, then_fail)
    result = run_cli("status", "--json")
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.output
    assert backend.snapshot() == before
    assert backend.rows("select value from meta where key = 'schema_version'") == [("1",)]
    assert "computer" not in backend.columns("documents")


def test_a_version_1_register_takes_a_new_run_into_the_same_folder_once(make_workbook: WorkbookBuilder,
                                                                         tmp_path: Path, backend: Backend,
                                                                         private_register: Path) -> None:
    """On SQLite a version-1 document is this computer's: a run that writes it again records it once. On a server
    it may be a colleague's: this computer records its own beside it, and status lists the file once."""
    load_v1(backend, private_register, tmp_path)
    sample = Path(__file__).resolve().parent.parent / "samples" / "werkgevers.xlsx"
    folder = next(f for f in (tmp_path / "v1").iterdir() if "later" not in f.name)
    shutil.rmtree(folder)
    result = run_cli("process", sample, "-o", folder)
    assert result.exit_code in (0, 1), result.output
    written = sorted(p for paths in on_disk(folder).values() for p in paths)
    recorded = backend.rows(f"select path, computer from documents where path like '{folder}%'")
    assert len(written) == 20 and sorted({path for path, _ in recorded}) == written
    assert sorted(p for paths in listed().values() for p in paths if p.startswith(str(folder))) == written
    if backend.name == "sqlite":  # this computer's already: not recorded a second time
        assert sorted(path for path, _ in recorded) == written
    else:  # perhaps a colleague's file at the same path: this computer's is a document of its own
        assert len(recorded) == 40 and len({computer for _, computer in recorded}) == 2


@pytest.mark.sqlite_only
def test_an_upgrade_whose_copy_cannot_be_made_leaves_version_1_alone(tmp_path: Path, private_register: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     backend: Backend) -> None:
    load_v1(backend, private_register, tmp_path)
    before = private_register.read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copy2", disk_full)
    result = run_cli("status")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"moet worden bijgewerkt naar schema {schema.SCHEMA_VERSION}, maar de kopie ernaast " \
           "('register.sqlite.schema-1.bak') kan niet worden gemaakt (No space left on device)" in result.stderr
    assert private_register.read_bytes() == before
