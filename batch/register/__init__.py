"""The register: where every werkgever stands in steps 2 and 3, kept over weeks.

SQLAlchemy Core: the tables are declared once, in `schema`; every change is one transaction (`store`), so an
interrupted command leaves the register as it was. The CLI, the pipeline and the local page call the names below
and write no SQL of their own: nothing outside this package does. SQLite by default, in the user's data folder;
for a team, PostgreSQL, with the same tables and the same SQL. Where the two differ (how a transaction begins, how
writers take turns, how a failure reads) is said in a few named places: `engines._sqlite_engine`,
`engines._postgres_engine`, `schema.lock_for_writing`, `schema._lock_schema`, `faults._server_fault`, and
`Location.shared` (a register on a server is shared by a team: a document it names may be on a colleague's
computer).

It never holds a Client ID, a Client Secret, a DGA's name or number: a keyed fingerprint (HMAC-SHA256, with a
random key made with the register) of a werkgever's step-2 data tells whether that data changed since it was
submitted. Every change is also written to an append-only event log (when, which OS user, what).

One module per concern:
- `location`: where it lives (a path, a URL, the user's data folder) and its URL as shown, without the password;
- `records`: what it records and tells (a werkgever's state and fingerprint, the status, a plan, a purged file);
- `schema`: the tables, `meta`, creating and upgrading them (after a copy beside the file), the writers' lock;
- `engines`: the SQLite and PostgreSQL connections, how a transaction begins, how long a command waits;
- `faults`: every database failure as one Dutch UnusableInput, on SQLite and on PostgreSQL;
- `faults_postgres`: which failure a server gave, by SQLSTATE, error class and probing (never by words);
- `computer`: which computer this is (a stable id in the user's config folder, and its host name): a document
  belongs to the computer that wrote it;
- `events`: who and when, for the event log;
- `changes`: what recording a run writes;
- `steps`: what a clerk marks (linked, submitted, confirmed, queried, ended, a note) and the rules it keeps: dates
  in order, submitting a confirmed werkgever again only as an explicit choice;
- `what_changed`: which step-2 fields changed since the submission, from per-field keyed fingerprints;
- `dated`: dates read back from a register workbook: still as the workbook saw them, or changed since by whom;
- `store`: the open `Register`, one transaction per change;
- `purge`: deleting this computer's documents of confirmed werkgevers, through a journal;
- `opening`: opening (or creating) the register for one command;
- `dates`: the dates a clerk types.
"""

from batch.register.computer import this_computer
from batch.register.dates import parse_date
from batch.register.events import os_user as _user  # noqa: F401  (tests compare the event log's user with it)
from batch.register.location import Location, default_path, locate
from batch.register.opening import existing, open_register, status_of, using
from batch.register.purge import UNKNOWN_COMPUTER
from batch.register.records import (
    PENDING,
    STATES,
    WAITING_OVER,
    Applied,
    DatedChange,
    Elsewhere,
    Employer,
    Listing,
    Moved,
    Plan,
    Purged,
    Seen,
    Status,
)
from batch.register.steps import Mark
from batch.register.store import Register
from batch.register.what_changed import describe as describe_changes

__all__ = [
    "PENDING",
    "STATES",
    "WAITING_OVER",
    "Applied",
    "DatedChange",
    "Elsewhere",
    "Employer",
    "Listing",
    "Location",
    "Mark",
    "Moved",
    "Plan",
    "Purged",
    "Register",
    "Seen",
    "Status",
    "UNKNOWN_COMPUTER",
    "default_path",
    "describe_changes",
    "existing",
    "locate",
    "open_register",
    "parse_date",
    "status_of",
    "this_computer",
    "using",
]
