"""Dutch words that depend on a number: "1 werkgever", "2 werkgevers", never "werkgever(s)". One helper for the
terminal, the reports and the page (the Jinja filter `aantal`)."""

from __future__ import annotations

from collections.abc import Sized

# The nouns asr-batch counts, singular to plural; a noun not listed takes an -s ("werkgever" -> "werkgevers").
PLURALS = {"rij": "rijen", "fout": "fouten", "waarschuwing": "waarschuwingen", "aanmelding": "aanmeldingen",
           "document": "documenten", "probleem": "problemen", "dag": "dagen", "bestand": "bestanden",
           "eerder document": "eerdere documenten", "argument": "argumenten", "kolom": "kolommen",
           "onverwacht argument": "onverwachte argumenten"}


def plural(noun: str) -> str:
    return PLURALS.get(noun, f"{noun}s")


def _number(n: int | str | Sized) -> int | str:
    """A number as given, as digits (a page's query string), or as the length of a collection."""
    if isinstance(n, str):
        return int(n) if n.isdecimal() else n
    return n if isinstance(n, int) else len(n)


def count(n: int | str | Sized, noun: str, many: str | None = None) -> str:
    """`n` (a number, or the length of a collection) with the noun in the right number: count(1, "werkgever") is
    "1 werkgever", count(2, "werkgever") "2 werkgevers"."""
    number = _number(n)
    return f"{number} {noun if number == 1 else many or plural(noun)}"


def word(n: int | str | Sized, noun: str, many: str | None = None) -> str:
    """Only the noun, in the number that `n` asks for (for "de 2 werkgevers" or a verb: word(n, "wacht",
    "wachten"))."""
    return noun if _number(n) == 1 else many or plural(noun)
