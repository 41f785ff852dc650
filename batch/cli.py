"""The command line: the commands and their options. Each parses, calls the core once, echoes what the render
function beside the result returns, and returns the exit code; batch.guard turns failures into messages.

No business rule lives here. Data goes to stdout, talk to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from batch import __version__, collector
from batch.console import forgive_unencodable, json_for_stdout
from batch.errors import UnusableInput
from batch.guard import Context, guarded
from batch.options import parse_formats, parse_mark, parse_state, quiet_option, register_option, strict_option
from batch.redact import redact
from batch.usage import VERSION_TEXT, DutchGroup, PathValue, WholeNumber, run_group


@click.group(cls=DutchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asr-batch", message="%(prog)s %(version)s", help=VERSION_TEXT)
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
@click.argument("path", type=PathValue(), default="asr-werkgevers.xlsx", metavar="[WERKMAP]")
@click.option("--force", is_flag=True, help="Overschrijf een bestaand bestand.")
@guarded
def template(path: Path, force: bool) -> int:
    """Schrijf de lege werkmap om in te vullen (standaard asr-werkgevers.xlsx).

    Voorbeeld: asr-batch template kantoor-werkgevers.xlsx
    """
    from batch.template import write_template

    written = write_template(path, force=force)
    click.echo(f"Werkmap geschreven: {written}", err=True)
    return 0


@main.command()
@click.argument("file", type=PathValue(), metavar="WERKMAP")
@click.option("--json", "as_json", is_flag=True, help="Druk het resultaat af als JSON (vorm van resultaat.json).")
@strict_option
@quiet_option("Alleen de telling tonen (op stderr), geen meldingen.")
@guarded
def validate(file: Path, as_json: bool, strict: bool, quiet: bool) -> int:
    """Controleer een werkmap zonder iets te schrijven.

    Voorbeeld: asr-batch validate werkgevers.xlsx --json
    """
    from batch.pipeline import check
    from batch.summary import counts_line, format_summary

    result = check(file, strict=strict)
    if as_json:
        click.echo(json_for_stdout(redact(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))))
    elif quiet:
        click.echo(counts_line(result), err=True)
    else:
        click.echo(redact(format_summary(result)))
    return result.exit_code


@main.command()
@click.argument("file", type=PathValue(), metavar="WERKMAP")
@click.option("-o", "--output", "output", type=PathValue(), default=None, metavar="MAP",
              help="Uitvoermap (standaard <naam>-uitvoer in de huidige map).")
@click.option("--format", "formats", default="html,pdf", callback=parse_formats, metavar="SOORT",
              help="Welke documenten: html, pdf of html,pdf (standaard html,pdf).")
@strict_option
@click.option("--mask-secrets", is_flag=True,
              help="Toon in de documenten alleen de laatste 4 tekens van het Client Secret.")
@click.option("--templates", "templates_dir", type=PathValue(folder=True), default=None, metavar="MAP",
              help="Map met eigen Jinja2-sjablonen (bijv. aanmelding.html) die de ingebouwde vervangen.")
@click.option("--force", is_flag=True, help="Gebruik de uitvoermap ook als er andere bestanden in staan.")
@click.option("-j", "--jobs", type=WholeNumber(1), default=None, metavar="AANTAL",
              help="Aantal processen voor de documenten (standaard: alle processorkernen).")
@register_option
@click.option("--no-register", is_flag=True, help="Laat het register ongemoeid.")
@click.option("--only-pending", is_flag=True,
              help="Maak alleen documenten voor werkgevers die nog moeten worden aangemeld (nieuw of gewijzigd).")
@quiet_option("Niets tonen behalve fouten die de run stoppen; geen voortgang, geen samenvatting.")
@guarded
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
    from batch.summary import process_closing

    if no_register and register:
        raise UnusableInput("--register en --no-register sluiten elkaar uit.", "Laat een van beide weg.")
    target = output if output is not None else Path.cwd() / f"{file.stem}-uitvoer"
    options = Options(formats=formats, strict=strict, mask_secrets=mask_secrets, templates_dir=templates_dir,
                      force=force, jobs=jobs, register=None if no_register else locate(register),
                      only_pending=only_pending)
    with progress_for(enabled=not quiet) as progress:
        result = run_process(file, target, options, progress=progress)
    if not quiet:
        click.echo(redact(process_closing(result, target, only_pending)), err=True)
    return result.exit_code


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Druk het register af als JSON.")
@click.option("--state", default=None, callback=parse_state, metavar="STATUS",
              help="Toon alleen werkgevers met deze status: new (nieuw), submitted (aangemeld), confirmed "
                   "(bevestigd), changed (gewijzigd), queried (navragen) of ended (beeindigd). De tellingen blijven "
                   "over het hele register.")
@click.option("--xlsx", "xlsx", type=PathValue(), default=None, metavar="WERKMAP",
              help="Schrijf dezelfde tabel ook als werkmap, waarin u de datums van aanmelden en bevestigen invult; "
                   "lees die terug met 'asr-batch mark --from'.")
@click.option("--force", is_flag=True, help="Overschrijf een bestaande werkmap bij --xlsx.")
@click.option("--waiting-over", type=WholeNumber(0), default=None, metavar="DAGEN",
              help="Markeer aangemelde werkgevers die langer dan DAGEN op a.s.r. wachten (standaard 30); met --state "
                   "submitted alleen die.")
@register_option
@guarded
def status(as_json: bool, state: str | None, xlsx: Path | None, force: bool, waiting_over: int | None,
           register: str | None) -> int:
    """Toon waar elke werkgever staat: nieuw, aangemeld (stap 2), bevestigd (stap 3), gewijzigd, navragen of beëindigd.

    Voorbeeld: asr-batch status --state submitted --waiting-over 30
    """
    import datetime

    from batch.register import WAITING_OVER, Listing, status_of
    from batch.status_report import format_status

    if xlsx is not None and xlsx.exists() and not force:
        raise UnusableInput(f"'{xlsx}' bestaat al.", "Kies een andere naam, of gebruik --force om het te vervangen.")
    listing = Listing(datetime.date.today(), state, WAITING_OVER if waiting_over is None else waiting_over,
                      only_waiting=state == "submitted" and waiting_over is not None)
    if xlsx is not None:
        from batch.register_workbook import export_register

        report = export_register(register, xlsx, listing)
        click.echo(f"Werkmap geschreven: {xlsx}", err=True)
    else:
        report = status_of(register)
    if as_json:
        click.echo(json_for_stdout(json.dumps(report.to_dict(state, listing), ensure_ascii=False, indent=2)))
    elif xlsx is None:
        click.echo(format_status(report, listing))
    return 0


@main.command()
@click.argument("state", required=False, callback=parse_mark, metavar="[STATUS]")
@click.argument("codes", nargs=-1, metavar="[WERKGEVERSCODE]...")
@click.option("--on", "on", default=None, metavar="DATUM",
              help="Datum waarop het gebeurde: gekoppeld, aangemeld, bevestigd, navraag, beëindigd (standaard "
                   "vandaag).")
@click.option("--first-exchange", default=None, metavar="DATUM",
              help="Bij bevestigd (confirmed): de datum van de eerste gegevensuitwisseling (verplicht).")
@click.option("--note", default=None, metavar="TEKST",
              help="Een notitie bij de werkgever (kenmerk van a.s.r., wie u sprak); vervangt de vorige, \"\" wist "
                   "hem. Verplicht bij navragen (queried).")
@click.option("--opnieuw", "--again", "again", is_flag=True,
              help="Bij aangemeld (submitted): meld een bevestigde (of beëindigde) werkgever bewust opnieuw aan.")
@click.option("--from", "from_file", type=PathValue(), default=None, metavar="WERKMAP",
              help="Lees de datums terug uit een werkmap van 'asr-batch status --xlsx' en leg ze vast. Alles of niets.")
@click.option("--dry-run", is_flag=True, help="Bij --from: toon alleen wat er zou veranderen.")
@register_option
@guarded
def mark(state: str | None, codes: tuple[str, ...], on: str | None, first_exchange: str | None, note: str | None,
         again: bool, from_file: Path | None, dry_run: bool, register: str | None) -> int:
    """Leg vast wat er met werkgevers is gebeurd. Alles of niets.

    \b
    STATUS, in het Nederlands of zoals het register ze noemt:
      gekoppeld   (linked)     stap 1 in Exact gedaan
      aangemeld   (submitted)  stap 2: aangemeld bij a.s.r.
      bevestigd   (confirmed)  stap 3: a.s.r. bevestigde; met --first-exchange
      navragen    (queried)    a.s.r. kwam terug met een vraag of weigering; met --note
      beeindigd   (ended)      de werkgever is vertrokken
      notitie     (note)       alleen de notitie
    Of lees de datums terug uit de werkmap van 'asr-batch status --xlsx', waarin u ze hebt ingevuld.

    \b
    Voorbeeld: asr-batch mark bevestigd 1001 1002 --first-exchange 15-12-2026
               asr-batch mark navragen 1003 --note "a.s.r. mist het loonheffingennummer"
               asr-batch mark aangemeld 1004 --opnieuw
               asr-batch mark --from register.xlsx --dry-run
    """
    import datetime

    from batch.options import check_mark_usage
    from batch.register import Mark, existing, parse_date
    from batch.status_report import marked_line

    check_mark_usage(state, codes, on=on, first_exchange=first_exchange, from_file=from_file, dry_run=dry_run,
                     note=note, again=again)
    if from_file is not None:
        from batch.register_workbook import mark_from, mark_from_lines

        result = mark_from(from_file, register, dry_run=dry_run)
        for line in mark_from_lines(result):
            click.echo(line, err=True)
        return result.exit_code
    day = parse_date(on, "--on") if on else datetime.date.today()
    exchange = parse_date(first_exchange, "--first-exchange") if first_exchange else None
    with existing(register) as opened:
        done = opened.mark(Mark(state or "submitted", day, exchange, note=note, again=again), codes)
    click.echo(marked_line(state or "submitted", day, done, again=again, first_exchange=exchange, note=note), err=True)
    return 0


@main.command()
@click.argument("codes", nargs=-1, required=True, metavar="WERKGEVERSCODE...")
@register_option
@guarded
def forget(codes: tuple[str, ...], register: str | None) -> int:
    """Haal werkgevers uit het register (voorbeeldgegevens, een vertrokken klant). Alles of niets.

    Voorbeeld: asr-batch forget 9999
    """
    from batch.register import existing
    from batch.status_report import forgotten_lines

    with existing(register) as opened:
        done, left = opened.forget(codes)
    click.echo(forgotten_lines(done, left), err=True)
    return 0


@main.command()
@click.option("--dry-run", is_flag=True, help="Toon alleen wat zou worden verwijderd.")
@register_option
@guarded
def purge(dry_run: bool, register: str | None) -> int:
    """Verwijder de aanmeldingen (met het Client Secret) van bevestigde werkgevers (AVG).

    Alleen bestanden in een uitvoermap van asr-batch; het register houdt bij dat ze zijn verwijderd.

    Voorbeeld: asr-batch purge --dry-run
    """
    from batch.output import holds_our_document
    from batch.register import using
    from batch.status_report import NOTHING_TO_PURGE, purge_listing, purge_totals

    with using(register) as opened:
        if opened is None:
            click.echo(NOTHING_TO_PURGE, err=True)
            return 0
        done = opened.purge(dry_run=dry_run, is_ours=holds_our_document)
    for line in purge_listing(done, dry_run):
        click.echo(line)
    click.echo(purge_totals(done, dry_run), err=True)
    return 0


@main.command()
@click.option("--port", type=WholeNumber(0, 65535), default=0, metavar="POORT",
              help="Poort op 127.0.0.1 (standaard een vrije poort).")
@click.option("--no-browser", is_flag=True, help="Open de browser niet; het adres staat op de eerste regel.")
@register_option
@guarded
def serve(port: int, no_browser: bool, register: str | None) -> int:
    """Start de pagina voor in de browser: werkmap uploaden, werkbank, register. Alleen op deze computer.

    Het adres (met een geheime sleutel) staat op de eerste regel en wordt in de browser geopend. Stop met de knop
    Stoppen op de pagina of met Ctrl+C; de geüploade werkmap en de gemaakte bestanden worden dan gewist.

    Voorbeeld: asr-batch serve
    """
    import threading
    import webbrowser

    from batch.serve.running import ALREADY_RUNNING, ALREADY_RUNNING_NO_BROWSER, running_page
    from batch.serve.server import FINISHING_UPLOAD, RUNNING, Server
    from batch.signals import Terminated, ignore_further

    running = running_page(register)
    if running is not None:  # a second start (a double click on the shortcut): the page that runs
        click.echo(running.url)
        click.echo(ALREADY_RUNNING_NO_BROWSER if no_browser else ALREADY_RUNNING, err=True)
        if not no_browser:
            webbrowser.open(running.to_open())
        return 0
    with collector.running():  # a server runs for hours: its garbage is collected
        server = Server(port=port, register=register)
        try:
            try:  # a stop right after the address is printed is a stop too, not a crash
                click.echo(server.url)
                sys.stdout.flush()
                click.echo(RUNNING, err=True)
                if not no_browser:  # beside the server: a BROWSER command that waits must not hold up the page
                    # through a file, not the address: a browser's command line is readable by every user
                    threading.Thread(target=_open_quietly, args=(server.opener.as_uri(),), daemon=True).start()
                server.run()
            except (KeyboardInterrupt, Terminated):
                ignore_further()
        finally:
            if server.busy:
                click.echo(FINISHING_UPLOAD, err=True)
            cleaned = server.close()
    click.echo(server.stopped(cleaned), err=True)
    return 0 if cleaned else 2


def _open_quietly(url: str) -> None:
    """Open the page in the browser from a thread of its own; a failure there must not print a traceback (the
    address is on the first line, and the clerk can open it by hand)."""
    import contextlib
    import webbrowser

    with contextlib.suppress(Exception):
        webbrowser.open(url)


def run() -> None:
    """The console entry point: `main` with usage errors in Dutch, exit code 2."""
    collector.pause_until_exit()
    forgive_unencodable()
    # asr-batch does no linear algebra, yet numpy's OpenBLAS starts a thread per core when pandas loads, and
    # those threads spin beside the document workers (0.1 s of CPU at 10,000 rows). An office may still set it.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        run_group(main)
    finally:
        collector.skip_final_collection()


if __name__ == "__main__":
    run()
