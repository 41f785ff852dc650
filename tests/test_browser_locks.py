"""serve's locks against other programs on the same computer (issue 26), in Debian's Chromium: another loopback
port never receives the page's cookie, the file the browser is started with opens the page, and a document's own
script runs under the page's policy (hashes, no 'unsafe-inline'). The HTTP side is in test_serve_locks.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser import chromium, served, start_server, stop
from test_browser import needs_browser, upload  # noqa: F401  (needs_browser: the fixture, by its name)

from batch.pipeline import check

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "werkgevers.xlsx"
WITH_ERRORS = SAMPLE.with_name("werkgevers-met-fouten.xlsx")
pytestmark = pytest.mark.usefixtures("needs_browser")


@pytest.fixture
def listener() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """Another program on this computer, listening on another port of 127.0.0.1: its port and what each request
    brought it (the Host and Cookie headers, the path)."""
    received: list[dict[str, str]] = []

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            received.append({"host": self.headers.get("Host", ""), "cookie": self.headers.get("Cookie", ""),
                             "path": self.path})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"hier luistert een ander programma")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def test_another_loopback_port_never_receives_the_pages_cookie(private_register: Path, tmp_path: Path,
                                                               listener: tuple[int, list[dict[str, str]]]) -> None:
    port, received = listener
    with served(private_register, tmp_path) as url, chromium() as context:
        token = url.split("token=")[1]
        tab = context.new_page()
        tab.goto(url)
        assert tab.locator("h1").inner_text() == "Werkgevers aanmelden bij a.s.r."  # the cookie is set
        [cookie] = context.cookies()
        assert cookie["domain"] == urlsplit(url).hostname and cookie["value"] == token
        tab.goto(f"http://127.0.0.1:{port}/steel-1")  # as a link on any web page would send it there
        tab.goto(url.split("?")[0])
        assert tab.locator("h1").inner_text() == "Werkgevers aanmelden bij a.s.r."  # back on the page: served
        tab.evaluate(f"location.href = 'http://localhost:{port}/steel-2'")  # sent on by a script of the page
        tab.wait_for_url(f"http://localhost:{port}/steel-2")
    stolen = [r for r in received if r["path"].startswith("/steel")]  # (the browser asks for a favicon too)
    assert [(r["host"], r["path"]) for r in stolen] == [(f"127.0.0.1:{port}", "/steel-1"),
                                                        (f"localhost:{port}", "/steel-2")]
    assert all(token not in r["cookie"] and "asr_batch" not in r["cookie"] for r in received)


def test_the_file_the_browser_is_started_with_opens_the_page(private_register: Path, tmp_path: Path) -> None:
    server, first = start_server(tmp_path, private_register)
    try:
        [opener] = tmp_path.glob("asr-batch-serve-*/openen.html")
        with chromium() as context:
            tab = context.new_page()
            tab.goto(opener.as_uri())
            address = first.strip().split("?")[0]
            tab.wait_for_url(address)  # the token went into the cookie and left the address
            assert tab.locator("h1").inner_text() == "Werkgevers aanmelden bij a.s.r."
    finally:
        code, _ = stop(server)
    assert code == 0 and list(tmp_path.iterdir()) == []


def _violations(tab: Any) -> list[str]:
    """Every Content-Security-Policy violation the browser reports on `tab` from now on (and its console's)."""
    found: list[str] = []
    tab.on("console", lambda message: found.append(message.text)
           if "Content Security Policy" in message.text else None)
    return found


def test_the_overviews_own_script_runs_under_the_pages_policy(private_register: Path, tmp_path: Path) -> None:
    expected = check(WITH_ERRORS)
    with served(private_register, tmp_path) as url, chromium() as context:
        tab = context.new_page()
        tab.goto(url)
        upload(tab, WITH_ERRORS)
        violations = _violations(tab)
        tab.goto(tab.url.replace("/resultaat", "/uitvoer/overzicht.html"))
        rows = tab.locator("table.rijen tbody tr")
        assert rows.count() == expected.counts["rows"]
        tab.select_option("#filter", "invalid")  # the row filter is the document's inline script
        assert tab.locator("table.rijen tbody tr:visible").count() == expected.counts["invalid"]
        assert tab.evaluate("getComputedStyle(document.querySelector('h1')).fontSize") == "24px"  # its style too
    assert violations == []


def test_a_documents_copy_button_runs_under_the_pages_policy(private_register: Path, tmp_path: Path) -> None:
    first = next(r for r in check(SAMPLE).rows if r.status == "valid")
    with served(private_register, tmp_path) as url, chromium() as context:
        tab = context.new_page()
        tab.goto(url)
        upload(tab, SAMPLE)
        violations = _violations(tab)
        tab.locator("table.rijen tbody tr", has_text=first.werkgeverscode or "").first.get_by_role(
            "link", name="HTML").click()
        tab.wait_for_load_state()
        button = tab.get_by_role("button", name="Kopieer Client ID")
        button.click()
        assert tab.evaluate("navigator.clipboard.readText()") == first.record["client_id"]
        assert button.inner_text().startswith("Gekopieerd")
    assert violations == []
