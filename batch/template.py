"""The blank workbook `asr-batch template` writes, derived from the field table in `batch.fields`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from batch import file_errors
from batch.errors import UnusableInput
from batch.fields import (
    FIELDS,
    FIELDS_BY_KEY,
    JA,
    NEE,
    OFFICE_FIELDS,
    SHEET_LISTS,
    SHEET_OFFICE,
    SHEET_TOELICHTING,
    SHEET_WERKGEVERS,
    Field,
    Need,
)
from batch.sheet_print import BOLD, fit_row_heights, font, print_setup, use_house_font

# Formats and dropdowns cover this many employer rows; more than any office registers in one go.
LAST_ROW = 1001
# Excel refuses to open a file whose input message exceeds these lengths.
MAX_PROMPT_TITLE, MAX_PROMPT = 32, 255

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
TEXT_FORMAT = "@"

NEED_NL = {Need.OFFICE_DEFAULT: f"ja, of standaard van tabblad {SHEET_OFFICE}"}
EXIT_CODES = (
    ("0", "alles geldig en alle documenten geschreven"),
    ("1", "minstens één rij ongeldig (geldige rijen krijgen wel hun document), of geen werkgevers"),
    ("2", "bestand onbruikbaar (ontbreekt, onleesbaar, verplichte kolom ontbreekt) of verkeerde opdracht"),
)
# Toelichting columns: kolom, verplicht, uitleg, voorbeeld. Paragraphs span all four, which together fit the
# width of an A4 page upright, so the guide prints at full size.
TOELICHTING_WIDTHS = (21, 17, 40, 18)


def _h(key: str) -> str:
    return FIELDS_BY_KEY[key].header


# The a.s.r. manual starts at "Eerder heb je een gebruikersgroep aangemaakt": the one-time preparation in Exact
# that an office new to the salariskoppeling has not done yet.
PREPARATION = (
    "Vooraf, één keer per kantoor",
    "De handleiding van a.s.r. begint met 'Eerder heb je een gebruikersgroep aangemaakt'. Dat 'eerder' is een "
    "voorbereiding in Exact HR Salaris & Gemak die uw kantoor één keer doet, vóór de eerste aanmelding. Heeft u "
    "dat nog niet gedaan, doe dan eerst dit:\n"
    "• Laat het menu Web API beschikbaar maken in Exact HR Salaris & Gemak (zonder dat menu bestaat het tabblad "
    "'Web API gebruiker' niet).\n"
    "• Maak onder Onderhoud → Systeembeheer → Toegangsbeheer een gebruikersgroep aan voor a.s.r.\n"
    "• Maak in die gebruikersgroep een Web API gebruiker aan. Op het tabblad 'Web API gebruiker' staan daarna het "
    "Client ID en het Client Secret die a.s.r. vraagt.\n"
    "Daarna is er per werkgever alleen nog stap 1 tot en met 3 hieronder.",
)
RIGHTS = (
    "Twee soorten rechten in Exact: voor stap 1 logt u in met Systeem rechten (meestal gebruiker .01), want een "
    "werkgever aan een gebruikersgroep koppelen is systeembeheer. Voor het tabblad 'Web API gebruiker' logt u in met "
    "Beheer rechten: daar beheert u de Web API gebruiker zelf, met het Client ID en het Client Secret. Het zijn twee "
    "verschillende rechten; heeft uw account er één niet, vraag die dan aan wie Exact in uw kantoor beheert."
)


def _steps() -> list[tuple[str, str]]:
    """The three steps of the a.s.r. manual, pointing at the columns that hold each value."""
    return [
        ("Stap 1 · Koppel de werkgevers aan de gebruikersgroep",
         "Log in op Exact HR Salaris & Gemak met Systeem rechten (meestal gebruiker .01). Ga naar "
         "Onderhoud → Systeembeheer → Toegangsbeheer, tabblad 'Autorisatie Werkgevers'. Kies de "
         "gebruikersgroep die u voor a.s.r. hebt aangemaakt, zet de werkgevers naar rechts en sla op."),
        ("Stap 2 · Aanleveren gegevens werkgever aan a.s.r.",
         "a.s.r. vraagt per werkgever de gegevens hieronder (asr.nl/salarisverwerkers → 'Aanmelden nieuwe "
         f"werkgever'); asr-batch maakt er per werkgever een aanmeldingsdocument van.\n"
         f"• {_h('client_id')} en {_h('client_secret')}: tabblad 'Web API gebruiker' (zelfde menu, inloggen "
         "met Beheer rechten). Eén Web API gebruiker bedient meestal een hele gebruikersgroep, dus veel "
         f"werkgevers delen één paar: vul het dan één keer in op tabblad {SHEET_OFFICE} en laat de "
         f"kolommen op tabblad {SHEET_WERKGEVERS} leeg.\n"
         f"• {_h('werkgeverscode')}: tabblad 'Autorisatie Werkgevers', het nummer vóór de bedrijfsnaam.\n"
         f"• {_h('dga')}: staat er een directeur-grootaandeelhouder (DGA) op de loonlijst? Zo ja: "
         f"{_h('dga_naam')} en {_h('dga_medewerkersnummer')}.\n"
         f"• {_h('dertiende_maand')}: is er een 13e maand?\n"
         f"• {_h('verloning')}: {' of '.join(FIELDS_BY_KEY['verloning'].choices)}."),
        ("Stap 3 · Bevestiging",
         "a.s.r. bevestigt wanneer de koppeling actief is en op welke datum de eerste gegevensuitwisseling "
         "plaatsvindt."),
    ]


def _how_to_fill() -> str:
    return (
        f"• Eén rij per werkgever op tabblad {SHEET_WERKGEVERS}. Lege rijen mogen; die worden overgeslagen.\n"
        f"• Meer dan één DGA: scheid de namen in '{_h('dga_naam')}' met ; en de nummers in "
        f"'{_h('dga_medewerkersnummer')}' ook, in dezelfde volgorde.\n"
        f"• Kies {JA}/{NEE} en de verloning uit de keuzelijst in de cel.\n"
        f"• Vul bij '{_h('dga_medewerkersnummer')}' het medewerkersnummer uit Exact in, nooit een BSN.\n"
        f"• Leeg '{_h('client_id')}'/'{_h('client_secret')}' = de standaard van tabblad {SHEET_OFFICE}."
    )


def _how_to_run() -> str:
    return (
        "asr-batch validate bestand.xlsx    alleen controleren; toont elke fout met de cel waar hij zit.\n"
        "asr-batch process bestand.xlsx     controleren en per geldige werkgever een aanmeldingsdocument "
        "maken, met een foutenrapport (map bestand-uitvoer).\n"
        "Het register onthoudt per werkgever of hij nieuw, aangemeld, bevestigd of gewijzigd is (asr-batch status); "
        "leg stap 2 en 3 vast met asr-batch mark aangemeld 1001 en asr-batch mark bevestigd 1001 --first-exchange "
        "15-12-2026.\n"
        "Volgende maand maakt asr-batch process bestand.xlsx --only-pending alleen documenten voor nieuwe en "
        "gewijzigde werkgevers."
    )


CONFIDENTIAL = (
    f"Let op: het {_h('client_secret')} is vertrouwelijk en dit bestand bevat persoonsgegevens (namen van "
    "DGA's). Bewaar het veilig en verwijder het zodra a.s.r. de koppeling heeft bevestigd (AVG)."
)


def _heading(ws: Worksheet, row: int, text: str, size: int = 12) -> int:
    ws.cell(row, 1, text).font = font(bold=True, size=size)
    return row + 1


def _paragraph(ws: Worksheet, row: int, text: str) -> int:
    """Text merged across the four columns (its height is set by fit_row_heights: no program sizes a merged
    row)."""
    ws.cell(row, 1, text).alignment = WRAP
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(TOELICHTING_WIDTHS))
    return row + 2


def _table(ws: Worksheet, row: int, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> int:
    """A table; a narrower one than the page has its last column merged to the page's edge, so that its text
    wraps across the page and not down a narrow column."""
    last, edge = len(header), len(TOELICHTING_WIDTHS)
    for values in [header, *rows]:
        for col, text in enumerate(values, 1):
            cell = ws.cell(row, col, text)
            if values is header:
                cell.font, cell.fill = BOLD, HEADER_FILL
            else:
                cell.alignment = WRAP
        if last < edge:
            ws.merge_cells(start_row=row, start_column=last, end_row=row, end_column=edge)
            if values is header:
                for col in range(last + 1, edge + 1):
                    ws.cell(row, col).fill = HEADER_FILL
        row += 1
    return row + 1


def _fill_toelichting(ws: Worksheet) -> None:
    for col, width in enumerate(TOELICHTING_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    row = _heading(ws, 1, "Werkgevers aanmelden voor de a.s.r. salariskoppeling", size=14)
    row = _paragraph(ws, row, (
        "Met de a.s.r. salariskoppeling haalt a.s.r. via de Web API van Exact HR Salaris & Gemak de "
        "salarisgegevens op voor haar verzuim- en WIA-verzekeringen. Per werkgever vraagt a.s.r. een paar "
        f"gegevens. Vul die hier in (tabblad {SHEET_WERKGEVERS}, één rij per werkgever) en laat asr-batch "
        "de aanmeldingen maken."))
    row = _paragraph(ws, _heading(ws, row, PREPARATION[0]), PREPARATION[1])
    for title, text in _steps():
        row = _paragraph(ws, _heading(ws, row, title), text)
    row = _paragraph(ws, row, RIGHTS)
    row = _heading(ws, row, f"Kolommen van tabblad {SHEET_WERKGEVERS}")
    row = _table(ws, row, ("Kolom", "Verplicht", "Uitleg", "Voorbeeld"), [
        (f.header, NEED_NL.get(f.need, f.need.value), f.help, f.example) for f in FIELDS])
    row = _paragraph(ws, _heading(ws, row, "Zo vult u het in"), _how_to_fill())
    row = _paragraph(ws, _heading(ws, row, "Zo gebruikt u het bestand"), _how_to_run())
    row = _heading(ws, row, "Afsluitcodes")
    row = _table(ws, row, ("Code", "Betekenis"), list(EXIT_CODES))
    ws.cell(row, 1).font = font(bold=True, color="C00000")
    _paragraph(ws, row, CONFIDENTIAL)
    fit_row_heights(ws)
    print_setup(ws, landscape=False, title_rows=None, freeze=None)


def _fill_office(ws: Worksheet) -> None:
    for col, text in enumerate(("Gegeven", "Waarde", "Toelichting"), 1):
        cell = ws.cell(1, col, text)
        cell.font, cell.fill = BOLD, HEADER_FILL
    for row, office_field in enumerate(OFFICE_FIELDS, 2):
        label = ws.cell(row, 1, office_field.label)
        label.font, label.alignment = BOLD, Alignment(vertical="top")  # beside its wrapped help, not under it
        # Text so a Client ID or phone number with a leading zero survives Excel.
        ws.cell(row, 2).number_format = TEXT_FORMAT
        ws.cell(row, 3, office_field.help).alignment = WRAP
    ws.column_dimensions["A"].width = max(len(f.label) for f in OFFICE_FIELDS) + 4
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 60
    fit_row_heights(ws)
    print_setup(ws, landscape=True)


def _fill_lists(ws: Worksheet) -> dict[tuple[str, ...], str]:
    """One column per distinct choice list; returns each list's absolute range for a dropdown."""
    ranges: dict[tuple[str, ...], str] = {}
    for f in FIELDS:
        if not f.choices or f.choices in ranges:
            continue
        col = len(ranges) + 1
        letter = get_column_letter(col)
        ws.cell(1, col, "/".join(f.choices)).font = BOLD
        for offset, choice in enumerate(f.choices, 2):
            ws.cell(offset, col, choice)
        last = len(f.choices) + 1
        ranges[f.choices] = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${last}"
    ws.sheet_state = "hidden"
    return ranges


def _validation(f: Field, list_range: str | None) -> DataValidation:
    dv = DataValidation(
        type="list" if list_range else None,
        formula1=list_range,
        allow_blank=True,
        showInputMessage=True,
        promptTitle=f.header[:MAX_PROMPT_TITLE],
        prompt=f.help[:MAX_PROMPT],
    )
    if list_range:
        # A warning, not a stop: pasted or typed variants (j, nee, per maand) are still read correctly.
        dv.showErrorMessage = True
        dv.errorStyle = "warning"
        dv.errorTitle = "Kies uit de lijst"[:MAX_PROMPT_TITLE]
        dv.error = f"{f.header}: kies {' of '.join(f.choices)} uit de lijst."[:MAX_PROMPT]
    return dv


def _fill_werkgevers(ws: Worksheet, lists: dict[tuple[str, ...], str]) -> None:
    for col, f in enumerate(FIELDS, 1):
        letter = get_column_letter(col)
        cell = ws.cell(1, col, f.header)
        # Headers wrap, so a column is as wide as its values need and the sheet prints larger.
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
        ws.column_dimensions[letter].width = f.width
        if f.as_text:
            # Text so leading zeros stay and long numbers are not turned into 1.23E+11.
            for row in range(2, LAST_ROW + 1):
                ws.cell(row, col).number_format = TEXT_FORMAT
        dv = _validation(f, lists.get(f.choices))
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.add_data_validation(dv)
    fit_row_heights(ws)
    print_setup(ws, landscape=True)


def build_workbook() -> Workbook:
    """The blank template: Toelichting, Salarisverwerker, Werkgevers, and the hidden Keuzelijsten."""
    wb = Workbook()
    use_house_font(wb)
    toelichting = wb.active
    if not isinstance(toelichting, Worksheet):  # a fresh Workbook always has one sheet
        raise TypeError("openpyxl gave a workbook without a worksheet")
    toelichting.title = SHEET_TOELICHTING
    _fill_toelichting(toelichting)
    _fill_office(wb.create_sheet(SHEET_OFFICE))
    werkgevers = wb.create_sheet(SHEET_WERKGEVERS)
    _fill_werkgevers(werkgevers, _fill_lists(wb.create_sheet(SHEET_LISTS)))
    wb.properties.creator = "asr-batch"
    wb.properties.title = "Werkgevers aanmelden voor de a.s.r. salariskoppeling"
    return wb


def write_template(path: Path, *, force: bool = False) -> Path:
    """Write the blank template to `path` atomically; refuse to overwrite an existing file unless `force`."""
    if path.suffix.lower() != ".xlsx":
        raise UnusableInput(f"'{path}' is geen .xlsx-bestandsnaam.",
                            "Gebruik een naam die eindigt op .xlsx, bijvoorbeeld asr-werkgevers.xlsx.")
    file_errors.check_name(path, "Het bestand")
    folder = path.parent
    if not folder.is_dir():
        raise UnusableInput(f"Map '{folder}' bestaat niet.", "Maak de map eerst aan of kies een andere map.")
    if path.is_dir():
        raise UnusableInput(f"'{path}' is een map.", "Kies een bestandsnaam die eindigt op .xlsx.")
    if path.exists() and not force:
        raise UnusableInput(f"Bestand '{path}' bestaat al.",
                            "Kies een andere naam of gebruik --force om het te overschrijven.")
    workbook = build_workbook()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx.tmp", dir=folder)
    except OSError as exc:
        raise UnusableInput(f"Kan niet schrijven in map '{folder}': {exc.strerror}.",
                            "Kies een map waarin u mag schrijven.") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        workbook.save(tmp)
        # mkstemp makes the file owner-only; the template holds no secrets, so use normal permissions.
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except OSError as exc:
        raise file_errors.explained(exc, path, "geschreven") or UnusableInput(
            f"Kan '{path}' niet schrijven: {exc.strerror}.", "Sluit het bestand in Excel of kies een andere naam."
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path
