"""The terminal rendering of a Result: counts first, then every issue grouped by row; and the closing lines of
`asr-batch process`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from batch.catalogue import Issue, Severity
from batch.model import STATUS_NL, Result
from batch.words import count

SEVERITY_NL = {Severity.ERROR: "fout", Severity.WARNING: "waarschuwing"}


def counts_line(result: Result) -> str:
    c = result.counts
    return (f"{count(c['rows'], 'rij')}: {c['valid']} geldig, {c['invalid']} ongeldig, "
            f"{c['skipped']} overgeslagen; {count(c['errors'], 'fout')}, {count(c['warnings'], 'waarschuwing')}")


def _issue_line(issue: Issue) -> str:
    where = issue.cell or "-"
    return f"  {SEVERITY_NL[issue.severity]:<12} {where:<7} {issue.message} {issue.fix}"


def issue_lines(result: Result, limit: int | None = None) -> list[str]:
    """Every issue grouped by row (the file's own first), as validate prints them; with a limit, at most that many
    issues and then how many more there are in foutenrapport.html."""
    groups = [("Bestand", result.file_issues)] if result.file_issues else []
    for row in result.rows:
        if row.issues:
            code = f", werkgeverscode {row.werkgeverscode}" if row.werkgeverscode else ""
            groups.append((f"Rij {row.row}{code}: {STATUS_NL[row.status]}", row.issues))
    lines: list[str] = []
    shown = 0
    for title, issues in groups:
        room = len(issues) if limit is None else min(len(issues), limit - shown)
        if room <= 0:
            break
        lines += ["", title, *(_issue_line(i) for i in issues[:room])]
        shown += room
    left = len(result.all_issues) - shown
    if left:
        lines += ["", f"en nog {left}; zie foutenrapport.html"]
    return lines


def format_summary(result: Result) -> str:
    lines = [
        f"{result.input.file}, tabblad '{result.input.sheet}' (koprij {result.input.header_row})",
        counts_line(result) + (" (--strict: waarschuwingen blokkeren)" if result.strict else ""),
        *issue_lines(result),
    ]
    if result.counts["valid"] + result.counts["invalid"] == 0:
        lines += ["", "Er staan geen werkgevers in het bestand; vul minstens één rij in."]
    elif not result.all_issues:
        lines += ["", "Geen fouten of waarschuwingen gevonden."]
    return "\n".join(lines)


# `process` shows this many issues in the terminal; foutenrapport.html has them all.
PROCESS_SHOWS = 20


def process_closing(result: Result, target: Path, only_pending: bool) -> str:
    """What `asr-batch process` says when it is done: the counts and the first issues as validate prints them,
    what --only-pending held back and carried over from the folder it replaced, the earlier documents that left
    with that folder, and where the documents and reports are."""
    lines = [counts_line(result) + (" (--strict: waarschuwingen blokkeren)" if result.strict else ""),
             *issue_lines(result, PROCESS_SHOWS)]
    if len(lines) > 1:
        lines.append("")
    if only_pending:
        _, _, carried, without = result.document_counts
        held = carried + without
        line = f"--only-pending: {count(held, 'werkgever')} al aangemeld of bevestigd, zonder nieuw document"
        if carried and carried == held:
            line += "; hun eerdere aanmelding is meegenomen uit de vorige uitvoer"
        elif carried:
            line += f"; van {carried} is de eerdere aanmelding meegenomen uit de vorige uitvoer"
        lines.append(line + ".")
        withdrawn = [r.werkgeverscode or f"rij {r.row}" for r in result.rows
                     if r.register_note and r.register_note.startswith("tijdens deze run")]
        if withdrawn:
            lines.append(f"Let op: {', '.join(withdrawn)} intussen aangemeld of bevestigd door een collega; het "
                         "document is weggehaald (zie overzicht.html).")
    if result.left_behind:
        reasons = Counter(d.reason for d in result.left_behind)
        told = "; ".join(f"{n}: {reason}" for reason, n in reasons.most_common())
        documents = count(result.left_behind, "eerder document")
        lines.append(f"Niet meegenomen uit de vorige uitvoer: {documents} ({told}); de lijst staat in "
                     "overzicht.html.")
    lines.append(f"Uitvoer: {target}")
    lines += [f"  {name:<19} {what}" for name, what in where_the_reports_are(result)]
    return "\n".join(lines)


def where_the_reports_are(result: Result) -> list[tuple[str, str]]:
    """The output folder's files, each with what it is for (foutenrapport.xlsx only when there is an issue)."""
    _, new, carried, _ = result.document_counts
    documents = new + carried
    reports = [("overzicht.html", "elke rij met zijn status en documenten"),
               ("foutenrapport.html", "elke fout en waarschuwing per rij, met de cel en de oplossing"
                if result.all_issues else "geen fouten of waarschuwingen")]
    if result.all_issues:
        reports.append(("foutenrapport.xlsx", "uw werkmap met elke foute cel gemarkeerd"))
    if documents:
        reports.append(("aanmeldingen/", f"{count(documents, 'aanmelding')} om bij a.s.r. in te vullen"))
    return reports
