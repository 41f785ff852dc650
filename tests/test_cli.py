"""The command line as a user meets it: exact exit codes, what goes to stdout and what to stderr.

Exit codes (PRODUCT.md): 0 every employer row valid · 1 a row invalid, or no employer rows · 2 the input
cannot be used, or a usage error; then a plain Dutch message on stderr that names the fix, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from click.testing import Result as CliResult
from conftest import (
    ALL_SECRETS,
    DEFAULT_OFFICE,
    HEADERS,
    OFFICE_CLIENT_ID,
    OFFICE_LABELS,
    SECRET,
    WorkbookBuilder,
    numbered_rows,
    run_cli,
    valid_row,
    workbook_full_of_secrets,
)

from batch.fields import FIELDS, SHEET_OFFICE, SHEET_WERKGEVERS
from batch.pipeline import check
from batch.redact import remember

SCHEMA_COPY = Path(__file__).with_name("resultaat.schema.json")
SCHEMA_SPEC = Path(__file__).resolve().parents[2] / "shared/spec/resultaat.schema.json"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def assert_unusable(result: CliResult, *needles: str) -> None:
    """Exit 2 with a diagnosis, not a crash: Dutch message and fix on stderr, nothing on stdout."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert "onverwachte fout" not in result.stderr  # a real diagnosis, not the catch-all
    assert result.stderr.startswith("asr-batch: ")
    assert "Oplossing: " in result.stderr
    for needle in needles:
        assert needle in result.stderr


# --- validate: exit codes -------------------------------------------------------------------------

def test_validate_valid_file_exits_0(make_workbook: WorkbookBuilder) -> None:
    result = run_cli("validate", make_workbook(numbered_rows(2)))
    assert result.exit_code == 0, result.output
    assert "2 rijen: 2 geldig, 0 ongeldig, 0 overgeslagen; 0 fouten, 0 waarschuwingen" in result.stdout
    assert "Geen fouten of waarschuwingen gevonden." in result.stdout
    assert result.stderr == ""


def test_validate_with_one_invalid_row_exits_1_and_shows_the_cell(make_workbook: WorkbookBuilder) -> None:
    rows = [valid_row(), valid_row(werkgeverscode="WG-1002")]
    result = run_cli("validate", make_workbook(rows))
    assert result.exit_code == 1, result.output
    assert "2 rijen: 1 geldig, 1 ongeldig" in result.stdout
    assert "Rij 3, werkgeverscode WG-1002: ongeldig" in result.stdout
    assert "A3" in result.stdout and "'WG-1002'" in result.stdout


def test_validate_header_only_exits_1(make_workbook: WorkbookBuilder) -> None:
    result = run_cli("validate", make_workbook([]))
    assert result.exit_code == 1, result.output
    assert "0 rijen" in result.stdout
    assert "geen werkgevers" in result.stdout


def test_validate_only_blank_rows_exits_1(make_workbook: WorkbookBuilder) -> None:
    assert run_cli("validate", make_workbook([{}, {"naam": "  "}])).exit_code == 1


def test_warning_row_exits_0_and_with_strict_exits_1(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([valid_row(dga_naam="J. de Vries")])
    plain = run_cli("validate", path)
    strict = run_cli("validate", "--strict", path)
    assert plain.exit_code == 0, plain.output
    assert "1 geldig, 0 ongeldig" in plain.stdout and "waarschuwing" in plain.stdout
    assert strict.exit_code == 1, strict.output
    assert "0 geldig, 1 ongeldig" in strict.stdout


def test_unknown_column_alone_does_not_fail_the_file(make_workbook: WorkbookBuilder) -> None:
    headers = [*HEADERS, "Vestiging"]
    row = {f.header: valid_row().get(f.key) for f in FIELDS} | {"Vestiging": "Utrecht"}
    result = run_cli("validate", make_workbook([row], headers=headers))
    assert result.exit_code == 0, result.output
    assert "Vestiging" in result.stdout


def test_quiet_validate_prints_only_the_counts_on_stderr(make_workbook: WorkbookBuilder) -> None:
    result = run_cli("validate", "-q", make_workbook([valid_row(werkgeverscode="WG")]))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "1 rij: 0 geldig, 1 ongeldig, 0 overgeslagen; 1 fout, 0 waarschuwingen"


# --- validate: unusable input (exit 2) ------------------------------------------------------------

def test_missing_file_exits_2_in_dutch(tmp_path: Path) -> None:
    assert_unusable(run_cli("validate", tmp_path / "werkgevers.xlsx"), "bestaat niet")


def test_directory_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "werkgevers.xlsx"
    folder.mkdir()
    assert_unusable(run_cli("validate", folder), "map")


def test_empty_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "werkgevers.xlsx"
    path.write_bytes(b"")
    assert_unusable(run_cli("validate", path), "leeg")


def test_text_file_renamed_xlsx_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "werkgevers.xlsx"
    path.write_text("Werkgeverscode;Naam werkgever\n1001;Bakkerij\n", encoding="utf-8")
    assert_unusable(run_cli("validate", path), "geen Excel-werkmap")


@pytest.mark.parametrize("name", ["werkgevers.xls", "werkgevers.xlsx"])
def test_legacy_ole_file_exits_2_naming_xls_and_how_to_save(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(OLE_MAGIC + bytes(4096))
    assert_unusable(run_cli("validate", path), ".xls", "Opslaan als")


def test_encrypted_workbook_exits_2_naming_the_password(tmp_path: Path) -> None:
    path = tmp_path / "beveiligd.xlsx"
    path.write_bytes(OLE_MAGIC + bytes(512) + "EncryptedPackage".encode("utf-16-le") + bytes(512))
    assert_unusable(run_cli("validate", path), "wachtwoord")


def test_zip_that_is_no_workbook_exits_2(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "werkgevers.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "geen werkmap")
    assert_unusable(run_cli("validate", path), "werkgevers.xlsx")


def test_truncated_workbook_exits_2(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    data = make_workbook(numbered_rows(3)).read_bytes()
    path = tmp_path / "afgebroken.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert_unusable(run_cli("validate", path), "afgebroken.xlsx")


def test_workbook_without_an_employer_header_exits_2(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([{"Klant": "Bakkerij", "Plaats": "Utrecht"}], headers=["Klant", "Plaats"])
    assert_unusable(run_cli("validate", path), "op geen enkel tabblad", "asr-batch template")


def test_workbook_with_one_empty_sheet_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "leeg.xlsx"
    openpyxl.Workbook().save(path)
    assert_unusable(run_cli("validate", path), "op geen enkel tabblad")


@pytest.mark.parametrize("missing", [f.header for f in FIELDS if f.column_required])
def test_missing_required_column_exits_2_naming_it_and_the_headers_found(make_workbook: WorkbookBuilder,
                                                                          missing: str) -> None:
    headers = [h for h in HEADERS if h != missing]
    result = run_cli("validate", make_workbook([], headers=headers))
    assert_unusable(result, f"'{missing}'", "ontbreekt", "Gevonden koppen")
    found = result.stderr.split("Gevonden koppen", 1)[1]
    for header in headers:
        assert header in found
    assert missing not in found


def test_missing_13e_maand_names_it_and_lists_the_headers_found(make_workbook: WorkbookBuilder) -> None:
    headers = ["Werkgeverscode", "Naam werkgever", "DGA in verloning", "Verloning", "Vestiging"]
    result = run_cli("validate", make_workbook([], headers=headers))
    assert_unusable(result, "'13e maand'", "ontbreekt", "asr-batch template")
    found = result.stderr.split("Gevonden koppen", 1)[1]
    assert all(f"'{header}'" in found for header in headers)


def test_empty_13e_maand_cell_is_a_row_error_not_exit_2(make_workbook: WorkbookBuilder) -> None:
    assert run_cli("validate", make_workbook([valid_row(dertiende_maand=None)])).exit_code == 1


def test_excel_lock_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "werkgevers.xlsx").write_bytes(b"")  # the real workbook beside it
    lock = tmp_path / "~$werkgevers.xlsx"
    lock.write_bytes(b"\x0bTessa Tester" + bytes(150))
    assert_unusable(run_cli("validate", lock), "~$", "werkgevers.xlsx")


def test_usage_error_exits_2(make_workbook: WorkbookBuilder) -> None:
    assert run_cli("validate").exit_code == 2
    assert run_cli("validate", "--geen-optie", make_workbook([valid_row()])).exit_code == 2


def crash_with_a_secret(path: Path, *, strict: bool = False) -> None:
    remember(SECRET)  # as the reader does before anything can go wrong
    raise RuntimeError(f"kapot bij het lezen van {path.name} met {SECRET}")


def test_unexpected_error_exits_2_without_traceback_or_secret(make_workbook: WorkbookBuilder,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batch.pipeline.check", crash_with_a_secret)
    result = run_cli("validate", make_workbook([valid_row()]))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "onverwachte fout" in result.stderr and "--debug" in result.stderr
    assert SECRET not in result.output


def test_debug_shows_the_traceback_with_secrets_masked(make_workbook: WorkbookBuilder,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batch.pipeline.check", crash_with_a_secret)
    result = run_cli("--debug", "validate", make_workbook([valid_row()]))
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "RuntimeError" in result.stderr
    assert SECRET not in result.output


# --- validate --json ------------------------------------------------------------------------------

def load_schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads(SCHEMA_COPY.read_text(encoding="utf-8"))
    return schema


def test_schema_copy_matches_the_spec() -> None:
    if not SCHEMA_SPEC.exists():
        pytest.skip(f"spec not beside the repository ({SCHEMA_SPEC})")
    assert json.loads(SCHEMA_COPY.read_text(encoding="utf-8")) == json.loads(SCHEMA_SPEC.read_text(encoding="utf-8"))


def mixed_workbook(make_workbook: WorkbookBuilder) -> Path:
    rows = [valid_row(), {}, valid_row(werkgeverscode="WG"), valid_row(werkgeverscode="1004", dga_naam="X"),
            valid_row(werkgeverscode="1005", client_id=OFFICE_CLIENT_ID, client_secret="Other-S3cret-5150")]
    headers = [*HEADERS, "Vestiging"]
    return make_workbook([{f.header: r.get(f.key) for f in FIELDS} for r in rows], headers=headers)


def test_json_output_follows_the_schema_and_equals_the_library_result(make_workbook: WorkbookBuilder) -> None:
    path = mixed_workbook(make_workbook)
    result = run_cli("validate", "--json", path)
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    printed = json.loads(result.stdout)
    jsonschema.validate(printed, load_schema())
    library = check(path).to_dict()
    assert printed["counts"] == library["counts"] == {
        "rows": 5, "valid": 2, "invalid": 2, "skipped": 1, "errors": 2, "warnings": 2}
    printed.pop("generated_at")
    library.pop("generated_at")
    assert printed == library


def test_json_strict_counts_follow_the_option(make_workbook: WorkbookBuilder) -> None:
    path = make_workbook([valid_row(dga_naam="J. de Vries")])
    printed = json.loads(run_cli("validate", "--json", "--strict", path).stdout)
    jsonschema.validate(printed, load_schema())
    assert printed["counts"] == check(path, strict=True).to_dict()["counts"]
    assert printed["rows"][0]["status"] == "invalid"


def test_json_of_a_valid_file_exits_0(make_workbook: WorkbookBuilder) -> None:
    result = run_cli("validate", "--json", make_workbook(numbered_rows(3)))
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    jsonschema.validate(printed, load_schema())
    assert [r["status"] for r in printed["rows"]] == ["valid"] * 3
    assert printed["input"]["file"] == "werkgevers.xlsx"


# --- secrets --------------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [[], ["--json"], ["--strict"], ["-q"], ["--json", "--strict"]])
def test_validate_never_prints_a_client_secret(make_workbook: WorkbookBuilder, options: list[str]) -> None:
    result = run_cli("validate", *options, workbook_full_of_secrets(make_workbook))
    assert result.exit_code == 1, result.output
    for secret in ALL_SECRETS:
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_errors_on_the_secret_field_are_still_reported(make_workbook: WorkbookBuilder) -> None:
    printed = json.loads(run_cli("validate", "--json", workbook_full_of_secrets(make_workbook)).stdout)
    found = sorted((r["row"], i["field"], i["code"], i["cell"]) for r in printed["rows"] for i in r["issues"])
    assert found == [(4, "client_secret", "spatie", "D4"),
                     (5, "client_secret", "secret_conflict", "D5"),
                     (6, "client_secret", "secret_conflict", "D6")]


def test_office_secret_with_a_space_is_reported_without_printing_it(make_workbook: WorkbookBuilder) -> None:
    office = {**DEFAULT_OFFICE, "client_secret": "Office S3cret-7781"}
    result = run_cli("validate", make_workbook([valid_row()], office=office))
    assert result.exit_code == 1
    assert "Client Secret" in result.stdout and "Salarisverwerker" in result.stdout
    assert "S3cret-7781" not in result.output and "Office S3cret" not in result.output


# --- template -------------------------------------------------------------------------------------

def test_template_writes_the_workbook(tmp_path: Path) -> None:
    path = tmp_path / "kantoor.xlsx"
    result = run_cli("template", path)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert str(path) in result.stderr
    assert openpyxl.load_workbook(path).sheetnames[:3] == ["Toelichting", SHEET_OFFICE, SHEET_WERKGEVERS]


def test_template_default_name_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("template").exit_code == 0
    assert (tmp_path / "asr-werkgevers.xlsx").is_file()


def test_template_refuses_to_overwrite_and_force_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "asr-werkgevers.xlsx"
    path.write_bytes(b"eigen werk van het kantoor")
    refused = run_cli("template", path)
    assert_unusable(refused, "bestaat al", "--force")
    assert path.read_bytes() == b"eigen werk van het kantoor"
    forced = run_cli("template", "--force", path)
    assert forced.exit_code == 0, forced.output
    assert openpyxl.load_workbook(path).sheetnames[0] == "Toelichting"


def test_template_round_trip_fill_three_rows_then_validate(tmp_path: Path) -> None:
    path = tmp_path / "asr-werkgevers.xlsx"
    assert run_cli("template", path).exit_code == 0
    wb = openpyxl.load_workbook(path)
    office = wb[SHEET_OFFICE]
    key_of_label = {label: key for key, label in OFFICE_LABELS.items()}
    for row in range(2, office.max_row + 1):
        office.cell(row, 2, DEFAULT_OFFICE[key_of_label[office.cell(row, 1).value]])
    werkgevers = wb[SHEET_WERKGEVERS]
    column = {f.key: index for index, f in enumerate(FIELDS, 1)}
    rows = [valid_row(werkgeverscode="0412", naam="Café 't Hoekje"),
            valid_row(werkgeverscode="1003", dga="Ja", dga_naam="Hans Müller", dga_medewerkersnummer="1",
                      verloning="4-wekelijks"),
            valid_row(werkgeverscode="1010", client_id="eigen-client-01", client_secret="Eigen-Secret-01")]
    for excel_row, row in enumerate(rows, 2):
        for key, value in row.items():
            werkgevers.cell(excel_row, column[key], value)
    wb.save(path)

    result = run_cli("validate", "--json", path)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["counts"] == {"rows": 3, "valid": 3, "invalid": 0, "skipped": 0, "errors": 0, "warnings": 0}
    assert [r["werkgeverscode"] for r in printed["rows"]] == ["0412", "1003", "1010"]
    assert run_cli("validate", path).exit_code == 0


# --- help -----------------------------------------------------------------------------------------

def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("template", "validate", "process"):
        assert command in result.stdout
    assert "asr-batch" in result.stdout


@pytest.mark.parametrize("command", ["template", "validate", "process"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert f"asr-batch {command}" in result.stdout



def test_a_reader_that_leaves_early_is_no_fault(make_workbook: WorkbookBuilder) -> None:
    """`asr-batch validate --json | head -1`: the rest of the output has nowhere to go; that is no error."""
    import os
    import subprocess
    import sys

    workbook = make_workbook([valid_row()])
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written
    try:
        done = subprocess.run([sys.executable, "-m", "batch.cli", "validate", "--json", str(workbook)],
                              stdout=writer, stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(writer)
    assert done.returncode == 141
    assert done.stderr == ""
