"""The register page: every werkgever by state, with its actions (batch.serve.marking), and purge (first shown,
then done)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from batch.model import REGISTER_STATES
from batch.serve.common import render, the_page

if TYPE_CHECKING:
    from batch.register import Status

blueprint = Blueprint("register", __name__)


@blueprint.get("/register")
def register_page() -> BaseResponse:
    """Every werkgever, or those in one state (`status`); `te_lang`: only the submitted ones waiting too long."""
    from batch.register import Listing, describe_changes

    state = request.args.get("status")
    chosen = state if state in REGISTER_STATES else None
    only_waiting = chosen == "submitted" and request.args.get("te_lang") == "ja"
    listing = Listing(date.today(), chosen, only_waiting=only_waiting)
    status = the_page().status()
    marked = request.args.get("gemarkeerd")
    done = _done(status, marked, request.args.get("actie", "")) if marked else None
    return render("pagina_register.html", register=status, staten=REGISTER_STATES, gekozen=chosen,
                  getoond=status.shown(listing), lijst=listing, te_lang=status.waiting_too_long(listing),
                  vandaag=listing.today, gemarkeerd=marked, gedaan=done,
                  opgeruimd=request.args.get("opgeruimd"), bijgewerkt=request.args.get("bijgewerkt"),
                  wijzigingen=describe_changes)


def _done(status: Status, code: str, action: str) -> str | None:
    """What was just marked, in Dutch, with the date the register now holds ("aangemeld op 03-12-2026")."""
    from batch.register.steps import DONE

    employer = next((e for e in status.employers if e.werkgeverscode == code), None)
    if employer is None or action not in DONE:
        return None
    day = getattr(employer, f"{action}_on", None)
    return f"{DONE[action]} op {day:%d-%m-%Y}" if day else DONE[action]


@blueprint.route("/opruimen", methods=["GET", "POST"])
def purge() -> BaseResponse:
    """GET: what would be deleted (nothing changes); POST: delete it, then back to the register."""
    from batch.output import holds_our_document
    from batch.register import using

    dry_run = request.method == "GET"
    with using(the_page().register) as opened:
        done = opened.purge(dry_run=dry_run, is_ours=holds_our_document) if opened is not None else []
    deleted = [d for d in done if d.deleted]
    if not dry_run:
        werkgevers = len({d.werkgeverscode for d in deleted})
        return redirect(f"/register?{urlencode({'opgeruimd': f'{len(deleted)}/{werkgevers}'})}", code=303)
    return render("pagina_opruimen.html", te_verwijderen=deleted, overgeslagen=[d for d in done if not d.deleted],
                  werkgevers=len({d.werkgeverscode for d in deleted}), naam=lambda p: Path(p).name)
