"""Read step: an .xlsx/.xlsm file to a `Table` of cells as the user sees them, with their A1 positions.

python-calamine (Rust) reads the values; it is many times faster than openpyxl and expands no XML
entities. What calamine cannot tell -- a formula whose result was never saved -- is found by scanning
the sheet's XML for formula cells without a `<v>` element.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from defusedxml import DefusedXmlException, ElementTree
from python_calamine import CalamineError, CalamineWorkbook

from batch.catalogue import Issue, make_issue
from batch.errors import UnusableInput
from batch.fields import (
    FIELDS,
    FIELDS_BY_KEY,
    OFFICE_ALIASES,
    SECRET_FIELDS,
    SHEET_OFFICE,
    SHEET_WERKGEVERS,
    match_header,
    normalise_header,
)
from batch.limits import check_archive
from batch.model import Office
from batch.redact import remember
from batch.values import FORMULA_NO_VALUE, Cell, CellKind, clean_text, is_blank, to_cell

HEADER_SCAN_ROWS = 50
MAX_ROWS = 100_000
MAX_FILE_BYTES = 200 * 1024 * 1024
FIX_TEMPLATE = "Maak een lege werkmap met de juiste indeling met de opdracht: asr-batch template werkgevers.xlsx"


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # as it stands in the file
    index: int  # 0-based
    letter: str


@dataclass
class Table:
    file: Path
    sha256: str
    sheet: str
    header_row: int
    columns: dict[str, Column]  # by field key; a field absent from the file is absent here
    row_numbers: list[int]  # every row between the header and the last non-blank row
    # Raw values by field key, aligned with row_numbers: what calamine read, or a `Cell` for an Excel
    # error / unsaved formula that calamine reads as empty. `values.parse_column` interprets them.
    raw: dict[str, list[object]]
    blank: list[bool]
    office: Office
    office_cells: dict[str, str]  # office key -> A1 cell on the Salarisverwerker sheet
    file_issues: list[Issue] = field(default_factory=list)

    def header_of(self, key: str) -> str:
        column = self.columns.get(key)
        return column.header if column else FIELDS_BY_KEY[key].header

    def cell_of(self, key: str, row: int) -> str | None:
        column = self.columns.get(key)
        return f"{column.letter}{row}" if column else None


# --- opening the file ---------------------------------------------------------------------------

def _check_file(path: Path) -> bytes:
    if not path.exists():
        raise UnusableInput(f"Het bestand '{path}' bestaat niet.", "Controleer de naam en de map.")
    if path.is_dir():
        raise UnusableInput(f"'{path}' is een map, geen Excel-bestand.", "Geef het pad naar het .xlsx-bestand.")
    if not path.is_file():
        raise UnusableInput(f"'{path}' is geen gewoon bestand.", "Geef het pad naar het .xlsx-bestand.")
    if path.name.startswith("~$"):
        raise UnusableInput(
            f"'{path.name}' is een tijdelijk vergrendelingsbestand van Excel, niet de werkmap zelf.",
            f"Gebruik het bestand zonder '~$' ervoor: '{path.name[2:]}'.",
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnusableInput(
                f"'{path.name}' is {size // (1024 * 1024)} MB; een werkmap met werkgevers is veel kleiner "
                f"(grens: {MAX_FILE_BYTES // (1024 * 1024)} MB).",
                "Verwijder overbodige tabbladen, afbeeldingen en opmaak, of splits het bestand.",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UnusableInput(
            f"Het bestand '{path.name}' kan niet worden gelezen ({exc.strerror or exc}).",
            "Sluit het bestand in Excel en controleer of u leesrechten hebt.",
        ) from None
    if not data:
        raise UnusableInput(
            f"Het bestand '{path.name}' is leeg (0 bytes).",
            "Het bestand is waarschijnlijk niet goed opgeslagen of gekopieerd. Open de werkmap in Excel en sla hem "
            "opnieuw op.",
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise UnusableInput(
                f"'{path.name}' is met een wachtwoord beveiligd; asr-batch kan het niet openen.",
                "Open het in Excel, kies Bestand > Info > Werkmap beveiligen > Versleutelen met wachtwoord, "
                "maak het wachtwoord leeg en sla op als Excel-werkmap (.xlsx).",
            )
        raise UnusableInput(
            f"'{path.name}' is een oud Excel-bestand (.xls, Excel 97-2003); asr-batch leest alleen .xlsx en .xlsm.",
            "Open het in Excel en kies Opslaan als > Excel-werkmap (.xlsx).",
        )
    if not data.startswith(b"PK"):
        raise UnusableInput(
            f"'{path.name}' is geen Excel-werkmap (misschien een CSV- of tekstbestand met een andere extensie).",
            "Open het in Excel en kies Opslaan als > Excel-werkmap (.xlsx).",
        )
    return data


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _read_entry(archive: zipfile.ZipFile, entry: str) -> bytes | None:
    """A part of the workbook, None when absent; a damaged part makes the file unusable."""
    try:
        return archive.read(entry)
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, zlib.error, EOFError, NotImplementedError):
        raise UnusableInput(
            f"'{Path(archive.filename or '').name}' is beschadigd: het onderdeel {entry} is niet leesbaar.",
            "Open het bestand in Excel en sla het opnieuw op als Excel-werkmap (.xlsx).",
        ) from None


def _parse_xml(data: bytes, entry: str) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(data)
    except DefusedXmlException:
        raise UnusableInput(
            f"De werkmap bevat in {entry} XML-entiteiten of een DTD; een gewone Excel-werkmap heeft die niet, "
            "en asr-batch weigert ze om veiligheidsredenen.",
            "Sla de werkgevers op in een nieuwe werkmap uit Excel (.xlsx), of maak er een met `asr-batch template`.",
        ) from None
    except ElementTree.ParseError:
        return None


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip entry of its XML, from workbook.xml and its relationships."""
    parts = {}
    for entry in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        data = _read_entry(archive, entry)
        parsed = _parse_xml(data, entry) if data is not None else None
        if parsed is None:
            return {}
        parts[entry] = parsed
    workbook, rels = parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"]
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
    paths: dict[str, str] = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        if target:
            full = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            paths[sheet.get("name", "")] = full
    return paths


def column_letter(index: int) -> str:
    """0-based column index to its Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel column letters to a 0-based index (A -> 0)."""
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number - 1


# A value cell beyond the sheet area asr-batch reads: a row past MAX_ROWS plus room for title rows, or a
# column past CZ (104). calamine holds the whole used range in memory, so one stray value in XFD1048576
# would ask for 17 billion cells. Such cells that are blank to the user (a space, an empty string) are
# cut from the sheet before calamine sees it; any other one makes the file unusable, naming the cell.
MAX_COLUMNS = 104
_FAR_CELL = re.compile(
    rb'<(?:\w+:)?c\b([^>]*?\br="((?:[A-Z]{3}|[D-Z][A-Z])[0-9]+|[A-Z]{1,2}(?:[0-9]{7,}|1[1-9][0-9]{4}|[2-9][0-9]{5}))"'
    rb'[^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>', re.S)
# Any far cell's reference, found fast: a pattern that starts with a literal is searched for that literal first.
# A hit only means _FAR_CELL must look; at 100,000 rows this takes 0.09 s where _FAR_CELL takes 0.5 s.
_FAR_REFERENCE = re.compile(rb'r="(?:[A-Z]{3}|[D-Z][A-Z]|[A-Z]{1,2}(?:[0-9]{7,}|1[1-9][0-9]{4}|[2-9][0-9]{5})")')
_TEXT = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>(.*?)</(?:\w+:)?(?:v|t)>", re.S)
_SHARED = re.compile(rb"<(?:\w+:)?si\b[^>]*>(.*?)</(?:\w+:)?si>", re.S)
_TAG = re.compile(rb"<[^>]+>")


_shared_cache: dict[int, list[bytes]] = {}


def _shared_string(archive: zipfile.ZipFile, index: int) -> str:
    strings = _shared_cache.get(id(archive))
    if strings is None:  # parsed once per workbook, only when far-away text cells need it
        data = _read_entry(archive, "xl/sharedStrings.xml") or b""
        strings = [m.group(1) for m in _SHARED.finditer(data)]
        _shared_cache.clear()
        _shared_cache[id(archive)] = strings
    if index >= len(strings):
        return ""
    return html.unescape(_TAG.sub(b"", strings[index]).decode("utf-8", "replace"))


def _far_cell_is_blank(archive: zipfile.ZipFile, attrs: bytes, inner: bytes) -> bool:
    if _FORMULA.search(inner):
        return False
    kind = _TYPE.search(attrs)
    cell_type = kind.group(1) if kind else b"n"
    texts = [html.unescape(m.group(1).decode("utf-8", "replace")) for m in _TEXT.finditer(inner)]
    if cell_type == b"s":
        return all(t.strip().isdigit() and not clean_text(_shared_string(archive, int(t))) for t in texts)
    if cell_type in (b"str", b"inlineStr"):
        return not clean_text("".join(texts))
    return not any(t.strip() for t in texts)


def _trim_far_cells(archive: zipfile.ZipFile, xml: bytes | None, sheet: str) -> bytes | None:
    """The sheet XML without far-away blank cells (None when there are none); refuses a far value."""
    if xml is None or _FAR_REFERENCE.search(xml) is None or _FAR_CELL.search(xml) is None:
        return None
    for match in _FAR_CELL.finditer(xml):
        if not _far_cell_is_blank(archive, match.group(1), match.group(3)):
            cell = match.group(2).decode()
            raise UnusableInput(
                f"Tabblad '{sheet}' heeft een waarde in cel {cell}, ver buiten een lijst met werkgevers "
                f"(asr-batch leest hoogstens {MAX_ROWS:_} rijen en {MAX_COLUMNS} kolommen).".replace("_", "."),
                f"Maak cel {cell} leeg (Ctrl+End in Excel toont de laatste gebruikte cel), of splits het bestand.",
            )
    return _FAR_CELL.sub(b"", xml)


def _with_entry(archive: zipfile.ZipFile, entry: str, data: bytes) -> CalamineWorkbook:
    """The workbook with one part replaced, opened from memory (rare: only for trimmed sheets)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in archive.infolist():
            copy.writestr(info.filename, data if info.filename == entry else _read_entry(archive, info.filename) or b"")
    buffer.seek(0)
    return CalamineWorkbook.from_filelike(buffer)


def _special_cells(xml: bytes | None) -> dict[tuple[int, int], Cell]:
    """Cells calamine reads as empty but are not: Excel error values (#N/A...) and formulas whose
    result was never saved. Keyed by (Excel row, 0-based column). Scans only sheets that have any."""
    if xml is None:
        return {}
    if b"<f" not in xml and b":f" not in xml and b't="e"' not in xml:
        return {}
    found: dict[tuple[int, int], Cell] = {}
    for match in _CELL.finditer(xml):
        attrs, inner = match.groups()
        ref = _REF.search(attrs)
        if ref is None:
            continue
        kind = _TYPE.search(attrs)
        cell_type = kind.group(1) if kind else b"n"
        value = _VALUE.search(inner)
        position = (int(ref.group(2)), column_index(ref.group(1).decode()))
        if cell_type == b"e" and value is not None:
            found[position] = Cell(value.group(1).decode("utf-8", "replace").strip() or "#N/A", CellKind.ERROR)
        elif _FORMULA.search(inner) and (value is None or (not value.group(1) and cell_type != b"str")):
            found[position] = FORMULA_NO_VALUE
    return found


# --- finding the sheet and the header -----------------------------------------------------------

def _header_score(row: list[object]) -> int:
    keys = {match_header(v) for v in row if isinstance(v, str) and v.strip()}
    keys.discard(None)
    return len(keys)


def _find_header(rows: list[list[object]]) -> tuple[int, int]:
    """(0-based index of the header row, number of known fields in it)."""
    best, best_score = 0, 0
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _header_score(row)
        if score > best_score:
            best, best_score = index, score
    return best, best_score


def _suggest(header: str) -> str:
    """A fix hint for an unknown header: the nearest known one, if any is near."""
    by_norm = {normalise_header(f.header): f.header for f in FIELDS}
    close = difflib.get_close_matches(normalise_header(header), list(by_norm), n=1, cutoff=0.7)
    if close:
        return (f"Bedoelt u '{by_norm[close[0]]}'? Pas dan de kop aan. Zo niet, dan mag de kolom blijven staan; "
                "asr-batch slaat hem over.")
    return "Laat de kolom staan of verwijder hem; asr-batch gebruikt hem niet."


def _map_columns(header: list[object], header_row: int) -> tuple[dict[str, Column], list[Issue]]:
    columns: dict[str, Column] = {}
    issues: list[Issue] = []
    for index, raw in enumerate(header):
        text = clean_text(raw) if isinstance(raw, str) else to_cell(raw).text
        if not text:
            continue
        letter = column_letter(index)
        key = match_header(text)
        if key is None:
            issues.append(make_issue("kolom_onbekend", column=text, cell=f"{letter}{header_row}",
                                     suggestion=_suggest(text)))
        elif key in columns:
            issues.append(make_issue("kolom_dubbel", field=key, column=text, cell=f"{letter}{header_row}",
                                     first=columns[key].header))
        else:
            columns[key] = Column(key, text, index, letter)
    return columns, issues


def _missing_columns_message(sheet: str, header_row: int, columns: dict[str, Column],
                             header: list[object]) -> UnusableInput:
    missing = [f.header for f in FIELDS if f.column_required and f.key not in columns]
    found = [str(to_cell(v).text) for v in header if to_cell(v).text]
    names = ", ".join(f"'{m}'" for m in missing)
    noun = "Kolom" if len(missing) == 1 else "Kolommen"
    verb = "ontbreekt" if len(missing) == 1 else "ontbreken"
    return UnusableInput(
        f"{noun} {names} {verb} op tabblad '{sheet}' (koprij {header_row}). "
        f"Gevonden koppen: {', '.join(repr(f) for f in found) or 'geen'}.",
        f"Voeg de ontbrekende kolom(men) toe, of geef een bestaande kolom de juiste kop. {FIX_TEMPLATE}",
    )


def _read_office(rows: list[list[object]]) -> tuple[dict[str, str | None], dict[str, str]]:
    values: dict[str, str | None] = {}
    cells: dict[str, str] = {}
    for index, row in enumerate(rows):
        if not row or not isinstance(row[0], str):
            continue
        key = OFFICE_ALIASES.get(normalise_header(row[0]))
        if key is None or key in values:
            continue
        value = to_cell(row[1]).text if len(row) > 1 else None
        values[key] = value
        cells[key] = f"B{index + 1}"
    return values, cells


# --- the whole read ------------------------------------------------------------------------------

def read_table(path: Path) -> Table:
    """Read the employer table of a workbook. Raises UnusableInput when the file cannot be used."""
    data = _check_file(path)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))  # the bytes that were hashed, not the file again
        archive.filename = str(path)  # for messages
        check_archive(archive, path.name)
        # From the bytes, not the path: calamine then goes by the content, not the extension, so a
        # workbook saved as .xls by mistake is read too.
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (zipfile.BadZipFile, CalamineError, OSError, ValueError):
        raise UnusableInput(
            f"'{path.name}' is geen leesbare Excel-werkmap; het bestand is beschadigd of onvolledig.",
            "Open het in Excel en sla het opnieuw op als Excel-werkmap (.xlsx).",
        ) from None
    with archive, workbook:
        return _read_open_workbook(path, data, archive, workbook)


def _read_open_workbook(path: Path, data: bytes, archive: zipfile.ZipFile,
                        workbook: CalamineWorkbook) -> Table:
    names = list(workbook.sheet_names)

    entries = _sheet_paths(archive)
    xml_of: dict[str, bytes | None] = {}

    def load(name: str) -> list[list[object]]:
        entry = entries.get(name)
        xml_of[name] = _read_entry(archive, entry) if entry else None
        trimmed = _trim_far_cells(archive, xml_of[name], name)
        try:
            if trimmed is not None and entry is not None:
                xml_of[name] = trimmed
                sheet = _with_entry(archive, entry, trimmed).get_sheet_by_name(name)
            else:
                sheet = workbook.get_sheet_by_name(name)
            return [list(r) for r in sheet.to_python(skip_empty_area=False)]
        except CalamineError:
            raise UnusableInput(
                f"Tabblad '{name}' van '{path.name}' kan niet worden gelezen; het bestand is beschadigd.",
                "Open het bestand in Excel en sla het opnieuw op als Excel-werkmap (.xlsx).",
            ) from None

    office_name = next((n for n in names if normalise_header(n) == normalise_header(SHEET_OFFICE)), None)
    preferred = [n for n in names if normalise_header(n) == normalise_header(SHEET_WERKGEVERS)]
    candidates = preferred + [n for n in names if n not in preferred and n != office_name]
    best: tuple[str, list[list[object]], int, int] | None = None
    for name in candidates:
        rows = load(name)
        index, score = _find_header(rows)
        if score >= 2 and (best is None or score > best[3]):
            best = (name, rows, index, score)
            if name in preferred:
                break
    if best is None:
        raise UnusableInput(
            f"In '{path.name}' staat op geen enkel tabblad ({', '.join(names) or 'geen'}) een koprij met "
            "kolommen als 'Werkgeverscode', 'Naam werkgever' en '13e maand'.",
            FIX_TEMPLATE,
        )
    sheet, rows, header_index, _ = best
    header_row = header_index + 1
    header = rows[header_index]
    columns, file_issues = _map_columns(header, header_row)
    if any(f.column_required and f.key not in columns for f in FIELDS):
        raise _missing_columns_message(sheet, header_row, columns, header)

    data_rows = rows[header_index + 1:]
    if len(data_rows) > MAX_ROWS:
        # Formatting can stretch a sheet's used range; only rows with values count against the cap.
        while data_rows and not any(v not in ("", None) for v in data_rows[-1]):
            data_rows.pop()
        if len(data_rows) > MAX_ROWS:
            raise UnusableInput(
                f"Tabblad '{sheet}' heeft {len(data_rows):,} rijen; asr-batch verwerkt er hoogstens "
                f"{MAX_ROWS:,} per keer.".replace(",", "."),
                "Splits de werkgevers over meer bestanden.",
            )
    special = _special_cells(xml_of.pop(sheet, None))
    xml_of.clear()

    first = header_row + 1
    last_special = max((number for number, _ in special), default=0)
    if last_special >= first + len(data_rows):  # calamine's range ends at the last cell with a value
        data_rows = data_rows + [[] for _ in range(last_special - first - len(data_rows) + 1)]
    raw: dict[str, list[object]] = {}
    width = len(data_rows[0]) if data_rows else 0
    # calamine's rows are all as wide as the sheet's range: one transposition in C gives every column
    by_column = list(zip(*data_rows, strict=True)) if all(len(row) == width for row in data_rows) else []
    for key, column in columns.items():
        index = column.index
        if index < len(by_column):
            values = list(by_column[index])
        else:
            values = [row[index] if index < len(row) else None for row in data_rows]
        for (number, col), cell in special.items():
            if col == index and 0 <= number - first < len(values):
                values[number - first] = cell
        raw[key] = values
    blank = [all(map(is_blank, cells)) for cells in zip(*raw.values(), strict=True)] if raw else []
    while blank and blank[-1]:
        blank.pop()
    for values in raw.values():
        del values[len(blank):]
    row_numbers = list(range(first, first + len(blank)))

    office_values: dict[str, str | None] = {}
    office_cells: dict[str, str] = {}
    if office_name is None:
        file_issues.append(make_issue("salarisverwerker_ontbreekt"))
    else:
        office_values, office_cells = _read_office(load(office_name))
    for key in SECRET_FIELDS:
        remember(office_values.get(key))
        for value in raw.get(key, []):
            remember(clean_text(value) if isinstance(value, str) else to_cell(value).text)

    return Table(
        file=path,
        sha256=hashlib.sha256(data).hexdigest(),
        sheet=sheet,
        header_row=header_row,
        columns=columns,
        row_numbers=row_numbers,
        raw=raw,
        blank=blank,
        office=Office(office_values),
        office_cells=office_cells,
        file_issues=file_issues,
    )
