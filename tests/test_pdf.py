"""PDF step: the registration document typeset by Typst from aanmelding.typ, with its data as JSON.

Results are built directly (no reader), as in test_render.py. The PDF's text is read back with pypdf.
Set ASR_UPDATE_GOLDEN=1 to rewrite tests/golden/aanmelding.pdf.txt after an intended change of the document.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from test_render import DOCUMENT_IN_ORDER, GENERATED, OFFICE_SECRET, SECRET, in_order, make_result, valid_row

from batch import pdf
from batch.aanmelding import DOCUMENT_KEYS, as_json, document_data
from batch.errors import UnusableInput
from batch.model import Dga, RowResult
from batch.pdf import Typesetter, builtin_template
from batch.render import document_context, make_environment, render_document

GOLDEN = Path(__file__).resolve().parent / "golden" / "aanmelding.pdf.txt"
UPDATE_GOLDEN = os.environ.get("ASR_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def typesetter():  # type: ignore[no-untyped-def]
    with Typesetter(builtin_template()) as one:
        yield one


def typeset(typesetter: Typesetter, row: RowResult, *, mask: bool = False) -> bytes:
    result = make_result([row])
    return typesetter.pdf(document_data(row, result, mask_secrets=mask), created=GENERATED)


def text_of(data: bytes) -> str:
    """The PDF's text, whitespace normalised (line wrapping does not matter)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def values_in_order(data: dict[str, Any]) -> list[str]:
    """Every value a document shows, in the order it shows them."""
    lines = [*data["gegevens"], *data["werkgever_gegevens"], *data["kantoor_gegevens"]]
    return [str(line["waarde"]) for line in lines if line["waarde"]]


def test_pdf_holds_every_value_of_its_row_in_order(typesetter: Typesetter) -> None:
    row = valid_row()
    text = text_of(typeset(typesetter, row))
    for parts in DOCUMENT_IN_ORDER:
        in_order(text, *parts)
    in_order(text, "Stappen", "Stap 1 – Koppel werkgever 1001 aan de gebruikersgroep", "Systeem rechten",
             "gebruiker .01", "Onderhoud → Systeembeheer → Toegangsbeheer", "Autorisatie Werkgevers",
             "de werkgever naar rechts", "Stap 2", "asr.nl/salarisverwerkers",
             "Aanmelden nieuwe werkgever", "Stap 3", "eerste gegevensuitwisseling")
    in_order(text, "werkgevers maart.xlsx", "tabblad Werkgevers", "rij 5", "14 maart 2025, 09:30", "asr-batch 0.1.0")
    assert OFFICE_SECRET not in text and "Kopieer" not in text


def test_empty_optional_values_are_left_out(typesetter: Typesetter) -> None:
    row = valid_row(dga="Nee", dga_naam=None, dga_medewerkersnummer=None, kvk_nummer=None,
                    loonheffingennummer=None, opmerkingen=None)
    text = text_of(typeset(typesetter, row))
    assert "KvK-nummer" not in text and "Loonheffingennummer" not in text and "Opmerkingen" not in text
    assert "Naam DGA" not in text
    in_order(text, "DGA in verloning", "Nee", "13e maand")


def test_html_and_pdf_carry_the_same_values_in_the_same_order(typesetter: Typesetter) -> None:
    """One function builds both; this catches a template that drops or reorders a value."""
    row = valid_row(naam="Café Ünal & Zn.", opmerkingen="Zie brief van 3 maart")
    result = make_result([row])
    data = document_data(row, result, mask_secrets=False)
    context = document_context(row, result, mask_secrets=False)
    assert set(data) == set(DOCUMENT_KEYS)
    assert {key: value for key, value in context.items() if key != "medium"} == data
    plain = json.loads(as_json(data))  # what the PDF template reads
    assert plain["gegevens"][0] == {"sleutel": "client_id", "label": "Client ID", "waarde": "a1b2c3d4-client",
                                    "kopieer": True, "id": "w-client-id", "sub": False, "code": True,
                                    "klasse": "waarde code"}
    values = values_in_order(plain)
    assert values == [line.waarde for key in ("gegevens", "werkgever_gegevens", "kantoor_gegevens")
                      for line in data[key] if line.waarde]
    assert len(values) == 18  # 10 of step 2 (two DGAs), 4 of the werkgever, 4 of the office
    html = render_document(make_environment(), row, result, mask_secrets=False).replace("&amp;", "&")
    in_order(html, *values)
    in_order(text_of(typesetter.pdf(data, created=GENERATED)), *values)


HOSTILE = [
    "#set text(red)", "<script>alert(1)</script>", "$x^2$", "*vet* _schuin_", "@ref <label>", "// commentaar",
    "] [ } { )", "\\ backslash #", "`raw` ```blok```", '#import "@preview/x:1.0.0"', "= Kop", "- punt",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_prints_literally_and_changes_nothing(typesetter: Typesetter, text: str) -> None:
    row = valid_row(naam=text, opmerkingen=text, dga_naam=text, dga_medewerkersnummer="7")
    data = typeset(typesetter, row)
    plain = text_of(data)
    assert plain.count(" ".join(text.split())) >= 4  # title, name line, DGA and opmerkingen
    assert b" 1 0 0 rg" not in data and b" 1 0 0 RG" not in data  # no red anywhere
    in_order(plain, "Client ID", "a1b2c3d4-client", "Stap 3", "asr-batch 0.1.0")
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


UNICODE = "é ë ü ł ş € Ζωή Παπαδοπούλου Иван Петров Øre Łódź Şükrü"


def test_accents_greek_and_cyrillic_print_in_the_bundled_fonts_only(typesetter: Typesetter) -> None:
    row = valid_row(naam=UNICODE, opmerkingen="Premie € 1.250", dga_naam="Zoë Ødegård; Иван",
                    dga_medewerkersnummer="3;4")
    data = typeset(typesetter, row)
    text = text_of(data)
    assert text.count(UNICODE) >= 2 and "€ 1.250" in text and "Zoë Ødegård" in text and "☐" in text
    # One weight: no bold font to embed in every document (benchmarks/README.md); identifiers in the mono font.
    assert embedded_fonts(data) == {"DejaVuSans", "DejaVuSansMono"}


def embedded_fonts(data: bytes) -> set[str]:
    """The fonts a PDF uses, each checked to be embedded, by name without the subset prefix."""
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor  # embedded
            fonts.add(re.sub(r"^/[A-Z]{6}\+", "", str(font["/BaseFont"])))
    return fonts


def test_an_office_template_still_has_a_bold_font(tmp_path: Path) -> None:
    """The built-in template has no bold, but an office's own aanmelding.typ may use it: DejaVu Sans Bold ships."""
    own = tmp_path / "aanmelding.typ"
    own.write_text('#let d = json("aanmelding.json")\n#set text(font: "DejaVu Sans")\n*Let op:* #d.werkgever.naam\n',
                   encoding="utf-8")
    row = valid_row()
    with Typesetter(own) as typesetter:
        data = typesetter.pdf(document_data(row, make_result([row]), mask_secrets=False), created=GENERATED)
    assert embedded_fonts(data) == {"DejaVuSans-Bold", "DejaVuSans"}
    assert text_of(data) == f"Let op: {row.record['naam']}"


def test_characters_outside_the_bundled_fonts_still_make_a_pdf(typesetter: Typesetter) -> None:
    """Chinese is not in DejaVu: the PDF shows a box there (the HTML document shows it right)."""
    row = valid_row(naam="Wang 王伟 Trading B.V.")
    text = text_of(typeset(typesetter, row))
    in_order(text, "Wang", "Trading B.V.", "Client Secret", SECRET)


def test_a_long_identifier_wraps_within_the_page(typesetter: Typesetter) -> None:
    secret = "Q" * 150
    row = valid_row(client_secret=secret)
    data = typeset(typesetter, row)
    assert secret in text_of(data).replace(" ", "")
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def test_many_dgas_run_onto_a_second_page(typesetter: Typesetter) -> None:
    names = "; ".join(f"DGA {n}" for n in range(1, 41))
    numbers = "; ".join(str(n) for n in range(1, 41))
    data = typeset(typesetter, valid_row(dga_naam=names, dga_medewerkersnummer=numbers))
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2
    in_order(text_of(data), "Naam DGA 1", "DGA 1", "Naam DGA 40", "DGA 40", "13e maand", "Stap 3")


def test_masked_pdf_shows_the_last_four_only_and_says_so(typesetter: Typesetter) -> None:
    text = text_of(typeset(typesetter, valid_row(), mask=True))
    assert SECRET not in text and SECRET[:-4] not in text
    assert "••••••••3f9a" in text and "Het Client Secret is afgeschermd" in text


def test_the_same_document_gives_the_same_bytes(typesetter: Typesetter) -> None:
    row = valid_row()
    first = typeset(typesetter, row)
    typeset(typesetter, valid_row(naam="Iets anders"))
    assert typeset(typesetter, row) == first
    assert b"/CreationDate(D:20250314083000Z)" in first  # the run's time (09:30 +01:00), not the typesetting's


def test_each_pdf_carries_its_own_title_author_and_language(typesetter: Typesetter) -> None:
    # aanmelding.typ sets the title last, for Typst's cache: it must still reach each document's metadata.
    for naam, code in (("Bakkerij De Korenaar B.V.", "1001"), ("Café 't Hoekje", "0412")):
        reader = PdfReader(io.BytesIO(typeset(typesetter, valid_row(naam=naam, werkgeverscode=code))))
        assert reader.metadata is not None
        assert reader.metadata.title == f"Aanmelding a.s.r. salariskoppeling – {naam} ({code})"
        assert reader.metadata.author == "asr-batch 0.1.0"
        assert reader.trailer["/Root"]["/Lang"] == "nl"


def test_the_data_with_its_secret_never_reaches_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = os.open

    def spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            opened.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    with Typesetter(builtin_template(), tmp_path) as typesetter:
        monkeypatch.setattr(os, "open", spy)
        text = text_of(typeset(typesetter, valid_row()))
        monkeypatch.undo()
        assert SECRET in text.replace(" ", "")  # the document does carry it
        assert opened == []  # the data goes to Typst in memory
        (folder,) = tmp_path.iterdir()
        assert folder.stat().st_mode & 0o777 == 0o700
        assert sorted(p.name for p in folder.iterdir()) == ["aanmelding.typ", "pakketten"]
    assert list(tmp_path.iterdir()) == []


def test_layout_text_matches_the_golden_file(typesetter: Typesetter) -> None:
    """Guards the document's content and reading order as a whole; an intended change updates the file."""
    text = text_of(typeset(typesetter, valid_row()))
    if UPDATE_GOLDEN:
        GOLDEN.write_text(text + "\n", encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8").rstrip("\n")


def test_a_broken_template_names_its_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "aanmelding.typ"
    broken.write_text('#let d = json("aanmelding.json")\nKop\n#d.werkgever.fax\n', encoding="utf-8")
    with pytest.raises(UnusableInput) as caught:
        pdf.check_template(tmp_path)
    assert f"'{broken}' op regel 3" in caught.value.message and "fax" in caught.value.message
    assert "Typst" in caught.value.fix and "--format html" in caught.value.fix


def test_an_unreadable_template_is_unusable_input(tmp_path: Path) -> None:
    (tmp_path / "aanmelding.typ").write_bytes(b"\xff\xfe\x00kapot")
    with pytest.raises(UnusableInput, match="kan niet worden gelezen"):
        pdf.check_template(tmp_path)


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(naam=_TEXT, opmerkingen=_TEXT, dga=st.lists(st.tuples(_TEXT, st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
                                                    max_size=3))
def test_any_text_makes_a_pdf(naam: str, opmerkingen: str, dga: list[tuple[str, str]]) -> None:
    row = valid_row(naam=naam, opmerkingen=opmerkingen, dga="Ja" if dga else "Nee")
    row.dgas = [Dga(n, m) for n, m in dga]
    with Typesetter(builtin_template()) as typesetter:
        assert typeset(typesetter, row).startswith(b"%PDF-")


@pytest.mark.parametrize("field", ["naam", "opmerkingen", "dga_naam"])
def test_a_long_word_in_any_value_wraps_instead_of_running_off_the_page(typesetter: Typesetter, field: str) -> None:
    word = "https://portaal.example.nl/" + "a" * 150
    row = valid_row(**{field: word}, **({"dga_medewerkersnummer": "7"} if field == "dga_naam" else {}))
    raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(typeset(typesetter, row))).pages)
    assert "a" * 150 in re.sub(r"\s", "", raw)
    assert not re.search("a" * 100, raw)  # broken over lines: no line holds it whole


def test_tabs_and_line_breaks_read_the_same_in_both_media(typesetter: Typesetter) -> None:
    row = valid_row(naam="Tab\there B.V.", opmerkingen="Eerste regel\r\nTweede\u2028regel")
    result = make_result([row])
    data = document_data(row, result, mask_secrets=False)
    assert data["werkgever"]["naam"] == "Tab here B.V."
    assert data["werkgever"]["opmerkingen"] == "Eerste regel\nTweede regel"
    assert "Tab here B.V." in text_of(typesetter.pdf(data, created=GENERATED))
    html = render_document(make_environment(), row, result, mask_secrets=False)
    assert "Tab here B.V." in html and "Eerste regel\nTweede regel" in html and "white-space: pre-line" in html


def test_a_line_break_after_a_long_word_stays_a_line_break(typesetter: Typesetter) -> None:
    row = valid_row(opmerkingen="https://portaal.example.nl/?id=" + "a1b2c3" * 12 + "\nTweede regel met tab")
    raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(typeset(typesetter, row))).pages)
    assert re.search(r"^Tweede regel met tab", raw, flags=re.M), raw


def test_a_long_document_numbers_its_pages_and_a_short_one_needs_none(typesetter: Typesetter) -> None:
    names = "; ".join(f"DGA {n}" for n in range(1, 41))
    numbers = "; ".join(str(n) for n in range(1, 41))
    pages = PdfReader(io.BytesIO(typeset(typesetter, valid_row(dga_naam=names, dga_medewerkersnummer=numbers)))).pages
    assert len(pages) >= 2
    assert [f"pagina {n} van {len(pages)}" in page.extract_text() for n, page in enumerate(pages, 1)] == \
        [True] * len(pages)
    assert "pagina" not in text_of(typeset(typesetter, valid_row()))
