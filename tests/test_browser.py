"""`asr-batch serve` in a real browser: Debian's Chromium, driven by Playwright, against the real server process.

The clerk's month: upload the sample workbook, see the counts, open a document, copy values from the werkbank
(and read the clipboard), walk the werkbank, mark submitted and confirmed in the register, take the register
workbook out and back; then `asr-batch status` must say exactly that. Skipped with the reason where no Chromium
is found; CI sets ASR_BATCH_REQUIRE_BROWSER=1, which makes the skip a failure (browser.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import REQUIRE, chromium, missing, served
from conftest import EXCHANGE, run_cli

from batch.pipeline import check

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "werkgevers.xlsx"
WITH_ERRORS = SAMPLE.with_name("werkgevers-met-fouten.xlsx")


@pytest.fixture(scope="module")
def needs_browser() -> None:
    reason = missing()
    if reason is not None:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but the browser tests cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture
def server(needs_browser: None, private_register: Path, tmp_path: Path) -> Iterator[str]:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with served(private_register, temporary) as url:
        yield url
    assert list(temporary.iterdir()) == []  # the server removed its private folder when it stopped


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with chromium() as context:
        tab = context.new_page()
        tab.goto(server)
        yield tab


def upload(page: Any, workbook: Path) -> None:
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/")
    page.set_input_files("input[type=file][name=werkmap]", str(workbook))
    page.get_by_role("button", name="Controleren en verwerken").click()
    page.wait_for_url("**/resultaat")


def test_the_printed_url_opens_the_page_and_the_token_leaves_the_address_bar(page: Any) -> None:
    assert page.url.endswith("/") and "token" not in page.url
    assert page.locator("h1").inner_text() == "Werkgevers aanmelden bij a.s.r."
    assert page.locator("input[type=file][name=werkmap]").count() == 1


def test_upload_shows_the_counts_and_the_errors_per_cell(page: Any) -> None:
    expected = check(WITH_ERRORS)
    upload(page, WITH_ERRORS)
    assert page.locator("[data-count=valid]").inner_text() == str(expected.counts["valid"])
    assert page.locator("[data-count=invalid]").inner_text() == str(expected.counts["invalid"])
    cells = {i.cell for i in expected.all_issues if i.cell and i.row}
    shown = set(page.locator("table.rijen .meldingen .code").all_inner_texts())
    assert cells <= shown


def test_a_document_opens_from_the_result(page: Any) -> None:
    upload(page, SAMPLE)
    first = next(r for r in check(SAMPLE).rows if r.status == "valid")
    row = page.locator("table.rijen tbody tr", has_text=first.werkgeverscode or "").first
    row.get_by_role("link", name="HTML").click()
    page.wait_for_load_state()
    assert first.record["client_id"] in page.content()
    assert page.title().startswith("Aanmelding a.s.r. salariskoppeling")
    assert page.locator("h1").inner_text() == first.naam


def test_the_werkbank_copies_exactly_the_value_onto_the_clipboard(page: Any) -> None:
    upload(page, SAMPLE)
    first = next(r for r in check(SAMPLE).rows if r.status == "valid")
    page.get_by_role("link", name="Werkbank", exact=True).click()
    section = page.locator(f'[data-werkgeverscode="{first.werkgeverscode}"]')
    assert section.get_attribute("data-state") == "new"
    for label, value in (("Client ID", first.record["client_id"]), ("Client Secret", first.record["client_secret"]),
                         ("Werkgeverscode", first.werkgeverscode)):
        section.get_by_role("button", name=f"Kopieer {label}").click()
        assert page.evaluate("navigator.clipboard.readText()") == value
    assert first.record["client_secret"] not in section.inner_text()  # masked on the screen


def test_a_clerk_goes_from_workbook_to_ten_submitted_and_one_confirmed(page: Any) -> None:
    """The issue's "done when", in the browser only; then `asr-batch status` shows exactly that."""
    upload(page, SAMPLE)
    codes = [r.werkgeverscode for r in check(SAMPLE).rows if r.status == "valid"]
    assert len(codes) == 10
    page.get_by_role("link", name="Naar de werkbank (10 nog aan te melden)").click()
    walked = []
    for _ in codes[:-1]:  # the werkbank, one at a time
        section = page.locator("section[data-werkgeverscode]")
        walked.append(section.get_attribute("data-werkgeverscode"))
        section.locator("[data-action=submitted]").click()
        page.wait_for_load_state()
    assert walked == codes[:-1]

    last, confirmed = codes[-1], codes[0]
    page.get_by_role("link", name="Register", exact=True).click()
    page.locator(f'[data-werkgeverscode="{last}"] [data-action=submitted]').click()
    assert page.locator(f'[data-werkgeverscode="{last}"]').get_attribute("data-state") == "submitted"
    row = page.locator(f'[data-werkgeverscode="{confirmed}"]')
    row.locator("input[name=first_exchange]").fill(EXCHANGE)
    row.locator("[data-action=confirmed]").click()
    assert page.locator(f'[data-werkgeverscode="{confirmed}"]').get_attribute("data-state") == "confirmed"

    page.get_by_role("link", name="Werkbank", exact=True).click()
    assert page.locator("section[data-werkgeverscode]").count() == 0
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["counts"] == {"total": 10, "new": 0, "submitted": 9, "confirmed": 1, "changed": 0,
                                "queried": 0, "ended": 0}
    by_code = {e["werkgeverscode"]: e for e in status["employers"]}
    assert by_code[confirmed]["first_exchange"] == EXCHANGE
    assert all(by_code[c]["submitted_on"] for c in codes)


def test_the_register_workbook_goes_out_and_comes_back_through_the_page(page: Any, tmp_path: Path) -> None:
    """Download the register workbook, fill in a date as a clerk does in Excel, upload it, see the preview,
    apply it: then `asr-batch status` says so."""
    import openpyxl

    upload(page, SAMPLE)
    page.get_by_role("link", name="Register", exact=True).click()
    with page.expect_download() as download:
        page.locator("[data-action=download-register]").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    day = date.today() - timedelta(days=3)
    workbook = openpyxl.load_workbook(exported)
    sheet = workbook["Register"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "2001")
    sheet[f"E{row}"].value = day
    workbook.save(exported)

    page.set_input_files("input[type=file][name=registerwerkmap]", str(exported))
    page.get_by_role("button", name="Controleren").click()
    page.wait_for_url("**/registerwerkmap")
    change = page.locator("[data-change]")
    assert change.count() == 1 and change.get_attribute("data-werkgeverscode") == "2001"
    assert f"aangemeld op {day:%d-%m-%Y}" in change.inner_text()
    assert json.loads(run_cli("status", "--json").stdout)["counts"]["submitted"] == 0  # the preview changed nothing
    page.locator("[data-action=apply-workbook]").click()
    page.wait_for_url("**/register?bijgewerkt=1")
    assert page.locator('[data-werkgeverscode="2001"]').get_attribute("data-state") == "submitted"
    by_code = {e["werkgeverscode"]: e for e in json.loads(run_cli("status", "--json").stdout)["employers"]}
    assert by_code["2001"]["state"] == "submitted" and by_code["2001"]["submitted_on"] == day.isoformat()


def test_everything_but_the_copy_buttons_works_with_javascript_off(server: str) -> None:
    with chromium(javascript=False) as context:
        page = context.new_page()
        page.goto(server)
        upload(page, SAMPLE)
        assert page.locator("[data-count=valid]").inner_text() == "10"
        page.get_by_role("link", name="Werkbank", exact=True).click()
        assert page.locator("[data-copy]").first.is_hidden()  # a button that could not copy is not shown
        code = page.locator("section[data-werkgeverscode]").get_attribute("data-werkgeverscode")
        page.locator("[data-action=submitted]").click()
        page.wait_for_load_state()
        assert page.locator("section[data-werkgeverscode]").get_attribute("data-werkgeverscode") != code
        page.get_by_role("link", name="Register", exact=True).click()
        assert page.locator(f'[data-werkgeverscode="{code}"]').get_attribute("data-state") == "submitted"


def test_a_too_large_file_is_stopped_in_the_browser_before_it_is_sent(page: Any) -> None:
    # the sample is larger than this limit
    page.locator("form[data-max-bytes]").evaluate("f => f.setAttribute('data-max-bytes', '1000')")
    page.set_input_files("input[type=file][name=werkmap]", str(SAMPLE))
    page.get_by_role("button", name="Controleren en verwerken").click()
    assert page.locator("[data-te-groot]").is_visible()
    assert page.url.endswith("/")  # nothing was sent
    assert json.loads(run_cli("status", "--json").stdout)["counts"]["total"] == 0


def test_a_copy_button_keeps_its_label_when_clicked_twice_quickly(page: Any) -> None:
    upload(page, SAMPLE)
    page.get_by_role("link", name="Werkbank", exact=True).click()
    button = page.get_by_role("button", name="Kopieer Client ID")
    button.click()
    button.click()
    assert button.inner_text() == "Gekopieerd"
    page.wait_for_timeout(1700)
    assert button.inner_text() == "Kopieer"


def test_one_werkgever_walks_every_state_in_an_english_browser(server: str) -> None:
    """Issue 25: in Chromium started with --lang=en-US, every date reads and shows dd-mm-jjjj; one werkgever goes
    linked → submitted → queried → submitted → confirmed → submitted again (through the confirmation step) →
    confirmed → ended on the page; after every step the row and `asr-batch status --json` agree."""
    with chromium(lang="en-US") as context:
        page = context.new_page()
        page.goto(server)
        assert page.evaluate("navigator.language") == "en-US"
        upload(page, SAMPLE)
        code = next(r.werkgeverscode for r in check(SAMPLE).rows if r.status == "valid")
        page.get_by_role("link", name="Register", exact=True).click()
        row = page.locator(f'tr[data-werkgeverscode="{code}"]')
        today = date.today()
        assert row.locator("[data-action=submitted]").locator("..").locator("input[name=op]").input_value() == \
            f"{today:%d-%m-%Y}"

        def after(state: str) -> dict[str, Any]:
            page.wait_for_load_state()
            assert row.get_attribute("data-state") == state
            (found,) = [e for e in json.loads(run_cli("status", "--json").stdout)["employers"]
                        if e["werkgeverscode"] == code]
            assert found["state"] == state
            return found

        def do(action: str, **fields: str) -> None:
            form = row.locator(f"form:has([data-action={action}])")
            for name, value in fields.items():
                form.locator(f"input[name={name}]").fill(value)
            form.locator(f"[data-action={action}]").click()

        days = [today - timedelta(days=n) for n in range(8, 0, -1)]
        do("linked", op=f"{days[0].day}-{days[0].month}-{days[0].year}")  # as typed: 3-12-2026
        assert after("new")["linked_on"] == days[0].isoformat()
        assert f"gekoppeld op {days[0]:%d-%m-%Y}" in row.inner_text()
        do("submitted", op=f"{days[1]:%d-%m-%Y}")
        assert after("submitted")["submitted_on"] == days[1].isoformat()
        do("queried", notitie="a.s.r. mist het loonheffingennummer")
        assert after("queried")["note"] == "a.s.r. mist het loonheffingennummer"
        do("submitted", op=days[2].isoformat())  # 2026-12-05 is taken too
        after("submitted")
        do("confirmed", op=f"{days[3]:%d-%m-%Y}", first_exchange=f"{days[4]:%d-%m-%Y}")
        found = after("confirmed")
        assert (found["confirmed_on"], found["first_exchange"]) == (days[3].isoformat(), days[4].isoformat())
        assert f"{days[3]:%d-%m-%Y}" in row.inner_text() and f"{days[3]:%m/%d/%Y}" not in row.inner_text()

        do("submitted", op=f"{days[5]:%d-%m-%Y}")
        page.wait_for_load_state()
        assert page.locator("[data-confirm-for=submitted]").count() == 1
        assert f"eerder bevestigd op {days[3]:%d-%m-%Y}" in page.locator("main, body").first.inner_text()
        assert json.loads(run_cli("status", "--json").stdout)["counts"]["confirmed"] == 1  # asking changed nothing
        page.locator("[data-action=confirm]").click()
        found = after("submitted")
        assert found["confirmed_earlier"] is True and found["submitted_on"] == days[5].isoformat()
        assert f"eerder bevestigd op {days[3]:%d-%m-%Y}" in row.inner_text()
        do("confirmed", op=f"{days[6]:%d-%m-%Y}", first_exchange=f"{today:%d-%m-%Y}")
        after("confirmed")

        row.locator("details.meer summary").click()
        do("ended")
        page.wait_for_load_state()
        assert page.locator("[data-confirm-for=ended] input[name=op]").input_value() == f"{today:%d-%m-%Y}"
        page.locator("[data-action=confirm]").click()
        assert after("ended")["ended_on"] == today.isoformat()
        assert row.locator("[data-action=confirmed]").count() == 0


def test_the_stop_button_shows_the_closing_page_and_ends_the_server(needs_browser: None, private_register: Path,
                                                                   tmp_path: Path) -> None:
    from browser import start_server

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process, url = start_server(temporary, private_register)
    try:
        with chromium() as context:
            tab = context.new_page()
            tab.goto(url.strip())
            upload(tab, SAMPLE)
            tab.goto(tab.url.rsplit("/", 1)[0] + "/werkbank")
            tab.click("[data-action=stop]")
            tab.wait_for_selector("h1[data-gestopt]")
            assert tab.locator("h1").inner_text() == "asr-batch is gestopt"
            assert "U kunt dit venster nu sluiten." in tab.locator("[role=status]").inner_text()
            assert tab.locator("[data-action=stop]").count() == 0
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert stderr.splitlines()[-1] == "asr-batch serve gestopt; de tijdelijke bestanden zijn gewist."
    assert list(temporary.iterdir()) == []
    assert json.loads(run_cli("status", "--json").stdout)["counts"]["new"] == 10  # the register is kept
