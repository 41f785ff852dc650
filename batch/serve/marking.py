"""What a clerk marks from the page, per werkgever: every step the terminal's `mark` and `forget` take, through the
register's own functions and rules. Ending, forgetting and submitting a confirmed (or ended) werkgever again first
show a confirmation page; only its button carries the clerk's explicit choice (`zeker=ja`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from batch.errors import UnusableInput
from batch.serve.common import for_the_page, message_page, render, the_page

if TYPE_CHECKING:
    from batch.register import Employer

blueprint = Blueprint("marking", __name__)

ACTIONS = ("linked", "submitted", "confirmed", "queried", "ended", "note", "forget")
# The page's date fields, by form field: the name a message gives it.
DATE_FIELDS = {"op": "de datum", "first_exchange": "eerste uitwisseling"}
ON_LABELS = {"linked": "Gekoppeld op", "submitted": "Aangemeld op", "confirmed": "Bevestigd op",
             "queried": "Navragen op", "ended": "Beëindigd op"}


def _date(field: str, action: str, default: date | None) -> date | None:
    """A date field as the clerk typed it (dd-mm-jjjj, d-m-jjjj or jjjj-mm-dd); empty: `default`."""
    from batch.register import parse_date

    given = request.form.get(field, "").strip()
    if not given:
        return default
    name = ON_LABELS.get(action, "de datum") if field == "op" else DATE_FIELDS[field]
    return parse_date(given, f"'{name}'")


def _note(action: str, code: str) -> str | None:
    """The note field; where one is required (queried, note), refused in the page's words when empty."""
    note = request.form.get("notitie")
    if action in ("queried", "note") and not (note or "").strip():
        what = "Navragen" if action == "queried" else "Notitie opslaan"
        raise UnusableInput(f"Bij '{what}' voor {code} hoort een notitie: wat a.s.r. vroeg of weigerde, hun kenmerk, "
                            "wie u sprak.", f"Vul de notitie in en klik opnieuw op {what}.")
    return note if action in ("queried", "note") else None


def _employer(code: str) -> Employer | None:
    return next((e for e in the_page().status().employers if e.werkgeverscode == code), None)


def _asks_first(action: str, code: str) -> BaseResponse | None:
    """The confirmation page, where the clerk's explicit choice is still missing; None: go ahead."""
    if request.form.get("zeker") == "ja" or action not in ("submitted", "ended", "forget"):
        return None
    employer = _employer(code)
    if employer is None:
        return None  # the register's own message says it is unknown
    if action == "submitted" and employer.state not in ("confirmed", "ended"):
        return None
    fields = {k: v for k, v in request.form.items() if k in ("op", "terug")}
    return render("pagina_bevestigen.html", actie=action, werkgever=employer, velden=fields,
                  vandaag=date.today())


@blueprint.post("/markeer")
def mark() -> BaseResponse:
    """One action for one werkgever; back to the register (or the werkbank) with what was done."""
    from batch.register import Mark, existing

    code = request.form.get("werkgeverscode", "").strip()
    action = request.form.get("actie", "")
    try:
        if action not in ACTIONS or not code:
            raise UnusableInput("Onbekende actie.", "Laad de pagina opnieuw en probeer het nog eens.")
        asked = _asks_first(action, code)
        if asked is not None:
            return asked
        today = date.today()
        on = _date("op", action, today) or today
        note = _note(action, code)
        first_exchange = _date("first_exchange", action, None) if action == "confirmed" else None
        if action == "confirmed" and first_exchange is None:
            raise UnusableInput(f"Bij 'Bevestigd' voor {code} hoort de datum van de eerste "
                                "gegevensuitwisseling.", "Vul die datum in en klik opnieuw op Bevestigd.")
        with existing(the_page().register) as opened:
            if action == "forget":
                done, left = opened.forget([code])
                return render("pagina_melding.html", titel="Uit het register gehaald", goed=True,
                              tekst=f"{', '.join(done)} is uit het register gehaald (het logboek houdt bij dat het "
                                    f"gebeurde).{_left_behind(left)}", oplossing=None, lijst=left)
            again = action == "submitted" and request.form.get("zeker") == "ja"
            opened.mark(Mark(action, on, first_exchange, note, again), [code])
    except UnusableInput as exc:
        return message_page(400, "Niet vastgelegd", exc.message, for_the_page(exc.fix))
    if request.form.get("terug") == "werkbank":
        done_key = "aangemeld" if action == "submitted" else "gemarkeerd"
        after = {"na": code} if action == "submitted" else {"code": code, "actie": action}
        return redirect(f"/werkbank?{urlencode({**after, done_key: code})}", code=303)
    return redirect(f"/register?{urlencode({'gemarkeerd': code, 'actie': action})}", code=303)


def _left_behind(left: list[str]) -> str:
    if not left:
        return " Er blijven geen aanmeldingen van hem achter."
    return (" Let op: deze documenten bestaan nog en bevatten het Client Secret; 'Opruimen' vindt ze niet meer. "
            "Verwijder ze zelf als ze niet meer nodig zijn:")
