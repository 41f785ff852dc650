"""The dates a clerk gives when marking a werkgever (--on, --first-exchange), as Dutch people type them."""

from __future__ import annotations

import re
from datetime import date

from batch.errors import UnusableInput


def parse_date(text: str, option: str) -> date:
    """A date as Dutch people type it: 2026-12-15 or 15-12-2026 (also with / or .)."""
    value = text.strip()
    for pattern in (r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"):
        found = re.fullmatch(pattern, value)
        if found:
            numbers = [int(n) for n in found.groups()]
            year, month, day = numbers if len(found.group(1)) == 4 else numbers[::-1]
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise UnusableInput(f"De datum bij {option} ('{text}') is niet te lezen. Er is niets gewijzigd.",
                        "Schrijf de datum als 2026-12-15 of 15-12-2026.")
