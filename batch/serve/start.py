"""The start page and what it leads to: upload a workbook, see the result of the latest upload, fetch a blank
workbook."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, abort, redirect, request, send_file
from werkzeug.wrappers import Response as BaseResponse

from batch.documents import DOCUMENTS_DIR
from batch.errors import UnusableInput
from batch.model import REGISTER_STATES
from batch.serve.common import render, the_page

blueprint = Blueprint("start", __name__)


def _start_page(status: int = 200, error: tuple[str, str] | None = None) -> BaseResponse:
    page = the_page()
    return render("pagina_start.html", status=status, register=page.status(), laatste=page.run,
                  staten=REGISTER_STATES, fout=error)


@blueprint.get("/")
def start() -> BaseResponse:
    return _start_page()


@blueprint.post("/verwerk")
def upload() -> BaseResponse:
    page = the_page()
    upload = request.files.get("werkmap")
    if upload is None or not upload.filename:
        return _start_page(400, ("Er is geen werkmap gekozen.", "Kies eerst het .xlsx-bestand met de werkgevers."))
    if not page.busy.acquire(blocking=False):
        abort(409)
    try:
        page.process(upload, only_pending=request.form.get("alleen_open") == "ja")
    except UnusableInput as exc:
        return _start_page(400, (exc.message, exc.fix))
    finally:
        page.busy.release()
    return redirect("/resultaat", code=303)


@blueprint.get("/resultaat")
def result() -> BaseResponse:
    from batch.render import report_context

    page = the_page()
    run = page.run
    if run is None:
        return redirect("/", code=303)
    files = run.files()
    return render("pagina_resultaat.html", run=run, basis="/uitvoer/", nog_open=len(page.pending(run)),
                  bestanden=files, documenten=sum(n.startswith(f"{DOCUMENTS_DIR}/") for n in files),
                  **report_context(run.result))


@blueprint.get("/sjabloon.xlsx")
def blank_workbook() -> BaseResponse:
    from batch.template import write_template

    with tempfile.TemporaryDirectory(dir=the_page().workspace.root) as folder:
        data = write_template(Path(folder) / "asr-werkgevers.xlsx").read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name="asr-werkgevers.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
