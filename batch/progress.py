"""Progress reporting, injected into the core by the CLI: the core never prints."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, Protocol


class Progress(Protocol):
    def start(self, total: int, label: str) -> None: ...
    def advance(self, steps: int) -> None: ...
    def finish(self) -> None: ...


class _Silent:
    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, steps: int) -> None:
        pass

    def finish(self) -> None:
        pass


silent: Progress = _Silent()


class _Bar:
    """A click progress bar on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int, label: str) -> None:
        import click

        self.finish()
        if total > 0:
            self._bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            self._bar.__enter__()

    def advance(self, steps: int) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@contextlib.contextmanager
def progress_for(*, enabled: bool) -> Iterator[Progress]:
    """A bar when stderr is a terminal and the user did not ask for quiet; silence otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield silent
        return
    bar = _Bar()
    try:
        yield bar
    finally:
        bar.finish()
