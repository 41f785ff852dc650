"""What the register records and tells: a werkgever's state and the fingerprint of its step-2 data, the status of
all of them, the plan of a run, a purged document."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from batch.model import REGISTER_STATES, RowResult
from batch.register.computer import Computer
from batch.register.what_changed import changed_fields

STATES = REGISTER_STATES
PENDING = frozenset({"new", "changed"})  # still to submit (again)
# A werkgever a.s.r. asked about stays so until a new submission; one that ended stays ended, whatever a later
# workbook holds: neither becomes pending again by being seen.
KEPT_WHEN_SEEN = frozenset({"queried", "ended"})
WAITING_OVER = 30  # days: a submitted werkgever waiting longer is flagged, so the office knows whom to chase at a.s.r.


def fingerprint(key: bytes, row: RowResult) -> str:
    """HMAC-SHA256 of the step-2 data: client_id, client_secret, dga, each DGA's name and number, 13e maand,
    verloning. The same data gives the same fingerprint in this register, and no other register."""
    record = row.record
    parts = [record.get("client_id"), record.get("client_secret"), record.get("dga"),
             *(value for d in row.dgas for value in (d.naam, d.medewerkersnummer)),
             record.get("dertiende_maand"), record.get("verloning")]
    # Unit separators between the values (no value holds one: the reader refuses control characters), and an
    # empty value apart from a missing one.
    payload = "\x1f".join("\x00" if part is None else part for part in parts).encode("utf-8")
    return hmac.digest(key, payload, "sha256").hex()


def state_after_seeing(known: dict[str, Any] | None, new_fingerprint: str) -> str:
    """A werkgever's state once a workbook with this step-2 data has been seen."""
    if known is None:
        return "new"
    if known["state"] in KEPT_WHEN_SEEN:
        return str(known["state"])
    if known["state"] == "new" or known["marked_state"] is None:
        return "new"
    return known["marked_state"] if new_fingerprint == known["marked_fingerprint"] else "changed"


def sort_key(code: str) -> tuple[int, str]:
    """Werkgeverscodes sort as numbers: 0087 before 1001."""
    return (int(code), code) if code.isdigit() else (1 << 62, code)


@dataclass(frozen=True, order=True)
class Elsewhere:
    """A document recorded by another computer: purge deletes it there."""

    computer: str  # its name for people; "onbekende computer" for one recorded by a version-1 register
    path: str


@dataclass
class Employer:
    werkgeverscode: str
    naam: str | None
    state: str
    first_seen: date | None
    last_seen: date | None
    source_file: str | None
    source_row: int | None
    submitted_on: date | None
    confirmed_on: date | None
    first_exchange: date | None
    documents: list[str] = field(default_factory=list)  # on this computer, and there
    documents_elsewhere: list[Elsewhere] = field(default_factory=list)  # recorded on another computer
    last_event: int | None = None  # the id of its latest event: a register workbook names later changes by it
    linked_on: date | None = None  # step 1, in Exact
    queried_on: date | None = None  # a.s.r.'s latest question or refusal
    ended_on: date | None = None
    note: str | None = None
    marked_state: str | None = None  # what the last submission or confirmation made it
    # what_changed.changed_fields: the step-2 fields that differ from the last submission (None: unknown), and the
    # old and new values of 13e maand and verloning among them
    changed_fields: list[str] | None = field(default_factory=list)
    changed_values: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def confirmed_earlier(self) -> bool:
        """Confirmed once, and submitted again since: the confirmation dates are those of an earlier submission."""
        return self.confirmed_on is not None and self.marked_state == "submitted"

    def days_waiting(self, today: date) -> int | None:
        """Days since submission, while a.s.r. has not confirmed."""
        if self.state != "submitted" or self.submitted_on is None:
            return None
        return (today - self.submitted_on).days

    def waiting_too_long(self, today: date, days: int) -> bool:
        """Submitted more than `days` days ago, and a.s.r. has not confirmed yet."""
        waiting = self.days_waiting(today)
        return waiting is not None and waiting > days

    def to_dict(self) -> dict[str, object]:
        def iso(day: date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "werkgeverscode": self.werkgeverscode, "naam": self.naam, "state": self.state,
            "state_label": STATES[self.state], "first_seen": iso(self.first_seen), "last_seen": iso(self.last_seen),
            "source": {"file": self.source_file, "row": self.source_row},
            "submitted_on": iso(self.submitted_on), "confirmed_on": iso(self.confirmed_on),
            "first_exchange": iso(self.first_exchange), "documents": list(self.documents),
            "documents_elsewhere": [{"path": e.path, "computer": e.computer} for e in self.documents_elsewhere],
            "linked_on": iso(self.linked_on), "queried_on": iso(self.queried_on), "ended_on": iso(self.ended_on),
            "note": self.note, "confirmed_earlier": self.confirmed_earlier,
            "changed_fields": None if self.changed_fields is None else list(self.changed_fields),
            "changed_values": {name: list(pair) for name, pair in self.changed_values.items()},
        }


def employer_of(columns: dict[str, Any], documents: list[str], elsewhere: list[Elsewhere],
                last_event: int | None) -> Employer:
    """A werkgever as `status` tells it, from its columns in the register."""
    fields, values = changed_fields(columns)
    names = ("werkgeverscode", "naam", "state", "first_seen", "last_seen", "source_file", "source_row",
             "submitted_on", "confirmed_on", "first_exchange", "linked_on", "queried_on", "ended_on", "note",
             "marked_state")
    chosen: dict[str, Any] = {name: columns.get(name) for name in names}
    return Employer(**chosen, documents=documents,
                    documents_elsewhere=elsewhere, last_event=last_event, changed_fields=fields,
                    changed_values=values)


@dataclass
class Status:
    register: str
    employers: list[Employer]  # all of them, sorted by code

    @property
    def place(self) -> str:
        """Where the register is, as a clerk reads it: an SQLite file as its path (not sqlite:////...), a database
        server by its address without a password (`register` keeps the URL, as status --json gives it)."""
        from urllib.parse import unquote

        prefix = "sqlite:///"
        if not self.register.startswith(prefix):
            return self.register
        return unquote(self.register[len(prefix):].partition("?")[0])  # C%3A%5C... is C:\...

    @property
    def counts(self) -> dict[str, int]:
        counts = {"total": len(self.employers), **{state: 0 for state in STATES}}
        for employer in self.employers:
            counts[employer.state] += 1
        return counts

    def shown(self, listing: Listing) -> list[Employer]:
        """The employers a report lists (the counts stay over the whole register)."""
        return [e for e in self.employers if (listing.state is None or e.state == listing.state)
                and (not listing.only_waiting or e.waiting_too_long(listing.today, listing.waiting_over))]

    def waiting_too_long(self, listing: Listing) -> int:
        """How many submitted werkgevers wait longer than the listing's threshold, in the whole register."""
        return sum(e.waiting_too_long(listing.today, listing.waiting_over) for e in self.employers)

    def to_dict(self, state: str | None = None, listing: Listing | None = None) -> dict[str, object]:
        listing = listing or Listing(date.today(), state)
        employers = []
        for employer in self.shown(listing):
            waiting = employer.days_waiting(listing.today)
            employers.append({**employer.to_dict(), "days_waiting": waiting,
                              "waiting_too_long": employer.waiting_too_long(listing.today, listing.waiting_over)})
        return {"register": self.register, "counts": self.counts, "employers": employers,
                "waiting_over": {"days": listing.waiting_over, "count": self.waiting_too_long(listing)}}


@dataclass(frozen=True)
class Listing:
    """What a status report lists: the werkgevers in `state` (all: None), and which submitted ones wait too long;
    with `only_waiting` (status --state submitted --waiting-over DAYS) only those."""

    today: date
    state: str | None = None
    waiting_over: int = WAITING_OVER
    only_waiting: bool = False


@dataclass(frozen=True)
class Plan:
    """What `process` will record: each valid werkgever's state, and the fingerprint of its step-2 data."""

    states: dict[str, str]
    fingerprints: dict[str, str]
    generation: int  # of the register when it was read: unchanged at recording time, the reading still holds
    known: dict[str, dict[str, Any]] = field(repr=False)  # the run's werkgevers that the register knew
    documents: dict[tuple[str, str], tuple[str, bool]] = field(repr=False)  # changes.Recorded
    computer: Computer  # that writes the documents
    # per werkgever, what tells which field changed: `field_prints` and `plain_values` (what_changed)
    details: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    # a run's code the register does not hold -> the code it holds that differs only by leading zeros (87, 0087):
    # such a row is refused, never recorded as a second werkgever
    alike: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Purged:
    werkgeverscode: str
    path: str
    deleted: bool  # False: left alone (reason says why)
    reason: str = ""
    elsewhere: bool = False  # not on this computer; the register (a shared one) keeps it for purge where it is


# --- dates read back from a register workbook (status --xlsx, then mark --from) -------------------------------


@dataclass(frozen=True)
class Seen:
    """A werkgever as a register workbook saw it when it was written."""

    state: str
    submitted_on: date | None
    confirmed_on: date | None
    first_exchange: date | None
    last_event: int | None  # its latest event then: the events after it name who changed it since, and when
    linked_on: date | None = None
    knows_linked: bool = False  # written with Gekoppeld op (format 2): linked_on is as the workbook saw it


@dataclass(frozen=True)
class DatedChange:
    """Dates a clerk added or changed for one werkgever: submitted on `submitted_on`; confirmed on `confirmed_on`
    with the first exchange on `first_exchange` (the two go together). `seen`: the werkgever as the workbook saw
    it; the change holds only while the register still has it so."""

    werkgeverscode: str
    seen: Seen
    submitted_on: date | None = None
    confirmed_on: date | None = None
    first_exchange: date | None = None
    linked_on: date | None = None

    def values(self, known: dict[str, Any]) -> dict[str, Any]:
        """The register's columns once this change is applied to the werkgever `known` (its columns now)."""
        values: dict[str, Any] = {} if self.linked_on is None else {"linked_on": self.linked_on}
        marked = {"marked_fingerprint": known["fingerprint"], "marked_field_prints": known.get("field_prints"),
                  "marked_plain_values": known.get("plain_values")}
        if self.confirmed_on is not None:
            # confirming one never marked submitted takes the confirmation date as its submission date, as `mark`
            values.update(state="confirmed", confirmed_on=self.confirmed_on, first_exchange=self.first_exchange,
                          submitted_on=self.submitted_on or known["submitted_on"] or self.confirmed_on,
                          marked_state="confirmed", **marked)
        elif self.submitted_on is not None:
            values.update(state="submitted", submitted_on=self.submitted_on, marked_state="submitted", **marked)
        return values


@dataclass(frozen=True)
class Moved:
    """A werkgever that changed in the register since the workbook was written: its latest change, from the
    event log (None where the log has none), or `gone`: no longer in the register."""

    werkgeverscode: str
    at: str | None = None
    user: str | None = None
    event: str | None = None
    detail: str | None = None
    gone: bool = False


@dataclass
class Applied:
    """What `Register.mark_dated` did, or (a dry run, or any `moved`) would do: nothing is applied while a
    werkgever moved."""

    done: list[DatedChange] = field(default_factory=list)
    already: list[tuple[DatedChange, Moved]] = field(default_factory=list)  # a colleague recorded the same dates
    moved: list[Moved] = field(default_factory=list)
