"""The output folder: a staging folder beside DIR, swapped in only when complete (pipeline.py fills it).

An interrupted or failed run leaves the previous output exactly as it was. A folder that holds
anything but an earlier asr-batch output is refused unless --force (and then only our own entries in
it are replaced; the office's other files stay).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from batch import file_errors, signals, system
from batch.documents import DOCUMENTS_DIR
from batch.errors import UnusableInput

if TYPE_CHECKING:
    from collections.abc import Iterable

    from batch.model import RowResult

MARKER = ".asr-batch-uitvoer"
RESULT_FILE = "resultaat.json"
OUR_ENTRIES = (DOCUMENTS_DIR, "overzicht.html", "foutenrapport.html", "foutenrapport.xlsx", MARKER, RESULT_FILE)


def _recover(target: Path) -> None:
    """A run killed between the two renames of the swap left the previous output as `.NAME.vorige`:
    put it back, so that nothing is lost."""
    old = target.with_name(f".{target.name}.vorige")
    if old.is_dir() and not target.exists():
        os.replace(old, target)


def check_target(target: Path, source: Path, force: bool) -> bool:
    """Whether target holds someone else's files (only allowed with --force). Raises when unusable."""
    file_errors.check_name(target, "De uitvoermap")
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
    _refuse_held_open(target)
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


def _ours(target: Path) -> list[Path]:
    """The files of an earlier asr-batch output in `target` that a run replaces."""
    files = [target / name for name in OUR_ENTRIES if name != DOCUMENTS_DIR and (target / name).is_file()]
    with contextlib.suppress(OSError):
        files += [p for p in (target / DOCUMENTS_DIR).iterdir() if p.is_file()]
    return files


def _refuse_held_open(target: Path) -> None:
    """On Windows, a report or document of the earlier run that is open in Excel or a PDF reader cannot be
    replaced: say so before the run does its work, naming the file (nothing has been written yet)."""
    held = file_errors.held_open(_ours(target))
    if held:
        raise file_errors.open_elsewhere(held[0], "vervangen", others=len(held) - 1)


STAGING_EXTRA = len("..12345678.bezig")  # what the staging folder's name adds to the output folder's


def check_path_length(target: Path, rows: Iterable[RowResult], formats: tuple[str, ...]) -> None:
    """On Windows without long paths, refuse an output folder so deep that the run's longest path (a document in
    the staging folder) would pass MAX_PATH, before anything is written. Document names are bounded (a code of at
    most 40 characters, a name of at most 60), so only the folder can make a path too long."""
    if system.long_paths():
        return
    from batch.documents import document_paths

    names = [*OUR_ENTRIES, *(name for row in rows if row.werkgeverscode for name in document_paths(row, formats))]
    deepest = len(str(target)) + STAGING_EXTRA + 1 + max(len(name) for name in names)
    if deepest >= system.MAX_PATH:
        raise UnusableInput(
            f"De uitvoermap '{target}' ligt te diep: het langste pad dat asr-batch erin schrijft zou {deepest} "
            f"tekens tellen, en Windows staat er {system.MAX_PATH - 1} toe. Er is niets geschreven.",
            file_errors.SHORTER.replace("of een kortere bestandsnaam", "of een kortere mapnaam"))


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
def staging_folder(target: Path) -> Iterator[Path]:
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".bezig", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, target: Path, foreign: bool) -> None:
    with signals.deferred():  # never half swapped
        try:
            _swap(staging, target, foreign)
        except PermissionError:
            # Windows: a file of the earlier output opened since the run began (Excel, a PDF reader) holds its
            # folder too; the error names the folder, the clerk needs the file. The earlier output is as it was.
            held = file_errors.held_open(_ours(target))
            if held:
                raise file_errors.open_elsewhere(held[0], "vervangen", others=len(held) - 1) from None
            raise


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
            file_errors.retry_busy(functools.partial(os.replace, src, dst))
        return
    old = None
    if target.exists():
        previous = target.with_name(f".{target.name}.vorige")
        if previous.exists():
            shutil.rmtree(previous)
        file_errors.retry_busy(functools.partial(os.replace, target, previous))
        old = previous
    try:
        file_errors.retry_busy(functools.partial(os.replace, staging, target))
    except BaseException:
        if old is not None:  # the earlier output back where it was, not left for the next run to recover
            with contextlib.suppress(OSError):
                os.replace(old, target)
        raise
    staging.mkdir()  # the context manager removes it again
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def holds_our_document(path: Path) -> bool:
    """Whether `path` is a registration document in an asr-batch output folder (for `purge`): a file in its
    aanmeldingen/ folder, beside the marker that only asr-batch's own output folders hold, and neither the file nor
    that folder a symbolic link (one could lead the deletion elsewhere)."""
    folder = path.parent
    return (folder.name == DOCUMENTS_DIR and not system.is_link(path) and not system.is_link(folder)
            and path.is_file() and (folder.parent / MARKER).is_file())
