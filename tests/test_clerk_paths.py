"""The folders a clerk really has (issue 26): a profile like `C:\\Users\\Jørgen de Vries\\OneDrive - Kantoor\\`, with
spaces, non-ASCII letters, an en dash and parentheses, through every command that takes or makes a path: process
(with the default output folder and with -o), status --json and --xlsx, mark --from, and serve's output. On Linux
the same folder names stand in for the Windows profile; the Windows-only parts (device names, MAX_PATH, locked
files) are forced in test_windows.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from conftest import run_cli, valid_row, write_workbook
from register_backends import Backend

from batch.serve import FORM_FIELD, Workspace, create_app

ROOT = Path(__file__).resolve().parent.parent
PORT = 8124
TOKEN = "t0k3n-" + "j" * 40
BASE = f"http://127.0.0.1:{PORT}"
WORKBOOK = "werkgevers mei – Jørgen (def).xlsx"
ROWS = [valid_row(werkgeverscode="1001", naam="Bakkerij Müller B.V."),
        valid_row(werkgeverscode="1002", naam="Café ’t Hoekje"),
        valid_row(werkgeverscode="1003", naam="Con"),  # a device name on Windows, as a werkgever's name
        valid_row(werkgeverscode="", naam="Aux B.V.")]  # invalid: no code; its name leads to no file
DOCUMENTS = ["1001-bakkerij-muller-b-v.html", "1001-bakkerij-muller-b-v.pdf", "1002-cafe-t-hoekje.html",
             "1002-cafe-t-hoekje.pdf", "1003-werkgever-con.html", "1003-werkgever-con.pdf"]


@pytest.fixture
def onedrive(tmp_path: Path) -> Path:
    folder = tmp_path / "Jørgen de Vries" / "OneDrive - Kantoor" / "Salarisadministratie (2026)"
    folder.mkdir(parents=True)
    write_workbook(folder / WORKBOOK, ROWS)
    return folder


def test_process_status_and_mark_in_a_onedrive_folder(onedrive: Path, monkeypatch: pytest.MonkeyPatch,
                                                       backend: Backend) -> None:
    source = onedrive / WORKBOOK
    before = source.read_bytes()
    monkeypatch.chdir(onedrive)
    result = run_cli("process", WORKBOOK)  # the default output folder, beside it in the current folder
    assert result.exit_code == 1, result.output  # the row without a code
    output = onedrive / "werkgevers mei – Jørgen (def)-uitvoer"
    assert sorted(p.name for p in (output / "aanmeldingen").iterdir()) == DOCUMENTS
    assert (output / "foutenrapport.xlsx").is_file()
    assert json.loads((output / "resultaat.json").read_text(encoding="utf-8"))["input"]["file"] == WORKBOOK
    assert source.read_bytes() == before

    status = json.loads(run_cli("status", "--json").stdout)
    first = status["employers"][0]
    assert first["source"] == {"file": WORKBOOK, "row": 2}
    assert sorted(first["documents"]) == [str(output / "aanmeldingen" / d) for d in DOCUMENTS[:2]]
    assert all(Path(d).is_file() for e in status["employers"] for d in e["documents"])

    exported = onedrive / "Register Jørgen – mei.xlsx"
    assert run_cli("status", "--xlsx", exported).exit_code == 0
    book = openpyxl.load_workbook(exported)
    sheet = book["Register"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "1002")
    sheet.cell(row, 5).value = date.today() - timedelta(days=2)  # Aangemeld op
    filled = onedrive / "Register Jørgen – ingevuld.xlsx"
    book.save(filled)
    marked = run_cli("mark", "--from", filled)
    assert marked.exit_code == 0, marked.output
    assert marked.stderr.splitlines()[-1] == "1 werkgever bijgewerkt uit 'Register Jørgen – ingevuld.xlsx'."
    states = {e["werkgeverscode"]: e["state"] for e in json.loads(run_cli("status", "--json").stdout)["employers"]}
    assert states == {"1001": "new", "1002": "submitted", "1003": "new"}


def test_an_output_folder_named_with_spaces_and_a_register_in_the_profile(onedrive: Path, tmp_path: Path) -> None:
    register = tmp_path / "Jørgen de Vries" / "AppData Local" / "asr-batch" / "register.sqlite"
    output = onedrive / "Uitvoer mei – definitief"
    result = run_cli("process", onedrive / WORKBOOK, "-o", output, "--format", "html", "--register", register)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in (output / "aanmeldingen").iterdir()) == DOCUMENTS[::2]
    assert register.is_file()
    shown = json.loads(run_cli("status", "--json", "--register", register).stdout)["register"]
    assert shown == f"sqlite:///{register}"


def test_the_real_command_with_a_cp1252_stdout_names_the_folder(onedrive: Path) -> None:
    """As a Windows console redirected to a file: the folder's ø and – come through or become '?', never a crash."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "batch.cli", "process", str(onedrive / WORKBOOK), "--format", "html",
                           "-o", str(onedrive / "uit")], capture_output=True, env=env, cwd=onedrive, timeout=120,
                          check=False)
    assert done.returncode == 1, done.stderr
    text = (done.stdout + done.stderr).decode("cp1252")
    assert "Jørgen de Vries" in text and "Traceback" not in text
    assert sorted(p.name for p in (onedrive / "uit" / "aanmeldingen").iterdir()) == DOCUMENTS[::2]


def test_serves_output_of_a_workbook_with_such_a_name(onedrive: Path, backend: Backend) -> None:
    workspace = Workspace()
    try:
        app = create_app(port=PORT, register=None, workspace=workspace, token=TOKEN)
        client = app.test_client()
        assert client.get(f"{BASE}/?token={TOKEN}").status_code == 303
        token = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', client.get(f"{BASE}/").text)
        assert token is not None
        client.post(f"{BASE}/verwerk", content_type="multipart/form-data", data={
            FORM_FIELD: token.group(1), "werkmap": (io.BytesIO((onedrive / WORKBOOK).read_bytes()), WORKBOOK)})
        page = client.get(f"{BASE}/resultaat").text
        assert "Jørgen" in page
        download = client.get(f"{BASE}/aanmeldingen.zip")
        assert download.status_code == 200
        disposition = download.headers["Content-Disposition"]
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == "werkgevers mei – Jørgen (def)-aanmeldingen.zip"
        assert sorted(Path(n).name for n in zipfile.ZipFile(io.BytesIO(download.data)).namelist()) == DOCUMENTS
        assert client.get(f"{BASE}/uitvoer/foutenrapport.xlsx").status_code == 200
        status = json.loads(run_cli("status", "--json").stdout)
        assert {e["source"]["file"] for e in status["employers"]} == {WORKBOOK}
    finally:
        assert workspace.close()
