"""Pages everyone can use (issue 26): axe-core audits, in Debian's Chromium, every page of `asr-batch serve` in every
state a clerk meets, and every kind of HTML file asr-batch writes, against WCAG 2.1 A and AA; any violation fails,
with its rule, its impact and the selectors of the elements at fault.

One real server walks the clerk's month once (module fixture `serve_audits`), auditing each page as it goes, so the
walk costs one server and one browser; each page is then its own test. Skipped with the reason where no Chromium or
axe-core is found; CI sets ASR_BATCH_REQUIRE_BROWSER=1, which makes the skip a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_audit import describe, violations
from browser import REQUIRE, chromium, start_server, stop
from test_browser import SAMPLE, WITH_ERRORS, upload

from batch.pipeline import check

Audits = dict[str, list[dict[str, Any]]]

# Every page of `asr-batch serve`, by the state it is audited in (the walk below visits them in this order).
SERVE_PAGES = (
    "start", "werkbank, nog geen werkmap", "niet gevonden (404)", "start, werkmap geweigerd",
    "start, bestand te groot", "resultaat met fouten", "uitvoer: overzicht.html", "uitvoer: foutenrapport.html",
    "uitvoer: aanmelding", "resultaat", "werkbank", "werkbank, net aangemeld", "register", "register, één status",
    "register, net bevestigd", "bevestigen: opnieuw aanmelden", "niet vastgelegd (400)", "opruimen",
    "registerwerkmap met problemen", "registerwerkmap", "register, registerwerkmap vastgelegd",
    "registerwerkmap geweigerd", "bevestigen: vergeten", "uit het register gehaald", "werkbank, alles aangemeld",
    "geen toegang (403)", "gestopt",
)
# Every kind of HTML file `process` writes, opened from disk as the clerk opens them.
FILES = ("overzicht.html", "foutenrapport.html", "aanmelding", "overzicht.html zonder fouten",
         "foutenrapport.html zonder fouten", "aanmelding, secret gemaskeerd")


def _require_browser_and_axe() -> None:
    from axe_audit import missing as axe_missing
    from browser import missing as browser_missing

    reason = browser_missing() or axe_missing()
    if reason is not None:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but the accessibility tests cannot run: {reason}")
        pytest.skip(reason)


class Walk:
    """A tab on the server that audits each page it is asked to, by name, and keeps what axe-core found."""

    def __init__(self, tab: Any, base: str) -> None:
        self.tab = tab
        self.base = base  # scheme://host:port of the server
        self.audits: Audits = {}

    def audit(self, name: str, shows: str) -> None:
        """Audits the page once it shows `shows` (a selector): the walk must audit the state it names."""
        self.tab.wait_for_load_state()
        self.tab.locator(shows).first.wait_for()
        # Folded parts (a register row's "Notitie, beëindigen, vergeten") are audited open: a clerk opens them.
        self.tab.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert name not in self.audits, f"audited twice: {name}"
        self.audits[name] = violations(self.tab)

    def go(self, path: str, name: str, shows: str, status: int = 200) -> None:
        response = self.tab.goto(self.base + path)
        assert response is not None and response.status == status, f"{name}: {path}"
        self.audit(name, shows)

    def click(self, selector: str, name: str, shows: str, status: int) -> None:
        """Click, and audit the page the click leads to, which must come with `status`."""
        with self.tab.expect_navigation() as navigation:
            self.tab.locator(selector).click()
        response = navigation.value
        assert response is not None and response.status == status, f"{name}: {selector}"
        self.audit(name, shows)


def _register_workbook(walk: Walk, folder: Path, cells: dict[str, object]) -> Path:
    """The register workbook downloaded from the register page, with `cells` (by werkgeverscode: the date a.s.r.
    confirmed the submission, column E) filled in as a clerk does in Excel."""
    import openpyxl

    walk.tab.goto(walk.base + "/register")
    with walk.tab.expect_download() as download:
        walk.tab.locator("[data-action=download-register]").click()
    path = folder / f"register-{len(list(folder.iterdir()))}.xlsx"
    download.value.save_as(path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Register"]
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value in cells:
            sheet[f"E{row}"].value = cells[sheet.cell(row, 1).value]
    workbook.save(path)
    return path


def _upload_register_workbook(walk: Walk, path: Path, name: str, shows: str) -> None:
    walk.tab.goto(walk.base + "/register")
    walk.tab.set_input_files("input[type=file][name=registerwerkmap]", str(path))
    walk.tab.get_by_role("button", name="Controleren").click()
    walk.tab.wait_for_url("**/registerwerkmap")
    walk.audit(name, shows)


def _the_workbook_and_its_result(walk: Walk, folder: Path, codes: list[str]) -> None:
    walk.audit("start", "input[type=file][name=werkmap]")
    walk.go("/werkbank", "werkbank, nog geen werkmap", ".vak a[href='/']")
    walk.go("/bestaat-niet", "niet gevonden (404)", "[role=alert]", status=404)
    not_a_workbook = folder / "werkgevers.xlsx"
    not_a_workbook.write_text("dit is geen werkmap", encoding="utf-8")
    walk.tab.goto(walk.base + "/")
    walk.tab.set_input_files("input[type=file][name=werkmap]", str(not_a_workbook))
    walk.click("form[data-max-bytes] button[type=submit]", "start, werkmap geweigerd", ".fout:not([data-te-groot])",
               400)
    walk.tab.goto(walk.base + "/")
    walk.tab.locator("form[data-max-bytes]").evaluate("f => f.setAttribute('data-max-bytes', '1000')")
    walk.tab.set_input_files("input[type=file][name=werkmap]", str(SAMPLE))
    walk.tab.locator("form[data-max-bytes] button[type=submit]").click()
    walk.audit("start, bestand te groot", "[data-te-groot]")

    upload(walk.tab, WITH_ERRORS)
    walk.audit("resultaat met fouten", "table.rijen .meldingen")
    document = walk.tab.locator("table.rijen a", has_text="HTML").first.get_attribute("href")
    walk.go("/uitvoer/overzicht.html", "uitvoer: overzicht.html", "select#filter")
    walk.go("/uitvoer/foutenrapport.html", "uitvoer: foutenrapport.html", "table.meldingen")
    walk.go(document if document.startswith("/") else "/uitvoer/" + document, "uitvoer: aanmelding",
            "[data-kopieer]")
    upload(walk.tab, SAMPLE)
    walk.audit("resultaat", "[data-count=valid]")
    walk.go("/werkbank", "werkbank", "section[data-werkgeverscode] [data-copy]")
    walk.click("section[data-werkgeverscode] [data-action=submitted]", "werkbank, net aangemeld",
               f'[role=status]:has-text("{codes[0]}")', 200)


def _the_register(walk: Walk, codes: list[str]) -> None:
    walk.go("/register", "register", f'[data-werkgeverscode="{codes[0]}"][data-state=submitted]')
    walk.go("/register?status=new", "register, één status", f'[data-werkgeverscode="{codes[1]}"][data-state=new]')
    row = walk.tab.locator(f'tr[data-werkgeverscode="{codes[0]}"]')
    walk.tab.goto(walk.base + "/register")
    row.locator("input[name=first_exchange]").fill(f"{date.today() + timedelta(days=30):%d-%m-%Y}")
    walk.click(f'tr[data-werkgeverscode="{codes[0]}"] [data-action=confirmed]', "register, net bevestigd",
               f'[role=status]:has-text("{codes[0]}")', 200)
    assert row.get_attribute("data-state") == "confirmed"
    walk.click(f'tr[data-werkgeverscode="{codes[0]}"] [data-action=submitted]', "bevestigen: opnieuw aanmelden",
               "[data-confirm-for=submitted]", 200)
    walk.tab.goto(walk.base + "/register")
    # an impossible date: the field's pattern lets it through, the register refuses it
    walk.tab.locator(f'tr[data-werkgeverscode="{codes[1]}"] input[name=first_exchange]').fill("31-02-2026")
    walk.click(f'tr[data-werkgeverscode="{codes[1]}"] [data-action=confirmed]', "niet vastgelegd (400)",
               "[role=alert]", 400)
    walk.go("/opruimen", "opruimen", "[data-action=purge]")


def _the_register_workbook(walk: Walk, codes: list[str], folder: Path) -> None:
    day = date.today() - timedelta(days=3)
    _upload_register_workbook(walk, _register_workbook(walk, folder, {codes[2]: "gisteren"}),
                              "registerwerkmap met problemen", "[data-problem]")
    path = _register_workbook(walk, folder, {codes[2]: day})
    _upload_register_workbook(walk, path, "registerwerkmap", f'[data-change][data-werkgeverscode="{codes[2]}"]')
    walk.tab.locator("[data-action=apply-workbook]").click()
    walk.tab.wait_for_url("**/register?bijgewerkt=*")
    walk.audit("register, registerwerkmap vastgelegd", f'[data-werkgeverscode="{codes[2]}"][data-state=submitted]')
    broken = folder / "kapot.xlsx"
    broken.write_bytes(b"PK\x03\x04 geen registerwerkmap")
    _upload_register_workbook(walk, broken, "registerwerkmap geweigerd", ".fout:not([data-te-groot])")


def _forget_and_finish(walk: Walk, codes: list[str], register: Path) -> None:
    walk.tab.goto(walk.base + "/register")
    row = walk.tab.locator(f'tr[data-werkgeverscode="{codes[-1]}"]')
    row.locator("details.meer summary").click()
    row.locator("[data-action=forget]").click()
    walk.audit("bevestigen: vergeten", "[data-confirm-for=forget]")
    walk.click("[data-action=confirm]", "uit het register gehaald", ".goed[role=alert]", 200)
    marked = subprocess.run([sys.executable, "-m", "batch.cli", "mark", "submitted", codes[1], *codes[3:-1]],
                            env={**os.environ, "ASR_BATCH_REGISTER": str(register)}, capture_output=True, text=True,
                            check=False)
    assert marked.returncode == 0, marked.stderr
    walk.go("/werkbank", "werkbank, alles aangemeld", ".goed a[href='/register']")


@pytest.fixture(scope="module")
def serve_audits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audits]:
    """Walks every page of a real `asr-batch serve` in Chromium, as a clerk's month goes, auditing each."""
    _require_browser_and_axe()
    folder = tmp_path_factory.mktemp("a11y")
    temporary, register = folder / "tmp", folder / "register.sqlite"
    temporary.mkdir()
    codes = [r.werkgeverscode or "" for r in check(SAMPLE).rows if r.status == "valid"]
    server, url = start_server(temporary, register)
    try:
        with chromium() as context:
            walk = Walk(context.new_page(), "/".join(url.strip().split("/", 3)[:3]))
            walk.tab.goto(url.strip())
            _the_workbook_and_its_result(walk, folder, codes)
            _the_register(walk, codes)
            _the_register_workbook(walk, codes, folder)
            _forget_and_finish(walk, codes, register)
            stranger = context.browser.new_context(locale="nl-NL")  # a profile of its own: no cookie, no token
            other = Walk(stranger.new_page(), walk.base)
            other.go("/", "geen toegang (403)", "[role=alert]", status=403)
            walk.audits.update(other.audits)
            stranger.close()
            walk.tab.click("[data-action=stop]")
            walk.audit("gestopt", "h1[data-gestopt]")
            server.communicate(timeout=120)
            assert server.returncode == 0
    finally:
        if server.poll() is None:
            stop(server)
    yield walk.audits


@pytest.fixture(scope="module")
def file_audits(tmp_path_factory: pytest.TempPathFactory) -> Audits:
    """Every kind of HTML file `process` writes, opened from disk in Chromium and audited."""
    _require_browser_and_axe()
    folder = tmp_path_factory.mktemp("a11y-bestanden")
    with_errors, clean = folder / "met-fouten", folder / "zonder-fouten"
    env = {**os.environ, "ASR_BATCH_REGISTER": str(folder / "register.sqlite")}
    for workbook, output, extra, code in ((WITH_ERRORS, with_errors, [], 1),
                                          (SAMPLE, clean, ["--mask-secrets"], 0)):
        done = subprocess.run([sys.executable, "-m", "batch.cli", "process", str(workbook), "-o", str(output),
                               "--format", "html", "-q", *extra], env=env, capture_output=True, text=True,
                              check=False)
        assert done.returncode == code, done.stderr
    files = {"overzicht.html": with_errors / "overzicht.html", "foutenrapport.html": with_errors / "foutenrapport.html",
             "aanmelding": min((with_errors / "aanmeldingen").glob("*.html")),
             "overzicht.html zonder fouten": clean / "overzicht.html",
             "foutenrapport.html zonder fouten": clean / "foutenrapport.html",
             "aanmelding, secret gemaskeerd": min((clean / "aanmeldingen").glob("*.html"))}
    audits: Audits = {}
    with chromium() as context:
        tab = context.new_page()
        for name, path in files.items():
            tab.goto(path.as_uri())
            audits[name] = violations(tab)
    return audits


def _no_violation(audits: Audits, name: str) -> None:
    found = audits[name]
    if found:
        pytest.fail(f"{name}: {len(found)} WCAG 2.1 A/AA violation(s):\n{describe(found)}", pytrace=False)


def test_the_walk_audits_every_page_of_serve(serve_audits: Audits) -> None:
    assert list(serve_audits) == list(SERVE_PAGES)


@pytest.mark.parametrize("name", SERVE_PAGES)
def test_no_page_of_serve_violates_wcag_21_aa(serve_audits: Audits, name: str) -> None:
    _no_violation(serve_audits, name)


@pytest.mark.parametrize("name", FILES)
def test_no_html_file_violates_wcag_21_aa(file_audits: Audits, name: str) -> None:
    _no_violation(file_audits, name)


@pytest.mark.parametrize(("html", "rule"), [
    ('<html><head><title>t</title></head><body><main><h1>t</h1></main></body></html>', "html-has-lang"),
    ('<html lang="nl"><head><title>t</title></head><body><main><h1>t</h1><form><input type="file" name="werkmap">'
     "</form></main></body></html>", "label"),
    ('<html lang="nl"><head><title>t</title></head><body><main><h1>t</h1><p style="color:#bbb;background:#fff">'
     "licht</p></main></body></html>", "color-contrast"),
], ids=["zonder-lang", "veld-zonder-label", "te-weinig-contrast"])
def test_the_audit_finds_what_a_page_lacks(html: str, rule: str) -> None:
    """The audit itself can fail: a page without its language, a field without its label, text too light."""
    _require_browser_and_axe()
    with chromium() as context:
        tab = context.new_page()
        tab.set_content(html)
        found = violations(tab)
    assert [v["id"] for v in found] == [rule]
    assert describe(found).startswith(f"{rule} ({found[0]['impact']}): ")
    assert found[0]["impact"] in ("serious", "critical")
