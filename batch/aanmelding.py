"""What a registration document says: its data, built by one function for both media.

`document_data` gives plain data (str, bool, int, None, and lists, dicts and `Line`s of them). aanmelding.html
renders it with Jinja2 (render.py) and aanmelding.typ typesets it as PDF from `as_json` (pdf.py), so the two
documents cannot drift apart: they carry the same values, in the same order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from batch.fields import FIELDS, FIELDS_BY_KEY, JA, OFFICE_FIELDS
from batch.model import Dga, Office, Result, RowResult

MASK = "••••••••"
MASK_SHOWS_LAST_FROM = 8  # a shorter secret is masked whole: its last 4 characters would be half of it

_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december")

# The order and wording of step 2 of the a.s.r. manual ("Aanleveren gegevens werkgever aan a.s.r.").
_STEP2_BEFORE_DGAS = ("client_id", "client_secret", "werkgeverscode", "dga")
_STEP2_AFTER_DGAS = ("dertiende_maand", "verloning")
_EXTRA_FIELDS = ("kvk_nummer", "loonheffingennummer", "opmerkingen")
_OFFICE_PUBLIC = tuple(f for f in OFFICE_FIELDS if not f.secret and f.default_for is None)
_MONOSPACED = frozenset({"client_id", "client_secret"})  # identifiers: set in a monospaced font
# Whitespace that the two media would show differently: a tab, vertical tab, form feed and the Unicode line and
# paragraph separators become a space; a carriage return a line break (both media show line breaks).
_ODD_SPACE = re.compile(r"[\t\v\f\u2028\u2029]|\r\n?")


def _same_in_both(value: Any) -> Any:
    if not isinstance(value, str) or value.isprintable() or not _ODD_SPACE.search(value):  # isprintable: fast
        return value
    return _ODD_SPACE.sub(lambda m: "\n" if m.group().startswith("\r") else " ", value)

# The keys of document_data, which the templates may use (aanmelding.html also gets `medium`).
DOCUMENT_KEYS = ("titel", "werkgever", "dgas", "gegevens", "aanvullend", "werkgever_gegevens", "kantoor",
                 "kantoor_gegevens", "secret_gemaskeerd", "bron", "gegenereerd_op", "versie")


def mask_secret(value: str | None) -> str:
    """The secret as a document shows it with --mask-secrets: its last 4 characters only."""
    if not value:
        return ""
    return MASK + value[-4:] if len(value) >= MASK_SHOWS_LAST_FROM else MASK


def dutch_datetime(moment: datetime) -> str:
    """29 november 2026, 07:22"""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"


class Line(NamedTuple):
    """One labelled value of a document (a "regel"). A named tuple: Jinja2 reads attributes fastest, and the
    built-in HTML is rendered from it for every row (render.py)."""

    sleutel: str
    label: str
    waarde: Any
    kopieer: bool  # gets a copy button
    id: str
    sub: bool  # a DGA's line, under "DGA in verloning"
    code: bool  # an identifier: set in a monospaced font
    klasse: str  # the HTML's CSS class for the value


def _line(key: str, label: str, value: Any, *, copy: bool = True, sub: bool = False) -> Line:
    code = key in _MONOSPACED
    return Line(key, label, value, copy and bool(value), f"w-{key.replace('_', '-')}", sub, code,
                "waarde code" if code else "waarde")


def _dgas(row: RowResult) -> list[Dga]:
    if row.dgas or row.record.get("dga") != JA:
        return list(row.dgas)
    # Defensive: rebuild from the record when the reader left `dgas` empty.
    names = [n.strip() for n in (row.record.get("dga_naam") or "").split(";") if n.strip()]
    numbers = [n.strip() for n in (row.record.get("dga_medewerkersnummer") or "").split(";") if n.strip()]
    return [Dga(naam, nummer) for naam, nummer in zip(names, numbers, strict=False)]


def _office(office: Office) -> dict[str, str | None]:
    return {f.key: office.get(f.key) for f in _OFFICE_PUBLIC}


_run_cache: dict[int, dict[str, Any]] = {}


def _run_constants(result: Result) -> dict[str, Any]:
    """The parts of a document that are the same for every row of a run, built once per run."""
    cached = _run_cache.get(id(result))
    if cached is None or cached["_result"] is not result:
        kantoor = _office(result.office)
        cached = {
            "_result": result,
            "gegenereerd_op": dutch_datetime(result.generated_at),
            "versie": f"asr-batch {result.tool_version}",
            "kantoor": kantoor,
            "kantoor_gegevens": [_line(f"kantoor_{f.key}", f.label, kantoor[f.key]) for f in _OFFICE_PUBLIC
                                 if kantoor[f.key]],
        }
        _run_cache.clear()
        _run_cache[id(result)] = cached
    return cached


def document_data(row: RowResult, result: Result, *, mask_secrets: bool,
                  value: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Everything a registration document shows (the keys of DOCUMENT_KEYS). Holds the secret unless masked.
    `value`, when given, stands in for each of the row's own values (render.py passes a marker)."""
    constants = _run_constants(result)
    record: dict[str, Any] = {f.key: _same_in_both(row.record.get(f.key)) for f in FIELDS}
    if mask_secrets:
        record["client_secret"] = mask_secret(record.get("client_secret"))
    naam: Any = record.get("naam") or ""
    titel: Any = f"Aanmelding a.s.r. salariskoppeling – {naam} ({record.get('werkgeverscode') or ''})"
    rij: Any = row.row
    dgas = [{"naam": _same_in_both(d.naam), "medewerkersnummer": d.medewerkersnummer} for d in _dgas(row)]
    if value is not None:
        record = {key: value(v) for key, v in record.items()}
        naam, titel, rij = value(naam), value(titel), value(rij)
        dgas = [{key: value(v) for key, v in dga.items()} for dga in dgas]

    gegevens = [_line(key, FIELDS_BY_KEY[key].header, record[key]) for key in _STEP2_BEFORE_DGAS]
    if mask_secrets:  # copying "••••••••3f9a" would only paste a wrong secret
        gegevens = [line._replace(kopieer=False) if line.sleutel == "client_secret" else line for line in gegevens]
    for n, dga in enumerate(dgas, start=1):
        suffix = f" {n}" if len(dgas) > 1 else ""
        gegevens.append(_line(f"dga_{n}_naam", f"Naam DGA{suffix}", dga["naam"], sub=True))
        gegevens.append(_line(f"dga_{n}_medewerkersnummer", f"Medewerkersnummer DGA{suffix}",
                              dga["medewerkersnummer"], sub=True))
    gegevens += [_line(key, FIELDS_BY_KEY[key].header, record[key]) for key in _STEP2_AFTER_DGAS]

    aanvullend = [_line(key, FIELDS_BY_KEY[key].header, record[key]) for key in _EXTRA_FIELDS if record[key]]
    return {
        "titel": titel,
        "werkgever": record,
        "dgas": dgas,
        "gegevens": gegevens,
        "aanvullend": aanvullend,
        "werkgever_gegevens": [_line("naam", FIELDS_BY_KEY["naam"].header, naam), *aanvullend],
        "kantoor": constants["kantoor"],
        "kantoor_gegevens": constants["kantoor_gegevens"],
        "secret_gemaskeerd": mask_secrets,
        "bron": {"bestand": result.input.file, "tabblad": result.input.sheet, "rij": rij},
        "gegenereerd_op": constants["gegenereerd_op"],
        "versie": constants["versie"],
    }


def as_json(data: dict[str, Any]) -> str:
    """The document's data as the PDF template reads it: every Line an object with its field names. Lines are
    found only as items of document_data's lists; every other value is plain already."""
    return json.dumps({key: [item._asdict() if isinstance(item, Line) else item for item in value]
                       if isinstance(value, list) else value for key, value in data.items()}, ensure_ascii=False)
