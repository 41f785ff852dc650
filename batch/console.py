"""Writing to a console or file that cannot hold every character (issue 26).

Werkgever names and workbook cells may hold any character (Ł, “, an emoji), while stdout may be a cp1252 file on
Windows or a console set to another code page. Python's stdout then raises UnicodeEncodeError on the first such
character; stderr already falls back to backslash escapes. The choices:

- Text (the summary, status, messages) keeps the encoding Python chose, so that a redirected file opens right in
  the office's other Windows programs; a character that encoding lacks becomes `?` instead of a crash. UTF-8 is
  one setting away (PYTHONUTF8=1). An ASCII stream (a POSIX "C" locale) is written as UTF-8 by click already.
- JSON is data, so it must come through unchanged: when stdout is not UTF-8 every non-ASCII character is written
  as a JSON escape (\\u0141), which is valid and the same data in every encoding.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from typing import TextIO

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _is_utf(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    try:
        return encoding is not None and codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def forgive_unencodable() -> None:
    """A character stdout or stderr cannot encode prints as `?` rather than ending the command in a traceback.

    Only a strict stream is changed: Python's own fallbacks (backslashreplace, surrogateescape) lose nothing.
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is None or _is_utf(stream) or getattr(stream, "errors", None) != "strict":
            continue
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def json_for_stdout(text: str) -> str:
    """`text`, JSON made with ensure_ascii=False (and redacted), as stdout can carry it without changing the data."""
    if _is_utf(sys.stdout):
        return text
    return _NON_ASCII.sub(lambda found: json.dumps(found.group())[1:-1], text)
