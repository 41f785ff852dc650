"""Registration documents: render and write one HTML and/or PDF per valid row, over all cores.

The work is split into chunks of rows. With one worker the chunks run in this process; with more, a
process pool runs them (for HTML forked on Linux, so the rows are not copied; for PDFs started by a fork server,
since Typst's threads do not survive a fork). Either way the same functions do
the work, file names depend only on the row, and `row.documents` is filled in sheet order, so the output
does not depend on the number of workers. Progress advances as chunks finish.

With a pool the workers start early: `process` hands them the rows that look valid as soon as the cells
are parsed, while this process loads pandas and pandera and runs the rules. A record never changes after
normalising (normalise.py), so those documents are exactly what a later start would make. Documents of
rows that the rules then reject are removed again before the output folder is swapped in.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import shutil
import signal
import sys
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from batch import collector, signals
from batch.errors import UnusableInput
from batch.files import DIR_MODE, write_private
from batch.model import MEDIA, Result, RowResult
from batch.progress import Progress

if TYPE_CHECKING:
    import jinja2

    from batch.pdf import Typesetter

DOCUMENTS_DIR = "aanmeldingen"
PDF_WORK_DIR = ".pdf"  # in the staging folder: the typesetters' private folders; removed before the swap
# Below these numbers of documents per worker a pool costs more than it saves. PDFs: a second worker pays from
# some 50 documents (16: 0.87 s in one process, 0.90 s in two; 50: 1.02 s against 0.88 s).
POOL_MIN_PDF = 24
POOL_MIN_HTML = 1_500
START_METHOD_ENV = "ASR_BATCH_START_METHOD"  # forces how workers start: spawn is what Windows and macOS use
START_METHODS = ("spawn", "forkserver", "fork")


@dataclass(frozen=True)
class DocumentJob:
    result: Result  # in a worker: the Result as it was when the pool started (its records are final)
    folder: Path  # the aanmeldingen/ folder being filled
    formats: tuple[str, ...]
    mask_secrets: bool
    templates_dir: Path | None
    codes: frozenset[str] | None = None  # only these werkgevers get documents (--only-pending); None: all

    def wants(self, row: RowResult) -> bool:
        return _wanted(row, self.codes)


def _wanted(row: RowResult, codes: frozenset[str] | None) -> bool:
    return row.status == "valid" and (codes is None or row.werkgeverscode in codes)


def document_paths(row: RowResult, formats: Collection[str]) -> list[str]:
    """The row's documents relative to the output folder, in the order of MEDIA."""
    from batch.render import document_basename

    base = document_basename(row)
    return [f"{DOCUMENTS_DIR}/{base}.{medium}" for medium in MEDIA if medium in formats]


def plan_documents(result: Result, formats: tuple[str, ...], codes: frozenset[str] | None = None) -> list[int]:
    """Name every valid row's documents (only those of `codes`, when given) before any is written, so the
    reports can link to them while they are being made. Returns the indices of those rows."""
    indices = []
    for index, row in enumerate(result.rows):
        if _wanted(row, codes):
            row.documents = document_paths(row, formats)
            indices.append(index)
    return indices


class _Worker:
    """What one process needs to make documents: the job, a compiled template environment, a Typst typesetter
    for the PDFs and, in a pool, the lock that the workers take to create a file."""

    def __init__(self, job: DocumentJob, env: jinja2.Environment | None = None,
                 create_lock: AbstractContextManager[object] | None = None) -> None:
        from batch.render import make_environment

        self.job = job
        self.env: jinja2.Environment = env if env is not None else make_environment(job.templates_dir)
        self.create_lock = create_lock
        self._typesetter: Typesetter | None = None

    def typesetter(self) -> Typesetter:
        if self._typesetter is None:
            from batch.pdf import Typesetter, template_for

            # Its private folder sits beside aanmeldingen/ in the staging folder (Documents removes it).
            self._typesetter = Typesetter(template_for(self.job.templates_dir), _pdf_folder(self.job))
        return self._typesetter

    def run(self, indices: list[int], early: bool = False) -> list[int]:
        """Render and write the documents of these rows; returns the rows that failed. Only an early run
        (before the rules have run) returns a failure rather than raising it: the row may yet turn out
        invalid. If it does not, it is made again later, and then the failure is raised."""
        job = self.job
        folder = os.fspath(job.folder)
        failed = []
        # Jinja2 leaves reference cycles behind for an office template that calls a macro: then the collector
        # runs (collector.py).
        with collector.running() if job.templates_dir is not None else contextlib.nullcontext():
            for index in indices:
                row = job.result.rows[index]
                try:
                    for path in document_paths(row, job.formats):
                        write_private(os.path.join(folder, path.split("/", 1)[1]), self._document(row, path),
                                      create_lock=self.create_lock)
                except Exception:
                    if not early:
                        raise
                    failed.append(index)
        return failed

    def _document(self, row: RowResult, path: str) -> str | bytes:
        from batch.render import render_document

        job = self.job
        if path.endswith(".html"):
            return render_document(self.env, row, job.result, mask_secrets=job.mask_secrets)
        from batch.aanmelding import document_data

        data = document_data(row, job.result, mask_secrets=job.mask_secrets)
        secrets = (row.record.get("client_secret"), job.result.office.get("client_secret"))
        try:
            return self.typesetter().pdf(data, created=job.result.generated_at, secrets=secrets)
        except UnusableInput as exc:
            raise UnusableInput(f"De PDF voor rij {row.row} (werkgeverscode {row.werkgeverscode}) kan niet worden "
                                f"gemaakt. {exc.message}", exc.fix) from None

    def close(self) -> None:
        if self._typesetter is not None:
            self._typesetter.close()


def _pdf_folder(job: DocumentJob) -> Path:
    folder = job.folder.parent / PDF_WORK_DIR
    folder.mkdir(mode=DIR_MODE, exist_ok=True)
    return folder


_worker: _Worker | None = None


WORKER_NICENESS = 5


def _start_worker(job: DocumentJob, create_lock: AbstractContextManager[object]) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if hasattr(os, "nice"):  # not on Windows
        os.nice(WORKER_NICENESS)
    _worker = _Worker(job, create_lock=create_lock)


def _run_chunk(indices: list[int], early: bool) -> list[int]:
    if _worker is None:  # only a pool initialised by _start_worker calls this
        raise RuntimeError("document worker not started")
    return _worker.run(indices, early)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _chunks(indices: list[int], workers: int, largest: int) -> list[list[int]]:
    """Chunks small enough for a smooth progress bar and a quick stop on Ctrl-C."""
    size = max(1, min(largest, len(indices) // (workers * 8) or 1))
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def start_method(formats: Collection[str]) -> str:
    """How the document workers are started: $ASR_BATCH_START_METHOD if set, else what measures best here."""
    forced = os.environ.get(START_METHOD_ENV, "").strip().lower()
    if forced:
        if forced not in START_METHODS:
            raise UnusableInput(f"{START_METHOD_ENV}={forced!r} is geen bekende manier om processen te starten.",
                                f"Kies spawn, forkserver of fork, of laat {START_METHOD_ENV} weg.")
        here = [method for method in START_METHODS if method in multiprocessing.get_all_start_methods()]
        if forced not in here:  # fork and forkserver do not exist on Windows
            raise UnusableInput(f"{START_METHOD_ENV}={forced} kan niet op dit besturingssysteem.",
                                f"Kies {' of '.join(here)}, of laat {START_METHOD_ENV} weg.")
        return forced
    if not sys.platform.startswith("linux"):
        return "spawn"  # macOS and Windows: the job is pickled for each worker
    if "pdf" in formats:
        # Typst's threads do not survive a fork: a worker forked from a process that has typeset anything
        # (an office template's check, an earlier run in the same process) would hang. A fork server is a
        # clean process that forks the workers; the job is pickled to each (3,000 rows: some 50 ms).
        return "forkserver"
    return "fork"  # the rows are shared with the workers, not copied


class Documents:
    """The registration documents of one run. A context manager: leaving it stops the pool, if any.

    start_early() gives a pool the rows that look valid while the rules still run; finish() makes sure
    that exactly the planned documents (`row.documents` of the valid rows) exist."""

    def __init__(self, job: DocumentJob, *, jobs: int, env: jinja2.Environment | None = None) -> None:
        self.job = job
        self.env = env  # the caller's compiled templates, for the documents made in this process
        likely = sum(job.wants(row) for row in job.result.rows)
        threshold = POOL_MIN_PDF if "pdf" in job.formats else POOL_MIN_HTML
        self.workers = max(1, min(jobs, likely // threshold))
        self._largest = 4 if "pdf" in job.formats else 64
        self._method = start_method(job.formats)  # checked on every run, not only when a pool starts
        self._pool: ProcessPoolExecutor | None = None
        self._early: list[tuple[list[int], Future[list[int]]]] = []
        self._early_rows: set[int] = set()

    def __enter__(self) -> Documents:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            # After a failure or a Ctrl-C the workers finish their current chunk; a second Ctrl-C must not cut
            # that wait short, or the process hangs at exit on workers still holding tasks.
            with signals.ignored() if kind is not None else contextlib.nullcontext():
                self._pool.shutdown(wait=True, cancel_futures=kind is not None)
            self._pool = None
            gc.unfreeze()  # frozen when the pool started
        # The typesetters' folders held the data of the last PDF, secret included; never part of the output.
        shutil.rmtree(self.job.folder.parent / PDF_WORK_DIR, ignore_errors=True)

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if self._method == "forkserver":
                multiprocessing.get_context("forkserver").set_forkserver_preload(["batch.documents", "batch.pdf"])
            context = multiprocessing.get_context(self._method)
            # The workers take turns to create a file. Creating one locks the folder in the kernel, and a
            # process waiting for that lock may spin on a core instead of sleeping: slow when creating is
            # slow (ext4 without a journal skips every inode deleted in the last 30 s, one by one).
            create_lock = context.Lock()
            gc.freeze()  # what exists now lives all run: no collection walks it, and forked pages stay shared
            # A forking pool starts all its workers at the first submit, so they hold the Result as it is now.
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_start_worker, initargs=(self.job, create_lock))
        return self._pool

    def start_early(self) -> None:
        """Start the pool on the rows that look valid so far (none of their cells unreadable), when there are
        enough for a pool. Rows that would share a file name wait for the rules."""
        if self.workers <= 1:
            return
        from batch.render import document_basename

        rows = self.job.result.rows
        likely = [i for i, row in enumerate(rows) if self.job.wants(row) and not row.issues]
        names = Counter(document_basename(rows[i]) for i in likely)
        likely = [i for i in likely if names[document_basename(rows[i])] == 1]
        if not likely:
            return
        self._early_rows = set(likely)
        pool = self._start_pool()
        self._early = [(chunk, pool.submit(_run_chunk, chunk, True))
                       for chunk in _chunks(likely, self.workers, self._largest)]

    def finish(self, progress: Progress, meanwhile: Callable[[], None] = lambda: None) -> None:
        """Make every planned document that is not there yet and remove the early ones of rows that turned
        out invalid. `meanwhile` runs in this process while the workers work (or first, without a pool)."""
        rows = self.job.result.rows
        planned = [i for i, row in enumerate(rows) if row.documents and not row.carried_over]  # carry_over.py
        per_row = len(self.job.formats)
        progress.start(len(planned) * per_row, "Aanmeldingen schrijven")
        if self.workers <= 1:
            meanwhile()
            worker = _Worker(self.job, self.env)  # in this process: the caller's compiled templates serve
            try:
                for chunk in _chunks(planned, 1, self._largest):
                    worker.run(chunk)
                    progress.advance(len(chunk) * per_row)
            finally:
                worker.close()
        else:
            self._finish_pooled(planned, progress, meanwhile)
        progress.finish()

    def _finish_pooled(self, planned: list[int], progress: Progress, meanwhile: Callable[[], None]) -> None:
        rows = self.job.result.rows
        per_row = len(self.job.formats)
        pool = self._start_pool()
        wanted = set(planned)
        # Rows not started early are made once every early chunk is done and the documents of the rows the
        # rules rejected are gone, so that no rejected row's document can overwrite theirs.
        later = [i for i in planned if i not in self._early_rows]
        submitted: list[tuple[list[int], Future[list[int]]]] = []
        if not self._early:  # nothing to wait for
            submitted = [(chunk, pool.submit(_run_chunk, chunk, False))
                         for chunk in _chunks(later, self.workers, self._largest)]
            later = []
        meanwhile()
        for chunk, future in self._early:
            failed = set(future.result())
            later += [i for i in chunk if i in failed and i in wanted]  # made again, to raise the failure
            progress.advance(sum(i in wanted and i not in failed for i in chunk) * per_row)
        for i in sorted(self._early_rows - wanted):
            for path in document_paths(rows[i], self.job.formats):
                (self.job.folder / path.split("/", 1)[1]).unlink(missing_ok=True)
        submitted += [(chunk, pool.submit(_run_chunk, chunk, False))
                      for chunk in _chunks(sorted(later), self.workers, self._largest)]
        for chunk, future in submitted:
            future.result()
            progress.advance(len(chunk) * per_row)
