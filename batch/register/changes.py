"""What recording a run writes into the register: the werkgevers new or changed, those seen again, the documents
written, and the events; worked out first, then written in one go. It reads only the rows of the run's own
werkgevers and their documents: a run costs what its workbook holds, however big the register has grown, and it
never reads the event log."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batch.model import Result
from batch.register.computer import UNKNOWN, Computer
from batch.register.events import entry, now, os_user
from batch.register.records import PENDING, state_after_seeing
from batch.register.schema import documents_table, events_table, werkgevers_table

CHUNK = 5_000  # werkgeverscodes per IN (...): well within SQLite's 32,766 variables and PostgreSQL's 65,535

# A document this computer recorded before, under this run's output folder: (werkgeverscode, path) -> (its
# `computer` value, whether a purge set out to delete it).
Recorded = dict[tuple[str, str], tuple[str, bool]]


@dataclass
class Changes:
    """What recording a run writes: the rows to insert or update, the documents and events to add."""

    today: date
    states: dict[str, str] = field(default_factory=dict)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # known werkgevers whose last_seen or source_file moves on
    documents: list[dict[str, Any]] = field(default_factory=list)
    rewritten: list[tuple[str, str, str]] = field(default_factory=list)  # journaled by a purge, written again
    events: list[dict[str, object]] = field(default_factory=list)


def changes_of(result: Result, fingerprints: dict[str, str], known: dict[str, dict[str, Any]],
               have: Recorded, documents_folder: Path, computer: Computer, *, only_pending: bool = False,
               details: dict[str, dict[str, str]] | None = None) -> Changes:
    """`details`: per werkgever what tells which field changed (Plan.details). With `only_pending`, a row whose
    state is no longer pending (a colleague marked it while the run wrote) gets no document recorded: the pipeline
    takes it out of the output folder (pipeline._withdraw)."""
    changes = Changes(date.today())
    at, user, source = now(), os_user(), result.input.file
    prefix = str(documents_folder.parent) + os.sep
    valid = [(row, row.werkgeverscode) for row in result.rows
             if row.status == "valid" and row.werkgeverscode and row.werkgeverscode in fingerprints]
    withheld = 0
    for row, code in valid:
        digest = fingerprints[code]
        before = known.get(code)
        state = changes.states[code] = state_after_seeing(before, digest)
        values = {"naam": row.naam, "source_row": row.row, "fingerprint": digest, "state": state,
                  **(details or {}).get(code, {})}
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
        if only_pending and state not in PENDING:
            withheld += bool(row.documents)
            continue
        for document in row.documents:
            path = prefix + document.replace("/", os.sep)
            before_document = have.get((code, path))
            if before_document is None:
                changes.documents.append({"werkgeverscode": code, "path": path, "computer": computer.id,
                                          "computer_name": computer.name})
            elif before_document[1]:  # a purge cut off before it deleted this file; it is a new one now
                changes.rewritten.append((code, path, before_document[0]))
    written = sum(1 for row, _ in valid if row.documents) - withheld
    changes.events.append(entry(at, user, None, "seen", f"{source}: {len(valid)} geldige werkgevers; documenten "
                                                       f"voor {written} in {documents_folder}"))
    return changes


def chunks(codes: Iterable[str]) -> Iterator[list[str]]:
    listed = list(codes)
    for start in range(0, len(listed), CHUNK):
        yield listed[start:start + CHUNK]


def _among(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """`column IN (:codes)`: a statement built once, run for each chunk of codes."""
    return column.in_(sa.bindparam("codes", expanding=True))


# What recording a run compares (changes_of, state_after_seeing): a run reads no more of each werkgever than that.
SEEN_COLUMNS = ("werkgeverscode", "naam", "state", "last_seen", "source_file", "source_row", "fingerprint",
                "marked_fingerprint", "marked_state", "field_prints", "plain_values")


def werkgevers_of(conn: Connection, codes: Iterable[str],
                  columns: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """These werkgevers (those the register knows), by code, as a dict of their columns (all, or `columns`, the
    code first). (Rows zipped with the column names: SQLAlchemy's Row._asdict took half the time at 10,000
    werkgevers; fetched whole, not row by row.)"""
    found: dict[str, dict[str, Any]] = {}
    chosen = werkgevers_table.c if columns is None else [werkgevers_table.c[name] for name in columns]
    statement = sa.select(*chosen).where(_among(werkgevers_table.c.werkgeverscode))
    for chunk in chunks(codes):
        rows = conn.execute(statement, {"codes": chunk})
        names = list(rows.keys())
        found.update((values[0], dict(zip(names, values, strict=True))) for values in rows.all())
    return found


# Leading-zero variants are looked up up to this length: longer than any werkgeverscode in Exact, and the lookup
# stays on the code's index (`IN (…)`, as every reading of a run), never a scan of the whole register.
PADDED_UP_TO = 8


def alike_codes(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    """For each of these codes (ones the register does not hold), a code it does hold that differs only by leading
    zeros (87 and 0087): one werkgever, typed once as text and once in a cell that lost its zeros."""
    wanted: dict[str, list[str]] = {}  # a variant -> the run's codes it is a variant of
    for code in codes:
        core = code.lstrip("0")
        for length in range(max(1, len(core)), max(len(code), PADDED_UP_TO) + 1):
            variant = core.rjust(length, "0")
            if variant != code:
                wanted.setdefault(variant, []).append(code)
    found: dict[str, str] = {}
    for known in sorted(werkgevers_of(conn, wanted, ["werkgeverscode"]), key=len):
        for code in wanted[known]:
            found.setdefault(code, known)
    return found


def documents_in(conn: Connection, codes: Iterable[str], folder: Path, computer: Computer,
                 shared: bool) -> Recorded:
    """The documents this computer recorded for these werkgevers in this folder (not those of every earlier run
    elsewhere: they only grow). On SQLite one recorded by version 1 (no computer) is this computer's."""
    prefix = str(folder.parent) + os.sep
    mine = [computer.id or "-", *([] if shared else [UNKNOWN])]
    table = documents_table.c
    statement = (sa.select(table.werkgeverscode, table.path, table.computer, table.deleting)
                 .where(_among(table.werkgeverscode), table.computer.in_(mine),
                        table.path.startswith(prefix, autoescape=True)))
    found: Recorded = {}
    for chunk in chunks(codes):
        found.update(((code, path), (owner, deleting is not None))
                     for code, path, owner, deleting in conn.execute(statement, {"codes": chunk}).all())
    return found


def write_changes(conn: Connection, changes: Changes, source_file: str) -> None:
    """The changes, inside the caller's transaction: only what changed is written."""
    if changes.inserts:
        conn.execute(sa.insert(werkgevers_table), changes.inserts)
    if changes.updates:
        conn.execute(sa.update(werkgevers_table)
                     .where(werkgevers_table.c.werkgeverscode == sa.bindparam("code")), changes.updates)
    seen = (sa.update(werkgevers_table).where(_among(werkgevers_table.c.werkgeverscode))
            .values(last_seen=changes.today, source_file=source_file))
    for chunk in chunks(changes.seen):  # one statement per chunk, not one per werkgever
        conn.execute(seen, {"codes": chunk})
    if changes.documents:
        conn.execute(sa.insert(documents_table), changes.documents)
    table = documents_table.c
    for code, path, owner in changes.rewritten:
        conn.execute(sa.update(documents_table).values(deleting=None)
                     .where(table.werkgeverscode == code, table.path == path, table.computer == owner))
    conn.execute(sa.insert(events_table), changes.events)
