"""Dates read back from a register workbook: whether a werkgever is still as the workbook saw it, and if not, who
changed it since and when (from the event log)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batch.register.records import DatedChange, Moved, Seen
from batch.register.schema import events_table

COMPARED = ("state", "submitted_on", "confirmed_on", "first_exchange", "linked_on")
# Events that leave a werkgever's state and dates as they were: not the change a clerk must be told about.
_NOT_A_CHANGE = ("deleted", "documents")


def latest_events(conn: Connection) -> dict[str, int]:
    """Each werkgever's latest event id, by code."""
    events = events_table.c
    return {code: latest for code, latest in conn.execute(
        sa.select(events.werkgeverscode, sa.func.max(events.id)).where(events.werkgeverscode.is_not(None))
        .group_by(events.werkgeverscode))}


def unchanged(row: dict[str, Any], expected: Seen | dict[str, Any]) -> bool:
    """Whether the werkgever's state and dates are those expected (a Seen, or the columns a change would
    write)."""
    if isinstance(expected, Seen):  # a workbook of format 1 did not see linked_on: nothing to compare it with
        wanted = {key: getattr(expected, key) for key in COMPARED if key != "linked_on" or expected.knows_linked}
    else:
        wanted = expected
    return all(row[key] == wanted[key] for key in COMPARED if key in wanted)


def changed_since(conn: Connection, change: DatedChange, *, gone: bool = False) -> Moved:
    """The latest change to this werkgever after the workbook was written, as the event log has it."""
    events = events_table.c
    latest = conn.execute(
        sa.select(events.at, events.user, events.event, events.detail)
        .where(events.werkgeverscode == change.werkgeverscode, events.id > (change.seen.last_event or 0),
               events.event.not_in(_NOT_A_CHANGE))
        .order_by(events.id.desc()).limit(1)).first()
    if latest is None:
        return Moved(change.werkgeverscode, gone=gone)
    return Moved(change.werkgeverscode, latest.at, latest.user, latest.event, latest.detail, gone=gone)
