"""Python's cyclic garbage collector during a run.

A run builds its rows once and keeps them to the end, and neither they nor the report data hold reference
cycles: the collector finds nothing, yet walks them again and again as they grow (a third of `validate`'s
time at 100,000 rows, and a full walk at exit). So a command runs with the collector paused (cli.py), and
the console entry point keeps it off until the process ends.
Reference counting still frees everything that is not a cycle, and the peak memory stays the same.

An office's own templates are the exception: Jinja2 leaves reference cycles behind for one that calls a macro
(some 30 objects per document), so the collector runs while such documents are made (documents.py).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def _switch(on: bool) -> None:
    (gc.enable if on else gc.disable)()


@contextlib.contextmanager
def _set(enabled: bool) -> Iterator[None]:
    was = gc.isenabled()
    _switch(enabled)
    try:
        yield
    finally:
        _switch(was)


def paused() -> contextlib.AbstractContextManager[None]:
    """No cyclic collection inside the block (reference counting still frees memory)."""
    return _set(False)


def running() -> contextlib.AbstractContextManager[None]:
    """The cyclic collector runs inside the block, also when the caller paused it."""
    return _set(True)


def pause_until_exit() -> None:
    """For the console entry point: the collector stays off (`paused` blocks then restore it to off, and
    turning it back on would first collect everything the run made)."""
    gc.disable()


def skip_final_collection() -> None:
    """The process is about to exit: its objects are frozen, so the collection at exit has nothing to walk."""
    gc.freeze()
