"""An .ods (LibreOffice's own format, which openpyxl cannot open) as an .xlsx of its values, for foutenrapport.xlsx:
the same sheets in the same order, every cell where it was, as the reader saw it. Formatting, formulas, comments
and dropdowns are not carried over; the Fouten sheet says so (VALUES_NOTE).

Every text is written as plain text, never as a formula (annotate.write_text); dates stay dates, numbers numbers.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook

from batch.sheet_print import print_setup, use_house_font, write_text

VALUES_NOTE = (
    "Let op: '{name}' is geen Excel-werkmap; dit is een kopie van de waarden ervan, met de foute cellen gemarkeerd. "
    "Opmaak, formules en keuzelijsten staan er niet in. Verbeter de fouten in '{name}' zelf (of ga verder in deze "
    "kopie) en draai asr-batch opnieuw."
)
DATE_FORMAT = "dd-mm-yyyy"
_MAX_WIDTH = 50
_MAX_SHEET_TITLE = 31  # Excel's limit; calamine reads longer names from an .ods


def copy_values(source: Path, sheet: str, header_row: int) -> Workbook:
    """The workbook at `source` as values, each sheet set up to print: `sheet` (the werkgevers) frozen under its
    header row `header_row`, the others under their first row. A file that cannot be read gives a workbook without
    sheets."""
    wb = Workbook()
    wb.remove(wb.active)
    use_house_font(wb)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(source.read_bytes()))
        sheets = [(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
                  for name in workbook.sheet_names]
    except (CalamineError, OSError, ValueError, zipfile.BadZipFile):
        return wb
    for name, rows in sheets:
        ws = wb.create_sheet(name[:_MAX_SHEET_TITLE])
        widths: dict[int, int] = {}
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                shown = _put(ws.cell(row=r, column=c), value)
                if shown:
                    widths[c] = max(widths.get(c, 0), min(_MAX_WIDTH, shown + 2))
        for c, width in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = max(width, 8)
        header = header_row if name == sheet else 1
        print_setup(ws, landscape=len(widths) > 5, title_rows=header, freeze=f"A{header + 1}")
    return wb


def _put(cell: Cell, value: object) -> int:
    """Write one value as what it is; returns how many characters it shows (for the column's width)."""
    if value is None or value == "":
        return 0
    if isinstance(value, str):
        write_text(cell, value)
        return max(len(line) for line in value.split("\n"))
    if isinstance(value, (datetime, date)):
        cell.value = value
        timed = isinstance(value, datetime) and value.time() != time()
        cell.number_format = DATE_FORMAT + " hh:mm" if timed else DATE_FORMAT
        return 16
    if isinstance(value, (bool, int, float, time, timedelta)):
        cell.value = value
        return len(str(value))
    write_text(cell, str(value))
    return len(str(value))
