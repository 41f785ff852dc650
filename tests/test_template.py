"""The blank template: what `asr-batch template` writes, checked by reading the saved file back."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from batch.errors import UnusableInput
from batch.fields import (
    FIELDS,
    OFFICE_FIELDS,
    SHEET_LISTS,
    SHEET_OFFICE,
    SHEET_TOELICHTING,
    SHEET_WERKGEVERS,
)
from batch.template import LAST_ROW, write_template


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = write_template(tmp_path_factory.mktemp("template") / "asr-werkgevers.xlsx")
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def werkgevers(workbook: openpyxl.Workbook) -> Worksheet:
    return workbook[SHEET_WERKGEVERS]


def validation_for(ws: Worksheet, column: int) -> DataValidation:
    letter = openpyxl.utils.get_column_letter(column)
    found = [dv for dv in ws.data_validations.dataValidation if f"{letter}2" in dv.sqref]
    assert len(found) == 1, f"column {letter} has {len(found)} validations"
    assert f"{letter}{LAST_ROW}" in found[0].sqref
    return found[0]


def list_values(workbook: openpyxl.Workbook, formula: str) -> list[object]:
    sheet, cells = formula.lstrip("=").rsplit("!", 1)
    return [row[0].value for row in workbook[sheet.strip("'")][cells.replace("$", "")]]


def test_sheets_in_order_with_the_lists_sheet_hidden(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == [SHEET_TOELICHTING, SHEET_OFFICE, SHEET_WERKGEVERS, SHEET_LISTS]
    states = {ws.title: ws.sheet_state for ws in workbook.worksheets}
    assert states == {SHEET_TOELICHTING: "visible", SHEET_OFFICE: "visible", SHEET_WERKGEVERS: "visible",
                      SHEET_LISTS: "hidden"}


def test_werkgevers_header_is_the_field_table(werkgevers: Worksheet) -> None:
    assert [c.value for c in werkgevers[1]] == [f.header for f in FIELDS]
    assert werkgevers.freeze_panes == "A2"
    assert all(c.font.bold for c in werkgevers[1])


def test_blank_template_has_no_data_rows(werkgevers: Worksheet) -> None:
    values = [c.value for row in werkgevers.iter_rows(min_row=2) for c in row]
    assert not any(v is not None for v in values)


def test_identifier_columns_are_text_and_others_are_not(werkgevers: Worksheet) -> None:
    for col, f in enumerate(FIELDS, 1):
        formats = {werkgevers.cell(row, col).number_format for row in (2, 500, LAST_ROW)}
        assert formats == ({"@"} if f.as_text else {"General"}), f.header
    assert any(f.as_text for f in FIELDS) and not all(f.as_text for f in FIELDS)


def test_column_widths_come_from_the_field_table(werkgevers: Worksheet) -> None:
    for col, f in enumerate(FIELDS, 1):
        width = werkgevers.column_dimensions[openpyxl.utils.get_column_letter(col)].width
        assert width >= f.width, f.header


def test_every_column_has_an_input_message(werkgevers: Worksheet) -> None:
    for col, f in enumerate(FIELDS, 1):
        dv = validation_for(werkgevers, col)
        assert dv.showInputMessage
        assert dv.promptTitle == f.header[:32]
        assert dv.prompt == f.help[:255]


def test_choice_columns_have_dropdowns_from_list_ranges(workbook: openpyxl.Workbook,
                                                        werkgevers: Worksheet) -> None:
    choice_fields = [(col, f) for col, f in enumerate(FIELDS, 1) if f.choices]
    assert {f.key for _, f in choice_fields} == {"dga", "dertiende_maand", "verloning"}
    for col, f in choice_fields:
        dv = validation_for(werkgevers, col)
        assert dv.type == "list"
        assert SHEET_LISTS in dv.formula1 and '"' not in dv.formula1  # a range, not an inline list
        assert list_values(workbook, dv.formula1) == list(f.choices)
        assert dv.showErrorMessage and dv.error and dv.errorStyle == "warning"


def test_free_columns_have_no_dropdown(werkgevers: Worksheet) -> None:
    for col, f in enumerate(FIELDS, 1):
        if not f.choices:
            assert validation_for(werkgevers, col).type is None, f.header


def test_office_sheet_lists_the_office_fields(workbook: openpyxl.Workbook) -> None:
    ws = workbook[SHEET_OFFICE]
    assert [c.value for c in ws[1]] == ["Gegeven", "Waarde", "Toelichting"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [f.label for f in OFFICE_FIELDS]
    assert [r[1] for r in rows] == [None] * len(OFFICE_FIELDS)
    assert [r[2] for r in rows] == [f.help for f in OFFICE_FIELDS]
    assert {ws.cell(row, 2).number_format for row in range(2, len(OFFICE_FIELDS) + 2)} == {"@"}


def test_toelichting_explains_every_column_and_the_exit_codes(workbook: openpyxl.Workbook) -> None:
    ws = workbook[SHEET_TOELICHTING]
    rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
    by_first = {r[0]: r for r in rows}
    for f in FIELDS:
        assert by_first[f.header][2] == f.help
    text = "\n".join(str(v) for r in rows for v in r if v is not None)
    for needle in (".01", "Toegangsbeheer", "Autorisatie Werkgevers", "Web API gebruiker",
                   "asr.nl/salarisverwerkers", "asr-batch validate", "asr-batch process", "AVG"):
        assert needle in text
    assert {"0", "1", "2"} <= set(by_first)


def test_write_template_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "asr-werkgevers.xlsx"
    path.write_bytes(b"eigen werk")
    with pytest.raises(UnusableInput) as excinfo:
        write_template(path)
    assert "bestaat al" in excinfo.value.message and "--force" in excinfo.value.fix
    assert path.read_bytes() == b"eigen werk"


def test_write_template_overwrites_with_force(tmp_path: Path) -> None:
    path = tmp_path / "asr-werkgevers.xlsx"
    path.write_bytes(b"oud")
    assert write_template(path, force=True) == path
    assert openpyxl.load_workbook(path).sheetnames[0] == SHEET_TOELICHTING
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


@pytest.mark.parametrize("name", ["werkgevers.xls", "werkgevers.csv", "werkgevers"])
def test_write_template_wants_an_xlsx_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnusableInput, match=r"\.xlsx"):
        write_template(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_write_template_wants_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput, match="bestaat niet"):
        write_template(tmp_path / "ontbreekt" / "asr-werkgevers.xlsx")
