"""The register's reports: `asr-batch status` as a Dutch table for the terminal (its workbook is
batch.register_workbook's), and what mark, forget and purge say they did."""

from __future__ import annotations

from datetime import date

from batch.register import STATES, UNKNOWN_COMPUTER, Employer, Listing, Purged, Status, describe_changes
from batch.register.steps import DONE, clean_note
from batch.words import count, word

COLUMNS = ("Werkgeverscode", "Naam werkgever", "Status", "Laatst gezien", "Gekoppeld op", "Aangemeld op",
           "Dagen wachten", "Bevestigd op", "Eerste uitwisseling")


def _day(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else ""


def confirmed_text(employer: Employer) -> str:
    """Bevestigd op: the date, or, submitted again since, that the confirmation is an earlier one."""
    day = _day(employer.confirmed_on)
    return f"eerder bevestigd op {day}" if employer.confirmed_earlier else day


def changes_text(employer: Employer) -> str:
    """What changed since the submission, in Dutch ("onbekend" for one recorded before schema 3)."""
    return describe_changes(employer.changed_fields, employer.changed_values)


def cells(employer: Employer, listing: Listing) -> list[str]:
    """One employer's line, as text; a wait past the threshold says so."""
    waiting = employer.days_waiting(listing.today)
    flag = " (te lang)" if employer.waiting_too_long(listing.today, listing.waiting_over) else ""
    return [employer.werkgeverscode, employer.naam or "", STATES[employer.state], _day(employer.last_seen),
            _day(employer.linked_on), _day(employer.submitted_on), "" if waiting is None else f"{waiting}{flag}",
            confirmed_text(employer), _day(employer.first_exchange)]


def detail_lines(shown: list[Employer]) -> list[str]:
    """Under the table, per werkgever: what changed since the submission, and its note."""
    lines = []
    for employer in shown:
        changed = changes_text(employer)
        if changed:
            lines.append(f"{employer.werkgeverscode}  gewijzigd sinds de aanmelding: {changed}")
        if employer.note:
            lines.append(f"{employer.werkgeverscode}  notitie: {employer.note}")
    return ["", *lines] if lines else []


def counts_line(status: Status, listing: Listing | None = None) -> str:
    """The counts over the whole register; with a listing, how many submitted werkgevers wait too long."""
    counts = status.counts
    # navragen and beëindigd only where there are any: an office that never uses them is not told 0 twice
    parts = ", ".join(f"{counts[state]} {label}" for state, label in STATES.items()
                      if counts[state] or state not in ("queried", "ended"))
    line = f"{count(counts['total'], 'werkgever')} in het register: {parts}"
    waiting = status.waiting_too_long(listing) if listing is not None else 0
    if listing is not None and waiting:
        line += f"; {waiting} {word(waiting, 'wacht', 'wachten')} langer dan {listing.waiting_over} dagen op a.s.r."
    return line


def format_status(status: Status, listing: Listing) -> str:
    shown = status.shown(listing)
    lines = [f"Register: {status.place}", counts_line(status, listing)]
    if not status.employers:
        lines += ["", "Het register is leeg: 'asr-batch process werkmap.xlsx' zet de geldige werkgevers erin."]
        return "\n".join(lines)
    if not shown:
        label = STATES[listing.state or "new"]
        lines += ["", f"Geen werkgevers met status '{label}' die langer dan {listing.waiting_over} dagen wachten."
                  if listing.only_waiting else f"Geen werkgevers met status '{label}'."]
        return "\n".join(lines)
    table = [list(COLUMNS)] + [cells(e, listing) for e in shown]
    widths = [min(max(len(row[i]) for row in table), 40) for i in range(len(table[0]))]
    lines.append("")
    for row in table:
        lines.append("  ".join(text[:width].ljust(width) for text, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines + detail_lines(shown) + elsewhere_lines(shown))


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


def marked_line(kind: str, day: date, done: list[str], *, again: bool = False, first_exchange: date | None = None,
                note: str | None = None) -> str:
    """What `asr-batch mark` says it recorded: every date and the note, as the register now holds them."""
    what = {"note": "notitie vastgelegd", "queried": f"op navragen gezet (a.s.r. kwam terug op {day:%d-%m-%Y})"}
    text = what.get(kind, f"{'opnieuw ' if again else ''}{DONE[kind]} op {day:%d-%m-%Y}")
    if first_exchange is not None:
        text += f", eerste uitwisseling op {first_exchange:%d-%m-%Y}"
    line = f"{count(done, 'werkgever')} {text}: {', '.join(done)}"
    if note is not None:
        kept = clean_note(note or "")
        line += f"; notitie: \"{kept}\"" if kept else "; notitie gewist"
    return line


def forgotten_lines(done: list[str], left: list[str]) -> str:
    """What `asr-batch forget` says it did, and the documents (with the secret) it leaves behind."""
    lines = [f"{count(done, 'werkgever')} uit het register gehaald: {', '.join(done)}"]
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
    lines = [f"{count(deleted, 'document')} {'te verwijderen' if dry_run else 'verwijderd'}"
             f"{'; niets gewijzigd (--dry-run)' if dry_run else ''}."]
    elsewhere = [item for item in done if item.elsewhere]
    if elsewhere:
        lines.append(f"{count(elsewhere, 'document')} van bevestigde werkgevers {word(elsewhere, 'staat', 'staan')} "
                     "niet op deze computer. Het gedeelde register houdt ze bij; draai purge op de computer die ze "
                     "maakte:")
        lines += [f"  {item.werkgeverscode}  {item.path}  ({item.reason})" for item in elsewhere]
    return "\n".join(lines)
