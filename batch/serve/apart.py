"""Each uploaded workbook is handled in a process of its own, which ends when it is done.

Reading a workbook takes memory: calamine's cells and strings and then Python's (a valid workbook of 100,000
werkgevers some 600 MB, a zip bomb inside the limits as much as the limits allow). Neither CPython nor the C
allocator gives most of that back to the system after, so a server that read it itself would keep it for as long
as it runs (a review measured 1.1 GB kept of a 1.7 GB bomb). A process that ends returns all of it. What comes back
is a plain, picklable value: the Result, the MarkedFrom, or the Dutch message of an UnusableInput.

The child starts the way the document workers do (documents.start_method: spawn on Windows and macOS, a fork
server on Linux), never as a plain fork of this threaded server. A fork server's children do not see what was set
after it started, so the child is given this process's environment (the register, this computer's folder) and the
register's lock timeout. It ignores Ctrl+C and the other stop signals, as the document workers do: the server lets a
running upload finish before it stops and removes its files (server.py).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from batch.errors import UnusableInput

T = TypeVar("T")
FORMATS = ("html", "pdf")  # what the page makes: the start method is the one the documents of an upload need
PRELOAD = ["batch.pipeline", "batch.reader", "batch.validate", "batch.render", "batch.documents", "batch.pdf",
           "batch.carry_over", "batch.fonts", "batch.register", "batch.register_workbook", "sqlalchemy.dialects.sqlite"]


class Failed(Exception):
    """The child raised something other than UnusableInput: the page says so as for any unexpected error, naming
    the kind of error it was (never its text, which may hold a value from the workbook)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class _Outcome:
    value: Any = None
    unusable: tuple[str, str] | None = None
    failure: str | None = None
    secrets: list[str] = field(default_factory=list)  # what the child's reader remembered, for the page's redaction


@dataclass(frozen=True)
class _Settings:
    """What the child must share with the server, whatever process it was forked from."""

    environ: dict[str, str]
    lock_timeout: float


def _settings() -> _Settings:
    from batch.register import engines

    return _Settings(dict(os.environ), engines.LOCK_TIMEOUT)


def _child(sending: Any, settings: _Settings, function: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> None:
    from batch import collector, signals
    from batch.redact import known_secrets
    from batch.register import engines

    signals.ignore_further()  # a stop is the server's to handle: it waits for this upload
    collector.pause_until_exit()  # as a command runs (cli.py): the process ends, and its memory with it
    os.environ.clear()
    os.environ.update(settings.environ)
    engines.LOCK_TIMEOUT = settings.lock_timeout
    outcome = _Outcome()
    try:
        outcome.value = function(*args, **kwargs)
    except UnusableInput as exc:
        outcome.unusable = (exc.message, exc.fix)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the page says so in Dutch
        outcome.failure = type(exc).__name__
    outcome.secrets = known_secrets()
    sending.send(outcome)
    sending.close()


def apart(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` run in a process of its own: its value, or its UnusableInput raised here. The
    function and its arguments must be picklable (a module's function, paths, options). A child that dies without an
    answer (the system ended it: out of memory) is an UnusableInput too, in Dutch."""
    from batch.documents import start_method
    from batch.redact import remember

    method = start_method(FORMATS)
    if method == "forkserver":  # imported once, in the fork server: each upload's process starts warm
        multiprocessing.get_context(method).set_forkserver_preload(PRELOAD)
    context: Any = multiprocessing.get_context(method)  # typeshed's BaseContext has no Process
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sending, _settings(), function, args, kwargs),
                            name="asr-batch-werkmap")
    child.start()
    sending.close()  # so that a child that dies ends the wait below
    try:
        outcome: _Outcome | None = receiving.recv()
    except EOFError:
        outcome = None
    finally:
        receiving.close()
        child.join()
    if outcome is None:
        raise _died(child.exitcode)
    for secret in outcome.secrets:
        remember(secret)
    if outcome.unusable is not None:
        raise UnusableInput(*outcome.unusable)
    if outcome.failure is not None:
        raise Failed(outcome.failure)
    value: T = outcome.value
    return value


def _died(exitcode: int | None) -> UnusableInput:
    """A child that ended without an answer, in words: a negative exit code is the signal that ended it (on Linux
    the kernel ends a process with SIGKILL when memory runs out)."""
    fix = ("Controleer of u de goede werkmap kiest en probeer het opnieuw. Blijft het gebeuren, splits de werkgevers "
           "dan over meer werkmappen.")
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signaal {-exitcode}"
        return UnusableInput(
            f"De verwerking van de werkmap is onverwacht gestopt: het systeem heeft haar beëindigd ({name}), "
            "mogelijk doordat er niet genoeg geheugen vrij was.", fix)
    return UnusableInput(
        f"De verwerking van de werkmap is onverwacht gestopt (code {exitcode}); misschien was er niet genoeg "
        "geheugen vrij.", fix)
