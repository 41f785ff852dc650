"""Issue 26: a console or redirected file that is not UTF-8 (cp1252 on Windows, ASCII under a POSIX "C" locale)
never turns a werkgever's name into a traceback, and --json stays the same data.

This machine has only the C, C.UTF-8 and POSIX locales, so a real cp1252 locale cannot be set: PYTHONIOENCODING=cp1252
gives Python's streams the encoding a Dutch Windows gives a redirected stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import WorkbookBuilder, run_cli, valid_row

AS_INSTALLED = [sys.executable, "-c", "from batch.cli import run; run()"]
NAME = "Łukasz Transport B.V."  # Ł is not in cp1252
CELL = "12’3“🚚€"  # ’ “ € are in cp1252, the emoji is not

CP1252 = {"PYTHONIOENCODING": "cp1252"}
ASCII = {"PYTHONIOENCODING": "ascii"}
C_LOCALE = {"PYTHONUTF8": "0", "LC_ALL": "C", "LANG": "C"}


def asr_batch(env: dict[str, str], *args: object) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8", "LC_ALL", "LANG")}
    return subprocess.run([*AS_INSTALLED, *map(str, args)], capture_output=True, timeout=120, check=False,
                          env={**clean, **env})


@pytest.fixture
def registered(make_workbook: WorkbookBuilder, tmp_path: Path, private_register: Path) -> Path:
    book = make_workbook([valid_row(naam=NAME), valid_row(werkgeverscode="1002", naam="Café Ëlla & Zn. €")])
    assert run_cli("process", book, "-o", tmp_path / "out", "--format", "html").exit_code == 0
    return book


def no_traceback(done: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in done.stderr and b"onverwachte fout" not in done.stderr, done.stderr


def test_status_on_cp1252_prints_what_cp1252_has_and_a_question_mark_for_the_rest(registered: Path) -> None:
    done = asr_batch(CP1252, "status")
    no_traceback(done)
    assert done.returncode == 0
    text = done.stdout.decode("cp1252")
    assert "?ukasz Transport B.V." in text and "Café Ëlla & Zn. €" in text


@pytest.mark.parametrize("env", [CP1252, ASCII, C_LOCALE], ids=["cp1252", "ascii", "C-locale"])
def test_status_json_is_ascii_escaped_and_round_trips_every_name(registered: Path, env: dict[str, str]) -> None:
    done = asr_batch(env, "status", "--json")
    no_traceback(done)
    assert done.returncode == 0
    done.stdout.decode("ascii")  # pure ASCII: the same bytes in every code page
    names = {e["naam"] for e in json.loads(done.stdout)["employers"]}
    assert names == {NAME, "Café Ëlla & Zn. €"}


def test_status_json_on_utf8_stays_unescaped(registered: Path) -> None:
    done = asr_batch({"PYTHONIOENCODING": "utf-8"}, "status", "--json")
    assert done.returncode == 0 and NAME.encode() in done.stdout


@pytest.mark.parametrize("env", [ASCII, C_LOCALE], ids=["ascii", "C-locale"])
def test_an_ascii_stream_gets_utf8_from_click_so_nothing_is_lost(registered: Path, env: dict[str, str]) -> None:
    done = asr_batch(env, "status")
    no_traceback(done)
    assert done.returncode == 0 and NAME in done.stdout.decode("utf-8")


def test_validate_messages_quoting_a_cell_with_an_emoji(make_workbook: WorkbookBuilder) -> None:
    book = make_workbook([valid_row(werkgeverscode=CELL)])
    done = asr_batch(CP1252, "validate", book)
    no_traceback(done)
    assert done.returncode == 1
    text = done.stdout.decode("cp1252")
    assert "'Werkgeverscode' moet uit cijfers bestaan, maar is '12’3“?€'." in text, text
    as_json = asr_batch(CP1252, "validate", book, "--json")
    assert as_json.returncode == 1
    assert CELL in json.dumps(json.loads(as_json.stdout), ensure_ascii=False)


def test_help_and_messages_on_cp1252_keep_e_with_diaeresis(tmp_path: Path) -> None:
    helped = asr_batch(CP1252, "--help")
    assert helped.returncode == 0 and "in één keer" in helped.stdout.decode("cp1252")
    missing = asr_batch(CP1252, "validate", tmp_path / "Łukasz-ë.xlsx")
    no_traceback(missing)
    assert missing.returncode == 2
    assert "ë.xlsx" in missing.stderr.decode("cp1252")
