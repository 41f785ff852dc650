"""Issue 28: a message answers the mistake that was made. A misspelt choice gets the nearest allowed value; DGAs
joined by another sign than ";" get a message naming that sign, with the row written with ";"; and `process` tells
in the terminal what it found and where the reports are."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import WorkbookBuilder, run_cli, valid_row

from batch.catalogue import Issue
from batch.fields import Kind
from batch.model import Result
from batch.pipeline import check
from batch.values import nearest_choice, typed_separator


def issues_of(make_workbook: WorkbookBuilder, **row: object) -> list[Issue]:
    result: Result = check(make_workbook([valid_row(**row)]))
    return result.all_issues


@pytest.mark.parametrize(("typed", "meant"), [
    ("4-weekelijks", "4-wekelijks"), ("4 weeklijks", "4-wekelijks"), ("vierweekelijks", "4-wekelijks"),
    ("maandeljks", "Maandelijks"), ("Mandelijks", "Maandelijks"), ("maandelijsk", "Maandelijks"),
])
def test_a_misspelt_verloning_asks_whether_the_nearest_value_was_meant(make_workbook: WorkbookBuilder, typed: str,
                                                                       meant: str) -> None:
    (issue,) = issues_of(make_workbook, verloning=typed)
    assert (issue.code, issue.cell) == ("verloning_bijna", "I2")
    assert issue.message == f"'Verloning' is '{typed}'; bedoelt u {meant}?"
    assert issue.fix == f"Vul {meant} in (of kies uit de keuzelijst)."


@pytest.mark.parametrize("typed", ["wekelijks", "2-wekelijks", "halfmaandelijks", "tweewekelijks", "per kwartaal"])
def test_a_rhythm_asr_does_not_offer_is_no_misspelling(typed: str) -> None:
    assert nearest_choice(typed, Kind.VERLONING) is None


@pytest.mark.parametrize(("typed", "meant"), [("jaa", "Ja"), ("Neen", "Nee"), ("neee", "Nee")])
def test_a_misspelt_ja_or_nee_asks_whether_it_was_meant(make_workbook: WorkbookBuilder, typed: str,
                                                        meant: str) -> None:
    (issue,) = issues_of(make_workbook, dertiende_maand=typed)
    assert (issue.code, issue.cell) == ("ja_nee_bijna", "H2")
    assert f"{issue.message} {issue.fix}" == (f"'13e maand' is '{typed}'; bedoelt u {meant}? Vul {meant} in (of kies "
                                              "uit de keuzelijst).")


@pytest.mark.parametrize("typed", ["ja/nee", "misschien", "?"])
def test_no_guess_where_nothing_or_both_are_near(make_workbook: WorkbookBuilder, typed: str) -> None:
    (issue,) = issues_of(make_workbook, dertiende_maand=typed)
    assert issue.code == "ja_nee" and "bedoelt u" not in issue.message
    assert nearest_choice(typed, Kind.JA_NEE) is None


def test_dga_names_joined_by_en_name_the_separator_typed(make_workbook: WorkbookBuilder) -> None:
    (issue,) = issues_of(make_workbook, dga="Ja", dga_naam="J. de Vries en M. Öztürk", dga_medewerkersnummer="12;15")
    assert (issue.code, issue.cell, issue.field) == ("dga_scheidingsteken", "F2", "dga_naam")
    assert issue.message == ("In 'Naam DGA' staan 2 namen gescheiden door ' en '; asr-batch scheidt alleen bij een "
                             "puntkomma (;), dus leest het daar één naam.")
    assert issue.fix == ("Schrijf de rij met puntkomma's, in dezelfde volgorde: 'Naam DGA': naam 1; naam 2, "
                         "'Medewerkersnummer DGA': nummer 1; nummer 2.")
    assert "komma (,)" not in issue.message and "Vries" not in issue.message + issue.fix


@pytest.mark.parametrize(("names", "numbers", "field", "told"), [
    ("J. de Vries/M. Öztürk", "12/15", "dga_naam", "een schuine streep (/)"),
    ("J. de Vries & M. Öztürk", "12; 15", "dga_naam", "een ampersand (&)"),
    ("J. de Vries, M. Öztürk", "12; 15", "dga_naam", "een komma (,)"),
    ("J. de Vries; M. Öztürk", "12 en 15", "dga_medewerkersnummer", "' en '"),
    ("J. de Vries; M. Öztürk", "12 + 15", "dga_medewerkersnummer", "een plusteken (+)"),
    ("J. de Vries; M. Öztürk", "12 15", "dga_medewerkersnummer", "een spatie"),
])
def test_every_separator_is_named_as_typed(make_workbook: WorkbookBuilder, names: str, numbers: str, field: str,
                                          told: str) -> None:
    issues = [i for i in issues_of(make_workbook, dga="Ja", dga_naam=names, dga_medewerkersnummer=numbers)
              if i.code == "dga_scheidingsteken"]
    assert [(i.field, told in i.message) for i in issues] == [(field, True)]


def test_a_count_that_differs_without_a_separator_does_not_speak_of_a_comma(make_workbook: WorkbookBuilder) -> None:
    (issue,) = issues_of(make_workbook, dga="Ja", dga_naam="J. de Vries; M. Öztürk", dga_medewerkersnummer="12")
    assert issue.code == "dga_aantal" and "komma (,)" not in f"{issue.message} {issue.fix}"
    assert typed_separator("J. de Vries") is None and typed_separator("12") is None


# --- process tells in the terminal what it found ------------------------------------------------------------


def test_process_prints_the_issues_as_validate_does_and_where_the_reports_are(make_workbook: WorkbookBuilder,
                                                                             tmp_path: Path) -> None:
    workbook = make_workbook([valid_row(werkgeverscode="1001"), valid_row(werkgeverscode="1002", naam=None)])
    out = tmp_path / "uit"
    result = run_cli("process", workbook, "-o", out, "--format", "html")
    assert result.exit_code == 1
    validated = run_cli("validate", workbook).stdout.splitlines()
    printed = result.stderr.splitlines()
    assert printed[0] == "2 rijen: 1 geldig, 1 ongeldig, 0 overgeslagen; 1 fout, 0 waarschuwingen"
    assert printed[1:4] == validated[2:5] == ["", "Rij 3, werkgeverscode 1002: ongeldig",
                                              "  fout         B3      'Naam werkgever' is leeg. Vul 'Naam werkgever' "
                                              "in; dit veld is verplicht."]
    assert printed[-5:] == [
        f"Uitvoer: {out}",
        "  overzicht.html      elke rij met zijn status en documenten",
        "  foutenrapport.html  elke fout en waarschuwing per rij, met de cel en de oplossing",
        "  foutenrapport.xlsx  uw werkmap met elke foute cel gemarkeerd",
        "  aanmeldingen/       1 aanmelding om bij a.s.r. in te vullen"]
    assert (out / "foutenrapport.xlsx").is_file() and (out / "overzicht.html").is_file()


def test_process_shows_20_issues_and_says_how_many_more(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    rows = [valid_row(werkgeverscode=str(1000 + n), naam=None) for n in range(23)]
    workbook = make_workbook(rows)
    result = run_cli("process", workbook, "-o", tmp_path / "uit", "--format", "html")
    assert result.exit_code == 1
    assert result.stderr.count("  fout ") == 20
    assert "\nen nog 3; zie foutenrapport.html\n" in result.stderr
    assert "  aanmeldingen/" not in result.stderr  # no valid row, no documents
    assert run_cli("validate", workbook).stdout.count("  fout ") == 23  # validate prints them all


def test_a_clean_process_says_so_and_lists_two_reports(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    result = run_cli("process", make_workbook([valid_row(), valid_row(werkgeverscode="1002")]), "-o",
                     tmp_path / "uit", "--format", "html")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-4:] == [
        f"Uitvoer: {tmp_path / 'uit'}",
        "  overzicht.html      elke rij met zijn status en documenten",
        "  foutenrapport.html  geen fouten of waarschuwingen",
        "  aanmeldingen/       2 aanmeldingen om bij a.s.r. in te vullen"]
