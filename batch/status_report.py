"""The register's reports: `asr-batch status` as a Dutch table for the terminal and as a workbook, and what
mark, forget and purge say they did."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from batch.errors import UnusableInput
from batch.files import FILE_MODE
from batch.register import STATES, UNKNOWN_COMPUTER, Employer, Purged, Status

COLUMNS = ("Werkgeverscode", "Naam werkgever", "Status", "Laatst gezien", "Aangemeld op", "Dagen wachten",
           "Bevestigd op", "Eerste uitwisseling", "Bron", "Documenten")
WIDTHS = (16, 36, 12, 14, 14, 14, 14, 20, 30, 12)


def _day(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else ""


def cells(employer: Employer, today: date) -> list[str]:
    """One employer's line, as text."""
    waiting = employer.days_waiting(today)
    source = f"{employer.source_file}, rij {employer.source_row}" if employer.source_file else ""
    return [employer.werkgeverscode, employer.naam or "", STATES[employer.state], _day(employer.last_seen),
            _day(employer.submitted_on), "" if waiting is None else str(waiting), _day(employer.confirmed_on),
            _day(employer.first_exchange), source, str(len(employer.documents))]


def counts_line(status: Status) -> str:
    counts = status.counts
    parts = ", ".join(f"{counts[state]} {label}" for state, label in STATES.items())
    return f"{counts['total']} werkgever{'' if counts['total'] == 1 else 's'} in het register: {parts}"


def format_status(status: Status, today: date, state: str | None = None) -> str:
    shown = [e for e in status.employers if state is None or e.state == state]
    lines = [f"Register: {status.register}", counts_line(status)]
    if not status.employers:
        lines += ["", "Het register is leeg: 'asr-batch process werkmap.xlsx' zet de geldige werkgevers erin."]
        return "\n".join(lines)
    if not shown:
        lines += ["", f"Geen werkgevers met status '{STATES[state or 'new']}'."]
        return "\n".join(lines)
    table = [list(COLUMNS[:8])] + [cells(e, today)[:8] for e in shown]
    widths = [min(max(len(row[i]) for row in table), 40) for i in range(len(table[0]))]
    lines.append("")
    for row in table:
        lines.append("  ".join(text[:width].ljust(width) for text, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines + elsewhere_lines(shown))


def elsewhere_lines(shown: list[Employer]) -> list[str]:
    """Where the documents are that this computer does not hold (a shared register): per computer, how many."""
    computers: dict[str, int] = {}
    for employer in shown:
        for document in employer.documents_elsewhere:
            computers[document.computer] = computers.get(document.computer, 0) + 1
    if not computers:
        return []
    where = ", ".join(f"{count} op {name if name == UNKNOWN_COMPUTER else f'een andere computer ({name})'}"
                      for name, count in sorted(computers.items()))
    return ["", f"Documenten die niet op deze computer staan: {where} ('asr-batch status --json' noemt ze)."]


def write_status_workbook(status: Status, path: Path, today: date, state: str | None = None) -> None:
    """The status table as a workbook for the office's records: plain text cells, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from batch.annotate import HEADER_FILL, write_text

    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "Register"
    for column, (header, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True), 1):
        cell = ws.cell(1, column)
        write_text(cell, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(column)].width = width
    for number, employer in enumerate((e for e in status.employers if state is None or e.state == state), 2):
        for column, text in enumerate(cells(employer, today), 1):
            write_text(ws.cell(number, column), text)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            wb.save(out)
    except OSError as exc:
        raise UnusableInput(f"'{path}' kan niet worden geschreven ({exc.strerror or type(exc).__name__}).",
                            "Kies een map waarin u mag schrijven, en sluit het bestand als het in Excel open staat."
                            ) from None


def marked_line(state: str, day: date, done: list[str]) -> str:
    """What `asr-batch mark` says it recorded."""
    return f"{len(done)} werkgever(s) {STATES[state]} op {day:%d-%m-%Y}: {', '.join(done)}"


def forgotten_lines(done: list[str], left: list[str]) -> str:
    """What `asr-batch forget` says it did, and the documents (with the secret) it leaves behind."""
    lines = [f"{len(done)} werkgever(s) uit het register gehaald: {', '.join(done)}"]
    if left:
        lines.append("Let op: deze documenten bestaan nog en bevatten het Client Secret; purge vindt ze niet meer. "
                     "Verwijder ze zelf als ze niet meer nodig zijn:")
        lines += [f"  {path}" for path in left]
    return "\n".join(lines)


NOTHING_TO_PURGE = "Het register is leeg: er is niets te verwijderen."


def purge_listing(done: list[Purged], dry_run: bool) -> list[str]:
    """One line per document on this computer: deleted (or to delete), or left alone and why. (Those elsewhere:
    purge_totals.)"""
    lines = []
    for item in done:
        if item.elsewhere:
            continue
        verb = ("zou verwijderen" if dry_run else "verwijderd") if item.deleted else f"overgeslagen: {item.reason}"
        if item.deleted and item.reason:  # a journaled deletion of a purge that was cut off
            verb += f": {item.reason}"
        lines.append(f"{item.werkgeverscode}  {item.path}  ({verb})")
    return lines


def purge_totals(done: list[Purged], dry_run: bool) -> str:
    """How many documents purge deleted (or would), and how many are on another computer."""
    deleted = sum(item.deleted for item in done)
    lines = [f"{deleted} document(en) {'te verwijderen' if dry_run else 'verwijderd'}"
             f"{'; niets gewijzigd (--dry-run)' if dry_run else ''}."]
    elsewhere = [item for item in done if item.elsewhere]
    if elsewhere:
        lines.append(f"{len(elsewhere)} document(en) van bevestigde werkgevers staan niet op deze computer. Het "
                     "gedeelde register houdt ze bij; draai purge op de computer die ze maakte:")
        lines += [f"  {item.werkgeverscode}  {item.path}  ({item.reason})" for item in elsewhere]
    return "\n".join(lines)
