"""The page's "Stoppen" button: the server stops as with Ctrl+C, after the page that says so has been sent.

The request only takes note (`Stop.request`, once its answer is handed to waitress); the main thread, which runs
waitress's loop, sees the note, sends what is still waiting in its buffers and returns from `Server.run`, so the
CLI's own way out runs: an upload still being processed is finished, then the temporary folder is removed.
No signal is sent: on Windows `os.kill(pid, SIGINT)` is a Ctrl+C to the whole console (the clerk's other programs
in it too), and a KeyboardInterrupt raised in the main thread would end the loop before the closing page is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Blueprint, current_app
from werkzeug.wrappers import Response as BaseResponse

from batch.serve.common import render, the_page

blueprint = Blueprint("stop", __name__)


class Stop:
    """Whether the page asked the server to stop; `wake` interrupts the server's wait for the next request."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.wake: Callable[[], None] = lambda: None

    def request(self) -> None:
        self.requested.set()
        self.wake()


def the_stop() -> Stop:
    stop: Stop = current_app.extensions["asr-batch-stop"]
    return stop


@blueprint.post("/stoppen")
def stop() -> BaseResponse:
    response = render("pagina_gestopt.html", bezig=the_page().busy.locked())
    # Only once the page is in waitress's hands: the server then stops as soon as it has been sent.
    response.call_on_close(the_stop().request)
    return response
