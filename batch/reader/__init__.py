"""Read step: an .xlsx/.xlsm file to a `Table` of cells as the user sees them, with their A1 positions.

python-calamine (Rust) reads the values; it is many times faster than openpyxl and expands no XML
entities. What calamine cannot tell -- a formula whose result was never saved -- is found by scanning
the sheet's XML for formula cells without a `<v>` element.

One function per decision, in the order `read_table` takes them: check the file (workbook_file), open it,
find the sheet, find the header and map its columns (header), cap the rows, read the cells (with
special_cells), read the office's sheet. far_cells is the tolerance for stray cells far down or right.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook

from batch.catalogue import Issue, make_issue
from batch.errors import UnusableInput
from batch.fields import (
    FIELDS,
    FIELDS_BY_KEY,
    OFFICE_ALIASES,
    SECRET_FIELDS,
    SHEET_OFFICE,
    SHEET_WERKGEVERS,
    normalise_header,
)
from batch.limits import check_archive
from batch.model import Office
from batch.reader.far_cells import forget_shared_strings, trim_far_cells, with_entry
from batch.reader.header import FIX_TEMPLATE, Column, find_header, map_columns, missing_columns_message
from batch.reader.parts import read_entry, sheet_paths
from batch.reader.repeated_text import check_repeated_text
from batch.reader.special_cells import special_cells
from batch.reader.workbook_file import MAX_FILE_BYTES, check_file
from batch.redact import remember
from batch.values import Cell, clean_text, is_blank, to_cell

__all__ = ["MAX_FILE_BYTES", "MAX_ROWS", "Column", "Table", "read_table"]

MAX_ROWS = 100_000

Rows = list[list[object]]


@dataclass
class Table:
    file: Path
    sha256: str
    sheet: str
    header_row: int
    columns: dict[str, Column]  # by field key; a field absent from the file is absent here
    row_numbers: list[int]  # every row between the header and the last non-blank row
    # Raw values by field key, aligned with row_numbers: what calamine read, or a `Cell` for an Excel
    # error / unsaved formula that calamine reads as empty. `values.parse_column` interprets them.
    raw: dict[str, list[object]]
    blank: list[bool]
    office: Office
    office_cells: dict[str, str]  # office key -> A1 cell on the Salarisverwerker sheet
    file_issues: list[Issue] = field(default_factory=list)

    def header_of(self, key: str) -> str:
        column = self.columns.get(key)
        return column.header if column else FIELDS_BY_KEY[key].header

    def cell_of(self, key: str, row: int) -> str | None:
        column = self.columns.get(key)
        return f"{column.letter}{row}" if column else None


def read_table(path: Path) -> Table:
    """Read the employer table of a workbook. Raises UnusableInput when the file cannot be used."""
    data = check_file(path)
    archive, workbook = _open(path, data)
    try:
        with archive, workbook:
            return _read_open_workbook(path, data, archive, workbook)
    finally:
        forget_shared_strings()


def _open(path: Path, data: bytes) -> tuple[zipfile.ZipFile, CalamineWorkbook]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))  # the bytes that were hashed, not the file again
        archive.filename = str(path)  # for messages
        check_archive(archive, path.name)
        check_repeated_text(archive, path.name, MAX_ROWS)  # before calamine opens it: an .ods is read whole then
        # From the bytes, not the path: calamine then goes by the content, not the extension, so a
        # workbook saved as .xls by mistake is read too.
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (zipfile.BadZipFile, CalamineError, OSError, ValueError):
        raise UnusableInput(
            f"'{path.name}' is geen leesbare Excel-werkmap; het bestand is beschadigd of onvolledig.",
            "Open het in Excel en sla het opnieuw op als Excel-werkmap (.xlsx).",
        ) from None
    return archive, workbook


class _Sheets:
    """The open workbook's sheets as rows of values; the XML of each sheet read is kept for the scan of
    cells calamine reads as empty."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, workbook: CalamineWorkbook) -> None:
        self.path, self.archive, self.workbook = path, archive, workbook
        self.names = list(workbook.sheet_names)
        self.entries = sheet_paths(archive)
        self.xml_of: dict[str, bytes | None] = {}

    def rows(self, name: str) -> Rows:
        entry = self.entries.get(name)
        self.xml_of[name] = read_entry(self.archive, entry) if entry else None
        trimmed = trim_far_cells(self.archive, self.xml_of[name], name, MAX_ROWS)
        try:
            if trimmed is not None and entry is not None:
                self.xml_of[name] = trimmed
                sheet = with_entry(self.archive, entry, trimmed).get_sheet_by_name(name)
            else:
                sheet = self.workbook.get_sheet_by_name(name)
            return [list(r) for r in sheet.to_python(skip_empty_area=False)]
        except CalamineError:
            raise UnusableInput(
                f"Tabblad '{name}' van '{self.path.name}' kan niet worden gelezen; het bestand is beschadigd.",
                "Open het bestand in Excel en sla het opnieuw op als Excel-werkmap (.xlsx).",
            ) from None

    def take_xml(self, name: str) -> bytes | None:
        """The XML of sheet `name`, letting go of every sheet's XML."""
        xml = self.xml_of.pop(name, None)
        self.xml_of.clear()
        return xml


def _read_open_workbook(path: Path, data: bytes, archive: zipfile.ZipFile,
                        workbook: CalamineWorkbook) -> Table:
    sheets = _Sheets(path, archive, workbook)
    office_name = next((n for n in sheets.names if normalise_header(n) == normalise_header(SHEET_OFFICE)), None)
    sheet, rows, header_index = _find_sheet(path, sheets, office_name)
    header_row = header_index + 1
    header = rows[header_index]
    columns, file_issues = map_columns(header, header_row)
    if any(f.column_required and f.key not in columns for f in FIELDS):
        raise missing_columns_message(sheet, header_row, columns, header)

    data_rows = _capped(sheet, rows[header_index + 1:])
    first = header_row + 1
    raw, blank = _read_cells(columns, data_rows, special_cells(sheets.take_xml(sheet)), first)
    row_numbers = list(range(first, first + len(blank)))

    office_values: dict[str, str | None] = {}
    office_cells: dict[str, str] = {}
    if office_name is None:
        file_issues.append(make_issue("salarisverwerker_ontbreekt"))
    else:
        office_values, office_cells = _read_office(sheets.rows(office_name))
    _remember_secrets(office_values, raw)

    return Table(
        file=path,
        sha256=hashlib.sha256(data).hexdigest(),
        sheet=sheet,
        header_row=header_row,
        columns=columns,
        row_numbers=row_numbers,
        raw=raw,
        blank=blank,
        office=Office(office_values),
        office_cells=office_cells,
        file_issues=file_issues,
    )


def _find_sheet(path: Path, sheets: _Sheets, office_name: str | None) -> tuple[str, Rows, int]:
    """The employer sheet, its rows and the 0-based index of its header row: the sheet named Werkgevers if
    its header is recognised, else the sheet whose header has the most known fields."""
    names = sheets.names
    preferred = [n for n in names if normalise_header(n) == normalise_header(SHEET_WERKGEVERS)]
    candidates = preferred + [n for n in names if n not in preferred and n != office_name]
    best: tuple[str, Rows, int, int] | None = None
    for name in candidates:
        rows = sheets.rows(name)
        index, score = find_header(rows)
        if score >= 2 and (best is None or score > best[3]):
            best = (name, rows, index, score)
            if name in preferred:
                break
    if best is None:
        raise UnusableInput(
            f"In '{path.name}' staat op geen enkel tabblad ({', '.join(names) or 'geen'}) een koprij met "
            "kolommen als 'Werkgeverscode', 'Naam werkgever' en '13e maand'.",
            FIX_TEMPLATE,
        )
    sheet, rows, header_index, _ = best
    return sheet, rows, header_index


def _capped(sheet: str, data_rows: Rows) -> Rows:
    """The rows under the header, refused when more than MAX_ROWS of them hold values."""
    if len(data_rows) > MAX_ROWS:
        # Formatting can stretch a sheet's used range; only rows with values count against the cap.
        while data_rows and not any(v not in ("", None) for v in data_rows[-1]):
            data_rows.pop()
        if len(data_rows) > MAX_ROWS:
            raise UnusableInput(
                f"Tabblad '{sheet}' heeft {len(data_rows):,} rijen; asr-batch verwerkt er hoogstens "
                f"{MAX_ROWS:,} per keer.".replace(",", "."),
                "Splits de werkgevers over meer bestanden.",
            )
    return data_rows


def _read_cells(columns: dict[str, Column], data_rows: Rows, special: dict[tuple[int, int], Cell],
                first: int) -> tuple[dict[str, list[object]], list[bool]]:
    """Each mapped column's values down to the last row that is not blank, and which rows are blank;
    `special` cells (keyed by Excel row) stand in for what calamine read there. `first` is the first
    data row's Excel number."""
    last_special = max((number for number, _ in special), default=0)
    if last_special >= first + len(data_rows):  # calamine's range ends at the last cell with a value
        data_rows = data_rows + [[] for _ in range(last_special - first - len(data_rows) + 1)]
    raw: dict[str, list[object]] = {}
    width = len(data_rows[0]) if data_rows else 0
    # calamine's rows are all as wide as the sheet's range: one transposition in C gives every column
    by_column = list(zip(*data_rows, strict=True)) if all(len(row) == width for row in data_rows) else []
    for key, column in columns.items():
        index = column.index
        if index < len(by_column):
            values = list(by_column[index])
        else:
            values = [row[index] if index < len(row) else None for row in data_rows]
        for (number, col), cell in special.items():
            if col == index and 0 <= number - first < len(values):
                values[number - first] = cell
        raw[key] = values
    blank = [all(map(is_blank, cells)) for cells in zip(*raw.values(), strict=True)] if raw else []
    while blank and blank[-1]:
        blank.pop()
    for values in raw.values():
        del values[len(blank):]
    return raw, blank


def _read_office(rows: Rows) -> tuple[dict[str, str | None], dict[str, str]]:
    values: dict[str, str | None] = {}
    cells: dict[str, str] = {}
    for index, row in enumerate(rows):
        if not row or not isinstance(row[0], str):
            continue
        key = OFFICE_ALIASES.get(normalise_header(row[0]))
        if key is None or key in values:
            continue
        value = to_cell(row[1]).text if len(row) > 1 else None
        values[key] = value
        cells[key] = f"B{index + 1}"
    return values, cells


def _remember_secrets(office_values: dict[str, str | None], raw: dict[str, list[object]]) -> None:
    """Every secret as read, so that batch.redact masks it in every text that leaves the process."""
    for key in SECRET_FIELDS:
        remember(office_values.get(key))
        for value in raw.get(key, []):
            remember(clean_text(value) if isinstance(value, str) else to_cell(value).text)
