"""The server process of the local page: waitress on 127.0.0.1 (never another address), under a name of its own
(access.py), the private temporary folder it serves from, the file that opens the page in the browser, and a clean
stop (the signals themselves are the CLI's)."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from batch.errors import UnusableInput
from batch.redact import redact
from batch.serve.access import Access, going_on, own_host_name
from batch.serve.app import create_app
from batch.serve.gate import BODY_LIMIT, HEADER_LIMIT, guarded_channel
from batch.serve.running import announce, withdraw
from batch.serve.state import Page
from batch.serve.stop import Stop
from batch.workspace import Workspace

if TYPE_CHECKING:
    from waitress.server import BaseWSGIServer, MultiSocketServer

IDLE_LIMIT = 30  # seconds a connection may wait without sending anything before waitress closes it
SENDING_LIMIT = 5.0  # seconds the closing page may take to leave before the server stops anyway

# What the terminal says while the page runs and as it stops (the CLI prints them on stderr).
RUNNING = ("asr-batch serve draait op deze computer. Stop met de knop Stoppen op de pagina, of met Ctrl+C in dit "
           "venster.")
FINISHING_UPLOAD = "Even wachten: de werkmap die nu wordt verwerkt, wordt eerst afgemaakt en dan gewist."


class _OneLine(logging.Handler):
    """waitress's own errors (a broken connection) as one redacted line on stderr, never a traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        import sys

        with contextlib.suppress(Exception):
            sys.stderr.write(redact(f"asr-batch serve: {record.getMessage()}") + "\n")


def _quiet_waitress() -> None:
    logger = logging.getLogger("waitress")
    logger.setLevel(logging.ERROR)  # its warnings ("Task queue depth", threads at shutdown) are not the clerk's
    logger.propagate = False
    if not any(isinstance(h, _OneLine) for h in logger.handlers):
        logger.addHandler(_OneLine())


def write_opener(folder: Path, url: str) -> Path:
    """The file the browser is started with: it sends the browser on to `url`, so the token is never in the
    browser's command line, which every user of the computer can read (as Jupyter does). Created 0600, in the
    private folder that is removed when the server stops."""
    path = folder / "openen.html"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(going_on(url))
    return path


def _unsent(channels: dict[int, Any]) -> bool:
    """Whether a connection still holds an answer that is not yet sent."""
    return any(getattr(channel, "total_outbufs_len", 0) for channel in list(channels.values()))


class Server:
    """The page served by waitress on 127.0.0.1 (never another address): `url` to open, `run` until stopped."""

    app: Flask

    def __init__(self, *, port: int, register: str | None) -> None:
        from waitress.server import create_server

        from batch.register import status_of

        status_of(register)  # an unusable register stops the start, before any page is served
        _quiet_waitress()
        self.workspace = Workspace()
        try:
            # Port 0 asks the system for a free one; the app needs the real port for its Host check.
            self._server: BaseWSGIServer | MultiSocketServer = create_server(
                lambda environ, start: self.app(environ, start), host="127.0.0.1", port=port, threads=4,
                max_request_body_size=BODY_LIMIT, max_request_header_size=HEADER_LIMIT, channel_timeout=IDLE_LIMIT,
                clear_untrusted_proxy_headers=True, ident="asr-batch")
        except OSError as exc:
            self.workspace.close()
            raise UnusableInput(f"Poort {port} op 127.0.0.1 kan niet worden gebruikt ({exc.strerror}).",
                                "Kies een andere poort met --port, of laat --port weg voor een vrije poort."
                                ) from None
        self.port = int(getattr(self._server, "effective_port", port))
        self.host = own_host_name()
        self.app = create_app(port=self.port, host=self.host, register=register, workspace=self.workspace)
        access: Access = self.app.extensions["asr-batch-access"]
        # No connection is accepted before `run`: every one meets the gate.
        self._server.channel_class = guarded_channel(access)
        self.url = f"http://{self.host}:{self.port}/?token={access.token}"
        self.opener = write_opener(self.workspace.root, self.url)
        self._announced = announce(self.url, self.opener, register)  # from now on a second `serve` opens this page

    @property
    def _page(self) -> Page:
        page: Page = self.app.extensions["asr-batch"]
        return page

    @property
    def busy(self) -> bool:
        """Whether an upload is being processed right now."""
        return self._page.busy.locked()

    def run(self) -> None:
        """Serve until Ctrl+C or a stop signal (raised here, as before) or the page's Stoppen button: then on
        until the closing page has been sent (a few seconds at most), and return."""
        from waitress import wasyncore

        stop: Stop = self.app.extensions["asr-batch-stop"]
        stop.wake = self._server.pull_trigger
        server = self._server
        timeout = server.adj.asyncore_loop_timeout
        while not stop.requested.is_set():
            wasyncore.loop(timeout=timeout, map=server._map, count=1)
        deadline = time.monotonic() + SENDING_LIMIT
        while _unsent(server._map) and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.05, map=server._map, count=1)

    def close(self) -> bool:
        """After `run` has returned: let an upload that is running finish (its documents hold secrets and are
        still being written) and every request thread end, then close the sockets and remove the workspace.
        True when nothing of the workspace is left."""
        withdraw(self._announced, self.url)
        with self._page.busy:
            self._server.task_dispatcher.shutdown(timeout=60)
            with contextlib.suppress(OSError):
                self._server.close()
            return self.workspace.close()

    def stopped(self, cleaned: bool) -> str:
        """The last line in the terminal: whether the temporary folder (which may hold secrets) is gone."""
        if cleaned:
            return "asr-batch serve gestopt; de tijdelijke bestanden zijn gewist."
        return (f"asr-batch serve gestopt, maar de tijdelijke map {self.workspace.root} kon niet helemaal worden "
                "gewist. Verwijder hem zelf: er kunnen aanmeldingen met het Client Secret in staan.")
