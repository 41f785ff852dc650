"""The register as a workbook that comes back (`status --xlsx`, then `mark --from`), and waiting too long.

Each test has a register of its own on SQLite and on PostgreSQL (conftest's `backend`), unless it is marked
sqlite_only (a test of the workbook as a file). Workbooks are written by asr-batch and filled in with openpyxl as a
clerk would fill them in Excel; one LibreOffice-saved export is kept in tests/fixtures (see its README).
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import OFFICE_CLIENT_ID, SECRET, WorkbookBuilder, ago, dutch, numbered_rows, run_cli, valid_row
from register_backends import Backend

from batch import register as registry
from batch.register_workbook.layout import VERSION

TODAY = date.today()
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "werkgevers.xlsx"  # ten valid werkgevers
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUBMITTED, CONFIRMED, FIRST_EXCHANGE = "Aangemeld op", "Bevestigd op", "Eerste uitwisseling"
LINKED = "Gekoppeld op"  # format 2 (issue 25)
LETTER = {"Werkgeverscode": "A", SUBMITTED: "E", CONFIRMED: "H", FIRST_EXCHANGE: "I", LINKED: "L"}

pytestmark = pytest.mark.usefixtures("backend")


def status_json(*args: object) -> dict[str, object]:
    result = run_cli("status", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def employers() -> dict[str, dict[str, object]]:
    return {e["werkgeverscode"]: e for e in status_json()["employers"]}  # type: ignore[attr-defined,index]


def export(tmp_path: Path, *args: object, name: str = "register.xlsx") -> Path:
    target = tmp_path / name
    result = run_cli("status", "--xlsx", target, *args)
    assert result.exit_code == 0, result.output
    return target


def rows_by_code(sheet: object) -> dict[str, int]:
    return {str(sheet.cell(r, 1).value): r for r in range(2, sheet.max_row + 1)}  # type: ignore[attr-defined]


def fill(path: Path, dates: Mapping[str, Mapping[str, object]], name: str = "ingevuld.xlsx") -> Path:
    """The workbook with these cells filled in (by werkgeverscode and header), saved as a clerk saves it."""
    wb = openpyxl.load_workbook(path)
    sheet = wb["Register"]
    rows = rows_by_code(sheet)
    for code, cells in dates.items():
        for header, value in cells.items():
            sheet[f"{LETTER[header]}{rows[code]}"].value = value
    target = path.with_name(name)
    wb.save(target)
    return target


def cell_of(path: Path, code: str, header: str) -> str:
    return f"Register!{LETTER[header]}{rows_by_code(openpyxl.load_workbook(path)['Register'])[code]}"


@pytest.fixture
def four(make_workbook: WorkbookBuilder, tmp_path: Path) -> Path:
    """Four werkgevers: 1001 and 1002 new, 1003 submitted 40 days ago, 1004 confirmed; and their export."""
    result = run_cli("process", make_workbook(numbered_rows(4)), "-o", tmp_path / "uit", "--format", "html")
    assert result.exit_code == 0, result.output
    assert run_cli("mark", "submitted", "1003", "--on", ago(40).isoformat()).exit_code == 0
    assert run_cli("mark", "confirmed", "1004", "--on", ago(20).isoformat(), "--first-exchange",
                   ago(5).isoformat()).exit_code == 0
    return export(tmp_path)


def mark_from(path: Path, *args: object) -> object:
    return run_cli("mark", "--from", path, *args)


# --- the routine ------------------------------------------------------------------------------------------------


def test_the_routine_three_werkgevers_filled_in_exactly_those_three_change(tmp_path: Path, backend: Backend) -> None:
    """The issue's "done when": process the sample, status --xlsx, fill in dates for three, mark --from."""
    assert run_cli("process", SAMPLE, "-o", tmp_path / "uit", "--format", "html").exit_code == 0
    exported = export(tmp_path)
    before = employers()
    filled = fill(exported, {
        "0087": {SUBMITTED: ago(30)},
        "1003": {CONFIRMED: ago(10), FIRST_EXCHANGE: TODAY + timedelta(days=20)},  # never submitted
        "2001": {SUBMITTED: ago(30), CONFIRMED: ago(9), FIRST_EXCHANGE: ago(2)},
    })
    result = mark_from(filled)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"0087  aangemeld op {dutch(ago(30))}",
        f"1003  bevestigd op {dutch(ago(10))}, eerste uitwisseling {dutch(TODAY + timedelta(days=20))}",
        f"2001  aangemeld op {dutch(ago(30))}; bevestigd op {dutch(ago(9))}, eerste uitwisseling {dutch(ago(2))}",
        "3 werkgevers bijgewerkt uit 'ingevuld.xlsx'."]
    after = employers()
    assert {code for code in after if after[code] != before[code]} == {"0087", "1003", "2001"}
    assert (after["0087"]["state"], after["0087"]["submitted_on"]) == ("submitted", ago(30).isoformat())
    assert (after["1003"]["state"], after["1003"]["submitted_on"], after["1003"]["confirmed_on"],
            after["1003"]["first_exchange"]) == ("confirmed", ago(10).isoformat(), ago(10).isoformat(),
                                                 (TODAY + timedelta(days=20)).isoformat())
    assert (after["2001"]["state"], after["2001"]["submitted_on"], after["2001"]["confirmed_on"]) == (
        "confirmed", ago(30).isoformat(), ago(9).isoformat())
    events = backend.rows('select werkgeverscode, event, detail, "user" from events where detail like '
                          "'%uit werkmap ingevuld.xlsx' order by id")
    assert [(code, event) for code, event, _, _ in events] == [
        ("0087", "submitted"), ("1003", "confirmed"), ("2001", "submitted"), ("2001", "confirmed")]
    assert all(user == registry._user() for *_, user in events)


def test_dry_run_says_what_would_change_and_changes_nothing(four: Path, backend: Backend) -> None:
    before = backend.snapshot()
    result = mark_from(fill(four, {"1001": {SUBMITTED: ago(3)}}), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"1001  aangemeld op {dutch(ago(3))}",
        "1 werkgever zou worden bijgewerkt uit 'ingevuld.xlsx'; niets gewijzigd (--dry-run)."]
    assert backend.snapshot() == before


def test_a_workbook_without_changes_changes_nothing(four: Path, backend: Backend) -> None:
    before = backend.snapshot()
    result = mark_from(four)
    assert result.exit_code == 0
    assert result.stderr.strip() == "Geen nieuwe of gewijzigde datums in 'register.xlsx'; er is niets gewijzigd."
    assert backend.snapshot() == before


def test_a_corrected_date_of_a_submitted_werkgever_is_applied(four: Path) -> None:
    result = mark_from(fill(four, {"1003": {SUBMITTED: ago(38)}}))
    assert result.exit_code == 0, result.output
    assert employers()["1003"]["submitted_on"] == ago(38).isoformat()


def test_rows_sorted_by_the_clerk_are_matched_by_werkgeverscode(four: Path) -> None:
    wb = openpyxl.load_workbook(four)
    sheet = wb["Register"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    for number, values in enumerate(reversed(rows), 2):  # sorted Z to A, as a clerk might
        for column, value in enumerate(values, 1):
            sheet.cell(number, column).value = value
    assert [sheet.cell(r, 1).value for r in range(2, 6)] == ["1004", "1003", "1002", "1001"]
    sheet["E4"].value = ago(2)  # the row of 1002 now; in the hidden sheet, 1002 is on row 3
    wb.save(four)
    result = mark_from(four)
    assert result.exit_code == 0, result.output
    assert employers()["1002"]["submitted_on"] == ago(2).isoformat()
    assert employers()["1003"]["submitted_on"] == ago(40).isoformat()


@pytest.mark.parametrize("typed", ["{d.day}-{d.month}-{d.year}", "{d:%d.%m.%Y}", "{d:%Y-%m-%d}"])
def test_dates_typed_as_text_are_read_as_mark_reads_them(four: Path, typed: str) -> None:
    day = ago(12)
    wb = openpyxl.load_workbook(four)
    cell = wb["Register"][f"E{rows_by_code(wb['Register'])['1001']}"]
    cell.value = typed.format(d=day)
    cell.data_type = "s"
    wb.save(four)
    result = mark_from(four)
    assert result.exit_code == 0, result.output
    assert employers()["1001"]["submitted_on"] == day.isoformat()


def test_a_date_left_as_an_excel_serial_number_is_read_as_a_date(four: Path) -> None:
    day = ago(12)
    wb = openpyxl.load_workbook(four)
    cell = wb["Register"][f"E{rows_by_code(wb['Register'])['1002']}"]
    cell.value = (day - date(1899, 12, 30)).days  # what LibreOffice leaves when the cell lost its date format
    cell.number_format = "General"
    wb.save(four)
    result = mark_from(four)
    assert result.exit_code == 0, result.output
    assert employers()["1002"]["submitted_on"] == day.isoformat()


def test_a_removed_date_and_a_deleted_row_undo_nothing_and_are_said_to_be_ignored(four: Path,
                                                                                   backend: Backend) -> None:
    wb = openpyxl.load_workbook(four)
    sheet = wb["Register"]
    rows = rows_by_code(sheet)
    sheet[f"E{rows['1003']}"].value = None
    sheet.delete_rows(rows["1004"])
    wb.save(four)
    before = backend.snapshot()
    result = mark_from(four)
    assert result.exit_code == 0, result.output
    assert f"Register!E{rows['1003']}: Aangemeld op van 1003 is leeggemaakt; genegeerd" in result.stderr
    assert "1 werkgever niet meer in de werkmap (rij verwijderd): 1004; genegeerd" in result.stderr
    assert backend.snapshot() == before
    assert employers()["1003"]["state"] == "submitted" and employers()["1004"]["state"] == "confirmed"


# --- problems: each by its cell, nothing changed ---------------------------------------------------------------


BAD = [  # (what the clerk filled in, the cell named, what the message says)
    ({"1001": {SUBMITTED: "31-02-2026"}}, ("1001", SUBMITTED), "'31-02-2026' is geen datum"),
    ({"1001": {SUBMITTED: "gisteren"}}, ("1001", SUBMITTED), "'gisteren' is geen datum"),
    ({"1001": {SUBMITTED: "x" * 300}}, ("1001", SUBMITTED), f"'{'x' * 40}…' is geen datum"),  # not repeated whole
    ({"1001": {SUBMITTED: TODAY + timedelta(days=1)}}, ("1001", SUBMITTED), "ligt in de toekomst"),
    ({"1001": {CONFIRMED: TODAY + timedelta(days=1), FIRST_EXCHANGE: TODAY + timedelta(days=9)}},
     ("1001", CONFIRMED), "ligt in de toekomst"),
    ({"1001": {SUBMITTED: date(1900, 1, 5)}}, ("1001", SUBMITTED), "ligt vóór 2000"),
    ({"1001": {CONFIRMED: ago(3)}}, ("1001", FIRST_EXCHANGE), "hoort de datum van de eerste gegevensuitwisseling"),
    ({"1001": {FIRST_EXCHANGE: ago(3)}}, ("1001", CONFIRMED), "hoort bij een bevestiging"),
    ({"1003": {CONFIRMED: ago(41), FIRST_EXCHANGE: ago(3)}}, ("1003", CONFIRMED), "ligt vóór de aanmelding op"),
    ({"1001": {SUBMITTED: ago(9), CONFIRMED: ago(10), FIRST_EXCHANGE: ago(3)}}, ("1001", CONFIRMED),
     "ligt vóór de aanmelding op"),
    ({"1003": {CONFIRMED: ago(4), FIRST_EXCHANGE: ago(5)}}, ("1003", FIRST_EXCHANGE), "ligt vóór de bevestiging op"),
    ({"1004": {SUBMITTED: ago(2)}}, ("1004", SUBMITTED), "is al bevestigd"),
]


@pytest.mark.parametrize("filled, where, said", BAD, ids=[case[2].split()[-1] + str(n) for n, case in enumerate(BAD)])
def test_one_bad_date_changes_nothing_and_names_its_cell(four: Path, backend: Backend,
                                                         filled: dict[str, dict[str, object]], where: tuple[str, str],
                                                         said: str) -> None:
    good = {"1002": {SUBMITTED: ago(1)}}  # a good change beside it: all or nothing
    path = fill(four, {**good, **filled})
    before = backend.snapshot()
    result = mark_from(path)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "asr-batch: 'ingevuld.xlsx' is niet verwerkt: 1 probleem. Er is niets gewijzigd."
    code, header = where
    assert lines[1].startswith(f"  {cell_of(path, code, header)} ({header} van {code}): ")
    assert said in lines[1] and "Oplossing: " in lines[1] and len(lines) == 2
    assert backend.snapshot() == before


def test_every_problem_is_listed_in_sheet_order(four: Path) -> None:
    path = fill(four, {"1001": {SUBMITTED: "morgen"}, "1002": {CONFIRMED: ago(2)}, "1003": {SUBMITTED: "x"}})
    result = mark_from(path)
    assert result.exit_code == 2
    cells = [line.split()[0] for line in result.stderr.splitlines()[1:]]
    assert cells == [cell_of(path, "1001", SUBMITTED), cell_of(path, "1002", FIRST_EXCHANGE),
                     cell_of(path, "1003", SUBMITTED)]


def test_a_colleagues_mark_since_the_export_is_refused_for_that_row_naming_who_and_when(four: Path,
                                                                                          backend: Backend) -> None:
    path = fill(four, {"1001": {SUBMITTED: ago(3)}, "1002": {SUBMITTED: ago(3)}})
    assert run_cli("mark", "submitted", "1002", "--on", ago(4).isoformat()).exit_code == 0  # the second clerk
    before = backend.snapshot()
    result = mark_from(path)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "asr-batch: 'ingevuld.xlsx' is niet verwerkt: 1 probleem. Er is niets gewijzigd."
    assert lines[1].startswith(f"  {cell_of(path, '1002', SUBMITTED)} (werkgever 1002): in het register gewijzigd "
                               f"nadat deze werkmap werd geschreven: aangemeld op {dutch(ago(4))}, door "
                               f"{registry._user()} op {dutch(TODAY)} om ")
    assert f"Overleg met {registry._user()}." in lines[1]
    assert backend.snapshot() == before
    assert employers()["1001"]["state"] == "new"  # all or nothing


def test_a_colleague_who_recorded_the_same_dates_is_no_conflict(four: Path) -> None:
    path = fill(four, {"1001": {SUBMITTED: ago(3)}, "1002": {SUBMITTED: ago(6)}})
    assert run_cli("mark", "submitted", "1002", "--on", ago(6).isoformat()).exit_code == 0
    result = mark_from(path)
    assert result.exit_code == 0, result.output
    assert f"1002  staat al zo in het register (aangemeld op {dutch(ago(6))}, door {registry._user()}" in \
        result.stderr
    assert "1 werkgever bijgewerkt" in result.stderr
    assert employers()["1001"]["submitted_on"] == ago(3).isoformat()


def test_a_werkgever_the_register_no_longer_knows_is_named(four: Path, backend: Backend) -> None:
    path = fill(four, {"1002": {SUBMITTED: ago(3)}})
    assert run_cli("forget", "1002").exit_code == 0
    before = backend.snapshot()
    result = mark_from(path)
    assert result.exit_code == 2
    assert (f"{cell_of(path, '1002', SUBMITTED)} (werkgever 1002): staat niet meer in het register (uit het register "
            f"gehaald, door {registry._user()} op {dutch(TODAY)} om ") in result.stderr
    assert backend.snapshot() == before


def test_a_werkgeverscode_the_file_did_not_hold_is_named(four: Path) -> None:
    wb = openpyxl.load_workbook(four)
    sheet = wb["Register"]
    sheet["A6"].value = "7777"
    sheet["E6"].value = ago(1)
    wb.save(four)
    result = mark_from(four)
    assert result.exit_code == 2
    assert "Register!A6 (Werkgeverscode): werkgeverscode 7777 stond niet in deze werkmap" in result.stderr


def test_a_row_copied_twice_is_named(four: Path) -> None:
    wb = openpyxl.load_workbook(four)
    sheet = wb["Register"]
    for column in range(1, 12):
        sheet.cell(6, column).value = sheet.cell(2, column).value
    wb.save(four)
    result = mark_from(four)
    assert result.exit_code == 2 and "Register!A6" in result.stderr and "staat twee keer" in result.stderr


# --- files that are no such export ------------------------------------------------------------------------------


def _without_hidden_sheet(path: Path) -> Path:
    wb = openpyxl.load_workbook(path)
    del wb["asr-batch"]
    wb.save(path)
    return path


def _with_marker(text: str, version: str = "1") -> object:
    def change(path: Path) -> Path:
        wb = openpyxl.load_workbook(path)
        wb["asr-batch"]["A1"].value = text
        wb["asr-batch"]["B1"].value = version
        wb.save(path)
        return path
    return change


@pytest.mark.parametrize("spoil, said", [
    (_without_hidden_sheet, "is geen registerwerkmap van asr-batch"),
    (_with_marker("iets anders"), "is geen registerwerkmap van asr-batch"),
    (_with_marker("asr-batch registerwerkmap", str(VERSION + 1)),
     "is geschreven door een nieuwere versie van asr-batch"),
    (lambda path: path.write_bytes(b"Werkgeverscode;Aangemeld op\n1001;03-11-2026\n") and path,
     "is geen Excel-werkmap"),
])
def test_a_file_that_is_no_register_workbook_is_refused(four: Path, backend: Backend, spoil: object,
                                                        said: str) -> None:
    spoil(four)  # type: ignore[operator]
    before = backend.snapshot()
    result = mark_from(four)
    assert result.exit_code == 2 and said in result.stderr and "Oplossing: " in result.stderr, result.output
    assert "Traceback" not in result.output
    assert backend.snapshot() == before


@pytest.mark.sqlite_only
def test_the_blank_template_is_refused_as_no_register_workbook(four: Path, tmp_path: Path) -> None:
    template = tmp_path / "leeg.xlsx"
    assert run_cli("template", template).exit_code == 0
    result = mark_from(template)
    assert result.exit_code == 2
    assert "'leeg.xlsx' is geen registerwerkmap van asr-batch" in result.stderr
    assert "asr-batch status --xlsx" in result.stderr


def test_a_workbook_of_another_register_is_refused(four: Path, tmp_path: Path, backend: Backend) -> None:
    other = tmp_path / "ander.sqlite"
    assert run_cli("process", SAMPLE, "-o", tmp_path / "ander-uit", "--format", "html", "--register",
                   other).exit_code == 0
    foreign = export(tmp_path, "--register", other, name="ander.xlsx")
    before = backend.snapshot()
    result = mark_from(fill(foreign, {"0087": {SUBMITTED: ago(1)}}))
    assert result.exit_code == 2
    assert f"is geschreven uit een ander register (sqlite:///{other})" in result.stderr
    assert backend.snapshot() == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize("args, said", [
    (("submitted", "1001"), "gaat niet samen met een status, werkgeverscodes"),
    (("--on", "2026-11-03"), "gaat niet samen met een status, werkgeverscodes, --on"),
])
def test_mark_from_goes_with_no_state_or_codes(four: Path, args: tuple[str, ...], said: str) -> None:
    result = run_cli("mark", *args, "--from", four)
    assert result.exit_code == 2 and said in result.stderr and "Oplossing: " in result.stderr


@pytest.mark.sqlite_only
@pytest.mark.parametrize("args, said", [
    (("submitted", "1001", "--dry-run"), "--dry-run hoort bij 'mark --from'"),
    ((), "Zeg wat er is gebeurd"),
    (("submitted",), "Bij 'mark submitted' horen een of meer werkgeverscodes"),
])
def test_mark_without_from_still_needs_a_state_and_codes(four: Path, args: tuple[str, ...], said: str) -> None:
    result = run_cli("mark", *args)
    assert result.exit_code == 2 and said in result.stderr


# --- the workbook as a file -------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_the_export_has_editable_date_cells_and_the_rest_protected(four: Path, backend: Backend) -> None:
    wb = openpyxl.load_workbook(four)
    sheet = wb["Register"]
    assert [c.value for c in sheet[1]] == [
        "Werkgeverscode", "Naam werkgever", "Status", "Laatst gezien", "Aangemeld op", "Dagen wachten",
        "Wacht te lang", "Bevestigd op", "Eerste uitwisseling", "Bron", "Documenten",
        "Gekoppeld op", "Gewijzigd", "Notitie"]  # format 2 adds the last three, leaving the letters before them
    assert sheet.protection.sheet and not sheet.protection.password
    assert not sheet.protection.sort and not sheet.protection.autoFilter  # the clerk may sort and filter
    assert wb.security is not None and wb.security.lockStructure
    rows = rows_by_code(sheet)
    for letter in "EHIL":
        for row in rows.values():
            assert not sheet[f"{letter}{row}"].protection.locked
            assert sheet[f"{letter}{row}"].number_format == "dd-mm-yyyy"
    assert all(sheet[f"{letter}{rows['1001']}"].protection.locked for letter in "ABCDFGJKMN")
    assert sheet[f"E{rows['1003']}"].value.date() == ago(40)  # a real date cell
    assert sheet[f"H{rows['1004']}"].value.date() == ago(20) and sheet[f"I{rows['1004']}"].value.date() == ago(5)
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert set(validations) == {"E2:E5", "H2:H5", "I2:I5", "L2:L5"}
    for v in validations.values():
        assert v.type == "date" and v.showInputMessage and v.showErrorMessage and "dd-mm-jjjj" in v.prompt
    assert validations["E2:E5"].formula2 == "TODAY()"  # not in the future; a first exchange may be
    hidden = wb["asr-batch"]
    assert hidden.sheet_state == "hidden" and hidden["A1"].value == "asr-batch registerwerkmap"
    assert [c.value for c in hidden[7]] == ["werkgeverscode", "state", "submitted_on", "confirmed_on",
                                            "first_exchange", "last_event", "linked_on"]
    as_written = {row[0]: row[1:6] for row in hidden.iter_rows(min_row=8, values_only=True)}  # linked_on: None
    latest = dict(backend.rows("select werkgeverscode, max(id) from events where werkgeverscode is not null "
                               "group by werkgeverscode"))
    assert as_written == {
        "1001": ("new", None, None, None, str(latest["1001"])),
        "1002": ("new", None, None, None, str(latest["1002"])),
        "1003": ("submitted", ago(40).isoformat(), None, None, str(latest["1003"])),
        "1004": ("confirmed", ago(20).isoformat(), ago(20).isoformat(), ago(5).isoformat(), str(latest["1004"]))}


@pytest.mark.sqlite_only
def test_the_export_holds_no_secret_no_client_id_no_dga_data(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    rows = [valid_row(werkgeverscode="1001", dga="Ja", dga_naam="Zwanette Dgaïsma", dga_medewerkersnummer="918273"),
            valid_row(werkgeverscode="1002", client_id="eigen-client-id-55aa77", client_secret="Eigen-Geheim-9c8d7e")]
    assert run_cli("process", make_workbook(rows), "-o", tmp_path / "uit", "--format", "html").exit_code == 0
    exported = export(tmp_path)
    with zipfile.ZipFile(exported) as archive:
        text = b"".join(archive.read(name) for name in archive.namelist())
    for forbidden in (SECRET, OFFICE_CLIENT_ID, "Zwanette", "918273", "eigen-client-id-55aa77", "Eigen-Geheim-9c8d7e"):
        assert forbidden.encode() not in text, forbidden


@pytest.mark.sqlite_only
def test_the_export_keeps_force_and_its_owner_only_mode(four: Path) -> None:
    assert four.stat().st_mode & 0o777 == 0o600
    refused = run_cli("status", "--xlsx", four)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    four.chmod(0o644)
    assert run_cli("status", "--xlsx", four, "--force").exit_code == 0
    assert four.stat().st_mode & 0o777 == 0o600  # replaced, and owner-only again


@pytest.mark.sqlite_only
def test_a_libreoffice_saved_export_is_recognised_and_read(tmp_path: Path) -> None:
    """tests/fixtures/registerwerkmap-libreoffice.xlsx: an export of registerwerkmap.sqlite, dates filled in and
    saved as .xlsx by LibreOffice (see the fixtures' README): its hidden sheet, date cells, a date typed as text
    and a date left as a number are all read."""
    register = tmp_path / "register.sqlite"
    shutil.copyfile(FIXTURES / "registerwerkmap.sqlite", register)
    register.chmod(0o600)
    result = run_cli("mark", "--from", FIXTURES / "registerwerkmap-libreoffice.xlsx", "--register", register)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "0412  bevestigd op 20-03-2024, eerste uitwisseling 15-04-2024",
        "0999  bevestigd op 01-06-2024, eerste uitwisseling 01-07-2024",
        "2001  aangemeld op 06-05-2024",
        "3100  aangemeld op 03-04-2024",
        "3101  aangemeld op 08-04-2024",
        "5 werkgevers bijgewerkt uit 'registerwerkmap-libreoffice.xlsx'."]


# --- waiting too long ------------------------------------------------------------------------------------------


def test_status_flags_submitted_werkgevers_waiting_too_long(four: Path) -> None:
    assert run_cli("mark", "submitted", "1002", "--on", ago(10).isoformat()).exit_code == 0
    text = run_cli("status")
    assert text.exit_code == 0
    assert ("4 werkgevers in het register: 1 nieuw, 2 aangemeld, 1 bevestigd, 0 gewijzigd; 1 wacht langer dan 30 "
            "dagen op a.s.r.") in text.stdout
    line = next(line for line in text.stdout.splitlines() if line.startswith("1003"))
    assert " 40 (te lang)" in line
    assert "(te lang)" not in next(line for line in text.stdout.splitlines() if line.startswith("1002"))
    assert "2 wachten langer dan 5 dagen" in run_cli("status", "--waiting-over", "5").stdout

    data = status_json()
    assert data["waiting_over"] == {"days": 30, "count": 1}
    waiting = {e["werkgeverscode"]: (e["days_waiting"], e["waiting_too_long"])  # type: ignore[index]
               for e in data["employers"]}  # type: ignore[attr-defined]
    assert waiting == {"1001": (None, False), "1002": (10, False), "1003": (40, True), "1004": (None, False)}
    assert status_json("--waiting-over", "5")["waiting_over"] == {"days": 5, "count": 2}


def test_state_submitted_with_waiting_over_lists_just_those_waiting_too_long(four: Path) -> None:
    assert run_cli("mark", "submitted", "1002", "--on", ago(10).isoformat()).exit_code == 0
    codes = lambda *args: [e["werkgeverscode"] for e in status_json(*args)["employers"]]  # type: ignore  # noqa: E731
    assert codes("--state", "submitted") == ["1002", "1003"]  # without --waiting-over: every submitted one
    assert codes("--state", "submitted", "--waiting-over", "30") == ["1003"]
    assert codes("--state", "submitted", "--waiting-over", "5") == ["1002", "1003"]
    assert codes("--state", "submitted", "--waiting-over", "40") == []
    assert codes("--waiting-over", "30") == ["1001", "1002", "1003", "1004"]  # flags, lists all
    text = run_cli("status", "--state", "submitted", "--waiting-over", "30").stdout
    assert [line.split()[0] for line in text.splitlines()[3:]] == ["Werkgeverscode", "1003"]
    none = run_cli("status", "--state", "submitted", "--waiting-over", "40").stdout
    assert "Geen werkgevers met status 'aangemeld' die langer dan 40 dagen wachten." in none


@pytest.mark.sqlite_only
@pytest.mark.parametrize("value", ["-1", "dertig"])
def test_waiting_over_takes_a_whole_number_of_days(value: str) -> None:
    result = run_cli("status", "--waiting-over", value)
    assert result.exit_code == 2 and "--waiting-over" in result.stderr


@pytest.mark.sqlite_only
def test_the_export_marks_those_waiting_too_long(four: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(export(tmp_path, "--force", name="register.xlsx"))
    sheet = wb["Register"]
    rows = rows_by_code(sheet)
    assert sheet[f"F{rows['1003']}"].value == 40 and sheet[f"G{rows['1003']}"].value == "ja (> 30 dagen)"
    assert sheet[f"F{rows['1003']}"].fill.start_color.rgb == "FFF8D7D2"
    assert sheet[f"G{rows['1001']}"].value is None and sheet[f"F{rows['1001']}"].fill.fill_type is None
    only = openpyxl.load_workbook(export(tmp_path, "--state", "submitted", "--waiting-over", "30", name="te-lang.xlsx"))
    assert list(rows_by_code(only["Register"])) == ["1003"]


def test_status_xlsx_with_json_prints_the_same_register(four: Path, tmp_path: Path) -> None:
    result = run_cli("status", "--xlsx", tmp_path / "twee.xlsx", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["total"] == 4
    assert io.BytesIO((tmp_path / "twee.xlsx").read_bytes()).getvalue()[:2] == b"PK"


# --- issue 25: an earlier confirmation, submitting again, Gekoppeld op ----------------------------------------


def refused(backend: Backend, path: Path) -> str:
    before = backend.snapshot()
    result = mark_from(path)
    assert result.exit_code == 2 and "Er is niets gewijzigd" in result.stderr, result.output  # type: ignore[attr-defined]
    assert backend.snapshot() == before
    return result.stderr  # type: ignore[attr-defined,no-any-return]


def test_an_earlier_confirmation_is_shown_as_such_and_read_back_unchanged(four: Path, tmp_path: Path) -> None:
    assert run_cli("mark", "submitted", "1004", "--opnieuw", "--on", ago(2).isoformat()).exit_code == 0
    book = export(tmp_path, "--force")
    sheet = openpyxl.load_workbook(book)["Register"]
    assert sheet[cell_of(book, "1004", CONFIRMED).split("!")[1]].value == f"eerder bevestigd op {dutch(ago(20))}"
    result = mark_from(book)
    assert result.exit_code == 0 and "Geen nieuwe of gewijzigde datums" in result.stderr  # type: ignore[attr-defined]
    typed_over = fill(book, {"1004": {CONFIRMED: ago(1), FIRST_EXCHANGE: TODAY}})  # a new confirmation
    assert mark_from(typed_over).exit_code == 0  # type: ignore[attr-defined]
    assert (employers()["1004"]["state"], employers()["1004"]["confirmed_on"],
            employers()["1004"]["confirmed_earlier"]) == ("confirmed", ago(1).isoformat(), False)


def test_a_new_aangemeld_op_of_a_confirmed_row_names_the_option(four: Path, backend: Backend) -> None:
    said = refused(backend, fill(four, {"1004": {SUBMITTED: ago(1)}}))
    assert f"{cell_of(four, '1004', SUBMITTED)} (Aangemeld op van 1004): 1004 is al bevestigd (op {dutch(ago(20))})" \
        in said and "'asr-batch mark submitted 1004 --opnieuw'" in said


def test_gekoppeld_op_is_read_back_in_order(four: Path, tmp_path: Path, backend: Backend) -> None:
    result = mark_from(fill(four, {"1001": {LINKED: ago(2)}, "1003": {LINKED: ago(45)}}))
    assert result.exit_code == 0 and f"1001  gekoppeld op {dutch(ago(2))}" in result.stderr  # type: ignore[attr-defined]
    assert (employers()["1001"]["linked_on"], employers()["1003"]["linked_on"]) == (ago(2).isoformat(),
                                                                                    ago(45).isoformat())
    book = export(tmp_path, "--force")
    said = refused(backend, fill(book, {"1003": {LINKED: ago(39)}}))
    assert f"{cell_of(book, '1003', LINKED)} (Gekoppeld op van 1003): gekoppeld op {dutch(ago(39))} ligt na de " \
           f"aanmelding op {dutch(ago(40))}" in said
    said = refused(backend, fill(book, {"1002": {LINKED: ago(3), SUBMITTED: ago(4)}}))
    assert f"{cell_of(book, '1002', LINKED)} (Gekoppeld op van 1002): gekoppeld op {dutch(ago(3))} ligt na" in said

