"""The register workbook from the register page, there and back: download it (`status --xlsx`), upload it filled
in, see every change (and every problem, by its cell), then apply it with one button (`mark --from`), which checks
again: a colleague may have marked a werkgever meanwhile."""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, abort, redirect, request, send_file
from werkzeug.wrappers import Response as BaseResponse

from batch.errors import UnusableInput
from batch.serve.apart import apart
from batch.serve.common import render, the_page

if TYPE_CHECKING:
    from batch.register_workbook import MarkedFrom

blueprint = Blueprint("round_trip", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blueprint.get("/register.xlsx")
def download() -> BaseResponse:
    from batch.register import Listing
    from batch.register_workbook import export_register

    today = date.today()
    with tempfile.TemporaryDirectory(dir=the_page().workspace.root) as folder:
        path = Path(folder) / "register.xlsx"
        export_register(the_page().register, path, Listing(today))
        data = path.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"register-{today:%Y-%m-%d}.xlsx",
                     mimetype=XLSX)


def _preview(status: int = 200, *, error: UnusableInput | None = None, result: MarkedFrom | None = None
             ) -> BaseResponse:
    """The changes of the latest uploaded register workbook (read, nothing changed), every problem by its cell, or
    why it cannot be used at all."""
    from batch.register_workbook import mark_from
    from batch.register_workbook.marking import change_text

    page = the_page()
    upload = page.register_upload
    if error is None and result is None and upload is not None:
        try:
            result = apart(mark_from, upload.path, page.register, dry_run=True, name=upload.name)
        except UnusableInput as exc:
            error = exc
    names = {e.werkgeverscode: e.naam or "" for e in page.status().employers}
    return render("pagina_registerwerkmap.html", status=400 if error is not None else status, upload=upload,
                  resultaat=result, fout=error, namen=names, wijziging=change_text, opnieuw=status == 409)


@blueprint.post("/registerwerkmap")
def upload() -> BaseResponse:
    given = request.files.get("registerwerkmap")
    if given is None or not given.filename:
        return _preview(error=UnusableInput("Er is geen registerwerkmap gekozen.",
                                            "Kies het .xlsx-bestand dat u met de knop 'Registerwerkmap downloaden' "
                                            "kreeg en waarin u de datums hebt ingevuld."))
    the_page().save_register_upload(given)
    return _preview()


@blueprint.post("/registerwerkmap/toepassen")
def apply() -> BaseResponse:
    from batch.register_workbook import mark_from

    page = the_page()
    upload = page.register_upload
    if upload is None or request.form.get("upload") != upload.key:
        abort(410)
    try:
        result = apart(mark_from, upload.path, page.register, dry_run=False, name=upload.name)
    except UnusableInput as exc:
        return _preview(error=exc)
    if result.problems:  # checked again at the apply: a colleague may have marked one since the preview
        return _preview(409, result=result)
    page.forget_register_upload()
    return redirect(f"/register?{urlencode({'bijgewerkt': len(result.done)})}", code=303)
