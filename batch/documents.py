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
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batch.errors import UnusableInput
from batch.files import write_private
from batch.model import Result
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

    def __init__(self, job: DocumentJob) -> None:
        from batch.render import make_environment

        self.job = job
        self.env: jinja2.Environment = make_environment(job.templates_dir)

    def run(self, indices: list[int]) -> list[tuple[int, list[str]]]:
        from batch.render import document_basename, render_document

        job = self.job
        done = []
        for index in indices:
            row = job.result.rows[index]
            base = document_basename(row)
            paths = []
            for medium in job.formats:
                source = render_document(self.env, row, job.result, mask_secrets=job.mask_secrets, medium=medium)
                data: str | bytes = source if medium == "html" else _pdf(source, row.row, row.werkgeverscode, job)
                write_private(job.folder / f"{base}.{medium}", data)
                paths.append(f"{DOCUMENTS_DIR}/{base}.{medium}")
            done.append((index, paths))
        return done


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


def _run_chunk(indices: list[int]) -> list[tuple[int, list[str]]]:
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


def write_documents(job: DocumentJob, *, jobs: int, progress: Progress) -> None:
    """Write every valid row's documents into job.folder and record their paths on the rows."""
    indices = [i for i, row in enumerate(job.result.rows) if row.status == "valid"]
    progress.start(len(indices) * len(job.formats), "Aanmeldingen schrijven")
    workers = _worker_count(job, len(indices), jobs)
    chunks = _chunks(indices, workers, largest=4 if "pdf" in job.formats else 64)
    for finished in _execute(job, chunks, workers):
        for index, paths in finished:
            job.result.rows[index].documents = paths
        progress.advance(len(finished) * len(job.formats))
    progress.finish()


def _execute(job: DocumentJob, chunks: list[list[int]], workers: int) -> Iterable[list[tuple[int, list[str]]]]:
    if workers <= 1:
        worker = _Worker(job)
        return (worker.run(chunk) for chunk in chunks)
    return _pooled(job, chunks, workers)


def _pooled(job: DocumentJob, chunks: list[list[int]], workers: int) -> Iterator[list[tuple[int, list[str]]]]:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                             initargs=(job,)) as pool:
        try:
            yield from pool.map(_run_chunk, chunks)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
