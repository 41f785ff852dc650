"""The options more than one command takes, each one named object, and the parsers of option values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from batch.errors import UnusableInput
from batch.model import MEDIA, REGISTER_STATES

strict_option = click.option("--strict", is_flag=True, help="Waarschuwingen maken een rij ook ongeldig.")
register_option = click.option(
    "--register", "register", default=None, metavar="LOCATIE",
    help="Het register: een bestand (register.sqlite) of adres (sqlite:///..., of voor een team "
         "postgresql://gebruiker@server/database). Standaard $ASR_BATCH_REGISTER, anders register.sqlite in de "
         "gegevensmap van de gebruiker.")


def quiet_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("-q", "--quiet", is_flag=True, help=help_text)


def parse_formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """--format: html, pdf or both, in the order given."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in MEDIA]
    if unknown or not chosen:
        raise click.BadParameter(f"kies html, pdf of html,pdf (niet: {value!r}).")
    return chosen


def parse_state(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A register state by its code or its Dutch label."""
    if value is None:
        return None
    by_label = {label: code for code, label in REGISTER_STATES.items()}
    by_label["beeindigd"] = "ended"  # as typed without the diaeresis
    chosen = value.strip().lower()
    if chosen in REGISTER_STATES or chosen in by_label:
        return by_label.get(chosen, chosen)
    choices = ", ".join(f"{code} ({label})" for code, label in REGISTER_STATES.items())
    raise click.BadParameter(f"kies {choices}, niet '{value}'.")


def parse_mark(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """What `mark` records, by its code or its Dutch name (steps.KINDS, steps.DUTCH)."""
    from batch.register.steps import kind_of

    if value is None:
        return None
    chosen = kind_of(value)
    if chosen is None:
        raise click.BadParameter(f"kies submitted (aangemeld), confirmed (bevestigd), linked (gekoppeld), queried "
                                 f"(navragen), ended (beeindigd) of note (notitie), niet '{value}'.")
    return chosen


def check_mark_usage(state: str | None, codes: tuple[str, ...], *, on: str | None, first_exchange: str | None,
                     from_file: Path | None, dry_run: bool, note: str | None = None, again: bool = False) -> None:
    """`mark` takes a state and codes, or a workbook (--from), never both: a usage error says so (exit 2)."""
    if from_file is not None:
        if state or codes or on or first_exchange or note is not None or again:
            raise UnusableInput("'mark --from' leest de datums uit de werkmap en gaat niet samen met een status, "
                                "werkgeverscodes, --on, --first-exchange, --note of --opnieuw.",
                                "Gebruik 'asr-batch mark --from register.xlsx', of 'asr-batch mark submitted 1001' "
                                "zonder --from.")
        return
    if dry_run:
        raise UnusableInput("--dry-run hoort bij 'mark --from'.",
                            "Gebruik 'asr-batch mark --from register.xlsx --dry-run', of laat --dry-run weg.")
    if state is None:
        raise UnusableInput("Zeg wat er is gebeurd: 'mark submitted' (aangemeld) of 'mark confirmed' (bevestigd), "
                            "gevolgd door de werkgeverscodes.",
                            "Bijvoorbeeld: asr-batch mark submitted 1001 1002, of lees een registerwerkmap terug met "
                            "asr-batch mark --from register.xlsx.")
    if not codes:
        raise UnusableInput(f"Bij 'mark {state}' horen een of meer werkgeverscodes.",
                            f"Bijvoorbeeld: asr-batch mark {state} 1001 1002.")
    if state == "confirmed" and not first_exchange:
        raise UnusableInput("Bij 'mark confirmed' hoort de datum van de eerste gegevensuitwisseling.",
                            "Voeg --first-exchange DATUM toe, bijvoorbeeld --first-exchange 15-12-2026.")
    if state != "confirmed" and first_exchange:
        raise UnusableInput(f"--first-exchange hoort bij 'mark confirmed', niet bij 'mark {state}'.",
                            "Laat --first-exchange weg, of gebruik 'mark confirmed'.")
    if state != "submitted" and again:
        raise UnusableInput(f"--opnieuw hoort bij 'mark submitted' (opnieuw aanmelden), niet bij 'mark {state}'.",
                            "Laat --opnieuw weg, of gebruik 'mark submitted CODE --opnieuw'.")
    if state in ("queried", "note") and not (note or "").strip():
        raise UnusableInput(f"Bij 'mark {state}' hoort een notitie: wat a.s.r. vroeg of weigerde, hun kenmerk, wie u "
                            "sprak.", f"Voeg --note toe, bijvoorbeeld: asr-batch mark {state} {codes[0]} --note "
                            "\"a.s.r. vraagt het loonheffingennummer, kenmerk 12345\".")
    if state == "note" and on:
        raise UnusableInput("Een notitie heeft geen datum: --on hoort niet bij 'mark note'.", "Laat --on weg.")
