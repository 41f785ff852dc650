"""The files of the latest upload: each one by its path under /uitvoer/, and its documents as one zip. Only what
that upload listed is served: no path outside it, not even a sibling."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask import Blueprint, abort, send_file
from werkzeug.wrappers import Response as BaseResponse

from batch.documents import DOCUMENTS_DIR
from batch.serve.common import the_page
from batch.serve.policy import document_policy

blueprint = Blueprint("files", __name__)


@blueprint.get("/uitvoer/<path:name>")
def output_file(name: str) -> BaseResponse:
    run = the_page().run
    path = run.file(name) if run else None
    if path is None:  # only what the latest run listed: no path outside it, not even a sibling
        abort(404)
    response = send_file(path, as_attachment=name.endswith(".xlsx"), download_name=Path(name).name, max_age=0)
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = document_policy(path)
    return response


@blueprint.get("/aanmeldingen.zip")
def documents_zip() -> BaseResponse:
    run = the_page().run
    if run is None:
        abort(404)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in run.files().items():
            if name.startswith(f"{DOCUMENTS_DIR}/"):
                archive.write(path, name)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True,
                     download_name=f"{Path(run.name).stem}-aanmeldingen.zip")
