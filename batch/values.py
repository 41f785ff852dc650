"""Value parsers: a raw cell value to the text a user sees, and that text to a field's normal form.

Everything here is pure and small, so Hypothesis can hammer it (tests/test_values.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

from batch.fields import JA, MAANDELIJKS, NEE, VIERWEKELIJKS, Kind


class CellKind(Enum):
    EMPTY = "empty"
    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    ERROR = "error"  # an Excel error value such as #N/A
    FORMULA_NO_VALUE = "formula_no_value"  # a formula whose result was never saved


@dataclass(frozen=True, slots=True)
class Cell:
    text: str | None  # what the user sees, trimmed; None when empty
    kind: CellKind
    integral: bool = True  # False for a number with decimals


EMPTY = Cell(None, CellKind.EMPTY)
FORMULA_NO_VALUE = Cell(None, CellKind.FORMULA_NO_VALUE)

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#BUSY!"})
# str.strip() knows the Unicode spaces (NBSP included) but not these invisible ones.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def clean_text(text: str) -> str:
    return text.strip().strip(_INVISIBLE).strip()


def to_cell(raw: object) -> Cell:
    """A raw value from the workbook reader to what the user sees in Excel."""
    if raw is None:
        return EMPTY
    if isinstance(raw, str):
        text = clean_text(raw)
        if not text:
            return EMPTY
        if text in EXCEL_ERRORS:
            return Cell(text, CellKind.ERROR)
        return Cell(text, CellKind.TEXT)
    if isinstance(raw, bool):
        return Cell("WAAR" if raw else "ONWAAR", CellKind.BOOL)
    if isinstance(raw, int):
        return Cell(str(raw), CellKind.NUMBER)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return Cell("#NUM!", CellKind.ERROR)
        if raw.is_integer() and abs(raw) < 1e21:
            return Cell(str(int(raw)), CellKind.NUMBER)
        return Cell(f"{raw:.15g}".replace(".", ","), CellKind.NUMBER, integral=False)
    if isinstance(raw, datetime):
        shown = raw.strftime("%d-%m-%Y") if raw.time() == time() else raw.strftime("%d-%m-%Y %H:%M")
        return Cell(shown, CellKind.DATE)
    if isinstance(raw, date):
        return Cell(raw.strftime("%d-%m-%Y"), CellKind.DATE)
    if isinstance(raw, time):
        return Cell(raw.strftime("%H:%M"), CellKind.DATE)
    if isinstance(raw, timedelta):
        return Cell(str(raw), CellKind.DATE)
    text = clean_text(str(raw))
    return Cell(text, CellKind.TEXT) if text else EMPTY


# --- field parsers ------------------------------------------------------------------------------

_JA = {"ja", "j", "yes", "y", "true", "waar", "1", "x", "wel"}
_NEE = {"nee", "n", "no", "false", "onwaar", "0", "geen", "niet"}
_WORD = re.compile(r"[^0-9a-z]+")


def parse_ja_nee(text: str) -> str:
    """'j', 'YES', 'true', '1' ... to Ja/Nee; anything else is returned unchanged (and then rejected)."""
    key = _WORD.sub("", text.casefold())
    if key in _JA:
        return JA
    if key in _NEE:
        return NEE
    return text


_MONTHLY = re.compile(r"(per|elke|iedere|1)?(maand|mnd|maandelijks?|month|monthly)(verloning|loon)?|12(perioden)?")
_FOUR_WEEKLY = re.compile(
    r"(per|elke|iedere|om|eens?per)?(4|vier)(wk|wkn|weken|wekelijks?e?|weeks?|weekly)(verloning|loon)?"
    r"|fourweekly|every4weeks|13(perioden)?|4wekenperiode|periodevan4weken"
)
# Rhythms a.s.r. does not offer: recognised so the message can say so instead of "unknown".
_UNSUPPORTED = re.compile(r"week|wek|kwartaal|jaar|dag|halfmaand|tweemaand|2maand|quarter|year|annual|daily")


class Verloning(Enum):
    OK = "ok"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


def parse_verloning(text: str) -> tuple[str, Verloning]:
    """The usual Dutch ways to say monthly or every four weeks; weekly/quarterly are recognised as such, and a
    misspelt monthly or four-weekly ("4-weekelijks") is unknown, so that its message can name the nearest value."""
    key = _WORD.sub("", text.casefold())
    if _MONTHLY.fullmatch(key):
        return MAANDELIJKS, Verloning.OK
    if _FOUR_WEEKLY.fullmatch(key):
        return VIERWEKELIJKS, Verloning.OK
    if nearest_choice(text, Kind.VERLONING) is not None:
        return text, Verloning.UNKNOWN
    if _UNSUPPORTED.search(key):
        return text, Verloning.UNSUPPORTED
    return text, Verloning.UNKNOWN


# Spellings a typo is measured against, by the value each stands for. A close one must also have the same digits
# ("2-wekelijks" is no misspelt "4-wekelijks"), and must stand out: "ja/nee" is close to both and gets no guess.
_SPELLINGS = {
    Kind.JA_NEE: {"ja": JA, "nee": NEE},
    Kind.VERLONING: {"maandelijks": MAANDELIJKS, "4wekelijks": VIERWEKELIJKS, "vierwekelijks": VIERWEKELIJKS},
}
_CUTOFF = {Kind.JA_NEE: 0.75, Kind.VERLONING: 0.85}
_RIVAL = {Kind.JA_NEE: 0.5, Kind.VERLONING: 0.75}  # another value this close makes the guess a toss-up


def nearest_choice(text: str, kind: Kind) -> str | None:
    """The allowed value `text` is a misspelling of ("maandeljks": Maandelijks), or None."""
    import difflib

    spellings = _SPELLINGS.get(kind)
    key = _WORD.sub("", text.casefold())
    if not spellings or not key:
        return None
    digits = [c for c in key if c.isdigit()]
    close = {spellings[s] for s in difflib.get_close_matches(key, spellings, n=3, cutoff=_CUTOFF[kind])
             if [c for c in s if c.isdigit()] == digits}
    rivals = {spellings[s] for s in difflib.get_close_matches(key, spellings, n=3, cutoff=_RIVAL[kind])}
    return close.pop() if len(close) == 1 and rivals == close else None


# What people type between two DGAs instead of ";", as the message names it.
SEPARATORS = {" en ": "' en '", "/": "een schuine streep (/)", "&": "een ampersand (&)", "+": "een plusteken (+)",
              ",": "een komma (,)", " ": "een spatie"}


def typed_separator(text: str) -> tuple[str, int] | None:
    """The separator a single value seems to hold several parts with ("J. de Vries en M. Öztürk": ' en ', 2), or
    None. A space only counts between numbers: a name has spaces of its own."""
    for separator in SEPARATORS:
        parts = [p for p in text.split(separator) if p.strip()]
        if len(parts) > 1 and (separator != " " or all(p.isdigit() for p in parts)):
            return separator, len(parts)
    return None


_LIST_SEPARATORS = re.compile(r"[;\n\r]+")
_NUMBER_SEPARATORS = re.compile(r"[;,/\n\r]+")


def split_names(text: str) -> list[str]:
    return [p for p in (clean_text(part) for part in _LIST_SEPARATORS.split(text)) if p]


def split_numbers(text: str) -> list[str]:
    return [p for p in (clean_text(part) for part in _NUMBER_SEPARATORS.split(text)) if p]


_ID_FILLER = re.compile(r"[\s.\-]+")


def compact_identifier(text: str) -> str:
    """KvK and loonheffingennummer are often typed with dots or spaces (1234.56.782.L.01)."""
    return _ID_FILLER.sub("", text).upper()


def elfproef(digits: str) -> bool:
    """The 11-test of a BSN/RSIN, which is what the 9 digits of a loonheffingennummer are:
    weights 9..2 and -1 for the last digit, the sum divisible by 11 and not 0."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    return total % 11 == 0 and total != 0


def looks_like_bsn(digits: str) -> bool:
    """A medewerkersnummer of 9 digits that passes the 11-test could be a BSN."""
    return elfproef(digits)


@dataclass(frozen=True, slots=True)
class Parsed:
    value: str | None
    code: str | None = None  # a catalogue code when the cell itself is unusable
    params: tuple[tuple[str, str], ...] = ()


_EXPECTED = {
    Kind.JA_NEE: "Ja of Nee",
    Kind.VERLONING: "Maandelijks of 4-wekelijks",
    Kind.DIGITS: "een nummer (alleen cijfers)",
    Kind.NUMBERS: "een of meer medewerkersnummers",
    Kind.KVK: "een KvK-nummer van 8 cijfers",
    Kind.LOONHEFFINGENNUMMER: "een loonheffingennummer zoals 123456782L01",
    Kind.TOKEN: "de waarde uit Exact",
}


# A date as a spreadsheet shows it once it has turned typed text into one (1-3-2026, 01/03/26, 2026-03-01),
# perhaps with a time: text like this in a KvK-nummer is a date that was pasted or converted, not a number.
_DATE_TEXT = re.compile(r"(?P<d>[0-9]{1,2})[-/.](?P<m>[0-9]{1,2})[-/.](?:[0-9]{4}|[0-9]{2})"
                        r"|[0-9]{4}-(?P<m2>[0-9]{1,2})-(?P<d2>[0-9]{1,2})")
_TIME_TEXT = re.compile(r"(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?")


def looks_like_date(text: str) -> bool:
    """Whether text reads as a calendar date (day 1-31, month 1-12), as a spreadsheet writes one."""
    found = _DATE_TEXT.match(text)
    if found is None or not _TIME_TEXT.fullmatch(text[found.end():]):
        return False
    day, month = (found["d"], found["m"]) if found["d"] else (found["d2"], found["m2"])
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12


# Codes a spreadsheet stores as a number when the column is not text: 0087 arrives as 87.
_CODE_KINDS = frozenset({Kind.DIGITS, Kind.NUMBERS})
# Free text a spreadsheet may have turned into a date (Opmerkingen "1-4" becomes 1 April, a year added).
_FREE_TEXT_KINDS = frozenset({Kind.TEXT, Kind.NAMES})


def parse_cell(cell: Cell, kind: Kind) -> Parsed:
    """A cell to the field's normal form. Problems with the value's format are left to the schema;
    problems that make the cell unreadable as this kind of field (a date, a formula without result,
    an Excel error, a number with decimals) are reported here with their catalogue code, and so are the
    traces a spreadsheet leaves when it guessed a type (a code stored as a number, free text turned into
    a date): those with the value kept, as a warning."""
    if cell.kind is CellKind.EMPTY:
        return Parsed(None)
    if cell.kind is CellKind.FORMULA_NO_VALUE:
        return Parsed(None, "formule_zonder_waarde")
    if cell.kind is CellKind.ERROR:
        return Parsed(None, "excel_fout")
    text = cell.text or ""
    if cell.kind is CellKind.DATE and kind in _EXPECTED:
        return Parsed(None, "datum", (("expected", _EXPECTED[kind]),))
    if cell.kind is CellKind.DATE and kind in _FREE_TEXT_KINDS:
        return Parsed(text, "datum_in_tekst")
    if cell.kind is CellKind.NUMBER and not cell.integral and kind in {Kind.DIGITS, Kind.KVK, Kind.NUMBERS}:
        return Parsed(None, "getal_met_decimalen")
    if cell.kind is CellKind.NUMBER and kind in _CODE_KINDS:
        return Parsed(text, "getal_zonder_voorloopnullen")
    if kind in {Kind.KVK, Kind.LOONHEFFINGENNUMMER} and looks_like_date(text):
        return Parsed(None, "datum", (("expected", _EXPECTED[kind]),))
    if kind is Kind.JA_NEE:
        if cell.kind is CellKind.BOOL:
            return Parsed(JA if text == "WAAR" else NEE)
        return Parsed(parse_ja_nee(text))
    if kind is Kind.VERLONING:
        value, outcome = parse_verloning(text)
        if outcome is Verloning.UNSUPPORTED:
            return Parsed(None, "verloning_niet_ondersteund")
        return Parsed(value)
    if kind is Kind.NAMES:
        return Parsed("; ".join(split_names(text)) or None)
    if kind is Kind.NUMBERS:
        return Parsed("; ".join(split_numbers(text)) or None)
    if kind in {Kind.KVK, Kind.LOONHEFFINGENNUMMER}:
        return Parsed(compact_identifier(text) or None)
    return Parsed(text)


_VERBATIM_KINDS = frozenset({Kind.TEXT, Kind.DIGITS, Kind.TOKEN})
_MEMO_KINDS = frozenset({Kind.JA_NEE, Kind.VERLONING})  # few distinct answers per column


def _fast_text(text: str, kind: Kind) -> str | None:
    """The normal form of a plain text cell when no parsing is needed, else None (take the slow path)."""
    if text[0] == "#":
        return None
    if kind in _VERBATIM_KINDS:
        return text
    if kind in (Kind.KVK, Kind.LOONHEFFINGENNUMMER):
        return text.upper() if text.isascii() and text.isalnum() else None
    if kind is Kind.NAMES:
        return text if ";" not in text and "\n" not in text and "\r" not in text else None
    if kind is Kind.NUMBERS:
        return text if text.isascii() and text.isdigit() else None
    return None


def is_blank(raw: object) -> bool:
    """Whether a raw value is what the user sees as an empty cell."""
    if raw is None:
        return True
    return type(raw) is str and not clean_text(raw)


def parse_column(raw: Sequence[object], kind: Kind) -> tuple[list[str | None], list[tuple[int, Parsed]]]:
    """A whole column of raw values to normal form, plus (position, Parsed) for every unreadable cell.

    Same result as `parse_cell(to_cell(v), kind)` for each value, but text cells (nearly all of them)
    take a fast path, and the few distinct answers of a Ja/Nee or Verloning column are parsed once."""
    values: list[str | None] = []
    problems: list[tuple[int, Parsed]] = []
    memo: dict[str, Parsed] | None = {} if kind in _MEMO_KINDS else None
    for position, value in enumerate(raw):
        if type(value) is str:
            text = value.strip()
            if text and (text[0] in _INVISIBLE or text[-1] in _INVISIBLE):
                text = clean_text(text)
            if not text:
                values.append(None)
                continue
            if memo is None:
                fast = _fast_text(text, kind)
                if fast is not None:
                    values.append(fast)
                    continue
                parsed = parse_cell(to_cell(text), kind)
            else:
                parsed = memo.get(text) or memo.setdefault(text, parse_cell(to_cell(text), kind))
        elif isinstance(value, Cell):
            parsed = parse_cell(value, kind)
        else:
            parsed = parse_cell(to_cell(value), kind)
        values.append(parsed.value)
        if parsed.code:
            problems.append((position, parsed))
    return values, problems
