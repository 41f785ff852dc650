"""`mark --from`: a register workbook read back and its dates applied to the register it came from, all or
nothing; and what it says (one line per change, the problems by their cells)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from batch.errors import UnusableInput
from batch.register import Applied, DatedChange, Moved
from batch.register_workbook.checking import Problem, Reading, check_rows
from batch.register_workbook.layout import register_identity
from batch.register_workbook.reading import FIX_EXPORT, read_workbook
from batch.words import count, word

_EVENTS = {"linked": "gekoppeld", "queried": "navragen", "ended": "beëindigd", "submitted": "aangemeld",
           "confirmed": "bevestigd", "changed": "gewijzigd (andere gegevens van stap 2)",
           "new": "opnieuw in het register gezet", "forgotten": "uit het register gehaald"}


@dataclass
class MarkedFrom:
    """What `mark --from` did, or (a dry run, or any problem) would do: with a problem nothing changed."""

    name: str
    dry_run: bool
    done: list[DatedChange] = field(default_factory=list)
    already: list[tuple[DatedChange, Moved]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.problems else 0

    @property
    def changed(self) -> bool:
        return not self.dry_run and not self.problems and bool(self.done)


def mark_from(path: Path, given: str | None, *, dry_run: bool, name: str | None = None,
              today: date | None = None) -> MarkedFrom:
    """Read the register workbook at `path` and apply every date the clerk added or changed to the register at
    `given`, in one transaction; with `dry_run`, or any problem, nothing changes. Raises UnusableInput for a file
    that is no register workbook, or one of another register."""
    from batch.register import existing

    file = read_workbook(path, name)
    result = MarkedFrom(file.name, dry_run)
    with existing(given) as opened:
        if file.seen and file.identity != register_identity(opened.key):
            raise UnusableInput(f"'{file.name}' is geschreven uit een ander register ({file.register or 'onbekend'}) "
                                f"dan het register dat nu wordt gebruikt ({opened.location.shown}). Er is niets "
                                "gewijzigd.", "Lees de werkmap terug met --register voor het register waaruit hij "
                                "komt, of " + FIX_EXPORT[0].lower() + FIX_EXPORT[1:])
        reading = check_rows(file, today or date.today())
        applied = (opened.mark_dated(reading.changes, source=file.name, dry_run=dry_run or bool(reading.problems))
                   if reading.changes else Applied())
    result.done, result.already, result.ignored = applied.done, applied.already, reading.ignored
    result.problems = sorted(reading.problems + [_moved(m, reading) for m in applied.moved], key=lambda p: p.order)
    return result


def _when(at: str | None) -> str:
    try:
        moment = datetime.fromisoformat(at or "")
    except ValueError:
        return at or ""
    return f"{moment:%d-%m-%Y} om {moment:%H:%M}"


def _what(moved: Moved) -> str:
    """The change as the event log has it, in Dutch, with Dutch dates."""
    label = _EVENTS.get(moved.event or "", moved.event or "gewijzigd")
    detail = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", r"\3-\2-\1", moved.detail or "")
    text = detail if detail.startswith(label) else f"{label} ({detail})" if detail else label
    return f"{text}, door {moved.user} op {_when(moved.at)}" if moved.at else text


def _moved(moved: Moved, reading: Reading) -> Problem:
    cell, order = reading.cells[moved.werkgeverscode]
    code = moved.werkgeverscode
    if moved.gone:
        why = f" ({_what(moved)})" if moved.at else ""
        return Problem(cell, f"werkgever {code}", f"staat niet meer in het register{why}.",
                       "Maak de datums van deze rij weer leeg (een lege datum wordt genegeerd); een werkgever komt "
                       "terug in het register door 'asr-batch process' op een werkmap waarin hij geldig is.", order)
    by = f" Overleg met {moved.user}." if moved.user else ""
    return Problem(cell, f"werkgever {code}", "in het register gewijzigd nadat deze werkmap werd geschreven: "
                   f"{_what(moved) if moved.event else 'door een andere opdracht'}.",
                   f"{by} Klopt uw datum toch, schrijf dan een nieuwe registerwerkmap en vul hem daarin opnieuw in; of "
                   "maak de datum hier weer leeg, dan wordt de rij genegeerd.".strip(), order)


def change_text(change: DatedChange) -> str:
    """A change as the clerk reads it: aangemeld op ..., bevestigd op ..., eerste uitwisseling ..."""
    parts = []
    if change.linked_on is not None:
        parts.append(f"gekoppeld op {change.linked_on:%d-%m-%Y}")
    if change.submitted_on is not None:
        parts.append(f"aangemeld op {change.submitted_on:%d-%m-%Y}")
    if change.confirmed_on is not None and change.first_exchange is not None:
        parts.append(f"bevestigd op {change.confirmed_on:%d-%m-%Y}, eerste uitwisseling "
                     f"{change.first_exchange:%d-%m-%Y}")
    return "; ".join(parts)


def mark_from_lines(result: MarkedFrom) -> list[str]:
    """What `mark --from` says on stderr: the problems (nothing changed), or one line per change and a total."""
    if result.problems:
        return [f"asr-batch: '{result.name}' is niet verwerkt: {count(result.problems, 'probleem')}. "
                "Er is niets gewijzigd.",
                *(f"  {p.text} Oplossing: {p.fix}" for p in result.problems)]
    lines = list(result.ignored)
    lines += [f"{change.werkgeverscode}  {change_text(change)}" for change in result.done]
    lines += [f"{change.werkgeverscode}  staat al zo in het register ({_what(moved)}); overgeslagen"
              for change, moved in result.already]
    done = len(result.done)
    if not done:
        lines.append(f"Geen nieuwe of gewijzigde datums in '{result.name}'; er is niets gewijzigd.")
    elif result.dry_run:
        lines.append(f"{count(done, 'werkgever')} {word(done, 'zou', 'zouden')} worden bijgewerkt uit '{result.name}'; "
                     "niets gewijzigd (--dry-run).")
    else:
        lines.append(f"{count(done, 'werkgever')} bijgewerkt uit '{result.name}'.")
    return lines
