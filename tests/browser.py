"""The real browser for the browser tests and docs/make_screenshots.py: Debian's Chromium, driven by Playwright.

Playwright cannot download a browser here (nor on an office's machine), so it drives the system's Chromium through
`executable_path`. Where none is found the browser tests are skipped with the reason; CI sets
ASR_BATCH_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REQUIRE = "ASR_BATCH_REQUIRE_BROWSER"
CHROMIUM = "ASR_BATCH_CHROMIUM"  # a Chromium elsewhere than on PATH
INSTALL_HINT = ("install Debian's Chromium (apt-get install chromium) or set ASR_BATCH_CHROMIUM to a Chromium, and "
                "pip install playwright")
# As the machine's own probe starts it: no sandbox as root, and none of the background connections that a closed
# network refuses.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get(CHROMIUM), shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright for Python is not installed: {INSTALL_HINT}"
    if chromium_path() is None:
        return f"no Chromium found: {INSTALL_HINT}"
    return None


class _Loopback(http.client.HTTPConnection):
    """A connection that, as a browser does, takes a name under .localhost for this computer: serve's name of its
    own does not resolve for Python everywhere (not here: glibc without systemd-resolved). The Host header keeps
    the name."""

    def connect(self) -> None:
        name = self.host
        if name.endswith(".localhost"):
            self.host = "127.0.0.1"
        try:
            super().connect()
        finally:
            self.host = name


class LoopbackHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_Loopback, req)


def read_first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line the process prints on stdout; fails rather than hangs."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""),
                              daemon=True)
    reader.start()
    reader.join(timeout)
    if not line:
        raise TimeoutError(f"no first line within {timeout} s")
    return line[0]


def start_server(temporary: Path, register: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """`asr-batch serve --no-browser` as a real process, with its own temporary folder (and register, when given);
    returns it and the URL it prints first."""
    env = {**os.environ, "TMPDIR": str(temporary)}
    if register is not None:
        env["ASR_BATCH_REGISTER"] = str(register)
    server = subprocess.Popen([sys.executable, "-m", "batch.cli", "serve", "--no-browser"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return server, read_first_line(server, timeout=60)


def start_with_browser(temporary: Path, browser: Path, script: str) -> tuple[subprocess.Popen[str], str]:
    """`asr-batch serve` as a real process that starts "the browser" with `script` (a shell script written to
    `browser`, named in BROWSER, as webbrowser finds it); returns it and the URL it prints first."""
    browser.write_text(script)
    browser.chmod(0o700)
    server = subprocess.Popen([sys.executable, "-m", "batch.cli", "serve"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "TMPDIR": str(temporary), "BROWSER": str(browser)})
    return server, read_first_line(server, timeout=60)


def stop(server: subprocess.Popen[str], signum: int = signal.SIGTERM) -> tuple[int, str]:
    """Stop the server with `signum` (SIGTERM: as Ctrl+C would); its exit code and what it said on stderr."""
    server.send_signal(signum)
    try:  # communicate reads both pipes while it waits: a full pipe cannot hold the server up
        _, stderr = server.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        _, stderr = server.communicate()
        raise AssertionError(f"serve did not stop within 120 s of signal {signum}; it said: {stderr[-3000:]}") from None
    return server.returncode, stderr


@contextlib.contextmanager
def served(register: Path, temporary: Path) -> Iterator[str]:
    """The server of `start_server` for a `with` block; yields its URL and stops it at the end."""
    server, url = start_server(temporary, register)
    try:
        yield url.strip()
    finally:
        stop(server)


@contextlib.contextmanager
def chromium(*, javascript: bool = True, lang: str = "nl-NL") -> Iterator[object]:
    """A fresh browser context (its own profile) that may use the clipboard; yields a Playwright BrowserContext.
    `lang`: the browser's language, as --lang and the locale (en-US: a page must not depend on it for its dates)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError(f"no Chromium found: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        # Dutch by default, as a clerk's browser (Chromium takes its language from --lang and LANGUAGE)
        language, country = lang.split("-")
        browser = playwright.chromium.launch(executable_path=path, args=[*ARGS, f"--lang={lang}"],
                                             env={**os.environ, "LANGUAGE": language,
                                                  "LANG": f"{language}_{country}.UTF-8"})
        try:
            context = browser.new_context(java_script_enabled=javascript, locale=lang,
                                          viewport={"width": 1280, "height": 900},
                                          permissions=["clipboard-read", "clipboard-write"] if javascript else [])
            yield context
            context.close()
        finally:
            browser.close()
