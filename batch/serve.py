"""The local page (`asr-batch serve`): a small Flask app on 127.0.0.1, for the clerk who never opens a terminal.

It holds no rule of its own: an upload runs `pipeline.process` with the register, the buttons call the register's
own functions (`mark_submitted`, `mark_confirmed`, `purge`), and the pages render the same report data as
overzicht.html. What it adds is the access rules, the same three locks as Jupyter Server:
- a random token, given once in the URL and then kept as an HttpOnly, SameSite=Strict cookie;
- the Host header must name this server (127.0.0.1:PORT or localhost:PORT), against DNS rebinding;
- a form token on every POST.
Uploaded workbooks and everything made from them live in one private temporary folder (0700), removed when the
server stops. The register holds no Client ID, secret or DGA data, so the werkbank shows the values of the workbook
uploaded in this session.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import logging
import re
import secrets
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request, send_file
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from batch.documents import DOCUMENTS_DIR
from batch.errors import UnusableInput
from batch.model import REGISTER_STATES, Result, RowResult
from batch.redact import redact
from batch.workspace import Workspace

if TYPE_CHECKING:
    import jinja2
    from waitress.server import BaseWSGIServer, MultiSocketServer

    from batch.register import Status

UPLOAD_LIMIT = 200 * 1024 * 1024  # bytes: a larger upload is refused with 413
# waitress answers a larger body itself, in English, so it lets through up to its own default and the app says it
# in Dutch. (The page's script stops a large file before it is sent at all.)
SERVER_BODY_LIMIT = 1024 * 1024 * 1024
COOKIE = "asr_batch_token_{port}"  # one per server: two servers on one computer keep their own
FORM_FIELD = "formtoken"
HOSTS = ("127.0.0.1", "localhost")

# The page's own rules for the browser: its script from this server only, forms only to this server, no frames.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# A generated document or report carries its own inline script (copy buttons, row filter) and no forms.
DOCUMENT_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
                   "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")

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


@dataclass
class Run:
    """An upload: the workbook as the clerk named it, its output folder, and the result."""

    name: str
    folder: Path  # holds the uploaded workbook and the output folder
    output: Path
    result: Result
    only_pending: bool

    def _names(self) -> list[str]:
        return ["overzicht.html", "foutenrapport.html", "foutenrapport.xlsx",
                *(d for r in self.result.rows for d in r.documents)]

    def files(self) -> dict[str, Path]:
        """The files of this run the page may serve, by their path under /uitvoer/."""
        return {name: self.output / name for name in self._names() if (self.output / name).is_file()}

    def file(self, name: str) -> Path | None:
        """One of files(), without looking at all the others on disk."""
        path = self.output / name
        return path if name in self._names() and path.is_file() else None


_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def upload_name(given: str | None) -> str:
    """The uploaded file's own name, as messages and the register show it, made safe to save on any system."""
    name = _UNSAFE_IN_NAMES.sub("_", Path((given or "").replace("\\", "/")).name).strip(" .") or "werkmap.xlsx"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = name, ""
    return stem[:100] + (f".{suffix}" if suffix else "")


class Page:
    """The state behind the page: the register's location, the workspace and the latest upload."""

    def __init__(self, register: str | None, workspace: Workspace) -> None:
        from batch.render import make_environment

        self.register = register
        self.workspace = workspace
        self.env: jinja2.Environment = make_environment()
        self.busy = threading.Lock()  # one upload at a time
        self.run: Run | None = None
        self._previous: Run | None = None  # kept one upload longer: a page may still be reading its files

    def status(self) -> Status:
        from batch.register import status_of

        return status_of(self.register)

    def process(self, upload: Any, only_pending: bool) -> Run:
        """Save the upload and run `process` on it with the register. Call with `busy` held."""
        from batch.pipeline import Options, process
        from batch.register import locate

        name = upload_name(upload.filename)
        folder = self.workspace.new_upload()
        source = folder / "invoer" / name
        try:
            source.parent.mkdir(mode=0o700)
            upload.save(source)
            options = Options(register=locate(self.register), only_pending=only_pending)
            try:
                result = process(source, folder / "uitvoer", options)
            except UnusableInput as exc:  # the messages name the file as the clerk knows it, not our folder
                raise UnusableInput(exc.message.replace(str(source), name), exc.fix.replace(str(source), name)
                                    ) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if self._previous is not None:
            shutil.rmtree(self._previous.folder, ignore_errors=True)
        self._previous, self.run = self.run, Run(name, folder, folder / "uitvoer", result, only_pending)
        return self.run

    def pending(self, run: Run | None) -> list[tuple[RowResult, str]]:
        """The run's valid werkgevers still to submit (new or changed) with their state, in workbook order. The
        state is read from the register now: a clerk may have marked one elsewhere since."""
        from batch.register import PENDING

        if run is None:
            return []
        states = {e.werkgeverscode: e.state for e in self.status().employers}
        return [(r, states[r.werkgeverscode or ""]) for r in run.result.rows
                if r.status == "valid" and states.get(r.werkgeverscode or "") in PENDING]

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render({"medium": "html", "versie": _version(), **context})


def _version() -> str:
    from batch import __version__

    return f"asr-batch {__version__}"


def _form_token(token: str) -> str:
    return hmac.new(token.encode(), b"formulier", "sha256").hexdigest()


def create_app(*, port: int, register: str | None, workspace: Workspace, token: str | None = None) -> Flask:
    """The page's WSGI app, for a server on 127.0.0.1:`port`. `token` is made here unless given (tests)."""
    token = token or secrets.token_urlsafe(32)
    form_token = _form_token(token)
    cookie = COOKIE.format(port=port)
    page = Page(register, workspace)
    allowed_hosts = {f"{host}:{port}" for host in HOSTS} | (set(HOSTS) if port == 80 else set())

    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=UPLOAD_LIMIT, MAX_FORM_MEMORY_SIZE=1024 * 1024)
    app.extensions["asr-batch"] = page
    app.extensions["asr-batch-token"] = token

    def render(name: str, status: int = 200, *, with_secrets: bool = False, **context: Any) -> BaseResponse:
        html = page.render(name, formtoken=form_token, form_field=FORM_FIELD, upload_limit=UPLOAD_LIMIT,
                           **context)
        # Only the werkbank shows a secret (its copy button holds it, as a document does); no other page may.
        return Response(html if with_secrets else redact(html), status=status, mimetype="text/html")

    def message_page(status: int, title: str, text: str, fix: str | None = None) -> BaseResponse:
        return render("pagina_melding.html", status=status, titel=title, tekst=text, oplossing=fix)

    def start_page(status: int = 200, error: tuple[str, str] | None = None) -> BaseResponse:
        return render("pagina_start.html", status=status, register=page.status(), laatste=page.run,
                      staten=REGISTER_STATES, fout=error)

    @app.before_request
    def check_access() -> BaseResponse | None:
        if request.host not in allowed_hosts:
            abort(403)
        given = request.args.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), token.encode()):
                abort(403)
            # The token leaves the address bar at once: from now on the cookie carries it.
            query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
            response = redirect(request.path + (f"?{query}" if query else ""), code=303)
            response.set_cookie(cookie, token, httponly=True, samesite="Strict", path="/")
            return response
        if not hmac.compare_digest(request.cookies.get(cookie, "").encode(), token.encode()):
            abort(403)
        if request.method == "POST" and not hmac.compare_digest(
                request.form.get(FORM_FIELD, "").encode(), form_token.encode()):
            abort(403)
        return None

    @app.after_request
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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> BaseResponse:
        code = error.code or 500
        title, text = _MESSAGES.get(code, (error.name, _MESSAGES[400][1]))
        return message_page(code, title, text)

    @app.errorhandler(UnusableInput)
    def unusable(error: UnusableInput) -> BaseResponse:  # a register that is busy or cannot be read
        return message_page(503, "Dat lukt nu niet", error.message, _for_the_page(error.fix))

    @app.errorhandler(FileNotFoundError)
    def gone(error: FileNotFoundError) -> BaseResponse:  # a file of an upload that was just replaced
        return message_page(410, *_MESSAGES[410])

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> BaseResponse:  # never a traceback, in the page or in a log
        title, text = _MESSAGES[500]
        return message_page(500, title, f"{text} ({type(error).__name__})")

    @app.get("/")
    def start() -> BaseResponse:
        return start_page()

    @app.post("/verwerk")
    def upload() -> BaseResponse:
        upload = request.files.get("werkmap")
        if upload is None or not upload.filename:
            return start_page(400, ("Er is geen werkmap gekozen.", "Kies eerst het .xlsx-bestand met de werkgevers."))
        if not page.busy.acquire(blocking=False):
            abort(409)
        try:
            page.process(upload, only_pending=request.form.get("alleen_open") == "ja")
        except UnusableInput as exc:
            return start_page(400, (exc.message, exc.fix))
        finally:
            page.busy.release()
        return redirect("/resultaat", code=303)

    @app.get("/resultaat")
    def result() -> BaseResponse:
        from batch.render import report_context

        run = page.run
        if run is None:
            return redirect("/", code=303)
        files = run.files()
        return render("pagina_resultaat.html", run=run, basis="/uitvoer/", nog_open=len(page.pending(run)),
                      bestanden=files, documenten=sum(n.startswith(f"{DOCUMENTS_DIR}/") for n in files),
                      **report_context(run.result))

    @app.get("/uitvoer/<path:name>")
    def output_file(name: str) -> BaseResponse:
        run = page.run
        path = run.file(name) if run else None
        if path is None:  # only what the latest run listed: no path outside it, not even a sibling
            abort(404)
        return send_file(path, as_attachment=name.endswith(".xlsx"), download_name=Path(name).name, max_age=0)

    @app.get("/aanmeldingen.zip")
    def documents_zip() -> BaseResponse:
        run = page.run
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

    @app.get("/sjabloon.xlsx")
    def blank_workbook() -> BaseResponse:
        from batch.template import write_template

        with tempfile.TemporaryDirectory(dir=workspace.root) as folder:
            data = write_template(Path(folder) / "asr-werkgevers.xlsx").read_bytes()
        return send_file(io.BytesIO(data), as_attachment=True, download_name="asr-werkgevers.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @app.get("/register")
    def register_page() -> BaseResponse:
        state = request.args.get("status")
        return render("pagina_register.html", register=page.status(), staten=REGISTER_STATES,
                      gekozen=state if state in REGISTER_STATES else None, vandaag=date.today(),
                      gemarkeerd=request.args.get("gemarkeerd"), actie=request.args.get("actie"),
                      opgeruimd=request.args.get("opgeruimd"))

    @app.post("/markeer")
    def mark() -> BaseResponse:
        from batch.register import existing, parse_date

        code = request.form.get("werkgeverscode", "").strip()
        action = request.form.get("actie", "")
        try:
            if action not in ("submitted", "confirmed") or not code:
                raise UnusableInput("Onbekende actie.", "Laad de pagina opnieuw en probeer het nog eens.")
            with existing(register) as opened:
                if action == "submitted":
                    opened.mark_submitted([code], date.today())
                else:
                    given = request.form.get("first_exchange", "").strip()
                    if not given:
                        raise UnusableInput(f"Bij 'Bevestigd' voor {code} hoort de datum van de eerste "
                                            "gegevensuitwisseling.", "Vul die datum in en klik opnieuw op Bevestigd.")
                    opened.mark_confirmed([code], date.today(), parse_date(given, "eerste uitwisseling"))
        except UnusableInput as exc:
            return message_page(400, "Niet vastgelegd", exc.message, _for_the_page(exc.fix))
        if request.form.get("terug") == "werkbank":
            return redirect(f"/werkbank?{urlencode({'na': code, 'aangemeld': code})}", code=303)
        return redirect(f"/register?{urlencode({'gemarkeerd': code, 'actie': action})}", code=303)

    @app.route("/opruimen", methods=["GET", "POST"])
    def purge() -> BaseResponse:
        """GET: what would be deleted (nothing changes); POST: delete it, then back to the register."""
        from batch.output import holds_our_document
        from batch.register import using

        dry_run = request.method == "GET"
        with using(register) as opened:
            done = opened.purge(dry_run=dry_run, is_ours=holds_our_document) if opened is not None else []
        deleted = [d for d in done if d.deleted]
        if not dry_run:
            werkgevers = len({d.werkgeverscode for d in deleted})
            return redirect(f"/register?{urlencode({'opgeruimd': f'{len(deleted)}/{werkgevers}'})}", code=303)
        return render("pagina_opruimen.html", te_verwijderen=deleted, overgeslagen=[d for d in done if not d.deleted],
                      werkgevers=len({d.werkgeverscode for d in deleted}), naam=lambda p: Path(p).name)

    @app.get("/werkbank")
    def workbench() -> BaseResponse:
        from batch.aanmelding import document_data, mask_secret

        run = page.run
        pending = page.pending(run)
        codes = [row.werkgeverscode for row, _ in pending]
        current = None
        if pending and run is not None:
            wanted, after = request.args.get("code"), request.args.get("na")
            if wanted in codes:
                current = pending[codes.index(wanted)]
            elif after is not None:  # the next one after `after` in the workbook, wrapping round
                order = {r.werkgeverscode: n for n, r in enumerate(run.result.rows)}
                start = order.get(after, -1)
                current = next((p for p in pending if order[p[0].werkgeverscode] > start), pending[0])
            else:
                current = pending[0]
        data = document = None
        if current is not None and run is not None:
            data = document_data(current[0], run.result, mask_secrets=False)
            document = next((d for d in current[0].documents if d.endswith(".html")), None)
        return render("pagina_werkbank.html", with_secrets=True, run=run, open=pending, huidig=current,
                      gegevens=data, document=document, aangemeld=request.args.get("aangemeld"),
                      geldig=run.result.counts["valid"] if run else 0, getoond=mask_secret)

    @app.get("/pagina.js")
    def script() -> BaseResponse:
        source = page.env.loader.get_source(page.env, "pagina.js")[0] if page.env.loader else ""
        return Response(source, mimetype="text/javascript")

    return app


def _for_the_page(fix: str) -> str:
    """The register's fixes name terminal commands; the clerk on the page has buttons instead."""
    if "asr-batch" not in fix:
        return fix
    return ("Laad de pagina opnieuw en probeer het nog eens. Een werkgever komt in het register door een werkmap te "
            "uploaden waarin hij geldig is.")


class _OneLine(logging.Handler):
    """waitress's own errors (a broken connection) as one redacted line on stderr, never a traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        import sys

        with contextlib.suppress(Exception):
            sys.stderr.write(redact(f"asr-batch serve: {record.getMessage()}") + "\n")


def _quiet_waitress() -> None:
    logger = logging.getLogger("waitress")
    logger.setLevel(logging.ERROR)  # its warnings ("Task queue depth", threads at shutdown) are not the clerk's
    logger.propagate = False
    if not any(isinstance(h, _OneLine) for h in logger.handlers):
        logger.addHandler(_OneLine())


class Server:
    """The page served by waitress on 127.0.0.1 (never another address): `url` to open, `run` until stopped."""

    app: Flask

    def __init__(self, *, port: int, register: str | None) -> None:
        from waitress.server import create_server

        from batch.register import status_of

        status_of(register)  # an unusable register stops the start, before any page is served
        _quiet_waitress()
        self.workspace = Workspace()
        try:
            # Port 0 asks the system for a free one; the app needs the real port for its Host check.
            self._server: BaseWSGIServer | MultiSocketServer = create_server(
                lambda environ, start: self.app(environ, start), host="127.0.0.1", port=port, threads=4,
                max_request_body_size=SERVER_BODY_LIMIT, clear_untrusted_proxy_headers=True, ident="asr-batch")
        except OSError as exc:
            self.workspace.close()
            raise UnusableInput(f"Poort {port} op 127.0.0.1 kan niet worden gebruikt ({exc.strerror}).",
                                "Kies een andere poort met --port, of laat --port weg voor een vrije poort."
                                ) from None
        self.port = int(getattr(self._server, "effective_port", port))
        self.app = create_app(port=self.port, register=register, workspace=self.workspace)
        self.url = f"http://127.0.0.1:{self.port}/?token={self.app.extensions['asr-batch-token']}"

    @property
    def busy(self) -> bool:
        """Whether an upload is being processed right now."""
        return bool(self.app.extensions["asr-batch"].busy.locked())

    def run(self) -> None:
        self._server.run()

    def close(self) -> bool:
        """After `run` has returned: let an upload that is running finish (its documents hold secrets and are
        still being written) and every request thread end, then close the sockets and remove the workspace.
        True when nothing of the workspace is left."""
        with self.app.extensions["asr-batch"].busy:
            self._server.task_dispatcher.shutdown(timeout=60)
            with contextlib.suppress(OSError):
                self._server.close()
            return self.workspace.close()
