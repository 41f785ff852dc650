"""The rules of PRODUCT.md ("The workbook"), as `(row, field, code)` triples: one tiny workbook per defect.

Every test starts from `valid_row()` and changes exactly one thing. Row numbers are the ones Excel shows:
with the header in row 1 the first employer is row 2.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    HEADERS,
    OFFICE_CLIENT_ID,
    OFFICE_WITHOUT_DEFAULTS,
    SECRET,
    WorkbookBuilder,
    by_header,
    messages,
    numbered_rows,
    status_of,
    triples,
    valid_row,
)
from openpyxl.styles import PatternFill

from batch.catalogue import Issue, Severity
from batch.fields import FIELDS, FIELDS_BY_KEY, JA, MAANDELIJKS, NEE, VIERWEKELIJKS
from batch.model import Result
from batch.pipeline import check
from batch.values import elfproef

Check = Callable[..., Result]


@pytest.fixture
def check_rows(make_workbook: WorkbookBuilder) -> Check:
    """`check_rows(rows, strict=False, **workbook_options)`: build the workbook and check it."""

    def run(rows: list[dict[str, object]], *, strict: bool = False, **options: object) -> Result:
        return check(make_workbook(rows, **options), strict=strict)  # type: ignore[arg-type]

    return run


def only_issue(result: Result) -> Issue:
    issues = result.all_issues
    assert len(issues) == 1, [(i.cell, i.code) for i in issues]
    return issues[0]


def rows_named(message: str) -> set[int]:
    """The row numbers a message names after 'rij'/'rijen' ("... staat ook in rij 3, 4")."""
    found = re.search(r"\brij(?:en)? ([0-9][0-9, en]*)", message)
    assert found, message
    return {int(n) for n in re.findall(r"[0-9]+", found.group(1))}


def loonheffingennummer(start: int = 123456780) -> str:
    """The first loonheffingennummer from `start` on whose 9 digits pass the 11-test."""
    number = start
    while not elfproef(f"{number:09d}"):
        number += 1
    return f"{number:09d}L01"


def failing_elfproef(valid: str) -> str:
    """`valid` with its 9th digit changed so the 11-test fails."""
    digits = valid[:9]
    for last in "0123456789":
        candidate = digits[:8] + last
        if not elfproef(candidate):
            return candidate + valid[9:]
    raise AssertionError("no failing variant")


# --- a valid file ---------------------------------------------------------------------------------

def test_valid_file_has_no_issues_and_exit_code_0(check_rows: Check) -> None:
    result = check_rows([valid_row()])
    assert triples(result) == []
    assert result.all_issues == []
    assert result.exit_code == 0
    assert result.counts == {"rows": 1, "valid": 1, "invalid": 0, "skipped": 0, "errors": 0, "warnings": 0}
    assert (result.input.sheet, result.input.header_row) == ("Werkgevers", 1)


def test_a_row_using_every_column_is_valid(check_rows: Check) -> None:
    row = valid_row(client_id="eigen-client-01", client_secret="Eigen-Secret-01", dga=JA,
                    dga_naam="J. de Vries; M. Öztürk", dga_medewerkersnummer="12; 15", kvk_nummer="12345678",
                    loonheffingennummer=loonheffingennummer(), opmerkingen="Graag per 1 januari")
    result = check_rows([row])
    assert triples(result) == []
    assert [(d.naam, d.medewerkersnummer) for d in result.rows[0].dgas] == [("J. de Vries", "12"),
                                                                           ("M. Öztürk", "15")]


# --- werkgeverscode -------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["WG-1003", "1001a", "10 01", "1.001", "€1001"])
def test_werkgeverscode_with_anything_but_digits_is_alleen_cijfers(check_rows: Check, code: str) -> None:
    result = check_rows([valid_row(werkgeverscode=code)])
    assert triples(result) == [(2, "werkgeverscode", "alleen_cijfers")]
    assert only_issue(result).cell == "A2"


@pytest.mark.parametrize("stored", [1001.0, 1001])
def test_werkgeverscode_stored_as_number_reads_as_its_digits(check_rows: Check, stored: object) -> None:
    # read as its digits, and warned about: a number cell may have lost leading zeros (issue 27)
    result = check_rows([valid_row(werkgeverscode=stored)])
    assert triples(result) == [(2, "werkgeverscode", "getal_zonder_voorloopnullen")]
    assert status_of(result) == {2: "valid"}
    assert result.rows[0].werkgeverscode == "1001"


def test_werkgeverscode_leading_zeros_stay_when_stored_as_text(check_rows: Check) -> None:
    result = check_rows([valid_row(werkgeverscode="0412")])
    assert triples(result) == []
    assert result.rows[0].werkgeverscode == "0412"


def test_werkgeverscode_with_decimals_is_an_error(check_rows: Check) -> None:
    result = check_rows([valid_row(werkgeverscode=1001.5)])
    assert triples(result) == [(2, "werkgeverscode", "getal_met_decimalen")]


def test_duplicate_werkgeverscode_flags_both_rows_naming_the_other(check_rows: Check) -> None:
    result = check_rows([valid_row(naam="Eerste"), valid_row(naam="Tweede")])
    assert triples(result) == [(2, "werkgeverscode", "dubbele_werkgeverscode"),
                               (3, "werkgeverscode", "dubbele_werkgeverscode")]
    first, second = (row.issues[0] for row in result.rows)
    assert rows_named(first.message) == {3}
    assert rows_named(second.message) == {2}


def test_three_rows_with_one_code_each_name_the_other_two(check_rows: Check) -> None:
    result = check_rows([valid_row(naam="Eerste"), valid_row(naam="Tweede"), valid_row(naam="Derde")])
    assert triples(result) == [(row, "werkgeverscode", "dubbele_werkgeverscode") for row in (2, 3, 4)]
    for row in result.rows:
        assert rows_named(row.issues[0].message) == {2, 3, 4} - {row.row}


def test_duplicate_code_is_found_whether_typed_as_text_or_number(check_rows: Check) -> None:
    result = check_rows([valid_row(werkgeverscode="1001"), valid_row(werkgeverscode=1001.0, naam="Tweede")])
    assert triples(result) == [(2, "werkgeverscode", "dubbele_werkgeverscode"),
                               (3, "werkgeverscode", "dubbele_werkgeverscode"),
                               (3, "werkgeverscode", "getal_zonder_voorloopnullen")]


def test_codes_that_differ_only_in_leading_zeros_are_one_werkgever_twice(check_rows: Check) -> None:
    # a spreadsheet turned one row's 0412 into 412: recording both would put one werkgever in the register twice
    result = check_rows([valid_row(werkgeverscode="0412"), valid_row(werkgeverscode="412", naam="Tweede"),
                         valid_row(werkgeverscode="4120", naam="Derde")])
    assert triples(result) == [(2, "werkgeverscode", "werkgeverscode_voorloopnullen"),
                               (3, "werkgeverscode", "werkgeverscode_voorloopnullen")]
    first, second = (row.issues[0].message for row in result.rows[:2])
    assert first == ("Werkgeverscode 0412 staat ook in rij 3 als 412: dezelfde code met andere voorloopnullen, "
                     "dus dezelfde werkgever.")
    assert second.startswith("Werkgeverscode 412 staat ook in rij 2 als 0412:")
    assert status_of(result) == {2: "invalid", 3: "invalid", 4: "valid"}


# --- naam -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("naam", [None, "   ", "\u00a0"])
def test_empty_naam_is_verplicht(check_rows: Check, naam: object) -> None:
    result = check_rows([valid_row(naam=naam)])
    assert triples(result) == [(2, "naam", "verplicht")]
    assert only_issue(result).cell == "B2"


# --- Client ID and Client Secret ------------------------------------------------------------------

def test_missing_client_id_and_secret_without_office_default_is_verplicht_standaard(check_rows: Check) -> None:
    result = check_rows([valid_row()], office=OFFICE_WITHOUT_DEFAULTS)
    assert triples(result) == [(2, "client_id", "verplicht_standaard"), (2, "client_secret", "verplicht_standaard")]


def test_missing_office_sheet_is_a_file_warning_and_rows_need_their_own_client(check_rows: Check) -> None:
    result = check_rows([valid_row()], office=None)
    assert [i.code for i in result.file_issues] == ["salarisverwerker_ontbreekt"]
    assert triples(result) == [(2, "client_id", "verplicht_standaard"), (2, "client_secret", "verplicht_standaard")]


def test_office_default_fills_client_id_and_secret(check_rows: Check) -> None:
    result = check_rows([valid_row()])
    assert triples(result) == []
    record = result.rows[0].record
    assert (record["client_id"], record["client_secret"]) == (OFFICE_CLIENT_ID, SECRET)


def test_a_rows_own_client_id_and_secret_win_over_the_office_default(check_rows: Check) -> None:
    result = check_rows([valid_row(client_id="eigen-client-01", client_secret="Eigen-Secret-01")])
    assert triples(result) == []
    record = result.rows[0].record
    assert (record["client_id"], record["client_secret"]) == ("eigen-client-01", "Eigen-Secret-01")


def test_client_id_and_secret_columns_may_be_left_out_when_the_office_gives_them(check_rows: Check) -> None:
    headers = [f.header for f in FIELDS if f.key not in ("client_id", "client_secret")]
    result = check_rows([by_header(valid_row())], headers=headers)
    assert triples(result) == []
    assert result.rows[0].record["client_secret"] == SECRET


@pytest.mark.parametrize("client_id", ["abcd efgh", "abcd\tefgh", "abcd\u00a0efgh"])
def test_client_id_with_a_space_inside_is_spatie(check_rows: Check, client_id: str) -> None:
    result = check_rows([valid_row(client_id=client_id, client_secret="Eigen-Secret-01")])
    assert triples(result) == [(2, "client_id", "spatie")]
    assert only_issue(result).cell == "C2"


@pytest.mark.parametrize("placeholder", ["-", "nvt", "n.v.t."])
def test_placeholder_client_secret_is_plaatshouder(check_rows: Check, placeholder: str) -> None:
    result = check_rows([valid_row(client_id="eigen-client-01", client_secret=placeholder)])
    assert triples(result) == [(2, "client_secret", "plaatshouder")]


def test_a_short_real_client_id_is_accepted(check_rows: Check) -> None:
    result = check_rows([valid_row(client_id="cid1", client_secret="sec1")])
    assert triples(result) == []


def test_client_secret_with_a_space_inside_is_spatie_without_showing_it(check_rows: Check) -> None:
    secret = "Spaced S3cret-0042"
    result = check_rows([valid_row(client_id="eigen-client-01", client_secret=secret)])
    assert triples(result) == [(2, "client_secret", "spatie")]
    issue = only_issue(result)
    assert "S3cret-0042" not in f"{issue.message} {issue.fix}"
    assert issue.value is None


def test_second_secret_for_one_client_id_flags_only_the_rows_that_differ(check_rows: Check) -> None:
    secrets = ["First-S3cret-1111", "Second-S3cret-2222", "First-S3cret-1111", "Third-S3cret-3333"]
    rows = [valid_row(werkgeverscode=str(1001 + i), client_id="gedeeld-client", client_secret=s)
            for i, s in enumerate(secrets)]
    result = check_rows(rows)
    assert triples(result) == [(3, "client_secret", "secret_conflict"), (5, "client_secret", "secret_conflict")]
    for issue in result.all_issues:
        assert rows_named(issue.message) == {2}
        assert issue.cell == f"D{issue.row}"
        for secret in secrets:
            assert secret not in f"{issue.message} {issue.fix}"


def test_second_secret_for_the_office_client_id_conflicts_with_the_default(check_rows: Check) -> None:
    rows = [valid_row(), valid_row(werkgeverscode="1002", client_id=OFFICE_CLIENT_ID,
                                   client_secret="Other-S3cret-5150")]
    result = check_rows(rows)
    assert triples(result) == [(3, "client_secret", "secret_conflict")]
    assert all(SECRET not in m and "Other-S3cret-5150" not in m for m in messages(result))


def test_different_client_ids_may_have_different_secrets(check_rows: Check) -> None:
    rows = [valid_row(werkgeverscode="1001", client_id="client-a", client_secret="Secret-A"),
            valid_row(werkgeverscode="1002", client_id="client-b", client_secret="Secret-B")]
    assert triples(check_rows(rows)) == []


# --- Ja / Nee -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "read"), [
    ("Ja", JA), ("Nee", NEE), ("ja", JA), ("NEE", NEE),
    ("j", JA), ("n", NEE), ("J", JA), ("N", NEE),
    ("yes", JA), ("no", NEE), ("YES", JA), ("No", NEE),
    ("true", JA), ("false", NEE), ("TRUE", JA), ("False", NEE),
    ("1", JA), ("0", NEE), (1, JA), (0, NEE),
    ("WAAR", JA), ("ONWAAR", NEE),
    ("  Ja\u00a0", JA), ("\tnee ", NEE),
    (True, JA), (False, NEE),
])
def test_ja_nee_variants_are_read(check_rows: Check, typed: object, read: str) -> None:
    result = check_rows([valid_row(dertiende_maand=typed)])
    assert triples(result) == []
    assert result.rows[0].record["dertiende_maand"] == read


@pytest.mark.parametrize("typed", ["n", "no", "false", "0", 0, False, "ONWAAR", " Nee\u00a0"])
def test_dga_nee_variants_need_no_dga_details(check_rows: Check, typed: object) -> None:
    result = check_rows([valid_row(dga=typed)])
    assert triples(result) == []
    assert result.rows[0].record["dga"] == NEE


@pytest.mark.parametrize("key", ["dga", "dertiende_maand"])
def test_invalid_ja_nee_is_ja_nee(check_rows: Check, key: str) -> None:
    result = check_rows([valid_row(**{key: "misschien"})])
    assert triples(result) == [(2, key, "ja_nee")]
    assert "misschien" in only_issue(result).message


@pytest.mark.parametrize("key", ["dga", "dertiende_maand"])
@pytest.mark.parametrize("when", [datetime(2024, 12, 1), date(2024, 12, 1)])
def test_date_where_ja_nee_belongs_is_datum(check_rows: Check, key: str, when: date) -> None:
    result = check_rows([valid_row(**{key: when})])
    assert triples(result) == [(2, key, "datum")]


def test_empty_ja_nee_is_verplicht(check_rows: Check) -> None:
    assert triples(check_rows([valid_row(dertiende_maand=None)])) == [(2, "dertiende_maand", "verplicht")]


# --- Verloning ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "read"), [
    ("Maandelijks", MAANDELIJKS), ("maand", MAANDELIJKS), ("per maand", MAANDELIJKS),
    ("maandelijks", MAANDELIJKS), ("MAANDELIJKS ", MAANDELIJKS), ("Per Maand", MAANDELIJKS),
    ("4-wekelijks", VIERWEKELIJKS), ("4 weken", VIERWEKELIJKS), ("per 4 weken", VIERWEKELIJKS),
    ("vierwekelijks", VIERWEKELIJKS), ("4-Wekelijks", VIERWEKELIJKS), ("4 wekelijks", VIERWEKELIJKS),
    ("Vierwekelijks\u00a0", VIERWEKELIJKS),
])
def test_verloning_variants_are_read(check_rows: Check, typed: str, read: str) -> None:
    result = check_rows([valid_row(verloning=typed)])
    assert triples(result) == []
    assert result.rows[0].record["verloning"] == read


@pytest.mark.parametrize("typed", ["wekelijks", "kwartaal", "per week", "per kwartaal", "Wekelijks",
                                   "2-wekelijks", "jaarlijks"])
def test_weekly_or_quarterly_verloning_is_not_supported(check_rows: Check, typed: str) -> None:
    result = check_rows([valid_row(verloning=typed)])
    assert triples(result) == [(2, "verloning", "verloning_niet_ondersteund")]
    issue = only_issue(result)
    assert issue.cell == "I2"
    assert "alleen" in issue.message and "maandelijks" in issue.message.lower()
    assert "4-wekelijks" in issue.message.lower()


def test_unknown_verloning_is_verloning_onbekend(check_rows: Check) -> None:
    assert triples(check_rows([valid_row(verloning="soms")])) == [(2, "verloning", "verloning_onbekend")]


# --- DGA ------------------------------------------------------------------------------------------

def test_dga_ja_without_name_is_dga_naam_ontbreekt(check_rows: Check) -> None:
    result = check_rows([valid_row(dga=JA, dga_medewerkersnummer="12")])
    assert triples(result) == [(2, "dga_naam", "dga_naam_ontbreekt")]
    assert only_issue(result).cell == "F2"


def test_dga_ja_without_number_is_dga_nummer_ontbreekt(check_rows: Check) -> None:
    result = check_rows([valid_row(dga=JA, dga_naam="J. de Vries")])
    assert triples(result) == [(2, "dga_medewerkersnummer", "dga_nummer_ontbreekt")]
    assert only_issue(result).cell == "G2"


def test_two_dga_names_and_one_number_is_dga_aantal(check_rows: Check) -> None:
    result = check_rows([valid_row(dga=JA, dga_naam="J. de Vries; M. Öztürk", dga_medewerkersnummer="12")])
    assert triples(result) == [(2, "dga_medewerkersnummer", "dga_aantal")]


def test_two_dga_names_and_two_numbers_are_valid(check_rows: Check) -> None:
    result = check_rows([valid_row(dga=JA, dga_naam="J. de Vries;M. Öztürk", dga_medewerkersnummer="12;15")])
    assert triples(result) == []
    assert len(result.rows[0].dgas) == 2


def test_dga_number_with_letters_is_alleen_cijfers(check_rows: Check) -> None:
    result = check_rows([valid_row(dga=JA, dga_naam="J. de Vries", dga_medewerkersnummer="M12")])
    assert triples(result) == [(2, "dga_medewerkersnummer", "alleen_cijfers")]


@pytest.mark.parametrize(("key", "value"), [("dga_naam", "J. de Vries"), ("dga_medewerkersnummer", "12")])
def test_dga_nee_with_dga_details_is_a_warning_and_the_row_stays_valid(check_rows: Check, key: str,
                                                                       value: str) -> None:
    result = check_rows([valid_row(**{key: value})])
    assert triples(result) == [(2, key, "dga_overbodig")]
    assert only_issue(result).severity is Severity.WARNING
    assert status_of(result) == {2: "valid"}
    assert result.exit_code == 0


def test_dga_overbodig_makes_the_row_invalid_with_strict(check_rows: Check) -> None:
    result = check_rows([valid_row(dga_naam="J. de Vries")], strict=True)
    assert triples(result) == [(2, "dga_naam", "dga_overbodig")]
    assert status_of(result) == {2: "invalid"}
    assert result.exit_code == 1


def test_bsn_like_dga_number_is_a_warning(check_rows: Check) -> None:
    assert elfproef("111222333")
    result = check_rows([valid_row(dga=JA, dga_naam="J. de Vries", dga_medewerkersnummer="111222333")])
    assert triples(result) == [(2, "dga_medewerkersnummer", "dga_bsn")]
    issue = only_issue(result)
    # A possible BSN is never repeated in the terminal or the reports (AVG); the cell reference finds it.
    assert issue.severity is Severity.WARNING and "111222333" not in issue.message and "BSN" in issue.message
    assert issue.value is None
    assert status_of(result) == {2: "valid"}


def test_nine_digit_dga_number_failing_the_11_test_is_no_bsn(check_rows: Check) -> None:
    assert not elfproef("111222334")
    result = check_rows([valid_row(dga=JA, dga_naam="J. de Vries", dga_medewerkersnummer="111222334")])
    assert triples(result) == []


def test_dga_ja_without_any_dga_columns_is_an_invalid_row_not_an_unusable_file(check_rows: Check) -> None:
    headers = [f.header for f in FIELDS if f.column_required]
    result = check_rows([by_header(valid_row(dga=JA))], headers=headers)
    assert triples(result) == [(2, "dga_medewerkersnummer", "dga_nummer_ontbreekt"),
                               (2, "dga_naam", "dga_naam_ontbreekt")]
    assert status_of(result) == {2: "invalid"}
    assert result.exit_code == 1


# --- KvK-nummer and loonheffingennummer -----------------------------------------------------------

@pytest.mark.parametrize("kvk", ["1234567", "123456789", "1234567a"])
def test_kvk_not_8_digits_is_kvk_formaat(check_rows: Check, kvk: str) -> None:
    result = check_rows([valid_row(kvk_nummer=kvk)])
    assert triples(result) == [(2, "kvk_nummer", "kvk_formaat")]
    assert only_issue(result).cell == "J2"


@pytest.mark.parametrize("kvk", ["12345678", "1234.5678", "12 34 56 78", "1234-5678", 12345678])
def test_kvk_with_dots_or_spaces_is_read_as_its_digits(check_rows: Check, kvk: object) -> None:
    result = check_rows([valid_row(kvk_nummer=kvk)])
    assert triples(result) == []
    assert result.rows[0].record["kvk_nummer"] == "12345678"


def test_valid_loonheffingennummer_is_accepted_also_with_dots_and_lowercase(check_rows: Check) -> None:
    number = loonheffingennummer()
    typed = f"{number[:4]}.{number[4:6]}.{number[6:9]}.l.{number[10:]}"
    result = check_rows([valid_row(loonheffingennummer=number),
                         valid_row(werkgeverscode="1002", loonheffingennummer=typed)])
    assert triples(result) == []
    assert [r.record["loonheffingennummer"] for r in result.rows] == [number, number]


@pytest.mark.parametrize("typed", ["12345678L01", "123456782L1", "123456782-01", "123456782", "L01123456782"])
def test_loonheffingennummer_in_the_wrong_shape_is_formaat(check_rows: Check, typed: str) -> None:
    result = check_rows([valid_row(loonheffingennummer=typed)])
    assert triples(result) == [(2, "loonheffingennummer", "loonheffingennummer_formaat")]


def test_loonheffingennummer_failing_the_11_test_is_elfproef(check_rows: Check) -> None:
    typed = failing_elfproef(loonheffingennummer())
    result = check_rows([valid_row(loonheffingennummer=typed)])
    assert triples(result) == [(2, "loonheffingennummer", "loonheffingennummer_elfproef")]
    assert only_issue(result).cell == "K2"


# --- formulas -------------------------------------------------------------------------------------

def rewrite_sheet_xml(path: Path, sheet_entry: str, old: bytes, new: bytes) -> Path:
    """Edit one sheet's XML inside the zip, to write what openpyxl cannot (a cached formula result)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    target = path.with_name(f"edited-{path.name}")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries:
            if name == sheet_entry:
                assert old in data, data[-400:]
                data = data.replace(old, new)
            out.writestr(name, data)
    return target


def formula_cell_xml(path: Path, cell: str) -> bytes:
    """The XML openpyxl wrote for a formula cell, e.g. `<c r="B2"><f>A1</f><v /></c>`."""
    with zipfile.ZipFile(path) as archive:
        data = archive.read(EMPLOYER_SHEET_XML)
    found = re.search(rb'<c r="' + cell.encode() + rb'"[^>]*>.*?</c>', data)
    assert found, data[-400:]
    return found.group(0)


# The office sheet is written first, so the employer sheet is the second sheet.
EMPLOYER_SHEET_XML = "xl/worksheets/sheet2.xml"


def test_formula_without_cached_value_is_formule_zonder_waarde(check_rows: Check) -> None:
    # openpyxl writes a formula with an empty cached value, as any tool that does not calculate does.
    result = check_rows([valid_row(naam="=A1")])
    assert triples(result) == [(2, "naam", "formule_zonder_waarde")]
    assert only_issue(result).cell == "B2"


def test_formula_cell_without_any_value_element_is_formule_zonder_waarde(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([valid_row(naam="=A1")])
    original = formula_cell_xml(path, "B2")
    edited = rewrite_sheet_xml(path, EMPLOYER_SHEET_XML, original, b'<c r="B2"><f>A1</f></c>')
    result = check(edited)
    assert triples(result) == [(2, "naam", "formule_zonder_waarde")]
    assert only_issue(result).cell == "B2"


def test_formula_is_read_by_its_cached_value(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([valid_row(naam="=A1")])
    original = formula_cell_xml(path, "B2")
    cached = b'<c r="B2" t="str"><f>A1</f><v>Bakkerij Uit Formule</v></c>'
    result = check(rewrite_sheet_xml(path, EMPLOYER_SHEET_XML, original, cached))
    assert triples(result) == []
    assert result.rows[0].naam == "Bakkerij Uit Formule"


@pytest.mark.parametrize(("key", "cell"), [("dertiende_maand", "H2"), ("kvk_nummer", "J2")])
def test_formula_whose_cached_value_is_an_excel_error_is_excel_fout(make_workbook: WorkbookBuilder, key: str,
                                                                    cell: str) -> None:
    # Excel saves `=VLOOKUP(...)` that found nothing as <c t="e"><f>..</f><v>#N/A</v></c>.
    path = make_workbook([valid_row(**{key: "=NA()"})])
    original = formula_cell_xml(path, cell)
    error = f'<c r="{cell}" t="e"><f>NA()</f><v>#N/A</v></c>'.encode()
    result = check(rewrite_sheet_xml(path, EMPLOYER_SHEET_XML, original, error))
    assert triples(result) == [(2, key, "excel_fout")]
    assert only_issue(result).cell == cell


def test_excel_error_value_in_a_cell_is_excel_fout(check_rows: Check) -> None:
    # openpyxl, like Excel, stores "#N/A" as an error value (<c t="e"><v>#N/A</v></c>), not as text.
    result = check_rows([valid_row(kvk_nummer="#N/A")])
    assert triples(result) == [(2, "kvk_nummer", "excel_fout")]
    assert status_of(result) == {2: "invalid"}


# --- blank rows -----------------------------------------------------------------------------------

def test_blank_row_in_the_middle_is_skipped_without_an_issue(check_rows: Check) -> None:
    result = check_rows([valid_row(), {}, valid_row(werkgeverscode="1002")])
    assert triples(result) == []
    assert status_of(result) == {2: "valid", 3: "skipped", 4: "valid"}
    assert result.exit_code == 0


def test_whitespace_only_row_is_skipped(check_rows: Check) -> None:
    blank = {"werkgeverscode": "  ", "naam": "\u00a0", "opmerkingen": "\t"}
    result = check_rows([valid_row(), blank, valid_row(werkgeverscode="1002")])
    assert triples(result) == []
    assert status_of(result) == {2: "valid", 3: "skipped", 4: "valid"}


def test_trailing_blank_and_formatted_rows_are_not_counted(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([valid_row(), {}, valid_row(werkgeverscode="1002")])
    wb = openpyxl.load_workbook(path)
    ws = wb["Werkgevers"]
    for row in range(5, 60):
        ws.cell(row, 1).fill = PatternFill("solid", fgColor="FFFF00")
        ws.cell(row, 2).number_format = "@"
    ws.cell(60, 2).value = "   "
    ws.cell(61, 12).value = ""
    wb.save(path)
    result = check(path)
    assert status_of(result) == {2: "valid", 3: "skipped", 4: "valid"}
    assert result.counts["rows"] == 3


def test_header_only_has_no_rows_and_exit_code_1(check_rows: Check) -> None:
    result = check_rows([])
    assert result.rows == []
    assert result.exit_code == 1


def test_only_blank_rows_count_as_no_employers(check_rows: Check) -> None:
    result = check_rows([{}, {"naam": "  "}])
    assert result.counts["valid"] + result.counts["invalid"] == 0
    assert result.exit_code == 1


# --- finding the header and the columns -----------------------------------------------------------

def test_header_under_two_title_rows(check_rows: Check) -> None:
    result = check_rows([valid_row(werkgeverscode="WG1")],
                        title_rows=[["Aanmelding a.s.r. salariskoppeling"], ["Salarisbureau Testmans", None, 2024]])
    assert result.input.header_row == 3
    assert triples(result) == [(4, "werkgeverscode", "alleen_cijfers")]
    assert only_issue(result).cell == "A4"


RESPELLED = {
    "dga": "DGA?",
    "verloning": "Verloningsperiode",
    "naam": "naam werkgever  ",
    "werkgeverscode": "Code werkgever",
    "dertiende_maand": "13de maand",
    "kvk_nummer": "KVK nummer",
    "dga_naam": "Naam  DGA",
    "dga_medewerkersnummer": "Medewerkersnummer-DGA",
}


def respelled(row: dict[str, object]) -> dict[str, object]:
    return {RESPELLED[key]: value for key, value in row.items()}


def test_respelled_and_reordered_headers_map_to_their_fields(check_rows: Check) -> None:
    row = valid_row(dga=JA, dga_naam="J. de Vries", dga_medewerkersnummer="12", kvk_nummer="12345678")
    result = check_rows([respelled(row)], headers=list(RESPELLED.values()))
    assert triples(result) == []
    assert result.file_issues == []
    record = result.rows[0].record
    assert {key: record[key] for key in RESPELLED} == {key: str(value) for key, value in row.items()}


def test_issue_cells_follow_reordered_columns(check_rows: Check) -> None:
    rows = [valid_row(werkgeverscode="12a"), valid_row(werkgeverscode="1002", verloning="soms"),
            valid_row(werkgeverscode="1003", dertiende_maand="misschien"),
            valid_row(werkgeverscode="1004", dga=JA, dga_medewerkersnummer="12")]
    result = check_rows([respelled(r) for r in rows], headers=list(RESPELLED.values()))
    cells = sorted((i.row, i.field, i.code, i.cell, i.column) for i in result.all_issues)
    assert cells == [
        (2, "werkgeverscode", "alleen_cijfers", "D2", "Code werkgever"),
        (3, "verloning", "verloning_onbekend", "B3", "Verloningsperiode"),
        (4, "dertiende_maand", "ja_nee", "E4", "13de maand"),
        (5, "dga_naam", "dga_naam_ontbreekt", "G5", "Naam  DGA"),
    ]


def test_sheet_not_named_werkgevers_is_found_by_its_header(check_rows: Check) -> None:
    result = check_rows([valid_row()], sheet_name="Blad1",
                        extra_sheets={"Uitleg": [["Vul de werkgevers in op Blad1"], ["Werkgeverscode: het nummer"]]})
    assert result.input.sheet == "Blad1"
    assert triples(result) == []


def test_unknown_column_is_a_file_warning_with_its_cell(check_rows: Check) -> None:
    headers = [*HEADERS, "Vestiging"]
    result = check_rows([{**by_header(valid_row()), "Vestiging": "Utrecht"}], headers=headers)
    assert triples(result) == []
    assert [(i.code, i.severity, i.column, i.cell) for i in result.file_issues] == [
        ("kolom_onbekend", Severity.WARNING, "Vestiging", "M1")]
    assert status_of(result) == {2: "valid"}
    assert result.exit_code == 0


def test_office_sheet_labels_may_be_respelled(make_workbook: WorkbookBuilder) -> None:
    office = {"Standaard Client ID": "ander-client-7", "standaard client secret": "Ander-Secret-7"}
    path = make_workbook([valid_row()], office=office)
    record = check(path).rows[0].record
    assert (record["client_id"], record["client_secret"]) == ("ander-client-7", "Ander-Secret-7")


@pytest.mark.parametrize(("typed", "key"), [
    ("WERKGEVERSCODE", "werkgeverscode"), ("werkgevers-code", "werkgeverscode"), ("Naam\nwerkgever", "naam"),
    ("Client-ID", "client_id"), ("client_secret", "client_secret"), ("DGA in de verloning", "dga"),
    ("13e-maand", "dertiende_maand"), ("Verloning:", "verloning"), ("KvK nr.", "kvk_nummer"),
    ("Loonheffingen-nummer", "loonheffingennummer"), ("Opmerking", "opmerkingen"),
])
def test_header_matches_regardless_of_case_spacing_and_punctuation(check_rows: Check, typed: str,
                                                                   key: str) -> None:
    headers = [typed if f.key == key else f.header for f in FIELDS]
    row = {(typed if f.key == key else f.header): value
           for f in FIELDS if (value := valid_row(werkgeverscode="WG").get(f.key)) is not None}
    result = check_rows([row], headers=headers)
    assert result.file_issues == []
    assert triples(result) == [(2, "werkgeverscode", "alleen_cijfers")]
    assert only_issue(result).column == headers[0]  # the header as it stands in the file


def test_table_that_does_not_start_at_a1_keeps_excel_positions(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Werkgevers"
    row = valid_row(werkgeverscode="WG")
    for offset, f in enumerate(FIELDS):
        ws.cell(3, 3 + offset, f.header)
        ws.cell(4, 3 + offset, row.get(f.key))
    path = tmp_path / "verschoven.xlsx"
    wb.save(path)
    result = check(path)
    assert result.input.header_row == 3
    assert sorted((i.row, i.field, i.code, i.cell) for i in result.all_issues if i.row) == [
        (4, "client_id", "verplicht_standaard", "E4"),
        (4, "client_secret", "verplicht_standaard", "F4"),
        (4, "werkgeverscode", "alleen_cijfers", "C4"),
    ]


def test_a_column_given_twice_is_a_file_warning_and_the_first_is_read(check_rows: Check) -> None:
    headers = [*HEADERS, "Werkgeverscode"]
    row = by_header(valid_row())
    result = check_rows([row], headers=headers)
    assert [(i.code, i.column, i.cell) for i in result.file_issues] == [("kolom_dubbel", "Werkgeverscode", "M1")]
    assert result.rows[0].werkgeverscode == "1001"


# --- the result as a whole ------------------------------------------------------------------------

def test_counts_add_up_and_every_row_between_header_and_last_row_is_there(check_rows: Check) -> None:
    rows = [valid_row(), {}, valid_row(werkgeverscode="WG"), valid_row(werkgeverscode="1003", dga_naam="X"),
            {"opmerkingen": " "}, valid_row(werkgeverscode="1005", naam=None)]
    result = check_rows(rows)
    counts = result.counts
    assert counts["rows"] == counts["valid"] + counts["invalid"] + counts["skipped"] == len(result.rows) == 6
    assert (counts["valid"], counts["invalid"], counts["skipped"]) == (2, 2, 2)
    assert [r.row for r in result.rows] == [2, 3, 4, 5, 6, 7]
    assert (counts["errors"], counts["warnings"]) == (2, 1)


def test_every_defect_of_a_row_is_reported(check_rows: Check) -> None:
    row = valid_row(werkgeverscode="WG", naam=None, dga="misschien", verloning="kwartaal", kvk_nummer="1")
    assert triples(check_rows([row])) == [
        (2, "dga", "ja_nee"),
        (2, "kvk_nummer", "kvk_formaat"),
        (2, "naam", "verplicht"),
        (2, "verloning", "verloning_niet_ondersteund"),
        (2, "werkgeverscode", "alleen_cijfers"),
    ]


def test_issues_are_never_capped(check_rows: Check) -> None:
    result = check_rows(numbered_rows(150, naam=None))
    assert len(triples(result)) == 150
    assert result.counts["invalid"] == 150


def test_every_issue_carries_its_position_and_a_message_with_a_fix(check_rows: Check) -> None:
    result = check_rows([valid_row(werkgeverscode="WG"), valid_row(werkgeverscode="1002", dga_naam="X")])
    for issue in result.all_issues:
        assert issue.field in FIELDS_BY_KEY
        assert issue.column == FIELDS_BY_KEY[issue.field].header
        assert re.fullmatch(r"[A-Z]{1,3}[0-9]+", issue.cell or "")
        assert issue.message and issue.fix


def test_no_issue_message_contains_a_secret(check_rows: Check) -> None:
    rows = [valid_row(),
            valid_row(werkgeverscode="1002", client_id="eigen client", client_secret="Row-S3cret 9090"),
            valid_row(werkgeverscode="1003", client_id=OFFICE_CLIENT_ID, client_secret="Other-S3cret-5150"),
            valid_row(werkgeverscode="1004", client_secret=datetime(2024, 1, 1))]
    result = check_rows(rows)
    assert {code for _, _, code in triples(result)} >= {"spatie", "secret_conflict", "datum"}
    text = "\n".join(messages(result)) + str([i.to_dict() for i in result.all_issues])
    for secret in (SECRET, "Row-S3cret", "9090", "Other-S3cret-5150"):
        assert secret not in text


def test_own_client_id_never_takes_the_office_secret(check_rows: Check) -> None:
    """The office's default secret belongs to the office's Web API user, not to a row's own Client ID."""
    result = check_rows([valid_row(client_id="eigen-client-777", client_secret=None)])
    assert triples(result) == [(2, "client_secret", "verplicht_eigen_paar")]
    assert result.rows[0].record["client_secret"] is None


def test_own_client_secret_never_takes_the_office_client_id(check_rows: Check) -> None:
    result = check_rows([valid_row(client_id=None, client_secret="Eigen-Secret-0777")])
    assert triples(result) == [(2, "client_id", "verplicht_eigen_paar")]


def test_the_office_pair_fills_a_row_that_repeats_half_of_it(check_rows: Check) -> None:
    result = check_rows([valid_row(client_id=OFFICE_CLIENT_ID, client_secret=None)])
    assert triples(result) == []
    assert result.rows[0].record["client_secret"] == SECRET
