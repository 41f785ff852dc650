"""Zip bombs that look like workbooks: a valid werkgevers workbook whose shared strings are padded with strings no
cell uses, so that the file stays small and the part inflates to `unpacked` bytes.

`unique` and `block` set how well the padding compresses: each padding string is `unique` random hex characters and
then a block of `block` characters shared by all of them (0 and 200: ratio ~260, near the review's bomb, 1.3 MB to
500 MB; 32 and 2000: ratio ~65). The part is streamed into the zip: a bomb of 500 MB takes seconds and little memory.
"""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

SHARED_STRINGS = "xl/sharedStrings.xml"
CHUNK = 8 * 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = "[Content_Types].xml"
RELATIONSHIPS = "xl/_rels/workbook.xml.rels"
OVERRIDE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
RELATIONSHIP = (b'<Relationship Id="rIdBomb" Target="sharedStrings.xml" '
                b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>')


def inflate_shared_strings(source: Path, target: Path, *, unpacked: int, unique: int = 0, block: int = 2000,
                           seed: int = 26) -> Path:
    """A copy of the workbook `source` whose xl/sharedStrings.xml unpacks to about `unpacked` bytes. The workbook's
    own shared strings (if any) come first, so the indexes its cells use stay; a workbook without them (openpyxl
    writes its strings inline) gets the part and its two references."""
    rng = random.Random(seed)
    shared = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(block))
    count = CHUNK // (block + 20)
    same = "".join(f"<si><t>{shared}</t></si>" for _ in range(count)).encode()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bomb:
        parts = {info.filename: original.read(info.filename) for info in original.infolist()}
        strings = parts.pop(SHARED_STRINGS, None)
        if strings is None:
            strings = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"></sst>'.encode()
            parts[CONTENT_TYPES] = parts[CONTENT_TYPES].replace(b"</Types>", OVERRIDE + b"</Types>")
            parts[RELATIONSHIPS] = parts[RELATIONSHIPS].replace(b"</Relationships>", RELATIONSHIP + b"</Relationships>")
        for name, data in parts.items():
            bomb.writestr(name, data)
        end = strings.rindex(b"</sst>")
        with bomb.open(SHARED_STRINGS, "w", force_zip64=True) as part:
            part.write(strings[:end])
            written = end
            while written < unpacked:
                chunk = same if not unique else "".join(
                    f"<si><t>{rng.randbytes(unique // 2).hex()}{shared}</t></si>" for _ in range(count)).encode()
                part.write(chunk)
                written += len(chunk)
            part.write(strings[end:])
    return target


def unpacked_size(path: Path, part: str = SHARED_STRINGS) -> int:
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(part).file_size


# --- bombs that no size limit sees: one text, fanned out over many cells ---------------------------------------

SHEET_DATA_END = b"</sheetData>"


def fan_out_shared_string(source: Path, target: Path, *, rows: int, columns: int = 12, length: int = 32_000,
                          sheet: str = "xl/worksheets/sheet2.xml", seed: int = 26) -> Path:
    """A copy of the workbook `source` (inline strings, as openpyxl writes) with one shared string of `length`
    characters and `rows` more rows on `sheet` whose `columns` cells all point at it. The file stays tens of KB
    (every cell is the same few bytes); read cell by cell, the text is `rows` x `columns` x `length` characters."""
    rng = random.Random(seed)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(length))
    with zipfile.ZipFile(source) as original:
        parts = {info.filename: original.read(info.filename) for info in original.infolist()}
    assert SHARED_STRINGS not in parts, "the source has shared strings of its own"
    parts[SHARED_STRINGS] = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="1" uniqueCount="1">'
                             f"<si><t>{text}</t></si></sst>").encode()
    parts[CONTENT_TYPES] = parts[CONTENT_TYPES].replace(b"</Types>", OVERRIDE + b"</Types>")
    parts[RELATIONSHIPS] = parts[RELATIONSHIPS].replace(b"</Relationships>", RELATIONSHIP + b"</Relationships>")
    xml = parts[sheet]
    first = xml.count(b"<row ") + 1
    letters = [chr(ord("A") + i) for i in range(columns)]
    added = b"".join(
        b'<row r="%d">' % number + b"".join(b'<c r="%s%d" t="s"><v>0</v></c>' % (c.encode(), number)
                                           for c in letters) + b"</row>"
        for number in range(first, first + rows))
    parts[sheet] = xml.replace(SHEET_DATA_END, added + SHEET_DATA_END)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name, data in parts.items():
            bomb.writestr(name, data)
    return target


ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_NAMESPACES = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                  'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
                  'office:version="1.2"')
MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>")


def _ods_cell(value: str, repeated: int = 1) -> str:
    from xml.sax.saxutils import escape

    times = f' table:number-columns-repeated="{repeated}"' if repeated > 1 else ""
    if not value:
        return f"<table:table-cell{times}/>"
    return (f'<table:table-cell office:value-type="string" calcext:value-type="string"{times}><text:p>{escape(value)}'
            "</text:p></table:table-cell>")


def _ods_row(values: list[str]) -> str:
    """A row as LibreOffice writes it: equal neighbours as one repeated cell, the rest of the 16,384 columns as one
    repeated empty cell."""
    cells, index = [], 0
    while index < len(values):
        same = 1
        while index + same < len(values) and values[index + same] == values[index]:
            same += 1
        cells.append(_ods_cell(values[index], same))
        index += same
    cells.append(_ods_cell("", 16_384 - len(values)))
    return f'<table:table-row table:style-name="ro1">{"".join(cells)}</table:table-row>'


def write_ods(target: Path, header: list[str], rows: list[list[str]], *, repeated_rows: int = 0,
              repeated_columns: int = 12, length: int = 32_000, after: str = "", seed: int = 26) -> Path:
    """An .ods with one sheet, Werkgevers, as LibreOffice writes it (every row ends in a repeated empty cell, the
    sheet in a row repeated to row 1,048,576): the header, `rows`, then (when `repeated_rows`) one row of
    `repeated_columns` cells of the same `length` characters repeated `repeated_rows` times, then the XML `after`.
    A repeated row is a few KB on disk and in content.xml; read cell by cell, its text is `repeated_rows` x
    `repeated_columns` x `length` characters."""
    rng = random.Random(seed)
    table = "".join(_ods_row(row) for row in [header, *rows])
    if repeated_rows:
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(length))
        table += (f'<table:table-row table:number-rows-repeated="{repeated_rows}">'
                  f"{_ods_cell(text, repeated_columns)}</table:table-row>")
    table += after + ('<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
                      'table:number-columns-repeated="16384"/></table:table-row>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES}><office:body>'
               f'<office:spreadsheet><table:table table:name="Werkgevers">{table}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as ods:
        ods.writestr(zipfile.ZipInfo("mimetype"), ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        ods.writestr("META-INF/manifest.xml", MANIFEST)
        ods.writestr("content.xml", content)
    return target


_INLINE = re.compile(rb'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: [^>]*)?>(.*?)</t></is></c>', re.S)


def as_shared_strings(source: Path, target: Path) -> Path:
    """The workbook `source` (inline strings, as openpyxl writes) saved with shared strings, as Excel and LibreOffice
    save: each distinct text once in xl/sharedStrings.xml, in the order first used, and every cell pointing at it."""
    with zipfile.ZipFile(source) as original:
        parts = {info.filename: original.read(info.filename) for info in original.infolist()}
    assert SHARED_STRINGS not in parts
    strings: dict[bytes, int] = {}

    def shared(match: re.Match[bytes]) -> bytes:
        index = strings.setdefault(match.group(3), len(strings))
        return b'<c %st="s"%s><v>%d</v></c>' % (match.group(1), match.group(2), index)

    for name in [n for n in parts if n.startswith("xl/worksheets/") and n.endswith(".xml")]:
        parts[name] = _INLINE.sub(shared, parts[name])
    items = b"".join(b'<si><t xml:space="preserve">%s</t></si>' % text for text in strings)
    parts[SHARED_STRINGS] = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="%s" count="%d" uniqueCount="%d">'
                             % (MAIN.encode(), len(strings), len(strings))) + items + b"</sst>"
    parts[CONTENT_TYPES] = parts[CONTENT_TYPES].replace(b"</Types>", OVERRIDE + b"</Types>")
    parts[RELATIONSHIPS] = parts[RELATIONSHIPS].replace(b"</Relationships>", RELATIONSHIP + b"</Relationships>")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as workbook:
        for name, data in parts.items():
            workbook.writestr(name, data)
    return target
