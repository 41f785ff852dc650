"""The workbook's own parts, for what calamine does not tell: a zip entry, its XML parsed without entities,
the entry that holds each sheet, and the A1 letters of a column."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from defusedxml import DefusedXmlException, ElementTree

from batch.errors import UnusableInput

CELL_TYPE = re.compile(rb'\bt="(\w+)"')
FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def read_entry(archive: zipfile.ZipFile, entry: str) -> bytes | None:
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


def sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip entry of its XML, from workbook.xml and its relationships."""
    parts = {}
    for entry in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        data = read_entry(archive, entry)
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
