"""The page's WSGI app: the access rules and the pages, put together for one server."""

from __future__ import annotations

import secrets

from flask import Flask

from batch.serve import access, common, files, marking, register_page, round_trip, start, stop, werkbank
from batch.serve.access import Access
from batch.serve.common import UPLOAD_LIMIT
from batch.serve.state import Page
from batch.serve.stop import Stop
from batch.workspace import Workspace


def create_app(*, port: int, register: str | None, workspace: Workspace, token: str | None = None,
               host: str | None = None) -> Flask:
    """The page's WSGI app, for a server on 127.0.0.1:`port` named `host` (without one: 127.0.0.1 and localhost).
    `token` is made here unless given (tests)."""
    app = Flask("batch.serve", static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=UPLOAD_LIMIT, MAX_FORM_MEMORY_SIZE=1024 * 1024)
    app.extensions["asr-batch"] = Page(register, workspace)
    app.extensions["asr-batch-access"] = Access(token or secrets.token_urlsafe(32), port, host)
    app.extensions["asr-batch-stop"] = Stop()
    # access has no page of its own: its check and headers hold for every request, to a page or not
    for blueprint in (access.blueprint, common.blueprint, start.blueprint, files.blueprint, marking.blueprint,
                      register_page.blueprint, round_trip.blueprint, stop.blueprint, werkbank.blueprint):
        app.register_blueprint(blueprint)
    return app
