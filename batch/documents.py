"""Registration documents: render and write one HTML and/or PDF per valid row, over all cores.

The work is split into chunks of rows. With one worker the chunks run in this process; with more, a
process pool runs them (forked on Linux, so the result is not copied). Either way the same functions do
the work, file names depend only on the row, and `row.documents` is filled in sheet order, so the output
does not depend on the number of workers. Progress advances as chunks finish.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batch.errors import UnusableInput
from batch.files import write_private
from batch.model import MEDIA, Result
from batch.progress import Progress

if TYPE_CHECKING:
    import jinja2

DOCUMENTS_DIR = "aanmeldingen"
# Below these numbers of documents a pool costs more than it saves.
POOL_MIN_PDF = 8
POOL_MIN_HTML = 1_500


@dataclass(frozen=True)
class DocumentJob:
    result: Result
    folder: Path  # the aanmeldingen/ folder being filled
    formats: tuple[str, ...]
    mask_secrets: bool
    templates_dir: Path | None


class _Worker:
    """What one process needs to render documents: the job and a compiled template environment."""

    def __init__(self, job: DocumentJob, env: jinja2.Environment | None = None) -> None:
        from batch.render import make_environment

        self.job = job
        self.env: jinja2.Environment = env if env is not None else make_environment(job.templates_dir)

    def run(self, indices: list[int]) -> int:
        """Render and write the planned documents of these rows; returns how many rows were done."""
        from batch.render import render_document

        job = self.job
        for index in indices:
            row = job.result.rows[index]
            for path in row.documents:
                medium = path.rsplit(".", 1)[1]
                source = render_document(self.env, row, job.result, mask_secrets=job.mask_secrets, medium=medium)
                data: str | bytes = source if medium == "html" else _pdf(source, row.row, row.werkgeverscode, job)
                write_private(job.folder / path.split("/", 1)[1], data)
        return len(indices)


def _pdf(source: str, row: int, code: str | None, job: DocumentJob) -> bytes:
    from batch.pdf import PdfError, html_to_pdf

    try:
        return html_to_pdf(source, creation_date=job.result.generated_at)
    except PdfError as exc:
        raise UnusableInput(
            f"De PDF voor rij {row} (werkgeverscode {code}) kan niet worden gemaakt: {exc}",
            "Vereenvoudig het eigen sjabloon aanmelding.html, of maak alleen HTML met --format html.",
        ) from None


_worker: _Worker | None = None


def _start_worker(job: DocumentJob) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker = _Worker(job)


def _run_chunk(indices: list[int]) -> int:
    if _worker is None:  # only a pool initialised by _start_worker calls this
        raise RuntimeError("document worker not started")
    return _worker.run(indices)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _chunks(indices: list[int], workers: int, largest: int) -> list[list[int]]:
    """Chunks small enough for a smooth progress bar and a quick stop on Ctrl-C."""
    size = max(1, min(largest, len(indices) // (workers * 8) or 1))
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def _worker_count(job: DocumentJob, count: int, jobs: int) -> int:
    threshold = POOL_MIN_PDF if "pdf" in job.formats else POOL_MIN_HTML
    return max(1, min(jobs, count // threshold))


def plan_documents(result: Result, formats: tuple[str, ...]) -> list[int]:
    """Name every valid row's documents (in the order of `formats`) before any is written, so the
    reports can link to them while they are being made. Returns the indices of those rows."""
    from batch.render import document_basename

    indices = []
    for index, row in enumerate(result.rows):
        if row.status == "valid":
            base = document_basename(row)
            row.documents = [f"{DOCUMENTS_DIR}/{base}.{medium}" for medium in MEDIA if medium in formats]
            indices.append(index)
    return indices


def write_documents(job: DocumentJob, *, jobs: int, progress: Progress,
                    meanwhile: Callable[[], None] = lambda: None, env: jinja2.Environment | None = None) -> None:
    """Write the planned documents into job.folder. `meanwhile` runs in this process while a pool of
    workers renders (or before the documents, without a pool); every document exists on return."""
    indices = [i for i, row in enumerate(job.result.rows) if row.documents]
    progress.start(len(indices) * len(job.formats), "Aanmeldingen schrijven")
    workers = _worker_count(job, len(indices), jobs)
    chunks = _chunks(indices, workers, largest=4 if "pdf" in job.formats else 64)
    if workers <= 1:
        meanwhile()
        worker = _Worker(job, env)  # in this process: the caller's compiled templates serve
        for chunk in chunks:
            progress.advance(worker.run(chunk) * len(job.formats))
    else:
        _pooled(job, chunks, workers, progress, meanwhile)
    progress.finish()


def _pooled(job: DocumentJob, chunks: list[list[int]], workers: int, progress: Progress,
            meanwhile: Callable[[], None]) -> None:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    if method == "fork" and "pdf" in job.formats:
        from batch.pdf import prepare

        prepare()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                             initargs=(job,)) as pool:
        try:
            done = pool.map(_run_chunk, chunks)  # submits every chunk now
            meanwhile()
            for rows in done:
                progress.advance(rows * len(job.formats))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
