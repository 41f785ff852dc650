"""Click in Dutch: the command classes asr-batch is made of, the value types of its options, and its usage errors.

Click's own texts are English and go through gettext, whose language follows the environment (LANGUAGE, LANG),
which an office PC does not set to Dutch. So the words Click would print are replaced where Click offers it:
a formatter of our own (usage line, headings), our own help and version options, metavars and types of our own
(no "TEXT", "PATH", "[x>=1]"), and usage errors rendered here from the exception's attributes, never from its
English message. tests/test_dutch_click.py holds every --help and usage error against Click's own words.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from batch.guard import fail

HELP_TEXT = "Toon deze hulp en stop."
VERSION_TEXT = "Toon het versienummer en stop."
HEADINGS = {"Options": "Opties", "Commands": "Opdrachten", "Positional arguments": "Argumenten"}
# What the clerk types for an argument that is missing, by the argument's name.
EXAMPLES = {"file": "werkgevers.xlsx", "codes": "1001 1002"}


class UsageInDutch(click.UsageError):
    """A usage error whose message is ours, already in Dutch."""


class DutchFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Gebruik: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(HEADINGS.get(heading, heading))


class DutchContext(click.Context):
    formatter_class = DutchFormatter


class _Dutch(click.Command):
    context_class = DutchContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[OPTIES]")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:  # the parser's own errors come without the command they belong to
            if error.ctx is None:
                error.ctx = ctx
            raise


class DutchCommand(_Dutch):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Extra arguments are told in Dutch: most often a file name with a space, typed without quotes."""
        if ctx.allow_extra_args:
            return super().parse_args(ctx, args)
        ctx.allow_extra_args = True
        try:
            rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = False
        if rest and not ctx.resilient_parsing:
            told = " ".join(f"'{arg}'" for arg in rest)
            what = "onverwacht argument" if len(rest) == 1 else "onverwachte argumenten"
            raise UsageInDutch(f"{what} {told}. Staat er een spatie in een bestandsnaam, zet de naam dan "
                               "tussen aanhalingstekens (\"mijn werkgevers.xlsx\").", ctx)
        return rest


class DutchGroup(_Dutch, click.Group):
    command_class = DutchCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "OPDRACHT [ARGUMENTEN]...")
        super().__init__(*args, **kwargs)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchOption:
            raise
        except click.UsageError as error:
            name = args[0] if args else ""
            if self.get_command(ctx, name) is not None:
                raise
            guess = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f"; bedoelt u '{guess[0]}'?" if guess else "."
            raise UsageInDutch(f"onbekende opdracht '{name}'{hint} Kies {self.choices(ctx)}.", ctx) from error

    def choices(self, ctx: click.Context) -> str:
        names = [name for name in self.commands if not self.commands[name].hidden]
        return ", ".join(names[:-1]) + f" of {names[-1]}"


class WholeNumber(click.ParamType):  # type: ignore[type-arg]  # generic only in newer Click
    """A whole number within bounds, told in Dutch (click.IntRange would print "[x>=1]" and English errors)."""

    name = "getal"

    def __init__(self, minimum: int, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"'{value}' is geen geheel getal.", param, ctx)
        if self.maximum is not None and not self.minimum <= number <= self.maximum:
            self.fail(f"{number} ligt niet tussen {self.minimum} en {self.maximum}.", param, ctx)
        if number < self.minimum:
            self.fail(f"{number} is te klein; het moet minstens {self.minimum} zijn.", param, ctx)
        return number


class PathValue(click.ParamType):  # type: ignore[type-arg]  # generic only in newer Click
    """A path as typed; the core says what is wrong with the file itself. A folder option refuses a file."""

    name = "pad"

    def __init__(self, *, folder: bool = False) -> None:
        self.folder = folder

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = value if isinstance(value, Path) else Path(value)
        if self.folder and path.exists() and not path.is_dir():
            self.fail(f"'{value}' is een bestand; hier hoort een map.", param, ctx)
        return path


def _name(param: click.Parameter | None, ctx: click.Context | None) -> str:
    if param is None:
        return "een waarde"
    if isinstance(param, click.Argument):  # WERKMAP, not [WERKMAP] or WERKGEVERSCODE...
        return (param.make_metavar(ctx) if ctx is not None else param.human_readable_name or "").strip("[].").upper()
    return "/".join(param.opts)


def _option(ctx: click.Context | None, name: str) -> click.Option | None:
    params = ctx.command.params if ctx is not None else []
    return next((p for p in params if isinstance(p, click.Option) and name in (*p.opts, *p.secondary_opts)), None)


def usage_message(error: click.UsageError) -> str:
    """A usage error in plain Dutch, built from what the error carries (Click's own message is English)."""
    if isinstance(error, UsageInDutch):
        return error.message
    if isinstance(error, click.MissingParameter):
        name = _name(error.param, error.ctx)
        if isinstance(error.param, click.Argument):
            example = EXAMPLES.get(error.param.name or "", "")
            return f"het argument {name} ontbreekt" + (f" (bijvoorbeeld: {example})." if example else ".")
        return f"de optie {name} ontbreekt."
    if isinstance(error, click.NoSuchOption):
        guess = f"; bedoelt u {' of '.join(error.possibilities)}?" if error.possibilities else "."
        return f"onbekende optie {error.option_name}{guess}"
    if isinstance(error, click.BadOptionUsage):
        name, option = error.option_name, _option(error.ctx, error.option_name)
        if option is not None and option.is_flag:
            return f"{name} is een schakelaar en neemt geen waarde; schrijf alleen {name}."
        metavar = option.make_metavar(error.ctx) if option is not None and error.ctx is not None else "WAARDE"
        return f"bij {name} hoort een waarde, direct erachter: {name} {metavar}."
    if isinstance(error, click.BadParameter):
        if isinstance(error.param, click.Argument):
            return f"ongeldige waarde voor {_name(error.param, error.ctx)}: {error.message}"
        name = error.param.get_error_hint(error.ctx) if error.param is not None and error.ctx else "waarde"
        return f"ongeldige waarde voor {name}: {error.message}"
    command = error.ctx.command if error.ctx is not None else None
    if isinstance(command, DutchGroup) and error.ctx is not None:  # the only other usage error of the group
        return f"geef een opdracht: kies {command.choices(error.ctx)}."
    return f"de opdracht klopt niet ({error.format_message()})."


def run_group(group: click.Group, args: Sequence[str] | None = None) -> None:
    """`group` as the program asr-batch, with usage errors in Dutch and the contract's exit codes."""
    try:
        group.main(args=list(args) if args is not None else None, standalone_mode=False, prog_name="asr-batch")
    except click.exceptions.NoArgsIsHelpError as error:
        fail(error.format_message())
        sys.exit(2)
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "asr-batch"
        fail(f"asr-batch: onjuiste opdracht: {usage_message(error)}")
        fail(f"Oplossing: zie '{command} --help'.")
        sys.exit(2)
    except click.Abort:
        fail("asr-batch: afgebroken.")
        sys.exit(130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
