"""Ctrl-C and SIGTERM: raised as exceptions in a command, and held off around the few steps that must not be
cut short."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

STOP_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")


def stop_signals(available: Any = signal) -> tuple[int, ...]:
    """The signals that stop a command, of those this system has (`available`: the signal module, or a stand-in
    for another system's). POSIX: Ctrl+C, a stop request, a closed terminal (SIGINT, SIGTERM, SIGHUP). Windows has
    no SIGHUP: Ctrl+Break arrives as SIGBREAK. A console window being closed arrives as SIGBREAK too, but Windows ends
    the process as soon as the C runtime has noted it, before Python runs a handler: what that run leaves (a staging
    folder, serve's private folder) the next run or server removes (output.py, workspace.py). SIGTERM is registered
    there but never sent by anyone (`taskkill /F` ends a process outright, like SIGKILL)."""
    return tuple(getattr(available, name) for name in STOP_SIGNAL_NAMES if hasattr(available, name))


STOP_SIGNALS = stop_signals()


class Terminated(SystemExit):
    """SIGTERM (or a closed terminal: SIGHUP, SIGBREAK), raised like KeyboardInterrupt so every `finally`
    (temporary folders, which may hold secrets) still runs.

    A SystemExit, not a bare BaseException: waitress lets only KeyboardInterrupt, SystemExit and its own ExitNow out
    of a connection's handler and logs anything else, so a stop signal that arrived while `serve` was closing a
    connection was swallowed and the server ran on. guard.py and serve catch it by name before anything else."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_stop_signal(signum: int, frame: object) -> None:
    raise Terminated(signum)


def raise_on_stop() -> None:
    """Ctrl-C raises KeyboardInterrupt, the other stop signals `Terminated`."""
    # Also when started in the background, where a shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in STOP_SIGNALS:
        if signum != signal.SIGINT:
            signal.signal(signum, _on_stop_signal)


def ignore_further() -> None:
    """The run is stopped and cleaned up: a second Ctrl-C (or one still pending) must not turn the exit
    code into a crash on the way out."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextlib.contextmanager
def _handled_by(handler: Callable[[int, Any], object] | int) -> Iterator[bool]:
    """Stop signals go to `handler` inside the block. Yields False (and changes nothing) outside the main thread,
    where signal handlers cannot be changed."""
    try:
        previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    except ValueError:
        yield False
        return
    try:
        yield True
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C or SIGTERM inside the block is acted on after it.

    Python runs signal handlers in the main thread whichever thread the OS delivers to (numpy starts
    threads), so the handlers are swapped for ones that only take note; the noted signal is re-raised
    through the original handler when the block is done."""
    noted: list[int] = []
    with _handled_by(lambda signum, frame: noted.append(signum)):
        yield
    if noted:
        signal.raise_signal(noted[0])


@contextlib.contextmanager
def ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM are ignored inside the block: for the way out of a run that is already stopping."""
    with _handled_by(signal.SIG_IGN):
        yield
