"""The documents of the output folder a run replaces: which the new folder carries over, and which leave with the
old one (and why).

With --only-pending a werkgever already submitted or confirmed gets no new document. The folder being replaced
may hold its earlier one; the swap would take it away, and the register would still name it. So it comes along
into the staging folder (hard-linked, else copied, owner-only) when all of this holds:
- the werkgever's state is not pending: its step-2 data is the data it was submitted (or confirmed) with;
- the earlier document was made from that same data. The register's fingerprint of a werkgever says what its data
  is now, not what a document in this folder was made from (data may go A → B → A, a run may have gone to another
  folder meanwhile). So the marker file of every output folder keeps a ledger: per document, the werkgever and
  the fingerprint of the data it was made from. A document without one (a folder made without a register, or by
  an older asr-batch) is not carried over: nothing says what it holds;
- the register recorded the document, for this computer, in this folder, and no purge set out to delete it: the
  register already names it (nothing new is recorded), and `purge` will find it;
- it still has the name this run would give it (a renamed werkgever's document keeps its old name: not carried).

Every document of the old folder that is not in the new one is listed with its reason (Result.left_behind).
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batch import system
from batch.documents import DOCUMENTS_DIR, document_paths
from batch.files import FILE_MODE
from batch.model import REGISTER_STATES, LeftBehind, Result, RowResult
from batch.output import MARKER, RESULT_FILE

if TYPE_CHECKING:
    from batch.register import Plan

LEDGER_TAG = "aanmelding"  # a ledger line: tag, werkgeverscode, fingerprint, file name; tab-separated

# Why an earlier document did not come along (fixed phrases: the terminal counts them).
GONE = "de werkgever staat niet meer in de werkmap"
INVALID = "de rij van de werkgever is nu ongeldig of overgeslagen"
FORMAT = "deze run maakte dat formaat niet (--format)"
RENAMED = "de naam van de werkgever is gewijzigd"
REPLACED = "vervangen door een nieuw document onder een andere naam"
CHANGED = "gemaakt met andere gegevens dan de werkmap nu heeft"
UNKNOWN_DATA = "niet na te gaan met welke gegevens het is gemaakt (vorige uitvoer zonder register of van een " \
               "oudere versie)"
NOT_RECORDED = "het register kent het niet als document van deze computer in deze map"
PURGING = "een opruimactie (purge) was bezig het te verwijderen"
PURGED = "intussen verwijderd door een opruimactie (purge)"
UNTRACED = "niet te herleiden tot een werkgever"
NOT_CARRIED = "eerdere aanmelding niet meegenomen"


@dataclass(frozen=True)
class Earlier:
    """The documents of the output folder being replaced: every file in its aanmeldingen/ folder by name, with
    the werkgever it belongs to (None: unknown) and, from the ledger, the fingerprint of the data it was made
    from."""

    folder: Path
    files: dict[str, str | None]
    prints: dict[str, tuple[str, str]]  # file name -> (werkgeverscode, fingerprint)


def read_earlier(target: Path) -> Earlier:
    folder = target / DOCUMENTS_DIR
    if system.is_link(folder) or not folder.is_dir():  # a link could lead the copying elsewhere
        return Earlier(folder, {}, {})
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False))
    except OSError:
        return Earlier(folder, {}, {})
    prints = _ledger(target / MARKER)
    files: dict[str, str | None] = {name: prints[name][0] if name in prints else None for name in names}
    if any(code is None for code in files.values()):
        files.update(_owners(target / RESULT_FILE, {n for n, code in files.items() if code is None}))
    return Earlier(folder, files, prints)


def _ledger(marker: Path) -> dict[str, tuple[str, str]]:
    try:
        text = "" if system.is_link(marker) else marker.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == LEDGER_TAG:
            found[parts[3]] = (parts[1], parts[2])
    return found


def _owners(result_file: Path, names: set[str]) -> dict[str, str | None]:
    """Which werkgever each of these documents belongs to, by the old folder's resultaat.json (a folder without a
    ledger: made by an older asr-batch)."""
    import json

    try:
        rows = json.loads(result_file.read_text(encoding="utf-8")).get("rows", [])
        return {d.split("/", 1)[-1]: row.get("werkgeverscode") for row in rows for d in row.get("documents", [])
                if isinstance(d, str) and d.split("/", 1)[-1] in names}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def ledger(result: Result, fingerprints: dict[str, str]) -> str:
    """The marker file's ledger lines for the documents of this run's folder (new and carried over alike)."""
    lines = []
    for row in result.rows:
        digest = fingerprints.get(row.werkgeverscode or "")
        if digest is None or row.status != "valid":
            continue
        lines += [f"{LEDGER_TAG}\t{row.werkgeverscode}\t{digest}\t{d.split('/', 1)[1]}\n" for d in row.documents]
    return "".join(lines)


def carry_over(result: Result, earlier: Earlier, plan: Plan, codes: frozenset[str], target: Path,
               formats: tuple[str, ...], staging_documents: Path) -> None:
    """--only-pending: bring the earlier documents of the valid werkgevers not pending (not in `codes`) into
    the staging folder, or say on the row why not."""
    for row in result.rows:
        if row.status == "valid" and row.werkgeverscode not in codes and not row.documents:
            note = carry_row(row, earlier, plan, target, formats, staging_documents)
            if note and not row.carried_over:
                note = f"al {REGISTER_STATES.get(row.register_state or '', row.register_state)}: geen nieuw " \
                       f"document; {note}"
            row.register_note = note


def carry_row(row: RowResult, earlier: Earlier, plan: Plan, target: Path, formats: tuple[str, ...],
              staging_documents: Path) -> str | None:
    """Carry this row's earlier documents over, all or none (`row.carried_over` says whether they came). Returns
    what the row should say about it, if anything (None: nothing of it was there, or all of it came)."""
    code = row.werkgeverscode or ""
    names = [path.split("/", 1)[1] for path in document_paths(row, formats)]
    present = [name for name in names if name in earlier.files]
    if not present:
        stem = names[0].rsplit(".", 1)[0]
        renamed = any(owner == code and name.rsplit(".", 1)[0] != stem for name, owner in earlier.files.items())
        return f"{NOT_CARRIED}: {RENAMED}" if renamed else None
    for name in present:
        reason = _why_not(name, code, earlier, plan, target)
        if reason:
            return f"{NOT_CARRIED}: {reason}"
    for name in present:
        _bring(earlier.folder / name, staging_documents / name)
    row.documents = [f"{DOCUMENTS_DIR}/{name}" for name in present]
    row.carried_over = True
    missing = [name.rsplit(".", 1)[-1].upper() for name in names if name not in present]
    return f"eerdere aanmelding meegenomen; de {' en '.join(missing)} ontbrak in de vorige uitvoer" if missing else None


def _why_not(name: str, code: str, earlier: Earlier, plan: Plan, target: Path) -> str | None:
    made_from = earlier.prints.get(name)
    if made_from is None or made_from[0] != code:
        return UNKNOWN_DATA
    if made_from[1] != plan.fingerprints.get(code):
        return CHANGED
    recorded = plan.documents.get((code, str(target / DOCUMENTS_DIR / name)))
    if recorded is None:
        return NOT_RECORDED
    return PURGING if recorded[1] else None


def _bring(source: Path, destination: Path) -> None:
    """A hard link where the file system allows one (no second copy of a Client Secret on the disk), else a copy
    written owner-only from its first byte. Neither follows a symbolic link."""
    if not stat.S_ISREG(os.lstat(source).st_mode):
        raise FileNotFoundError(2, "geen gewoon bestand", str(source))
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        with os.fdopen(os.open(source, flags), "rb") as reading, \
                os.fdopen(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                                  FILE_MODE), "wb") as writing:
            shutil.copyfileobj(reading, writing)
    os.chmod(destination, FILE_MODE)  # a link shares the earlier file's mode: owner-only, whatever it became


def still_there(result: Result, earlier: Earlier, staging_documents: Path) -> bool:
    """Inside the recording transaction, just before the swap: a carried-over document whose earlier file is gone
    was deleted by a purge meanwhile (the register forgot it): it leaves the new folder too. Returns whether any
    did."""
    gone = False
    for row in result.rows:
        if row.carried_over and not all((earlier.folder / d.split("/", 1)[1]).is_file() for d in row.documents):
            for document in row.documents:
                (staging_documents / document.split("/", 1)[1]).unlink(missing_ok=True)
            row.documents, row.carried_over, gone = [], False, True
            row.register_note = f"{NOT_CARRIED}: {PURGED}"
    return gone


def left_behind(result: Result, earlier: Earlier, formats: tuple[str, ...]) -> list[LeftBehind]:
    """Every document of the old folder that the new one does not hold, with the reason."""
    kept = {d.split("/", 1)[1] for row in result.rows for d in row.documents}
    rows: dict[str, RowResult] = {}
    for row in result.rows:
        rows.setdefault(row.werkgeverscode or "", row)
    found = []
    for name, code in earlier.files.items():
        if name not in kept:
            found.append(LeftBehind(f"{DOCUMENTS_DIR}/{name}", code, _reason(name, code, rows, formats)))
    return found


def _reason(name: str, code: str | None, rows: dict[str, RowResult], formats: tuple[str, ...]) -> str:
    row = rows.get(code) if code else None
    if code is None:
        return UNTRACED
    if row is None:
        return GONE
    if row.status != "valid":
        return INVALID
    if name.rsplit(".", 1)[-1] not in formats:
        return FORMAT
    note = row.register_note or ""
    for reason in (CHANGED, UNKNOWN_DATA, NOT_RECORDED, PURGING, PURGED):
        if note.endswith(reason):
            return reason
    return REPLACED if row.documents and not row.carried_over else RENAMED
