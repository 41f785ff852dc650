"""How every workbook asr-batch writes looks and prints: one font, A4 with the header row on every page, frozen
header rows, one page wide, and row heights that fit wrapped text.

One font, Arial: Excel has it on every Windows and Mac, and LibreOffice brings Liberation Sans, which has the same
letter widths, on every system (Calibri, Excel's default, is missing from LibreOffice without an extra font
package, and a substitute with other widths breaks the row heights estimated here). Row heights are set by hand
because neither Excel nor LibreOffice sizes a row with wrapped text that openpyxl wrote, and neither ever sizes a
merged cell.
"""

from __future__ import annotations

import math
import textwrap
from copy import copy
from typing import TYPE_CHECKING

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "Arial"
FONT_SIZE = 10
BODY = Font(name=FONT_NAME, size=FONT_SIZE)
BOLD = Font(name=FONT_NAME, size=FONT_SIZE, bold=True)
LINE_HEIGHT = 12.75  # points per line of Arial 10: the height Excel gives a row of one line
# Characters of ordinary text per unit of column width. The unit is the width of a digit; text averages narrower,
# but words wrap whole: a little under the average keeps a row tall enough rather than cutting a line off.
CHARS_PER_UNIT = 1.1
DEFAULT_WIDTH = 8.43  # Excel's width of a column nobody sized
_PADDING = 3.0  # points above and below the text


def font(*, bold: bool = False, size: float = FONT_SIZE, color: str | None = None,
         underline: str | None = None) -> Font:
    """The house font, with what makes a cell stand out."""
    return Font(name=FONT_NAME, size=size, bold=bold, color=color, underline=underline)


def use_house_font(wb: Workbook) -> None:
    """Make the house font the default of a new workbook: of every cell without a font of its own, and of every
    cell a clerk adds later (Excel's Normal style)."""
    wb._fonts = IndexedList([copy(BODY)])  # openpyxl keeps the default font first; no public way to change it
    for style in wb._named_styles:
        if style.name == "Normal":
            style.font = copy(BODY)


def print_setup(ws: Worksheet, *, landscape: bool, title_rows: int | None = 1, freeze: str | None = "A2") -> None:
    """A4, one page wide (as many pages long as it takes), `title_rows` repeated on every page, frozen panes at
    `freeze`."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: as many pages as it needs
    ws.page_margins.left = ws.page_margins.right = 0.5  # inches
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.gridLines = False
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"
    if freeze:
        ws.freeze_panes = freeze
    ws.oddFooter.center.text = "&A, pagina &P van &N"  # the sheet's name and the page, on every page
    ws.oddFooter.center.font = FONT_NAME


def lines_of(text: str, width: float) -> int:
    """The lines `text` takes in a wrapped cell `width` units wide (its own line breaks included)."""
    per_line = max(1, math.floor(width * CHARS_PER_UNIT))
    return sum(max(1, len(textwrap.wrap(part, per_line, break_long_words=True, break_on_hyphens=False)))
               for part in text.split("\n"))


def height_for(lines: int, size: float = FONT_SIZE) -> float:
    return round(lines * LINE_HEIGHT * size / FONT_SIZE + _PADDING, 1)


def column_width(ws: Worksheet, column: int) -> float:
    dimension = ws.column_dimensions.get(get_column_letter(column))
    return float(dimension.width) if dimension is not None and dimension.width else DEFAULT_WIDTH


def fit_row_heights(ws: Worksheet, first_row: int = 1) -> None:
    """Give every row from `first_row` that holds wrapped text the height its tallest cell needs: a merged cell by
    the width of all its columns."""
    merged = {(r.min_row, r.min_col): sum(column_width(ws, c) for c in range(r.min_col, r.max_col + 1))
              for r in ws.merged_cells.ranges if r.min_row == r.max_row}
    for row in ws.iter_rows(min_row=first_row):
        tallest = 0.0
        for cell in row:
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            width = merged.get((cell.row, cell.column)) or column_width(ws, cell.column)
            size = float(cell.font.sz or FONT_SIZE) if cell.font is not None else FONT_SIZE
            tallest = max(tallest, height_for(lines_of(cell.value, width * FONT_SIZE / size), size))
        if tallest:
            ws.row_dimensions[row[0].row].height = tallest


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_MAX_CELL_TEXT = 32_767


def write_text(cell: Cell, text: str) -> None:
    """Put `text` in `cell` as a plain string that Excel will never evaluate as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:_MAX_CELL_TEXT]
    cell.value = text
    cell.data_type = "s"  # openpyxl marks text starting with "=" as a formula; undo that
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True
