"""Reading a register workbook back: recognised by its hidden sheet (or refused), the visible sheet's columns found
by their headers (a clerk may sort and filter), each row's werkgeverscode and its three date cells as they are."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from batch.errors import UnusableInput
from batch.register import Seen
from batch.register_workbook.layout import (
    CODE,
    EDITABLE,
    HIDDEN,
    KEY_IDENTITY,
    KEY_REGISTER,
    KEY_SHEET,
    KEY_WRITTEN,
    LINKED,
    MARKER,
    ROW_HEADERS,
    ROW_HEADERS_1,
    SHEET,
    VERSION,
)

MAX_ROWS = 100_000

FIX_EXPORT = ("Schrijf de registerwerkmap met 'asr-batch status --xlsx register.xlsx' (of download hem op de "
              "registerpagina van asr-batch serve), vul daarin de datums in en lees die werkmap terug.")


@dataclass(frozen=True)
class SheetRow:
    number: int  # as the sheet shows it
    code: str
    dates: dict[str, object]  # the raw value of each editable column, by header ("" when empty)


@dataclass
class WorkbookFile:
    """A register workbook as read: what its hidden sheet says, and the visible sheet's rows."""

    name: str
    register: str  # the register it was written from, as shown (without a password)
    identity: str
    written: str
    sheet: str
    seen: dict[str, Seen]  # each row as it was written, by werkgeverscode
    letters: dict[str, str]  # column letter by header
    rows: list[SheetRow] = field(default_factory=list)
    version: int = VERSION  # format 1 has no Gekoppeld op


def read_workbook(path: Path, name: str | None = None) -> WorkbookFile:
    """The register workbook at `path` (`name`: the file as the clerk knows it, for messages)."""
    from python_calamine import CalamineError, CalamineWorkbook

    from batch.limits import check_archive
    from batch.reader.repeated_text import check_repeated_text
    from batch.reader.workbook_file import check_file

    name = name or path.name
    data = check_file(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive, name)
            check_repeated_text(archive, name, MAX_ROWS)
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (zipfile.BadZipFile, CalamineError, OSError, ValueError):
        raise UnusableInput(f"'{name}' is geen leesbare Excel-werkmap; het bestand is beschadigd of onvolledig.",
                            FIX_EXPORT) from None
    with workbook:
        hidden = _rows(workbook, HIDDEN, name) if HIDDEN in workbook.sheet_names else []
        file = _recognise(hidden, name)
        sheet = file.sheet if file.sheet in workbook.sheet_names else SHEET
        if sheet not in workbook.sheet_names:
            raise UnusableInput(f"Het tabblad '{SHEET}' ontbreekt in '{name}'.", FIX_EXPORT)
        _read_visible(file, _rows(workbook, sheet, name))
    return file


def _rows(workbook: object, sheet: str, name: str) -> list[list[object]]:
    from python_calamine import CalamineError

    try:
        rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)  # type: ignore[attr-defined]
    except CalamineError:
        raise UnusableInput(f"Tabblad '{sheet}' van '{name}' kan niet worden gelezen; het bestand is beschadigd.",
                            FIX_EXPORT) from None
    if len(rows) > MAX_ROWS + 10:
        raise UnusableInput(f"Tabblad '{sheet}' van '{name}' heeft {len(rows)} rijen; een registerwerkmap heeft er "
                            f"hoogstens {MAX_ROWS}.", FIX_EXPORT)
    return [list(row) for row in rows]


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code a program stored as a number
    return "" if value is None else str(value).strip()


def _recognise(rows: list[list[object]], name: str) -> WorkbookFile:
    """What the hidden sheet says; a file without it (or with another marker) is no register workbook."""
    if not rows or not rows[0] or _text(rows[0][0]) != MARKER:
        raise UnusableInput(f"'{name}' is geen registerwerkmap van asr-batch: het verborgen tabblad waaraan "
                            "asr-batch hem herkent ontbreekt.", FIX_EXPORT)
    version = _text(rows[0][1]) if len(rows[0]) > 1 else ""
    if not version.isdigit() or int(version) > VERSION:
        raise UnusableInput(f"'{name}' is geschreven door een nieuwere versie van asr-batch (indeling {version}; "
                            f"deze versie kent tot {VERSION}).",
                            "Werk asr-batch bij (pip install --upgrade asr-batch), of schrijf de registerwerkmap "
                            "opnieuw met deze versie.")
    values: dict[str, str] = {}
    number = 1
    while number < len(rows) and any(_text(v) for v in rows[number]):
        values[_text(rows[number][0])] = _text(rows[number][1]) if len(rows[number]) > 1 else ""
        number += 1
    seen: dict[str, Seen] = {}
    headers = ROW_HEADERS if int(version) >= 2 else ROW_HEADERS_1
    try:
        header = next(n for n in range(number, len(rows)) if any(_text(v) for v in rows[n]))
        if tuple(_text(v) for v in rows[header][:len(headers)]) != headers:
            raise ValueError(header)
        for row in rows[header + 1:]:
            texts = [_text(v) for v in row[:len(headers)]] + [""] * len(ROW_HEADERS)
            if texts[0]:
                submitted, confirmed, first = (date.fromisoformat(t) if t else None for t in texts[2:5])
                seen[texts[0]] = Seen(texts[1], submitted, confirmed, first, int(texts[5]) if texts[5] else None,
                                      date.fromisoformat(texts[6]) if texts[6] else None,
                                      knows_linked=headers == ROW_HEADERS)
    except StopIteration:
        pass  # written from an empty register: no rows
    except ValueError:
        raise UnusableInput(f"Het verborgen tabblad van '{name}' is beschadigd; asr-batch kan niet zien hoe de "
                            "rijen waren toen de werkmap werd geschreven.", FIX_EXPORT) from None
    return WorkbookFile(name, values.get(KEY_REGISTER, ""), values.get(KEY_IDENTITY, ""),
                        values.get(KEY_WRITTEN, ""), values.get(KEY_SHEET, SHEET), seen, {}, version=int(version))


def _read_visible(file: WorkbookFile, rows: list[list[object]]) -> None:
    from openpyxl.utils import get_column_letter

    header = [_text(v) for v in rows[0]] if rows else []
    editable = EDITABLE if file.version >= 2 else tuple(h for h in EDITABLE if h != LINKED)
    missing = [h for h in (CODE, *editable) if h not in header]
    if missing:
        raise UnusableInput(f"In '{file.name}' ontbreekt op tabblad '{file.sheet}' de kolom "
                            f"{', '.join(repr(h) for h in missing)} (in rij 1).", FIX_EXPORT)
    positions = {h: header.index(h) for h in (CODE, *editable)}
    file.letters = {h: get_column_letter(i + 1) for h, i in positions.items()}
    for number, row in enumerate(rows[1:], 2):
        cells = row + [""] * (len(header) - len(row))
        file.rows.append(SheetRow(number, _text(cells[positions[CODE]]),
                                  {h: cells[positions[h]] for h in editable}))
