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


def format_summary(result: Result) -> str:
    lines = [
        f"{result.input.file}, tabblad '{result.input.sheet}' (koprij {result.input.header_row})",
        counts_line(result) + (" (--strict: waarschuwingen blokkeren)" if result.strict else ""),
    ]
    if result.file_issues:
        lines += ["", "Bestand"]
        lines += [_issue_line(i) for i in result.file_issues]
    for row in result.rows:
        if not row.issues:
            continue
        code = f", werkgeverscode {row.werkgeverscode}" if row.werkgeverscode else ""
        lines += ["", f"Rij {row.row}{code}: {STATUS_NL[row.status]}"]
        lines += [_issue_line(i) for i in row.issues]
    if result.counts["valid"] + result.counts["invalid"] == 0:
        lines += ["", "Er staan geen werkgevers in het bestand; vul minstens één rij in."]
    elif not result.all_issues:
        lines += ["", "Geen fouten of waarschuwingen gevonden."]
    return "\n".join(lines)


def process_closing(result: Result, target: Path, only_pending: bool) -> str:
    """What `asr-batch process` says when it is done: the counts, what --only-pending held back and carried over
    from the folder it replaced, the earlier documents that left with that folder, the folder."""
    lines = [counts_line(result)]
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
    return "\n".join(lines)
