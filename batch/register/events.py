"""Who did what and when: the rows of the register's append-only event log."""

from __future__ import annotations

import getpass
from datetime import datetime


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name known to the system
        return "onbekend"


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def entry(at: str, user: str, code: str | None, event: str, detail: str) -> dict[str, object]:
    return {"at": at, "user": user, "werkgeverscode": code, "event": event, "detail": detail}
