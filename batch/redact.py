"""The one redaction point: every text that leaves the process for a terminal, log or report passes here.

The reader remembers every Client Secret it sees; `redact` replaces each occurrence by a mask. Documents
for a.s.r. are the only output that bypasses it, because a.s.r. needs the secret.

A few secrets are searched with `str.replace` (C speed). Thousands of them (one Web API user per
werkgever) would make that quadratic, so then the text is cut into runs of characters that occur in
secrets, and only runs at least as long as the shortest secret are searched, window by window, in a set.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from batch.fields import is_placeholder

MIN_LENGTH = 4  # shorter values would mask common letters and words in every report

MASK = "********"
FEW = 32  # up to this many secrets, plain replacement is fastest

_secrets: set[str] = set()
# `asr-batch serve` renders pages in some threads while an upload, in another, remembers new secrets: a set must
# not grow while it is iterated.
_lock = threading.Lock()


@dataclass(frozen=True)
class _Index:
    runs: re.Pattern[str]  # runs of characters that occur in some secret
    lengths: tuple[int, ...]  # distinct secret lengths, longest first
    shortest: int


_index: _Index | None = None


def remember(value: str | None) -> None:
    """Mark a value as secret."""
    global _index
    if value and len(value.strip()) >= MIN_LENGTH and not is_placeholder(value.strip()):
        secret = value.strip()
        if secret not in _secrets:
            with _lock:
                _secrets.add(secret)
                _index = None


def _build_index() -> _Index:
    characters = "".join(sorted({c for s in _secrets for c in s}))
    lengths = tuple(sorted({len(s) for s in _secrets}, reverse=True))
    return _Index(re.compile(f"[{re.escape(characters)}]+"), lengths, lengths[-1])


def _redact_run(run: str, index: _Index) -> str:
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(run):
        for length in index.lengths:  # longest first, so a secret containing another is masked whole
            if run[position:position + length] in _secrets:
                spans.append((position, position + length))
                position += length
                break
        else:
            position += 1
    if not spans:
        return run
    pieces, last = [], 0
    for start, end in spans:
        pieces += [run[last:start], MASK]
        last = end
    return "".join(pieces) + run[last:]


def redact(text: str) -> str:
    global _index
    if not _secrets:
        return text
    if len(_secrets) <= FEW:
        with _lock:
            ordered = sorted(_secrets, key=len, reverse=True)
        for secret in ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
    index = _index
    if index is None:
        with _lock:
            index = _index = _build_index()
    return index.runs.sub(
        lambda m: _redact_run(m.group(), index) if len(m.group()) >= index.shortest else m.group(), text)


def known_secrets() -> list[str]:
    """Every secret remembered so far: a process that read a workbook for another (serve/apart.py) hands them over."""
    with _lock:
        return sorted(_secrets)


def forget_all() -> None:
    """For tests: start with no known secrets."""
    global _index
    with _lock:
        _secrets.clear()
        _index = None
