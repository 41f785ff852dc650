"""How the document workers start: ASR_BATCH_START_METHOD forces spawn (what Windows and macOS use), forkserver or
fork; unset, the default per platform stays. CI runs this file, tests/test_process.py, tests/test_pdf.py and
tests/test_serve.py a second time with ASR_BATCH_START_METHOD=spawn; the pool test below then proves the variable
was obeyed."""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import numbered_rows, run_cli

import batch.documents
from batch.documents import POOL_MIN_PDF, START_METHOD_ENV, start_method
from batch.errors import UnusableInput

LINUX = sys.platform.startswith("linux")
DEFAULT_PDF = "forkserver" if LINUX else "spawn"  # a pool for documents with PDFs, nothing forced


@pytest.fixture
def pool_methods(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The start method of every pool a run starts."""
    methods: list[str] = []

    class Recording(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            methods.append(kwargs["mp_context"].get_start_method())
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(batch.documents, "ProcessPoolExecutor", Recording)
    return methods


@pytest.mark.parametrize("forced", ["spawn", "forkserver", "fork", " Spawn "])
@pytest.mark.parametrize("formats", [("html",), ("html", "pdf")])
def test_the_variable_chooses_the_start_method(monkeypatch, forced, formats) -> None:
    monkeypatch.setenv(START_METHOD_ENV, forced)
    assert start_method(formats) == forced.strip().lower()


@pytest.mark.skipif(not LINUX, reason="the default on Linux; elsewhere it is spawn")
def test_unset_or_empty_keeps_the_default(monkeypatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    assert start_method(("html",)) == "fork"
    assert start_method(("html", "pdf")) == "forkserver"
    monkeypatch.setenv(START_METHOD_ENV, "")
    assert start_method(("html", "pdf")) == "forkserver"


def test_elsewhere_the_default_is_spawn(monkeypatch) -> None:
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    monkeypatch.setattr(batch.documents.sys, "platform", "win32")
    assert start_method(("html",)) == start_method(("html", "pdf")) == "spawn"


def test_an_unknown_method_is_refused_in_dutch(make_workbook, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "threads")
    source = make_workbook(numbered_rows(2))
    result = run_cli("process", source, "--output", tmp_path / "uit", "--format", "html")
    assert result.exit_code == 2, result.output
    assert "ASR_BATCH_START_METHOD='threads' is geen bekende manier om processen te starten." in result.stderr
    assert "Kies spawn, forkserver of fork, of laat ASR_BATCH_START_METHOD weg." in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "uit").exists()
    assert source.exists()


def test_fork_where_the_platform_has_none_is_refused_in_dutch(monkeypatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "fork")
    monkeypatch.setattr(batch.documents.multiprocessing, "get_all_start_methods", lambda: ["spawn"])  # Windows
    with pytest.raises(UnusableInput) as refused:
        start_method(("html",))
    assert refused.value.message == "ASR_BATCH_START_METHOD=fork kan niet op dit besturingssysteem."
    assert refused.value.fix == "Kies spawn, of laat ASR_BATCH_START_METHOD weg."


def _documents(out: Path) -> dict[str, str]:
    """The documents by name; the HTML's text with the run's date and time taken out (PDFs: the name only)."""
    files = {}
    for path in sorted((out / "aanmeldingen").iterdir()):
        text = path.read_text(encoding="utf-8") if path.suffix == ".html" else ""
        files[path.name] = re.sub(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}|gemaakt op [^·<]*", "", text)
    return files


def _pooled_run(source: Path, out: Path) -> None:
    result = run_cli("process", source, "--output", out, "--jobs", 2)
    assert result.exit_code == 0, result.output


def test_a_pool_started_with_spawn_makes_the_same_documents(make_workbook, tmp_path, monkeypatch,
                                                           pool_methods) -> None:
    source = make_workbook(numbered_rows(2 * POOL_MIN_PDF, naam="Werkgever Ëë & <Zn>"))
    monkeypatch.delenv(START_METHOD_ENV, raising=False)
    _pooled_run(source, tmp_path / "standaard")
    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    _pooled_run(source, tmp_path / "spawn")
    assert pool_methods == [DEFAULT_PDF, "spawn"]
    default, spawned = _documents(tmp_path / "standaard"), _documents(tmp_path / "spawn")
    assert len(default) == 2 * 2 * POOL_MIN_PDF  # an HTML and a PDF for each row
    assert spawned == default


def test_a_pool_uses_the_forced_method(make_workbook, tmp_path, pool_methods) -> None:
    """Run as it is: in CI's second run (ASR_BATCH_START_METHOD=spawn) it fails if the variable is ignored."""
    source = make_workbook(numbered_rows(2 * POOL_MIN_PDF))
    _pooled_run(source, tmp_path / "uit")
    forced = os.environ.get(START_METHOD_ENV, "").strip().lower()
    assert pool_methods == [forced or DEFAULT_PDF]


def test_ci_runs_the_document_tests_again_with_spawn_and_the_installed_wheel() -> None:
    root = Path(__file__).resolve().parents[1]
    lines = (root / ".ci" / "run").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    spawned = [line.split() for line in lines if line.startswith(f"{START_METHOD_ENV}=spawn pytest")]
    assert len(spawned) == 1, "the spawn run is missing from .ci/run"
    files = [word for word in spawned[0] if word.startswith("tests/")]
    assert {Path(__file__).name, "test_process.py", "test_pdf.py", "test_serve.py"} <= {Path(f).name for f in files}
    assert all((root / f).is_file() for f in files), files
    assert "bash .ci/installed.sh" in lines
    assert (root / ".ci" / "installed.sh").is_file()
