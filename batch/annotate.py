"""foutenrapport.xlsx: a copy of the office's own workbook with every flagged cell marked, plus a sheet Fouten.

The input is only read. The copy is loaded with formulas (not cached values) so the office's own formulas stay
as they were; macros are not carried over (openpyxl drops them; the copy is an .xlsx). Every text this module
writes is stored as a plain string (data type "s", never a formula) and, when it starts with = + - @ or a
tab/CR/LF, gets Excel's quote prefix so it cannot be evaluated, even after someone edits the cell.

Where an issue lands:
- issue.cell set: that cell on the data sheet (the top-left cell when it lies in a merged range) gets a fill
  (errors red, warnings yellow; an error wins) and a comment with every message and fix for that cell.
- only issue.row set: the row's first used cell is marked the same way, so the row still stands out.
- neither (file-level issues without a cell): listed on sheet Fouten only.
An .ods (which openpyxl cannot open) is copied from its values instead (value_copy.py): the same sheets, the cells
as the reader saw them, without the office's formatting, formulas or dropdowns; sheet Fouten says so. Any other
file openpyxl cannot open gets only sheet Fouten, without links.

Sheet Fouten prints on A4 landscape, one page wide, its header on every page (sheet_print.py).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from batch.catalogue import Issue, Severity
from batch.files import write_private
from batch.model import Result
from batch.sheet_print import BOLD, fit_row_heights, font, print_setup, write_text

COMMENT_AUTHOR = "asr-batch"
ISSUES_SHEET = "Fouten"
ISSUES_HEADERS = ("Rij", "Cel", "Kolom", "Ernst", "Code", "Melding", "Oplossing")
# Melding and Oplossing wrap; together the columns fit A4 landscape at nearly full size.
ISSUES_WIDTHS = (6, 9, 18, 13, 22, 46, 46)
SEVERITY_LABELS = {Severity.ERROR: "Fout", Severity.WARNING: "Waarschuwing"}
ERROR_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
WARNING_FILL = PatternFill(fill_type="solid", start_color="FFFFEB9C", end_color="FFFFEB9C")
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDE5F0", end_color="FFDDE5F0")
LINK_FONT = font(color="FF0563C1", underline="single")
_MAX_CELL_TEXT = 32_767


def _internal_link(sheet: str, coordinate: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + coordinate


def _target(ws: Worksheet, issue: Issue) -> str | None:
    """The coordinate an issue is shown at on the data sheet (see the module docstring)."""
    if issue.cell:
        try:
            coordinate_from_string(issue.cell)
        except ValueError:
            return None
        for merged in ws.merged_cells.ranges:
            if issue.cell in merged:
                return str(merged.start_cell.coordinate)
        return issue.cell
    if issue.row:
        return f"{get_column_letter(ws.min_column or 1)}{issue.row}"
    return None


def _comment_text(issues: list[Issue]) -> str:
    parts = []
    for issue in issues:
        parts.append(f"{SEVERITY_LABELS[issue.severity]}: {issue.message}\n{issue.fix}".strip())
    return "\n\n".join(parts)


def _mark(ws: Worksheet, coordinate: str, issues: list[Issue]) -> None:
    cell = ws[coordinate]
    worst = Severity.ERROR if any(i.severity is Severity.ERROR for i in issues) else Severity.WARNING
    cell.fill = ERROR_FILL if worst is Severity.ERROR else WARNING_FILL
    text = _comment_text(issues)
    if cell.comment is not None and cell.comment.author != COMMENT_AUTHOR:
        text += f"\n\nEerdere opmerking ({cell.comment.author or 'onbekend'}):\n{cell.comment.text}"
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:_MAX_CELL_TEXT]
    lines = sum(1 + len(line) // 48 for line in text.split("\n"))
    cell.comment = Comment(text, COMMENT_AUTHOR, height=min(40 + 14 * lines, 600), width=320)


def _unique_sheet_name(names: list[str], wanted: str) -> str:
    taken = {n.casefold() for n in names}
    candidates = [wanted, f"{wanted} (asr-batch)", *(f"{wanted} {n}" for n in range(2, 100))]
    return next(c for c in candidates if c.casefold() not in taken)


def _issues_sheet(wb: Workbook, result: Result, data: Worksheet | None, note: str | None = None) -> Worksheet:
    ws = wb.create_sheet(_unique_sheet_name(wb.sheetnames, ISSUES_SHEET))
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for column, (header, width) in enumerate(zip(ISSUES_HEADERS, ISSUES_WIDTHS, strict=True), start=1):
        cell = ws.cell(row=1, column=column)
        write_text(cell, header)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, wrap
        ws.column_dimensions[get_column_letter(column)].width = width
    for r, issue in enumerate(result.all_issues, start=2):
        if issue.row is not None:
            number = ws.cell(row=r, column=1, value=issue.row)
            number.alignment, number.font = top, font()
        target = _target(data, issue) if data is not None else None
        label = issue.cell or (f"rij {issue.row}" if target else "")
        if label:
            cell = ws.cell(row=r, column=2)
            write_text(cell, label)
            cell.alignment, cell.font = top, font()
            if data is not None and target:
                cell.hyperlink = Hyperlink(ref=cell.coordinate, location=_internal_link(data.title, target))
                cell.font = LINK_FONT
        texts = (issue.column or "", SEVERITY_LABELS[issue.severity], issue.code, issue.message, issue.fix)
        for column, text in enumerate(texts, start=3):
            cell = ws.cell(row=r, column=column)
            write_text(cell, text)
            cell.alignment, cell.font = wrap, font()
        if issue.severity is Severity.ERROR:
            ws.cell(row=r, column=4).fill = ERROR_FILL
        else:
            ws.cell(row=r, column=4).fill = WARNING_FILL
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ISSUES_HEADERS))}{max(1, len(result.all_issues) + 1)}"
    if note:  # under the list, outside the filter: sorting the issues leaves it where it is
        cell = ws.cell(row=len(result.all_issues) + 3, column=1)
        write_text(cell, note)
        cell.font, cell.alignment = font(bold=True), wrap
        ws.merge_cells(start_row=cell.row, start_column=1, end_row=cell.row, end_column=len(ISSUES_HEADERS))
    fit_row_heights(ws)
    print_setup(ws, landscape=True)
    return ws


def _open_copy(source: Path) -> Workbook | None:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it drops (extensions, slicers): not the office's concern here.
            warnings.simplefilter("ignore")
            return load_workbook(source, data_only=False, keep_vba=False, keep_links=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError):
        return None


def write_annotated_copy(source: Path, result: Result, sheet_name: str, dest: Path) -> None:
    """Write foutenrapport.xlsx to `dest`: `source` with the issues of `result` marked on sheet `sheet_name`,
    and a sheet Fouten listing every issue with a link to its cell. `source` is never written."""
    if dest.resolve() == source.resolve():
        raise ValueError("the annotated copy may not overwrite the input workbook")
    wb = _open_copy(source)
    data: Worksheet | None = None
    note = None
    if wb is None:
        from batch.value_copy import VALUES_NOTE, copy_values

        wb = copy_values(source, sheet_name, result.input.header_row)
        note = VALUES_NOTE.format(name=source.name) if wb.worksheets else None
    if sheet_name in wb.sheetnames and isinstance(wb[sheet_name], Worksheet):
        data = wb[sheet_name]
    if data is not None:
        by_cell: dict[str, list[Issue]] = defaultdict(list)
        for issue in result.all_issues:
            coordinate = _target(data, issue)
            if coordinate:
                by_cell[coordinate].append(issue)
        for coordinate, issues in by_cell.items():
            _mark(data, coordinate, issues)
    issues_ws = _issues_sheet(wb, result, data, note)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = False
    issues_ws.sheet_view.tabSelected = True
    wb.active = wb.sheetnames.index(issues_ws.title)
    # Owner-only: the copy holds the office's own values, Client Secrets included.
    buffer = io.BytesIO()
    wb.save(buffer)
    write_private(dest, buffer.getvalue())
