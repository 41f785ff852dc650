"""Property tests for the value parsers in batch/values.py: what people really type, hammered by Hypothesis."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from batch.fields import JA, MAANDELIJKS, NEE, VIERWEKELIJKS
from batch.values import (
    CellKind,
    Verloning,
    compact_identifier,
    elfproef,
    parse_ja_nee,
    parse_verloning,
    split_names,
    split_numbers,
    to_cell,
)

# What PRODUCT.md promises for Ja/Nee: j, n, yes, no, true, false, 1, 0 in any case (and the words themselves,
# and Excel's WAAR/ONWAAR).
JA_WORDS = ("ja", "j", "yes", "true", "1", "waar")
NEE_WORDS = ("nee", "n", "no", "false", "0", "onwaar")
PADDING = st.text(alphabet=" \t\u00a0\u2007\u202f\n", max_size=4)


@st.composite
def any_case(draw: st.DrawFn, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if flip else c for c, flip in zip(word, flips, strict=True))


@st.composite
def padded_variant(draw: st.DrawFn, words: tuple[str, ...]) -> str:
    word = draw(st.sampled_from(words))
    return draw(PADDING) + draw(any_case(word)) + draw(PADDING)


# --- Ja / Nee -------------------------------------------------------------------------------------

@given(padded_variant(JA_WORDS))
def test_every_case_and_whitespace_variant_of_a_ja_word_is_ja(typed: str) -> None:
    assert parse_ja_nee(typed) == JA


@given(padded_variant(NEE_WORDS))
def test_every_case_and_whitespace_variant_of_a_nee_word_is_nee(typed: str) -> None:
    assert parse_ja_nee(typed) == NEE


@given(st.text())
@example("misschien")
@example("")
@example("ja nee")
def test_parse_ja_nee_returns_ja_nee_or_the_input_unchanged(typed: str) -> None:
    assert parse_ja_nee(typed) in (JA, NEE, typed)


@given(st.sampled_from([JA, NEE]))
def test_parse_ja_nee_is_idempotent_on_its_outputs(canonical: str) -> None:
    assert parse_ja_nee(parse_ja_nee(canonical)) == canonical


# --- Verloning ------------------------------------------------------------------------------------

MONTHLY = ("maand", "per maand", "maandelijks", "Maandelijks", "elke maand", "per mnd")
FOUR_WEEKLY = ("4 weken", "per 4 weken", "vierwekelijks", "4-wekelijks", "4 wekelijks", "vier weken",
               "elke 4 weken")


@given(padded_variant(MONTHLY))
def test_monthly_variants_are_maandelijks(typed: str) -> None:
    assert parse_verloning(typed) == (MAANDELIJKS, Verloning.OK)


@given(padded_variant(FOUR_WEEKLY))
def test_four_weekly_variants_are_4_wekelijks(typed: str) -> None:
    assert parse_verloning(typed) == (VIERWEKELIJKS, Verloning.OK)


@given(st.text())
@example("4 weken")
def test_parse_verloning_is_idempotent_on_its_canonical_outputs(typed: str) -> None:
    value, outcome = parse_verloning(typed)
    if outcome is Verloning.OK:
        assert value in (MAANDELIJKS, VIERWEKELIJKS)
        assert parse_verloning(value) == (value, Verloning.OK)
    else:
        assert value == typed


@pytest.mark.parametrize("canonical", [MAANDELIJKS, VIERWEKELIJKS])
def test_canonical_verloning_reads_as_itself(canonical: str) -> None:
    assert parse_verloning(canonical) == (canonical, Verloning.OK)


def squashed(text: str) -> str:
    """The text as a matcher that ignores case, spacing and punctuation sees it."""
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


AROUND = st.text(alphabet="abcdeijklmnoprstuwz -/0123456789", max_size=12)


@given(AROUND, st.sampled_from(["kwartaal", "Kwartaal", "KWARTAAL", "per kwartaal"]), AROUND)
def test_quarterly_is_never_a_supported_verloning(before: str, word: str, after: str) -> None:
    typed = before + word + after
    assert parse_verloning(typed)[1] is not Verloning.OK


@given(AROUND, st.sampled_from(["week", "Week", "wekelijks", "per week", "weken", "Weekly"]), AROUND)
def test_weekly_without_four_is_never_a_supported_verloning(before: str, word: str, after: str) -> None:
    typed = before + word + after
    key = squashed(typed)
    if "4" in key or "vier" in key or "four" in key:
        return  # "4 weken", "vierwekelijks", "four weekly" are the supported 4-weekly rhythm
    assert parse_verloning(typed)[1] is not Verloning.OK


@pytest.mark.parametrize("typed", ["wekelijks", "per week", "kwartaal", "2-wekelijks", "halfmaandelijks",
                                   "jaarlijks"])
def test_other_rhythms_are_recognised_as_unsupported(typed: str) -> None:
    assert parse_verloning(typed) == (typed, Verloning.UNSUPPORTED)


# --- the 11-test ----------------------------------------------------------------------------------

def reference_elfproef(text: str) -> bool:
    """The 11-test as the Belastingdienst describes it for a BSN/RSIN: 9 digits d1..d9,
    9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11 (and not all zeros)."""
    if len(text) != 9 or any(c not in "0123456789" for c in text):
        return False
    total = 0
    for position, char in enumerate(text):
        weight = 9 - position if position < 8 else -1
        total += weight * int(char)
    return total % 11 == 0 and total != 0


NINE_DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(st.one_of(NINE_DIGITS, st.text(max_size=12), st.text(alphabet="0123456789", max_size=11)))
@example("111222333")
@example("123456782")
@example("000000000")
@example("١٢٣٤٥٦٧٨٢")  # Arabic-Indic digits: isdigit() is true, but no employee number looks like that
@example("12345678\n")
def test_elfproef_agrees_with_a_reference_implementation(text: str) -> None:
    assert elfproef(text) == reference_elfproef(text)


@pytest.mark.parametrize(("digits", "passes"), [("111222333", True), ("123456782", True), ("123456781", False),
                                                ("000000000", False), ("12345678", False)])
def test_elfproef_known_numbers(digits: str, passes: bool) -> None:
    assert elfproef(digits) is passes


@given(NINE_DIGITS)
def test_exactly_one_last_digit_or_none_completes_eight_digits(digits: str) -> None:
    # d9 has weight -1, so exactly one residue works: at most one decimal digit passes.
    passing = [d for d in "0123456789" if elfproef(digits[:8] + d)]
    assert len(passing) <= 1


# --- to_cell --------------------------------------------------------------------------------------

RAW_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)


@given(RAW_VALUES)
def test_to_cell_never_raises_and_text_is_trimmed(raw: object) -> None:
    cell = to_cell(raw)
    assert (cell.text is None) == (cell.kind is CellKind.EMPTY)
    if cell.text is not None:
        assert cell.text == cell.text.strip()
        assert cell.text != ""


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_integral_floats_render_as_their_digits(number: int) -> None:
    cell = to_cell(float(number))
    assert cell.kind is CellKind.NUMBER and cell.integral
    assert cell.text == str(number)


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f.is_integer()))
@example(1001.0)
@example(-0.0)
@example(1e20)
def test_integral_floats_never_render_with_a_trailing_zero_decimal(number: float) -> None:
    text = to_cell(number).text or ""
    assert not text.endswith((".0", ",0"))


@given(st.integers())
def test_ints_render_as_their_digits(number: int) -> None:
    assert to_cell(number).text == str(number)


@given(st.booleans())
def test_bools_are_bool_cells_not_numbers(value: bool) -> None:
    cell = to_cell(value)
    assert cell.kind is CellKind.BOOL
    assert parse_ja_nee(cell.text or "") == (JA if value else NEE)


@given(st.one_of(st.dates(), st.datetimes()))
def test_dates_are_date_cells(value: date) -> None:
    assert to_cell(value).kind is CellKind.DATE


@given(PADDING)
def test_whitespace_only_text_is_empty(blank: str) -> None:
    assert to_cell(blank).kind is CellKind.EMPTY


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
def test_floats_with_decimals_are_marked_non_integral(number: float) -> None:
    cell = to_cell(number)
    assert cell.kind is CellKind.NUMBER and not cell.integral


def test_special_values() -> None:
    assert to_cell(math.nan).kind is CellKind.ERROR
    assert to_cell(" #N/A ").kind is CellKind.ERROR
    assert to_cell(datetime(2024, 12, 1)).text == "01-12-2024"
    assert to_cell(time(9, 30)).kind is CellKind.DATE
    assert to_cell(timedelta(hours=1)).kind is CellKind.DATE


# --- identifiers: KvK and loonheffingennummer -----------------------------------------------------

SEPARATORS = st.text(alphabet=" .-\t\u00a0", max_size=2)


@st.composite
def with_separators(draw: st.DrawFn, digits: str) -> str:
    return "".join(draw(SEPARATORS) + c for c in digits) + draw(SEPARATORS)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8).flatmap(
    lambda d: st.tuples(st.just(d), with_separators(d))))
def test_kvk_typed_with_dots_spaces_or_dashes_compacts_to_its_digits(pair: tuple[str, str]) -> None:
    digits, typed = pair
    assert compact_identifier(typed) == digits


@given(st.text(alphabet="0123456789Ll .-\t\u00a0abcxyz", max_size=20))
def test_compact_identifier_is_idempotent_and_leaves_no_filler(typed: str) -> None:
    compact = compact_identifier(typed)
    assert compact_identifier(compact) == compact
    assert not re.search(r"[\s.\-]", compact)
    assert compact == compact.upper()


def test_loonheffingennummer_typed_loosely_compacts() -> None:
    assert compact_identifier("1234.56.782.l.01") == "123456782L01"
    assert compact_identifier(" 123456782 L 01 ") == "123456782L01"


# --- lists of DGA names and numbers ---------------------------------------------------------------

ITEM = st.text(alphabet="abcdeéöüł.' 0123456789\u00a0\t", max_size=10)


@given(st.lists(ITEM, max_size=6), st.lists(st.sampled_from([";", "; ", "\n", ";;", " ;\r\n"]), min_size=6,
                                             max_size=6))
def test_split_names_drops_empties_and_trims(items: list[str], separators: list[str]) -> None:
    typed = "".join(item + sep for item, sep in zip(items, separators, strict=False))
    names = split_names(typed)
    assert names == [item.strip() for item in items if item.strip()]


@given(st.lists(st.text(alphabet="0123456789 ", max_size=6), max_size=6),
       st.lists(st.sampled_from([";", ",", "/", "\n", "; ", " , ", ";;"]), min_size=6, max_size=6))
def test_split_numbers_drops_empties_and_trims(items: list[str], separators: list[str]) -> None:
    typed = "".join(item + sep for item, sep in zip(items, separators, strict=False))
    numbers = split_numbers(typed)
    assert numbers == [item.strip() for item in items if item.strip()]
    assert all(n and n == n.strip() for n in numbers)


def test_split_names_keeps_a_comma_inside_a_name() -> None:
    assert split_names("Vries, J. de; Öztürk, M.") == ["Vries, J. de", "Öztürk, M."]
