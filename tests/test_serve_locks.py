"""`asr-batch serve`'s locks against other programs on the same computer (issue 26): a name of its own so its
cookie reaches no other loopback port, no token in the browser's command line, a body refused before it is read,
and documents whose inline script runs by its hash only. The browser's side of these is in test_browser.py."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import start_server, start_with_browser, stop
from flask import Flask
from flask.testing import FlaskClient

from batch.serve import COOKIE, FORM_FIELD, UPLOAD_LIMIT, Workspace, create_app
from batch.serve.access import OWN_NAME, own_host_name

PORT = 8123
TOKEN = "t0k3n-" + "y" * 40
NAME = "asr-" + "0123456789abcdef" * 2 + ".localhost"
BASE = f"http://{NAME}:{PORT}"
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "werkgevers.xlsx"


@pytest.fixture
def app() -> Iterator[Flask]:
    """The page of a server named NAME, in-process, with a private folder of its own."""
    workspace = Workspace()
    try:
        yield create_app(port=PORT, host=NAME, register=None, workspace=workspace, token=TOKEN)
    finally:
        workspace.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser that opened the printed address: it holds the cookie."""
    browser = app.test_client()
    assert browser.get(f"{BASE}/?token={TOKEN}").status_code == 303
    return browser


# --- 1. a name of its own ----------------------------------------------------------------------------------


def test_each_server_gets_a_random_name_under_localhost() -> None:
    names = {own_host_name() for _ in range(100)}
    assert len(names) == 100 and all(OWN_NAME.fullmatch(n) for n in names)


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}", NAME, f"{NAME}:{PORT + 1}",
                                  f"{NAME}.:{PORT}", f"{own_host_name()}:{PORT}", f"x.{NAME}:{PORT}",
                                  f"{NAME}.evil.example:{PORT}", "evil.example", f"evil.example:{PORT}",
                                  f"127.0.0.1:{PORT + 1}", "127.0.0.1", f"0.0.0.0:{PORT}", f"[::1]:{PORT}"])
def test_only_the_servers_own_name_and_port_are_served(client: FlaskClient, host: str) -> None:
    """127.0.0.1 and localhost are refused too: a cookie set there would go to every other port there."""
    assert client.get(f"{BASE}/", headers={"Host": host}).status_code == 403
    assert client.get(f"{BASE}/?token={TOKEN}", headers={"Host": host}).status_code == 403
    assert client.get(f"{BASE}/").status_code == 200  # the same browser, on the name: served


def test_the_cookie_is_host_only_for_the_servers_name(app: Flask) -> None:
    response = app.test_client().get(f"{BASE}/?token={TOKEN}")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE.format(port=PORT)}={TOKEN};")
    assert "domain" not in cookie.lower()  # no Domain: the browser keeps it for this exact name only


def test_port_80_accepts_the_name_without_a_port(app: Flask) -> None:
    workspace = app.extensions["asr-batch"].workspace
    browser = create_app(port=80, host=NAME, register=None, workspace=workspace, token=TOKEN).test_client()
    assert browser.get(f"http://{NAME}/?token={TOKEN}").status_code == 303
    assert browser.get(f"http://{NAME}/").status_code == 200
    assert browser.get("http://127.0.0.1/", headers={"Host": "127.0.0.1"}).status_code == 403


def _get(url: str, host: str | None = None, cookie: str | None = None) -> tuple[int, dict[str, str]]:
    """A GET to the server of `url` on 127.0.0.1, naming `host` (default: the URL's own) in the Host header."""
    import http.client

    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
    try:
        headers = {"Host": host or parts.netloc, **({"Cookie": cookie} if cookie else {})}
        connection.request("GET", f"{parts.path}?{parts.query}", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def test_the_real_server_is_named_under_localhost_and_answers_to_that_name_only(tmp_path: Path) -> None:
    server, first = start_server(tmp_path)
    try:
        url = first.strip()
        parts = urlsplit(url)
        assert OWN_NAME.fullmatch(parts.hostname or "")
        assert _get(url, host=f"127.0.0.1:{parts.port}")[0] == 403
        assert _get(url, host=f"localhost:{parts.port}")[0] == 403
        status, headers = _get(url)
        assert status == 303 and "domain" not in headers["Set-Cookie"].lower()
    finally:
        code, stderr = stop(server)
    assert code == 0 and "Traceback" not in stderr


# --- 2. no token in the browser's command line ----------------------------------------------------------------


def test_the_browser_is_started_with_a_private_file_not_the_token(tmp_path: Path) -> None:
    temporary, record = tmp_path / "tmp", tmp_path / "argv.txt"
    temporary.mkdir()
    # As `ps` would show the browser: its whole command line, one argument a line.
    server, first = start_with_browser(temporary, tmp_path / "browser",
                                       f'#!/bin/sh\nfor a in "$0" "$@"; do echo "$a"; done > "{record}.part"\n'
                                       f'mv "{record}.part" "{record}"\n')
    try:
        token = first.strip().split("token=")[1]
        deadline = time.monotonic() + 30
        while not record.exists():
            assert time.monotonic() < deadline, "the browser was not started"
            time.sleep(0.05)
        argv = record.read_text().splitlines()
        [opener] = temporary.glob("asr-batch-serve-*/openen.html")
        assert token not in " ".join(argv)
        assert argv[1:] == [opener.as_uri()]
        assert stat.S_IMODE(opener.stat().st_mode) == 0o600
        assert stat.S_IMODE(opener.parent.stat().st_mode) == 0o700
        page = opener.read_text(encoding="utf-8")  # it sends the browser on to the address the terminal shows
        assert f'<meta http-equiv="refresh" content="0;url={first.strip()}">' in page
        assert f'<a href="{first.strip()}">' in page and '<html lang="nl">' in page
    finally:
        code, stderr = stop(server)
    assert code == 0 and token not in stderr
    assert not opener.exists() and list(temporary.iterdir()) == []


def test_a_second_serve_starts_the_browser_with_the_running_servers_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import run_cli

    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *args, **kwargs: opened.append(url) or True)
    server, first = start_server(tmp_path)
    try:
        [opener] = tmp_path.glob("asr-batch-serve-*/openen.html")
        assert run_cli("serve").exit_code == 0
        opener.unlink()  # gone (the clerk tidied up): the page's address without its token, never with it
        assert run_cli("serve").exit_code == 0
    finally:
        stop(server)
    assert opened == [opener.as_uri(), first.strip().split("?")[0]]


# --- 4. a body refused before it is read ------------------------------------------------------------------


def _post_headers(url: str, *, cookie: str | None, host: str | None = None, length: int = 900 * 1024 * 1024,
                  chunked: bool = False) -> bytes:
    """Send the headers of a large upload and a few KB of its body, then read the answer; the server must answer
    without waiting for the rest (the socket times out rather than hangs)."""
    parts = urlsplit(url)
    head = ["POST /verwerk HTTP/1.1", f"Host: {host or parts.netloc}",
            "Content-Type: multipart/form-data; boundary=grens",
            "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"]
    if cookie is not None:
        head.append(f"Cookie: {COOKIE.format(port=parts.port)}={cookie}")
    body = (b"1000\r\n" + b"x" * 4096 + b"\r\n") if chunked else b"x" * 4096
    with socket.create_connection(("127.0.0.1", parts.port or 0), timeout=10) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # the rest of the body was never read: the server may reset once it has answered
        except TimeoutError:
            raise AssertionError(f"no answer before the body was sent; got {answer[:200]!r}") from None
    return answer


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[str]:
    server, first = start_server(tmp_path)
    try:
        yield first.strip()
    finally:
        code, stderr = stop(server)
        assert code == 0 and "Traceback" not in stderr


@pytest.mark.parametrize("cookie, host, chunked", [(None, None, False), ("fout", None, False), (None, None, True),
                                                   ("TOKEN", "127.0.0.1:{port}", False)],
                         ids=["no-cookie", "wrong-cookie", "chunked-no-cookie", "right-cookie-wrong-host"])
def test_a_large_post_without_access_is_403_before_its_body_is_read(real_server: str, cookie: str | None,
                                                                    host: str | None, chunked: bool) -> None:
    token = real_server.split("token=")[1]
    answer = _post_headers(real_server, cookie=token if cookie == "TOKEN" else cookie, chunked=chunked,
                           host=host.format(port=urlsplit(real_server).port) if host else None)
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert b"Connection: close" in answer and b"Geen toegang" in answer
    status, _ = _get(real_server)  # and the page serves on
    assert status == 303


def test_a_large_post_with_the_cookie_is_413_in_dutch_before_its_body_is_read(real_server: str) -> None:
    answer = _post_headers(real_server, cookie=real_server.split("token=")[1])
    assert answer.startswith(b"HTTP/1.1 413 ")
    text = answer.decode("utf-8")
    assert "Bestand te groot" in text and f"{UPLOAD_LIMIT // (1024 * 1024)} MB" in text


def test_an_unauthenticated_client_cannot_send_endless_headers(real_server: str) -> None:
    parts = urlsplit(real_server)
    with socket.create_connection(("127.0.0.1", parts.port or 0), timeout=10) as connection:
        connection.sendall(f"GET / HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode())
        answer = b""
        try:
            for _ in range(200):  # 200 × 1 KB of headers, never ending them
                connection.sendall(b"X-Vulling: " + b"v" * 1024 + b"\r\n")
            answer = connection.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused (and closed) before all of them were sent
    assert answer == b"" or answer.startswith(b"HTTP/1.0 431 Request Header Fields Too Large")


# --- 5. documents and pages without 'unsafe-inline' ----------------------------------------------------------


def _upload(client: FlaskClient) -> None:
    import io

    found = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', client.get(f"{BASE}/").text)
    assert found
    data = {FORM_FIELD: found.group(1), "werkmap": (io.BytesIO(SAMPLE.read_bytes()), SAMPLE.name)}
    assert client.post(f"{BASE}/verwerk", data=data, content_type="multipart/form-data").status_code == 303


def _hashes(html: str, element: str) -> set[str]:
    """The CSP source of every inline `element` in `html`, as the browser computes it."""
    texts = re.findall(rf"<{element}>(.*?)</{element}>", html, re.DOTALL)
    return {"'sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + "'" for t in texts}


def _directive(policy: str, name: str) -> set[str]:
    [found] = [d.split()[1:] for d in policy.split(";") if d.split()[:1] == [name]]
    return set(found)


def test_every_document_the_page_serves_allows_its_own_script_and_style_by_hash_only(client: FlaskClient) -> None:
    _upload(client)
    page = client.get(f"{BASE}/resultaat").text
    documents = ["overzicht.html", "foutenrapport.html",
                 *re.findall(r'href="/uitvoer/(aanmeldingen/[^"]+\.html)"', page)[:2]]
    assert len(documents) == 4
    scripts_seen = 0
    for name in documents:
        response = client.get(f"{BASE}/uitvoer/{name}")
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe" not in policy, name
        scripts, styles = _hashes(response.text, "script"), _hashes(response.text, "style")
        assert styles and styles <= _directive(policy, "style-src"), name
        assert scripts <= _directive(policy, "script-src"), name
        scripts_seen += len(scripts)
        assert "form-action 'none'" in policy and "default-src 'none'" in policy
    assert scripts_seen == 3  # overzicht's row filter, each document's copy buttons


def test_a_script_that_is_not_the_tools_own_gets_no_hash(app: Flask, client: FlaskClient) -> None:
    """Were a script ever to get into a document, the page's policy would not let it run."""
    _upload(client)
    [overview] = app.extensions["asr-batch"].workspace.root.glob("werkmap-*/uitvoer/overzicht.html")
    html = overview.read_text(encoding="utf-8")
    overview.write_text(html.replace("</body>", "<script>alert(1)</script></body>"), encoding="utf-8")
    policy = client.get(f"{BASE}/uitvoer/overzicht.html").headers["Content-Security-Policy"]
    assert _hashes("<script>alert(1)</script>", "script").isdisjoint(_directive(policy, "script-src"))


def test_a_page_allows_its_own_style_by_hash_and_no_inline_script(client: FlaskClient) -> None:
    for path in ("/", "/register", "/werkbank", "/bestaat-niet"):
        response = client.get(BASE + path)
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe" not in policy, path
        assert _directive(policy, "script-src") == {"'self'"}
        assert _hashes(response.text, "style") == _directive(policy, "style-src"), path


def test_opened_from_another_site_the_token_is_taken_by_a_page_that_goes_on(app: Flask) -> None:
    """The file the browser is started with is another site: after a redirect the browser would not send the
    SameSite=Strict cookie, so a page of this site goes on to the address (the browser test opens that file)."""
    response = app.test_client().get(f"{BASE}/register?token={TOKEN}&status=new",
                                      headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE.format(port=PORT)}={TOKEN};")
    assert '<meta http-equiv="refresh" content="0;url=/register?status=new">' in response.text
    assert TOKEN not in response.text and "unsafe" not in response.headers["Content-Security-Policy"]
    typed = app.test_client().get(f"{BASE}/?token={TOKEN}", headers={"Sec-Fetch-Site": "none"})
    assert typed.status_code == 303 and typed.headers["Location"] == "/"
