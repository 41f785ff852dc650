"""Every way a command can fail, turned into a Dutch message on stderr and the contract's exit code."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import click

from batch import collector
from batch.errors import UnusableInput
from batch.redact import redact


class Context:
    debug: bool = False


def fail(message: str) -> None:
    click.echo(redact(message), err=True)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """--debug shows library warnings, through the redaction point like everything else."""
    fail(warnings.formatwarning(message, category, filename, lineno, line).rstrip())


def guarded(func: Callable[..., int]) -> Callable[..., None]:
    """Run a command body; turn every failure into a Dutch message and the contract's exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> None:
        from batch.signals import Terminated, ignore_further, raise_on_stop

        raise_on_stop()
        if Context.debug:
            warnings.showwarning = _show_warning
        else:
            warnings.simplefilter("ignore")  # library warnings are not the office's to read
        try:
            with collector.paused():
                code = func(*args, **kwargs)
        except UnusableInput as exc:
            fail(f"asr-batch: {exc.message}")
            if exc.fix:
                fail(f"Oplossing: {exc.fix}")
            code = exc.exit_code
        except KeyboardInterrupt:
            ignore_further()
            fail("asr-batch: afgebroken (Ctrl+C); een uitvoermap wordt alleen vervangen door een volledige run.")
            code = 130
        except Terminated as stop:
            import signal

            ignore_further()
            fail(f"asr-batch: gestopt ({signal.Signals(stop.signum).name}); een uitvoermap wordt alleen vervangen "
                 "door een volledige run.")
            code = 128 + stop.signum
        except BrokenPipeError:  # the reader of stdout left early (asr-batch status --json | head): not a fault
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that Python's own flush at exit does not fail again
            code = 141  # 128 + SIGPIPE, as a shell reports it
        except Exception as exc:  # the user never sees a traceback unless asked
            if Context.debug:
                fail(redact("".join(traceback.format_exception(exc))))
            fail(f"asr-batch: onverwachte fout ({type(exc).__name__}). Draai opnieuw met --debug voor details "
                 "en meld het met dat bericht (zonder geheimen: die zijn al weggelaten).")
            code = 2
        sys.exit(code)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper
