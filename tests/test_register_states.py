"""The register follows the office's real process (issue 25): dates keep their order, submitting a confirmed
werkgever again is an explicit choice (and its earlier confirmation is shown as earlier), `changed` says which
fields changed, step 1 (linked), `queried`, `ended` and a note per werkgever; and a register of schema version 2
(a real one, tests/fixtures/) upgrades to version 3.

Every test runs on SQLite and PostgreSQL (conftest's `backend`), through the CLI as a clerk would run it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import WorkbookBuilder, ago, dutch, numbered_rows, run_cli, valid_row
from pgserver import CLERK
from register_backends import Backend, PostgresBackend

from batch.register import schema

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TODAY = date.today()

pytestmark = pytest.mark.usefixtures("backend")


def status_json(*args: object) -> dict[str, Any]:
    result = run_cli("status", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def employer(code: str) -> dict[str, Any]:
    (found,) = [e for e in status_json()["employers"] if e["werkgeverscode"] == code]
    return found


def ok(*args: object) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return result.stderr


def refused(backend: Backend, *args: object) -> str:
    """A command that must change nothing: exit 2, no traceback, the register exactly as it was."""
    before = backend.snapshot()
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Er is niets gewijzigd" in result.stderr
    assert backend.snapshot() == before
    return result.stderr


@pytest.fixture
def three(make_workbook: WorkbookBuilder, tmp_path: Path) -> Path:
    path = make_workbook(numbered_rows(3))
    assert run_cli("process", path, "-o", tmp_path / "uit", "--format", "html").exit_code == 0
    return path


# --- defect 1: dates keep their order ---------------------------------------------------------------------


def test_a_confirmation_before_its_submission_is_refused_naming_both_dates(three: Path, backend: Backend) -> None:
    ok("mark", "submitted", "1003", "--on", ago(2).isoformat())
    said = refused(backend, "mark", "confirmed", "1003", "--on", ago(6).isoformat(), "--first-exchange",
                   (TODAY + timedelta(days=13)).isoformat())
    assert f"1003: bevestigd op {dutch(ago(6))} ligt vóór de aanmelding op {dutch(ago(2))}" in said
    assert employer("1003")["state"] == "submitted"


def test_a_first_exchange_before_its_confirmation_is_refused_with_or_without_on(three: Path,
                                                                               backend: Backend) -> None:
    ok("mark", "submitted", "1001", "--on", ago(10).isoformat())
    said = refused(backend, "mark", "confirmed", "1001", "--on", ago(3).isoformat(), "--first-exchange",
                   ago(5).isoformat())
    assert f"de eerste uitwisseling op {dutch(ago(5))} ligt vóór de bevestiging op {dutch(ago(3))}" in said
    said = refused(backend, "mark", "bevestigd", "1001", "--first-exchange", ago(1).isoformat())  # today
    assert f"de eerste uitwisseling op {dutch(ago(1))} ligt vóór de bevestiging op {dutch(TODAY)}" in said
    ok("mark", "confirmed", "1001", "--first-exchange", TODAY.isoformat())  # the same day is in order


def test_one_werkgever_out_of_order_marks_none(three: Path, backend: Backend) -> None:
    ok("mark", "submitted", "1002", "--on", ago(1).isoformat())
    said = refused(backend, "mark", "confirmed", "1001", "1002", "--on", ago(3).isoformat(), "--first-exchange",
                   TODAY.isoformat())
    assert f"1002: bevestigd op {dutch(ago(3))} ligt vóór de aanmelding op {dutch(ago(1))}" in said
    assert [employer(code)["state"] for code in ("1001", "1002")] == ["new", "submitted"]


def test_step_1_comes_before_step_2(three: Path, backend: Backend) -> None:
    ok("mark", "linked", "1001", "--on", ago(4).isoformat())
    said = refused(backend, "mark", "submitted", "1001", "--on", ago(5).isoformat())
    assert f"aangemeld op {dutch(ago(5))} ligt vóór het koppelen in Exact op {dutch(ago(4))}" in said
    ok("mark", "submitted", "1002", "--on", ago(5).isoformat())
    said = refused(backend, "mark", "gekoppeld", "1002")  # today, after the submission
    assert f"gekoppeld op {dutch(TODAY)} ligt na de aanmelding op {dutch(ago(5))}" in said
    ok("mark", "gekoppeld", "1002", "--on", ago(6).isoformat())
    assert employer("1002")["linked_on"] == ago(6).isoformat()


# --- defect 3: submitting a confirmed werkgever again is an explicit choice -------------------------------


def test_submitting_a_confirmed_werkgever_needs_opnieuw(three: Path, backend: Backend) -> None:
    ok("mark", "submitted", "1001", "--on", ago(20).isoformat())
    ok("mark", "confirmed", "1001", "--on", ago(10).isoformat(), "--first-exchange", ago(5).isoformat())
    said = refused(backend, "mark", "submitted", "1001")
    assert f"1001 is al bevestigd op {dutch(ago(10))}; opnieuw aanmelden is een bewuste keuze" in said
    assert "asr-batch mark submitted 1001 --opnieuw" in said
    assert "opnieuw aangemeld op" in ok("mark", "submitted", "1001", "--again")
    found = employer("1001")
    assert (found["state"], found["submitted_on"], found["confirmed_on"], found["first_exchange"],
            found["confirmed_earlier"], found["days_waiting"]) == (
        "submitted", TODAY.isoformat(), ago(10).isoformat(), ago(5).isoformat(), True, 0)
    line = next(line for line in run_cli("status").stdout.splitlines() if line.startswith("1001"))
    assert f"eerder bevestigd op {dutch(ago(10))}" in line
    ok("mark", "confirmed", "1001", "--first-exchange", TODAY.isoformat())
    assert employer("1001")["confirmed_earlier"] is False


def test_a_new_submission_must_follow_the_earlier_confirmation(three: Path, backend: Backend) -> None:
    ok("mark", "confirmed", "1001", "--on", ago(10).isoformat(), "--first-exchange", ago(5).isoformat())
    said = refused(backend, "mark", "submitted", "1001", "--opnieuw", "--on", ago(12).isoformat())
    assert f"aangemeld op {dutch(ago(12))} ligt vóór de (eerdere) bevestiging op {dutch(ago(10))}" in said


# --- what changed ----------------------------------------------------------------------------------------


def test_changed_names_the_fields_and_the_values_of_13e_maand(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                backend: Backend) -> None:
    first = make_workbook([valid_row(dertiende_maand="Ja")], name="a.xlsx")
    assert run_cli("process", first, "-o", tmp_path / "a", "--format", "html").exit_code == 0
    ok("mark", "submitted", "1001")
    changed = make_workbook([valid_row(dertiende_maand="Nee", client_secret="Nieuw-Geheim-Exact-2026",
                                       client_id="eigen-client-9")], name="b.xlsx")
    assert run_cli("process", changed, "-o", tmp_path / "b", "--format", "html").exit_code == 0
    found = employer("1001")
    assert found["state"] == "changed"
    assert found["changed_fields"] == ["client_id", "client_secret", "dertiende_maand"]
    assert found["changed_values"] == {"dertiende_maand": ["Ja", "Nee"]}
    text = run_cli("status").stdout
    assert "1001  gewijzigd sinds de aanmelding: Client ID, Client Secret, 13e maand: Ja → Nee" in text
    book = tmp_path / "register.xlsx"
    assert run_cli("status", "--xlsx", book).exit_code == 0
    sheet = openpyxl.load_workbook(book)["Register"]
    headers = [c.value for c in sheet[1]]
    assert sheet.cell(2, headers.index("Gewijzigd") + 1).value == "Client ID, Client Secret, 13e maand: Ja → Nee"
    # the values may be kept (neither secret nor personal); the secrets never
    raw = backend.everything()
    assert b"Nieuw-Geheim-Exact-2026" not in raw and b"eigen-client-9" not in raw
    ok("mark", "submitted", "1001")
    assert (employer("1001")["changed_fields"], employer("1001")["changed_values"]) == ([], {})


def test_a_dga_added_names_the_dga_fields(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    assert run_cli("process", make_workbook([valid_row()], name="a.xlsx"), "-o", tmp_path / "a",
                   "--format", "html").exit_code == 0
    ok("mark", "submitted", "1001")
    dga = make_workbook([valid_row(dga="Ja", dga_naam="J. Dgaïsma", dga_medewerkersnummer="42")], name="b.xlsx")
    assert run_cli("process", dga, "-o", tmp_path / "b", "--format", "html").exit_code == 0
    assert employer("1001")["changed_fields"] == ["dga", "dga_naam", "dga_medewerkersnummer"]


def test_a_werkgever_submitted_before_schema_3_has_unknown_changed_fields(make_workbook: WorkbookBuilder,
                                                                       tmp_path: Path, backend: Backend) -> None:
    assert run_cli("process", make_workbook([valid_row()], name="a.xlsx"), "-o", tmp_path / "a",
                   "--format", "html").exit_code == 0
    ok("mark", "submitted", "1001")
    backend.execute("update werkgevers set marked_field_prints = null, marked_plain_values = null")  # as v2 left it
    assert employer("1001")["changed_fields"] == []  # the same data: nothing changed, known from the whole
    other = make_workbook([valid_row(verloning="4-wekelijks")], name="b.xlsx")
    assert run_cli("process", other, "-o", tmp_path / "b", "--format", "html").exit_code == 0
    found = employer("1001")
    assert (found["state"], found["changed_fields"], found["changed_values"]) == ("changed", None, {})
    assert "1001  gewijzigd sinds de aanmelding: onbekend" in run_cli("status").stdout


# --- linked, queried, ended, notes -------------------------------------------------------------------------


def test_queried_needs_a_note_and_a_new_submission_leaves_it(three: Path, backend: Backend,
                                                             make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    ok("mark", "submitted", "1001", "--on", ago(3).isoformat())
    before = backend.snapshot()
    result = run_cli("mark", "queried", "1001")
    assert result.exit_code == 2 and "Bij 'mark queried' hoort een notitie" in result.stderr
    assert backend.snapshot() == before
    said = refused(backend, "mark", "navragen", "1002", "--note", "kenmerk 1")
    assert "1002 is nog niet aangemeld; a.s.r. kan er niet over navragen" in said
    assert "op navragen gezet" in ok("mark", "navragen", "1001", "--note", "a.s.r. mist het LH-nummer, kenmerk Q-77")
    found = employer("1001")
    assert (found["state"], found["state_label"], found["queried_on"], found["note"]) == (
        "queried", "navragen", TODAY.isoformat(), "a.s.r. mist het LH-nummer, kenmerk Q-77")
    assert run_cli("process", three, "-o", tmp_path / "weer", "--format", "html").exit_code == 0
    assert employer("1001")["state"] == "queried"  # seen again: a.s.r.'s question still stands
    assert [e["werkgeverscode"] for e in status_json("--state", "navragen")["employers"]] == ["1001"]
    ok("mark", "submitted", "1001")
    assert employer("1001")["state"] == "submitted"


def test_an_ended_werkgever_stays_ended_is_never_pending_and_its_documents_are_purged(
        three: Path, tmp_path: Path, backend: Backend) -> None:
    ok("mark", "beëindigd", "1002", "--note", "klant vertrokken per 1 december")
    assert run_cli("process", three, "-o", tmp_path / "weer", "--format", "html", "--only-pending").exit_code == 0
    found = employer("1002")
    assert (found["state"], found["ended_on"], found["note"]) == ("ended", TODAY.isoformat(),
                                                                  "klant vertrokken per 1 december")
    assert not list((tmp_path / "weer" / "aanmeldingen").glob("1002-*"))
    data = status_json("--state", "beeindigd")
    assert [e["werkgeverscode"] for e in data["employers"]] == ["1002"] and data["counts"]["ended"] == 1
    assert "1 beëindigd" in run_cli("status").stdout
    document = tmp_path / "uit" / "aanmeldingen" / "1002-werkgever-1002.html"
    assert document.exists()
    purged = run_cli("purge")
    assert purged.exit_code == 0 and f"1002  {document}  (verwijderd)" in purged.stdout and not document.exists()
    said = refused(backend, "mark", "submitted", "1002")
    assert "1002 is beëindigd op" in said and "--opnieuw" in said
    refused(backend, "mark", "confirmed", "1002", "--first-exchange", TODAY.isoformat())
    ok("mark", "submitted", "1002", "--opnieuw")  # came back to the office
    assert employer("1002")["state"] == "submitted"


def test_a_note_goes_with_any_mark_is_shown_and_can_be_cleared(three: Path, tmp_path: Path,
                                                              backend: Backend) -> None:
    ok("mark", "linked", "1003", "--note", "  gekoppeld door Anouk\n(groep a.s.r.)  ")
    assert employer("1003")["note"] == "gekoppeld door Anouk (groep a.s.r.)"
    assert "1003  notitie: gekoppeld door Anouk (groep a.s.r.)" in run_cli("status").stdout
    book = tmp_path / "register.xlsx"
    assert run_cli("status", "--xlsx", book).exit_code == 0
    sheet = openpyxl.load_workbook(book)["Register"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "1003")
    assert row[headers.index("Notitie")] == "gekoppeld door Anouk (groep a.s.r.)"
    assert row[headers.index("Gekoppeld op")].date() == TODAY
    ok("mark", "note", "1003", "--note", "gebeld met a.s.r.")
    assert employer("1003")["note"] == "gebeld met a.s.r." and employer("1003")["state"] == "new"
    assert "De notitie is 501 tekens lang" in refused(backend, "mark", "notitie", "1003", "--note", "x" * 501)
    assert "stuurteken" in refused(backend, "mark", "notitie", "1003", "--note", "a\x07b")
    ok("mark", "linked", "1003", "--note", "")
    assert employer("1003")["note"] is None


@pytest.mark.parametrize("args, said", [
    (("mark", "verzonden", "1001"), "kies submitted (aangemeld)"),
    (("mark", "linked", "1001", "--first-exchange", "2026-12-01"), "--first-exchange hoort bij 'mark confirmed'"),
    (("mark", "ended", "1001", "--opnieuw"), "--opnieuw hoort bij 'mark submitted'"),
    (("mark", "--from", "x.xlsx", "--note", "n"), "gaat niet samen met"),
    (("mark", "note", "1001", "--note", "n", "--on", "2026-01-01"), "Een notitie heeft geen datum"),
])
def test_mark_usage_errors_are_exit_2(three: Path, backend: Backend, args: tuple[str, ...], said: str) -> None:
    before = backend.snapshot()
    result = run_cli(*args)
    assert result.exit_code == 2 and said in result.stderr and "Traceback" not in result.output, result.output
    assert backend.snapshot() == before


# --- one werkgever through every state and back --------------------------------------------------------------


def test_one_werkgever_walks_through_every_state_and_back(three: Path, tmp_path: Path) -> None:
    expected = employer("1001")
    assert {key: expected[key] for key in ("state", "linked_on", "note", "confirmed_earlier", "changed_fields")} == {
        "state": "new", "linked_on": None, "note": None, "confirmed_earlier": False, "changed_fields": []}
    steps: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("linked", "--on", ago(30).isoformat()), {"linked_on": ago(30).isoformat()}),
        (("submitted", "--on", ago(28).isoformat()), {"state": "submitted", "state_label": "aangemeld",
                                                      "submitted_on": ago(28).isoformat(), "days_waiting": 28}),
        (("queried", "--on", ago(20).isoformat(), "--note", "a.s.r.: loonheffingennummer onjuist"),
         {"state": "queried", "state_label": "navragen", "queried_on": ago(20).isoformat(), "days_waiting": None,
          "note": "a.s.r.: loonheffingennummer onjuist"}),
        (("aangemeld", "--on", ago(18).isoformat()), {"state": "submitted", "state_label": "aangemeld",
                                                      "submitted_on": ago(18).isoformat(), "days_waiting": 18}),
        (("confirmed", "--on", ago(10).isoformat(), "--first-exchange", ago(2).isoformat(), "--note", "kenmerk B-1"),
         {"state": "confirmed", "state_label": "bevestigd", "confirmed_on": ago(10).isoformat(),
          "first_exchange": ago(2).isoformat(), "days_waiting": None, "note": "kenmerk B-1"}),
        (("submitted", "--opnieuw", "--on", ago(5).isoformat()),
         {"state": "submitted", "state_label": "aangemeld", "submitted_on": ago(5).isoformat(), "days_waiting": 5,
          "confirmed_earlier": True}),
        (("bevestigd", "--on", ago(1).isoformat(), "--first-exchange", TODAY.isoformat()),
         {"state": "confirmed", "state_label": "bevestigd", "confirmed_on": ago(1).isoformat(),
          "first_exchange": TODAY.isoformat(), "days_waiting": None, "confirmed_earlier": False}),
        (("beeindigd", "--note", "vertrokken"), {"state": "ended", "state_label": "beëindigd",
                                                 "ended_on": TODAY.isoformat(), "note": "vertrokken"}),
    ]
    for args, changes in steps:
        ok("mark", args[0], "1001", *args[1:])
        expected = {**expected, **changes}
        assert employer("1001") == expected, args
    assert run_cli("process", three, "-o", tmp_path / "later", "--format", "html").exit_code == 0
    found = employer("1001")
    assert found["state"] == "ended" and found["last_seen"] == TODAY.isoformat()
    assert status_json()["counts"] == {"total": 3, "new": 2, "submitted": 0, "confirmed": 0, "changed": 0,
                                       "queried": 0, "ended": 1}


# --- the upgrade from a real version-2 register ---------------------------------------------------------------

V2_COMPUTER = "ab74426e-a90b-4795-b71b-a30ec874a1ee"  # the computer that recorded the fixture's documents
STORY = ("werkgeverscode", "naam", "state", "first_seen", "last_seen", "submitted_on", "confirmed_on",
         "first_exchange", "source_file", "source_row")


def load_v2(backend: Backend, private_register: Path, tmp_path: Path, this_computer: Path) -> dict[str, Any]:
    """The version-2 fixture as this test's register, on this computer (its id), its documents made under
    tmp_path/v2. Returns what version 2 holds, read past asr-batch."""
    if isinstance(backend, PostgresBackend):
        dump = (FIXTURES / "register-v2.postgres.sql").read_text(encoding="utf-8")
        with backend.server.connect(backend.database, user=CLERK) as conn:
            conn.execute(dump)
    else:
        shutil.copyfile(FIXTURES / "register-v2.sqlite", private_register)
    (this_computer / "computer-id").write_text(V2_COMPUTER + "\n", encoding="ascii")
    backend.execute(f"update documents set path = replace(path, '/tmp/v2/', '{tmp_path}/v2/')")
    paths: dict[str, list[str]] = {}
    for code, path in backend.rows("select werkgeverscode, path from documents"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("document", encoding="utf-8")
        paths.setdefault(code, []).append(path)
    werkgevers = {row[0]: [None if v is None else str(v) for v in row]
                  for row in backend.rows(f"select {', '.join(STORY)} from werkgevers")}
    return {"werkgevers": werkgevers, "documents": paths, "events": backend.rows("select count(*) from events")[0]}


def test_a_version_2_register_is_upgraded_and_shows_what_it_held(tmp_path: Path, backend: Backend,
                                                                 private_register: Path, this_computer: Path) -> None:
    before = load_v2(backend, private_register, tmp_path, this_computer)
    data = status_json()
    assert data["counts"] == {"total": 10, "new": 7, "submitted": 1, "confirmed": 1, "changed": 1, "queried": 0,
                              "ended": 0}
    for e in data["employers"]:
        shown = [e[key] for key in STORY[:8]] + [e["source"]["file"], e["source"]["row"]]
        assert [None if v is None else str(v) for v in shown] == before["werkgevers"][e["werkgeverscode"]]
        assert e["documents"] == sorted(before["documents"][e["werkgeverscode"]]) and len(e["documents"]) == 4
        assert e["documents_elsewhere"] == []
        # only new keys, each as a werkgever recorded before schema 3 has it
        assert (e["linked_on"], e["queried_on"], e["ended_on"], e["note"], e["confirmed_earlier"],
                e["changed_values"]) == (None, None, None, None, False, {})
        assert e["changed_fields"] == (None if e["werkgeverscode"] == "0412" else [])
    assert backend.rows("select value from meta where key = 'schema_version'") == [("3",)]
    assert backend.rows("select detail from events where event = 'upgraded'") == [("schema 2 naar 3",)]
    assert backend.rows("select count(*) from events")[0][0] == before["events"][0] + 1
    if backend.name == "sqlite":
        backup = private_register.with_name("register.sqlite.schema-2.bak")
        assert backup.stat().st_mode & 0o777 == 0o600
        with sqlite3.connect(backup) as db:
            assert db.execute("select value from meta where key = 'schema_version'").fetchone() == ("2",)
    # and the upgraded register goes on: 0412 submitted again, its changed fields known from now on
    ok("mark", "submitted", "0412")
    assert employer("0412")["state"] == "submitted"


def test_a_version_2_register_whose_upgrade_fails_stays_version_2(tmp_path: Path, backend: Backend,
                                                                  private_register: Path, this_computer: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    load_v2(backend, private_register, tmp_path, this_computer)
    before = backend.snapshot()
    real = schema.UPGRADES[2]

    def then_fail(conn: Any) -> None:
        real(conn)  # every column added...
        conn.exec_driver_sql("update no_such_table set x = 1")  # ...and then a statement fails

    monkeypatch.setitem(schema.UPGRADES, 2, then_fail)
    result = run_cli("status", "--json")
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.output
    assert backend.snapshot() == before
    assert backend.rows("select value from meta where key = 'schema_version'") == [("2",)]
    assert "linked_on" not in backend.columns("werkgevers")


# --- issue 28: a mark repeats what it recorded ----------------------------------------------------------------


def test_a_mark_repeats_what_it_recorded_the_first_exchange_and_note_included(three: Path) -> None:
    exchange = TODAY + timedelta(days=20)
    said = ok("mark", "aangemeld", "1001", "--on", ago(9).isoformat())
    assert said == f"1 werkgever aangemeld op {dutch(ago(9))}: 1001\n"
    said = ok("mark", "bevestigd", "1001", "1002", "--on", ago(2).isoformat(), "--first-exchange",
              exchange.isoformat())
    assert said == (f"2 werkgevers bevestigd op {dutch(ago(2))}, eerste uitwisseling op {dutch(exchange)}: "
                    "1001, 1002\n")
    said = ok("mark", "navragen", "1001", "--on", ago(1).isoformat(), "--note", "kenmerk\tA-12")
    assert "1 werkgever op navragen gezet" in said and said.endswith(': 1001; notitie: "kenmerk A-12"\n')
    assert employer("1002")["first_exchange"] == exchange.isoformat()
