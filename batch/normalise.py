"""Normalise: a `Table` to a draft `Result`, each cell parsed to its field's normal form. No pandas here.

The draft already holds every row's final record and DGAs; only the rules (validate.py) are still to
run. `process` starts making documents from the draft while pandas and pandera load, so the record a
document shows is built here, once, and never changed afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from batch.catalogue import Issue, Severity, make_issue
from batch.fields import FIELDS, JA, is_placeholder
from batch.model import Dga, InputInfo, Result, RowResult
from batch.reader import Table
from batch.values import parse_column, to_cell


@dataclass
class Draft:
    """A draft Result (statuses provisional: only unreadable cells are known) and what the rules need."""

    result: Result
    table: Table
    rows: list[int]  # Excel row numbers of the non-blank rows
    columns: dict[str, list[str | None]]  # normalised values by field key, aligned with `rows`
    reported: set[tuple[int, str]]  # cells already reported by the parser: the rules stay quiet there
    from_office: set[tuple[int, str]]  # cells filled from the Salarisverwerker sheet
    issues: defaultdict[int, list[Issue]]  # by row number; the rules add theirs


def _fill_office_defaults(table: Table, data: dict[str, list[str | None]], rows: list[int],
                          reported: set[tuple[int, str]], from_office: set[tuple[int, str]]) -> None:
    """Empty Client ID / Client Secret cells take the Salarisverwerker sheet's values, but only as a pair:
    a row with its own Client ID never gets the office's secret (it belongs to another Web API user),
    and a row with its own secret never gets the office's Client ID."""
    ids, secrets = data["client_id"], data["client_secret"]
    office_id, office_secret = table.office.get("client_id"), table.office.get("client_secret")
    for position, row in enumerate(rows):
        # A placeholder ('-', 'nvt') is no Client ID or secret of its own: its own message says to leave the cell
        # empty for the office's default, so its partner must not be told that the row has one.
        own_id, own_secret = (None if value is not None and is_placeholder(value) else value
                              for value in (ids[position], secrets[position]))
        if (ids[position] is None and office_id and (row, "client_id") not in reported
                and own_secret in (None, office_secret)):
            ids[position] = office_id
            from_office.add((row, "client_id"))
        if (secrets[position] is None and office_secret and (row, "client_secret") not in reported
                and own_id in (None, office_id)):
            secrets[position] = office_secret
            from_office.add((row, "client_secret"))


def _dgas(record: dict[str, str | None]) -> list[Dga]:
    names, numbers = record.get("dga_naam"), record.get("dga_medewerkersnummer")
    if record.get("dga") != JA or not names or not numbers:
        return []
    return [Dga(n, m) for n, m in zip(names.split("; "), numbers.split("; "), strict=False)]


def normalise(table: Table) -> Draft:
    """Parse every cell; report the unreadable ones; fill the office's Client ID and Secret; build the
    records. Never raises for bad data."""
    positions = [i for i, blank in enumerate(table.blank) if not blank]
    rows = [table.row_numbers[i] for i in positions]
    data: dict[str, list[str | None]] = {}
    reported: set[tuple[int, str]] = set()
    issues: defaultdict[int, list[Issue]] = defaultdict(list)
    from_office: set[tuple[int, str]] = set()
    for f in FIELDS:
        raw = table.raw.get(f.key)
        if raw is None:
            data[f.key] = [None] * len(rows)
            continue
        values, problems = parse_column([raw[i] for i in positions], f.kind)
        for position, parsed in problems:
            row = rows[position]
            issue = make_issue(
                str(parsed.code), row=row, field=f.key, column=table.header_of(f.key),
                cell=table.cell_of(f.key, row), value=to_cell(raw[positions[position]]).text,
                secret=f.secret, **dict(parsed.params))
            issues[row].append(issue)
            if issue.severity is Severity.ERROR:  # a warning keeps the value: the rules still check it
                reported.add((row, f.key))
        data[f.key] = values
    _fill_office_defaults(table, data, rows, reported, from_office)

    keys = list(data)
    records = iter(dict(zip(keys, values, strict=True)) for values in zip(*data.values(), strict=True))
    result_rows: list[RowResult] = []
    for number, blank in zip(table.row_numbers, table.blank, strict=True):
        if blank:
            result_rows.append(RowResult(number, "skipped", None, reason="lege rij"))
            continue
        record = next(records)
        known = issues[number]  # the same list the rules add to
        unreadable = any(i.severity is Severity.ERROR for i in known)
        result_rows.append(RowResult(number, "invalid" if unreadable else "valid", record.get("werkgeverscode"),
                                     issues=known, record=record, dgas=_dgas(record)))
    result = Result(
        input=InputInfo(table.file.name, table.sha256, table.sheet, table.header_row),
        rows=result_rows,
        file_issues=list(table.file_issues),
        office=table.office,
    )
    return Draft(result, table, rows, data, reported, from_office, issues)


def refuse_known_alike(draft: Draft, alike: dict[str, str]) -> None:
    """Rows whose werkgeverscode the register holds with other leading zeros (87 where it has 0087) become
    invalid, the known code named: recorded, they would put one werkgever in the register twice."""
    if not alike:
        return
    table = draft.table
    for row in draft.result.rows:
        known = alike.get(row.werkgeverscode or "")
        if known is None or row.status == "skipped":
            continue
        draft.issues[row.row].append(make_issue(
            "werkgeverscode_in_register", row=row.row, field="werkgeverscode", column=table.header_of("werkgeverscode"),
            cell=table.cell_of("werkgeverscode", row.row), value=row.werkgeverscode, known=known))
        row.status = "invalid"
