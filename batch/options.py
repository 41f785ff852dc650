"""The options more than one command takes, each one named object, and the parsers of option values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

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
    chosen = value.strip().lower()
    if chosen in REGISTER_STATES or chosen in by_label:
        return by_label.get(chosen, chosen)
    choices = ", ".join(f"{code} ({label})" for code, label in REGISTER_STATES.items())
    raise click.BadParameter(f"kies {choices}, niet '{value}'.")
