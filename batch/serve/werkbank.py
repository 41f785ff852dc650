"""The werkbank: the upload's werkgevers still to submit, one at a time, with the values to copy into the portal.

The register holds no Client ID, secret or DGA data, so the werkbank shows the values of the workbook uploaded in
this session; it is the one page that shows a secret.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, request
from werkzeug.wrappers import Response as BaseResponse

from batch.model import RowResult
from batch.serve.common import render, the_page
from batch.serve.state import Run

blueprint = Blueprint("werkbank", __name__)


def _current(run: Run, pending: list[tuple[RowResult, str]]) -> tuple[RowResult, str] | None:
    """The werkgever to show: the one asked for by `code`, else the next one after `na`, else the first."""
    if not pending:
        return None
    codes = [row.werkgeverscode for row, _ in pending]
    wanted, after = request.args.get("code"), request.args.get("na")
    if wanted in codes:
        return pending[codes.index(wanted)]
    if after is not None:  # the next one after `after` in the workbook, wrapping round
        order = {r.werkgeverscode: n for n, r in enumerate(run.result.rows)}
        start = order.get(after, -1)
        return next((p for p in pending if order[p[0].werkgeverscode] > start), pending[0])
    return pending[0]


@blueprint.get("/werkbank")
def workbench() -> BaseResponse:
    from batch.aanmelding import document_data, mask_secret
    from batch.register import describe_changes

    page = the_page()
    run = page.run
    pending = page.pending(run)
    current = _current(run, pending) if run is not None else None
    data = document = employer = None
    if current is not None and run is not None:
        data = document_data(current[0], run.result, mask_secrets=False)
        document = next((d for d in current[0].documents if d.endswith(".html")), None)
        employer = next((e for e in page.status().employers if e.werkgeverscode == current[0].werkgeverscode), None)
    changed = describe_changes(employer.changed_fields, employer.changed_values) if employer else ""
    return render("pagina_werkbank.html", with_secrets=True, run=run, open=pending, huidig=current,
                  gegevens=data, document=document, aangemeld=request.args.get("aangemeld"),
                  gekoppeld=request.args.get("gemarkeerd") if request.args.get("actie") == "linked" else None,
                  geldig=run.result.counts["valid"] if run else 0, getoond=mask_secret, werkgever=employer,
                  gewijzigd=changed, vandaag=date.today())

