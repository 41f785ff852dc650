"""The access rules of the local page, in one place that every request passes: the same three locks as Jupyter
Server, and the headers that tell the browser what a page or a file may do.

- a random token, given once in the URL and then kept as an HttpOnly, SameSite=Strict cookie;
- the Host header must name this server (127.0.0.1:PORT or localhost:PORT), against DNS rebinding;
- a form token on every POST.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

COOKIE = "asr_batch_token_{port}"  # one per server: two servers on one computer keep their own
FORM_FIELD = "formtoken"
HOSTS = ("127.0.0.1", "localhost")

# The page's own rules for the browser: its script from this server only, forms only to this server, no frames.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# A generated document or report carries its own inline script (copy buttons, row filter) and no forms.
DOCUMENT_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
                   "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")

blueprint = Blueprint("access", __name__)


def _form_token(token: str) -> str:
    return hmac.new(token.encode(), b"formulier", "sha256").hexdigest()


class Access:
    """The locks of one server on 127.0.0.1:`port`, all made from its one token."""

    def __init__(self, token: str, port: int) -> None:
        self.token = token
        self.form_token = _form_token(token)
        self.cookie = COOKIE.format(port=port)
        self.allowed_hosts = {f"{host}:{port}" for host in HOSTS} | (set(HOSTS) if port == 80 else set())


def current_access() -> Access:
    """The locks of the app that answers this request (create_app keeps them in its extensions)."""
    access: Access = current_app.extensions["asr-batch-access"]
    return access


@blueprint.before_app_request
def check_access() -> BaseResponse | None:
    access = current_access()
    if request.host not in access.allowed_hosts:
        abort(403)
    given = request.args.get("token")
    if given is not None:
        if not hmac.compare_digest(given.encode(), access.token.encode()):
            abort(403)
        # The token leaves the address bar at once: from now on the cookie carries it.
        query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
        response = redirect(request.path + (f"?{query}" if query else ""), code=303)
        response.set_cookie(access.cookie, access.token, httponly=True, samesite="Strict", path="/")
        return response
    if not hmac.compare_digest(request.cookies.get(access.cookie, "").encode(), access.token.encode()):
        abort(403)
    if request.method == "POST" and not hmac.compare_digest(
            request.form.get(FORM_FIELD, "").encode(), access.form_token.encode()):
        abort(403)
    return None


@blueprint.after_app_request
def headers(response: BaseResponse) -> BaseResponse:
    if not request.path.startswith("/uitvoer/"):
        response.headers["Content-Security-Policy"] = PAGE_POLICY
    elif response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = DOCUMENT_POLICY
    # a PDF gets none: a browser's own PDF viewer may not show it under default-src 'none'

    response.headers["Cache-Control"] = "no-store"  # pages and files may hold secrets: never on disk
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
