"""Write step: documents and reports into a staging folder beside DIR, swapped in only when complete.

An interrupted or failed run leaves the previous output exactly as it was. A folder that holds
anything but an earlier asr-batch output is refused unless --force (and then only our own entries in
it are replaced; the office's other files stay).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batch import signals
from batch.documents import DOCUMENTS_DIR, DocumentJob, Documents, default_jobs, plan_documents
from batch.errors import UnusableInput
from batch.files import DIR_MODE, FILE_MODE, write_private
from batch.model import Result
from batch.progress import Progress, silent
from batch.redact import redact

if TYPE_CHECKING:
    from jinja2 import Environment

    from batch.normalise import Draft

MARKER = ".asr-batch-uitvoer"
RESULT_FILE = "resultaat.json"
OUR_ENTRIES = (DOCUMENTS_DIR, "overzicht.html", "foutenrapport.html", "foutenrapport.xlsx", MARKER, RESULT_FILE)


@dataclass(frozen=True)
class Options:
    formats: tuple[str, ...] = ("html", "pdf")
    strict: bool = False
    mask_secrets: bool = False
    templates_dir: Path | None = None
    force: bool = False
    jobs: int | None = None  # worker processes for the documents; None: all cores


def _recover(target: Path) -> None:
    """A run killed between the two renames of the swap left the previous output as `.NAME.vorige`:
    put it back, so that nothing is lost."""
    old = target.with_name(f".{target.name}.vorige")
    if old.is_dir() and not target.exists():
        os.replace(old, target)


def _check_target(target: Path, source: Path, force: bool) -> bool:
    """Whether target holds someone else's files (only allowed with --force). Raises when unusable."""
    _recover(target)
    if target.exists() and not target.is_dir():
        raise UnusableInput(f"De uitvoermap '{target}' is een bestand, geen map.", "Kies met -o een andere map.")
    resolved = target.resolve()
    if resolved == source.resolve().parent or resolved in source.resolve().parents:
        raise UnusableInput(
            f"De uitvoermap '{target}' bevat het invoerbestand zelf; die map wordt bij elke run vervangen.",
            "Kies met -o een aparte map, bijvoorbeeld de standaard <naam>-uitvoer.",
        )
    if resolved == Path.home().resolve() or resolved.parent == resolved:
        raise UnusableInput(f"'{target}' kan geen uitvoermap zijn.", "Kies met -o een aparte, nieuwe map.")
    if not target.exists():
        return False
    entries = {p.name for p in target.iterdir()}
    if not entries or (MARKER in entries and entries <= set(OUR_ENTRIES)):
        return False  # empty, or an earlier asr-batch output and nothing else
    if not force:
        shown = ", ".join(sorted(entries)[:5]) + (" ..." if len(entries) > 5 else "")
        raise UnusableInput(
            f"De uitvoermap '{target}' bestaat al en bevat andere bestanden ({shown}).",
            "Kies met -o een andere map, of gebruik --force om de uitvoer van asr-batch ernaast te zetten.",
        )
    return True


STALE_AFTER = 3600  # seconds without a new document: the run that made the staging folder is gone


def _remove_stale_staging(target: Path) -> None:
    """A run killed outright (SIGKILL, power cut) cannot remove its staging folder, which holds documents
    with Client Secrets. The next run into the same folder does, once nothing has been written to it
    for an hour (a run still going writes a document every fraction of a second)."""
    now = time.time()
    for old in target.parent.glob(f".{glob.escape(target.name)}.*.bezig"):
        try:
            latest = max(p.stat().st_mtime for p in (old, old / DOCUMENTS_DIR) if p.exists())
        except OSError:
            continue
        if now - latest > STALE_AFTER:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".bezig", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, target: Path, foreign: bool) -> None:
    with signals.deferred():  # never half swapped
        _swap(staging, target, foreign)


def _swap(staging: Path, target: Path, foreign: bool) -> None:
    if foreign:
        # Replace only our own entries; the result file last, so its presence means "complete".
        for name in OUR_ENTRIES:
            src, dst = staging / name, target / name
            if not src.exists():
                if dst.is_dir():
                    shutil.rmtree(dst)
                elif dst.exists():
                    dst.unlink()
                continue
            if dst.is_dir():
                shutil.rmtree(dst)
            os.replace(src, dst)
        return
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.vorige")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(staging, target)
    staging.mkdir()  # the context manager removes it again
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_output(source: Path, target: Path, options: Options, *, progress: Progress = silent) -> Result:
    """Check the workbook and write the whole output folder. Returns the Result; never prints."""
    from batch.normalise import normalise
    from batch.reader import read_table
    from batch.render import check_templates, make_environment

    target = Path(os.path.abspath(target))  # "." and ".." have no name to put a staging folder beside
    env = make_environment(options.templates_dir)
    check_templates(env)  # a broken office template fails before anything is written
    if "pdf" in options.formats:
        from batch.pdf import check_template

        check_template(options.templates_dir)
    draft = normalise(read_table(source))
    foreign = _check_target(target, source, options.force)
    try:
        return _write_all(env, draft, source, target, foreign, options, progress)
    except OSError as exc:  # a folder we may not write in, a full disk
        raise UnusableInput(
            f"De uitvoer kan niet worden geschreven in '{target}' ({exc.strerror or type(exc).__name__}).",
            "Kies met -o een map waarin u mag schrijven en waar ruimte is; een eerdere uitvoer is ongewijzigd.",
        ) from None


def _write_all(env: Environment, draft: Draft, source: Path, target: Path, foreign: bool, options: Options,
               progress: Progress) -> Result:
    with _staging(target) as staging:
        docs = staging / DOCUMENTS_DIR
        docs.mkdir(mode=DIR_MODE)
        job = DocumentJob(draft.result, docs, options.formats, options.mask_secrets, options.templates_dir)
        with Documents(job, jobs=options.jobs or default_jobs(), env=env) as documents:
            documents.start_early()  # before pandas and pandera load: the documents overlap with the rules
            with signals.deferred():  # not cut halfway: numpy cannot be imported again after that
                from batch.validate import judge

            result = judge(draft, strict=options.strict)
            plan_documents(result, options.formats)
            documents.finish(progress, meanwhile=lambda: _write_reports(env, result, source, staging, foreign))
        _swap_in(staging, target, foreign)
    return result


def _write_reports(env: Environment, result: Result, source: Path, staging: Path, foreign: bool) -> None:
    """Everything but the documents; runs while the documents are being made (their names are planned)."""
    from batch.render import render_reports

    if not foreign:  # the marker claims the whole folder; a forced run into someone's folder does not
        write_private(staging / MARKER, f"asr-batch {result.tool_version}\n")
    write_private(staging / RESULT_FILE, redact(json.dumps(result.to_dict(), ensure_ascii=False, indent=2)) + "\n")
    overview, error_report = render_reports(env, result)
    write_private(staging / "overzicht.html", redact(overview))
    write_private(staging / "foutenrapport.html", redact(error_report))
    if result.all_issues:
        from batch.annotate import write_annotated_copy

        write_annotated_copy(source, result, result.input.sheet, staging / "foutenrapport.xlsx")
        (staging / "foutenrapport.xlsx").chmod(FILE_MODE)
