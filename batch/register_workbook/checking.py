"""The dates a clerk added or changed in a register workbook, each checked and every problem named by its cell:
a value that is not a date, a date in the future, a confirmation without its first exchange (or the other way
round), dates out of order, a row that was not in the file as written. A date removed or a row deleted undoes
nothing: it is said to be ignored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from batch.errors import UnusableInput
from batch.register import DatedChange, Seen, parse_date
from batch.register_workbook.layout import CODE, CONFIRMED, EDITABLE, FIRST_EXCHANGE, LINKED, SUBMITTED
from batch.register_workbook.reading import SheetRow, WorkbookFile
from batch.words import count

EARLIEST = date(2000, 1, 1)  # as the workbook's date validation: an earlier "date" is a typing slip
_SEEN_DATE = {SUBMITTED: "submitted_on", CONFIRMED: "confirmed_on", FIRST_EXCHANGE: "first_exchange",
              LINKED: "linked_on"}
EARLIER = "eerder bevestigd op"  # status_report.confirmed_text
FIX_DATE = "Typ de datum als dd-mm-jjjj, bijvoorbeeld 03-11-2026."


@dataclass(frozen=True)
class Problem:
    cell: str  # Register!E7
    subject: str  # what the cell holds: "Aangemeld op van 1001"
    message: str
    fix: str
    order: tuple[int, int] = (0, 0)  # row, column: problems are listed as the sheet shows them

    @property
    def text(self) -> str:
        return f"{self.cell} ({self.subject}): {self.message}"


@dataclass
class Reading:
    """What the clerk changed: the changes to apply, the cell each one is told by, the problems, and what is
    ignored (dates removed, rows deleted)."""

    changes: list[DatedChange] = field(default_factory=list)
    cells: dict[str, tuple[str, tuple[int, int]]] = field(default_factory=dict)  # by werkgeverscode
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


class _Row:
    """One row being checked: its cells by header, and the problems found in it."""

    def __init__(self, file: WorkbookFile, row: SheetRow, reading: Reading) -> None:
        self.file, self.row, self.reading = file, row, reading
        self.code = row.code

    def cell(self, header: str) -> str:
        return f"{self.file.sheet}!{self.file.letters[header]}{self.row.number}"

    def problem(self, header: str, message: str, fix: str) -> None:
        column = EDITABLE.index(header) + 1 if header in EDITABLE else 0
        what = f"{header} van {self.code}" if header in EDITABLE and self.code else header
        self.reading.problems.append(Problem(self.cell(header), what, message, fix, (self.row.number, column)))

    def read_date(self, header: str) -> date | None:
        """The cell's date (None: empty); a problem when it holds something else."""
        value = self.row.dates[header]
        if header == CONFIRMED and isinstance(value, str) and value.strip().lower().startswith(EARLIER):
            value = value.strip()[len(EARLIER):]  # as status --xlsx wrote an earlier confirmation: that date
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        day = _as_date(value, self.cell(header))
        if day is None:
            shown = (value if isinstance(value, str) else str(value)).strip()
            shown = shown if len(shown) <= 40 else shown[:40] + "…"  # a pasted paragraph is not repeated whole
            self.problem(header, f"'{shown}' is geen datum.", FIX_DATE)
        elif day < EARLIEST:
            self.problem(header, f"{day:%d-%m-%Y} ligt vóór 2000; dat is geen datum van een aanmelding.",
                         f"Controleer het jaartal. {FIX_DATE}")
            return None
        return day


def _as_date(value: object, cell: str) -> date | None:
    """A date cell as Excel or LibreOffice left it: a date, a serial number, or text as Dutch people type it
    (read as `mark --on` reads it). None: not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if not 1 <= value < 2_958_466:  # Excel's serials: 1900-01-01 to 9999-12-31
            return None
        converted = from_excel(value)
        return converted.date() if isinstance(converted, datetime) else None
    if isinstance(value, str):
        try:
            return parse_date(value, cell)
        except UnusableInput:
            return None
    return None


def check_rows(file: WorkbookFile, today: date) -> Reading:
    """Every date the clerk added or changed, as changes to apply, and every problem by its cell."""
    reading = Reading()
    present: set[str] = set()
    for row in file.rows:
        checked = _Row(file, row, reading)
        has_dates = any(not (v is None or (isinstance(v, str) and not v.strip())) for v in row.dates.values())
        if not row.code:
            if has_dates:
                checked.problem(CODE, "deze rij heeft datums maar geen werkgeverscode.",
                                "Vul datums alleen in bij de werkgevers die in de werkmap staan.")
            continue
        seen = file.seen.get(row.code)
        if seen is None:
            checked.problem(CODE, f"werkgeverscode {row.code} stond niet in deze werkmap toen asr-batch hem schreef.",
                            "Vul datums alleen in bij de werkgevers die er al in staan; een nieuwe werkgever komt in "
                            "het register door 'asr-batch process' (of een upload op de pagina).")
            continue
        if row.code in present:
            checked.problem(CODE, f"werkgeverscode {row.code} staat twee keer in de werkmap.",
                            "Verwijder de kopie van de rij; vul de datums in op één rij.")
            continue
        present.add(row.code)
        _check_row(checked, seen, today)
    deleted = [code for code in file.seen if code not in present]
    if deleted:
        reading.ignored.append(f"{count(deleted, 'werkgever')} niet meer in de werkmap (rij verwijderd): "
                               f"{', '.join(deleted)}; genegeerd: een rij weghalen haalt niets uit het register.")
    reading.problems.sort(key=lambda p: p.order)
    return reading


def _check_row(row: _Row, seen: Seen, today: date) -> None:
    before = len(row.reading.problems)
    values = {header: row.read_date(header) for header in EDITABLE if header in row.row.dates}
    changed = []
    for header, value in values.items():
        earlier: date | None = getattr(seen, _SEEN_DATE[header])
        if value is None and earlier is not None and not any(p.cell == row.cell(header)
                                                              for p in row.reading.problems[before:]):
            row.reading.ignored.append(f"{row.cell(header)}: {header} van {row.code} is leeggemaakt; genegeerd: een "
                                       "datum weghalen maakt niets ongedaan.")
        elif value is not None and value != earlier:
            changed.append(header)
    if not changed:
        return
    for header in (LINKED, SUBMITTED, CONFIRMED):
        day = values.get(header)
        if header in changed and day is not None and day > today:
            row.problem(header, f"{day:%d-%m-%Y} ligt in de toekomst.",
                        "Vul de dag in waarop het gebeurde; leg het pas vast als het gebeurd is.")
    submitted = values[SUBMITTED] if SUBMITTED in changed else None
    linked = values.get(LINKED) if LINKED in changed else None
    confirmed, first = values[CONFIRMED], values[FIRST_EXCHANGE]
    confirms = CONFIRMED in changed or FIRST_EXCHANGE in changed
    _check_linked(row, linked or seen.linked_on, submitted or seen.submitted_on, LINKED in changed)
    if confirms:
        _check_confirmation(row, submitted or seen.submitted_on, confirmed, first)
    elif submitted is not None:
        _check_submission(row, seen, submitted)
    if confirms and seen.state == "ended":
        row.problem(CONFIRMED, f"{row.code} is beëindigd; een bevestiging hoort bij een aanmelding.",
                    f"Maak de datum weer leeg; meldt u hem opnieuw aan, leg dat dan eerst vast met 'asr-batch mark "
                    f"submitted {row.code} --opnieuw'.")
    if len(row.reading.problems) > before:
        return
    row.reading.changes.append(DatedChange(row.code, seen, submitted, confirmed if confirms else None,
                                           first if confirms else None, linked))
    first_changed = min(changed, key=EDITABLE.index)
    row.reading.cells[row.code] = (row.cell(first_changed), (row.row.number, EDITABLE.index(first_changed) + 1))


def _check_linked(row: _Row, linked: date | None, submitted: date | None, linked_changed: bool) -> None:
    """Step 1 before step 2: named at the date the clerk changed (Gekoppeld op, else Aangemeld op)."""
    if linked is None or submitted is None or linked <= submitted:
        return
    row.problem(LINKED if linked_changed else SUBMITTED,
                f"gekoppeld op {linked:%d-%m-%Y} ligt na de aanmelding op {submitted:%d-%m-%Y}.",
                "Datums houden hun volgorde: eerst gekoppeld in Exact (stap 1), dan aangemeld (stap 2). Controleer "
                "Gekoppeld op en Aangemeld op.")


def _check_submission(row: _Row, seen: Seen, submitted: date) -> None:
    """A new Aangemeld op alone: never on a confirmed or ended werkgever (submitting again is an explicit choice),
    never before an earlier confirmation."""
    if seen.state in ("confirmed", "ended"):
        day = f" (op {seen.confirmed_on:%d-%m-%Y})" if seen.state == "confirmed" and seen.confirmed_on else ""
        what = f"al bevestigd{day}" if seen.state == "confirmed" else "beëindigd"
        row.problem(SUBMITTED, f"{row.code} is {what}; een nieuwe aanmelding van een "
                    f"{'bevestigde' if seen.state == 'confirmed' else 'beëindigde'} werkgever is een bewuste keuze.",
                    f"Zet de datum terug, of leg de nieuwe aanmelding vast met 'asr-batch mark submitted {row.code} "
                    "--opnieuw' (op de pagina: Opnieuw aangemeld). Corrigeert u de aanmelding, vul dan ook Bevestigd "
                    "op en Eerste uitwisseling opnieuw in.")
    elif seen.confirmed_on is not None and submitted < seen.confirmed_on:
        row.problem(SUBMITTED, f"aangemeld op {submitted:%d-%m-%Y} ligt vóór de eerdere bevestiging op "
                    f"{seen.confirmed_on:%d-%m-%Y}; een nieuwe aanmelding komt na de bevestiging.",
                    "Controleer Aangemeld op: de dag van de nieuwe aanmelding.")


def _check_confirmation(row: _Row, submitted: date | None, confirmed: date | None, first: date | None) -> None:
    """Bevestigd op and Eerste uitwisseling go together, and dates keep their order."""
    if confirmed is None and first is not None:
        row.problem(CONFIRMED, f"leeg, maar Eerste uitwisseling ({first:%d-%m-%Y}) hoort bij een bevestiging.",
                    "Vul de dag in waarop a.s.r. bevestigde, of maak Eerste uitwisseling weer leeg.")
    elif confirmed is not None and first is None:
        row.problem(FIRST_EXCHANGE, f"leeg, maar bij Bevestigd op ({confirmed:%d-%m-%Y}) hoort de datum van de eerste "
                    "gegevensuitwisseling.", "Vul de datum in die a.s.r. in de bevestiging noemt.")
    elif confirmed is not None and first is not None:
        if submitted is not None and confirmed < submitted:
            row.problem(CONFIRMED, f"bevestigd op {confirmed:%d-%m-%Y} ligt vóór de aanmelding op "
                        f"{submitted:%d-%m-%Y}.", "Datums houden hun volgorde: eerst aangemeld, dan bevestigd. "
                        "Controleer Bevestigd op en Aangemeld op.")
        if first < confirmed:
            row.problem(FIRST_EXCHANGE, f"de eerste uitwisseling op {first:%d-%m-%Y} ligt vóór de bevestiging op "
                        f"{confirmed:%d-%m-%Y}.", "Datums houden hun volgorde: eerst bevestigd, dan de eerste "
                        "uitwisseling. Controleer beide datums.")
