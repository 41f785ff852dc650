"""Cells calamine reads as empty but are not -- Excel error values (#N/A...) and formulas whose result was
never saved -- found by scanning the sheet's XML."""

from __future__ import annotations

import re

from batch.reader.parts import CELL_TYPE, FORMULA, column_index
from batch.values import FORMULA_NO_VALUE, Cell, CellKind

_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)


def special_cells(xml: bytes | None) -> dict[tuple[int, int], Cell]:
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
        kind = CELL_TYPE.search(attrs)
        cell_type = kind.group(1) if kind else b"n"
        value = _VALUE.search(inner)
        position = (int(ref.group(2)), column_index(ref.group(1).decode()))
        if cell_type == b"e" and value is not None:
            found[position] = Cell(value.group(1).decode("utf-8", "replace").strip() or "#N/A", CellKind.ERROR)
        elif FORMULA.search(inner) and (value is None or (not value.group(1) and cell_type != b"str")):
            found[position] = FORMULA_NO_VALUE
    return found
