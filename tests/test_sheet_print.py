"""Every workbook asr-batch writes prints without fiddling and sorts well (issue 27): the blank template,
foutenrapport.xlsx and `status --xlsx`. Read back with openpyxl: A4, one page wide, the header row on every page,
frozen header rows, row heights that fit wrapped text, one font; in the status workbook dates are date cells and
counts numbers, codes text. (How the pages look is checked by eye: docs/make_sheet_screenshots.py.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import WorkbookBuilder, numbered_rows, run_cli, valid_row
from openpyxl.worksheet.worksheet import Worksheet

from batch.annotate import ISSUES_SHEET, WARNING_FILL
from batch.fields import SHEET_OFFICE, SHEET_TOELICHTING, SHEET_WERKGEVERS
from batch.sheet_print import FONT_NAME, lines_of

README = Path(__file__).resolve().parent.parent / "README.md"


def assert_prints(ws: Worksheet, *, landscape: bool, title_rows: str | None = "1:1",
                  frozen: str | None = "A2") -> None:
    assert ws.page_setup.paperSize == 9, ws.title  # A4
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait"), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
    assert ws.print_title_rows == (f"${title_rows.replace(':', ':$')}" if title_rows else None), ws.title
    assert ws.freeze_panes == frozen, ws.title


def assert_one_font(ws: Worksheet) -> None:
    fonts = {cell.font.name for row in ws.iter_rows() for cell in row if cell.value is not None}
    assert fonts == {FONT_NAME}, ws.title


def assert_rows_fit_wrapped_text(ws: Worksheet, first: int = 1) -> None:
    """Every row with wrapped text is at least as tall as its text needs (and never left to the program)."""
    merged = {(r.min_row, r.min_col): sum(ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width
                                          for c in range(r.min_col, r.max_col + 1))
              for r in ws.merged_cells.ranges}
    for row in ws.iter_rows(min_row=first):
        for cell in row:
            if isinstance(cell.value, str) and cell.alignment.wrap_text:
                width = merged.get((cell.row, cell.column)) or ws.column_dimensions[cell.column_letter].width
                height = ws.row_dimensions[cell.row].height
                assert height is not None, (ws.title, cell.coordinate)
                assert height >= 12.75 * lines_of(cell.value, width) * (cell.font.sz or 10) / 10, \
                    (ws.title, cell.coordinate)


@pytest.fixture
def template(tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / "sjabloon.xlsx"
    assert run_cli("template", path).exit_code == 0
    return openpyxl.load_workbook(path)


def test_the_template_prints_each_sheet_on_a4_one_page_wide(template: openpyxl.Workbook) -> None:
    assert_prints(template[SHEET_TOELICHTING], landscape=False, title_rows=None, frozen=None)
    assert_prints(template[SHEET_OFFICE], landscape=True)
    assert_prints(template[SHEET_WERKGEVERS], landscape=True)


def test_the_template_is_set_in_one_font(template: openpyxl.Workbook) -> None:
    for name in (SHEET_TOELICHTING, SHEET_OFFICE, SHEET_WERKGEVERS):
        assert_one_font(template[name])
    assert template._fonts[0].name == FONT_NAME  # the default: of every cell a clerk adds


def test_the_toelichting_rows_are_as_tall_as_their_paragraphs(template: openpyxl.Workbook) -> None:
    ws = template[SHEET_TOELICHTING]
    assert_rows_fit_wrapped_text(ws)
    # its columns together fit an upright A4 page (about 96 character widths between the margins)
    assert sum(ws.column_dimensions[c].width for c in "ABCD") <= 96
    paragraphs = [r for r in ws.merged_cells.ranges if r.min_col == 1 and r.max_col == 4]
    assert len(paragraphs) >= 6


def test_the_werkgevers_header_wraps_and_fits(template: openpyxl.Workbook) -> None:
    assert_rows_fit_wrapped_text(template[SHEET_WERKGEVERS])
    assert template[SHEET_WERKGEVERS].row_dimensions[1].height >= 2 * 12.75  # 'DGA in verloning' takes two lines


def test_the_fouten_sheet_prints_with_rows_that_fit_melding_and_oplossing(make_workbook: WorkbookBuilder,
                                                                           tmp_path: Path) -> None:
    path = make_workbook([valid_row(werkgeverscode=87), valid_row(werkgeverscode="1002", dga="misschien"),
                          valid_row(werkgeverscode="1003", kvk_nummer="01-03-2026")])
    assert run_cli("process", path, "-o", tmp_path / "uit", "--format", "html", "--no-register").exit_code == 1
    ws = openpyxl.load_workbook(tmp_path / "uit" / "foutenrapport.xlsx")[ISSUES_SHEET]
    assert_prints(ws, landscape=True)
    assert_one_font(ws)
    assert_rows_fit_wrapped_text(ws)
    for row in range(2, 5):  # each issue's row is as tall as its longest text needs: no two overlap
        longest = max(lines_of(ws.cell(row, c).value, ws.column_dimensions[ws.cell(row, c).column_letter].width)
                      for c in (6, 7))
        assert longest >= 2 and ws.row_dimensions[row].height >= 12.75 * longest


@pytest.fixture
def status_workbook(make_workbook: WorkbookBuilder, tmp_path: Path) -> Worksheet:
    path = make_workbook(numbered_rows(3))
    assert run_cli("process", path, "-o", tmp_path / "uit", "--format", "html").exit_code == 0
    assert run_cli("mark", "submitted", "1001", "--on", "2026-01-05").exit_code == 0
    assert run_cli("mark", "confirmed", "1002", "--on", "2026-01-05", "--first-exchange", "2026-02-01").exit_code == 0
    assert run_cli("mark", "note", "1003", "--note", "Gebeld met a.s.r., referentie ASR-118, wacht op antwoord van "
                   "de werkgever over de 13e maand").exit_code == 0
    assert run_cli("status", "--xlsx", tmp_path / "register.xlsx").exit_code == 0
    return openpyxl.load_workbook(tmp_path / "register.xlsx")["Register"]


def test_the_status_workbook_prints_and_is_set_in_one_font(status_workbook: Worksheet) -> None:
    assert_prints(status_workbook, landscape=True)
    assert_one_font(status_workbook)
    assert_rows_fit_wrapped_text(status_workbook)


def test_the_status_workbook_has_date_cells_numbers_and_codes_as_text(status_workbook: Worksheet) -> None:
    headers = [cell.value for cell in status_workbook[1]]

    def cell(code: str, header: str) -> openpyxl.cell.cell.Cell:
        (row,) = [r for r in range(2, status_workbook.max_row + 1) if status_workbook.cell(r, 1).value == code]
        return status_workbook.cell(row, headers.index(header) + 1)

    for code in ("1001", "1002", "1003"):
        assert cell(code, "Werkgeverscode").data_type == "s"
        assert cell(code, "Laatst gezien").is_date and cell(code, "Laatst gezien").number_format == "dd-mm-yyyy"
        assert cell(code, "Documenten").data_type == "n" and cell(code, "Documenten").value == 1
    assert cell("1001", "Aangemeld op").value == datetime(2026, 1, 5) and cell("1001", "Aangemeld op").is_date
    assert isinstance(cell("1001", "Dagen wachten").value, int)
    assert cell("1002", "Bevestigd op").is_date and cell("1002", "Eerste uitwisseling").value == datetime(2026, 2, 1)
    assert cell("1002", "Eerste uitwisseling").number_format == "dd-mm-yyyy"


def test_the_readme_names_the_warning_fill_as_it_is() -> None:
    assert WARNING_FILL.fgColor.rgb == "FFFFEB9C"  # pale yellow, Excel's own 'Neutraal'
    assert "yellow: warning" in README.read_text(encoding="utf-8")
