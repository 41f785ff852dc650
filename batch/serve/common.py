"""What every page shares: rendering (with the form token, secrets redacted), the Dutch message page that every
error becomes, and the pages' script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from batch.errors import UnusableInput
from batch.redact import redact
from batch.serve.access import FORM_FIELD, current_access
from batch.serve.policy import page_policy

if TYPE_CHECKING:
    from batch.serve.state import Page

UPLOAD_LIMIT = 200 * 1024 * 1024  # bytes: a larger upload is refused with 413

_MESSAGES = {
    400: ("Verzoek niet begrepen", "Ga terug en probeer het opnieuw."),
    403: ("Geen toegang",
          "Open de pagina via de link die 'asr-batch serve' bij het starten toonde (met ?token=...). Ziet u dit na "
          "het klikken op een knop, laad de pagina dan opnieuw en probeer het nog eens."),
    404: ("Niet gevonden", "Deze pagina of dit bestand bestaat niet (meer). Begin opnieuw op de startpagina."),
    405: ("Niet toegestaan", "Begin opnieuw op de startpagina."),
    409: ("Even geduld", "Er wordt al een werkmap verwerkt. Wacht tot die klaar is en probeer het dan opnieuw."),
    410: ("Niet meer beschikbaar",
          "Dit bestand hoort bij een eerdere upload en is er niet meer. Open het resultaat van de laatste upload."),
    413: ("Bestand te groot",
          f"Een werkmap mag hoogstens {UPLOAD_LIMIT // (1024 * 1024)} MB zijn. Controleer of u de goede werkmap "
          "kiest; sla hem zo nodig op zonder afbeeldingen of extra tabbladen."),
    500: ("Onverwachte fout",
          "De actie is niet uitgevoerd. Probeer het opnieuw; blijft het gebeuren, start dan 'asr-batch serve' "
          "opnieuw en meld het."),
}

# The options a fix may name, as the page's fields are called.
_FIELDS = {"Geef met --on de": "Vul bij de datum de", "geef met --on de": "vul bij de datum de",
           "--first-exchange": "'eerste uitwisseling'", "--on": "de datum", "--note": "de notitie"}

blueprint = Blueprint("common", __name__)


def the_page() -> Page:
    """The state of the app that answers this request (create_app keeps it in its extensions)."""
    page: Page = current_app.extensions["asr-batch"]
    return page


def render(name: str, status: int = 200, *, with_secrets: bool = False, **context: Any) -> BaseResponse:
    html = the_page().render(name, formtoken=current_access().form_token, form_field=FORM_FIELD,
                             upload_limit=UPLOAD_LIMIT, **context)
    # Only the werkbank shows a secret (its copy button holds it, as a document does); no other page may.
    body = html if with_secrets else redact(html)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = page_policy(body)
    return response


def message_page(status: int, title: str, text: str, fix: str | None = None) -> BaseResponse:
    return render("pagina_melding.html", status=status, titel=title, tekst=text, oplossing=fix)


def for_the_page(fix: str) -> str:
    """The register's fixes name terminal commands and options; the clerk on the page has buttons and fields."""
    if "asr-batch mark" in fix:
        return "Laad het register opnieuw: bij de werkgever staan de knoppen voor wat nu kan."
    if "asr-batch" not in fix:
        for option, field in _FIELDS.items():
            fix = fix.replace(option, field)
        return fix
    return ("Laad de pagina opnieuw en probeer het nog eens. Een werkgever komt in het register door een werkmap te "
            "uploaden waarin hij geldig is.")


@blueprint.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> BaseResponse:
    code = error.code or 500
    title, text = _MESSAGES.get(code, (error.name, _MESSAGES[400][1]))
    return message_page(code, title, text)


@blueprint.app_errorhandler(UnusableInput)
def unusable(error: UnusableInput) -> BaseResponse:  # a register that is busy or cannot be read
    return message_page(503, "Dat lukt nu niet", error.message, for_the_page(error.fix))


@blueprint.app_errorhandler(FileNotFoundError)
def gone(error: FileNotFoundError) -> BaseResponse:  # a file of an upload that was just replaced
    return message_page(410, *_MESSAGES[410])


@blueprint.app_errorhandler(Exception)
def unexpected(error: Exception) -> BaseResponse:  # never a traceback, in the page or in a log
    title, text = _MESSAGES[500]
    kind = getattr(error, "kind", None) or type(error).__name__  # serve/apart.py: what failed in an upload's process
    return message_page(500, title, f"{text} ({kind})")


@blueprint.get("/pagina.js")
def script() -> BaseResponse:
    env = the_page().env
    source = env.loader.get_source(env, "pagina.js")[0] if env.loader else ""
    return Response(source, mimetype="text/javascript")
