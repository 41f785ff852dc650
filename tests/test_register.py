"""The register: every command, state transition, refusal and fault, against a real SQLite file and a real
PostgreSQL server.

Each test has a register of its own (conftest's `backend`: an SQLite file, or a new database on the session's own
PostgreSQL server, through ASR_BATCH_REGISTER), and runs once on each unless it is marked sqlite_only (a test of
SQLite files as such). Workbooks are built in fixtures; commands run through the CLI as a clerk would run them,
or as real processes where several run at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import DEFAULT_OFFICE, EXCHANGE, SECRET, WorkbookBuilder, numbered_rows, run_cli, valid_row
from register_backends import Backend

from batch import register as registry
from batch.register import Location, engines, locate, open_register, schema

TODAY = date.today()
DGA_NAME = "Zwanette Dgaïsma-Unieknaam"
DGA_NUMBER = "918273"
ROW_CLIENT_ID = "eigen-client-id-55aa77"
ROW_SECRET = "Eigen-Geheim-Register-9c8d7e"
AS_INSTALLED = [sys.executable, "-c", "from batch.cli import run; run()"]

pytestmark = pytest.mark.usefixtures("backend")
NEXT = schema.SCHEMA_VERSION + 1  # a version after this one, to upgrade to


def status_json(*args: object) -> dict[str, object]:
    result = run_cli("status", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def states() -> dict[str, str]:
    return {e["werkgeverscode"]: e["state"] for e in status_json()["employers"]}  # type: ignore[attr-defined,index]


def employer(code: str) -> dict[str, object]:
    (found,) = [e for e in status_json()["employers"] if e["werkgeverscode"] == code]  # type: ignore[attr-defined]
    return found  # type: ignore[no-any-return]


def process(path: Path, out: Path, *args: object) -> None:
    result = run_cli("process", path, "-o", out, "--format", "html", *args)
    assert result.exit_code == 0, result.output


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def three(make_workbook: WorkbookBuilder, tmp_path: Path) -> Path:
    """Three werkgevers processed once: all `new`."""
    path = make_workbook(numbered_rows(3))
    process(path, tmp_path / "uit")
    return path


# --- where it lives -------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_location_is_option_then_environment_then_the_user_data_folder(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert locate(str(tmp_path / "a.sqlite")).path == tmp_path / "a.sqlite"
    assert locate(f"sqlite:///{tmp_path}/b.sqlite").path == tmp_path / "b.sqlite"
    monkeypatch.setenv("ASR_BATCH_REGISTER", str(tmp_path / "c.sqlite"))
    assert locate().path == tmp_path / "c.sqlite"
    monkeypatch.delenv("ASR_BATCH_REGISTER")
    assert locate().path == registry.default_path()
    assert registry.default_path().name == "register.sqlite" and "asr-batch" in str(registry.default_path())


def test_status_of_an_absent_register_is_empty_and_creates_nothing(backend: Backend) -> None:
    data = status_json()
    assert data == {"register": backend.shown, "employers": [],
                    "counts": {"total": 0, "new": 0, "submitted": 0, "confirmed": 0, "changed": 0,
                               "queried": 0, "ended": 0},
                    "waiting_over": {"days": 30, "count": 0}}
    text = run_cli("status")
    assert text.exit_code == 0 and "Het register is leeg" in text.stdout
    assert not backend.exists()


@pytest.mark.sqlite_only
def test_a_new_register_is_owner_only(three: Path, private_register: Path) -> None:
    assert private_register.stat().st_mode & 0o777 == 0o600


# --- process ------------------------------------------------------------------------------------------------


def test_process_records_valid_rows_as_new_with_their_documents(make_workbook: WorkbookBuilder,
                                                                 tmp_path: Path) -> None:
    rows = [*numbered_rows(2), valid_row(werkgeverscode="0087", naam="Eendracht"), valid_row(werkgeverscode="x1")]
    out = tmp_path / "uit"
    result = run_cli("process", make_workbook(rows, name="maart.xlsx"), "-o", out, "--format", "html")
    assert result.exit_code == 1  # the invalid row
    data = status_json()
    assert [e["werkgeverscode"] for e in data["employers"]] == ["0087", "1001", "1002"]  # type: ignore[index]
    assert data["counts"] == {"total": 3, "new": 3, "submitted": 0, "confirmed": 0, "changed": 0,
                              "queried": 0, "ended": 0}
    first = employer("0087")
    assert first["state"] == "new" and first["state_label"] == "nieuw" and first["naam"] == "Eendracht"
    assert first["first_seen"] == first["last_seen"] == TODAY.isoformat()
    assert first["source"] == {"file": "maart.xlsx", "row": 4}
    assert first["submitted_on"] is first["confirmed_on"] is first["first_exchange"] is None
    assert first["documents"] == [str(out / "aanmeldingen" / "0087-eendracht.html")]
    rows_json = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["rows"]
    assert [r.get("register_state") for r in rows_json] == ["new", "new", "new", None]
    overview = (out / "overzicht.html").read_text(encoding="utf-8")
    assert overview.count('data-register="new"') == 3 and "<th>Register</th>" in overview


def test_no_register_leaves_it_alone(make_workbook: WorkbookBuilder, tmp_path: Path, backend: Backend) -> None:
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(2)), out, "--no-register")
    assert not backend.exists()
    rows = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["rows"]
    assert all("register_state" not in r for r in rows)
    assert "<th>Register</th>" not in (out / "overzicht.html").read_text(encoding="utf-8")


def test_only_pending_with_no_register_is_a_usage_error(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit", "--only-pending",
                     "--no-register")
    assert result.exit_code == 2 and "--only-pending" in result.stderr and not (tmp_path / "uit").exists()


def test_only_pending_writes_documents_for_new_and_changed_only(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """The monthly routine: submitted and confirmed werkgevers whose data stayed the same get no new document."""
    path = make_workbook(numbered_rows(4))
    process(path, tmp_path / "nov")
    assert run_cli("mark", "submitted", "1001", "1002", "1003").exit_code == 0
    assert run_cli("mark", "confirmed", "1003", "--first-exchange", EXCHANGE).exit_code == 0
    changed = numbered_rows(4)
    changed[1]["verloning"] = "4-wekelijks"  # 1002 changed after its submission
    changed.append(valid_row(werkgeverscode="1005", naam="Nieuwkomer B.V."))
    out = tmp_path / "dec"
    result = run_cli("process", make_workbook(changed, name="december.xlsx"), "-o", out, "--format", "html",
                     "--only-pending")
    assert result.exit_code == 0, result.output
    assert sorted(p.name.split("-")[0] for p in (out / "aanmeldingen").iterdir()) == ["1002", "1004", "1005"]
    rows = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["rows"]
    assert [(r["werkgeverscode"], r["register_state"], bool(r["documents"])) for r in rows] == [
        ("1001", "submitted", False), ("1002", "changed", True), ("1003", "confirmed", False),
        ("1004", "new", True), ("1005", "new", True)]
    assert "2 werkgevers al aangemeld of bevestigd" in result.stderr
    assert states() == {"1001": "submitted", "1002": "changed", "1003": "confirmed", "1004": "new", "1005": "new"}


# --- state transitions ----------------------------------------------------------------------------------------


def test_submitted_then_changed_then_submitted_again(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    process(make_workbook(numbered_rows(1)), tmp_path / "a")
    run_cli("mark", "submitted", "1001", "--on", "2026-11-03")
    assert states() == {"1001": "submitted"}
    process(make_workbook(numbered_rows(1, dertiende_maand="Nee"), name="b.xlsx"), tmp_path / "b")
    assert states() == {"1001": "changed"}
    run_cli("mark", "submitted", "1001")
    assert states() == {"1001": "submitted"} and employer("1001")["submitted_on"] == TODAY.isoformat()


def test_data_that_changes_back_is_submitted_again(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """A -> submitted -> B (changed) -> A: the register compares with the data at the submission."""
    first = make_workbook(numbered_rows(1))
    process(first, tmp_path / "a")
    run_cli("mark", "submitted", "1001")
    process(make_workbook(numbered_rows(1, verloning="4-wekelijks"), name="b.xlsx"), tmp_path / "b")
    assert states() == {"1001": "changed"}
    process(first, tmp_path / "c")
    assert states() == {"1001": "submitted"}


def test_a_new_client_secret_marks_every_werkgever_that_uses_it_changed(make_workbook: WorkbookBuilder,
                                                                          tmp_path: Path) -> None:
    process(make_workbook(numbered_rows(3)), tmp_path / "a")
    run_cli("mark", "submitted", "1001", "1002")
    new_office = {**DEFAULT_OFFICE, "client_secret": "Vernieuwd-Geheim-77aa66"}
    process(make_workbook(numbered_rows(3), name="b.xlsx", office=new_office), tmp_path / "b")
    assert states() == {"1001": "changed", "1002": "changed", "1003": "new"}


def test_a_new_name_alone_changes_nothing_a_s_r_needs(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    process(make_workbook(numbered_rows(1)), tmp_path / "a")
    run_cli("mark", "submitted", "1001")
    process(make_workbook(numbered_rows(1, naam="Nieuwe Naam B.V."), name="b.xlsx"), tmp_path / "b")
    assert states() == {"1001": "submitted"} and employer("1001")["naam"] == "Nieuwe Naam B.V."


def test_confirming_without_submitting_counts_as_submitted_that_day(three: Path) -> None:
    result = run_cli("mark", "confirmed", "1002", "--first-exchange", "15-12-2026", "--on", "20-11-2026")
    assert result.exit_code == 0, result.output
    found = employer("1002")
    assert (found["state"], found["submitted_on"], found["confirmed_on"], found["first_exchange"]) == (
        "confirmed", "2026-11-20", "2026-11-20", "2026-12-15")


def test_submitting_a_confirmed_werkgever_keeps_the_confirmation_dates(three: Path) -> None:
    run_cli("mark", "submitted", "1001", "--on", "2026-11-01")
    run_cli("mark", "confirmed", "1001", "--on", "2026-11-10", "--first-exchange", "2026-12-01")
    run_cli("mark", "submitted", "1001", "--on", "2026-11-20", "--opnieuw")  # an explicit choice since issue 25
    found = employer("1001")
    assert (found["state"], found["submitted_on"], found["confirmed_on"], found["first_exchange"]) == (
        "submitted", "2026-11-20", "2026-11-10", "2026-12-01")


def test_a_confirmed_werkgever_whose_data_changes_back_is_confirmed_again(make_workbook: WorkbookBuilder,
                                                                          tmp_path: Path) -> None:
    first = make_workbook(numbered_rows(1))
    process(first, tmp_path / "a")
    run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE)
    process(make_workbook(numbered_rows(1, dga="Ja", dga_naam="A. B", dga_medewerkersnummer="7"), name="b.xlsx"),
            tmp_path / "b")
    assert states() == {"1001": "changed"}
    process(first, tmp_path / "c")
    assert states() == {"1001": "confirmed"}


# --- mark and forget: all or nothing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("mark", "submitted", "1001", "9999"), "9999"),
        (("mark", "submitted", "1001", "--on", "31-02-2026"), "31-02-2026"),
        (("mark", "submitted", "1001", "--on", "gisteren"), "gisteren"),
        (("mark", "confirmed", "1001"), "--first-exchange"),
        (("mark", "confirmed", "1001", "--first-exchange", "2026-13-01"), "2026-13-01"),
        (("mark", "submitted", "1001", "--first-exchange", "2026-12-01"), "--first-exchange"),
        (("forget", "1001", "9999"), "9999"),
    ],
)
def test_a_refused_mark_or_forget_changes_nothing(three: Path, backend: Backend, args: tuple[str, ...],
                                                   message: str) -> None:
    before = backend.snapshot()
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Oplossing:" in result.stderr and "Traceback" not in result.output
    assert backend.snapshot() == before


def test_an_unknown_code_without_its_leading_zeros_gets_a_hint(make_workbook: WorkbookBuilder,
                                                                tmp_path: Path) -> None:
    process(make_workbook([valid_row(werkgeverscode="0087")]), tmp_path / "uit")
    result = run_cli("mark", "submitted", "87")
    assert result.exit_code == 2 and "87 (bedoelt u 0087?)" in result.stderr


def test_mark_without_a_register_says_to_process_first(backend: Backend) -> None:
    result = run_cli("mark", "submitted", "1001")
    assert result.exit_code == 2 and "asr-batch process" in result.stderr and not backend.exists()


def test_forget_removes_the_werkgever_and_the_event_log_keeps_it(three: Path, backend: Backend) -> None:
    result = run_cli("forget", "1002")
    assert result.exit_code == 0, result.output
    assert states() == {"1001": "new", "1003": "new"}
    events = backend.rows("select werkgeverscode, event from events where werkgeverscode = '1002'")
    assert ("1002", "new") in events and ("1002", "forgotten") in events


def test_every_change_is_in_the_event_log_with_who_and_when(three: Path, backend: Backend) -> None:
    run_cli("mark", "submitted", "1001")
    rows = backend.rows('select at, "user", event, detail from events where werkgeverscode = \'1001\' order by id')
    assert [r[2] for r in rows] == ["new", "submitted"]
    assert all(r[0].startswith(TODAY.isoformat()) and r[1] == registry._user() for r in rows)
    (run,) = backend.rows("select event, detail from events where werkgeverscode is null and event = 'seen'")
    assert run[1].startswith("werkgevers.xlsx: 3 geldige werkgevers; documenten voor 3 in ")


# --- status ---------------------------------------------------------------------------------------------------


def test_status_counts_the_whole_register_and_filters_the_list(three: Path) -> None:
    run_cli("mark", "submitted", "1002", "--on", (TODAY - timedelta(days=9)).isoformat())
    data = status_json("--state", "submitted")
    assert data["counts"] == {"total": 3, "new": 2, "submitted": 1, "confirmed": 0, "changed": 0,
                              "queried": 0, "ended": 0}
    assert [e["werkgeverscode"] for e in data["employers"]] == ["1002"]  # type: ignore[index]
    text = run_cli("status")
    assert text.exit_code == 0
    assert "3 werkgevers in het register: 2 nieuw, 1 aangemeld, 0 bevestigd, 0 gewijzigd" in text.stdout
    line = next(line for line in text.stdout.splitlines() if line.startswith("1002"))
    assert "aangemeld" in line and " 9" in line  # days waiting


def test_status_lists_only_documents_that_still_exist(three: Path, tmp_path: Path) -> None:
    document = tmp_path / "uit" / "aanmeldingen" / "1001-werkgever-1001.html"
    assert employer("1001")["documents"] == [str(document)]
    document.unlink()
    assert employer("1001")["documents"] == []


def test_status_xlsx_is_plain_text_and_owner_only(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    process(make_workbook([valid_row(naam="@SUM(1+1) Bakkerij")]), tmp_path / "uit")
    target = tmp_path / "register.xlsx"
    result = run_cli("status", "--xlsx", target)
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o600
    sheet = openpyxl.load_workbook(target)["Register"]
    assert [c.value for c in sheet[1]][:3] == ["Werkgeverscode", "Naam werkgever", "Status"]
    name = sheet["B2"]
    assert name.value == "@SUM(1+1) Bakkerij" and name.data_type == "s" and name.quotePrefix
    assert [c.value for c in sheet[2]][2] == "nieuw"


# --- purge ----------------------------------------------------------------------------------------------------


def test_purge_deletes_the_documents_of_confirmed_werkgevers_only(make_workbook: WorkbookBuilder,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "uit"
    run_cli("process", make_workbook(numbered_rows(3)), "-o", out)  # HTML and PDF
    run_cli("mark", "confirmed", "1001", "1003", "--first-exchange", EXCHANGE)
    dry = run_cli("purge", "--dry-run")
    assert dry.exit_code == 0 and "4 documenten te verwijderen" in dry.stderr
    assert len(list((out / "aanmeldingen").iterdir())) == 6
    done = run_cli("purge")
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (out / "aanmeldingen").iterdir()) == [
        "1002-werkgever-1002.html", "1002-werkgever-1002.pdf"]
    assert done.stdout.count("(verwijderd)") == 4 and "4 documenten verwijderd" in done.stderr
    assert employer("1001")["documents"] == [] and employer("1001")["state"] == "confirmed"
    again = run_cli("purge")
    assert again.exit_code == 0 and "0 documenten verwijderd" in again.stderr


def test_purge_leaves_a_document_that_left_the_output_folder(three: Path, tmp_path: Path) -> None:
    run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE)
    (tmp_path / "uit" / ".asr-batch-uitvoer").unlink()
    (tmp_path / "uit" / "resultaat.json").unlink()  # no longer recognisably an asr-batch output folder
    result = run_cli("purge")
    assert result.exit_code == 0 and "overgeslagen" in result.stdout
    assert (tmp_path / "uit" / "aanmeldingen" / "1001-werkgever-1001.html").exists()


def test_purge_keeps_a_document_not_on_this_computer_only_on_a_shared_register(three: Path, tmp_path: Path,
                                                                                backend: Backend) -> None:
    """A document not found here is gone, for an SQLite register (one computer's). A register on a server is shared:
    the document may be on the colleague's computer that made it, and purge there must still find it."""
    run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE)
    out, colleague = tmp_path / "uit", tmp_path / "op-een-andere-computer"
    document = out / "aanmeldingen" / "1001-werkgever-1001.html"
    out.rename(colleague)
    result = run_cli("purge")
    assert result.exit_code == 0 and "0 documenten verwijderd" in result.stderr and result.stdout == ""
    kept = backend.rows("select path from documents where werkgeverscode = '1001'")
    if backend.name == "sqlite":
        assert kept == [] and "niet op deze computer" not in result.stderr
        return
    assert kept == [(str(document),)]
    assert "1 document van bevestigde werkgevers staat niet op deze computer" in result.stderr
    colleague.rename(out)  # the colleague runs purge, where the document is
    again = run_cli("purge")
    assert again.exit_code == 0 and "1 document verwijderd" in again.stderr and not document.exists()
    assert backend.rows("select path from documents where werkgeverscode = '1001'") == []


# --- what it never holds ------------------------------------------------------------------------------------


def test_the_register_holds_no_secret_client_id_or_dga_data(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                            backend: Backend) -> None:
    rows = [valid_row(client_id=ROW_CLIENT_ID, client_secret=ROW_SECRET, dga="Ja", dga_naam=DGA_NAME,
                      dga_medewerkersnummer=DGA_NUMBER)]
    process(make_workbook(rows), tmp_path / "uit")
    run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE)
    raw = backend.everything()
    for forbidden in (ROW_CLIENT_ID, ROW_SECRET, SECRET, DGA_NAME, DGA_NUMBER, "Dgaïsma"):
        for encoding in ("utf-8", "utf-16-le"):
            assert forbidden.encode(encoding) not in raw, forbidden


# --- faults ---------------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_register_is_refused_and_left_alone(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                 private_register: Path) -> None:
    private_register.write_bytes(b"Dit is een notitie, geen database.\n" * 20)
    before = sha(private_register)
    for args in (("status",), ("mark", "submitted", "1001"),
                 ("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit")):
        result = run_cli(*args)
        assert result.exit_code == 2, args
        assert "geen asr-batch-register" in result.stderr and "Traceback" not in result.output
    assert sha(private_register) == before and not (tmp_path / "uit").exists()


@pytest.mark.sqlite_only
def test_an_unusable_register_found_once_the_documents_are_under_way_leaves_nothing(
        make_workbook: WorkbookBuilder, tmp_path: Path, private_register: Path) -> None:
    """The register is opened while the first documents are being made (pipeline._RunRegister): when it cannot be
    used, the early documents and their staging folder go with the run, and the register stays as it was."""
    private_register.write_bytes(b"Dit is een notitie, geen database.\n" * 20)
    before, workbook = sha(private_register), make_workbook(numbered_rows(30))  # enough PDFs for an early pool
    entries = sorted(tmp_path.iterdir())
    result = run_cli("process", workbook, "-o", tmp_path / "uit", "-j", "2")
    assert result.exit_code == 2 and "geen asr-batch-register" in result.stderr, result.output
    assert sha(private_register) == before and sorted(tmp_path.iterdir()) == entries


def test_another_database_is_refused_and_left_alone(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                    backend: Backend) -> None:
    backend.execute("create table klanten (naam text)")
    before = backend.snapshot()
    for args in (("status",), ("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit")):
        result = run_cli(*args)
        assert result.exit_code == 2 and "geen asr-batch-register" in result.stderr, args
    assert backend.snapshot() == before and not (tmp_path / "uit").exists()


def test_a_register_of_a_newer_version_is_refused_and_left_alone(three: Path, backend: Backend) -> None:
    backend.execute("update meta set value = '99' where key = 'schema_version'")
    before = backend.snapshot()
    for args in (("status",), ("mark", "submitted", "1001")):
        result = run_cli(*args)
        assert result.exit_code == 2 and "nieuwere versie" in result.stderr and "pip install --upgrade" in result.stderr
    assert backend.snapshot() == before


@pytest.mark.sqlite_only
def test_an_older_register_is_upgraded_in_place_after_a_copy(three: Path, private_register: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = private_register.read_bytes()

    def add_a_column(conn: object) -> None:
        conn.exec_driver_sql("alter table werkgevers add column notitie text")  # type: ignore[attr-defined]

    monkeypatch.setattr(schema, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(schema.UPGRADES, NEXT - 1, add_a_column)
    assert states() == {"1001": "new", "1002": "new", "1003": "new"}
    backup = private_register.with_name(f"register.sqlite.schema-{NEXT - 1}.bak")
    assert backup.read_bytes() == before and backup.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(private_register) as db:
        assert db.execute("select value from meta where key = 'schema_version'").fetchone() == (str(NEXT),)
        assert "notitie" in [c[1] for c in db.execute("pragma table_info(werkgevers)")]


def test_an_older_register_is_upgraded_in_place(three: Path, backend: Backend,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def add_a_column(conn: object) -> None:
        conn.exec_driver_sql("alter table werkgevers add column notitie text")  # type: ignore[attr-defined]

    monkeypatch.setattr(schema, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(schema.UPGRADES, NEXT - 1, add_a_column)
    assert states() == {"1001": "new", "1002": "new", "1003": "new"}
    assert backend.rows("select value from meta where key = 'schema_version'") == [(str(NEXT),)]
    assert "notitie" in backend.columns("werkgevers")
    assert backend.rows("select detail from events where event = 'upgraded'") == [(f"schema {NEXT - 1} naar {NEXT}",)]
    assert run_cli("mark", "submitted", "1001").exit_code == 0 and states()["1001"] == "submitted"


def test_an_upgrade_that_fails_halfway_leaves_the_register_as_it_was(three: Path, backend: Backend,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """No file to copy on a server: the upgrade is one transaction (DDL included), on SQLite as on PostgreSQL."""
    before = backend.snapshot()

    def add_a_column_then_fail(conn: object) -> None:
        conn.exec_driver_sql("alter table werkgevers add column notitie text")  # type: ignore[attr-defined]
        conn.exec_driver_sql("update no_such_table set x = 1")  # type: ignore[attr-defined]

    monkeypatch.setattr(schema, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(schema.UPGRADES, NEXT - 1, add_a_column_then_fail)
    result = run_cli("status")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "notitie" not in backend.columns("werkgevers") and backend.snapshot() == before


def test_a_locked_register_is_exit_2_after_the_timeout(three: Path, backend: Backend,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "LOCK_TIMEOUT", 0.3)
    before = backend.snapshot()
    with backend.hold_lock():
        result = run_cli("mark", "submitted", "1001")
    assert result.exit_code == 2 and "bezet" in result.stderr and "niets gewijzigd" in result.stderr
    assert backend.snapshot() == before and states()["1001"] == "new"


@pytest.mark.sqlite_only
def test_a_register_that_cannot_be_created_is_exit_2(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    blocker = tmp_path / "bestand"
    blocker.write_text("x")
    result = run_cli("process", make_workbook(numbered_rows(1)), "-o", tmp_path / "uit",
                     "--register", blocker / "register.sqlite")
    assert result.exit_code == 2 and "kan niet worden aangemaakt" in result.stderr
    assert not (tmp_path / "uit").exists()


@pytest.mark.sqlite_only
def test_a_read_only_register_is_exit_2_and_unchanged(three: Path, private_register: Path) -> None:
    before = sha(private_register)
    read_only = f"sqlite:///file:{private_register}?mode=ro&uri=true"
    assert status_json("--register", read_only)["counts"]["total"] == 3  # type: ignore[index]
    result = run_cli("mark", "submitted", "1001", "--register", read_only)
    assert result.exit_code == 2 and "alleen-lezen" in result.stderr
    assert sha(private_register) == before


def test_a_run_that_fails_at_the_swap_leaves_the_register_as_it_was(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    process(make_workbook(numbered_rows(1)), tmp_path / "a")
    before = status_json()

    def swap_fails(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("batch.pipeline.swap_in", swap_fails)
    result = run_cli("process", make_workbook(numbered_rows(3), name="b.xlsx"), "-o", tmp_path / "b",
                     "--format", "html")
    assert result.exit_code == 2 and "No space left" in result.stderr
    assert status_json() == before


def test_an_interrupted_process_leaves_the_register_as_it_was(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                              backend: Backend) -> None:
    """A real process, stopped with SIGTERM while it makes its documents."""
    process(make_workbook(numbered_rows(1)), tmp_path / "a")
    before = backend.snapshot()
    source = make_workbook(numbered_rows(400), name="groot.xlsx")
    proc = subprocess.Popen([*AS_INSTALLED, "process", str(source), "-o", str(tmp_path / "b"), "--format", "pdf",
                             "-j", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(tmp_path.glob(".b.*.bezig/aanmeldingen/*.pdf")):
        time.sleep(0.05)
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert backend.snapshot() == before


# --- two clerks at once -----------------------------------------------------------------------------------


def test_commands_at_once_all_land(make_workbook: WorkbookBuilder, tmp_path: Path, backend: Backend) -> None:
    """Four real processes mark different werkgevers while a fifth processes a workbook: nothing is lost."""
    process(make_workbook(numbered_rows(8)), tmp_path / "a")
    source = make_workbook(numbered_rows(12), name="later.xlsx")
    commands = [[*AS_INSTALLED, "mark", "submitted", f"{1001 + 2 * i}", f"{1002 + 2 * i}"] for i in range(4)]
    commands.append([*AS_INSTALLED, "process", str(source), "-o", str(tmp_path / "b"), "--format", "html"])
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
    found = states()
    assert [found[str(code)] for code in range(1001, 1009)] == ["submitted"] * 8
    assert [found[str(code)] for code in range(1009, 1013)] == ["new"] * 4
    assert backend.rows("select count(*) from events where event = 'submitted'") == [(8,)]


def test_first_runs_at_once_create_one_register(backend: Backend) -> None:
    """Two clerks start on a new register at the same moment: the tables and the key are made once."""
    barrier = threading.Barrier(4)
    opened: list[registry.Register | None] = []
    failures: list[BaseException] = []

    def first_run() -> None:
        try:
            barrier.wait()
            opened.append(open_register(locate(), create=True))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=first_run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == [] and len(opened) == 4 and all(register is not None for register in opened)
    assert len({register.key for register in opened if register is not None}) == 1
    for register in opened:
        if register is not None:
            register.close()
    assert backend.rows("select count(*) from events where event = 'created'") == [(1,)]


def test_the_timeout_comes_from_the_environment(three: Path, backend: Backend) -> None:
    with backend.hold_lock():
        started = time.monotonic()
        done = subprocess.run([*AS_INSTALLED, "mark", "submitted", "1001"], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "ASR_BATCH_REGISTER_TIMEOUT": "0.5"}, check=False)
        waited = time.monotonic() - started
    assert done.returncode == 2 and "bezet" in done.stderr and "al 0.5 seconden" in done.stderr, done.stderr
    assert waited < 30 and states()["1001"] == "new"


def test_a_team_at_once_loses_nothing_and_decides_nothing_on_a_stale_read(make_workbook: WorkbookBuilder,
                                                                           tmp_path: Path, backend: Backend) -> None:
    """Two clerks marking (three commands each), one processing a workbook whose data changed for werkgevers being
    marked, another purging: all at once, as real processes. Every command lands, and the register ends as if they
    had run one after the other in the order of their events: a state decided on a reading taken before another
    command wrote would show here (1005 `new` again, a confirmed werkgever's document left behind)."""
    first, second = tmp_path / "a", tmp_path / "b"
    process(make_workbook(numbered_rows(12)), first)
    assert run_cli("mark", "confirmed", "1001", "1002", "1003", "1004", "--first-exchange", EXCHANGE).exit_code == 0
    rows = numbered_rows(12)
    rows[4]["verloning"] = "4-wekelijks"  # 1005, which the first clerk marks submitted meanwhile
    rows[6]["dertiende_maand"] = "Nee"  # 1007, which the second clerk confirms meanwhile
    later = make_workbook([*rows, valid_row(werkgeverscode="1013", naam="Nieuwkomer")], name="later.xlsx")

    def commands(*each: list[str]) -> list[str]:  # one actor: its commands one after the other
        return [" && ".join(shlex.join([*AS_INSTALLED, *args]) for args in each)]

    team = [
        commands(["mark", "submitted", "1005"], ["mark", "submitted", "1006"], ["mark", "submitted", "1009"]),
        commands(["mark", "confirmed", "1007", "--first-exchange", EXCHANGE],
                 ["mark", "confirmed", "1008", "--first-exchange", EXCHANGE], ["mark", "submitted", "1010"]),
        commands(["process", str(later), "-o", str(second), "--format", "html"]),
        commands(["purge"]),
    ]
    running = [subprocess.Popen(["sh", "-c", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for command in team]
    for proc in running:
        _, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr

    events = backend.rows("select id, werkgeverscode, event, detail from events order by id")

    def at(code: str | None, event: str, detail: str = "") -> int:
        (found,) = [i for i, c, e, d in events if c == code and e == event and (d or "").startswith(detail)]
        return int(found)

    recorded = at(None, "seen", "later.xlsx")  # the moment `process` recorded its run
    purged = min(i for i, _, e, _ in events if e == "deleted")  # and `purge` deleted (the 4 confirmed first)
    assert [e for _, _, e, _ in events].count("submitted") == 4  # no event lost
    assert [e for _, _, e, _ in events].count("confirmed") == 6
    found = states()
    expected = {**{str(c): "confirmed" for c in range(1001, 1005)}, "1006": "submitted", "1008": "confirmed",
                "1009": "submitted", "1010": "submitted", "1011": "new", "1012": "new", "1013": "new",
                # marked before the run recorded: its data changed since; marked after: submitted with the new data
                "1005": "changed" if at("1005", "submitted") < recorded else "submitted",
                "1007": "changed" if at("1007", "confirmed") < recorded else "confirmed"}
    assert found == expected
    # The documents the register lists are exactly those on disk: none deleted without a trace, none forgotten.
    on_disk = {str(p) for p in (*first.glob("aanmeldingen/*"), *second.glob("aanmeldingen/*"))}
    assert {path for (path,) in backend.rows("select path from documents")} == on_disk
    # purge deleted every document of a werkgever confirmed before it, in every folder recorded before it.
    for code in ("1001", "1002", "1003", "1004", "1008"):
        confirmed_first = code != "1008" or at("1008", "confirmed") < purged
        for folder, written in ((first, 0), (second, recorded)):
            document = folder / "aanmeldingen" / f"{code}-werkgever-{code}.html"
            assert document.exists() == (not confirmed_first or written > purged), document


@pytest.mark.sqlite_only
def test_open_register_reads_without_creating(tmp_path: Path) -> None:
    location = Location(locate(str(tmp_path / "nieuw.sqlite")).url, tmp_path / "nieuw.sqlite")
    assert open_register(location, create=False) is None and not (tmp_path / "nieuw.sqlite").exists()
    assert os.listdir(tmp_path) == []


def test_open_register_of_an_empty_register_creates_nothing(backend: Backend) -> None:
    assert open_register(locate(), create=False) is None and not backend.exists()


def test_a_mark_between_reading_and_recording_is_not_lost(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """process reads the register before its documents and records after them; a clerk may mark in between."""
    from batch.pipeline import check

    process(make_workbook(numbered_rows(2)), tmp_path / "a")
    result = check(make_workbook(numbered_rows(2), name="b.xlsx"))
    opened = open_register(locate(), create=False)
    assert opened is not None
    try:
        plan = opened.plan((r for r in result.rows if r.status == "valid"), tmp_path / "b" / "aanmeldingen")
        assert plan.states == {"1001": "new", "1002": "new"}
        assert run_cli("mark", "submitted", "1001").exit_code == 0  # another clerk, meanwhile
        assert opened.record(result, plan, tmp_path / "b" / "aanmeldingen") == {"1001": "submitted", "1002": "new"}
    finally:
        opened.close()
    assert states() == {"1001": "submitted", "1002": "new"}


def test_a_mark_while_process_records_waits_for_it_and_is_not_overwritten(make_workbook: WorkbookBuilder,
                                                                           tmp_path: Path, backend: Backend) -> None:
    """The writers take turns: a mark that comes while process records its run (held here at the swap of its
    output folder, after it has decided what to write) waits until the run is committed, then reads it: it marks
    the data of that run submitted, not the data it would have read before (a stale read that a row lock alone,
    taken when the mark writes, would not prevent)."""
    from batch.pipeline import check

    process(make_workbook(numbered_rows(2)), tmp_path / "a")
    changed = make_workbook(numbered_rows(2, verloning="4-wekelijks"), name="b.xlsx")
    result = check(changed)
    folder = tmp_path / "b" / "aanmeldingen"
    recording, opened = open_register(locate(), create=False), open_register(locate(), create=False)
    assert recording is not None and opened is not None
    in_swap, release = threading.Event(), threading.Event()
    recorded: list[dict[str, str]] = []
    marked: list[list[str]] = []

    def hold_the_swap(states: dict[str, str]) -> None:
        in_swap.set()
        release.wait(30)

    plan = recording.plan((r for r in result.rows if r.status == "valid"), folder)
    recorder = threading.Thread(target=lambda: recorded.append(recording.record(result, plan, folder,
                                                                                then=hold_the_swap)))
    marker = threading.Thread(target=lambda: marked.append(opened.mark_submitted(["1001"], TODAY)))
    try:
        recorder.start()
        assert in_swap.wait(30)
        marker.start()
        marker.join(timeout=1.0)
        assert marker.is_alive(), "the mark did not wait for the recording"
        release.set()
        recorder.join(timeout=30)
        marker.join(timeout=30)
    finally:
        release.set()
        recording.close()
        opened.close()
    assert recorded == [{"1001": "new", "1002": "new"}] and marked == [["1001"]]
    assert states() == {"1001": "submitted", "1002": "new"}
    order = [(c, e) for _, c, e in backend.rows("select id, werkgeverscode, event from events order by id")]
    assert order.index((None, "seen")) < order.index(("1001", "submitted"))
    process(changed, tmp_path / "c")  # the data that was submitted: nothing changed since
    assert states() == {"1001": "submitted", "1002": "new"}


# --- found in review ------------------------------------------------------------------------------------------


def test_a_command_that_holds_the_register_stops_process_before_the_swap(make_workbook: WorkbookBuilder,
                                                                         tmp_path: Path, backend: Backend,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Another clerk's command that keeps writing beyond the timeout: the output folder and the register change
    together or not at all."""
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(1)), out)
    before_output = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    before = backend.snapshot()
    monkeypatch.setattr(engines, "LOCK_TIMEOUT", 0.3)
    with backend.hold_lock():
        result = run_cli("process", make_workbook(numbered_rows(2), name="b.xlsx"), "-o", out, "--format", "html")
    assert result.exit_code == 2 and "bezet" in result.stderr
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before_output
    assert backend.snapshot() == before


@pytest.mark.sqlite_only
def test_a_reader_that_holds_the_register_stops_process_before_the_swap(make_workbook: WorkbookBuilder,
                                                                        tmp_path: Path, private_register: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The output folder and the register change together or not at all, even when a reader (a database viewer
    left open) would keep the commit waiting."""
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(1)), out)
    before_output = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    before = sha(private_register)
    monkeypatch.setattr(engines, "LOCK_TIMEOUT", 0.3)
    reader = sqlite3.connect(private_register, isolation_level=None)
    reader.execute("begin")
    reader.execute("select count(*) from werkgevers").fetchone()
    try:
        result = run_cli("process", make_workbook(numbered_rows(2), name="b.xlsx"), "-o", out, "--format", "html")
    finally:
        reader.execute("rollback")
        reader.close()
    assert result.exit_code == 2 and "bezet" in result.stderr
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before_output
    assert sha(private_register) == before


def test_purge_reports_a_document_it_cannot_delete_and_keeps_it_on_the_list(three: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli("mark", "confirmed", "1001", "1002", "--first-exchange", EXCHANGE)
    locked = tmp_path / "uit" / "aanmeldingen" / "1001-werkgever-1001.html"
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    assert "kan niet worden verwijderd" in result.stdout and "1 document verwijderd" in result.stderr
    assert locked.exists() and employer("1001")["documents"] == [str(locked)]
    assert employer("1002")["documents"] == []


def test_purge_does_not_follow_a_symbolic_link_out_of_the_output_folder(three: Path, tmp_path: Path) -> None:
    run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE)
    elsewhere = tmp_path / "elders" / "aanmeldingen"
    elsewhere.mkdir(parents=True)
    victim = elsewhere / "1001-werkgever-1001.html"
    victim.write_text("iets anders", encoding="utf-8")
    documents = tmp_path / "uit" / "aanmeldingen"
    documents.rename(tmp_path / "weg")
    documents.symlink_to(elsewhere, target_is_directory=True)
    result = run_cli("purge")
    assert result.exit_code == 0 and "overgeslagen" in result.stdout
    assert victim.read_text(encoding="utf-8") == "iets anders"


def test_purge_dry_run_changes_nothing(three: Path, backend: Backend) -> None:
    run_cli("mark", "confirmed", "1001", "--first-exchange", EXCHANGE)
    before = backend.snapshot()
    result = run_cli("purge", "--dry-run")
    assert result.exit_code == 0 and "1 document te verwijderen" in result.stderr
    assert backend.snapshot() == before


def test_forget_names_the_documents_it_leaves_behind(three: Path, tmp_path: Path) -> None:
    result = run_cli("forget", "1001")
    assert result.exit_code == 0
    assert "Client Secret" in result.stderr and str(tmp_path / "uit" / "aanmeldingen" / "1001-werkgever-1001.html") in \
        result.stderr


def test_status_xlsx_does_not_overwrite_a_workbook_without_force(three: Path, tmp_path: Path) -> None:
    target = tmp_path / "mijn-werkgevers.xlsx"
    target.write_bytes(b"van het kantoor")
    refused = run_cli("status", "--xlsx", target)
    assert refused.exit_code == 2 and "--force" in refused.stderr and target.read_bytes() == b"van het kantoor"
    assert run_cli("status", "--xlsx", target, "--force").exit_code == 0
    workbook = openpyxl.load_workbook(target)
    assert [ws.title for ws in workbook.worksheets if ws.sheet_state == "visible"] == ["Register"]


@pytest.mark.parametrize("value", ["bevestigd", "confirmed", "Bevestigd"])
def test_status_state_takes_the_dutch_label_too(three: Path, value: str) -> None:
    run_cli("mark", "confirmed", "1002", "--first-exchange", EXCHANGE)
    assert [e["werkgeverscode"] for e in status_json("--state", value)["employers"]] == ["1002"]  # type: ignore[index]


@pytest.mark.sqlite_only
def test_an_unknown_state_is_a_dutch_usage_error() -> None:
    result = run_cli("status", "--state", "klaar")
    assert result.exit_code == 2 and "bevestigd" in result.stderr and "not one of" not in result.stderr


@pytest.mark.sqlite_only
def test_a_malformed_url_is_a_dutch_exit_2() -> None:
    result = run_cli("status", "--register", "postgresql://u:p@db:abc/reg")
    assert result.exit_code == 2 and "onverwachte fout" not in result.stderr and "geen geldig adres" in result.stderr


def test_a_date_in_the_future_is_refused(three: Path) -> None:
    result = run_cli("mark", "submitted", "1001", "--on", (TODAY + timedelta(days=3)).isoformat())
    assert result.exit_code == 2 and "toekomst" in result.stderr and states()["1001"] == "new"


def test_process_of_a_missing_workbook_creates_no_register(tmp_path: Path, backend: Backend) -> None:
    result = run_cli("process", tmp_path / "bestaat-niet.xlsx", "-o", tmp_path / "uit")
    assert result.exit_code == 2 and not backend.exists()


def test_overview_says_why_a_werkgever_got_no_document(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    path = make_workbook(numbered_rows(2))
    process(path, tmp_path / "a")
    run_cli("mark", "submitted", "1001")
    process(path, tmp_path / "b", "--only-pending")
    overview = (tmp_path / "b" / "overzicht.html").read_text(encoding="utf-8")
    assert overview.count("geen nieuw document") == 1 and "al aangemeld: geen nieuw document" in overview


def test_the_reports_say_what_the_register_says_after_a_mark_during_the_run(make_workbook: WorkbookBuilder,
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_workbook(numbered_rows(2))
    process(path, tmp_path / "a")
    real = registry.Register.record

    def mark_first(self: registry.Register, *args: object, **kwargs: object) -> dict[str, str]:
        assert run_cli("mark", "submitted", "1001").exit_code == 0  # another clerk, while the documents are made
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(registry.Register, "record", mark_first)
    out = tmp_path / "b"
    process(path, out)
    rows = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["rows"]
    assert [r["register_state"] for r in rows] == ["submitted", "new"]
    assert 'data-register="submitted"' in (out / "overzicht.html").read_text(encoding="utf-8")


def test_a_second_run_into_the_same_folder_records_each_document_once(make_workbook: WorkbookBuilder,
                                                                       tmp_path: Path) -> None:
    path = make_workbook(numbered_rows(2))
    for _ in range(2):
        assert run_cli("process", path, "-o", tmp_path / "uit").exit_code == 0
    assert employer("1001")["documents"] == [str(tmp_path / "uit" / "aanmeldingen" / f"1001-werkgever-1001.{m}")
                                             for m in ("html", "pdf")]
