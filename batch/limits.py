"""Resource limits checked before any XML is parsed: a real employer list is small.

The limits come from what a werkgevers workbook can hold, measured (docs/security.md, "Input that cannot be trusted")
on 100,000 werkgevers (the reader's row cap) with all twelve columns filled, names of some 80 and remarks of some 140
characters:

| saved by | file | largest parts, unpacked (ratio) |
| --- | --- | --- |
| openpyxl (inline strings) | 14 MB | sheet 93 MB (7:1) |
| LibreOffice as .xlsx (shared strings, as Excel saves) | 15 MB | sharedStrings 65 MB (7:1), sheet 62 MB (12:1) |
| LibreOffice as .ods | 11 MB | content.xml 176 MB (16:1) |
| `status --xlsx` of a register of 100,000 | 8 MB | sheet 72 MB (12:1), hidden sheet 25 MB (13:1) |

Formatting every row down to row 1,048,576 adds a sheet of 106 MB (36:1); formatting each cell of twelve columns
down to there, 300 MB (12:1). Each limit is about three times what was measured. The shared strings get the tightest
one: unlike a sheet's XML, which calamine streams, every byte of them is held in memory, more than once (the bomb
that set these limits, 1.3 MB inflating to 500 MB of shared strings, cost 1.7 GB). What no size limit sees, one
text repeated in a great many cells, batch/reader/repeated_text.py counts.
"""

from __future__ import annotations

import zipfile

from batch.errors import UnusableInput

MB = 1024 * 1024
MAX_ENTRIES = 2_000
MAX_UNCOMPRESSED = 512 * MB  # all parts together: three times the .ods (176 MB)
SHARED_STRINGS = "xl/sharedStrings.xml"
SHEETS = "xl/worksheets/"
ODS_CONTENT = "content.xml"
MAX_SHARED_STRINGS = 192 * MB  # three times the 65 MB measured
MAX_SHEET = 320 * MB  # three times the 93 MB sheet measured; holds formatting of twelve columns to the last row
MAX_ODS_CONTENT = 480 * MB  # nearly three times the 176 MB measured
MAX_OTHER_PART = 64 * MB  # styles, theme, a picture: a few MB at most
# Real parts unpack at most 16:1, a formatting-only sheet 36:1; a bomb does hundreds to thousands.
MAX_RATIO = 100  # for entries over RATIO_FLOOR
RATIO_FLOOR = 4 * MB
FIX_SMALLER = "Verwijder overbodige tabbladen, afbeeldingen en opmaak, of splits het bestand."


def part_limit(entry: str) -> tuple[int, str]:
    """The most one part may unpack to, and what it is called in a message."""
    if entry == SHARED_STRINGS:
        return MAX_SHARED_STRINGS, "de gedeelde teksten (sharedStrings.xml)"
    if entry.startswith(SHEETS):
        return MAX_SHEET, "een tabblad"
    if entry == ODS_CONTENT:
        return MAX_ODS_CONTENT, "de inhoud van een .ods-bestand (content.xml)"
    return MAX_OTHER_PART, "een onderdeel als opmaak of een afbeelding"


def check_archive(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse zip bombs and absurd workbooks from the central directory alone (nothing is inflated). A part whose
    deflate stream runs past its declared size is refused while it is read (zipfile and calamine check both)."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise UnusableInput(
            f"'{name}' bevat {len(entries)} onderdelen; een werkmap met werkgevers heeft er hooguit enkele "
            f"tientallen (grens: {MAX_ENTRIES}).",
            "Sla de werkgevers op in een nieuwe, gewone Excel-werkmap (.xlsx).",
        )
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED:
        raise UnusableInput(
            f"'{name}' wordt uitgepakt {total // MB} MB groot; de grens is {MAX_UNCOMPRESSED // MB} MB.", FIX_SMALLER)
    for entry in entries:
        limit, kind = part_limit(entry.filename)
        if entry.file_size > limit:
            raise UnusableInput(
                f"'{name}' bevat een onderdeel ({entry.filename}) dat uitgepakt {entry.file_size // MB} MB groot "
                f"wordt; voor {kind} is de grens {limit // MB} MB. Een werkmap met 100.000 werkgevers blijft daar "
                "ruim onder.", FIX_SMALLER)
        if entry.file_size > RATIO_FLOOR and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise UnusableInput(
                f"'{name}' bevat een onderdeel ({entry.filename}) dat meer dan {MAX_RATIO} keer zo groot "
                "wordt bij uitpakken; dat lijkt op een zip-bom, niet op een werkmap.",
                "Gebruik een werkmap die rechtstreeks uit Excel is opgeslagen.",
            )
