"""PDF step: a registration document typeset by Typst from aanmelding.typ, with the document's data as JSON.

The data is aanmelding.py's, the same the HTML document gets. Typst receives it in memory as the file
aanmelding.json, beside a copy of the template in a private folder, and the template reads it with json(): it
stays data and is never spliced into markup, so no value from the workbook can change the layout. It is never
written to disk, so a Client Secret is not either. (Typst's sys.inputs would carry it as well, but a new
sys.inputs makes Typst lay out the whole document anew, while with a new file it lays out only what depends on
the data, benchmarks/README.md.)

Only the fonts in batch/fonts are used (DejaVu Sans and Sans Mono; Sans Bold for an office's own template, the
built-in one has a single weight): no system font, not even Typst's own, so a PDF is the same on every machine.
They cover Latin, Greek, Cyrillic and more; a character they lack (Chinese, say) prints as an empty box in the
PDF, while the HTML document shows it with the browser's fonts.

One Typst compiler per process serves every document: it keeps what did not change from one to the next.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import multiprocessing
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import typst

from batch.aanmelding import as_json
from batch.errors import UnusableInput
from batch.files import DIR_MODE, write_private

TEMPLATE = "aanmelding.typ"
DATA = "aanmelding.json"
# What Typst compiles: the template, read from the private folder, which keeps it parsed from one document to the
# next. The data goes with it in memory (Compiler.compile's `input`), under DATA.
_MAIN = {"main.typ": f'#include "{TEMPLATE}"\n'.encode()}

_POSITION = re.compile(r"┌─ .*?:(\d+):\d+")
_PACKAGE = re.compile(r'"@[A-Za-z0-9_-]+/')  # #import "@preview/naam:1.0.0"


def _package_file(package: str, name: str) -> Path:
    return Path(str(importlib.resources.files(package).joinpath(name)))


def builtin_template() -> Path:
    try:
        return _package_file("batch.templates", TEMPLATE)
    except ModuleNotFoundError:  # run from a checkout, not installed
        return Path(__file__).resolve().parent.parent / "templates" / TEMPLATE


@functools.cache
def _fonts() -> typst.Fonts:
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                       font_paths=[str(_package_file("batch.fonts", "DejaVuSans.ttf").parent)])


def template_for(templates_dir: Path | None) -> Path:
    """The office's own aanmelding.typ in --templates DIR, else the built-in one."""
    if templates_dir is not None and (templates_dir / TEMPLATE).is_file():
        return templates_dir / TEMPLATE
    return builtin_template()


class Typesetter:
    """Makes the PDFs of one process. Its private folder (0700, inside `parent`) holds the template's copy, which
    is all the template can read besides its data: close() removes it."""

    def __init__(self, template: Path, parent: Path | None = None) -> None:
        self.template = template
        self.folder = Path(tempfile.mkdtemp(prefix=".pdf-", dir=parent))
        try:
            source = template.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.close()
            raise UnusableInput(f"Het PDF-sjabloon '{template}' kan niet worden gelezen ({exc}).",
                                "Sla het op als UTF-8-tekst, of haal het weg uit de sjablonenmap.") from None
        if template != builtin_template() and _PACKAGE.search(source):
            self.close()
            raise UnusableInput(f"Het PDF-sjabloon '{template}' gebruikt een Typst-pakket (#import \"@...\").",
                                "Een eigen sjabloon mag geen pakketten gebruiken: asr-batch haalt niets van internet "
                                "en leest niets buiten het sjabloon. Neem wat u nodig hebt op in aanmelding.typ zelf.")
        write_private(self.folder / TEMPLATE, source)
        # Packages come from empty private folders: none is read from the user's own Typst folders.
        (self.folder / "pakketten").mkdir(mode=DIR_MODE)
        self._compiler = typst.Compiler(root=self.folder, font_paths=_fonts(), ignore_system_fonts=True,
                                        package_path=self.folder / "pakketten",
                                        package_cache_path=self.folder / "pakketten")

    def pdf(self, data: dict[str, Any], *, created: datetime, secrets: tuple[str | None, ...] = ()) -> bytes:
        """The PDF of one document. Raises UnusableInput naming the template's line when Typst fails."""
        try:
            # Tagged (the default: screen readers follow the structure), dated by the run, not by this moment.
            # A dict of files is the binding's documented multi-file input; its type stub lists only paths and bytes.
            out = self._compiler.compile(input={**_MAIN, DATA: as_json(data).encode()},  # type: ignore[type-var]
                                         format="pdf", timestamp=created.replace(microsecond=0))
        except typst.TypstError as exc:
            raise self._error(exc, secrets) from None
        if not isinstance(out, bytes):  # one PDF, never a list of pages
            raise TypeError(f"Typst returned {type(out).__name__}, not bytes")
        return out

    def _error(self, exc: typst.TypstError, secrets: tuple[str | None, ...]) -> UnusableInput:
        message = str(getattr(exc, "message", "") or exc)
        for secret in secrets:
            if secret:  # as it is, and as Typst and JSON write it in a string
                for form in (secret, secret.replace("\\", "\\\\").replace('"', '\\"'), json.dumps(secret)[1:-1]):
                    message = message.replace(form, "***")
        found = _POSITION.search(str(getattr(exc, "diagnostic", "") or ""))
        place = f"'{self.template}'" + (f" op regel {found.group(1)}" if found else "")
        return UnusableInput(
            f"Fout in PDF-sjabloon {place}: {message.rstrip('.')}.",
            "Herstel het sjabloon (de taal is Typst; het leest zijn gegevens met json(\"aanmelding.json\") en kan "
            "geen andere bestanden gebruiken, zoals een logo) of haal het weg uit de sjablonenmap, dan gebruikt "
            "asr-batch het ingebouwde sjabloon. Of maak alleen HTML met --format html.",
        )

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Typesetter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CHECK_SECONDS = 30  # for one made-up document with an office's own template; the built-in one takes 20 ms


def check_template(templates_dir: Path | None) -> None:
    """Typeset a made-up document with the office's own aanmelding.typ, if there is one, so that a broken one
    stops the run with exit 2 before anything is written. Raises UnusableInput naming the file and line.

    Typst cannot be interrupted while it compiles, so the check runs in a child process that is stopped after
    CHECK_SECONDS: a template that never ends (a loop) is caught here, and Ctrl-C still works."""
    template = template_for(templates_dir)
    if template == builtin_template():
        return
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # leaving it stops the child
        job = pool.apply_async(_check, (str(template),))
        try:
            job.get(timeout=CHECK_SECONDS)
        except multiprocessing.TimeoutError:
            raise UnusableInput(
                f"Het PDF-sjabloon '{template}' is na {CHECK_SECONDS} seconden nog niet klaar met één voorbeeld.",
                "Zoek in het sjabloon naar een lus die niet eindigt, of haal het weg uit de sjablonenmap.") from None


def _check(template: str) -> None:
    from batch.aanmelding import document_data
    from batch.render import sample_result

    sample = sample_result()
    with Typesetter(Path(template)) as typesetter:
        for mask in (False, True):
            typesetter.pdf(document_data(sample.rows[0], sample, mask_secrets=mask), created=sample.generated_at)
