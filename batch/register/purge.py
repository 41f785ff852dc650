"""Purge: delete the documents of every confirmed or ended werkgever (they hold the Client Secret) that this
computer wrote, through a journal, so that a purge cut off halfway (SIGKILL, a power cut) is finished by the next one.

1. `announce`, one transaction: first finish what an earlier purge of this computer left in the journal; then
   choose the documents to delete, mark each `deleting` and write its `deleted` event (the event log says when
   purge decided, as it did when it deleted inside one transaction).
2. `carry_out`, a second transaction that holds the writers' lock: delete the files still marked and forget them;
   a file that cannot be deleted is unmarked again, with a `not_deleted` event.

Killed between the two, or halfway the second (which then rolls back): the marks stay, and the next purge's first
step finishes them: a file that is gone is forgotten, one still there is deleted as any other. `status` lists a
file only while it is there: it never shows one that is gone, and a row is forgotten only once its file is.

Whose document: see `computer.whose`. Another computer's is never touched, only named ("op een andere computer
(NAAM)"): purge there deletes it. One recorded by a version-1 register on a server (computer unknown) is deleted
where its file is found in an asr-batch output folder (and becomes this computer's), and otherwise named; never
forgotten while no computer has deleted it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batch.register.changes import chunks
from batch.register.computer import UNKNOWN, Computer, whose
from batch.register.events import entry
from batch.register.records import Purged, sort_key
from batch.register.schema import documents_table, events_table, werkgevers_table

UNKNOWN_COMPUTER = "onbekende computer"
# Whose documents are no longer needed: confirmed by a.s.r., or ended (left the office or a.s.r.).
PURGEABLE = ("confirmed", "ended")
Key = tuple[str, str, str]  # werkgeverscode, path, computer: one row of `documents`


@dataclass
class Journal:
    """What the first step decided: the listing to show, and the rows it marked for deletion."""

    listing: list[Purged] = field(default_factory=list)
    marked: list[Key] = field(default_factory=list)


def announce(conn: Connection, me: Computer, *, at: str, user: str, shared: bool, dry_run: bool,
             is_ours: Callable[[Path], bool]) -> Journal:
    """The first step, inside the caller's transaction (a write unless `dry_run`, which changes nothing).

    A document of this computer that is gone from an SQLite register is forgotten (nothing left to purge). A
    register on a server keeps it: the folder may have moved, or a disk be away; forgetting it would leave a file
    with a Client Secret that no purge ever deletes."""
    journal = Journal()
    announced = _finish(conn, me, shared=shared, dry_run=dry_run, journal=journal)
    chosen: set[tuple[str, str]] = set()
    table = documents_table.c
    confirmed = sa.select(werkgevers_table.c.werkgeverscode).where(werkgevers_table.c.state.in_(PURGEABLE))
    rows = conn.execute(sa.select(table.werkgeverscode, table.path, table.computer, table.computer_name)
                        .where(table.werkgeverscode.in_(confirmed))).all()
    # This computer's row of a file before the one without computer of the same file (a version-1 row)
    for code, path, computer, name in sorted(rows, key=lambda r: (sort_key(r[0]), r[1], r[2] == UNKNOWN, r[2])):
        owner = whose(computer, me, shared)
        if owner == "other":
            journal.listing.append(Purged(code, path, False, f"op een andere computer ({name or 'onbekend'})",
                                          elsewhere=True))
            continue
        if (code, path) in chosen:  # the same file, once recorded without its computer: one document
            if not dry_run:
                _forget(conn, (code, path, computer))
            continue
        file = Path(path)
        if not file.is_file():
            if owner == "mine" and not shared:
                if not dry_run:
                    _forget(conn, (code, path, computer))
            else:
                reason = ("niet gevonden op deze computer (verplaatst, of de schijf is er niet?)" if owner == "mine"
                          else f"op een {UNKNOWN_COMPUTER} (vastgelegd vóór versie 2 van het register)")
                journal.listing.append(Purged(code, path, False, reason, elsewhere=True))
            continue
        if not is_ours(file):
            journal.listing.append(Purged(code, path, False, "staat niet (meer) in een uitvoermap van asr-batch; "
                                                             "het bevat het Client Secret: verwijder het zelf"))
            continue
        chosen.add((code, path))
        journal.listing.append(Purged(code, path, True))
        if dry_run:
            continue
        key = _mark(conn, (code, path, computer), me, at)
        journal.marked.append(key)
        if (code, path) not in announced:
            conn.execute(sa.insert(events_table), [entry(at, user, code, "deleted", path)])
    for code, path in sorted(announced - chosen):  # journaled once, but no longer to delete: the log says so
        conn.execute(sa.insert(events_table), [entry(at, user, code, "not_deleted", f"{path}: niet meer te "
                                                                                    "verwijderen")])
    return journal


def carry_out(conn: Connection, marked: list[Key], *, at: str, user: str,
              is_ours: Callable[[Path], bool]) -> dict[tuple[str, str], Purged]:
    """The second step, inside the caller's write transaction: delete the files still marked, forget them.
    Returns what could not be deleted, by (werkgeverscode, path)."""
    failed: dict[tuple[str, str], Purged] = {}
    still = _still_marked(conn, marked)
    for key in marked:
        code, path, _ = key
        file = Path(path)
        if key not in still:  # written again by a run since (it unmarked it): a new document, left alone
            reason = "intussen opnieuw geschreven; niet verwijderd"
        elif file.exists() and not is_ours(file):  # replaced meanwhile (a symbolic link)
            reason = "staat niet (meer) in een uitvoermap van asr-batch; verwijder het zelf"
        else:
            try:
                file.unlink(missing_ok=True)
            except OSError as exc:  # open in another program (Windows), no rights
                reason = f"kan niet worden verwijderd ({exc.strerror or exc}); sluit het en draai purge opnieuw"
            else:
                _forget(conn, key)
                continue
        failed[(code, path)] = Purged(code, path, False, reason)
        if key in still:
            conn.execute(sa.update(documents_table).values(deleting=None).where(*_is(key)))
        conn.execute(sa.insert(events_table), [entry(at, user, code, "not_deleted", f"{path}: {reason}")])
    return failed


def _finish(conn: Connection, me: Computer, *, shared: bool, dry_run: bool, journal: Journal) -> set[tuple[str, str]]:
    """What an earlier purge of this computer marked and did not finish: a file that is gone is forgotten (its
    `deleted` event was written with the mark); one still there is unmarked, and chosen again below like any
    other. Returns those still there: their event is already in the log."""
    table = documents_table.c
    mine = [me.id or "-", *([] if shared else [UNKNOWN])]
    rows = conn.execute(sa.select(table.werkgeverscode, table.path, table.computer)
                        .where(table.deleting.is_not(None), table.computer.in_(mine))).all()
    announced: set[tuple[str, str]] = set()
    for code, path, computer in sorted(rows, key=lambda r: (sort_key(r[0]), r[1])):
        if Path(path).is_file():
            announced.add((code, path))
            if not dry_run:
                conn.execute(sa.update(documents_table).values(deleting=None).where(*_is((code, path, computer))))
            continue
        journal.listing.append(Purged(code, path, True, "een eerdere, onderbroken purge afgemaakt"))
        if not dry_run:
            _forget(conn, (code, path, computer))
    return announced


def _mark(conn: Connection, key: Key, me: Computer, at: str) -> Key:
    """Journal one document. One recorded without its computer, found here, becomes this computer's: a purge
    elsewhere must not take its mark for its own."""
    code, path, computer = key
    if computer == UNKNOWN and me.id is not None:
        conn.execute(sa.update(documents_table).where(*_is(key))
                     .values(computer=me.id, computer_name=me.name, deleting=at))
        return code, path, me.id
    conn.execute(sa.update(documents_table).where(*_is(key)).values(deleting=at))
    return key


def _still_marked(conn: Connection, marked: Iterable[Key]) -> set[Key]:
    table = documents_table.c
    found: set[Key] = set()
    for chunk in chunks(sorted({code for code, _, _ in marked})):
        found.update((code, path, computer) for code, path, computer in conn.execute(
            sa.select(table.werkgeverscode, table.path, table.computer)
            .where(table.werkgeverscode.in_(chunk), table.deleting.is_not(None))))
    return found


def _is(key: Key) -> list[sa.ColumnElement[bool]]:
    code, path, computer = key
    table = documents_table.c
    return [table.werkgeverscode == code, table.path == path, table.computer == computer]


def _forget(conn: Connection, key: Key) -> None:
    conn.execute(sa.delete(documents_table).where(*_is(key)))
