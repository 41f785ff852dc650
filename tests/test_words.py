"""Issue 28: real plurals, "1 werkgever" and "2 werkgevers", never "werkgever(s)"."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from batch.register import Purged
from batch.render import make_environment
from batch.status_report import forgotten_lines, marked_line, purge_totals
from batch.words import count, word

ROOT = Path(__file__).resolve().parent.parent
NOUN_WITH_PLURAL_IN_BRACKETS = (r"\b(?:werkgever|werkgeverscode|rij|document|aanmelding|kolom|fout|waarschuwing|dag|"
                                r"bestand|map|probleem|medewerker|naam|nummer)\((?:s|en|n|men)\)")


@pytest.mark.parametrize(("n", "noun", "expected"), [
    (1, "werkgever", "1 werkgever"), (2, "werkgever", "2 werkgevers"), (0, "werkgever", "0 werkgevers"),
    (1, "rij", "1 rij"), (2, "rij", "2 rijen"), (1, "document", "1 document"), (2, "document", "2 documenten"),
    (1, "aanmelding", "1 aanmelding"), (2, "aanmelding", "2 aanmeldingen"), (2, "fout", "2 fouten"),
    (1, "waarschuwing", "1 waarschuwing"), (2, "waarschuwing", "2 waarschuwingen"), (2, "probleem", "2 problemen"),
    (1, "dag", "1 dag"), (2, "dag", "2 dagen"), (["a", "b"], "kolom", "2 kolommen"),
])
def test_count(n: int | list[str], noun: str, expected: str) -> None:
    assert count(n, noun) == expected


def test_word_and_the_jinja_filters() -> None:
    assert (word(1, "staat", "staan"), word(2, "staat", "staan")) == ("staat", "staan")
    env = make_environment()
    template = env.from_string('{{ 1|aantal("werkgever") }}; {{ [1, 2]|aantal("rij") }}; {{ 2|woord("is", "zijn") }}; '
                               '{{ "1"|aantal("aanmelding") }}; {{ "3"|aantal("aanmelding") }}')
    assert template.render() == "1 werkgever; 2 rijen; zijn; 1 aanmelding; 3 aanmeldingen"


def test_the_terminal_counts_for_1_and_for_2() -> None:
    day = date(2026, 11, 3)
    assert marked_line("submitted", day, ["1001"]) == "1 werkgever aangemeld op 03-11-2026: 1001"
    assert marked_line("submitted", day, ["1001", "1002"]) == "2 werkgevers aangemeld op 03-11-2026: 1001, 1002"
    assert forgotten_lines(["9999"], []) == "1 werkgever uit het register gehaald: 9999"
    assert forgotten_lines(["9998", "9999"], []) == "2 werkgevers uit het register gehaald: 9998, 9999"
    one = Purged("1001", "/uit/1001.pdf", True, "", elsewhere=False)
    assert purge_totals([one], dry_run=False) == "1 document verwijderd."
    assert purge_totals([one, one], dry_run=True) == "2 documenten te verwijderen; niets gewijzigd (--dry-run)."


def test_no_bookkeeping_plurals_are_left() -> None:
    """Nothing in the code, the templates or the guide writes "werkgever(s)", "rij(en)" or "document(en)"."""
    found = []
    code = [path for path in ROOT.joinpath("batch").rglob("*.py") if path.name != "words.py"]
    for path in [*code, *ROOT.joinpath("templates").glob("*"), ROOT / "docs" / "handleiding.md"]:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m}" for m in re.findall(NOUN_WITH_PLURAL_IN_BRACKETS, text)]
    assert found == []


# The words of a.s.r. and Exact, one spelling each (issue 28); the wrong spellings that were in use.
OTHER_SPELLINGS = ("Autorisatie werkgevers", "Web API-gebruiker", "Web-API", "WebAPI", "systeemrechten",
                   "beheerrechten", "Systeemrechten", "Beheerrechten", "system rights")


def test_the_words_of_asr_and_exact_are_spelled_one_way() -> None:
    found = []
    for path in [*ROOT.joinpath("batch").rglob("*.py"), *ROOT.joinpath("templates").glob("*"),
                 ROOT / "docs" / "handleiding.md"]:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {word}" for word in OTHER_SPELLINGS if word in text]
    assert found == []


def test_the_toelichting_explains_eerder_and_the_two_kinds_of_rights(tmp_path: Path) -> None:
    import openpyxl

    from batch.fields import SHEET_TOELICHTING
    from batch.template import write_template

    sheet = openpyxl.load_workbook(write_template(tmp_path / "leeg.xlsx", force=False))[SHEET_TOELICHTING]
    text = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)
    for needle in ("Vooraf, één keer per kantoor", "'Eerder heb je een gebruikersgroep aangemaakt'",
                   "menu Web API beschikbaar", "een gebruikersgroep aan voor a.s.r.",
                   "een Web API gebruiker aan", "Stap 1 · Koppel de werkgevers aan de gebruikersgroep",
                   "met Systeem rechten (meestal gebruiker .01)", "tabblad 'Autorisatie Werkgevers'",
                   "met Beheer rechten", "Het zijn twee verschillende rechten"):
        assert needle in text, needle
    assert text.index("Vooraf") < text.index("Stap 1") < text.index("Twee soorten rechten")


@pytest.mark.parametrize(("url", "place"), [
    ("sqlite:////home/anke/asr-batch/register.sqlite", "/home/anke/asr-batch/register.sqlite"),
    ("sqlite:///C%3A%5CUsers%5Canke%5Cregister.sqlite", "C:\\Users\\anke\\register.sqlite"),
    ("postgresql://clerk@db/asr", "postgresql://clerk@db/asr"),
])
def test_a_register_file_is_shown_as_its_path(url: str, place: str) -> None:
    from batch.register import Status

    assert Status(url, []).place == place


def test_status_names_the_register_file_by_its_path(private_register: Path) -> None:
    from conftest import run_cli

    result = run_cli("status")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"Register: {private_register}"
