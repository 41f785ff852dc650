"""`asr-batch process` end to end: workbook in, output folder out, as a payroll office runs it.

Rendering units (context, escaping, PDF filter, slugs) are covered by test_render.py; here every test runs the
whole command (CliRunner via `run_cli`, or `batch.pipeline.process`) and asserts on what lands on disk and on
the terminal. Workbooks stay tiny and use `--format html` wherever the PDF is not the point: a PDF costs ~80 ms.

Golden files: tests/golden/aanmelding.html and tests/golden/foutenrapport.html. After an intended change to a
template, regenerate them with `ASR_UPDATE_GOLDEN=1 pytest tests/test_process.py -k golden` and review the diff.
They are compared after normalising what differs per run (generation time, the input's SHA-256, the tool
version, the temporary folder) and ignoring blank lines, which mean nothing in HTML.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from click.testing import Result as CliResult
from conftest import (
    ALL_SECRETS,
    DEFAULT_OFFICE,
    HEADERS,
    ROW_SECRET,
    SECRET,
    WorkbookBuilder,
    by_header,
    numbered_rows,
    run_cli,
    store_as_text,
    valid_row,
    workbook_full_of_secrets,
)
from openpyxl.utils import get_column_letter
from pypdf import PdfReader

from batch import __version__
from batch.annotate import ERROR_FILL, ISSUES_SHEET, WARNING_FILL
from batch.fields import FIELDS, JA, NEE, SHEET_WERKGEVERS
from batch.output import MARKER, OUR_ENTRIES
from batch.pipeline import Options
from batch.pipeline import process as write_output

TESTS = Path(__file__).resolve().parent
SAMPLES = TESTS.parent / "samples"
GOLDEN = TESTS / "golden"
SCHEMA = json.loads((TESTS / "resultaat.schema.json").read_text(encoding="utf-8"))
UPDATE_GOLDEN = os.environ.get("ASR_UPDATE_GOLDEN") == "1"
POSIX = sys.platform != "win32"

HTML_ONLY = ("--format", "html")
DOC_NAME = re.compile(r"^[0-9]+-[a-z0-9]+(?:-[a-z0-9]+)*\.(?:html|pdf)$")


# --- helpers ------------------------------------------------------------------------------------------------


def process(*args: object) -> CliResult:
    return run_cli("process", *args)


def resultaat(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))
    return data


def rows_of(data: Mapping[str, object]) -> list[dict[str, object]]:
    rows = data["rows"]
    assert isinstance(rows, list)
    return rows


def all_issues(data: Mapping[str, object]) -> list[dict[str, object]]:
    file_issues = data["file_issues"]
    assert isinstance(file_issues, list)
    return [*file_issues, *(i for r in rows_of(data) for i in r["issues"])]  # type: ignore[attr-defined]


def documents_on_disk(out: Path) -> set[str]:
    return {f"aanmeldingen/{p.name}" for p in (out / "aanmeldingen").iterdir()}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its content, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Staging (`.<name>.*.bezig`) or previous (`.<name>.vorige`) folders a run left beside its output."""
    return sorted(p.name for p in parent.iterdir() if p.name.endswith((".bezig", ".vorige")))


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def column_of(key: str) -> str:
    """The column letter of a field in a workbook made by `make_workbook` with the default headers."""
    return get_column_letter([f.key for f in FIELDS].index(key) + 1)


def formulas(path: Path, *, skip: tuple[str, ...] = ()) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets if ws.title not in skip
            for row in ws.iter_rows() for c in row if c.data_type == "f"}


def fill_of(cell: object) -> tuple[object, object, object]:
    fill = cell.fill  # type: ignore[attr-defined]
    return fill.fill_type, fill.fgColor.rgb, fill.bgColor.rgb


def assert_owner_only(path: Path) -> None:
    if POSIX:
        assert path.stat().st_mode & 0o777 == 0o600, f"{path.name}: {oct(path.stat().st_mode & 0o777)}"


# --- 1. the output folder of both samples -------------------------------------------------------------------


@pytest.mark.parametrize(("sample", "exit_code"), [("werkgevers.xlsx", 0), ("werkgevers-met-fouten.xlsx", 1)])
def test_sample_output_folder_is_complete_and_consistent(tmp_path: Path, sample: str, exit_code: int) -> None:
    out = tmp_path / "uit"
    result = process(SAMPLES / sample, "-o", out)
    assert result.exit_code == exit_code, result.output

    data = resultaat(out)
    jsonschema.validate(data, SCHEMA)
    counts = data["counts"]
    assert isinstance(counts, dict)
    rows = rows_of(data)
    assert counts["rows"] == counts["valid"] + counts["invalid"] + counts["skipped"] == len(rows)
    for status in ("valid", "invalid", "skipped"):
        assert counts[status] == sum(r["status"] == status for r in rows)
    issues = all_issues(data)
    assert counts["errors"] == sum(i["severity"] == "error" for i in issues)
    assert counts["warnings"] == sum(i["severity"] == "warning" for i in issues)

    expected_documents: set[str] = set()
    for row in rows:
        documents = row["documents"]
        assert isinstance(documents, list)
        if row["status"] != "valid":
            assert documents == [], row
            continue
        assert len(documents) == 2, row
        html, pdf = sorted(documents)
        assert html.endswith(".html") and pdf.endswith(".pdf")
        assert html.removesuffix(".html") == pdf.removesuffix(".pdf")
        assert Path(html).name.startswith(f"{row['werkgeverscode']}-")
        expected_documents.update(documents)
    assert documents_on_disk(out) == expected_documents  # every listed file exists, and nothing else
    assert all((out / d).stat().st_size > 0 for d in expected_documents)

    assert (out / "overzicht.html").is_file()
    assert (out / "foutenrapport.html").is_file()
    assert (out / "foutenrapport.xlsx").is_file() == bool(issues)
    assert {p.name for p in out.iterdir()} <= set(OUR_ENTRIES)


def test_clean_sample_has_no_annotated_copy(tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(SAMPLES / "werkgevers.xlsx", "-o", out, *HTML_ONLY).exit_code == 0
    assert all_issues(resultaat(out)) == []
    assert not (out / "foutenrapport.xlsx").exists()
    assert "Geen fouten of waarschuwingen gevonden." in (out / "foutenrapport.html").read_text(encoding="utf-8")


# --- 2. --format --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_format_writes_only_that_kind_of_document(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                  fmt: str) -> None:
    out = tmp_path / "uit"
    result = process(make_workbook(numbered_rows(2)), "-o", out, "--format", fmt)
    assert result.exit_code == 0, result.output
    on_disk = documents_on_disk(out)
    assert len(on_disk) == 2
    assert all(d.endswith(f".{fmt}") for d in on_disk)
    assert on_disk == {d for r in rows_of(resultaat(out)) for d in r["documents"]}  # type: ignore[attr-defined]


def test_unknown_format_is_a_usage_error(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    result = process(make_workbook([valid_row()]), "-o", out, "--format", "doc")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not out.exists()


# --- 3. golden files ----------------------------------------------------------------------------------------

_MONTHS = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_GENERATED = re.compile(rf"\b\d{{1,2}} (?:{_MONTHS}) \d{{4}}, \d{{2}}:\d{{2}}\b")
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


def normalised(text: str, tmp_path: Path) -> str:
    """The parts that legitimately differ between runs: generation time, the input's hash (openpyxl stamps
    the workbook with the time it was built), the tool version and the temporary folder."""
    text = text.replace("\r\n", "\n")
    text = _GENERATED.sub("{gegenereerd_op}", text)
    text = _SHA256.sub("{sha256}", text)
    text = text.replace(f"asr-batch {__version__}", "asr-batch {versie}")
    return text.replace(str(tmp_path), "{tmp}")


def without_blank_lines(text: str) -> str:
    """Blank lines between tags mean nothing in HTML; a template refactor may add or drop them freely."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n") if line.strip())


def assert_matches_golden(actual: str, name: str) -> None:
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="\n")
    assert golden.is_file(), f"{golden} ontbreekt; maak hem met ASR_UPDATE_GOLDEN=1"
    assert without_blank_lines(actual) == without_blank_lines(golden.read_text(encoding="utf-8"))


def test_registration_document_matches_golden(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """tests/golden/aanmelding.html; regenerate with ASR_UPDATE_GOLDEN=1 (see the module docstring)."""
    row = valid_row(werkgeverscode="0042", naam="Café Łódź & Zonen B.V.", dga=JA,
                    dga_naam="J. de Vries; M. Öztürk", dga_medewerkersnummer="12; 15", kvk_nummer="12345678",
                    loonheffingennummer="123456782L01", opmerkingen="Graag vóór 1 mei; premie € 12,50 – dank.")
    out = tmp_path / "uit"
    result = process(make_workbook([row], name="golden.xlsx"), "-o", out, *HTML_ONLY)
    assert result.exit_code == 0, result.output
    (document,) = (out / "aanmeldingen").iterdir()
    assert document.name == "0042-cafe-lodz-en-zonen-b-v.html"
    assert_matches_golden(normalised(document.read_text(encoding="utf-8"), tmp_path), "aanmelding.html")


def test_error_report_matches_golden(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """tests/golden/foutenrapport.html: one error, one warning; regenerate with ASR_UPDATE_GOLDEN=1."""
    rows = [valid_row(werkgeverscode="1001"),
            valid_row(werkgeverscode="1002", naam="Drukkerij Peters", kvk_nummer="123"),
            valid_row(werkgeverscode="1003", naam="Smit & Zn", dga=NEE, dga_naam="P. Smit")]
    out = tmp_path / "uit"
    result = process(make_workbook(rows, name="golden.xlsx"), "-o", out, *HTML_ONLY)
    assert result.exit_code == 1, result.output
    assert [(i["cell"], i["severity"]) for i in all_issues(resultaat(out))] == [("J3", "error"), ("F4", "warning")]
    report = (out / "foutenrapport.html").read_text(encoding="utf-8")
    assert_matches_golden(normalised(report, tmp_path), "foutenrapport.html")


# --- 4. secrets ---------------------------------------------------------------------------------------------

def public_outputs(result: CliResult, out: Path) -> dict[str, str]:
    """Everything a secret may never reach. The Fouten sheet counts too: the annotated copy keeps the office's
    own values, but the issue list asr-batch composes holds messages, which never quote a secret."""
    fouten = openpyxl.load_workbook(out / "foutenrapport.xlsx")[ISSUES_SHEET]
    return {
        "stdout": result.stdout,
        "stderr": result.stderr,
        **{name: (out / name).read_text(encoding="utf-8")
           for name in ("resultaat.json", "overzicht.html", "foutenrapport.html")},
        "Fouten sheet": "\n".join(str(c.value) for row in fouten.iter_rows() for c in row),
    }


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_secret_never_in_public_outputs(make_workbook: WorkbookBuilder, tmp_path: Path, quiet: list[str]) -> None:
    out = tmp_path / "uit"
    result = process(workbook_full_of_secrets(make_workbook), "-o", out, *HTML_ONLY, *quiet)
    assert result.exit_code == 1, result.output
    assert [(r["row"], r["status"]) for r in rows_of(resultaat(out))] == [
        (2, "valid"), (3, "valid"), (4, "invalid"), (5, "invalid"), (6, "invalid")]
    for where, text in public_outputs(result, out).items():
        for secret in ALL_SECRETS:
            assert secret not in text, f"secret in {where}"


def test_office_secret_with_an_error_never_in_public_outputs(make_workbook: WorkbookBuilder,
                                                             tmp_path: Path) -> None:
    office = {**DEFAULT_OFFICE, "client_secret": "Office S3cret-7781"}
    out = tmp_path / "uit"
    result = process(make_workbook([valid_row()], office=office), "-o", out, *HTML_ONLY)
    assert result.exit_code == 1, result.output
    assert any(i["field"] == "client_secret" for i in all_issues(resultaat(out)))
    for where, text in public_outputs(result, out).items():
        assert "S3cret-7781" not in text and "Office S3cret" not in text, f"secret in {where}"


def test_documents_carry_their_own_secret_in_html_and_pdf(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(workbook_full_of_secrets(make_workbook), "-o", out).exit_code == 1
    docs = out / "aanmeldingen"
    expected = {"1001": SECRET, "1002": ROW_SECRET}
    for code, secret in expected.items():
        (html,) = docs.glob(f"{code}-*.html")
        (pdf,) = docs.glob(f"{code}-*.pdf")
        other = ROW_SECRET if secret == SECRET else SECRET
        assert secret in html.read_text(encoding="utf-8")
        assert other not in html.read_text(encoding="utf-8")
        assert secret in pdf_text(pdf)
    assert len(list(docs.iterdir())) == 4
    for path in docs.iterdir():
        assert_owner_only(path)


def test_mask_secrets_shows_only_the_last_four_characters(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(workbook_full_of_secrets(make_workbook), "-o", out, "--mask-secrets").exit_code == 1
    docs = out / "aanmeldingen"
    for code, secret in {"1001": SECRET, "1002": ROW_SECRET}.items():
        for text in (next(docs.glob(f"{code}-*.html")).read_text(encoding="utf-8"),
                     pdf_text(next(docs.glob(f"{code}-*.pdf")))):
            assert secret[-4:] in text
            for any_secret in ALL_SECRETS:
                assert any_secret not in text
            assert secret[:-4] not in text and secret[-8:] not in text


@pytest.mark.skipif(not POSIX, reason="POSIX file modes")
def test_files_holding_a_secret_are_owner_only(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(workbook_full_of_secrets(make_workbook), "-o", out, *HTML_ONLY).exit_code == 1
    holding_secrets = [*(out / "aanmeldingen").iterdir(), out / "foutenrapport.xlsx"]
    assert len(holding_secrets) == 3
    for path in holding_secrets:
        assert_owner_only(path)


# --- 5. hostile names ---------------------------------------------------------------------------------------

HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("http://evil","x")',
    "../../etc/passwd",
    "CON",
    'a:b*c?"<>|.',
)
HOSTILE_HEADER = '=HYPERLINK("http://evil","kop")'
OFFICE_FORMULA = "=1+1"


def hostile_workbook(make_workbook: WorkbookBuilder) -> Path:
    """Six valid rows with hostile names, one row with the office's own formula in Opmerkingen (no cached
    value, so that row is invalid and there is an annotated copy), and an unknown column with a hostile header."""
    headers = [*HEADERS, HOSTILE_HEADER]
    rows = [valid_row(werkgeverscode=str(1001 + i), naam=naam) for i, naam in enumerate(HOSTILE_NAMES)]
    rows.append(valid_row(werkgeverscode="1010", opmerkingen=OFFICE_FORMULA))
    path = make_workbook([by_header(r) for r in rows], headers=headers)
    # typed text, not formulas: the office typed '=HYPERLINK(...
    store_as_text(path, {f"{column_of('naam')}4": HOSTILE_NAMES[2],
                         f"{get_column_letter(len(headers))}1": HOSTILE_HEADER})
    return path


def test_hostile_names_become_safe_file_names_inside_the_output(make_workbook: WorkbookBuilder,
                                                                tmp_path: Path) -> None:
    source = hostile_workbook(make_workbook)
    before = {p for p in tmp_path.rglob("*")}
    out = tmp_path / "uit"
    result = process(source, "-o", out, *HTML_ONLY)
    assert result.exit_code == 1, result.output

    names = sorted(p.name for p in (out / "aanmeldingen").iterdir())
    assert len(names) == len(HOSTILE_NAMES)
    assert all(DOC_NAME.match(name) for name in names), names
    assert "1005-werkgever-con.html" in names
    assert all(p.resolve().parent == (out / "aanmeldingen").resolve() for p in (out / "aanmeldingen").iterdir())
    after_outside = {p for p in tmp_path.rglob("*") if out not in p.parents and p != out}
    assert after_outside == before


def test_hostile_names_are_escaped_in_every_html_file(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(hostile_workbook(make_workbook), "-o", out, *HTML_ONLY).exit_code == 1
    html_files = [*out.glob("*.html"), *(out / "aanmeldingen").glob("*.html")]
    assert len(html_files) == 2 + len(HOSTILE_NAMES)
    for path in html_files:
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text, path.name
        assert "<img src=x" not in text, path.name
    document = next((out / "aanmeldingen").glob("1001-*.html")).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    overview = (out / "overzicht.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in overview


def test_fouten_sheet_holds_no_formula(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(hostile_workbook(make_workbook), "-o", out, *HTML_ONLY).exit_code == 1
    wb = openpyxl.load_workbook(out / "foutenrapport.xlsx")
    fouten = wb[ISSUES_SHEET]
    written = [c for row in fouten.iter_rows() for c in row if c.value is not None]
    assert any(c.value == HOSTILE_HEADER for c in written)  # the hostile header is listed ...
    assert [c.coordinate for c in written if c.data_type == "f"] == []  # ... as text


def test_annotated_copy_keeps_the_office_formulas_and_adds_none(make_workbook: WorkbookBuilder,
                                                                tmp_path: Path) -> None:
    source = hostile_workbook(make_workbook)
    out = tmp_path / "uit"
    assert process(source, "-o", out, *HTML_ONLY).exit_code == 1
    original = formulas(source)
    assert original == {(SHEET_WERKGEVERS, f"{column_of('opmerkingen')}8"): OFFICE_FORMULA}
    assert formulas(out / "foutenrapport.xlsx") == original
    copy = openpyxl.load_workbook(out / "foutenrapport.xlsx")[SHEET_WERKGEVERS]
    assert copy[f"{column_of('naam')}4"].value == HOSTILE_NAMES[2]
    assert copy[f"{column_of('naam')}4"].data_type == "s"


# --- 6. the annotated workbook ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def annotated_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("fouten") / "uit"
    result = process(SAMPLES / "werkgevers-met-fouten.xlsx", "-o", out, *HTML_ONLY)
    assert result.exit_code == 1, result.output
    return out / "foutenrapport.xlsx", resultaat(out)


def test_annotated_copy_marks_exactly_the_flagged_cells(annotated_sample: tuple[Path, dict[str, object]]) -> None:
    copy_path, data = annotated_sample
    issues = all_issues(data)
    assert issues and all(i["cell"] for i in issues)
    by_cell: dict[str, list[dict[str, object]]] = {}
    for i in issues:
        by_cell.setdefault(str(i["cell"]), []).append(i)

    sheet = data["input"]["sheet"]  # type: ignore[index]
    copy = openpyxl.load_workbook(copy_path)[sheet]
    original = openpyxl.load_workbook(SAMPLES / "werkgevers-met-fouten.xlsx")[sheet]
    commented = {c.coordinate for row in copy.iter_rows() for c in row if c.comment is not None}
    assert commented == set(by_cell)

    for coordinate, cell_issues in by_cell.items():
        cell = copy[coordinate]
        worst = ERROR_FILL if any(i["severity"] == "error" for i in cell_issues) else WARNING_FILL
        assert cell.fill.fgColor.rgb == worst.fgColor.rgb, coordinate
        for i in cell_issues:
            assert " ".join(str(i["message"]).split()) in " ".join(cell.comment.text.split())
    for row in copy.iter_rows():
        for cell in row:
            if cell.coordinate not in by_cell:
                assert fill_of(cell) == fill_of(original[cell.coordinate]), cell.coordinate
                assert cell.value == original[cell.coordinate].value, cell.coordinate


def test_fouten_sheet_lists_every_issue_with_a_link_to_its_cell(
        annotated_sample: tuple[Path, dict[str, object]]) -> None:
    copy_path, data = annotated_sample
    sheet = data["input"]["sheet"]  # type: ignore[index]
    fouten = openpyxl.load_workbook(copy_path)[ISSUES_SHEET]
    listed = []
    for row in fouten.iter_rows(min_row=2):
        cel, code = row[1], row[4]
        assert cel.hyperlink is not None, cel.coordinate
        assert cel.hyperlink.location == f"'{sheet}'!{cel.value}"
        listed.append((cel.value, code.value))
    expected = [(i["cell"], i["code"]) for i in all_issues(data)]
    assert sorted(listed) == sorted(expected)  # type: ignore[type-var]


# --- 7. the input is never modified -------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "exit_code"), [
    ([valid_row()], 0),
    ([valid_row(), valid_row(werkgeverscode="WG", opmerkingen=OFFICE_FORMULA)], 1),
])
def test_input_is_never_modified(make_workbook: WorkbookBuilder, tmp_path: Path, rows: list[dict[str, object]],
                                 exit_code: int) -> None:
    source = make_workbook(rows)
    os.utime(source, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = fingerprint(source)
    assert process(source, "-o", tmp_path / "uit", *HTML_ONLY).exit_code == exit_code
    assert fingerprint(source) == before


# --- 8. re-runs and folders ---------------------------------------------------------------------------------


def test_rerun_replaces_the_previous_output_as_a_whole(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    assert process(make_workbook([valid_row(naam="Oude Naam B.V.")]), "-o", out, *HTML_ONLY).exit_code == 0
    assert documents_on_disk(out) == {"aanmeldingen/1001-oude-naam-b-v.html"}
    (out / "aanmeldingen" / "handmatig.txt").write_text("weg ermee", encoding="utf-8")

    result = process(make_workbook([valid_row(naam="Nieuwe Naam B.V.")]), "-o", out, *HTML_ONLY)
    assert result.exit_code == 0, result.output
    assert documents_on_disk(out) == {"aanmeldingen/1001-nieuwe-naam-b-v.html"}
    assert rows_of(resultaat(out))[0]["naam"] == "Nieuwe Naam B.V."
    assert (out / MARKER).is_file()
    assert leftovers(tmp_path) == []


def test_folder_with_someone_elses_file_is_refused(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    out.mkdir()
    (out / "notities.txt").write_text("niet weggooien", encoding="utf-8")
    before = snapshot(out)
    result = process(make_workbook([valid_row()]), "-o", out, *HTML_ONLY)
    assert result.exit_code == 2
    assert "bestaat al en bevat andere bestanden" in result.stderr and "notities.txt" in result.stderr
    assert "--force" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_force_keeps_the_office_file_and_adds_ours(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    out.mkdir()
    (out / "notities.txt").write_text("niet weggooien", encoding="utf-8")
    source = make_workbook([valid_row()])
    for _ in range(2):  # a second forced run replaces only our own entries again
        result = process(source, "-o", out, *HTML_ONLY, "--force")
        assert result.exit_code == 0, result.output
        assert (out / "notities.txt").read_text(encoding="utf-8") == "niet weggooien"
        assert {"resultaat.json", "overzicht.html", "foutenrapport.html", "aanmeldingen"} <= {
            p.name for p in out.iterdir()}
        assert documents_on_disk(out) == {"aanmeldingen/1001-bakkerij-de-korenaar-b-v.html"}
    assert leftovers(tmp_path) == []


def test_rerun_without_force_after_a_forced_run_keeps_the_office_file(make_workbook: WorkbookBuilder,
                                                                      tmp_path: Path) -> None:
    """The folder still holds someone else's file after a --force run: the contract says such a folder is
    refused without --force; above all it is never replaced as a whole (that would delete notities.txt)."""
    out = tmp_path / "uit"
    out.mkdir()
    (out / "notities.txt").write_text("niet weggooien", encoding="utf-8")
    source = make_workbook([valid_row()])
    assert process(source, "-o", out, *HTML_ONLY, "--force").exit_code == 0
    result = process(source, "-o", out, *HTML_ONLY)
    assert (out / "notities.txt").is_file(), "a run without --force deleted the office's own file"
    assert result.exit_code == 2, result.output


def test_output_pointing_at_a_file_is_refused(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    target = tmp_path / "uit.txt"
    target.write_text("een bestand", encoding="utf-8")
    result = process(make_workbook([valid_row()]), "-o", target, *HTML_ONLY)
    assert result.exit_code == 2
    assert "is een bestand, geen map" in result.stderr
    assert target.read_text(encoding="utf-8") == "een bestand"
    assert leftovers(tmp_path) == []


def test_default_output_folder_is_stem_uitvoer_in_the_current_folder(make_workbook: WorkbookBuilder,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_workbook([valid_row()], name="kantoor-november.xlsx")
    here = tmp_path / "werkmap"
    here.mkdir()
    monkeypatch.chdir(here)
    result = process(source, *HTML_ONLY)
    assert result.exit_code == 0, result.output
    assert [p.name for p in here.iterdir()] == ["kantoor-november-uitvoer"]
    assert (here / "kantoor-november-uitvoer" / "resultaat.json").is_file()


@pytest.mark.parametrize("subfolder", ["", "invoer"])
def test_output_folder_that_contains_the_input_is_refused(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                          subfolder: str) -> None:
    source = make_workbook([valid_row()])
    if subfolder:
        (tmp_path / subfolder).mkdir()
        source = source.rename(tmp_path / subfolder / source.name)
    before = snapshot(tmp_path)
    result = process(source, "-o", tmp_path, *HTML_ONLY, "--force")
    assert result.exit_code == 2
    assert "bevat het invoerbestand" in result.stderr
    assert snapshot(tmp_path) == before


# --- 9. a failed run keeps the previous output --------------------------------------------------------------


def test_failed_run_keeps_the_previous_output(make_workbook: WorkbookBuilder, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "uit"
    assert process(make_workbook(numbered_rows(2)), "-o", out, *HTML_ONLY).exit_code == 0
    first = snapshot(out)

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("stuk")

    monkeypatch.setattr("batch.render.render_overview", broken)
    result = process(make_workbook(numbered_rows(3, naam="Ander")), "-o", out, *HTML_ONLY)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert snapshot(out) == first
    assert leftovers(tmp_path) == []


def test_pdf_failure_midway_keeps_the_previous_output(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import batch.pdf

    out = tmp_path / "uit"
    write_output(make_workbook(numbered_rows(2)), out, Options(formats=("pdf",)))
    first = snapshot(out)
    assert len(documents_on_disk(out)) == 2

    real = batch.pdf.Typesetter.pdf
    calls: list[int] = []

    def fails_after_the_first(self: batch.pdf.Typesetter, data: dict[str, object], **kwargs: object) -> bytes:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("schijf vol")
        return real(self, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("batch.pdf.Typesetter.pdf", fails_after_the_first)
    with pytest.raises(RuntimeError, match="schijf vol"):
        write_output(make_workbook(numbered_rows(2, start=2001)), out, Options(formats=("pdf",)))
    assert len(calls) == 2
    assert snapshot(out) == first
    assert leftovers(tmp_path) == []


# --- 10. --templates ----------------------------------------------------------------------------------------

LETTERHEAD = ("<h1>Kantoor Letterkop</h1>\n"
              "<p>Aanmelding voor {{ werkgever.naam }} ({{ werkgever.werkgeverscode }})</p>\n")
LETTERHEAD_TYP = ('#let d = json("aanmelding.json")\n= Kantoor Briefpapier\n'
                  'Aanmelding voor #d.werkgever.naam (#d.werkgever.werkgeverscode)\n')


def templates_dir(tmp_path: Path, text: str | None, typ: str | None = None) -> Path:
    folder = tmp_path / "sjablonen"
    folder.mkdir()
    if text is not None:
        (folder / "aanmelding.html").write_text(text, encoding="utf-8")
    if typ is not None:
        (folder / "aanmelding.typ").write_text(typ, encoding="utf-8")
    return folder


def test_office_templates_are_used_for_html_and_pdf(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    folder = templates_dir(tmp_path, LETTERHEAD, LETTERHEAD_TYP)
    result = process(make_workbook([valid_row()]), "-o", out, "--templates", folder)
    assert result.exit_code == 0, result.output
    (html,) = (out / "aanmeldingen").glob("*.html")
    (pdf,) = (out / "aanmeldingen").glob("*.pdf")
    assert "Kantoor Letterkop" in html.read_text(encoding="utf-8")
    assert "Bakkerij De Korenaar B.V." in html.read_text(encoding="utf-8")
    assert " ".join(pdf_text(pdf).split()) == "Kantoor Briefpapier Aanmelding voor Bakkerij De Korenaar B.V. (1001)"
    assert "Kantoor Letterkop" not in (out / "overzicht.html").read_text(encoding="utf-8")  # built-in


def test_an_office_html_template_alone_leaves_the_built_in_pdf(make_workbook: WorkbookBuilder,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "uit"
    result = process(make_workbook([valid_row()]), "-o", out, "--templates", templates_dir(tmp_path, LETTERHEAD))
    assert result.exit_code == 0, result.output
    (pdf,) = (out / "aanmeldingen").glob("*.pdf")
    assert "Kantoor Letterkop" not in pdf_text(pdf) and "Aanleveren gegevens werkgever aan a.s.r." in pdf_text(pdf)


@pytest.mark.parametrize(
    ("typ", "line", "detail"),
    [
        ('#let d = json("aanmelding.json")\nKop\n#let x = (\n', 3, "unclosed delimiter"),
        ('#let d = json("aanmelding.json")\n\n#d.werkgever.faxnummer\n', 3, "faxnummer"),
        ('#let d = json("aanmelding.json")\n#read("../../geheim.txt")\n', 2, "project root"),
    ],
)
def test_a_broken_office_pdf_template_is_exit_2_before_any_output(
        make_workbook: WorkbookBuilder, tmp_path: Path, typ: str, line: int, detail: str) -> None:
    out = tmp_path / "uit"
    folder = templates_dir(tmp_path, None, typ)
    result = process(make_workbook([valid_row()]), "-o", out, "--templates", folder)
    assert result.exit_code == 2, result.output
    assert str(folder / "aanmelding.typ") in result.stderr and f"regel {line}" in result.stderr
    assert detail in result.stderr and "Oplossing:" in result.stderr and "Typst" in result.stderr
    assert "Traceback" not in result.output and SECRET not in result.output
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("typ", ['#import "@preview/cetz:0.3.0"\n', '#import "@local/huisstijl:0.1.0": *\n'])
def test_an_office_pdf_template_may_not_import_packages(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                        typ: str) -> None:
    """A package would be downloaded, or read from the user's own Typst folders: neither belongs in a run."""
    out = tmp_path / "uit"
    result = process(make_workbook([valid_row()]), "-o", out, "--templates", templates_dir(tmp_path, None, typ))
    assert result.exit_code == 2 and "Typst-pakket" in result.stderr and "internet" in result.stderr
    assert not out.exists()


def _fails_on_the_real_row(make_workbook: WorkbookBuilder, tmp_path: Path, shown: str, secret: str) -> CliResult:
    """A run with an office template that passes the check up front (the made-up document) and panics on the
    werkgever's own row, showing `shown` (Typst code) of its data; the row has its own Client Secret."""
    typ = ('#let d = json("aanmelding.json")\nKop\n'
           f'#if d.bron.bestand != "voorbeeld.xlsx" {{ panic({shown}) }}\n')
    rows = [valid_row(client_id="eigen-id-1", client_secret=secret)]
    return process(make_workbook(rows), "-o", tmp_path / "uit", "--templates", templates_dir(tmp_path, None, typ))


@pytest.mark.parametrize("secret", ['Ab"cd\\Ef9Xe2Rk7Wp1Lc8Vb5Ny3', ROW_SECRET])
def test_an_office_pdf_template_failing_on_a_row_never_quotes_the_secret_in_any_form(
        make_workbook: WorkbookBuilder, tmp_path: Path, secret: str) -> None:
    result = _fails_on_the_real_row(make_workbook, tmp_path, "d.werkgever", secret)
    assert result.exit_code == 2, result.output
    assert "client_secret" in result.stderr and "***" in result.stderr
    for form in (secret, secret.replace("\\", "\\\\").replace('"', '\\"'), "Ef9Xe2Rk7Wp1Lc8Vb5Ny3"):
        assert form not in result.output


def test_an_office_pdf_template_that_never_ends_is_stopped_at_the_check(make_workbook: WorkbookBuilder,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batch.pdf.CHECK_SECONDS", 2)
    out = tmp_path / "uit"
    typ = '#let d = json("aanmelding.json")\n#for i in range(100000000) { }\n'
    started = time.monotonic()
    result = process(make_workbook([valid_row()]), "-o", out, "--templates", templates_dir(tmp_path, None, typ))
    assert result.exit_code == 2 and "nog niet klaar" in result.stderr and "lus" in result.stderr
    assert time.monotonic() - started < 20 and not out.exists()


def test_an_office_pdf_template_failing_on_a_row_names_it_and_never_the_secret(
        make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    """The made-up document passes the check up front; the real row fails, quoting its secret in Typst's text."""
    out = tmp_path / "uit"
    result = _fails_on_the_real_row(make_workbook, tmp_path, "d.werkgever.client_secret", ROW_SECRET)
    assert result.exit_code == 2, result.output
    assert "rij 2" in result.stderr and "werkgeverscode 1001" in result.stderr and "regel 3" in result.stderr
    assert "panicked" in result.stderr and "***" in result.stderr
    assert ROW_SECRET not in result.output and "Traceback" not in result.output
    assert not out.exists() and leftovers(tmp_path) == []


def test_template_with_a_syntax_error_names_file_and_line(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    broken = templates_dir(tmp_path, "<h1>Kop</h1>\n<p>{{ werkgever.naam }}</p>\n<p>{% for %}</p>\n")
    result = process(make_workbook([valid_row()]), "-o", out, *HTML_ONLY, "--templates", broken)
    assert result.exit_code == 2
    assert "aanmelding.html" in result.stderr and "regel 3" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_template_with_an_undefined_variable_is_refused(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    broken = templates_dir(tmp_path, "<h1>Kop</h1>\n<p>{{ werkgever_onbekend.naam }}</p>\n")
    result = process(make_workbook([valid_row()]), "-o", out, *HTML_ONLY, "--templates", broken)
    assert result.exit_code == 2
    assert "aanmelding.html" in result.stderr and "werkgever_onbekend" in result.stderr
    assert not out.exists()


def test_office_template_still_escapes_hostile_names(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    result = process(make_workbook([valid_row(naam=HOSTILE_NAMES[0])]), "-o", out, *HTML_ONLY,
                     "--templates", templates_dir(tmp_path, LETTERHEAD))
    assert result.exit_code == 0, result.output
    (html,) = (out / "aanmeldingen").glob("*.html")
    text = html.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --- 11. no employer rows -----------------------------------------------------------------------------------


def test_header_only_exits_1_and_the_overview_says_so(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    result = process(make_workbook([]), "-o", out)
    assert result.exit_code == 1, result.output
    data = resultaat(out)
    jsonschema.validate(data, SCHEMA)
    assert data["counts"]["rows"] == data["counts"]["skipped"]  # type: ignore[index]
    assert data["counts"]["valid"] == data["counts"]["invalid"] == 0  # type: ignore[index]
    assert list((out / "aanmeldingen").iterdir()) == []
    assert "Er staan geen werkgevers in het bestand." in (out / "overzicht.html").read_text(encoding="utf-8")


# --- 12. the terminal ---------------------------------------------------------------------------------------


def test_quiet_clean_run_prints_nothing(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    result = process(make_workbook([valid_row()]), "-o", tmp_path / "uit", *HTML_ONLY, "-q")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""


def test_summary_goes_to_stderr_and_stdout_stays_empty(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    out = tmp_path / "uit"
    result = process(make_workbook([valid_row(), valid_row(werkgeverscode="WG")]), "-o", out, *HTML_ONLY)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "2 rijen: 1 geldig, 1 ongeldig, 0 overgeslagen; 1 fout, 0 waarschuwingen" in result.stderr
    assert str(out) in result.stderr


def test_a_stale_staging_folder_of_a_killed_run_is_removed(make_workbook, tmp_path: Path) -> None:
    """A run killed with SIGKILL leaves `.uit.xxxx.bezig` with secrets in it; the next run removes it once
    it has been idle for an hour, and leaves a fresh one (a run still going) alone."""
    import os
    import time

    source = make_workbook([valid_row()])
    stale = tmp_path / ".uit.oud1.bezig"
    (stale / "aanmeldingen").mkdir(parents=True)
    (stale / "aanmeldingen" / "1001-x.html").write_text(SECRET, encoding="utf-8")
    long_ago = time.time() - 2 * 3600
    for path in (stale / "aanmeldingen" / "1001-x.html", stale / "aanmeldingen", stale):
        os.utime(path, (long_ago, long_ago))
    fresh = tmp_path / ".uit.nieuw.bezig"
    fresh.mkdir()
    result = run_cli("process", source, "-o", tmp_path / "uit", "--format", "html", "-q")
    assert result.exit_code == 0
    assert not stale.exists()
    assert fresh.exists()


def test_an_output_folder_that_cannot_be_written_is_exit_2_in_dutch(make_workbook, tmp_path: Path) -> None:
    source = make_workbook([valid_row()])
    blocker = tmp_path / "bestand.txt"
    blocker.write_text("geen map", encoding="utf-8")
    result = run_cli("process", source, "-o", blocker / "uit", "--format", "html")
    assert result.exit_code == 2
    assert "kan niet worden geschreven" in result.stderr
    assert "Oplossing: Kies met -o een map waarin u mag schrijven" in result.stderr
    assert "Traceback" not in result.output
