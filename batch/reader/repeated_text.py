"""Text that a workbook repeats cell after cell, counted before calamine opens it: what no size limit sees.

A workbook can put one text into a great many cells and stay small: an .xlsx whose cells all point at one shared
string of 32,000 characters (1,000 rows of 12 such cells: a 50 KB file, 366 MB of text), or an .ods whose row of text
is repeated with table:number-rows-repeated / number-columns-repeated (a 21 KB file, the same). calamine and Python
give every cell a copy of its own, so reading either took 1.6-1.8 GB, and that grows with the row count to tens of
GB; the part sizes batch/limits.py checks stay tiny. What a file holds once is bounded by those limits; what its
cells repeat is counted here: in an .xlsx, each shared string's length in bytes (its XML: at least its characters)
times the cells that point at it beyond the first; in an .ods, each value cell's XML times its repeats beyond the
first. An .ods value far below or right of any list is refused as far_cells refuses one in an .xlsx: calamine would
fill the whole range up to it (a 20 KB .ods with one value in row 300,000 took 1.9 GB).

The budget: a werkgevers list repeats little (Ja, Nee, Maandelijks: 15 MB in a workbook of 100,000 werkgevers made by
benchmarks/workload.py's write_full_workload and saved by LibreOffice as Excel does), and even one whose every cell
held the same text would repeat no more than all its text, 82 MB counted so. The budget is 192 MB, what the shared
strings themselves may hold (limits.py); refusing costs some 100 MB, as reading a small workbook does.

What it costs: a workbook of some thousands of werkgevers next to nothing. The zip's directory bounds what an .xlsx
can repeat (the cells a sheet's unpacked size can hold, times the size of all shared strings); past that, the same
cells times the longest shared string does, up to some 30,000 werkgevers with long names and remarks. Only past that
is every cell counted: 1.3 s on top of the 4.9 s `validate` takes for 100,000 werkgevers with every column filled
(LibreOffice's .xlsx, 2 cores). An .ods is scanned row by row with byte searches, a row parsed only when it repeats a
value or reaches far: 0.8 s on top of 4.4 s for the same 100,000.
calamine reads an .ods by the qualified names table:… and office:value-type only, and so does this scan.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections import Counter
from dataclasses import dataclass, field

from batch.errors import UnusableInput
from batch.limits import MAX_SHARED_STRINGS, MB, ODS_CONTENT, SHARED_STRINGS, SHEETS
from batch.reader.far_cells import FIRST_FAR_ROW, MAX_COLUMNS, far_value_refused
from batch.reader.parts import column_letter, read_entry, sheet_paths

MAX_REPEATED_TEXT = MAX_SHARED_STRINGS
MOST_IN_A_LIST = 82  # MB: all the text of 100,000 werkgevers, counted as here
FIX = ("Controleer of u de goede werkmap kiest. Kopieer anders alleen de werkgevers naar een lege werkmap (asr-batch "
       "template), of splits ze over meer bestanden.")


def check_repeated_text(archive: zipfile.ZipFile, name: str, max_rows: int) -> None:
    """Refuse a workbook whose cells repeat more text than MAX_REPEATED_TEXT, or an .ods value far outside any list
    (`max_rows` is the reader's, for the message)."""
    by_sheet: Counter[str] = Counter()
    if ODS_CONTENT in archive.NameToInfo:
        by_sheet.update(_Ods(read_entry(archive, ODS_CONTENT) or b"", max_rows).repeated())
    total = sum(by_sheet.values())
    if SHARED_STRINGS in archive.NameToInfo:
        repeated, held = _xlsx_repeated(archive)
        total += repeated
        by_sheet.update(held)
    if total > MAX_REPEATED_TEXT:
        raise UnusableInput(
            f"De cellen van '{name}' herhalen samen {total // MB} MB tekst (de meeste op tabblad "
            f"'{by_sheet.most_common(1)[0][0]}'): dezelfde tekst in heel veel cellen. Een werkmap met 100.000 "
            f"werkgevers heeft in al zijn cellen samen zo'n {MOST_IN_A_LIST} MB tekst (grens: "
            f"{MAX_REPEATED_TEXT // MB} MB).", FIX)


# --- .xlsx: shared strings that many cells point at ----------------------------------------------------------

_PREFIX = rb"(?:[\w.-]+:)?"
_SI = re.compile(rb"<" + _PREFIX + rb"si(?=[\s/>])")
SMALLEST_SHARED_CELL = len(b'<c t="s"><v>0</v></c>')
CHUNK = 16 * MB  # a sheet's cells are counted a piece at a time, so that counting takes little memory
# The index in each cell of type "s", as Excel and LibreOffice write it ...
_PLAIN_SHARED = re.compile(rb't="s"[^>]*><v>(\d{1,12})</v>')
_OTHER_SPELLING = re.compile(rb"t[ \t\r\n]+=|t=[ \t\r\n]|t='s'")  # or a text that looks so: counted too
# ... and however else XML allows (a prefix, quotes, spaces, an <f> before the <v>): what calamine looks up.
_ANY_SHARED = re.compile(
    rb"<" + _PREFIX + rb"c\b[^>]*?\bt\s*=\s*[\"']s[\"'][^>]*(?<!/)>"
    rb"(?:[^<]|<(?!" + _PREFIX + rb"v\b|/" + _PREFIX + rb"c>))*"
    rb"<" + _PREFIX + rb"v\b[^>]*>\s*\+?0*(\d{1,12})")


def _xlsx_repeated(archive: zipfile.ZipFile) -> tuple[int, Counter[str]]:
    """The shared text the cells repeat (all they point at, less each string once), and per sheet the shared text
    its cells hold; nothing is read when the zip's directory bounds it below budget."""
    sheets = {entry: sheet for entry, sheet in _worksheets(archive).items() if entry in archive.NameToInfo}
    cells = sum(archive.getinfo(entry).file_size // SMALLEST_SHARED_CELL for entry in sheets)
    if cells * archive.getinfo(SHARED_STRINGS).file_size <= MAX_REPEATED_TEXT:
        return 0, Counter()
    lengths = array("q", map(len, _SI.split(read_entry(archive, SHARED_STRINGS) or b"")[1:]))
    if cells * max(lengths, default=0) <= MAX_REPEATED_TEXT:
        return 0, Counter()
    held: Counter[str] = Counter()
    once: set[int] = set()
    for entry, sheet in sheets.items():
        text, pointed_at = _shared_text(read_entry(archive, entry) or b"", lengths)
        held[sheet] += text
        once |= pointed_at
    return sum(held.values()) - sum(map(lengths.__getitem__, once)), held


def _worksheets(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each part a sheet's cells can be in -> the sheet's name: those workbook.xml names, and any other part under
    xl/worksheets/ (calamine goes by workbook.xml; counting more parts counts at least as much)."""
    parts = {entry: sheet for sheet, entry in sheet_paths(archive).items()}
    for entry in archive.NameToInfo:
        if entry.startswith(SHEETS) and entry.endswith(".xml") and entry not in parts:
            parts[entry] = entry.removeprefix(SHEETS)
    return parts


def _shared_text(xml: bytes, lengths: array[int]) -> tuple[int, set[int]]:
    """The shared text a sheet's cells hold, and the strings they point at; read a piece at a time. A cell of type
    "s" whose index no pattern here reads counts as the longest string, every time."""
    text, pointed_at, start, longest = 0, set(), 0, max(lengths)
    while start < len(xml):
        end = xml.find(b"row>", start + CHUNK)  # a piece ends after a row's end tag, not inside a cell
        end = len(xml) if end < 0 else end + 4
        found = _PLAIN_SHARED.findall(xml, start, end)
        spelled = xml.count(b't="s"', start, end) + len(_OTHER_SPELLING.findall(xml, start, end))
        if len(found) != spelled:
            found = _ANY_SHARED.findall(xml, start, end)
        indexes = [index for index in map(int, found) if index < len(lengths)]
        text += sum(map(lengths.__getitem__, indexes)) + max(0, spelled - len(found)) * longest
        pointed_at.update(indexes)
        start = end
    return text, pointed_at


# --- .ods: value cells and rows repeated ---------------------------------------------------------------------

_ODS_TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
_ROWS_REPEATED = re.compile(rb"table:number-rows-repeated\s*=\s*[\"']\s*\+?(\d+)")
_COLUMNS_REPEATED = re.compile(rb"table:number-columns-repeated\s*=\s*[\"']\s*\+?(\d+)")
_TABLE = re.compile(rb"<table:table(?=[\s/>])([^>]*)>")
_NAME = re.compile(rb"table:name\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
ROW, ROW_END, VALUE, REPEATED = b"<table:table-row", b"</table:table-row>", b"office:value-type", b"-repeated"


def _repeats(pattern: re.Pattern[bytes], attributes: bytes) -> int:
    found = pattern.search(attributes)
    digits = found.group(1).lstrip(b"0") if found else b"1"
    return max(1, int(digits or b"0")) if len(digits) <= 12 else 10**12


@dataclass
class _Ods:
    xml: bytes
    max_rows: int
    counted: Counter[str] = field(default_factory=Counter)

    def repeated(self) -> Counter[str]:
        """Per table, the XML of its value cells beyond their first copy."""
        tables = list(_TABLE.finditer(self.xml))
        for table, following in zip(tables, [*tables[1:], None], strict=True):
            found = _NAME.search(table.group(1))
            name = (found.group(1) or found.group(2) or b"").decode("utf-8", "replace") if found else ""
            # A table's rows run up to the next table (a table inside a cell included), whatever closes where.
            self._table(name, table.end(), following.start() if following else len(self.xml))
        return self.counted

    def _table(self, name: str, start: int, end: int) -> None:
        """Row by row with byte searches; a row that repeats a value, or may reach far, is parsed cell by cell."""
        xml, row, at = self.xml, 0, start
        while (at := xml.find(ROW, at, end)) >= 0:
            tag_end = xml.find(b">", at, end)
            if tag_end < 0:
                return
            if xml[at + len(ROW):at + len(ROW) + 1] not in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
                at = tag_end  # a table-row-group or table-rows: only a wrapper
                continue
            row_end = tag_end + 1 if xml[tag_end - 1:tag_end] == b"/" else xml.find(ROW_END, tag_end, end)
            row_end = end if row_end < 0 else row_end
            rows = _repeats(_ROWS_REPEATED, xml[at:tag_end]) if xml.find(REPEATED, at, tag_end) >= 0 else 1
            if not self._plain(tag_end, row_end, rows, row) and xml.find(VALUE, tag_end, row_end) >= 0:
                self._row(name, xml[at:row_end], row)
            row += rows
            at = row_end

    def _plain(self, start: int, end: int, rows: int, row: int) -> bool:
        """A row of values that repeats none and stays near: at most the run of empty cells at its end repeated,
        as LibreOffice writes every row."""
        xml = self.xml
        if rows != 1 or row + 1 >= FIRST_FAR_ROW or xml.count(b"table-cell", start, end) > MAX_COLUMNS:
            return False  # (each cell counted once or twice, by its end tag too: a wide row is parsed)
        repeats = xml.count(REPEATED, start, end)
        last = xml.rfind(b"<", start, end)
        return repeats == 0 or (repeats == 1 and xml.find(REPEATED, last, end) >= 0 and xml[end - 2:end] == b"/>"
                                and xml.find(VALUE, last, end) < 0)

    def _row(self, name: str, xml: bytes, row: int) -> None:
        rows, column, opened = 1, 0, None
        for match in _ODS_TAG.finditer(xml):
            closing, kind, attributes, empty = match.groups()
            if kind == b"table-row":
                rows = rows if closing else _repeats(_ROWS_REPEATED, attributes)
            elif closing:
                if opened is not None:
                    self._cell(name, row, rows, opened[0], opened[1], opened[2] + match.start())
                    opened = None
            else:
                columns = _repeats(_COLUMNS_REPEATED, attributes)
                if VALUE in attributes and empty:
                    self._cell(name, row, rows, column, columns, match.end() - match.start())
                elif VALUE in attributes:  # its size: the start tag and what follows it up to the end tag
                    opened = (column, columns, -match.start())
                column += columns

    def _cell(self, name: str, row: int, rows: int, column: int, columns: int, size: int) -> None:
        """One value cell, as often as it repeats: refused when it reaches past the area a list can take (calamine
        would hold every cell up to it), its copies beyond the first counted."""
        if column + columns > MAX_COLUMNS:
            raise far_value_refused(name, f"{column_letter(max(column, MAX_COLUMNS))}{row + 1}", self.max_rows)
        if row + rows >= FIRST_FAR_ROW:
            raise far_value_refused(name, f"{column_letter(column)}{max(row + 1, FIRST_FAR_ROW)}", self.max_rows)
        self.counted[name] += (rows * columns - 1) * size
