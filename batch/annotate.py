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
When the input cannot be opened by openpyxl (not an .xlsx/.xlsm), the copy holds only sheet Fouten, without
links.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from batch.catalogue import Issue, Severity
from batch.files import write_private
from batch.model import Result

COMMENT_AUTHOR = "asr-batch"
ISSUES_SHEET = "Fouten"
ISSUES_HEADERS = ("Rij", "Cel", "Kolom", "Ernst", "Code", "Melding", "Oplossing")
ISSUES_WIDTHS = (7, 9, 24, 15, 26, 70, 70)
SEVERITY_LABELS = {Severity.ERROR: "Fout", Severity.WARNING: "Waarschuwing"}
ERROR_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
WARNING_FILL = PatternFill(fill_type="solid", start_color="FFFFEB9C", end_color="FFFFEB9C")
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDE5F0", end_color="FFDDE5F0")
LINK_FONT = Font(color="FF0563C1", underline="single")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_MAX_CELL_TEXT = 32_767


def write_text(cell: Cell, text: str) -> None:
    """Put `text` in `cell` as a plain string that Excel will never evaluate as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:_MAX_CELL_TEXT]
    cell.value = text
    cell.data_type = "s"  # openpyxl marks text starting with "=" as a formula; undo that
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True


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


def _issues_sheet(wb: Workbook, result: Result, data: Worksheet | None) -> Worksheet:
    ws = wb.create_sheet(_unique_sheet_name(wb.sheetnames, ISSUES_SHEET))
    for column, (header, width) in enumerate(zip(ISSUES_HEADERS, ISSUES_WIDTHS, strict=True), start=1):
        cell = ws.cell(row=1, column=column)
        write_text(cell, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(column)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for r, issue in enumerate(result.all_issues, start=2):
        if issue.row is not None:
            ws.cell(row=r, column=1, value=issue.row).alignment = top
        target = _target(data, issue) if data is not None else None
        label = issue.cell or (f"rij {issue.row}" if target else "")
        if label:
            cell = ws.cell(row=r, column=2)
            write_text(cell, label)
            cell.alignment = top
            if data is not None and target:
                cell.hyperlink = Hyperlink(ref=cell.coordinate, location=_internal_link(data.title, target))
                cell.font = LINK_FONT
        texts = (issue.column or "", SEVERITY_LABELS[issue.severity], issue.code, issue.message, issue.fix)
        for column, text in enumerate(texts, start=3):
            cell = ws.cell(row=r, column=column)
            write_text(cell, text)
            cell.alignment = wrap if column >= 6 else top
        if issue.severity is Severity.ERROR:
            ws.cell(row=r, column=4).fill = ERROR_FILL
        else:
            ws.cell(row=r, column=4).fill = WARNING_FILL
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ISSUES_HEADERS))}{max(1, len(result.all_issues) + 1)}"
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
    if wb is None:
        wb = Workbook()
        wb.remove(wb.active)
    elif sheet_name in wb.sheetnames and isinstance(wb[sheet_name], Worksheet):
        data = wb[sheet_name]
    if data is not None:
        by_cell: dict[str, list[Issue]] = defaultdict(list)
        for issue in result.all_issues:
            coordinate = _target(data, issue)
            if coordinate:
                by_cell[coordinate].append(issue)
        for coordinate, issues in by_cell.items():
            _mark(data, coordinate, issues)
    issues_ws = _issues_sheet(wb, result, data)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = False
    issues_ws.sheet_view.tabSelected = True
    wb.active = wb.sheetnames.index(issues_ws.title)
    # Owner-only: the copy holds the office's own values, Client Secrets included.
    buffer = io.BytesIO()
    wb.save(buffer)
    write_private(dest, buffer.getvalue())
