"""Cells far outside any list of werkgevers: cut from the sheet when blank to the user, refused otherwise."""

from __future__ import annotations

import html
import io
import re
import zipfile

from python_calamine import CalamineWorkbook

from batch.errors import UnusableInput
from batch.reader.parts import CELL_TYPE, FORMULA, read_entry
from batch.values import clean_text

# A value cell beyond the sheet area asr-batch reads: a row past MAX_ROWS plus room for title rows, or a
# column past CZ (104). calamine holds the whole used range in memory, so one stray value in XFD1048576
# would ask for 17 billion cells. Such cells that are blank to the user (a space, an empty string) are
# cut from the sheet before calamine sees it; any other one makes the file unusable, naming the cell.
# (MAX_ROWS is batch.reader's: it passes it in, so that a test can lower it.)
MAX_COLUMNS = 104
FIRST_FAR_ROW = 110_000  # the first row _FAR_CELL takes for far away
_FAR_CELL = re.compile(
    rb'<(?:\w+:)?c\b([^>]*?\br="((?:[A-Z]{3}|[D-Z][A-Z])[0-9]+|[A-Z]{1,2}(?:[0-9]{7,}|1[1-9][0-9]{4}|[2-9][0-9]{5}))"'
    rb'[^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>', re.S)
# Any far cell's reference, found fast: a pattern that starts with a literal is searched for that literal first.
# A hit only means _FAR_CELL must look; at 100,000 rows this takes 0.09 s where _FAR_CELL takes 0.5 s.
_FAR_REFERENCE = re.compile(rb'r="(?:[A-Z]{3}|[D-Z][A-Z]|[A-Z]{1,2}(?:[0-9]{7,}|1[1-9][0-9]{4}|[2-9][0-9]{5})")')
_TEXT = re.compile(rb"<(?:\w+:)?(?:v|t)\b[^>]*>(.*?)</(?:\w+:)?(?:v|t)>", re.S)
_SHARED = re.compile(rb"<(?:\w+:)?si\b[^>]*>(.*?)</(?:\w+:)?si>", re.S)
_TAG = re.compile(rb"<[^>]+>")


_shared_cache: dict[int, list[bytes]] = {}  # the shared strings of the workbook being read, up to 192 MB (limits.py)


def forget_shared_strings() -> None:
    """The workbook is read: its shared strings go now, not when the next workbook is read (a run, or a page's
    process, goes on for minutes after)."""
    _shared_cache.clear()


def _shared_string(archive: zipfile.ZipFile, index: int) -> str:
    strings = _shared_cache.get(id(archive))
    if strings is None:  # parsed once per workbook, only when far-away text cells need it
        data = read_entry(archive, "xl/sharedStrings.xml") or b""
        strings = [m.group(1) for m in _SHARED.finditer(data)]
        _shared_cache.clear()
        _shared_cache[id(archive)] = strings
    if index >= len(strings):
        return ""
    return html.unescape(_TAG.sub(b"", strings[index]).decode("utf-8", "replace"))


def _far_cell_is_blank(archive: zipfile.ZipFile, attrs: bytes, inner: bytes) -> bool:
    if FORMULA.search(inner):
        return False
    kind = CELL_TYPE.search(attrs)
    cell_type = kind.group(1) if kind else b"n"
    texts = [html.unescape(m.group(1).decode("utf-8", "replace")) for m in _TEXT.finditer(inner)]
    if cell_type == b"s":
        return all(t.strip().isdigit() and not clean_text(_shared_string(archive, int(t))) for t in texts)
    if cell_type in (b"str", b"inlineStr"):
        return not clean_text("".join(texts))
    return not any(t.strip() for t in texts)


def trim_far_cells(archive: zipfile.ZipFile, xml: bytes | None, sheet: str, max_rows: int) -> bytes | None:
    """The sheet XML without far-away blank cells (None when there are none); refuses a far value."""
    if xml is None or _FAR_REFERENCE.search(xml) is None or _FAR_CELL.search(xml) is None:
        return None
    for match in _FAR_CELL.finditer(xml):
        if not _far_cell_is_blank(archive, match.group(1), match.group(3)):
            raise far_value_refused(sheet, match.group(2).decode(), max_rows)
    return _FAR_CELL.sub(b"", xml)


def far_value_refused(sheet: str, cell: str, max_rows: int) -> UnusableInput:
    return UnusableInput(
        f"Tabblad '{sheet}' heeft een waarde in cel {cell}, ver buiten een lijst met werkgevers "
        f"(asr-batch leest hoogstens {max_rows:_} rijen en {MAX_COLUMNS} kolommen).".replace("_", "."),
        f"Maak cel {cell} leeg (Ctrl+End in Excel toont de laatste gebruikte cel), of splits het bestand.",
    )


def with_entry(archive: zipfile.ZipFile, entry: str, data: bytes) -> CalamineWorkbook:
    """The workbook with one part replaced, opened from memory (rare: only for trimmed sheets)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in archive.infolist():
            copy.writestr(info.filename, data if info.filename == entry else read_entry(archive, info.filename) or b"")
    buffer.seek(0)
    return CalamineWorkbook.from_filelike(buffer)
