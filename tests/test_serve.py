"""`asr-batch serve` at the HTTP level: every access rule, every page, and the same core as the CLI.

The app is driven in-process with Flask's test client (as datasette's tests do); the server as a real process at
the end. The browser tests are in test_browser.py.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from browser import LoopbackHandler, start_server, start_with_browser, stop
from conftest import (
    ALL_SECRETS,
    EXCHANGE,
    FIRST_EXCHANGE,
    SECRET,
    WorkbookBuilder,
    numbered_rows,
    run_cli,
    valid_row,
    workbook_full_of_secrets,
)
from flask import Flask
from flask.testing import FlaskClient

from batch.pipeline import check
from batch.register import status_of
from batch.serve import COOKIE, FORM_FIELD, UPLOAD_LIMIT, Workspace, _form_token, create_app, upload_name

PORT = 8123
TOKEN = "t0k3n-" + "x" * 40
BASE = f"http://127.0.0.1:{PORT}"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SAMPLE = SAMPLES / "werkgevers.xlsx"  # ten valid werkgevers
FIRST, SECOND = "0412", "1003"  # its first two rows


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    space = Workspace()
    yield space
    space.close()


@pytest.fixture
def app(workspace: Workspace) -> Flask:
    return create_app(port=PORT, register=None, workspace=workspace, token=TOKEN)  # the test's own register


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser that opened the printed URL: it holds the cookie."""
    browser = app.test_client()
    response = browser.get(f"{BASE}/?token={TOKEN}")
    assert response.status_code == 303
    return browser


def form_token(client: FlaskClient, path: str = "/") -> str:
    found = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', client.get(BASE + path).text)
    assert found, "the page carries a form token"
    return found.group(1)


def upload(client: FlaskClient, path: Path, *, only_pending: bool = True, name: str | None = None,
           token: str | None = None) -> object:
    data: dict[str, object] = {FORM_FIELD: token or form_token(client),
                               "werkmap": (io.BytesIO(path.read_bytes()), name or path.name)}
    if only_pending:
        data["alleen_open"] = "ja"
    return client.post(f"{BASE}/verwerk", data=data, content_type="multipart/form-data")


def mark(client: FlaskClient, code: str, action: str, **extra: str) -> object:
    return client.post(f"{BASE}/markeer", data={FORM_FIELD: form_token(client), "werkgeverscode": code,
                                                 "actie": action, **extra})


def states() -> dict[str, str]:
    return {e.werkgeverscode: e.state for e in status_of(None).employers}


# --- access -----------------------------------------------------------------------------------------------


def test_the_token_in_the_url_becomes_a_strict_httponly_cookie_and_leaves_the_address(app: Flask) -> None:
    browser = app.test_client()
    response = browser.get(f"{BASE}/register?token={TOKEN}&status=new")
    assert response.status_code == 303
    assert response.headers["Location"] == "/register?status=new"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"asr_batch_token_{PORT}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert browser.get(f"{BASE}/register?status=new").status_code == 200


@pytest.mark.parametrize("path", ["/", "/register", "/werkbank", "/resultaat", "/pagina.js", "/sjabloon.xlsx",
                                  "/aanmeldingen.zip", "/uitvoer/overzicht.html"])
def test_no_token_is_403(app: Flask, path: str) -> None:
    response = app.test_client().get(BASE + path)
    assert response.status_code == 403
    assert "Geen toegang" in response.text and "?token=" in response.text


def test_a_wrong_token_in_the_url_or_the_cookie_is_403(app: Flask) -> None:
    browser = app.test_client()
    assert browser.get(f"{BASE}/?token=wrong").status_code == 403
    browser.set_cookie(COOKIE.format(port=PORT), "wrong", domain="127.0.0.1")
    assert browser.get(f"{BASE}/").status_code == 403
    assert browser.get(f"{BASE}/?token={TOKEN[:-1]}").status_code == 403


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", f"127.0.0.1:{PORT + 1}", "127.0.0.1",
                                  f"localhost.evil.example:{PORT}", f"0.0.0.0:{PORT}", f"[::1]:{PORT}"])
def test_another_host_header_is_403_even_with_the_token(client: FlaskClient, host: str) -> None:
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 must not reach the app."""
    assert client.get(f"{BASE}/", headers={"Host": host}).status_code == 403
    assert client.get(f"{BASE}/?token={TOKEN}", headers={"Host": host}).status_code == 403


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}"])
def test_both_names_of_this_server_are_allowed(app: Flask, host: str) -> None:
    browser = app.test_client()
    assert browser.get(f"http://{host}/?token={TOKEN}").status_code == 303
    assert browser.get(f"http://{host}/").status_code == 200


@pytest.mark.parametrize("path", ["/verwerk", "/markeer", "/opruimen"])
@pytest.mark.parametrize("given", [None, "", "wrong"])
def test_a_post_without_the_form_token_is_403_and_changes_nothing(client: FlaskClient, path: str,
                                                                   given: str | None) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    before = states()
    data = {"werkgeverscode": "1001", "actie": "submitted"}
    if given is not None:
        data[FORM_FIELD] = given
    assert client.post(BASE + path, data=data).status_code == 403
    assert states() == before


def test_an_upload_over_200_mb_is_413_before_it_is_read(client: FlaskClient) -> None:
    assert UPLOAD_LIMIT == 200 * 1024 * 1024
    token = form_token(client)
    body = io.BytesIO(b"x" * 1024)  # the announced length decides: nothing is read
    response = client.post(f"{BASE}/verwerk?{FORM_FIELD}={token}", input_stream=body,
                           content_type="multipart/form-data; boundary=grens",
                           environ_overrides={"CONTENT_LENGTH": str(UPLOAD_LIMIT + 1)})
    assert response.status_code == 413
    assert "Bestand te groot" in response.text and "200 MB" in response.text


def test_an_upload_at_the_limit_is_not_refused_for_its_size(client: FlaskClient, tmp_path: Path) -> None:
    """The limit is on the upload, not below it: a workbook of exactly the limit gets the workbook's own
    verdict (here: not a workbook)."""
    big = tmp_path / "groot.xlsx"
    with big.open("wb") as out:
        out.truncate(UPLOAD_LIMIT - 4096)  # leave room for the form around it
    response = upload(client, big)
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/uitvoer/../../../etc/passwd", "/uitvoer/%2e%2e/%2e%2e/etc/passwd",
                                  "/uitvoer//etc/passwd", "/uitvoer/resultaat.json", "/uitvoer/.asr-batch-uitvoer",
                                  "/uitvoer/aanmeldingen/", "/uitvoer/aanmeldingen/../overzicht.html/../../x",
                                  "/../etc/passwd", "/static/x", "/uitvoer/werkgevers.xlsx"])
def test_a_path_outside_the_app_is_404(client: FlaskClient, path: str) -> None:
    assert upload(client, SAMPLES / "werkgevers.xlsx").status_code == 303
    response = client.get(BASE + path, follow_redirects=True)  # werkzeug first merges a double slash
    assert response.status_code == 404
    assert "root:" not in response.text


def test_a_file_of_an_earlier_upload_is_gone_with_the_next(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx", only_pending=False)
    first = client.get(f"{BASE}/resultaat").text
    document = re.search(r'href="/uitvoer/(aanmeldingen/[^"]+\.html)"', first)
    assert document and client.get(f"{BASE}/uitvoer/{document.group(1)}").status_code == 200
    upload(client, SAMPLES / "werkgevers-met-fouten.xlsx")
    assert client.get(f"{BASE}/uitvoer/{document.group(1)}").status_code == 404


@pytest.mark.parametrize("content, name", [(b"just text\n", "werkgevers.txt"), (b"PK\x03\x04 broken", "kapot.xlsx"),
                                           (b"", "leeg.xlsx")])
def test_a_file_that_is_not_a_workbook_gets_the_clis_dutch_message(client: FlaskClient, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    content: bytes, name: str) -> None:
    (tmp_path / name).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    cli = run_cli("validate", name)
    assert cli.exit_code == 2
    expected = [line.removeprefix("asr-batch: ").removeprefix("Oplossing: ") for line in cli.stderr.splitlines()]
    response = upload(client, tmp_path / name)
    assert response.status_code == 400
    shown = re.search(r'<div class="fout"[^>]*>(.*?)</div>', response.text, re.S)
    assert shown
    text = html.unescape(re.sub(r"<[^>]+>", "", shown.group(1)))
    assert [line.removeprefix("Oplossing: ") for line in text.strip().splitlines()] == expected
    assert str(client.application.extensions["asr-batch"].workspace.root) not in response.text
    assert states() == {}


def test_a_second_upload_while_one_runs_is_told_to_wait(client: FlaskClient) -> None:
    page = client.application.extensions["asr-batch"]
    with page.busy:  # an upload is running
        response = upload(client, SAMPLE)
    assert response.status_code == 409
    assert "Er wordt al een werkmap verwerkt" in response.text
    assert states() == {}


def test_no_file_chosen_is_a_dutch_message(client: FlaskClient) -> None:
    response = client.post(f"{BASE}/verwerk", data={FORM_FIELD: form_token(client)},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Er is geen werkmap gekozen." in response.text


def test_pages_tell_the_browser_to_keep_nothing_and_run_only_their_own_script(client: FlaskClient) -> None:
    response = client.get(f"{BASE}/")
    assert response.headers["Cache-Control"] == "no-store"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "<script>" not in response.text  # no inline script on a page


def test_an_unexpected_failure_is_a_dutch_page_without_a_traceback(client: FlaskClient,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object) -> object:
        raise RuntimeError(SECRET)

    monkeypatch.setattr("batch.serve.Page.status", broken)
    response = client.get(f"{BASE}/")
    assert response.status_code == 500
    assert "Onverwachte fout" in response.text and "RuntimeError" in response.text
    assert SECRET not in response.text and "Traceback" not in response.text


# --- the pages --------------------------------------------------------------------------------------------


def test_uploading_the_sample_runs_process_with_the_register(client: FlaskClient) -> None:
    sample = SAMPLES / "werkgevers-met-fouten.xlsx"
    expected = check(sample).counts
    response = upload(client, sample)
    assert response.status_code == 303 and response.headers["Location"] == "/resultaat"
    page = client.get(f"{BASE}/resultaat").text
    for key in ("valid", "invalid", "skipped", "errors", "warnings"):
        assert re.search(rf'data-count="{key}">{expected[key]}<', page), key
    assert expected["valid"] > 0 and expected["invalid"] > 0
    assert set(states().values()) == {"new"} and len(states()) == expected["valid"]
    # the errors per cell, as overzicht.html shows them
    result = check(sample)
    for issue in result.all_issues:
        if issue.cell:
            assert f'<span class="code">{issue.cell}</span>' in page
    assert SECRET not in page


def test_the_result_offers_the_error_workbook_the_documents_as_zip_and_each_document(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers-met-fouten.xlsx")
    page = client.get(f"{BASE}/resultaat").text
    workbook = client.get(f"{BASE}/uitvoer/foutenrapport.xlsx")
    assert workbook.status_code == 200
    assert "attachment" in workbook.headers["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(workbook.data)).sheetnames  # a real workbook

    links = re.findall(r'href="/uitvoer/(aanmeldingen/[^"]+)"', page)
    valid = [r for r in check(SAMPLES / "werkgevers-met-fouten.xlsx").rows if r.status == "valid"]
    assert len(links) == 2 * len(valid)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{BASE}/aanmeldingen.zip").data))
    assert sorted(archive.namelist()) == sorted(links)
    for link in links:
        document = client.get(f"{BASE}/uitvoer/{link}")
        assert document.status_code == 200
        assert document.data == archive.read(link)
        assert document.mimetype == ("application/pdf" if link.endswith(".pdf") else "text/html")
        if link.endswith(".pdf"):  # a browser's PDF viewer may show nothing under the page's policy
            assert "Content-Security-Policy" not in document.headers
    html = client.get(f"{BASE}/uitvoer/{links[0]}")
    assert "form-action 'none'" in html.headers["Content-Security-Policy"]  # a document keeps its own rules


def test_only_pending_is_the_default_and_can_be_switched_off(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    assert mark(client, FIRST, "submitted").status_code == 303
    upload(client, SAMPLES / "werkgevers.xlsx")
    page = client.get(f"{BASE}/resultaat").text
    assert "al aangemeld: geen nieuw document" in page
    assert len(re.findall(rf'href="/uitvoer/aanmeldingen/{FIRST}-', page)) == 0
    upload(client, SAMPLES / "werkgevers.xlsx", only_pending=False)
    page = client.get(f"{BASE}/resultaat").text
    assert len(re.findall(rf'href="/uitvoer/aanmeldingen/{FIRST}-', page)) == 2


def test_the_register_page_lists_every_werkgever_by_state_with_its_buttons(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    codes = sorted(states(), key=int)
    assert len(codes) == 10
    page = client.get(f"{BASE}/register").text
    rows = re.findall(r'<tr id="werkgever-[^"]+" data-werkgeverscode="([^"]+)" data-state="([^"]+)">', page)
    assert rows == [(code, "new") for code in codes]
    assert page.count('data-action="submitted"') == len(codes)
    assert page.count('data-action="confirmed"') == len(codes)
    assert page.count('name="first_exchange"') == len(codes)
    # every transition the register allows has its button, on every row (a confirmed date can be corrected)
    mark(client, codes[1], "confirmed", first_exchange=EXCHANGE)
    row = re.search(rf'data-werkgeverscode="{codes[1]}" data-state="confirmed">(.*?)</tr>',
                    client.get(f"{BASE}/register").text, re.S)
    assert row and 'data-action="submitted"' in row.group(1) and 'data-action="confirmed"' in row.group(1)
    assert f'value="{FIRST_EXCHANGE:%d-%m-%Y}"' in row.group(1)  # dd-mm-jjjj, whatever the browser's language

    assert mark(client, codes[0], "submitted").status_code == 303
    filtered = client.get(f"{BASE}/register?status=submitted").text
    assert re.findall(r'data-werkgeverscode="([^"]+)" data-state="([^"]+)"', filtered) == [(codes[0], "submitted")]


def test_marking_from_the_page_uses_the_registers_own_rules(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    response = mark(client, FIRST, "submitted")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/register?gemarkeerd={FIRST}&actie=submitted"
    assert f"{FIRST}: aangemeld op" in client.get(BASE + response.headers["Location"]).text
    response = mark(client, SECOND, "confirmed", first_exchange=EXCHANGE)
    assert response.status_code == 303
    employers = {e.werkgeverscode: e for e in status_of(None).employers}
    assert employers[FIRST].state == "submitted" and employers[FIRST].submitted_on == date.today()
    assert employers[SECOND].state == "confirmed" and employers[SECOND].first_exchange == FIRST_EXCHANGE
    assert employers[SECOND].submitted_on == date.today()  # confirmed without a submission: the same day


def test_the_pages_opnieuw_aangemeld_submits_a_confirmed_werkgever_again(client: FlaskClient) -> None:
    """The confirmation step's button is the explicit choice the terminal asks --opnieuw for; the earlier
    confirmation stays, shown as earlier (issue 25)."""
    upload(client, SAMPLES / "werkgevers.xlsx")
    later = (date.today() + timedelta(days=10)).isoformat()
    assert mark(client, SECOND, "confirmed", first_exchange=later).status_code == 303
    assert 'title="Opnieuw aangemeld' in client.get(f"{BASE}/register").text
    assert mark(client, SECOND, "submitted").status_code == 200  # first the confirmation step
    assert mark(client, SECOND, "submitted", zeker="ja").status_code == 303
    (found,) = [e for e in status_of(None).employers if e.werkgeverscode == SECOND]
    assert (found.state, found.submitted_on, found.confirmed_on, found.confirmed_earlier) == (
        "submitted", date.today(), date.today(), True)
    assert run_cli("mark", "note", SECOND, "--note", "kenmerk a.s.r. B-12").exit_code == 0
    page = client.get(f"{BASE}/register").text
    row = page.split(f'data-werkgeverscode="{SECOND}"', 1)[1].split("</tr>", 1)[0]
    assert f"eerder bevestigd op</small> {date.today():%d-%m-%Y}" in row
    assert "<small data-note>Notitie: kenmerk a.s.r. B-12</small>" in row


def test_the_register_page_says_what_changed_since_the_submission(client: FlaskClient,
                                                                 make_workbook: WorkbookBuilder) -> None:
    upload(client, make_workbook([valid_row(dertiende_maand="Ja")], name="a.xlsx"))
    assert mark(client, "1001", "submitted").status_code == 303
    upload(client, make_workbook([valid_row(dertiende_maand="Nee")], name="b.xlsx"))
    page = html.unescape(client.get(f"{BASE}/register").text)
    assert 'data-werkgeverscode="1001" data-state="changed"' in page
    assert "<small data-changed-fields>Gewijzigd: 13e maand: Ja → Nee</small>" in page


def test_a_first_exchange_before_todays_confirmation_is_refused_on_the_page(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    before = states()
    yesterday = date.today() - timedelta(days=1)
    response = mark(client, FIRST, "confirmed", first_exchange=yesterday.isoformat())
    assert response.status_code == 400 and "Niet vastgelegd" in response.text
    assert (f"de eerste uitwisseling op {yesterday:%d-%m-%Y} ligt vóór de bevestiging op "
            f"{date.today():%d-%m-%Y}") in html.unescape(response.text)
    assert states() == before


@pytest.mark.parametrize("fields, message", [
    ({"werkgeverscode": FIRST, "actie": "confirmed"}, "hoort de datum van de eerste gegevensuitwisseling"),
    ({"werkgeverscode": FIRST, "actie": "confirmed", "first_exchange": "15-13-2026"}, "eerste uitwisseling"),
    ({"werkgeverscode": "9999", "actie": "submitted"}, "9999"),
    ({"werkgeverscode": FIRST, "actie": "verwijderd"}, "Onbekende actie"),
])
def test_a_mark_that_cannot_be_done_is_a_dutch_message_and_marks_nothing(client: FlaskClient, fields: dict[str, str],
                                                                         message: str) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    before = states()
    response = client.post(f"{BASE}/markeer", data={FORM_FIELD: form_token(client), **fields})
    assert response.status_code == 400
    assert "Niet vastgelegd" in response.text and message in response.text
    assert states() == before


def test_marking_before_any_upload_says_the_register_is_empty_and_names_no_terminal_command(
        client: FlaskClient) -> None:
    response = mark(client, FIRST, "submitted")
    assert response.status_code == 400
    assert "bestaat nog niet of is leeg" in response.text
    assert "asr-batch process" not in response.text and "uploaden" in response.text


def test_the_werkbank_walks_the_pending_werkgevers_one_at_a_time(client: FlaskClient) -> None:
    assert "Upload eerst de werkmap" in client.get(f"{BASE}/werkbank").text
    upload(client, SAMPLES / "werkgevers.xlsx")
    order = [r.werkgeverscode for r in check(SAMPLES / "werkgevers.xlsx").rows if r.status == "valid"]
    seen: list[str] = []
    location = "/werkbank"
    for _ in order:
        page = client.get(BASE + location).text
        shown = re.search(r'<section class="werkgever" data-werkgeverscode="([^"]+)" data-state="([^"]+)">', page)
        assert shown and shown.group(2) == "new"
        seen.append(shown.group(1))
        response = client.post(f"{BASE}/markeer", data={FORM_FIELD: form_token(client), "actie": "submitted",
                                                         "werkgeverscode": shown.group(1), "terug": "werkbank"})
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith("/werkbank?")
    assert seen == order
    done = client.get(BASE + location).text
    assert "zijn aangemeld" in done and "data-copy" not in done
    assert set(states().values()) == {"submitted"}


def test_the_werkbank_carries_each_step_2_value_for_its_copy_button(client: FlaskClient,
                                                                     make_workbook: WorkbookBuilder) -> None:
    row = valid_row(werkgeverscode="0042", client_id="rij-client-1", client_secret="Rij-Geheim-9Q2",
                    dga="Ja", dga_naam="A. de Vries; B. Öztürk", dga_medewerkersnummer="12; 15")
    upload(client, make_workbook([row]))
    page = client.get(f"{BASE}/werkbank").text
    copies = re.findall(r'data-copy="([^"]*)"', page)
    assert copies == ["rij-client-1", "Rij-Geheim-9Q2", "0042", "Ja", "A. de Vries", "12", "B. Öztürk", "15",
                      "Ja", "Maandelijks"]
    assert page.count("Rij-Geheim-9Q2") == 1  # on the screen it is masked; only the copy button holds it
    assert "••••••••" in page


def test_the_werkbank_can_skip_and_pick_and_follows_marks_made_elsewhere(client: FlaskClient,
                                                                          make_workbook: WorkbookBuilder) -> None:
    upload(client, make_workbook(numbered_rows(4)))

    def shown(path: str) -> str:
        found = re.search(r'<section class="werkgever" data-werkgeverscode="([^"]+)"', client.get(BASE + path).text)
        assert found
        return found.group(1)

    assert shown("/werkbank") == "1001"
    assert shown("/werkbank?na=1001") == "1002"
    assert shown("/werkbank?na=1004") == "1001"  # wraps round
    assert shown("/werkbank?code=1003") == "1003"
    assert run_cli("mark", "submitted", "1001", "1002").exit_code == 0  # another clerk, in a terminal
    assert shown("/werkbank") == "1003"
    assert shown("/werkbank?code=1001") == "1003"  # no longer pending: not shown


def test_purge_from_the_register_page_shows_first_then_deletes_the_documents_of_confirmed_werkgevers(
        client: FlaskClient) -> None:
    upload(client, SAMPLE)
    page = client.get(f"{BASE}/resultaat").text
    documents = re.findall(rf'href="/uitvoer/(aanmeldingen/{FIRST}-[^"]+)"', page)
    assert len(documents) == 2
    assert 'href="/opruimen"' not in client.get(f"{BASE}/register").text  # nothing confirmed yet
    mark(client, FIRST, "confirmed", first_exchange=f"{FIRST_EXCHANGE:%d-%m-%Y}")
    assert 'href="/opruimen"' in client.get(f"{BASE}/register").text

    preview = client.get(f"{BASE}/opruimen")
    assert preview.status_code == 200
    assert "2 aanmeldingen van 1 bevestigde werkgever bevatten het Client Secret" in preview.text
    assert 'data-action="purge"' in preview.text
    for document in documents:
        assert Path(document).name in preview.text
        assert client.get(f"{BASE}/uitvoer/{document}").status_code == 200  # a look deletes nothing

    response = client.post(f"{BASE}/opruimen", data={FORM_FIELD: form_token(client)})
    assert response.status_code == 303 and response.headers["Location"] == "/register?opgeruimd=2%2F1"
    assert "2 aanmeldingen van 1 bevestigde werkgever verwijderd" in client.get(
        BASE + response.headers["Location"]).text
    for document in documents:
        assert client.get(f"{BASE}/uitvoer/{document}").status_code == 404
    assert [e.documents for e in status_of(None).employers if e.werkgeverscode == FIRST] == [[]]
    assert "geen aanmeldingen van bevestigde werkgevers meer" in client.get(f"{BASE}/opruimen").text


def test_the_blank_workbook_can_be_downloaded(client: FlaskClient) -> None:
    response = client.get(f"{BASE}/sjabloon.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith("asr-werkgevers.xlsx")
    assert "Werkgevers" in openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames


def test_no_secret_appears_on_any_page_but_the_werkbank(client: FlaskClient, make_workbook: WorkbookBuilder) -> None:
    upload(client, workbook_full_of_secrets(make_workbook))
    for path in ("/", "/resultaat", "/register", "/uitvoer/overzicht.html", "/uitvoer/foutenrapport.html"):
        response = client.get(BASE + path)
        assert response.status_code == 200
        for secret in ALL_SECRETS:
            assert secret not in response.text, (path, secret)
    assert SECRET in client.get(f"{BASE}/werkbank").text  # its copy button


def test_every_upload_lives_in_the_private_folder_and_is_gone_when_the_workspace_closes(
        client: FlaskClient, workspace: Workspace) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    assert workspace.root.stat().st_mode & 0o777 == 0o700
    assert any(workspace.root.rglob("werkgevers.xlsx"))
    workspace.close()
    assert not workspace.root.exists()


# --- the Stoppen button (issue 26) -----------------------------------------------------------------------------


STOP_FORM = re.compile(r'<form method="post" action="/stoppen" class="stoppen">\s*'
                       rf'<input type="hidden" name="{FORM_FIELD}" value="([^"]+)">\s*'
                       r'<button type="submit" data-action="stop"[^>]*>Stoppen</button>')


@pytest.mark.parametrize("path", ["/", "/register", "/werkbank", "/opruimen", "/bestaat-niet"])
def test_every_page_has_the_stop_button_in_a_form_with_the_form_token(client: FlaskClient, path: str) -> None:
    response = client.get(BASE + path)
    found = STOP_FORM.findall(response.text)
    assert found == [_form_token(TOKEN)], response.text[:3000]  # the 404 message page included


def test_a_stop_without_the_form_token_is_403_and_stops_nothing(app: Flask, client: FlaskClient) -> None:
    stop = app.extensions["asr-batch-stop"]
    for data in ({}, {FORM_FIELD: "verkeerd"}):
        response = client.post(f"{BASE}/stoppen", data=data)
        response.close()
        assert response.status_code == 403 and "Geen toegang" in response.text
    assert app.test_client().post(f"{BASE}/stoppen", data={FORM_FIELD: _form_token(TOKEN)}).status_code == 403
    assert client.get(f"{BASE}/stoppen").status_code == 405
    assert not stop.requested.is_set()


def test_the_stop_answers_with_the_closing_page_then_asks_the_server_to_stop(app: Flask, client: FlaskClient) -> None:
    stop = app.extensions["asr-batch-stop"]
    woken: list[bool] = []
    stop.wake = lambda: woken.append(stop.requested.is_set())
    response = client.post(f"{BASE}/stoppen", data={FORM_FIELD: form_token(client)})
    text = html.unescape(response.text)
    assert response.status_code == 200
    assert "asr-batch is gestopt" in text and "U kunt dit venster nu sluiten." in text
    assert "het register blijft bewaard" in text
    assert 'data-action="stop"' not in text and "Klik op Stoppen" not in text  # nothing left to stop
    assert 'href="/werkbank"' not in text and 'href="/register"' not in text  # no links to a stopped server
    response.close()
    assert stop.requested.is_set() and woken == [True]


# --- the server as a process ------------------------------------------------------------------------------


class Browser:
    """A plain HTTP client of the real server, holding its cookie (urllib, as a browser would send)."""

    def __init__(self, url: str) -> None:
        import http.cookiejar
        import urllib.request

        self.base = url.split("/?")[0]
        self.opener = urllib.request.build_opener(LoopbackHandler,
                                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.opener.open(url, timeout=30).read()

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def stop(self) -> tuple[int, str]:
        """Click Stoppen: the status and the page of the answer."""
        import urllib.parse

        token = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', self.get("/"))
        assert token
        answer = self.opener.open(self.base + "/stoppen", data=urllib.parse.urlencode({FORM_FIELD: token.group(1)})
                                  .encode(), timeout=60)
        return int(answer.status), html.unescape(answer.read().decode())

    def upload(self, workbook: Path, timeout: float = 300, follow: bool = True) -> int:
        import urllib.error
        import urllib.request

        token = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', self.get("/"))
        assert token
        boundary = "grens-asr-batch"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{FORM_FIELD}\"\r\n\r\n{token.group(1)}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"werkmap\"; filename=\"{workbook.name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + workbook.read_bytes() + \
            f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base + "/verwerk", data=body, method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        opener = self.opener
        if not follow:
            class Stay(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args: object, **kwargs: object) -> None:
                    return None

            opener = urllib.request.build_opener(Stay, LoopbackHandler, *[h for h in self.opener.handlers
                                                         if isinstance(h, urllib.request.HTTPCookieProcessor)])
        try:
            return int(opener.open(request, timeout=timeout).status)
        except urllib.error.HTTPError as error:
            return error.code


def test_serve_prints_its_url_first_binds_only_loopback_and_stops_on_sigterm_with_exit_0(tmp_path: Path) -> None:
    server, first = start_server(tmp_path)
    try:
        found = re.fullmatch(r"http://asr-[0-9a-f]{32}\.localhost:(\d+)/\?token=([A-Za-z0-9_-]{43,})\n", first)
        assert found, first
        port = int(found.group(1))
        if shutil.which("ss"):  # every socket listening on that port, by its local address
            listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
            assert [line.split()[3] for line in listening.splitlines()] == [f"127.0.0.1:{port}"]
        assert Browser(first.strip()).upload(SAMPLE) == 200  # redirected to /resultaat
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("asr-batch-serve-")]
    finally:
        code, stderr = stop(server)
    assert code == 0
    assert "gestopt; de tijdelijke bestanden zijn gewist" in stderr
    assert "Traceback" not in stderr and found.group(2) not in stderr and SECRET not in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_browser_command_that_waits_does_not_hold_up_the_page_or_the_stop(tmp_path: Path) -> None:
    """Some BROWSER commands only return when the browser closes: the page must answer meanwhile."""
    temporary, pid = tmp_path / "tmp", tmp_path / "browser.pid"
    temporary.mkdir()
    waiting = f'#!/bin/sh\necho $$ > "{pid}"\nexec sleep 300 >/dev/null 2>&1\n'  # off the test's pipes
    server, first = start_with_browser(temporary, tmp_path / "wachtende-browser", waiting)
    try:
        page = Browser(first.strip()).get("/")  # before the change: no answer until the browser command returned
        assert 'action="/stoppen"' in page
        assert pid.exists()  # the browser command was started and still runs
    finally:
        code, stderr = stop(server)
        if pid.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid.read_text()), signal.SIGKILL)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "gewist" in stderr
    assert list(temporary.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, getattr(signal, "SIGHUP", signal.SIGINT)],
                         ids=["ctrl-c", "closed-terminal"])
def test_ctrl_c_and_a_closed_terminal_stop_serve_cleanly_too(tmp_path: Path, signum: int) -> None:
    server, first = start_server(tmp_path)
    Browser(first.strip()).upload(SAMPLE)
    code, stderr = stop(server, signum)
    assert code == 0 and "gewist" in stderr
    assert list(tmp_path.iterdir()) == []


def _uploading(tmp_path: Path, make_workbook: WorkbookBuilder
               ) -> tuple[subprocess.Popen[str], Browser, threading.Thread, list[object]]:
    """A real server in `tmp_path` that is busy with a large upload: it has begun writing documents. Returns the
    server, its browser, the thread that uploads and the list its answer (or error) lands in."""
    big = make_workbook(numbered_rows(2000))
    tmp_path.mkdir()
    server, first = start_server(tmp_path)
    browser = Browser(first.strip())
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(browser.upload(big, follow=False))
        except OSError as error:  # the server went away mid-request
            outcome.append(error)

    uploading = threading.Thread(target=send, daemon=True)
    uploading.start()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("asr-batch-serve-*/werkmap-*/.uitvoer.*.bezig/aanmeldingen/*")):
        assert time.monotonic() < deadline, "the upload never started writing documents"
        time.sleep(0.02)
    return server, browser, uploading, outcome


def test_stopping_during_an_upload_finishes_it_then_leaves_nothing(tmp_path: Path,
                                                                  make_workbook: WorkbookBuilder) -> None:
    tmp_path = tmp_path / "tmp"
    server, _, uploading, outcome = _uploading(tmp_path, make_workbook)
    code, stderr = stop(server)
    uploading.join(60)
    assert outcome == [303]  # the upload was finished and answered before the server closed
    assert code == 0
    assert "Even wachten" in stderr and "gewist" in stderr
    assert list(tmp_path.iterdir()) == []


def _ended(server: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, stderr = server.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        raise AssertionError("serve did not stop after Stoppen") from None
    return server.returncode, stderr


def test_the_stop_button_ends_the_real_server_with_exit_0_and_nothing_left(tmp_path: Path) -> None:
    server, first = start_server(tmp_path)
    try:
        browser = Browser(first.strip())
        assert browser.upload(SAMPLE) == 200
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("asr-batch-serve-")]
        status, page = browser.stop()
    finally:
        code, stderr = _ended(server)
    assert status == 200 and "asr-batch is gestopt" in page and "U kunt dit venster nu sluiten." in page
    assert code == 0
    assert stderr.splitlines()[-1] == "asr-batch serve gestopt; de tijdelijke bestanden zijn gewist."
    assert "Traceback" not in stderr and SECRET not in stderr
    assert list(tmp_path.iterdir()) == []


def test_the_stop_button_during_an_upload_finishes_it_first(tmp_path: Path, make_workbook: WorkbookBuilder) -> None:
    tmp_path = tmp_path / "tmp"
    server, browser, uploading, outcome = _uploading(tmp_path, make_workbook)
    status, page = browser.stop()
    code, stderr = _ended(server)
    uploading.join(60)
    assert status == 200 and "De werkmap die nu wordt verwerkt, wordt eerst afgemaakt" in page
    assert outcome == [303]  # the upload was finished and answered before the server closed
    assert code == 0
    assert "Even wachten" in stderr and stderr.splitlines()[-1].endswith("de tijdelijke bestanden zijn gewist.")
    assert list(tmp_path.iterdir()) == []


def test_an_upload_over_the_limit_gets_the_dutch_413_from_the_real_server(tmp_path: Path) -> None:
    import http.client

    server, first = start_server(tmp_path)
    try:
        port = int(first.split(":")[2].split("/")[0])
        token = first.strip().split("token=")[1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        size = UPLOAD_LIMIT + 5 * 1024 * 1024
        connection.putrequest("POST", "/verwerk", skip_host=True)
        connection.putheader("Host", first.split("/")[2])
        connection.putheader("Cookie", f"{COOKIE.format(port=port)}={token}")
        connection.putheader("Content-Type", "multipart/form-data; boundary=grens")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        block = b"\0" * (1024 * 1024)
        try:
            for _ in range(size // len(block)):
                connection.send(block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer before it has read everything
        response = connection.getresponse()
        text = response.read().decode()
        assert response.status == 413
        assert "Bestand te groot" in text and "200 MB" in text
    finally:
        code, _ = stop(server)
    assert code == 0


def test_a_new_server_removes_the_folder_a_killed_one_left_behind(tmp_path: Path, private_register: Path) -> None:
    from batch.workspace import IN_USE, PREFIX

    abandoned = tmp_path / f"{PREFIX}dood"
    abandoned.mkdir(mode=0o700)
    (abandoned / IN_USE).touch()
    (abandoned / "aanmelding.html").write_text(SECRET)
    other = tmp_path / "iets-anders"
    other.mkdir()
    server, first = start_server(tmp_path)  # a live one: its folder must survive the next server's sweep
    try:
        # another register: for the same one a second serve opens the running page instead (issue 26)
        second, _ = start_server(tmp_path, private_register.with_name("ander-register.sqlite"))
        try:
            assert not abandoned.exists()
            assert other.exists()
            assert len(list(tmp_path.glob(f"{PREFIX}*"))) == 2  # both live servers keep theirs
        finally:
            stop(second)
    finally:
        stop(server)
    assert [p.name for p in tmp_path.iterdir()] == ["iets-anders"]


# --- a second serve opens the running one (issue 26) -----------------------------------------------------------


def _address_files(config: Path) -> list[Path]:
    return sorted((config / "serve").glob("*.url"))


def test_a_second_serve_for_the_same_register_opens_the_running_page(tmp_path: Path, this_computer: Path) -> None:
    server, first = start_server(tmp_path)
    try:
        [address] = _address_files(this_computer)
        assert address.stat().st_mode & 0o777 == 0o600 and address.read_text().splitlines()[0] == first.strip()
        second = subprocess.run([sys.executable, "-m", "batch.cli", "serve", "--no-browser"], capture_output=True,
                                text=True, timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})
        assert second.returncode == 0
        assert second.stdout == first  # the running page's address, as the first line
        assert second.stderr == "asr-batch serve draait al voor dit register, op het adres hierboven.\n"
        assert len(list(tmp_path.glob("asr-batch-serve-*"))) == 1  # no second server, no second folder
        assert Browser(first.strip()).upload(SAMPLE) == 200  # the first one serves on
    finally:
        code, _ = stop(server)
    assert code == 0 and _address_files(this_computer) == []


def test_a_second_serve_opens_the_running_page_in_the_browser(tmp_path: Path, this_computer: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: opened.append(url) or True)
    server, first = start_server(tmp_path)
    try:
        result = run_cli("serve")
        # the running server's opening file (issue 26: the token stays out of the browser's command line)
        [opener] = tmp_path.glob("asr-batch-serve-*/openen.html")
    finally:
        stop(server)
    assert result.exit_code == 0 and opened == [opener.as_uri()] and result.stdout == first
    assert result.stderr == "asr-batch serve draait al voor dit register; die pagina wordt in de browser geopend.\n"


def test_the_address_left_by_a_killed_server_is_ignored(tmp_path: Path, this_computer: Path) -> None:
    killed, first = start_server(tmp_path)
    killed.kill()
    killed.communicate()
    [address] = _address_files(this_computer)
    assert address.read_text().splitlines()[0] == first.strip()  # left behind
    server, url = start_server(tmp_path)
    try:
        assert url != first and address.read_text().splitlines()[0] == url.strip()  # its own page, announced instead
    finally:
        code, stderr = stop(server)
    assert code == 0 and "gewist" in stderr
    assert _address_files(this_computer) == []


def test_a_serve_for_another_register_starts_its_own_page(tmp_path: Path, private_register: Path,
                                                          this_computer: Path) -> None:
    server, first = start_server(tmp_path)
    try:
        other, url = start_server(tmp_path, private_register.with_name("ander-register.sqlite"))
        try:
            assert url != first and len(_address_files(this_computer)) == 2
        finally:
            stop(other)
    finally:
        stop(server)
    assert _address_files(this_computer) == []


def test_serve_refuses_a_port_in_use_in_dutch(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--no-browser", "--port", port)
    assert result.exit_code == 2
    assert f"Poort {port} op 127.0.0.1 kan niet worden gebruikt" in result.stderr


def test_serve_refuses_an_unusable_register_before_serving(tmp_path: Path) -> None:
    broken = tmp_path / "register.sqlite"
    broken.write_text("geen database")
    result = run_cli("serve", "--no-browser", "--register", broken)
    assert result.exit_code == 2
    assert result.stdout == ""  # no URL: nothing is served
    assert broken.read_text() == "geen database"


def test_status_json_matches_what_the_page_marked(client: FlaskClient) -> None:
    upload(client, SAMPLES / "werkgevers.xlsx")
    mark(client, FIRST, "submitted")
    mark(client, SECOND, "confirmed", first_exchange=EXCHANGE)
    report = json.loads(run_cli("status", "--json").stdout)
    assert report["counts"] == {"total": 10, "new": 8, "submitted": 1, "confirmed": 1, "changed": 0,
                                "queried": 0, "ended": 0}


def test_a_busy_register_is_a_dutch_page_on_every_page(client: FlaskClient, private_register: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    upload(client, SAMPLE)
    monkeypatch.setattr("batch.register.engines.LOCK_TIMEOUT", 0.2)
    holder = sqlite3.connect(private_register, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        token = _form_token(TOKEN)  # known without loading a page, which needs the register
        marked = client.post(f"{BASE}/markeer", data={FORM_FIELD: token, "werkgeverscode": FIRST,
                                                       "actie": "submitted"})
        for response in (client.get(f"{BASE}/"), client.get(f"{BASE}/register"), client.get(f"{BASE}/werkbank"),
                         upload(client, SAMPLE, token=token), marked):
            assert response.status_code in (400, 503)
            assert "Onverwachte fout" not in response.text
            assert "bezet" in response.text
    finally:
        holder.rollback()
        holder.close()


def test_a_file_of_an_upload_replaced_meanwhile_is_a_dutch_410(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    page = client.application.extensions["asr-batch"]
    for path in page.run.files().values():
        path.unlink()  # as when the next upload replaces it while this page is being sent
    page.run.file = lambda name: page.run.output / name  # it was there when looked up
    response = client.get(f"{BASE}/uitvoer/overzicht.html")
    assert response.status_code == 410
    assert "Niet meer beschikbaar" in response.text


@pytest.mark.parametrize("given, saved", [("werkgevers.xlsx", "werkgevers.xlsx"), ("a\x00b.xlsx", "a_b.xlsx"),
                                          ("C:\\Users\\x\\werkgevers.xlsx", "werkgevers.xlsx"),
                                          ("../../etc/werkgevers.xlsx", "werkgevers.xlsx"), ("uitvoer", "uitvoer"),
                                          ("x" * 300 + ".xlsx", "x" * 100 + ".xlsx"), ("", "werkmap.xlsx"),
                                          ("Café <1>.xlsx", "Café _1_.xlsx")])
def test_an_uploaded_name_is_kept_but_made_safe(given: str, saved: str) -> None:
    assert upload_name(given) == saved


def test_an_odd_file_name_gets_the_workbooks_own_verdict(client: FlaskClient) -> None:
    for name in ("uitvoer", "a\x00b.xlsx", "x" * 300 + ".xlsx"):
        response = upload(client, SAMPLE, name=name)
        assert response.status_code == 303, name
        assert "10" in client.get(f"{BASE}/resultaat").text


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067",
                                     "\u2068", "\u2069", "\u200e", "\u200f", "\u200b", "\ufeff", "\u061c"])
def test_bidi_controls_and_other_format_characters_leave_the_uploaded_name(control: str) -> None:
    assert upload_name(f"werkgevers{control}xcod.xlsx") == "werkgeversxcod.xlsx"
    assert upload_name(f"{control}.xlsx") == "xlsx"  # what stays of it, as for ".xlsx" itself
    assert upload_name(control) == "werkmap.xlsx"


def test_a_right_to_left_override_in_the_name_reaches_neither_the_page_the_zip_nor_the_register(
        client: FlaskClient) -> None:
    """ "werkgevers\u202excod.xlsx" would show as "werkgeversxlsx.docx" in a download name or a message."""
    assert upload(client, SAMPLE, name="werkgevers\u202excod.xlsx").status_code == 303
    page = client.get(f"{BASE}/resultaat").text
    assert "werkgeversxcod.xlsx" in page and "\u202e" not in page
    disposition = client.get(f"{BASE}/aanmeldingen.zip").headers["Content-Disposition"]
    assert "werkgeversxcod-aanmeldingen.zip" in disposition
    assert "202e" not in disposition.lower() and "\u202e" not in disposition
    sources = {e.source_file for e in status_of(None).employers}
    assert sources and all(s and s.endswith("werkgeversxcod.xlsx") and "\u202e" not in s for s in sources)


def test_an_uploaded_workbook_is_saved_readable_by_this_user_only(client: FlaskClient, workspace: Workspace) -> None:
    import stat

    upload(client, SAMPLE)
    saved = list(workspace.root.rglob("werkgevers.xlsx"))
    assert saved and [stat.S_IMODE(p.stat().st_mode) for p in saved] == [0o600] * len(saved)
    previous = os.umask(0)  # the most open umask: the mode is the code's, not the umask's
    try:
        data = client.get(f"{BASE}/register.xlsx").data
        assert upload_register_workbook(client, data, "mijn-register.xlsx").status_code == 200
    finally:
        os.umask(previous)
    kept = list(workspace.root.rglob("mijn-register.xlsx"))
    assert kept and [stat.S_IMODE(p.stat().st_mode) for p in kept] == [0o600]


def test_port_80_accepts_the_host_without_a_port(workspace: Workspace) -> None:
    browser = create_app(port=80, register=None, workspace=workspace, token=TOKEN).test_client()
    assert browser.get(f"http://127.0.0.1/?token={TOKEN}").status_code == 303
    assert browser.get("http://127.0.0.1/").status_code == 200
    assert browser.get("http://127.0.0.1:81/").status_code == 403


def test_the_page_works_the_same_on_a_shared_register(backend: object, client: FlaskClient) -> None:
    """The page calls the register's own functions, so it runs on SQLite and PostgreSQL alike."""
    assert upload(client, SAMPLE).status_code == 303
    assert mark(client, FIRST, "submitted").status_code == 303
    assert mark(client, SECOND, "confirmed", first_exchange=EXCHANGE).status_code == 303
    page = client.get(f"{BASE}/register").text
    assert f'data-werkgeverscode="{FIRST}" data-state="submitted"' in page
    assert f'data-werkgeverscode="{SECOND}" data-state="confirmed"' in page
    report = json.loads(run_cli("status", "--json").stdout)
    assert report["counts"] == {"total": 10, "new": 8, "submitted": 1, "confirmed": 1, "changed": 0,
                                "queried": 0, "ended": 0}


# --- the register workbook on the register page, and waiting too long -------------------------------------------


def upload_register_workbook(client: FlaskClient, data: bytes, name: str = "register.xlsx") -> object:
    return client.post(f"{BASE}/registerwerkmap", content_type="multipart/form-data",
                       data={FORM_FIELD: form_token(client, "/register"), "registerwerkmap": (io.BytesIO(data), name)})


def filled_in(data: bytes, code: str, column: str, value: object) -> bytes:
    """The downloaded register workbook with one date filled in, as a clerk saves it."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    sheet = wb["Register"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == code)
    sheet[f"{column}{row}"].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def apply_key(page: str) -> str:
    found = re.search(r'name="upload" value="([^"]+)"', page)
    assert found, "the preview carries the apply button"
    return found.group(1)


def test_the_register_page_shows_days_waiting_and_flags_those_waiting_too_long(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    run_cli("mark", "submitted", FIRST, "--on", (date.today() - timedelta(days=40)).isoformat())
    run_cli("mark", "submitted", SECOND, "--on", (date.today() - timedelta(days=3)).isoformat())
    page = client.get(f"{BASE}/register").text
    assert re.search(rf'data-werkgeverscode="{FIRST}" data-state="submitted" data-days-waiting="40" '
                     r'data-waiting-too-long="true" class="te-lang">', page)
    assert f'data-werkgeverscode="{SECOND}" data-state="submitted" data-days-waiting="3" ' \
           'data-waiting-too-long="false">' in page
    assert "40 dagen wachten</small> <strong class=\"te-lang-label\">te lang" in page
    assert re.search(r'data-filter="waiting-too-long"[^>]*>wacht langer dan 30 dagen \(1\)</a>', page)
    only = client.get(f"{BASE}/register?status=submitted&te_lang=ja").text
    assert re.findall(r'data-werkgeverscode="([^"]+)" data-state="', only) == [FIRST]


def test_the_register_workbook_downloads_from_the_page_as_status_xlsx_writes_it(client: FlaskClient,
                                                                                  workspace: Workspace) -> None:
    upload(client, SAMPLE)
    assert 'href="/register.xlsx" data-action="download-register"' in client.get(f"{BASE}/register").text
    response = client.get(f"{BASE}/register.xlsx")
    assert response.status_code == 200
    assert f'register-{date.today():%Y-%m-%d}.xlsx' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb["asr-batch"].sheet_state == "hidden" and wb["Register"].max_row == 11
    assert list(workspace.root.rglob("register.xlsx")) == []  # written in the workspace, and gone


def test_an_uploaded_register_workbook_is_previewed_then_applied_with_one_button(client: FlaskClient,
                                                                                 workspace: Workspace) -> None:
    upload(client, SAMPLE)
    day = date.today() - timedelta(days=2)
    data = filled_in(client.get(f"{BASE}/register.xlsx").data, FIRST, "E", day)
    preview = upload_register_workbook(client, data, "mijn register.xlsx")
    assert preview.status_code == 200
    page = preview.text
    assert re.findall(r'<tr data-change data-werkgeverscode="([^"]+)"', page) == [FIRST]
    assert f"aangemeld op {day:%d-%m-%Y}" in page and "Er is nog niets gewijzigd" in page
    assert states()[FIRST] == "new"  # a preview changes nothing
    saved = list(workspace.root.rglob("mijn register.xlsx"))
    assert len(saved) == 1  # in the private workspace, under its own name
    applied = client.post(f"{BASE}/registerwerkmap/toepassen", data={FORM_FIELD: form_token(client, "/register"),
                                                                     "upload": apply_key(page)})
    assert applied.status_code == 303 and applied.headers["Location"] == "/register?bijgewerkt=1"
    assert "1 werkgever bijgewerkt" in client.get(BASE + applied.headers["Location"]).text
    employers = {e.werkgeverscode: e for e in status_of(None).employers}
    assert employers[FIRST].state == "submitted" and employers[FIRST].submitted_on == day
    assert not saved[0].exists()  # applied: the upload is gone
    again = client.post(f"{BASE}/registerwerkmap/toepassen", data={FORM_FIELD: form_token(client, "/register"),
                                                                   "upload": apply_key(page)})
    assert again.status_code == 410


def test_a_register_workbook_with_problems_lists_each_by_its_cell_and_offers_no_apply(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    data = filled_in(client.get(f"{BASE}/register.xlsx").data, FIRST, "H", date.today() - timedelta(days=1))
    page = upload_register_workbook(client, data).text
    assert re.findall(r'data-problem data-cell="([^"]+)"', page) == ["Register!I3"]  # 0087 sorts first
    assert "hoort de datum van de eerste gegevensuitwisseling" in page and "Er is niets gewijzigd" in page
    assert 'data-action="apply-workbook"' not in page


def test_the_apply_checks_again_a_colleague_may_have_marked_meanwhile(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    data = filled_in(client.get(f"{BASE}/register.xlsx").data, FIRST, "E", date.today() - timedelta(days=2))
    page = upload_register_workbook(client, data).text
    assert run_cli("mark", "submitted", FIRST, "--on", (date.today() - timedelta(days=5)).isoformat()).exit_code == 0
    applied = client.post(f"{BASE}/registerwerkmap/toepassen", data={FORM_FIELD: form_token(client, "/register"),
                                                                     "upload": apply_key(page)})
    assert applied.status_code == 409
    assert "Niet vastgelegd: het register is veranderd sinds het overzicht" in applied.text
    assert re.findall(r'data-problem data-cell="([^"]+)"', applied.text) == ["Register!E3"]
    assert "in het register gewijzigd nadat deze werkmap werd geschreven" in html.unescape(applied.text)
    employers = {e.werkgeverscode: e for e in status_of(None).employers}
    assert employers[FIRST].submitted_on == date.today() - timedelta(days=5)  # the colleague's date stays


@pytest.mark.parametrize("content, name, said", [
    (None, "werkgevers.xlsx", "is geen registerwerkmap van asr-batch"),
    (b"niet eens een werkmap", "register.xlsx", "is geen Excel-werkmap"),
    (b"", "", "Er is geen registerwerkmap gekozen"),
])
def test_an_upload_that_is_no_register_workbook_is_a_dutch_message(client: FlaskClient, content: bytes | None,
                                                                  name: str, said: str) -> None:
    upload(client, SAMPLE)
    before = states()
    response = upload_register_workbook(client, SAMPLE.read_bytes() if content is None else content, name)
    assert response.status_code == 400
    assert said in html.unescape(response.text) and "Oplossing:" in response.text
    assert 'data-action="apply-workbook"' not in response.text
    assert states() == before


def test_the_register_workbook_keeps_the_pages_access_rules(app: Flask, client: FlaskClient) -> None:
    upload(client, SAMPLE)
    assert app.test_client().get(f"{BASE}/register.xlsx").status_code == 403  # no cookie
    data = client.get(f"{BASE}/register.xlsx").data
    for path in ("/registerwerkmap", "/registerwerkmap/toepassen"):
        response = client.post(BASE + path, content_type="multipart/form-data",
                               data={"registerwerkmap": (io.BytesIO(data), "register.xlsx"), "upload": "werkmap-1"})
        assert response.status_code == 403  # no form token
    assert client.get(f"{BASE}/register.xlsx", headers={"Host": "evil.example"}).status_code == 403


# --- every action of the terminal on the page (issue 25) --------------------------------------------------------


def row_of(page: str, code: str) -> str:
    """The register page's row of one werkgever, its actions included."""
    found = re.search(rf'<tr id="werkgever-{code}" data-werkgeverscode="{code}" data-state="[^"]+"[^>]*>(.*?)</tr>',
                      page, re.S)
    assert found, f"{code} has a row"
    return found.group(1)


def actions(row: str) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', row)


def employer(code: str) -> object:
    (found,) = [e for e in status_of(None).employers if e.werkgeverscode == code]
    return found


def test_the_register_page_offers_the_actions_that_fit_each_state(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    page = client.get(f"{BASE}/register").text
    assert actions(row_of(page, FIRST)) == ["linked", "submitted", "confirmed", "note", "ended", "forget"]
    assert run_cli("mark", "submitted", FIRST).exit_code == 0
    assert run_cli("mark", "linked", SECOND).exit_code == 0
    assert run_cli("mark", "ended", SECOND).exit_code == 0
    page = client.get(f"{BASE}/register").text
    assert actions(row_of(page, FIRST)) == ["linked", "submitted", "confirmed", "queried", "note", "ended", "forget"]
    ended = row_of(page, SECOND)
    assert actions(ended) == ["submitted", "note", "forget"]  # no Bevestigd, no step 1 again
    assert ">Opnieuw aangemeld</button>" in ended and f"gekoppeld op {date.today():%d-%m-%Y}" in ended
    # every date is a text field read as dd-mm-jjjj, with its own label; every field has one
    assert 'type="date"' not in page
    fields = re.findall(r"<input (?![^>]*type=\"hidden\")[^>]*>", page.split("<table", 1)[1].split("</table>")[0])
    assert fields and all(re.search(r'aria-label="[^"]+ \(\d+\)"', f) for f in fields)
    dates = [f for f in fields if 'name="op"' in f or 'name="first_exchange"' in f]
    assert dates and all('inputmode="numeric"' in f and 'placeholder="dd-mm-jjjj"' in f for f in dates)
    assert 'name="op" inputmode="numeric"' in row_of(page, FIRST)
    assert f'value="{date.today():%d-%m-%Y}"' in row_of(page, FIRST)


def test_the_status_filters_include_navragen_and_beeindigd_with_counts(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    run_cli("mark", "submitted", FIRST, SECOND)
    run_cli("mark", "queried", FIRST, "--note", "kenmerk 1")
    run_cli("mark", "ended", SECOND)
    page = client.get(f"{BASE}/register").text
    assert '<a href="/register?status=queried">navragen (1)</a>' in page
    assert '<a href="/register?status=ended">beëindigd (1)</a>' in page
    only = client.get(f"{BASE}/register?status=ended").text
    assert re.findall(r'data-werkgeverscode="([^"]+)" data-state="', only) == [SECOND]


def test_one_werkgever_walks_every_state_on_the_page_and_status_says_so(backend: object,
                                                                        client: FlaskClient) -> None:
    """linked → submitted → queried → submitted → confirmed → submitted again (after the confirmation step) →
    confirmed → ended, each typed as a clerk may type a date; after each step the row and `status --json` agree."""
    upload(client, SAMPLE)
    days = {n: date.today() - timedelta(days=n) for n in (10, 9, 8, 7, 6, 5, 4, 3)}

    def step(action: str, state: str, **fields: str) -> dict[str, object]:
        response = mark(client, FIRST, action, **fields)
        assert response.status_code == 303, html.unescape(response.text)
        page = client.get(BASE + response.headers["Location"]).text
        assert f'data-werkgeverscode="{FIRST}" data-state="{state}"' in page
        (found,) = [e for e in json.loads(run_cli("status", "--json").stdout)["employers"]
                    if e["werkgeverscode"] == FIRST]
        assert found["state"] == state
        return found

    found = step("linked", "new", op=f"{days[10].day}-{days[10].month}-{days[10].year}")  # 3-12-2026
    assert found["linked_on"] == days[10].isoformat()
    assert step("submitted", "submitted", op=days[9].isoformat())["submitted_on"] == days[9].isoformat()
    found = step("queried", "queried", op=f"{days[8]:%d-%m-%Y}", notitie="a.s.r. mist het loonheffingennummer")
    assert (found["queried_on"], found["note"]) == (days[8].isoformat(), "a.s.r. mist het loonheffingennummer")
    step("submitted", "submitted", op=f"{days[7]:%d/%m/%Y}")
    found = step("confirmed", "confirmed", op=f"{days[6]:%d-%m-%Y}", first_exchange=f"{days[5]:%d-%m-%Y}")
    assert (found["confirmed_on"], found["first_exchange"]) == (days[6].isoformat(), days[5].isoformat())
    asked = mark(client, FIRST, "submitted", op=f"{days[4]:%d-%m-%Y}")
    assert asked.status_code == 200 and 'data-confirm-for="submitted"' in asked.text
    assert f"eerder bevestigd op {days[6]:%d-%m-%Y}" in html.unescape(asked.text)
    assert f'value="{days[4]:%d-%m-%Y}"' in asked.text  # the date typed in the row goes along
    assert employer(FIRST).state == "confirmed"  # asking changed nothing
    found = step("submitted", "submitted", op=f"{days[4]:%d-%m-%Y}", zeker="ja")
    assert found["confirmed_earlier"] is True and found["confirmed_on"] == days[6].isoformat()
    step("confirmed", "confirmed", op=f"{days[3]:%d-%m-%Y}", first_exchange=f"{date.today():%d-%m-%Y}")
    asked = mark(client, FIRST, "ended")
    assert asked.status_code == 200 and 'data-confirm-for="ended"' in asked.text
    assert employer(FIRST).state == "confirmed"
    found = step("ended", "ended", op=f"{date.today():%d-%m-%Y}", zeker="ja")
    assert found["ended_on"] == date.today().isoformat()
    assert f"{FIRST}: beëindigd op {date.today():%d-%m-%Y}" in client.get(
        f"{BASE}/register?gemarkeerd={FIRST}&actie=ended").text


@pytest.mark.parametrize("fields, said", [
    ({"actie": "submitted", "op": "31-02-2026"}, "De datum bij 'Aangemeld op' ('31-02-2026') is niet te lezen"),
    ({"actie": "linked", "op": "gisteren"}, "De datum bij 'Gekoppeld op' ('gisteren') is niet te lezen"),
    ({"actie": "confirmed", "op": "1-2", "first_exchange": EXCHANGE}, "De datum bij 'Bevestigd op' ('1-2')"),
    ({"actie": "confirmed", "first_exchange": "15/13/2026"}, "De datum bij 'eerste uitwisseling' ('15/13/2026')"),
    ({"actie": "queried", "notitie": "  "}, f"Bij 'Navragen' voor {FIRST} hoort een notitie"),
    ({"actie": "note", "notitie": ""}, f"Bij 'Notitie opslaan' voor {FIRST} hoort een notitie"),
    ({"actie": "linked", "op": f"{date.today() + timedelta(days=1):%d-%m-%Y}"}, "ligt in de toekomst"),
])
def test_an_unreadable_date_or_a_missing_note_is_refused_in_dutch_and_changes_nothing(
        client: FlaskClient, fields: dict[str, str], said: str) -> None:
    upload(client, SAMPLE)
    assert run_cli("mark", "submitted", FIRST).exit_code == 0
    before = [e.to_dict() for e in status_of(None).employers]
    response = client.post(f"{BASE}/markeer", data={FORM_FIELD: form_token(client), "werkgeverscode": FIRST,
                                                     **fields})
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "Niet vastgelegd" in text and said in text and "Oplossing:" in text
    assert "--" not in text.split("Oplossing:", 1)[1].split("</p>")[0]  # the page's words, not the terminal's
    assert [e.to_dict() for e in status_of(None).employers] == before


def test_dates_out_of_order_are_the_registers_refusal_in_the_pages_words(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    assert run_cli("mark", "submitted", FIRST, "--on", (date.today() - timedelta(days=3)).isoformat()).exit_code == 0
    late = date.today() - timedelta(days=1)
    response = mark(client, FIRST, "linked", op=f"{late:%d-%m-%Y}")
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert (f"gekoppeld op {late:%d-%m-%Y} ligt na de aanmelding op "
            f"{date.today() - timedelta(days=3):%d-%m-%Y}; stap 1 gaat vóór stap 2") in text
    assert "Oplossing: Vul bij de datum de dag waarop de werkgever in Exact werd gekoppeld." in text
    assert employer(FIRST).linked_on is None
    queried = mark(client, SECOND, "queried", notitie="vraag")  # still new: a.s.r. cannot ask about it
    assert queried.status_code == 400 and "asr-batch mark" not in queried.text and employer(SECOND).state == "new"


def test_a_stale_page_cannot_submit_a_confirmed_werkgever_again_without_the_confirmation_step(
        client: FlaskClient) -> None:
    upload(client, SAMPLE)
    assert run_cli("mark", "confirmed", FIRST, "--first-exchange", EXCHANGE).exit_code == 0  # a colleague, meanwhile
    asked = mark(client, FIRST, "submitted", terug="werkbank")
    assert asked.status_code == 200 and 'data-action="confirm"' in asked.text
    assert 'name="zeker" value="ja"' in asked.text and 'name="terug" value="werkbank"' in asked.text
    assert 'href="/werkbank" data-action="cancel"' in asked.text
    assert employer(FIRST).state == "confirmed"


def test_the_note_alone_changes_only_the_note(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    assert run_cli("mark", "submitted", FIRST).exit_code == 0
    before = employer(FIRST)
    response = mark(client, FIRST, "note", notitie="belde met Petra, kenmerk B-7")
    assert response.status_code == 303
    after = employer(FIRST)
    assert after.note == "belde met Petra, kenmerk B-7"
    assert (after.state, after.submitted_on) == (before.state, before.submitted_on)
    page = client.get(BASE + response.headers["Location"]).text
    assert f"{FIRST}: notitie vastgelegd." in page
    assert 'value="belde met Petra, kenmerk B-7"' in row_of(page, FIRST)


def test_forget_first_says_what_it_means_and_lists_the_documents_it_leaves(client: FlaskClient) -> None:
    upload(client, SAMPLE)
    documents = employer(FIRST).documents
    assert documents
    asked = mark(client, FIRST, "forget")
    assert asked.status_code == 200 and 'data-confirm-for="forget"' in asked.text
    text = html.unescape(asked.text)
    assert "helemaal uit het register" in text and "Er is nog niets gewijzigd" in text
    assert re.findall(r"<li data-document><code>([^<]+)</code>", asked.text) == [html.escape(p) for p in documents]
    assert FIRST in states()
    done = mark(client, FIRST, "forget", zeker="ja")
    assert done.status_code == 200 and "Uit het register gehaald" in done.text
    assert all(html.escape(p) in done.text for p in documents)
    assert FIRST not in states() and len(states()) == 9


@pytest.mark.parametrize("action", ["linked", "queried", "note", "ended", "forget"])
def test_every_new_action_needs_the_form_token(client: FlaskClient, action: str) -> None:
    upload(client, SAMPLE)
    run_cli("mark", "submitted", FIRST)
    before = status_of(None).employers
    response = client.post(f"{BASE}/markeer", data={"werkgeverscode": FIRST, "actie": action, "zeker": "ja",
                                                     "notitie": "x", FORM_FIELD: "wrong"})
    assert response.status_code == 403
    assert status_of(None).employers == before


def test_the_werkbank_says_what_changed_shows_the_note_and_reminds_of_step_1(
        client: FlaskClient, make_workbook: WorkbookBuilder) -> None:
    upload(client, make_workbook([valid_row(dertiende_maand="Ja")], name="a.xlsx"))
    page = client.get(f"{BASE}/werkbank").text
    assert "Eerst in Exact koppelen aan de gebruikersgroep (stap 1)" in page
    assert 'data-step1' in page and 'data-action="linked"' in page
    assert mark(client, "1001", "submitted", terug="werkbank").status_code == 303
    assert run_cli("mark", "note", "1001", "--note", "nieuw secret gevraagd").exit_code == 0
    upload(client, make_workbook([valid_row(dertiende_maand="Nee")], name="b.xlsx"))
    page = html.unescape(client.get(f"{BASE}/werkbank").text)
    assert 'data-state="changed"' in page
    assert "Geef a.s.r. door wat er is gewijzigd: <b>13e maand: Ja → Nee</b>" in page
    assert "<p data-note>Notitie: nieuw secret gevraagd</p>" in page
    day = date.today() - timedelta(days=20)
    response = mark(client, "1001", "linked", op=f"{day:%d-%m-%Y}", terug="werkbank")
    assert response.status_code == 303 and response.headers["Location"].startswith("/werkbank?code=1001")
    page = client.get(BASE + response.headers["Location"]).text
    assert "1001: stap 1 (gekoppeld in Exact) is vastgelegd." in page
    assert "data-step1" not in page and f"gekoppeld in Exact op {day:%d-%m-%Y}" in page
    assert employer("1001").linked_on == day


def test_the_start_and_register_pages_show_a_register_file_as_its_path(client: FlaskClient,
                                                                        private_register: Path) -> None:
    """Issue 28: the clerk reads where the file is, not sqlite:////... (status --json keeps the URL)."""
    for page in ("/", "/register"):
        text = html.unescape(client.get(f"{BASE}{page}").text)
        assert f"Register: {private_register}<" in text and "sqlite:" not in text
