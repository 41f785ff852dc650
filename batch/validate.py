"""Validate: the rules, run on a normalised draft (normalise.py), decide every row's status.

Per-cell parsing (values.py, in normalise.py) reports cells that cannot be read as their field at all; a
pandera schema built from the field table checks each column's rules; the row and cross-row rules of
PRODUCT.md run as pandas operations. Every finding becomes an `Issue` from the catalogue, with its Excel
position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from batch.catalogue import Issue, Severity, make_issue
from batch.fields import FIELDS, FIELDS_BY_KEY, JA, NEE, SECRET_FIELDS, Field, Kind, Need, is_placeholder
from batch.model import Result
from batch.normalise import Draft, normalise
from batch.reader import Table
from batch.values import SEPARATORS, looks_like_bsn, nearest_choice, typed_separator

NOT_NULLABLE = "not_nullable"
_DIGITS = r"[0-9]+"


def _check(code: str, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
    """A vectorised column check whose name is its catalogue code (the adapter relies on that)."""
    return pa.Check(test, name=code)


def _column_checks(field: Field) -> list[pa.Check]:
    if field.kind is Kind.DIGITS:
        return [_check("alleen_cijfers", lambda s: s.str.fullmatch(_DIGITS))]
    if field.kind is Kind.NUMBERS:
        return [_check("alleen_cijfers", lambda s: s.str.fullmatch(rf"{_DIGITS}(; {_DIGITS})*"))]
    if field.kind is Kind.TOKEN:
        return [
            _check("spatie", lambda s: ~s.str.contains(r"[\s\u200b-\u200d\u2060\ufeff]", regex=True)),
            _check("plaatshouder", lambda s: ~s.map(is_placeholder).astype(bool)),
        ]
    if field.kind is Kind.JA_NEE:
        return [_check("ja_nee", lambda s: s.isin([JA, NEE]))]
    if field.kind is Kind.VERLONING:
        return [_check("verloning_onbekend", lambda s: s.isin(list(field.choices)))]
    if field.kind is Kind.KVK:
        return [_check("kvk_formaat", lambda s: s.str.fullmatch(r"[0-9]{8}"))]
    if field.kind is Kind.LOONHEFFINGENNUMMER:
        from batch.values import elfproef

        return [
            _check("loonheffingennummer_formaat", lambda s: s.str.fullmatch(r"[0-9]{9}L[0-9]{2}")),
            _check("loonheffingennummer_elfproef",
                   lambda s: ~s.str.fullmatch(r"[0-9]{9}L[0-9]{2}") | s.str[:9].map(elfproef)),
        ]
    return []


def build_schema() -> pa.DataFrameSchema:
    """The per-column rules, derived from the field table."""
    return pa.DataFrameSchema(
        {
            f.key: pa.Column(
                nullable=f.need not in (Need.ALWAYS, Need.OFFICE_DEFAULT),
                checks=_column_checks(f),
                required=True,
            )
            for f in FIELDS
        },
        strict=False,
    )


@dataclass
class _Frame:
    """The draft's normalised values as a DataFrame (index = Excel row number, one column per field key)."""

    draft: Draft
    frame: pd.DataFrame

    @property
    def table(self) -> Table:
        return self.draft.table

    @property
    def reported(self) -> set[tuple[int, str]]:
        return self.draft.reported


def _issue(frame: _Frame, code: str, row: int, key: str, *, shown: str | None = None, withheld: bool = False,
           **params: object) -> Issue:
    """An issue at the cell of `key` in `row`, showing the cell's value (or `shown`), unless the field is secret or
    the value is `withheld`."""
    table = frame.table
    value: object = shown if shown is not None else frame.frame.at[row, key]
    issue = make_issue(
        code,
        row=row,
        field=key,
        column=table.header_of(key),
        cell=table.cell_of(key, row),
        value=value if isinstance(value, str) else None,
        secret=withheld or key in SECRET_FIELDS,
        dga_column=table.header_of("dga"),
        example=FIELDS_BY_KEY[key].example,
        **params,
    )
    if (row, key) in frame.draft.from_office:
        where = frame.table.office_cells.get(key, "")
        note = f" (Deze waarde komt van tabblad Salarisverwerker{', cel ' + where if where else ''}.)"
        issue = Issue(**{**issue.__dict__, "message": issue.message + note})
    return issue


def _schema_issues(frame: _Frame) -> Iterator[Issue]:
    """The one adapter from pandera failure cases to catalogue issues. Failure-case values are never
    rendered: the value shown comes from the frame and is withheld for secret fields."""
    try:
        build_schema().validate(frame.frame, lazy=True)
        return
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    cases = cases[cases["index"].notna() & cases["column"].notna()]
    for key, check, row in zip(cases["column"], cases["check"], cases["index"], strict=True):
        row, key = int(row), str(key)
        if (row, key) in frame.reported:
            continue
        if check == NOT_NULLABLE:
            field = FIELDS_BY_KEY[key]
            if field.need is not Need.OFFICE_DEFAULT:
                code = "verplicht"
            elif frame.table.office.get(key):
                code = "verplicht_eigen_paar"  # the office has one, but it belongs to another Web API user
            else:
                code = "verplicht_standaard"
        else:
            code = str(check)
        other = "Client Secret" if key == "client_id" else "Client ID"
        value = frame.frame.at[row, key]
        suggestion = nearest_choice(value, FIELDS_BY_KEY[key].kind) if code in _MISSPELT and isinstance(value, str) \
            else None
        yield _issue(frame, _MISSPELT[code] if suggestion else code, row, key, other=other, suggestion=suggestion)


_MISSPELT = {"ja_nee": "ja_nee_bijna", "verloning_onbekend": "verloning_bijna"}


def _wrong_separator(frame: _Frame, row: int, names: list[str], numbers: list[str]) -> Issue | None:
    """Names and numbers that differ in count because one cell joined its DGAs with another sign than ";": the
    message names that sign and shows the row written with ";" (by placeholders: DGA data stays out of reports)."""
    for key, parts in (("dga_naam", names), ("dga_medewerkersnummer", numbers)):
        found = typed_separator(parts[0]) if len(parts) == 1 else None
        if found is None:
            continue
        separator, count = found
        if count != max(len(names), len(numbers)):
            continue
        noun = "naam" if key == "dga_naam" else "nummer"
        table = frame.table
        return _issue(frame, "dga_scheidingsteken", row, key, shown="", separator=SEPARATORS[separator],
                      parts=f"{count} {'namen' if noun == 'naam' else 'nummers'}", noun=noun,
                      names_column=table.header_of("dga_naam"), numbers_column=table.header_of("dga_medewerkersnummer"),
                      names="; ".join(f"naam {n}" for n in range(1, count + 1)),
                      numbers="; ".join(f"nummer {n}" for n in range(1, count + 1)))
    return None


def _dga_issues(frame: _Frame) -> Iterator[Issue]:
    df = frame.frame
    names = df["dga_naam"].map(lambda v: v.split("; ") if isinstance(v, str) else [])
    numbers = df["dga_medewerkersnummer"].map(lambda v: v.split("; ") if isinstance(v, str) else [])
    ja = df["dga"] == JA
    nee = df["dga"] == NEE
    for key, code in (("dga_naam", "dga_naam_ontbreekt"), ("dga_medewerkersnummer", "dga_nummer_ontbreekt")):
        header = frame.table.header_of(key)
        missing = f"'{header}' is leeg" if key in frame.table.columns else f"de kolom '{header}' ontbreekt"
        for row in df.index[ja & df[key].isna()]:
            if (row, key) not in frame.reported:
                yield _issue(frame, code, row, key, missing=missing)
    counts_differ = ja & df["dga_naam"].notna() & df["dga_medewerkersnummer"].notna() & (
        names.map(len) != numbers.map(len))
    for row in df.index[counts_differ]:
        yield _wrong_separator(frame, row, names[row], numbers[row]) or _issue(
            frame, "dga_aantal", row, "dga_medewerkersnummer", names=len(names[row]), numbers=len(numbers[row]))
    for key in ("dga_naam", "dga_medewerkersnummer"):
        for row in df.index[nee & df[key].notna()]:
            yield _issue(frame, "dga_overbodig", row, key)
    bsn_like = numbers.map(lambda ns: any(looks_like_bsn(n) for n in ns))
    for row in df.index[bsn_like.astype(bool)]:
        # a possible BSN is not repeated in the terminal or the reports (AVG): the cell reference finds it
        yield _issue(frame, "dga_bsn", row, "dga_medewerkersnummer", withheld=True)


def _cross_row_issues(frame: _Frame) -> Iterator[Issue]:
    df = frame.frame
    codes = df["werkgeverscode"].dropna()
    dupes = codes[codes.duplicated(keep=False)]
    for _, group in dupes.groupby(dupes, sort=False):
        rows = [int(r) for r in group.index]
        for row in rows:
            others = ", ".join(str(r) for r in rows if r != row)
            yield _issue(frame, "dubbele_werkgeverscode", row, "werkgeverscode", others=others)
    # `87` and `0087` are one werkgever whose leading zeros a spreadsheet dropped: recording both would put it in the
    # register twice (issue 27). Exact duplicates are told above; here only codes that differ in their zeros.
    distinct = codes[~codes.duplicated(keep=False)]
    stems = distinct.str.lstrip("0")
    for _, group in distinct[stems.duplicated(keep=False)].groupby(stems, sort=False):
        for row in group.index:
            others = group.drop(row)
            yield _issue(frame, "werkgeverscode_voorloopnullen", int(row), "werkgeverscode",
                         others=", ".join(str(r) for r in others.index), other=", ".join(others))

    pairs = df[["client_id", "client_secret"]].dropna()
    first_secret = pairs.groupby("client_id", sort=False)["client_secret"].transform("first")
    first_row = pairs.reset_index().groupby("client_id", sort=False)["row"].transform("first")
    first_row.index = pairs.index
    for row in pairs.index[pairs["client_secret"] != first_secret]:
        yield _issue(frame, "secret_conflict", int(row), "client_secret", first=int(first_row[row]))


def validate_table(table: Table, *, strict: bool = False) -> Result:
    """All rules, collected lazily into one Result. Never raises for bad data, never prints."""
    return judge(normalise(table), strict=strict)


def judge(draft: Draft, *, strict: bool = False) -> Result:
    """Run the rules on the draft and decide each row's status: the draft's Result, completed. Records and
    DGAs are left exactly as normalise() built them (documents may already have been made from them)."""
    frame = _Frame(draft, pd.DataFrame(draft.columns, index=pd.Index(draft.rows, name="row"), dtype=object))
    for issue in (*_schema_issues(frame), *_dga_issues(frame), *_cross_row_issues(frame)):
        if issue.row is not None:  # row rules always carry their row
            draft.issues[issue.row].append(issue)

    order = {f.key: i for i, f in enumerate(FIELDS)}
    for row in draft.result.rows:
        if row.status == "skipped":
            continue
        issues = row.issues  # the list in draft.issues that the rules appended to
        if len(issues) > 1:
            issues.sort(key=lambda i: (order.get(i.field or "", 99), i.code))
        row.status = "invalid" if any(i.severity is Severity.ERROR or strict for i in issues) else "valid"
    draft.result.strict = strict
    return draft.result
