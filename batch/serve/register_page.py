"""The register page: every werkgever by state, and its actions, which call the register's own functions: mark a
werkgever submitted or confirmed, and purge (first shown, then done)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from batch.errors import UnusableInput
from batch.model import REGISTER_STATES
from batch.serve.common import for_the_page, message_page, render, the_page

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
    return render("pagina_register.html", register=status, staten=REGISTER_STATES, gekozen=chosen,
                  getoond=status.shown(listing), lijst=listing, te_lang=status.waiting_too_long(listing),
                  vandaag=listing.today, gemarkeerd=request.args.get("gemarkeerd"), actie=request.args.get("actie"),
                  opgeruimd=request.args.get("opgeruimd"), bijgewerkt=request.args.get("bijgewerkt"),
                  wijzigingen=describe_changes)


@blueprint.post("/markeer")
def mark() -> BaseResponse:
    from batch.register import existing, parse_date

    code = request.form.get("werkgeverscode", "").strip()
    action = request.form.get("actie", "")
    try:
        if action not in ("submitted", "confirmed") or not code:
            raise UnusableInput("Onbekende actie.", "Laad de pagina opnieuw en probeer het nog eens.")
        with existing(the_page().register) as opened:
            if action == "submitted":
                # The button says "Opnieuw aangemeld" on a confirmed werkgever: the click is the explicit choice
                # (a confirmation step of its own on the page is still to come).
                opened.mark_submitted([code], date.today(), again=True)
            else:
                given = request.form.get("first_exchange", "").strip()
                if not given:
                    raise UnusableInput(f"Bij 'Bevestigd' voor {code} hoort de datum van de eerste "
                                        "gegevensuitwisseling.", "Vul die datum in en klik opnieuw op Bevestigd.")
                opened.mark_confirmed([code], date.today(), parse_date(given, "eerste uitwisseling"))
    except UnusableInput as exc:
        return message_page(400, "Niet vastgelegd", exc.message, for_the_page(exc.fix))
    if request.form.get("terug") == "werkbank":
        return redirect(f"/werkbank?{urlencode({'na': code, 'aangemeld': code})}", code=303)
    return redirect(f"/register?{urlencode({'gemarkeerd': code, 'actie': action})}", code=303)


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
