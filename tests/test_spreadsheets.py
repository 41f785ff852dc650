"""Data a spreadsheet changed (issue 27): what Excel and LibreOffice do to a list that is pasted, imported from a
CSV or typed into cells not formatted as text, and the formats beside .xlsx (.ods, .csv, .xls).

One tiny workbook per case, asserted as `(row, field, code)` triples and exit codes.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from conftest import (
    DEFAULT_OFFICE,
    HEADERS,
    OFFICE_LABELS,
    SECRET,
    WorkbookBuilder,
    run_cli,
    status_of,
    triples,
    valid_row,
)
from register_backends import Backend

from batch.annotate import ERROR_FILL, ISSUES_SHEET, WARNING_FILL
from batch.fields import FIELDS
from batch.pipeline import check


def resultaat(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))
    return data


def issue_triples(data: dict[str, object]) -> list[tuple[int, str, str]]:
    return sorted((row["row"], issue["field"], issue["code"])  # type: ignore[index]
                  for row in data["rows"] for issue in row["issues"])  # type: ignore[attr-defined,index]


# --- leading zeros lost ----------------------------------------------------------------------------------------

def test_a_code_in_a_number_cell_is_warned_about_by_its_cell(make_workbook: WorkbookBuilder) -> None:
    result = check(make_workbook([valid_row(werkgeverscode=87)]))
    assert triples(result) == [(2, "werkgeverscode", "getal_zonder_voorloopnullen")]
    (issue,) = result.all_issues
    assert issue.cell == "A2" and issue.severity == "warning"
    assert "getal zonder voorloopnullen? " in issue.message
    assert issue.fix.startswith("Maak de kolom tekst en typ de code zoals in Exact")
    assert status_of(result) == {2: "valid"} and result.rows[0].werkgeverscode == "87"


def test_a_dga_number_in_a_number_cell_is_warned_about(make_workbook: WorkbookBuilder) -> None:
    result = check(make_workbook([valid_row(dga="Ja", dga_naam="J. de Vries", dga_medewerkersnummer=12)]))
    assert triples(result) == [(2, "dga_medewerkersnummer", "getal_zonder_voorloopnullen")]
    assert result.all_issues[0].cell == "G2"


def test_codes_typed_as_text_are_not_warned_about(make_workbook: WorkbookBuilder) -> None:
    row = valid_row(werkgeverscode="0087", dga="Ja", dga_naam="A", dga_medewerkersnummer="012")
    result = check(make_workbook([row]))
    assert triples(result) == []


def test_a_number_cell_blocks_its_row_with_strict(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([valid_row(werkgeverscode=87)])
    assert run_cli("validate", path).exit_code == 0
    assert run_cli("validate", path, "--strict").exit_code == 1


def test_87_after_0087_is_refused_naming_the_known_code_and_nothing_is_recorded(
        make_workbook: WorkbookBuilder, tmp_path: Path, backend: Backend) -> None:
    first = make_workbook([valid_row(werkgeverscode="0087")], name="eerst.xlsx")
    assert run_cli("process", first, "-o", tmp_path / "eerst", "--format", "html").exit_code == 0
    events_before = backend.rows("select count(*) from events where werkgeverscode = '0087'")

    later = make_workbook([valid_row(werkgeverscode=87, naam="Zelfde werkgever"),
                           valid_row(werkgeverscode="1002", naam="Ander")], name="later.xlsx")
    result = run_cli("process", later, "-o", tmp_path / "later", "--format", "html")
    assert result.exit_code == 1, result.output
    data = resultaat(tmp_path / "later")
    assert issue_triples(data) == [(2, "werkgeverscode", "getal_zonder_voorloopnullen"),
                                   (2, "werkgeverscode", "werkgeverscode_in_register")]
    row = data["rows"][0]  # type: ignore[index]
    assert row["status"] == "invalid" and row["documents"] == []
    (refusal,) = [i for i in row["issues"] if i["code"] == "werkgeverscode_in_register"]
    assert refusal["cell"] == "A2" and "0087" in refusal["message"] and "Bedoelt u 0087?" in refusal["message"]
    # the register holds 0087 once, 1002 new, and no 87; nothing was logged for 87
    codes = sorted(code for (code,) in backend.rows("select werkgeverscode from werkgevers"))
    assert codes == ["0087", "1002"]
    assert backend.rows("select count(*) from events where werkgeverscode = '87'") == [(0,)]
    assert {code for (code,) in backend.rows("select werkgeverscode from events")} - {None} == {"0087", "1002"}
    assert backend.rows("select count(*) from events where werkgeverscode = '0087'") == events_before
    assert not list((tmp_path / "later" / "aanmeldingen").glob("87-*"))


def test_0087_after_87_is_refused_too_and_only_pending_makes_no_document(
        make_workbook: WorkbookBuilder, tmp_path: Path, backend: Backend) -> None:
    first = make_workbook([valid_row(werkgeverscode="87")], name="eerst.xlsx")
    assert run_cli("process", first, "-o", tmp_path / "eerst", "--format", "html").exit_code == 0
    later = make_workbook([valid_row(werkgeverscode="0087")], name="later.xlsx")
    result = run_cli("process", later, "-o", tmp_path / "later", "--format", "html", "--only-pending")
    assert result.exit_code == 1, result.output
    assert issue_triples(resultaat(tmp_path / "later")) == [(2, "werkgeverscode", "werkgeverscode_in_register")]
    assert sorted(code for (code,) in backend.rows("select werkgeverscode from werkgevers")) == ["87"]
    assert not list((tmp_path / "later" / "aanmeldingen").iterdir())


def test_a_code_the_register_holds_exactly_is_not_refused(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                          backend: Backend) -> None:
    path = make_workbook([valid_row(werkgeverscode="0087")])
    for out in ("een", "twee"):
        assert run_cli("process", path, "-o", tmp_path / out, "--format", "html").exit_code == 0


def test_without_the_register_the_leading_zeros_are_only_warned_about(make_workbook: WorkbookBuilder,
                                                                      tmp_path: Path) -> None:
    run_cli("process", make_workbook([valid_row(werkgeverscode="0087")], name="a.xlsx"), "-o", tmp_path / "a",
            "--format", "html")
    path = make_workbook([valid_row(werkgeverscode=87)], name="b.xlsx")
    result = run_cli("process", path, "-o", tmp_path / "b", "--format", "html", "--no-register")
    assert result.exit_code == 0, result.output
    assert issue_triples(resultaat(tmp_path / "b")) == [(2, "werkgeverscode", "getal_zonder_voorloopnullen")]


# --- dates where text belongs ----------------------------------------------------------------------------------

def test_a_date_in_opmerkingen_is_a_warning_naming_the_cell(make_workbook: WorkbookBuilder) -> None:
    result = check(make_workbook([valid_row(opmerkingen=datetime(2026, 4, 1))]))
    assert triples(result) == [(2, "opmerkingen", "datum_in_tekst")]
    (issue,) = result.all_issues
    assert issue.cell == "L2" and issue.severity == "warning" and "01-04-2026" in issue.message
    assert status_of(result) == {2: "valid"} and result.rows[0].record["opmerkingen"] == "01-04-2026"


def test_a_date_in_naam_is_a_warning(make_workbook: WorkbookBuilder) -> None:
    result = check(make_workbook([valid_row(naam=date(2026, 4, 1))]))
    assert triples(result) == [(2, "naam", "datum_in_tekst")]


@pytest.mark.parametrize("key, cell", [("kvk_nummer", "J2"), ("loonheffingennummer", "K2")])
@pytest.mark.parametrize("typed", [datetime(2026, 3, 1), "01-03-2026", "1/3/2026", "2026-03-01", "01.03.26"])
def test_a_date_in_kvk_or_loonheffingennummer_is_an_error(make_workbook: WorkbookBuilder, key: str, cell: str,
                                                           typed: object) -> None:
    result = check(make_workbook([valid_row(**{key: typed})]))
    assert triples(result) == [(2, key, "datum")]
    assert result.all_issues[0].cell == cell and "bevat een datum" in result.all_issues[0].message
    assert status_of(result) == {2: "invalid"}


def test_a_kvk_that_only_resembles_a_date_is_read(make_workbook: WorkbookBuilder) -> None:
    result = check(make_workbook([valid_row(kvk_nummer="12-34-5678")]))  # month 34: no date
    assert triples(result) == [] and result.rows[0].record["kvk_nummer"] == "12345678"


# --- one cell, messages that agree -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["client_id", "client_secret"])
def test_a_placeholder_client_id_or_secret_gets_one_message(make_workbook: WorkbookBuilder, key: str) -> None:
    result = check(make_workbook([valid_row(**{key: "-"})]))
    assert triples(result) == [(2, key, "plaatshouder")]
    assert not any("eigen" in issue.message for issue in result.all_issues)


# --- other formats ---------------------------------------------------------------------------------------------

def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, (int, float)):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p>' \
               "</table:table-cell>"
    if isinstance(value, date):
        return f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">' \
               f"<text:p>{value:%d-%m-%Y}</text:p></table:table-cell>"
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A minimal OpenDocument spreadsheet, as LibreOffice Calc saves one (without LibreOffice)."""
    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>" for name, rows in sheets.items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def ods_workbook(path: Path, rows: list[dict[str, object]]) -> Path:
    office = [["Gegeven", "Waarde"], *([OFFICE_LABELS[k], v] for k, v in DEFAULT_OFFICE.items())]
    return write_ods(path, {"Salarisverwerker": office,
                            "Werkgevers": [HEADERS, *([row.get(f.key) for f in FIELDS] for row in rows)]})


def test_an_ods_gets_a_full_annotated_copy_made_from_its_values(tmp_path: Path) -> None:
    source = ods_workbook(tmp_path / "werkgevers.ods", [
        valid_row(werkgeverscode=87), valid_row(werkgeverscode="1002", naam="Ander", opmerkingen=date(2026, 4, 1)),
        valid_row(werkgeverscode="1003", naam="Fout", dga="misschien")])
    before = source.read_bytes()
    out = tmp_path / "uit"
    result = run_cli("process", source, "-o", out, "--format", "html", "--no-register")
    assert result.exit_code == 1, result.output
    assert issue_triples(resultaat(out)) == [(2, "werkgeverscode", "getal_zonder_voorloopnullen"),
                                             (3, "opmerkingen", "datum_in_tekst"), (4, "dga", "ja_nee")]
    copy = openpyxl.load_workbook(out / "foutenrapport.xlsx")
    assert copy.sheetnames == ["Salarisverwerker", "Werkgevers", ISSUES_SHEET]
    data = copy["Werkgevers"]
    assert [c.value for c in data[1]] == HEADERS
    assert data["A2"].value == 87 and data["A3"].value == "1002" and data["L3"].is_date
    assert data.freeze_panes == "A2" and data.print_title_rows == "$1:$1"
    assert data["A2"].fill.fgColor.rgb == WARNING_FILL.fgColor.rgb and "voorloopnullen" in data["A2"].comment.text
    assert data["E4"].fill.fgColor.rgb == ERROR_FILL.fgColor.rgb
    assert copy["Salarisverwerker"]["B7"].value == SECRET  # a copy of the office's own values, kept owner-only
    fouten = copy[ISSUES_SHEET]
    assert fouten["B2"].hyperlink.location == "'Werkgevers'!A2"
    notes = [c.value for c in fouten["A"] if isinstance(c.value, str) and c.value.startswith("Let op")]
    assert len(notes) == 1 and "werkgevers.ods" in notes[0] and "Opmaak, formules en keuzelijsten" in notes[0]
    assert source.read_bytes() == before


def test_a_csv_file_is_named_as_one_with_how_to_save_it_as_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "werkgevers.csv"
    path.write_text("Werkgeverscode;Naam werkgever;DGA in verloning\r\n0087;Bakkerij;Nee\r\n", encoding="utf-8")
    result = run_cli("validate", path)
    assert result.exit_code == 2
    assert "'werkgevers.csv' is geen Excel-werkmap maar een CSV-bestand (tekst, kolommen gescheiden door " \
           "puntkomma's)" in result.stderr
    assert "Excel: Gegevens > Van tekst/CSV" in result.stderr and "LibreOffice Calc: Bestand > Openen" in result.stderr
    assert "Opslaan als" in result.stderr and ".xlsx" in result.stderr and "Traceback" not in result.output


def test_a_csv_saved_in_cp1252_with_commas_is_named_as_one(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes("Werkgeverscode,Naam werkgever\r\n1001,Café Müller\r\n".encode("cp1252"))
    result = run_cli("validate", path)
    assert result.exit_code == 2 and "een CSV-bestand (tekst, kolommen gescheiden door komma's)" in result.stderr


def test_an_old_xls_names_excel_and_libreoffice(tmp_path: Path) -> None:
    path = tmp_path / "werkgevers.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    result = run_cli("validate", path)
    assert result.exit_code == 2
    assert "Open het in Excel of LibreOffice Calc" in result.stderr and "Excel 2007-365 (.xlsx)" in result.stderr
