"""The fast paths agree with the slow ones they replace.

- `parse_column` (text fast path, memoised Ja/Nee) equals `parse_cell(to_cell(v))` value by value.
- calamine (the reader) sees every cell as openpyxl (the reference reader) does.
- documents written by a pool of worker processes equal those written in one process, also when the pool
  starts on the rows that look valid before the rules have run and the rules then reject some of them.
- a command runs with the cyclic garbage collector paused, except while an office's templates render.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import numbered_rows, run_cli, triples, valid_row
from hypothesis import given
from hypothesis import strategies as st

import batch.documents
import batch.model
import batch.normalise
import batch.render
from batch import collector
from batch.cli import run
from batch.fields import Kind
from batch.pipeline import Options
from batch.pipeline import process as write_output
from batch.reader import read_table
from batch.values import parse_cell, parse_column, to_cell

raw_values = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["Ja", " nee ", "J", "4 weken", "per kwartaal", "1234.56.782.L.01", "#N/A", "\u200b12\u00a0",
                     "a;b", "1; 2", "", "   "]),
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@given(values=st.lists(raw_values, max_size=30), kind=st.sampled_from(list(Kind)))
def test_parse_column_equals_parse_cell_per_value(values: list[object], kind: Kind) -> None:
    parsed, problems = parse_column(values, kind)
    slow = [parse_cell(to_cell(v), kind) for v in values]
    assert parsed == [p.value for p in slow]
    assert [(i, p.code) for i, p in problems] == [(i, p.code) for i, p in enumerate(slow) if p.code]


VARIED = [
    valid_row(werkgeverscode="0412", naam="  Café 't Hoekje\u00a0"),
    valid_row(werkgeverscode=1002, naam="Ünïcödé Łódź", dga="j", dga_naam="A; B", dga_medewerkersnummer="1; 2"),
    valid_row(werkgeverscode=1003.0, naam="Drukkerij", dertiende_maand=True, verloning="per 4 weken"),
    valid_row(werkgeverscode="1004", naam="Datum", dertiende_maand=datetime(2024, 12, 1), kvk_nummer=12345678),
    valid_row(werkgeverscode="1005", naam="Decimaal", kvk_nummer=1234.5, opmerkingen=date(2025, 1, 31)),
    valid_row(werkgeverscode="1006", naam="Waar", dga=False, verloning="wekelijks", opmerkingen="+31 tekst"),
]


def test_calamine_reads_every_cell_as_openpyxl_does(make_workbook) -> None:
    path = make_workbook(VARIED)
    table = read_table(path)
    sheet = openpyxl.load_workbook(path, data_only=True)[table.sheet]
    for key, column in table.columns.items():
        for position, number in enumerate(table.row_numbers):
            reference = sheet.cell(row=number, column=column.index + 1).value
            assert to_cell(table.raw[key][position]) == to_cell(reference), (key, number)


class _FixedClock(datetime):
    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        return datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def _early_start_spy(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """Per run with documents, the names of the rows whose documents were started before the rules ran."""
    runs: list[set[str]] = []
    finish = batch.documents.Documents.finish

    def spying(self: batch.documents.Documents, *args: object, **kwargs: object) -> None:
        runs.append({str(self.job.result.rows[i].record.get("naam")) for i in self._early_rows})
        finish(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch.documents.Documents, "finish", spying)
    return runs


def _normalised(folder: Path) -> dict[str, str]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".json"}:
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"gemaakt op [^·<]*", "", text)
            text = re.sub(r'"generated_at": "[^"]*"', "", text)
            text = re.sub(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}", "", text)
            files[str(path.relative_to(folder))] = text
    return files


@pytest.mark.parametrize("formats", [("html",), ("html", "pdf")])
def test_pool_and_single_process_write_the_same_documents(make_workbook, tmp_path, monkeypatch, formats) -> None:
    rows = [valid_row(werkgeverscode=str(2000 + i), naam=f"Werkgever {i} Ëë") for i in range(12)]
    rows.append(valid_row(werkgeverscode="x", naam="Ongeldig"))
    source = make_workbook(rows)
    monkeypatch.setattr(batch.documents, "POOL_MIN_HTML", 1)
    monkeypatch.setattr(batch.documents, "POOL_MIN_PDF", 1)
    monkeypatch.setattr(batch.model, "datetime", _FixedClock)  # the PDFs carry their creation time
    single = write_output(source, tmp_path / "een", Options(formats=formats, jobs=1))
    pooled = write_output(source, tmp_path / "twee", Options(formats=formats, jobs=2))
    assert [r.documents for r in single.rows] == [r.documents for r in pooled.rows]
    assert sum(bool(r.documents) for r in pooled.rows) == 12
    assert _normalised(tmp_path / "een") == _normalised(tmp_path / "twee")
    for pdf in (tmp_path / "een" / "aanmeldingen").glob("*.pdf"):
        assert pdf.read_bytes() == (tmp_path / "twee" / "aanmeldingen" / pdf.name).read_bytes(), pdf.name
    one = json.loads((tmp_path / "een" / "resultaat.json").read_text(encoding="utf-8"))
    assert one["counts"]["valid"] == 12
    pdfs = sorted(p.name for p in (tmp_path / "twee" / "aanmeldingen").glob("*.pdf"))
    assert len(pdfs) == (12 if "pdf" in formats else 0)



# Rows that look valid when their cells are parsed (so a pool starts on them early) but that a rule rejects.
REJECTED_LATER = [
    valid_row(werkgeverscode="3001", naam="Dubbel A"),
    valid_row(werkgeverscode="3001", naam="Dubbel B"),  # dubbele_werkgeverscode: both rows
    valid_row(werkgeverscode="3002", naam="Tel DGA", dga="Ja", dga_naam="A; B", dga_medewerkersnummer="1"),
    valid_row(werkgeverscode="3003", naam="Eigen paar", client_id="klant-1", client_secret="Geheim-Een-11"),
    valid_row(werkgeverscode="3004", naam="Ander secret", client_id="klant-1", client_secret="Geheim-Twee-22"),
    valid_row(werkgeverscode="3005", naam="Zelfde Naam"),
    valid_row(werkgeverscode="3005", naam="Zelfde Naam"),  # one file name for two rows: not started early
    valid_row(werkgeverscode="3006", naam="Waarschuwing", dga="Nee", dga_naam="Piet"),  # invalid with --strict
]


def _documents_on_disk(folder: Path) -> set[str]:
    return {f"aanmeldingen/{p.name}" for p in (folder / "aanmeldingen").iterdir()}


@pytest.mark.parametrize("strict", [False, True])
def test_documents_started_early_for_rows_the_rules_reject_are_removed(make_workbook, tmp_path, monkeypatch,
                                                                       strict) -> None:
    source = make_workbook([*numbered_rows(6), *REJECTED_LATER])
    monkeypatch.setattr(batch.documents, "POOL_MIN_HTML", 1)
    early = _early_start_spy(monkeypatch)
    single = write_output(source, tmp_path / "een", Options(formats=("html",), jobs=1, strict=strict))
    pooled = write_output(source, tmp_path / "twee", Options(formats=("html",), jobs=2, strict=strict))
    numbered = {f"Werkgever {1001 + i}" for i in range(6)}
    rejected = {"Dubbel A", "Dubbel B", "Tel DGA", "Eigen paar", "Ander secret", "Waarschuwing"}
    assert early == [set(), numbered | rejected]  # one process starts nothing early; "Zelfde Naam" waits
    assert triples(single) == triples(pooled)
    valid = {d for row in pooled.rows for d in row.documents}
    # valid: the six numbered rows, 3003 (the first of the pair) and 3006 (a warning) unless --strict
    later = sorted(r.werkgeverscode or "" for r in pooled.rows if r.documents)[6:]
    assert later == (["3003"] if strict else ["3003", "3006"])
    assert _documents_on_disk(tmp_path / "twee") == valid == _documents_on_disk(tmp_path / "een")
    assert _normalised(tmp_path / "een") == _normalised(tmp_path / "twee")


def test_a_template_failing_early_on_a_row_the_rules_reject_does_not_stop_the_run(make_workbook, tmp_path,
                                                                                   monkeypatch) -> None:
    """Before the rules have run, a pool renders rows that may yet be rejected; an office template that fails on
    such a row must not stop a run that never needed that row's document."""
    templates = tmp_path / "sjablonen"
    templates.mkdir()
    (templates / "aanmelding.html").write_text(
        '{% extends "_basis.html" %}{% block inhoud %}{{ werkgever.naam }}'
        '{% if werkgever.dga_naam == "A; B" %}{{ 1 // 0 }}{% endif %}{% endblock %}', encoding="utf-8")
    source = make_workbook([*numbered_rows(4), REJECTED_LATER[2]])  # 3002: two DGA names, one number
    monkeypatch.setattr(batch.documents, "POOL_MIN_HTML", 1)
    early = _early_start_spy(monkeypatch)
    result = write_output(source, tmp_path / "uit", Options(formats=("html",), jobs=2, templates_dir=templates))
    assert "Tel DGA" in early[0]  # its document was tried (and failed) before the rules rejected the row
    assert [(r.row, r.status) for r in result.rows][-1] == (6, "invalid")
    assert len(_documents_on_disk(tmp_path / "uit")) == 4


def _collector_spy(monkeypatch, module, name: str) -> list[bool]:
    """Wrap `module.name` to note whether the cyclic garbage collector was running at each call."""
    seen: list[bool] = []
    original = getattr(module, name)

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_a_command_runs_with_the_collector_paused_and_restores_it(make_workbook, tmp_path, monkeypatch) -> None:
    """The rows hold no reference cycles, so the collector would only walk them again and again."""
    source = make_workbook(numbered_rows(2))
    seen = _collector_spy(monkeypatch, batch.normalise, "normalise")
    assert gc.isenabled()
    result = run_cli("process", source, "--format", "html", "-o", tmp_path / "uit")
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()


def test_office_documents_are_made_with_the_collector_running_in_a_paused_command(make_workbook, tmp_path,
                                                                                  monkeypatch) -> None:
    """Jinja2 leaves reference cycles behind when an office template calls a macro: some 30 objects per
    document, which a run of 100,000 rows would otherwise keep."""
    templates = tmp_path / "sjablonen"
    templates.mkdir()
    (templates / "aanmelding.html").write_text(
        "{% macro regel(x) %}{{ x }} ({{ medium }}){% endmacro %}{{ regel(werkgever.naam) }}", encoding="utf-8")
    source = make_workbook(numbered_rows(2))
    seen = _collector_spy(monkeypatch, batch.render, "render_document")
    with collector.paused():
        write_output(source, tmp_path / "uit", Options(formats=("html",), jobs=1, templates_dir=templates))
    assert seen[-2:] == [True, True]  # the two documents; the first four are the check of the templates
    assert (tmp_path / "uit" / "aanmeldingen" / "1001-werkgever-1001.html").read_text(encoding="utf-8") == (
        "Werkgever 1001 (html)")


def test_the_console_entry_point_keeps_the_collector_off_and_blas_to_one_thread(make_workbook, monkeypatch) -> None:
    """Turning the collector back on after a run would first walk everything the run made (some 40 ms);
    OpenBLAS threads would spin beside the document workers."""
    source = make_workbook(numbered_rows(2))
    monkeypatch.setattr(sys, "argv", ["asr-batch", "validate", str(source), "-q"])
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    try:
        with pytest.raises(SystemExit) as done:
            run()
        assert done.value.code == 0
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"  # no BLAS threads spinning beside the workers
    finally:
        gc.unfreeze()
        gc.enable()
        os.environ.pop("OPENBLAS_NUM_THREADS", None)  # monkeypatch puts back a value the session had
