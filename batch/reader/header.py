"""The header row: where it is on a sheet, which field each of its columns holds, and what is missing."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from batch.catalogue import Issue, make_issue
from batch.errors import UnusableInput
from batch.fields import FIELDS, match_header, normalise_header
from batch.reader.parts import column_letter
from batch.values import clean_text, to_cell
from batch.words import word

HEADER_SCAN_ROWS = 50
FIX_TEMPLATE = "Maak een lege werkmap met de juiste indeling met de opdracht: asr-batch template werkgevers.xlsx"


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # as it stands in the file
    index: int  # 0-based
    letter: str


def _header_score(row: list[object]) -> int:
    keys = {match_header(v) for v in row if isinstance(v, str) and v.strip()}
    keys.discard(None)
    return len(keys)


def find_header(rows: list[list[object]]) -> tuple[int, int]:
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


def map_columns(header: list[object], header_row: int) -> tuple[dict[str, Column], list[Issue]]:
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


def missing_columns_message(sheet: str, header_row: int, columns: dict[str, Column],
                            header: list[object]) -> UnusableInput:
    missing = [f.header for f in FIELDS if f.column_required and f.key not in columns]
    found = [str(to_cell(v).text) for v in header if to_cell(v).text]
    names = ", ".join(f"'{m}'" for m in missing)
    noun = "Kolom" if len(missing) == 1 else "Kolommen"
    verb = "ontbreekt" if len(missing) == 1 else "ontbreken"
    return UnusableInput(
        f"{noun} {names} {verb} op tabblad '{sheet}' (koprij {header_row}). "
        f"Gevonden koppen: {', '.join(repr(f) for f in found) or 'geen'}.",
        f"Voeg de ontbrekende {word(missing, 'kolom')} toe, of geef een bestaande kolom de juiste kop. {FIX_TEMPLATE}",
    )
