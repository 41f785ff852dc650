"""The command line: parse options, call the core once, render its result, pick the exit code.

No business rule lives here. Data goes to stdout, talk to stderr.
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from batch import __version__, collector
from batch.errors import UnusableInput
from batch.model import MEDIA, REGISTER_STATES
from batch.redact import redact


class Context:
    debug: bool = False


class Terminated(BaseException):
    """SIGTERM (or a closed terminal: SIGHUP, SIGBREAK), raised like KeyboardInterrupt so every `finally`
    (temporary folders, which may hold secrets) still runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_stop_signal(signum: int, frame: object) -> None:
    raise Terminated(signum)


def _install_signal_handlers() -> None:
    import signal

    from batch.signals import STOP_SIGNALS

    # Also when started in the background, where a shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in STOP_SIGNALS:
        if signum != signal.SIGINT:
            signal.signal(signum, _on_stop_signal)


def _ignore_further_signals() -> None:
    """The run is stopped and cleaned up: a second Ctrl-C (or one still pending) must not turn the exit
    code into a crash on the way out."""
    import signal

    from batch.signals import STOP_SIGNALS

    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _fail(message: str) -> None:
    click.echo(redact(message), err=True)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """--debug shows library warnings, through the redaction point like everything else."""
    _fail(warnings.formatwarning(message, category, filename, lineno, line).rstrip())


def _guarded(func: Callable[..., int]) -> Callable[..., None]:
    """Run a command body; turn every failure into a Dutch message and the contract's exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> None:
        _install_signal_handlers()
        if Context.debug:
            warnings.showwarning = _show_warning
        else:
            warnings.simplefilter("ignore")  # library warnings are not the office's to read
        try:
            with collector.paused():
                code = func(*args, **kwargs)
        except UnusableInput as exc:
            _fail(f"asr-batch: {exc.message}")
            if exc.fix:
                _fail(f"Oplossing: {exc.fix}")
            code = exc.exit_code
        except KeyboardInterrupt:
            _ignore_further_signals()
            _fail("asr-batch: afgebroken (Ctrl+C); een uitvoermap wordt alleen vervangen door een volledige run.")
            code = 130
        except Terminated as stop:
            import signal

            _ignore_further_signals()
            _fail(f"asr-batch: gestopt ({signal.Signals(stop.signum).name}); een uitvoermap wordt alleen vervangen "
                  "door een volledige run.")
            code = 128 + stop.signum
        except BrokenPipeError:  # the reader of stdout left early (asr-batch status --json | head): not a fault
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that Python's own flush at exit does not fail again
            code = 141  # 128 + SIGPIPE, as a shell reports it
        except Exception as exc:  # the user never sees a traceback unless asked
            if Context.debug:
                _fail(redact("".join(traceback.format_exception(exc))))
            _fail(f"asr-batch: onverwachte fout ({type(exc).__name__}). Draai opnieuw met --debug voor details "
                  "en meld het met dat bericht (zonder geheimen: die zijn al weggelaten).")
            code = 2
        sys.exit(code)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asr-batch", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True,
              help="Toon bij een onverwachte fout de technische details (geheimen weggelaten).")
def main(debug: bool) -> None:
    """Meld werkgevers in één keer aan voor de a.s.r. salariskoppeling.

    \b
    1. asr-batch template            maakt de lege werkmap asr-werkgevers.xlsx
    2. vul per werkgever één rij in
    3. asr-batch process werkgevers.xlsx   maakt per werkgever een aanmelding (HTML + PDF)

    Afsluitcodes: 0 alles geldig; 1 minstens één rij ongeldig of geen werkgevers; 2 bestand onbruikbaar.
    """
    Context.debug = debug


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default="asr-werkgevers.xlsx")
@click.option("--force", is_flag=True, help="Overschrijf een bestaand bestand.")
@_guarded
def template(path: Path, force: bool) -> int:
    """Schrijf de lege werkmap om in te vullen (standaard asr-werkgevers.xlsx).

    Voorbeeld: asr-batch template kantoor-werkgevers.xlsx
    """
    from batch.template import write_template

    written = write_template(path, force=force)
    click.echo(f"Werkmap geschreven: {written}", err=True)
    return 0


strict_option = click.option("--strict", is_flag=True, help="Waarschuwingen maken een rij ook ongeldig.")
register_option = click.option(
    "--register", "register", default=None, metavar="LOCATIE",
    help="Het register: een bestand (register.sqlite) of adres (sqlite:///..., of voor een team "
         "postgresql://gebruiker@server/database). Standaard $ASR_BATCH_REGISTER, anders register.sqlite in de "
         "gegevensmap van de gebruiker.")
def quiet_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("-q", "--quiet", is_flag=True, help=help_text)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Druk het resultaat af als JSON (vorm van resultaat.json).")
@strict_option
@quiet_option("Alleen de telling tonen (op stderr), geen meldingen.")
@_guarded
def validate(file: Path, as_json: bool, strict: bool, quiet: bool) -> int:
    """Controleer een werkmap zonder iets te schrijven.

    Voorbeeld: asr-batch validate werkgevers.xlsx --json
    """
    from batch.pipeline import check
    from batch.summary import counts_line, format_summary

    result = check(file, strict=strict)
    if as_json:
        click.echo(redact(json.dumps(result.to_dict(), ensure_ascii=False, indent=2)))
    elif quiet:
        click.echo(counts_line(result), err=True)
    else:
        click.echo(redact(format_summary(result)))
    return result.exit_code


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in MEDIA]
    if unknown or not chosen:
        raise click.BadParameter(f"kies html, pdf of html,pdf (niet: {value!r}).")
    return chosen


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help="Uitvoermap (standaard <naam>-uitvoer in de huidige map).")
@click.option("--format", "formats", default="html,pdf", callback=_formats, show_default=True,
              help="Welke documenten: html, pdf of html,pdf.")
@strict_option
@click.option("--mask-secrets", is_flag=True,
              help="Toon in de documenten alleen de laatste 4 tekens van het Client Secret.")
@click.option("--templates", "templates_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Map met eigen Jinja2-sjablonen (bijv. aanmelding.html) die de ingebouwde vervangen.")
@click.option("--force", is_flag=True, help="Gebruik de uitvoermap ook als er andere bestanden in staan.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Aantal processen voor de documenten (standaard: alle processorkernen).")
@register_option
@click.option("--no-register", is_flag=True, help="Laat het register ongemoeid.")
@click.option("--only-pending", is_flag=True,
              help="Maak alleen documenten voor werkgevers die nog moeten worden aangemeld (nieuw of gewijzigd).")
@quiet_option("Niets tonen behalve fouten die de run stoppen; geen voortgang, geen samenvatting.")
@_guarded
def process(file: Path, output: Path | None, formats: tuple[str, ...], strict: bool, mask_secrets: bool,
            templates_dir: Path | None, force: bool, jobs: int | None, register: str | None, no_register: bool,
            only_pending: bool, quiet: bool) -> int:
    """Controleer een werkmap en schrijf per geldige werkgever een aanmelding, plus overzicht en foutenrapport.

    Elke geldige werkgever komt in het register (zie asr-batch status).

    Voorbeeld: asr-batch process werkgevers.xlsx -o aanmeldingen-november --only-pending
    """
    from batch.pipeline import Options
    from batch.pipeline import process as run_process
    from batch.progress import progress_for
    from batch.register import locate
    from batch.summary import counts_line

    if no_register and register:
        raise UnusableInput("--register en --no-register sluiten elkaar uit.", "Laat een van beide weg.")
    target = output if output is not None else Path.cwd() / f"{file.stem}-uitvoer"
    options = Options(formats=formats, strict=strict, mask_secrets=mask_secrets, templates_dir=templates_dir,
                      force=force, jobs=jobs, register=None if no_register else locate(register),
                      only_pending=only_pending)
    with progress_for(enabled=not quiet) as progress:
        result = run_process(file, target, options, progress=progress)
    if not quiet:
        click.echo(counts_line(result), err=True)
        if only_pending:
            held = sum(1 for r in result.rows if r.status == "valid" and not r.documents)
            click.echo(f"--only-pending: {held} werkgever(s) al aangemeld of bevestigd, zonder nieuw document.",
                       err=True)
        click.echo(f"Uitvoer: {target}", err=True)
    return result.exit_code


def _state(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A register state by its code or its Dutch label."""
    if value is None:
        return None
    by_label = {label: code for code, label in REGISTER_STATES.items()}
    chosen = value.strip().lower()
    if chosen in REGISTER_STATES or chosen in by_label:
        return by_label.get(chosen, chosen)
    choices = ", ".join(f"{code} ({label})" for code, label in REGISTER_STATES.items())
    raise click.BadParameter(f"kies {choices}, niet '{value}'.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Druk het register af als JSON.")
@click.option("--state", default=None, callback=_state, metavar="STATUS",
              help="Toon alleen werkgevers met deze status: new (nieuw), submitted (aangemeld), confirmed "
                   "(bevestigd) of changed (gewijzigd). De tellingen blijven over het hele register.")
@click.option("--xlsx", "xlsx", type=click.Path(path_type=Path), default=None,
              help="Schrijf dezelfde tabel ook als werkmap (voor het eigen archief).")
@click.option("--force", is_flag=True, help="Overschrijf een bestaande werkmap bij --xlsx.")
@register_option
@_guarded
def status(as_json: bool, state: str | None, xlsx: Path | None, force: bool, register: str | None) -> int:
    """Toon waar elke werkgever staat: nieuw, aangemeld (stap 2), bevestigd (stap 3) of gewijzigd.

    Voorbeeld: asr-batch status --state submitted
    """
    import datetime

    from batch.status_report import format_status, write_status_workbook

    if xlsx is not None and xlsx.exists() and not force:
        raise UnusableInput(f"'{xlsx}' bestaat al.", "Kies een andere naam, of gebruik --force om het te vervangen.")
    from batch.register import status_of

    report = status_of(register)
    today = datetime.date.today()
    if xlsx is not None:
        write_status_workbook(report, xlsx, today, state)
        click.echo(f"Werkmap geschreven: {xlsx}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(state), ensure_ascii=False, indent=2))
    elif xlsx is None:
        click.echo(format_status(report, today, state))
    return 0


@main.command()
@click.argument("state", type=click.Choice(["submitted", "confirmed"]))
@click.argument("codes", nargs=-1, required=True)
@click.option("--on", "on", default=None, metavar="DATUM",
              help="Datum van aanmelden of bevestiging (standaard vandaag).")
@click.option("--first-exchange", default=None, metavar="DATUM",
              help="Bij confirmed: de datum van de eerste gegevensuitwisseling (verplicht).")
@register_option
@_guarded
def mark(state: str, codes: tuple[str, ...], on: str | None, first_exchange: str | None,
         register: str | None) -> int:
    """Leg vast dat werkgevers zijn aangemeld (submitted) of door a.s.r. bevestigd (confirmed). Alles of niets.

    Voorbeeld: asr-batch mark confirmed 1001 1002 --first-exchange 15-12-2026
    """
    import datetime

    from batch.register import STATES, existing, parse_date

    day = parse_date(on, "--on") if on else datetime.date.today()
    if state == "confirmed" and not first_exchange:
        raise UnusableInput("Bij 'mark confirmed' hoort de datum van de eerste gegevensuitwisseling.",
                            "Voeg --first-exchange DATUM toe, bijvoorbeeld --first-exchange 15-12-2026.")
    if state == "submitted" and first_exchange:
        raise UnusableInput("--first-exchange hoort bij 'mark confirmed', niet bij 'mark submitted'.",
                            "Laat --first-exchange weg, of gebruik 'mark confirmed'.")
    with existing(register) as opened:
        if first_exchange:
            done = opened.mark_confirmed(codes, day, parse_date(first_exchange, "--first-exchange"))
        else:
            done = opened.mark_submitted(codes, day)
    click.echo(f"{len(done)} werkgever(s) {STATES[state]} op {day:%d-%m-%Y}: {', '.join(done)}", err=True)
    return 0


@main.command()
@click.argument("codes", nargs=-1, required=True)
@register_option
@_guarded
def forget(codes: tuple[str, ...], register: str | None) -> int:
    """Haal werkgevers uit het register (voorbeeldgegevens, een vertrokken klant). Alles of niets.

    Voorbeeld: asr-batch forget 9999
    """
    from batch.register import existing

    with existing(register) as opened:
        done, left = opened.forget(codes)
    click.echo(f"{len(done)} werkgever(s) uit het register gehaald: {', '.join(done)}", err=True)
    if left:
        click.echo("Let op: deze documenten bestaan nog en bevatten het Client Secret; purge vindt ze niet meer. "
                   "Verwijder ze zelf als ze niet meer nodig zijn:", err=True)
        for path in left:
            click.echo(f"  {path}", err=True)
    return 0


@main.command()
@click.option("--dry-run", is_flag=True, help="Toon alleen wat zou worden verwijderd.")
@register_option
@_guarded
def purge(dry_run: bool, register: str | None) -> int:
    """Verwijder de aanmeldingen (met het Client Secret) van bevestigde werkgevers (AVG).

    Alleen bestanden in een uitvoermap van asr-batch; het register houdt bij dat ze zijn verwijderd.

    Voorbeeld: asr-batch purge --dry-run
    """
    from batch.output import holds_our_document
    from batch.register import using

    with using(register) as opened:
        if opened is None:
            click.echo("Het register is leeg: er is niets te verwijderen.", err=True)
            return 0
        done = opened.purge(dry_run=dry_run, is_ours=holds_our_document)
    for item in done:
        if item.elsewhere:
            continue
        verb = ("zou verwijderen" if dry_run else "verwijderd") if item.deleted else f"overgeslagen: {item.reason}"
        click.echo(f"{item.werkgeverscode}  {item.path}  ({verb})")
    deleted = sum(item.deleted for item in done)
    click.echo(f"{deleted} document(en) {'te verwijderen' if dry_run else 'verwijderd'}"
               f"{'; niets gewijzigd (--dry-run)' if dry_run else ''}.", err=True)
    elsewhere = sum(item.elsewhere for item in done)
    if elsewhere:
        click.echo(f"{elsewhere} document(en) van bevestigde werkgevers staan niet op deze computer: gemaakt op de "
                   "computer van een collega (of daar al verwijderd). Het gedeelde register houdt ze bij; draai purge "
                   "ook op die computer.", err=True)
    return 0


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default="een vrije poort",
              help="Poort op 127.0.0.1.")
@click.option("--no-browser", is_flag=True, help="Open de browser niet; het adres staat op de eerste regel.")
@register_option
@_guarded
def serve(port: int, no_browser: bool, register: str | None) -> int:
    """Start de pagina voor in de browser: werkmap uploaden, werkbank, register. Alleen op deze computer.

    Het adres (met een geheime sleutel) staat op de eerste regel en wordt in de browser geopend. Stop met Ctrl+C;
    de geüploade werkmap en de gemaakte bestanden worden dan gewist.

    Voorbeeld: asr-batch serve
    """
    import webbrowser

    from batch.serve import Server

    with collector.running():  # a server runs for hours: its garbage is collected
        server = Server(port=port, register=register)
        try:
            click.echo(server.url)
            sys.stdout.flush()
            click.echo("asr-batch serve draait op deze computer. Stop met Ctrl+C in dit venster.", err=True)
            if not no_browser:
                webbrowser.open(server.url)
            try:
                server.run()
            except (KeyboardInterrupt, Terminated):
                _ignore_further_signals()
        finally:
            if server.busy:
                click.echo("Even wachten: de werkmap die nu wordt verwerkt, wordt eerst afgemaakt en dan gewist.",
                           err=True)
            cleaned = server.close()
    if not cleaned:
        click.echo(f"asr-batch serve gestopt, maar de tijdelijke map {server.workspace.root} kon niet helemaal worden "
                   "gewist. Verwijder hem zelf: er kunnen aanmeldingen met het Client Secret in staan.", err=True)
        return 2
    click.echo("asr-batch serve gestopt; de tijdelijke bestanden zijn gewist.", err=True)
    return 0


def _usage_message(error: click.UsageError) -> str:
    """Click's usage errors in plain Dutch (its own texts are English)."""
    if isinstance(error, click.MissingParameter) and error.param is not None:
        name = (error.param.human_readable_name or "").upper()
        return f"het argument {name} ontbreekt (bijvoorbeeld: werkgevers.xlsx)."
    if isinstance(error, click.NoSuchOption):
        return f"onbekende optie {error.option_name}."
    if isinstance(error, click.BadParameter):
        name = error.param.get_error_hint(error.ctx) if error.param is not None and error.ctx else "waarde"
        return f"ongeldige waarde voor {name}: {error.message}"
    message = error.format_message()
    unknown = re.search(r"No such command '([^']*)'", message)
    if unknown:
        guess = re.search(r"Did you mean '([^']*)'", message)
        hint = f"; bedoelt u '{guess.group(1)}'?" if guess else "."
        return (f"onbekende opdracht '{unknown.group(1)}'{hint} Kies template, validate, process, status, mark, "
                "forget, purge of serve.")
    return message


def run() -> None:
    """The console entry point: `main` with usage errors in Dutch, exit code 2."""
    collector.pause_until_exit()
    # asr-batch does no linear algebra, yet numpy's OpenBLAS starts a thread per core when pandas loads, and
    # those threads spin beside the document workers (0.1 s of CPU at 10,000 rows). An office may still set it.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        _run_main()
    finally:
        collector.skip_final_collection()


def _run_main() -> None:
    try:
        main.main(standalone_mode=False, prog_name="asr-batch")
    except click.exceptions.NoArgsIsHelpError as error:
        _fail(error.format_message())
        sys.exit(2)
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "asr-batch"
        _fail(f"asr-batch: onjuiste opdracht: {_usage_message(error)}")
        _fail(f"Oplossing: zie '{command} --help'.")
        sys.exit(2)
    except click.Abort:
        _fail("asr-batch: afgebroken.")
        sys.exit(130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)

if __name__ == "__main__":
    run()
