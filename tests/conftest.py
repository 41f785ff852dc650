"""Shared test helpers: tiny workbooks built in fixtures, one defect each.

`make_workbook` writes an .xlsx with openpyxl the way an office would fill it: a Salarisverwerker sheet with
key/value rows and an employer sheet whose rows are given by field key. `valid_row()` is a row that passes
every rule, so a test changes exactly one thing and asserts the `(row, field, code)` triples it expects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import openpyxl
import pgserver
import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult
from hypothesis import settings
from register_backends import Backend, PostgresBackend, SqliteBackend

from batch.cli import main
from batch.fields import FIELDS, FIELDS_BY_KEY, JA, MAANDELIJKS, NEE, OFFICE_FIELDS, SHEET_OFFICE, SHEET_WERKGEVERS
from batch.model import Result
from batch.redact import forget_all

# Property tests stay modest so the whole suite runs in seconds.
settings.register_profile("asr-batch", max_examples=150, deadline=None)
settings.load_profile("asr-batch")

@pytest.fixture(scope="session", autouse=True)
def _session_register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-scoped fixtures run before any test's own fixtures: they, too, get a register of their
    own (one for the session), never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASR_BATCH_REGISTER", str(tmp_path_factory.mktemp("register-session") / "register.sqlite"))
        patch.setenv("ASR_BATCH_CONFIG_DIR", str(tmp_path_factory.mktemp("config-session")))
        yield


@pytest.fixture(autouse=True)
def private_register(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets a register of its own, never the user's (and outside the test's tmp_path, which tests
    list). Commands started as subprocesses inherit it."""
    path = tmp_path_factory.mktemp("register") / "register.sqlite"
    monkeypatch.setenv("ASR_BATCH_REGISTER", str(path))
    return path


@pytest.fixture(autouse=True)
def this_computer(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs on a computer of its own: the folder where asr-batch keeps this computer's id, never the
    user's. A test that plays two computers points ASR_BATCH_CONFIG_DIR elsewhere for the second."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("ASR_BATCH_CONFIG_DIR", str(folder))
    return folder


# --- the register on both of its homes ----------------------------------------------------------------------

BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that uses `backend` runs against an SQLite file and against a PostgreSQL server, unless it is marked
    sqlite_only (a test of SQLite files as such)."""
    if "backend" in metafunc.fixturenames and not metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pgserver.Server]:
    """A PostgreSQL server of the session's own (tests/pgserver.py). Where none can be started the tests that need
    one are skipped, saying how to install it; with ASR_BATCH_REQUIRE_POSTGRES=1 (CI) they fail instead."""
    try:
        server = pgserver.start()
    except pgserver.Unavailable as exc:
        if os.environ.get(pgserver.REQUIRE, "") not in ("", "0"):
            pytest.fail(f"{exc} ({pgserver.REQUIRE} is set: these tests must run here)", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


def make_backend(kind: str, request: pytest.FixtureRequest, sqlite_path: Path) -> Backend:
    """A register of the test's own: the SQLite file `sqlite_path`, or a new empty database on the server."""
    if kind == "sqlite":
        return SqliteBackend(sqlite_path)
    server: pgserver.Server = request.getfixturevalue("postgres_server")
    database = server.new_database()
    request.addfinalizer(lambda: server.drop_database(database))
    return PostgresBackend(server, database)


@pytest.fixture
def backend(request: pytest.FixtureRequest, private_register: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The test's register, on SQLite or PostgreSQL (see pytest_generate_tests), in ASR_BATCH_REGISTER."""
    chosen = make_backend(getattr(request, "param", "sqlite"), request, private_register)
    monkeypatch.setenv("ASR_BATCH_REGISTER", chosen.setting)
    return chosen


def ago(days: int) -> date:
    """A day `days` before today: the register's dates are relative to the day the tests run."""
    return date.today() - timedelta(days=days)


def dutch(day: date) -> str:
    """A date as the Dutch messages and tables show it."""
    return f"{day:%d-%m-%Y}"


# A first exchange date for a confirmation made today: after it, as the register's dates must be, whatever the
# day the tests run (a fixed date would fall before today's confirmation once that day has passed).
FIRST_EXCHANGE = date.today() + timedelta(days=8)
EXCHANGE = FIRST_EXCHANGE.isoformat()

# Distinctive, so a test can grep every output for it.
SECRET = "S3cret-Do-Not-Print-7781"
OFFICE_CLIENT_ID = "office-client-5f2a9c"

DEFAULT_OFFICE: dict[str, str | None] = {
    "naam": "Salarisbureau Testmans",
    "contactpersoon": "Tessa Testmans",
    "email": "tessa@testmans.example.nl",
    "telefoon": "030 123 45 67",
    "client_id": OFFICE_CLIENT_ID,
    "client_secret": SECRET,
}
# The office sheet without a default Web API user: rows must bring their own.
OFFICE_WITHOUT_DEFAULTS: dict[str, str | None] = {**DEFAULT_OFFICE, "client_id": None, "client_secret": None}

HEADERS: list[str] = [f.header for f in FIELDS]
OFFICE_LABELS: dict[str, str] = {f.key: f.label for f in OFFICE_FIELDS}

Row = Mapping[str, object]


def valid_row(**overrides: object) -> dict[str, object]:
    """An employer row that passes every rule (Client ID/Secret come from the office sheet).

    `valid_row(naam=None)` leaves the cell empty; any other override replaces the value as typed.
    """
    row: dict[str, object] = {
        "werkgeverscode": "1001",
        "naam": "Bakkerij De Korenaar B.V.",
        "dga": NEE,
        "dertiende_maand": JA,
        "verloning": MAANDELIJKS,
    }
    row.update(overrides)
    return row


def by_header(row: Row) -> dict[str, object]:
    """A row by field key to the same row by the template's header text (for `headers=`)."""
    return {FIELDS_BY_KEY[key].header: value for key, value in row.items()}


def numbered_rows(count: int, start: int = 1001, **overrides: object) -> list[dict[str, object]]:
    """`count` valid rows with distinct werkgeverscodes."""
    return [valid_row(**{"werkgeverscode": str(start + i), "naam": f"Werkgever {start + i}", **overrides})
            for i in range(count)]


def triples(result: Result) -> list[tuple[int, str | None, str]]:
    """Every row issue as a sorted `(row, field, code)` triple: the compact form tests assert on."""
    found = [(issue.row, issue.field, issue.code) for row in result.rows for issue in row.issues]
    assert all(row is not None for row, _, _ in found)
    return sorted(((int(row or 0), field, code) for row, field, code in found),
                  key=lambda t: (t[0], t[1] or "", t[2]))


def status_of(result: Result) -> dict[int, str]:
    return {row.row: row.status for row in result.rows}


def messages(result: Result) -> list[str]:
    """Every issue as the user reads it (message + fix), file issues included."""
    return [f"{i.message} {i.fix}" for i in result.all_issues]


class WorkbookBuilder(Protocol):
    def __call__(
        self,
        rows: Sequence[Row],
        *,
        headers: Sequence[str] | None = None,
        office: Mapping[str, str | None] | None = ...,
        title_rows: Sequence[Sequence[object]] = (),
        sheet_name: str = SHEET_WERKGEVERS,
        extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
        name: str = "werkgevers.xlsx",
    ) -> Path: ...


def write_workbook(
    path: Path,
    rows: Sequence[Row],
    *,
    headers: Sequence[str] | None = None,
    office: Mapping[str, str | None] | None = DEFAULT_OFFICE,
    title_rows: Sequence[Sequence[object]] = (),
    sheet_name: str = SHEET_WERKGEVERS,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
) -> Path:
    """Write a tiny workbook: extra sheets first, then the office sheet, then the employer sheet.

    Rows are dicts by field key with the default headers, or by header text when `headers` is given.
    A value of None leaves the cell empty; a string starting with '=' becomes a formula (without a
    cached value, as openpyxl writes it).
    """
    wb = openpyxl.Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    for title, sheet_rows in (extra_sheets or {}).items():
        ws = wb.create_sheet(title)
        for values in sheet_rows:
            ws.append(list(values))
    if office is not None:
        ws = wb.create_sheet(SHEET_OFFICE)
        ws.append(["Gegeven", "Waarde"])
        for key, value in office.items():
            ws.append([OFFICE_LABELS.get(key, key), value])
    ws = wb.create_sheet(sheet_name)
    for values in title_rows:
        ws.append(list(values))
    if headers is None:
        header_texts, lookup = HEADERS, [f.key for f in FIELDS]
    else:
        header_texts = lookup = list(headers)
    ws.append(header_texts)
    known = set(lookup)
    for row in rows:
        unknown = set(row) - known
        assert not unknown, f"row names columns the sheet does not have: {sorted(unknown)}"
        ws.append([row.get(key) for key in lookup])
    wb.save(path)
    return path


@pytest.fixture
def make_workbook(tmp_path: Path) -> WorkbookBuilder:
    """`make_workbook(rows, ...) -> Path`: a workbook in tmp_path; see `write_workbook`."""

    def build(rows: Sequence[Row], *, name: str = "werkgevers.xlsx", **options: Any) -> Path:
        return write_workbook(tmp_path / name, rows, **options)

    return build


@pytest.fixture(autouse=True)
def _no_remembered_secrets() -> Iterator[None]:
    """Each CLI run is its own process in real life: start every test with no secrets remembered."""
    forget_all()
    yield
    forget_all()


def run_cli(*args: object) -> CliResult:
    """Invoke `asr-batch` in-process. Click keeps the streams apart: `.stdout` is the data, `.stderr` the
    talk, `.output` both interleaved as a terminal would show them."""
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="asr-batch")


# tests/fuzz holds an atheris harness that is run by hand (see its docstring), never by pytest.


# --- shared by the secrets tests of test_cli and test_process ---------------------------------------------

ROW_SECRET = "Row-S3cret-Do-Not-Print-4242"
SPACED_SECRET = "Spaced S3cret-0042"
CONFLICTING_SECRET = "Other-S3cret-5150"
ALL_SECRETS = (SECRET, ROW_SECRET, SPACED_SECRET, "S3cret-0042", CONFLICTING_SECRET)


def workbook_full_of_secrets(make_workbook: WorkbookBuilder) -> Path:
    """Secrets from the office sheet and from rows: valid, with a space inside, and in conflict."""
    return make_workbook([
        valid_row(werkgeverscode="1001"),  # valid, the office's default secret
        valid_row(werkgeverscode="1002", client_id="eigen-client-01", client_secret=ROW_SECRET),  # valid
        valid_row(werkgeverscode="1003", client_id="eigen-client-02", client_secret=SPACED_SECRET),  # spatie
        valid_row(werkgeverscode="1004", client_id=OFFICE_CLIENT_ID, client_secret=CONFLICTING_SECRET),
        valid_row(werkgeverscode="1005", client_id="eigen-client-01", client_secret=SECRET),  # conflict
    ])


def store_as_text(path: Path, cells: Mapping[str, str], sheet: str = SHEET_WERKGEVERS) -> None:
    """Store values as typed text (Excel's leading apostrophe), not as formulas: what an office gets when it
    types '=HYPERLINK(...)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for coordinate, text in cells.items():
        cell = ws[coordinate]
        cell.value = text
        cell.data_type = "s"
        cell.quotePrefix = True
    wb.save(path)


collect_ignore = ["fuzz"]
