"""The access rules of the local page, in one place that every request passes: the same three locks as Jupyter
Server, and the headers that tell the browser what a page or a file may do (policy.py).

- a random token, given once in the URL and then kept as an HttpOnly, SameSite=Strict cookie;
- the Host header must name this server, against DNS rebinding. The server has a name of its own,
  asr-<random>.localhost:PORT (browsers resolve *.localhost to loopback themselves), so its cookie is host-only
  for that name: cookies ignore ports, and a cookie set for 127.0.0.1 or localhost would reach every program
  listening on any port there. The name is random too, because a cookie for a fixed name would reach that name on
  another port. (The app made without a name, as the tests make it, answers to 127.0.0.1:PORT and localhost:PORT.)
- a form token on every POST.

A request's body is refused before it is read (gate.py) by the same rules, `Access.admits`.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, redirect, request
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from batch.serve.policy import DOCUMENT_POLICY, PAGE_POLICY

COOKIE = "asr_batch_token_{port}"  # one per server: two servers on one computer keep their own
FORM_FIELD = "formtoken"
HOSTS = ("127.0.0.1", "localhost")  # the names of an app made without a name of its own

blueprint = Blueprint("access", __name__)


def _form_token(token: str) -> str:
    return hmac.new(token.encode(), b"formulier", "sha256").hexdigest()


OWN_NAME = re.compile(r"asr-[0-9a-f]{32}\.localhost")


def own_host_name() -> str:
    """A name for one server under .localhost: 128 random bits, so no other program can guess it."""
    return f"asr-{secrets.token_hex(16)}.localhost"


class Access:
    """The locks of one server on 127.0.0.1:`port`, all made from its one token; `host`: its name of its own."""

    def __init__(self, token: str, port: int, host: str | None = None) -> None:
        self.token = token
        self.form_token = _form_token(token)
        self.cookie = COOKIE.format(port=port)
        names = (host,) if host else HOSTS
        self.allowed_hosts = {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())

    def has_cookie(self, cookies: Mapping[str, str]) -> bool:
        return hmac.compare_digest(cookies.get(self.cookie, "").encode(), self.token.encode())

    def admits(self, host: str, cookies: Mapping[str, str]) -> bool:
        """Whether a request with this Host header and these cookies may be served (and its body read)."""
        return host in self.allowed_hosts and self.has_cookie(cookies)


def current_access() -> Access:
    """The locks of the app that answers this request (create_app keeps them in its extensions)."""
    access: Access = current_app.extensions["asr-batch-access"]
    return access


def going_on(target: str) -> str:
    """A page that sends the browser on to `target` at once (a meta refresh: no script), with a link."""
    link = escape(target)
    return ('<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="refresh" content="0;url={link}">\n<title>asr-batch wordt geopend</title>\n'
            f'</head>\n<body>\n<p>De pagina van asr-batch wordt geopend. Gebeurt er niets, <a href="{link}">klik '
            'dan hier</a>.</p>\n</body>\n</html>\n')


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
        target = request.path + (f"?{query}" if query else "")
        # Opened from another site (the file the browser is started with is one), a redirect would stay part of
        # that cross-site navigation, and the browser would not send the SameSite=Strict cookie with it: the
        # page itself goes on to the address, a navigation of this site.
        cross_site = request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site")
        response = Response(going_on(target), mimetype="text/html") if cross_site else redirect(target, 303)
        response.set_cookie(access.cookie, access.token, httponly=True, samesite="Strict", path="/")
        return response
    if not access.has_cookie(request.cookies):
        abort(403)
    if request.method == "POST" and not hmac.compare_digest(
            request.form.get(FORM_FIELD, "").encode(), access.form_token.encode()):
        abort(403)
    return None


@blueprint.after_app_request
def headers(response: BaseResponse) -> BaseResponse:
    # A rendered page and a served document bring their own policy, with the hashes of their inline styles and
    # scripts (common.render, files.output_file); any other answer allows nothing inline.
    if not request.path.startswith("/uitvoer/"):
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    elif response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", DOCUMENT_POLICY)
    # a PDF gets none: a browser's own PDF viewer may not show it under default-src 'none'

    response.headers["Cache-Control"] = "no-store"  # pages and files may hold secrets: never on disk
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
