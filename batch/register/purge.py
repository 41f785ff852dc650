"""Purge: delete the documents of every confirmed werkgever (they hold the Client Secret), and forget them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batch.register.events import entry
from batch.register.records import Purged, sort_key
from batch.register.schema import documents_table, events_table, werkgevers_table


def purge_documents(conn: Connection, *, at: str, user: str, shared: bool, dry_run: bool,
                    is_ours: Callable[[Path], bool]) -> list[Purged]:
    """Inside the caller's transaction (a write unless `dry_run`, which changes nothing); `at` and `user` for the
    event log.

    A document that is not on this computer is gone from an SQLite register: nothing left to purge. A register
    on a server is shared by a team, and the document may well be on a colleague's computer: that register keeps
    it (listed as `elsewhere`), so that purge on that computer still finds it; forgetting it here would leave a
    file with a Client Secret that no purge ever deletes."""
    done: list[Purged] = []
    confirmed = sa.select(werkgevers_table.c.werkgeverscode).where(werkgevers_table.c.state == "confirmed")
    rows = conn.execute(sa.select(documents_table.c.werkgeverscode, documents_table.c.path)
                        .where(documents_table.c.werkgeverscode.in_(confirmed))).all()
    for code, path in sorted(rows, key=lambda r: (sort_key(r[0]), r[1])):
        file = Path(path)
        if not file.is_file():
            if shared:
                done.append(Purged(code, path, False, "niet op deze computer", elsewhere=True))
            elif not dry_run:
                _forget_document(conn, code, path)
            continue
        if not is_ours(file):
            done.append(Purged(code, path, False, "staat niet (meer) in een uitvoermap van asr-batch; het "
                                                  "bevat het Client Secret: verwijder het zelf"))
            continue
        if not dry_run:
            try:
                file.unlink()
            except OSError as exc:  # open in another program (Windows), no rights
                done.append(Purged(code, path, False, f"kan niet worden verwijderd ({exc.strerror or exc}); "
                                                      "sluit het en draai purge opnieuw"))
                continue
            _forget_document(conn, code, path)
            conn.execute(sa.insert(events_table), [entry(at, user, code, "deleted", path)])
        done.append(Purged(code, path, True))
    return done


def _forget_document(conn: Connection, code: str, path: str) -> None:
    conn.execute(sa.delete(documents_table).where(documents_table.c.werkgeverscode == code,
                                                  documents_table.c.path == path))
