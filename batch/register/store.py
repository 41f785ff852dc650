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
from batch.register.changes import changes_of, documents_in, write_changes
from batch.register.dated import changed_since, latest_events, unchanged
from batch.register.events import entry, now, os_user
from batch.register.faults import fault
from batch.register.location import Location
from batch.register.purge import purge_documents
from batch.register.records import (
    Applied,
    DatedChange,
    Employer,
    Plan,
    Purged,
    Status,
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


class Register:
    """An open register. `open_register` makes one; reading never creates anything."""

    def __init__(self, location: Location, engine: Engine, key: bytes) -> None:
        self.location = location
        self._engine = engine
        self.key = key

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

    def _known(self, conn: Connection) -> dict[str, dict[str, Any]]:
        """Every werkgever in the register by code, as a dict of its columns. (Rows zipped with the column names:
        SQLAlchemy's Row._asdict took half the time at 10,000 werkgevers.)"""
        rows = conn.execute(sa.select(werkgevers_table))
        names = list(rows.keys())
        return {values[0]: dict(zip(names, values, strict=True)) for values in rows}

    def plan(self, rows: Iterable[RowResult], documents_folder: Path) -> Plan:
        """The state each of these (valid) rows will have once recorded, by werkgeverscode, for a run that writes
        its documents into `documents_folder`. Reads only."""
        prints = {row.werkgeverscode: fingerprint(self.key, row) for row in rows if row.werkgeverscode}
        with self._connection(write=False) as conn:
            reading, known = generation(conn), self._known(conn)
            documents = documents_in(conn, documents_folder)
        states = {code: state_after_seeing(known.get(code), digest) for code, digest in prints.items()}
        return Plan(states, prints, reading, known, documents)

    def status(self, *, with_latest_events: bool = False) -> Status:
        """Every werkgever; `with_latest_events`: each with the id of its latest event too (the register workbook
        keeps it, to name a later change; a reading of the whole event log, so only when asked)."""
        with self._connection(write=False) as conn:
            rows = conn.execute(sa.select(werkgevers_table)).all()
            paths: dict[str, list[str]] = {}
            for code, path in conn.execute(sa.select(documents_table.c.werkgeverscode, documents_table.c.path)):
                paths.setdefault(code, []).append(path)
            latest = latest_events(conn) if with_latest_events else {}
        # Sorted here, not by the database: PostgreSQL sorts text by its collation (nl_NL, en_US...), SQLite by
        # bytes; the same register must list the same way on both.
        employers = [Employer(r.werkgeverscode, r.naam, r.state, r.first_seen, r.last_seen, r.source_file,
                              r.source_row, r.submitted_on, r.confirmed_on, r.first_exchange,
                              sorted(p for p in paths.get(r.werkgeverscode, []) if os.path.isfile(p)),
                              last_event=latest.get(r.werkgeverscode))
                     for r in rows]
        employers.sort(key=lambda e: sort_key(e.werkgeverscode))
        return Status(self.location.shown, employers)

    # --- writing ------------------------------------------------------------------------------------------

    def record(self, result: Result, plan: Plan, documents_folder: Path,
               then: Callable[[dict[str, str]], None] = lambda states: None) -> dict[str, str]:
        """Record every valid row of a run and the documents written for it, then run `then` with the states (the
        swap of the output folder) inside the same transaction: if `then` fails, nothing is recorded. Only what
        changed is written. The changes are worked out on the plan's reading of the register; should another
        command have written meanwhile (a clerk marking), they are worked out again on what the register holds
        now, inside the transaction. Returns the states."""
        changes = changes_of(result, plan.fingerprints, plan.known, plan.documents, documents_folder)
        swapped = False
        try:
            with self._connection(write=True, exclusive=True, bump=False) as conn:
                if generation(conn) != plan.generation:
                    changes = changes_of(result, plan.fingerprints, self._known(conn),
                                         documents_in(conn, documents_folder), documents_folder)
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
        known = self._known(conn)
        unknown = [code for code in dict.fromkeys(codes) if code not in known]
        if unknown:
            hints = []
            for code in unknown:
                alike = [k for k in known if k.lstrip("0") == code.lstrip("0")]
                hints.append(f"{code} (bedoelt u {alike[0]}?)" if alike else code)
            raise UnusableInput(
                f"Onbekende werkgeverscode{'s' if len(unknown) > 1 else ''} in het register: {', '.join(hints)}. "
                "Er is niets gewijzigd.",
                "Controleer de codes met 'asr-batch status'; een werkgever komt in het register door 'asr-batch "
                "process' op een werkmap waarin hij geldig is.")
        return known

    def mark_submitted(self, codes: Sequence[str], on: date) -> list[str]:
        """Step 2 done for these werkgevers: all or nothing. Returns the codes, sorted."""
        return self._mark(codes, on, "submitted", f"aangemeld op {on}", lambda known: {
            "state": "submitted", "submitted_on": on, "marked_state": "submitted",
            "marked_fingerprint": known["fingerprint"]})

    def mark_confirmed(self, codes: Sequence[str], on: date, first_exchange: date) -> list[str]:
        """Step 3: a.s.r. confirmed. A werkgever never marked submitted counts as submitted on `on`."""
        return self._mark(codes, on, "confirmed", f"bevestigd op {on}; eerste uitwisseling {first_exchange}",
                          lambda known: {"state": "confirmed", "confirmed_on": on, "first_exchange": first_exchange,
                                         "submitted_on": known["submitted_on"] or on, "marked_state": "confirmed",
                                         "marked_fingerprint": known["fingerprint"]})

    def _mark(self, codes: Sequence[str], on: date, event: str, detail: str,
              values: Callable[[dict[str, Any]], dict[str, Any]]) -> list[str]:
        if on > date.today():
            raise UnusableInput(f"De datum {on:%d-%m-%Y} ligt in de toekomst. Er is niets gewijzigd.",
                                "Geef bij --on de dag waarop het gebeurde, of laat --on weg voor vandaag.")
        at, user = now(), os_user()
        with self._connection(write=True) as conn:
            known = self._require(conn, codes)
            chosen = sorted(dict.fromkeys(codes), key=sort_key)
            for code in chosen:
                conn.execute(sa.update(werkgevers_table).where(werkgevers_table.c.werkgeverscode == code)
                             .values(**values(known[code])))
            conn.execute(sa.insert(events_table), [entry(at, user, code, event, detail) for code in chosen])
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
            known = self._rows_of(conn, [change.werkgeverscode for change in changes])
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

    def _rows_of(self, conn: Connection, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """These werkgevers (those the register holds) by code, as dicts of their columns."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(codes))
        for start in range(0, len(unique), 5_000):  # one statement per chunk, not one per werkgever
            rows = conn.execute(sa.select(werkgevers_table)
                                .where(werkgevers_table.c.werkgeverscode.in_(unique[start:start + 5_000])))
            names = list(rows.keys())
            found.update({values[0]: dict(zip(names, values, strict=True)) for values in rows})
        return found

    def forget(self, codes: Sequence[str]) -> tuple[list[str], list[str]]:
        """Remove werkgevers (the event log keeps that it happened): all or nothing. Returns the codes, and the
        documents asr-batch wrote for them that still exist: they hold the Client Secret, and no `purge` will
        find them any more."""
        at, user = now(), os_user()
        with self._connection(write=True) as conn:
            self._require(conn, codes)
            chosen = sorted(dict.fromkeys(codes), key=sort_key)
            left = sorted(path for (path,) in conn.execute(sa.select(documents_table.c.path).where(
                documents_table.c.werkgeverscode.in_(chosen))) if os.path.isfile(path))
            conn.execute(sa.delete(documents_table).where(documents_table.c.werkgeverscode.in_(chosen)))
            conn.execute(sa.delete(werkgevers_table).where(werkgevers_table.c.werkgeverscode.in_(chosen)))
            conn.execute(sa.insert(events_table), [entry(at, user, code, "forgotten", "uit het register gehaald")
                                                   for code in chosen])
        return chosen, left

    def purge(self, *, dry_run: bool = False, is_ours: Callable[[Path], bool]) -> list[Purged]:
        """Delete the documents of every confirmed werkgever that still sit in an asr-batch output folder
        (`is_ours`). Lists what it deleted, or with `dry_run` what it would delete (and changes nothing); a
        document on another computer is handled as `purge.purge_documents` says."""
        at, user = now(), os_user()
        with self._connection(write=not dry_run) as conn:
            done = purge_documents(conn, at=at, user=user, shared=self.location.shared, dry_run=dry_run,
                                   is_ours=is_ours)
        return done
