"""Resource limits checked before any XML is parsed: a real employer list is small."""

from __future__ import annotations

import zipfile

from batch.errors import UnusableInput

MAX_ENTRIES = 2_000
MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 1_000  # for entries over RATIO_FLOOR; formatting-only rows compress very well, bombs better
RATIO_FLOOR = 16 * 1024 * 1024


def check_archive(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse zip bombs and absurd workbooks from the central directory alone (nothing is inflated)."""
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
            f"'{name}' wordt uitgepakt {total // (1024 * 1024)} MB groot; de grens is "
            f"{MAX_UNCOMPRESSED // (1024 * 1024)} MB.",
            "Verwijder overbodige tabbladen, afbeeldingen en opmaak, of splits het bestand.",
        )
    for entry in entries:
        if entry.file_size > RATIO_FLOOR and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise UnusableInput(
                f"'{name}' bevat een onderdeel ({entry.filename}) dat meer dan {MAX_RATIO} keer zo groot "
                "wordt bij uitpakken; dat lijkt op een zip-bom, niet op een werkmap.",
                "Gebruik een werkmap die rechtstreeks uit Excel is opgeslagen.",
            )
