"""What recording a run writes into the register: the werkgevers new or changed, those seen again, the documents
written, and the events; worked out first, then written in one go."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batch.model import Result
from batch.register.events import entry, now, os_user
from batch.register.records import state_after_seeing
from batch.register.schema import documents_table, events_table, werkgevers_table


@dataclass
class Changes:
    """What recording a run writes: the rows to insert or update, the documents and events to add."""

    today: date
    states: dict[str, str] = field(default_factory=dict)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # known werkgevers whose last_seen or source_file moves on
    documents: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)


def changes_of(result: Result, fingerprints: dict[str, str], known: dict[str, dict[str, Any]],
               have: set[tuple[str, str]], documents_folder: Path) -> Changes:
    changes = Changes(date.today())
    at, user, source = now(), os_user(), result.input.file
    prefix = str(documents_folder.parent) + os.sep
    valid = [(row, row.werkgeverscode) for row in result.rows
             if row.status == "valid" and row.werkgeverscode and row.werkgeverscode in fingerprints]
    for row, code in valid:
        digest = fingerprints[code]
        before = known.get(code)
        state = changes.states[code] = state_after_seeing(before, digest)
        values = {"naam": row.naam, "source_row": row.row, "fingerprint": digest, "state": state}
        if before is None:
            changes.inserts.append({"werkgeverscode": code, "first_seen": changes.today, "last_seen": changes.today,
                                    "source_file": source, **values})
            changes.events.append(entry(at, user, code, "new", f"{source} rij {row.row}"))
        else:
            if before["last_seen"] != changes.today or before["source_file"] != source:
                changes.seen.append(code)
            if any(before[key] != value for key, value in values.items()):
                changes.updates.append({"code": code, **values})
            if state == "changed" and before["state"] != "changed":
                changes.events.append(entry(at, user, code, "changed", "gegevens van stap 2 gewijzigd"))
            elif state != "changed" and before["state"] == "changed":
                changes.events.append(entry(at, user, code, state, "gegevens weer gelijk aan de aanmelding"))
        for document in row.documents:
            path = prefix + document.replace("/", os.sep)
            if (code, path) not in have:
                changes.documents.append({"werkgeverscode": code, "path": path})
    written = sum(1 for row, _ in valid if row.documents)
    changes.events.append(entry(at, user, None, "seen", f"{source}: {len(valid)} geldige werkgevers; documenten "
                                                       f"voor {written} in {documents_folder}"))
    return changes


def documents_in(conn: Connection, folder: Path) -> set[tuple[str, str]]:
    """The documents recorded in this folder (not those of every earlier run elsewhere: they only grow)."""
    prefix = str(folder.parent) + os.sep
    return {(code, path) for code, path in conn.execute(
        sa.select(documents_table.c.werkgeverscode, documents_table.c.path)
        .where(documents_table.c.path.startswith(prefix, autoescape=True)))}


def write_changes(conn: Connection, changes: Changes, source_file: str) -> None:
    """The changes, inside the caller's transaction: only what changed is written."""
    if changes.inserts:
        conn.execute(sa.insert(werkgevers_table), changes.inserts)
    if changes.updates:
        conn.execute(sa.update(werkgevers_table)
                     .where(werkgevers_table.c.werkgeverscode == sa.bindparam("code")), changes.updates)
    for start in range(0, len(changes.seen), 5_000):  # one statement per chunk, not one per werkgever
        conn.execute(sa.update(werkgevers_table)
                     .where(werkgevers_table.c.werkgeverscode.in_(changes.seen[start:start + 5_000]))
                     .values(last_seen=changes.today, source_file=source_file))
    if changes.documents:
        conn.execute(sa.insert(documents_table), changes.documents)
    conn.execute(sa.insert(events_table), changes.events)
