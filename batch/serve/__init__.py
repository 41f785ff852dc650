"""The local page (`asr-batch serve`): a small Flask app on 127.0.0.1, for the clerk who never opens a terminal.

It holds no rule of its own: an upload runs `pipeline.process` with the register, the buttons call the register's
own functions (`mark_submitted`, `mark_confirmed`, `purge`; for the register workbook `export_register` and
`mark_from`), and the pages render the same report data as overzicht.html. What it adds is the access rules
(access.py, and gate.py before a request's body is read), the same three locks as Jupyter Server:
- a random token, given once in the URL and then kept as an HttpOnly, SameSite=Strict cookie;
- the Host header must name this server (its own asr-<random>.localhost:PORT), against DNS rebinding;
- a form token on every POST.
Uploaded workbooks and everything made from them live in one private temporary folder (0700), removed when the
server stops. The register holds no Client ID, secret or DGA data, so the werkbank shows the values of the workbook
uploaded in this session.

The rooms: access.py (the locks and headers every request passes), gate.py (the same locks before waitress reads
a body), policy.py (what a page or document may run: its Content-Security-Policy), common.py (rendering, the Dutch
error pages), state.py (the state behind the page), one module per page (start.py, files.py, register_page.py,
round_trip.py for the register workbook, werkbank.py), stop.py (the Stoppen button), apart.py (each upload read in
a process of its own, whose memory goes when it ends), app.py (`create_app`, which puts them together) and
server.py (the waitress process, its temporary folder and the file that opens the page).
"""

from batch.serve.access import COOKIE, FORM_FIELD, _form_token
from batch.serve.app import create_app
from batch.serve.common import UPLOAD_LIMIT
from batch.serve.server import Server
from batch.serve.state import Page, Run, upload_name
from batch.workspace import Workspace

__all__ = ["COOKIE", "FORM_FIELD", "UPLOAD_LIMIT", "Page", "Run", "Server", "Workspace", "_form_token", "create_app",
           "upload_name"]
