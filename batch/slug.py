"""Safe file-name slugs: ASCII, lowercase, `[a-z0-9-]` only, never a path and never a reserved Windows name."""

from __future__ import annotations

import re
import unicodedata

from batch.system import RESERVED_NAMES

MAX_SLUG_LENGTH = 60

# Letters that NFKD does not decompose into a base letter plus accents.
_TRANSLITERATE = str.maketrans({
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ħ": "h", "Ħ": "H",
    "ı": "i", "ŀ": "l", "Ŀ": "L", "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "þ": "th", "Þ": "TH", "ŧ": "t", "Ŧ": "T", "&": " en ", "@": " at ", "€": " euro ",
})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str | None, *, fallback: str = "werkgever", max_length: int = MAX_SLUG_LENGTH) -> str:
    """`text` as a file-name-safe slug, e.g. "Bakkerij Ünïcödé B.V." -> "bakkerij-unicode-b-v".

    Only `[a-z0-9-]` survives, so separators, `..`, drive letters and control characters cannot; dashes
    never lead, trail or repeat; the result is at most `max_length` characters; an empty result becomes
    `fallback` and a Windows device name (con, aux, com1, ...) gets `fallback` in front.
    """
    translated = (text or "").translate(_TRANSLITERATE)
    if translated.isascii():  # most names: nothing to decompose
        ascii_text = translated.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", translated)
        ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    slug = slug[:max_length].rstrip("-")
    if not slug:
        return fallback
    if slug.upper() in RESERVED_NAMES:  # a device name on Windows, whatever the extension
        slug = f"{fallback}-{slug}"[:max_length]
    return slug
