"""Which step-2 fields changed since the last submission (or confirmation): what the clerk tells a.s.r.

Per field a keyed fingerprint (HMAC-SHA256 with the register's key, as `records.fingerprint` does for the whole),
never the value: the register never holds a Client ID, a Client Secret, a DGA's name or number. 13e maand and
verloning are neither secret nor personal: their values are kept as they are, so that a change reads "13e maand:
Nee → Ja". Both are kept for the latest workbook and at the last submission or confirmation (JSON text columns).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from batch.fields import FIELDS
from batch.model import RowResult

# The step-2 fields, in the field table's order, and the two whose values may be kept.
TRACKED = ("client_id", "client_secret", "dga", "dga_naam", "dga_medewerkersnummer", "dertiende_maand", "verloning")
PLAIN = ("dertiende_maand", "verloning")
LABELS = {f.key: f.header for f in FIELDS if f.key in TRACKED}
UNKNOWN = "onbekend"


def _value(row: RowResult, key: str) -> str | None:
    if key == "dga_naam" and row.dgas:
        return "\x1f".join(d.naam for d in row.dgas)
    if key == "dga_medewerkersnummer" and row.dgas:
        return "\x1f".join(d.medewerkersnummer for d in row.dgas)
    return row.record.get(key)


def field_prints(key: bytes, row: RowResult) -> str:
    """The per-field fingerprints of a row's step-2 data, as the JSON text the register keeps. Each HMAC covers the
    field's key too, so that two fields with the same value do not share a fingerprint."""
    prints = {}
    for name in TRACKED:
        value = _value(row, name)
        payload = f"{name}\x1e{'' if value is None else value}\x1e{value is None}".encode()
        prints[name] = hmac.digest(key, payload, "sha256").hex()
    return json.dumps(prints, sort_keys=True)


def plain_values(row: RowResult) -> str:
    """13e maand and verloning as the workbook holds them (JSON text)."""
    return json.dumps({name: row.record.get(name) for name in PLAIN}, sort_keys=True, ensure_ascii=False)


def _loaded(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        loaded = json.loads(text)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def changed_fields(columns: dict[str, Any]) -> tuple[list[str] | None, dict[str, tuple[str | None, str | None]]]:
    """What differs between the latest workbook and the last submission or confirmation, from a werkgever's
    columns: the field keys in the field table's order (None: unknown, the register kept no per-field
    fingerprints then: recorded before schema 3), and the old and new values of 13e maand and verloning among
    them, where both are known."""
    if columns.get("marked_fingerprint") is None or columns.get("fingerprint") == columns["marked_fingerprint"]:
        return [], {}
    now, then = _loaded(columns.get("field_prints")), _loaded(columns.get("marked_field_prints"))
    if now is None or then is None:
        return None, {}
    fields = [name for name in TRACKED if now.get(name) != then.get(name)]
    values_now = _loaded(columns.get("plain_values")) or {}
    values_then = _loaded(columns.get("marked_plain_values")) or {}
    values = {name: (values_then.get(name), values_now.get(name)) for name in PLAIN
              if name in fields and name in values_now and name in values_then}
    return fields, values


def describe(fields: list[str] | None, values: dict[str, tuple[str | None, str | None]]) -> str:
    """In Dutch, for a table: "Client Secret, 13e maand: Nee → Ja"; "onbekend" when unknown; "" when nothing."""
    if fields is None:
        return UNKNOWN
    parts = []
    for name in fields:
        if name in values:
            old, new = values[name]
            parts.append(f"{LABELS[name]}: {old or 'leeg'} → {new or 'leeg'}")
        else:
            parts.append(LABELS[name])
    return ", ".join(parts)
