"""One page per register on this computer: the running server leaves its address in a private file while it runs,
and a second `asr-batch serve` for the same register opens that one instead of failing on a second port.

The file is in this computer's asr-batch folder (the one that keeps its id), readable by this user only (0600): it
holds the token, as the browser's cookie does, and on its second line the running server's file that opens the page
in the browser (so the token stays out of the browser's command line on a second start too). It is named after a
hash of the register's address, so a password in a PostgreSQL address never lands in it, and a server for another
register is another page. A file left by a server that was killed is ignored: the address must answer as this
server does, with its own cookie. That check connects to 127.0.0.1 itself and names the server in the Host header:
outside a browser, a name under .localhost does not resolve everywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from batch.serve.access import COOKIE, OWN_NAME

ALREADY_RUNNING = "asr-batch serve draait al voor dit register; die pagina wordt in de browser geopend."
ALREADY_RUNNING_NO_BROWSER = "asr-batch serve draait al voor dit register, op het adres hierboven."
_ANSWER_WITHIN = 3.0  # seconds: a live server answers at once, even while it processes an upload


@dataclass(frozen=True)
class Running:
    """The page that runs: its address (with the token) and the file that opens it (None: gone)."""

    url: str
    opener: Path | None

    def to_open(self) -> str:
        """What to start the browser with: the opening file, else the address without its token (a browser that
        opened the page before still holds the cookie; the address with the token is on the terminal)."""
        if self.opener is not None and self.opener.is_file():
            return self.opener.as_uri()
        return self.url.split("?", 1)[0]


def _address_file(register: str | None) -> Path:
    from batch.register import locate
    from batch.register.computer import config_folder

    key = hashlib.sha256(locate(register).url.render_as_string(hide_password=False).encode()).hexdigest()[:32]
    return config_folder() / "serve" / f"{key}.url"


def running_page(register: str | None) -> Running | None:
    """The page already running for this register on this computer, or None."""
    try:
        lines = _address_file(register).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or not _answers(lines[0].strip()):
        return None
    opener = Path(lines[1]) if len(lines) > 1 and lines[1] else None
    return Running(lines[0].strip(), opener)


def _answers(url: str) -> bool:
    """Whether `url` is a live asr-batch page: it takes its token and hands out its own cookie."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.port is None or not (
            parts.hostname == "127.0.0.1" or OWN_NAME.fullmatch(parts.hostname or "")):
        return False
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=_ANSWER_WITHIN)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})
        response = connection.getresponse()
        cookie = response.getheader("Set-Cookie") or ""
        return response.status == 303 and cookie.startswith(f"{COOKIE.format(port=parts.port)}=")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def announce(url: str, opener: Path, register: str | None) -> Path | None:
    """Leave `url` and the file that opens it for a second `serve`; the file, or None where it cannot be written
    (a second serve then starts a page of its own: worse, not wrong)."""
    path = _address_file(register)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".url-")  # 0600
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:  # the temporary folder's path may be non-ASCII
            file.write(f"{url}\n{opener}\n")
        os.replace(temporary, path)
    except OSError:
        return None
    return path


def withdraw(path: Path | None, url: str) -> None:
    """Remove the file of `announce` if it is still this server's (a newer one may have taken it over)."""
    with contextlib.suppress(OSError):
        if path is not None and path.read_text(encoding="utf-8").split("\n", 1)[0] == url:
            path.unlink()
