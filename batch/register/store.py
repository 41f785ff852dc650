"""The open register: what it holds, and every change to it as one transaction, all or nothing."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from batch.errors import UnusableInput
from batch.model import Result, RowResult
from batch.register.changes import (
    SEEN_COLUMNS,
    Changes,
    Recorded,
    alike_codes,
    changes_of,
    chunks,
    documents_in,
    werkgevers_of,
    write_changes,
)
from batch.register.computer import Computer, this_computer, whose
from batch.register.dated import changed_since, latest_events, unchanged
from batch.register.events import entry, now, os_user
from batch.register.faults import fault
from batch.register.location import Location
from batch.register.purge import UNKNOWN_COMPUTER, announce, carry_out
from batch.register.records import (
    Applied,
    DatedChange,
    Elsewhere,
    Plan,
    Purged,
    Status,
    employer_of,
    fingerprint,
    sort_key,
    state_after_seeing,
)
from batch.register.schema import (
    bump_generation,
    documents_table,
    events_table,
    generation,
    lock_for_writing,
    werkgevers_table,
)
from batch.register.steps import Mark, check_all, check_mark
from batch.register.what_changed import field_prints, plain_values


class Register:
    """An open register. `open_register` makes one; reading never creates anything."""

    def __init__(self, location: Location, engine: Engine, key: bytes) -> None:
        self.location = location
        self._engine = engine
        self.key = key
        self._computer: Computer | None = None

    def computer(self, *, create: bool = False) -> Computer:
        """This computer, as the register's documents name it (computer.this_computer): its id made only by a
        command that records documents."""
        if self._computer is None or (create and self._computer.id is None):
            self._computer = this_computer(create=create)
        return self._computer

    @contextlib.contextmanager
    def _connection(self, *, write: bool, exclusive: bool = False, bump: bool = True) -> Iterator[Connection]:
        """One transaction. A write bumps the generation at its end, unless the caller did (`bump=False`)."""
        try:
            with self._engine.connect() as conn:
                conn.info["write"] = "EXCLUSIVE" if exclusive else "IMMEDIATE" if write else None
                with conn.begin():
                    if write:
                        lock_for_writing(conn, self.location)
                    yield conn
                    if write and bump:
                        bump_generation(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise fault(self.location, exc) from None

    def close(self) -> None:
        self._engine.dispose()

    # --- reading ------------------------------------------------------------------------------------------

    def plan(self, rows: Iterable[RowResult], documents_folder: Path) -> Plan:
        """The state each of these (valid) rows will have once recorded, by werkgeverscode, for a run that writes
        its documents into `documents_folder`. Reads only, and only these werkgevers and their documents."""
        rows = [row for row in rows if row.werkgeverscode]
        prints = {row.werkgeverscode: fingerprint(self.key, row) for row in rows if row.werkgeverscode}
        details = {row.werkgeverscode: {"field_prints": field_prints(self.key, row), "plain_values": plain_values(row)}
                   for row in rows if row.werkgeverscode}
        me = self.computer(create=True)
        with self._connection(write=False) as conn:
            reading, known = generation(conn), werkgevers_of(conn, prints, SEEN_COLUMNS)
            documents = documents_in(conn, prints, documents_folder, me, self.location.shared)
            alike = alike_codes(conn, [code for code in prints if code not in known])
        states = {code: state_after_seeing(known.get(code), digest) for code, digest in prints.items()}
        return Plan(states, prints, reading, known, documents, me, details, alike)

    def status(self, *, with_latest_events: bool = False) -> Status:
        """Every werkgever; `with_latest_events`: each with the id of its latest event too (the register workbook
        keeps it, to name a later change; a reading of the whole event log, so only when asked)."""
        me, shared = self.computer(), self.location.shared
        with self._connection(write=False) as conn:
            rows = conn.execute(sa.select(werkgevers_table)).all()
            table = documents_table.c
            documents = conn.execute(sa.select(table.werkgeverscode, table.path, table.computer,
                                               table.computer_name)).all()
            latest = latest_events(conn) if with_latest_events else {}
        here: dict[str, set[str]] = {}
        elsewhere: dict[str, set[Elsewhere]] = {}
        for code, path, computer, name in documents:
            owner = whose(computer, me, shared)
            if owner == "other":
                elsewhere.setdefault(code, set()).add(Elsewhere(name or "onbekend", path))
            elif os.path.isfile(path):  # never a file that is gone, nor one a purge cut off left behind
                here.setdefault(code, set()).add(path)
            elif owner == "unknown":  # recorded by version 1 on a server: on some clerk's computer, maybe
                elsewhere.setdefault(code, set()).add(Elsewhere(UNKNOWN_COMPUTER, path))
        # Sorted here, not by the database: PostgreSQL sorts text by its collation (nl_NL, en_US...), SQLite by
        # bytes; the same register must list the same way on both.
        employers = [employer_of(dict(r._mapping), sorted(here.get(r.werkgeverscode, ())),
                                 sorted(elsewhere.get(r.werkgeverscode, ())), latest.get(r.werkgeverscode))
                     for r in rows]
        employers.sort(key=lambda e: sort_key(e.werkgeverscode))
        return Status(self.location.shown, employers)

    # --- writing ------------------------------------------------------------------------------------------

    def record(self, result: Result, plan: Plan, documents_folder: Path,
               then: Callable[[dict[str, str]], None] = lambda states: None, *,
               only_pending: bool = False) -> dict[str, str]:
        """Record every valid row of a run and the documents written for it, then run `then` with the states (the
        swap of the output folder) inside the same transaction: if `then` fails, nothing is recorded. Only what
        changed is written. The changes are worked out on the plan's reading of the register; should another
        command have written meanwhile (a clerk marking), they are worked out again on what the register holds
        now, inside the transaction: so with `only_pending`, a werkgever a clerk marked meanwhile gets no document
        recorded, and `then` (which sees its state) takes it out of the output folder. Returns the states."""
        def work_out(known: dict[str, dict[str, Any]], documents: Recorded) -> Changes:
            return changes_of(result, plan.fingerprints, known, documents, documents_folder, plan.computer,
                              only_pending=only_pending, details=plan.details)

        changes = work_out(plan.known, plan.documents)
        swapped = False
        try:
            with self._connection(write=True, exclusive=True, bump=False) as conn:
                if generation(conn) != plan.generation:
                    changes = work_out(werkgevers_of(conn, plan.fingerprints, SEEN_COLUMNS),
                                       documents_in(conn, plan.fingerprints, documents_folder, plan.computer,
                                                    self.location.shared))
                write_changes(conn, changes, result.input.file)
                bump_generation(conn)  # every statement before the swap: after it, only the commit
                then(changes.states)
                swapped = True
        except UnusableInput as exc:
            if not swapped:
                raise
            # The commit failed after the output folder was swapped (a server gone in that instant).
            raise UnusableInput(f"{exc.message} De uitvoermap is al vervangen, maar het register is niet bijgewerkt.",
                                "Draai dezelfde opdracht opnieuw zodra het register weer bereikbaar is; dan komen de "
                                "uitvoer en het register weer overeen.") from None
        return changes.states

    def _require(self, conn: Connection, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        known = werkgevers_of(conn, dict.fromkeys(codes))
        unknown = [code for code in dict.fromkeys(codes) if code not in known]
        if unknown:
            hints = []
            for code in unknown:
                alike = conn.execute(sa.select(werkgevers_table.c.werkgeverscode).where(
                    sa.func.ltrim(werkgevers_table.c.werkgeverscode, "0") == code.lstrip("0")).limit(1)).scalar()
                hints.append(f"{code} (bedoelt u {alike}?)" if alike else code)
            raise UnusableInput(
                f"Onbekende werkgeverscode{'s' if len(unknown) > 1 else ''} in het register: {', '.join(hints)}. "
                "Er is niets gewijzigd.",
                "Controleer de codes met 'asr-batch status'; een werkgever komt in het register door 'asr-batch "
                "process' op een werkmap waarin hij geldig is.")
        return known

    def mark_submitted(self, codes: Sequence[str], on: date, *, note: str | None = None,
                       again: bool = False) -> list[str]:
        """Step 2 done for these werkgevers: all or nothing. A confirmed (or ended) werkgever only `again`: its
        earlier confirmation dates stay, shown as earlier. Returns the codes, sorted."""
        return self.mark(Mark("submitted", on, note=note, again=again), codes)

    def mark_confirmed(self, codes: Sequence[str], on: date, first_exchange: date, *,
                       note: str | None = None) -> list[str]:
        """Step 3: a.s.r. confirmed. A werkgever never marked submitted counts as submitted on `on`."""
        return self.mark(Mark("confirmed", on, first_exchange, note=note), codes)

    def mark(self, mark: Mark, codes: Sequence[str]) -> list[str]:
        """Apply one mark (steps.Mark: linked, submitted, confirmed, queried, ended, or a note) to these werkgevers:
        each checked first (steps.Mark.refusal), then all of them, or none. Returns the codes, sorted."""
        mark = check_mark(mark)
        at, user = now(), os_user()
        with self._connection(write=True) as conn:
            known = self._require(conn, codes)
            chosen = sorted(dict.fromkeys(codes), key=sort_key)
            check_all(mark, chosen, known)
            for code in chosen:
                conn.execute(sa.update(werkgevers_table).where(werkgevers_table.c.werkgeverscode == code)
                             .values(**mark.values(known[code])))
            conn.execute(sa.insert(events_table), [entry(at, user, code, mark.kind, mark.detail()) for code in chosen])
        return chosen

    def mark_dated(self, changes: Sequence[DatedChange], *, source: str, dry_run: bool = False) -> Applied:
        """Apply dates read back from a register workbook (`source`: its name, for the event log), each only while
        the werkgever is still as the workbook saw it: checked inside the transaction that writes, so a colleague's
        mark in the meantime is never overwritten. All or nothing: if any werkgever moved (or is gone), nothing is
        applied and `moved` says who changed it and when. One that already holds exactly these dates is left
        alone (`already`). `dry_run`: only reads, and tells what would be done."""
        at, user = now(), os_user()
        applied = Applied()
        with self._connection(write=not dry_run, bump=False) as conn:
            known = werkgevers_of(conn, [change.werkgeverscode for change in changes])
            for change in changes:
                row = known.get(change.werkgeverscode)
                if row is not None and unchanged(row, change.seen):
                    applied.done.append(change)
                elif row is not None and unchanged(row, change.values(row)):
                    applied.already.append((change, changed_since(conn, change)))
                else:
                    applied.moved.append(changed_since(conn, change, gone=row is None))
            if dry_run or applied.moved or not applied.done:
                return applied
            events = []
            for change in applied.done:
                values = change.values(known[change.werkgeverscode])
                conn.execute(sa.update(werkgevers_table)
                             .where(werkgevers_table.c.werkgeverscode == change.werkgeverscode).values(**values))
                if change.linked_on is not None:
                    events.append(entry(at, user, change.werkgeverscode, "linked",
                                        f"gekoppeld op {change.linked_on}; uit werkmap {source}"))
                if change.submitted_on is not None:
                    events.append(entry(at, user, change.werkgeverscode, "submitted",
                                        f"aangemeld op {change.submitted_on}; uit werkmap {source}"))
                if change.confirmed_on is not None:
                    events.append(entry(at, user, change.werkgeverscode, "confirmed",
                                        f"bevestigd op {change.confirmed_on}; eerste uitwisseling "
                                        f"{change.first_exchange}; uit werkmap {source}"))
            conn.execute(sa.insert(events_table), events)
            bump_generation(conn)
        return applied

    def forget(self, codes: Sequence[str]) -> tuple[list[str], list[str]]:
        """Remove werkgevers (the event log keeps that it happened): all or nothing. Returns the codes, and the
        documents asr-batch wrote for them that still exist (those of another computer named as such): they hold
        the Client Secret, and no `purge` will find them any more."""
        at, user = now(), os_user()
        me, shared = self.computer(), self.location.shared
        with self._connection(write=True) as conn:
            self._require(conn, codes)
            chosen = sorted(dict.fromkeys(codes), key=sort_key)
            left: set[str] = set()
            table = documents_table.c
            for chunk in chunks(chosen):
                for path, computer, name in conn.execute(sa.select(table.path, table.computer, table.computer_name)
                                                         .where(table.werkgeverscode.in_(chunk))):
                    owner = whose(computer, me, shared)
                    if owner == "other":
                        left.add(f"{path} (op een andere computer ({name or 'onbekend'}))")
                    elif os.path.isfile(path):
                        left.add(path)
                    elif owner == "unknown":
                        left.add(f"{path} (op een {UNKNOWN_COMPUTER})")
                conn.execute(sa.delete(documents_table).where(table.werkgeverscode.in_(chunk)))
                conn.execute(sa.delete(werkgevers_table).where(werkgevers_table.c.werkgeverscode.in_(chunk)))
            conn.execute(sa.insert(events_table), [entry(at, user, code, "forgotten", "uit het register gehaald")
                                                   for code in chosen])
        return chosen, sorted(left)

    def purge(self, *, dry_run: bool = False, is_ours: Callable[[Path], bool]) -> list[Purged]:
        """Delete this computer's documents of every confirmed werkgever that still sit in an asr-batch output
        folder (`is_ours`), in two steps through a journal (purge.py). Lists what it deleted, or with `dry_run`
        what it would delete (and changes nothing), and what it left alone and why (another computer's)."""
        # On a server a document recorded by version 1 may become this computer's (purge._mark): it needs an id.
        me = self.computer(create=self.location.shared and not dry_run)
        at, user = now(), os_user()
        with self._connection(write=not dry_run) as conn:
            journal = announce(conn, me, at=at, user=user, shared=self.location.shared, dry_run=dry_run,
                               is_ours=is_ours)
        if not journal.marked:
            return journal.listing
        with self._connection(write=True) as conn:
            failed = carry_out(conn, journal.marked, at=now(), user=user, is_ours=is_ours)
        return [failed.get((item.werkgeverscode, item.path), item) for item in journal.listing]
