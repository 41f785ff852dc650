"""Writing the register workbook (`status --xlsx`): one row per werkgever with the columns of `status`, the three
dates a clerk fills in as real date cells (the rest protected, without a password, so that a stray keystroke
cannot change a code), and a hidden sheet with each row as it was written."""

from __future__ import annotations

import contextlib
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from batch import file_errors
from batch.errors import UnusableInput
from batch.files import FILE_MODE
from batch.register_workbook.layout import (
    COLUMNS,
    DATE_FORMAT,
    EDITABLE,
    FIRST_EXCHANGE,
    HIDDEN,
    KEY_IDENTITY,
    KEY_REGISTER,
    KEY_SHEET,
    KEY_WRITTEN,
    LINKED,
    MARKER,
    ROW_HEADERS,
    SHEET,
    SUBMITTED,
    VERSION,
    register_identity,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from batch.register import Employer, Listing, Status

_PROMPTS = {
    SUBMITTED: "De dag waarop u de werkgever bij a.s.r. hebt aangemeld (stap 2), als dd-mm-jjjj. Niet in de "
               "toekomst. Leeg laten als dat nog niet is gebeurd.",
    "Bevestigd op": "De dag waarop a.s.r. de aanmelding bevestigde (stap 3), als dd-mm-jjjj. Vul ook Eerste "
                    "uitwisseling in.",
    FIRST_EXCHANGE: "De datum van de eerste gegevensuitwisseling die a.s.r. in de bevestiging noemt, als "
                    "dd-mm-jjjj. Hoort bij Bevestigd op.",
    LINKED: "De dag waarop u de werkgever in Exact aan de gebruikersgroep hebt gekoppeld (stap 1), als dd-mm-jjjj. "
            "Niet na Aangemeld op. Leeg laten mag.",
}
_EDITABLE_FILL = "FFFFF7D6"  # a pale yellow: the cells to fill in
_TOO_LONG_FILL = "FFF8D7D2"  # a pale red: waiting too long


def export_register(given: str | None, path: Path, listing: Listing) -> Status:
    """Write the register workbook of the register at `given` (its rows as `listing` chooses) to `path`, owner-only;
    returns the status it shows. An absent register gives a workbook without rows (nothing is created)."""
    from batch.register import Status, locate, using

    with using(given) as opened:
        status = opened.status(with_latest_events=True) if opened is not None else Status(locate(given).shown, [])
        identity = register_identity(opened.key) if opened is not None else ""
    write_workbook(status, path, listing, identity)
    return status


def write_workbook(status: Status, path: Path, listing: Listing, identity: str) -> None:
    from openpyxl import Workbook

    from batch.sheet_print import use_house_font

    file_errors.check_name(path, "Het bestand")
    wb = Workbook()
    use_house_font(wb)
    ws = wb.worksheets[0]
    ws.title = SHEET
    shown = status.shown(listing)
    _visible_sheet(ws, shown, listing)
    _hidden_sheet(wb.create_sheet(HIDDEN), status.register, identity, shown)
    wb.security.lockStructure = True  # no sheet unhidden, renamed or deleted by accident (no password)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        if hasattr(os, "fchmod"):  # a file replaced with --force becomes owner-only too (where it is ours)
            with contextlib.suppress(OSError):
                os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            wb.save(out)
    except OSError as exc:
        raise file_errors.explained(exc, path, "geschreven") or UnusableInput(
            f"'{path}' kan niet worden geschreven ({exc.strerror or type(exc).__name__}).",
            "Kies een map waarin u mag schrijven, en sluit het bestand als het in Excel open staat.") from None


def _values(employer: Employer, listing: Listing) -> list[str | date | int | None]:
    """One werkgever's row: text as text (never a formula), dates as dates, counts as numbers."""
    from batch.register import STATES
    from batch.status_report import changes_text, confirmed_text

    waiting = employer.days_waiting(listing.today)
    too_long = employer.waiting_too_long(listing.today, listing.waiting_over)
    source = f"{employer.source_file}, rij {employer.source_row}" if employer.source_file else ""
    # an earlier confirmation says so, in its date cell: read back, that text is the date it was (checking.py)
    confirmed = confirmed_text(employer) if employer.confirmed_earlier else employer.confirmed_on
    return [employer.werkgeverscode, employer.naam or "", STATES[employer.state], employer.last_seen,
            employer.submitted_on, waiting, f"ja (> {listing.waiting_over} dagen)" if too_long else "",
            confirmed, employer.first_exchange, source, len(employer.documents), employer.linked_on,
            changes_text(employer), employer.note or ""]


def _visible_sheet(ws: Worksheet, shown: list[Employer], listing: Listing) -> None:
    from openpyxl.styles import Alignment, PatternFill, Protection
    from openpyxl.utils import get_column_letter

    from batch.annotate import HEADER_FILL
    from batch.sheet_print import BOLD, fit_row_heights, print_setup, write_text

    editable_fill = PatternFill(fill_type="solid", start_color=_EDITABLE_FILL, end_color=_EDITABLE_FILL)
    too_long_fill = PatternFill(fill_type="solid", start_color=_TOO_LONG_FILL, end_color=_TOO_LONG_FILL)
    open_cell = Protection(locked=False)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for number, column in enumerate(COLUMNS, 1):
        cell = ws.cell(1, number)
        write_text(cell, column.header)
        cell.font, cell.alignment = BOLD, wrap
        cell.fill = editable_fill if column.header in EDITABLE else HEADER_FILL
        ws.column_dimensions[get_column_letter(number)].width = column.width
    headers = [column.header for column in COLUMNS]
    for row, employer in enumerate(shown, 2):
        values = _values(employer, listing)
        for number, (header, value) in enumerate(zip(headers, values, strict=True), 1):
            cell = ws.cell(row, number)
            if isinstance(value, str):
                write_text(cell, value)
            else:
                cell.value = value
            cell.alignment = wrap if isinstance(value, str) else top
            if isinstance(value, date) or header in EDITABLE:
                cell.number_format = DATE_FORMAT
            if header in EDITABLE:
                cell.protection = open_cell
                cell.fill = editable_fill
        if employer.waiting_too_long(listing.today, listing.waiting_over):
            for number in (headers.index("Dagen wachten") + 1, headers.index("Wacht te lang") + 1):
                ws.cell(row, number).fill = too_long_fill
    if shown:
        for header in EDITABLE:
            letter = get_column_letter(headers.index(header) + 1)
            _date_validation(ws, header, f"{letter}2:{letter}{len(shown) + 1}")
    fit_row_heights(ws)
    print_setup(ws, landscape=True)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(shown) + 1}"
    # Protected without a password, so that a stray keystroke cannot change a code; sorting, filtering and
    # widening columns stay allowed (openpyxl's False: not protected against).
    ws.protection.sheet = True
    ws.protection.sort = False
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False


def _date_validation(ws: Worksheet, header: str, cells: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    # Aangemeld op and Bevestigd op happened: not in the future. The first exchange is often still to come.
    latest = "DATE(2100,12,31)" if header == FIRST_EXCHANGE else "TODAY()"
    validation = DataValidation(
        type="date", operator="between", formula1="DATE(2000,1,1)", formula2=latest, allow_blank=True,
        showInputMessage=True, promptTitle=header[:32], prompt=_PROMPTS[header][:255],
        showErrorMessage=True, errorStyle="stop", errorTitle="Geen geldige datum",
        error=("Typ een datum als dd-mm-jjjj, bijvoorbeeld 03-11-2026"
               + ("." if header == FIRST_EXCHANGE else ", niet in de toekomst.")))
    ws.add_data_validation(validation)
    validation.add(cells)


def _hidden_sheet(ws: Worksheet, register: str, identity: str, shown: list[Employer]) -> None:
    """What recognises the file and each row as it was written: never a secret, a Client ID or DGA data."""
    from batch.sheet_print import write_text

    ws.sheet_state = "hidden"
    rows: list[tuple[str, ...]] = [
        (MARKER, str(VERSION)), (KEY_REGISTER, register), (KEY_IDENTITY, identity),
        (KEY_WRITTEN, datetime.now().astimezone().isoformat(timespec="seconds")), (KEY_SHEET, SHEET), (),
        ROW_HEADERS]
    for e in shown:
        rows.append((e.werkgeverscode, e.state, *(d.isoformat() if d else "" for d in
                                                  (e.submitted_on, e.confirmed_on, e.first_exchange)),
                     "" if e.last_event is None else str(e.last_event), e.linked_on.isoformat() if e.linked_on else ""))
    for number, values in enumerate(rows, 1):
        for column, text in enumerate(values, 1):
            if text:
                write_text(ws.cell(number, column), text)
    ws.protection.sheet = True
