"""The one redaction point: every text that leaves the process for a terminal, log or report passes here.

The reader remembers every Client Secret it sees; `redact` replaces each occurrence by a mask. Documents
for a.s.r. are the only output that bypasses it, because a.s.r. needs the secret.
"""

from __future__ import annotations

MASK = "********"
_secrets: set[str] = set()


def remember(value: str | None) -> None:
    """Mark a value as secret. Very short values are masked too: a secret is a secret."""
    if value and value.strip():
        _secrets.add(value.strip())


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_secret(secret: str | None) -> str | None:
    """The secret as a document shows it under --mask-secrets: only its last 4 characters."""
    if not secret:
        return secret
    return "•" * 8 + secret[-4:] if len(secret) > 4 else "•" * 8


def forget_all() -> None:
    """For tests: start with no known secrets."""
    _secrets.clear()
