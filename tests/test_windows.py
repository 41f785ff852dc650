"""Every POSIX-only step has its Windows step (issue 26), proven on Linux by forcing the branch.

The decisions live in batch/system.py (one function each) and batch/file_errors.py; a test replaces `windows()`
or the one call that differs, and the Windows error numbers are set on the exception as Windows sets them
(`PermissionError(13, ..., name)` with `winerror` 32 or 33: Linux ignores the constructor's winerror argument, so
the attribute is set by hand). The README's list of POSIX-only steps is checked against the code at the end.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import tokenize
import tomllib
import types
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from conftest import WorkbookBuilder, numbered_rows, run_cli, valid_row
from hypothesis import given
from hypothesis import strategies as st

import batch.window
import batch.workspace
from batch import file_errors, output, system
from batch.errors import UnusableInput
from batch.files import DIR_MODE, FILE_MODE
from batch.register.computer import config_folder
from batch.register.location import default_path
from batch.render import document_basename
from batch.serve.state import upload_name
from batch.signals import stop_signals
from batch.slug import slugify

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "C:\\Users\\Jørgen de Vries"
IN_EXCEL = "Sluit het bestand in Excel (of het andere programma) en probeer het opnieuw."


def windows_error(winerror: int, filename: object, errno_: int = errno.EACCES) -> OSError:
    """The exception Windows raises: PermissionError for errno 13, with its winerror."""
    kind = PermissionError if errno_ == errno.EACCES else OSError
    exc = kind(errno_, "Het proces heeft geen toegang tot het bestand", str(filename))
    exc.winerror = winerror  # type: ignore[attr-defined]
    return exc


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Windows branch of every decision in batch/system.py, on a Windows without long paths."""
    monkeypatch.setattr(system, "windows", lambda: True)
    monkeypatch.setattr(system, "linux", lambda: False)
    monkeypatch.setattr(system, "long_paths", lambda: False)
    monkeypatch.setattr(file_errors, "BUSY_PAUSE", 0)


# --- the user's folders --------------------------------------------------------------------------------------


def test_on_windows_register_and_computer_id_live_in_local_appdata_never_the_roaming_one(
        monkeypatch: pytest.MonkeyPatch, on_windows: None) -> None:
    import platformdirs.windows

    monkeypatch.setattr(platformdirs.windows, "get_win_folder", platformdirs.windows.get_win_folder_from_env_vars)
    monkeypatch.setenv("LOCALAPPDATA", f"{PROFILE}\\AppData\\Local")
    monkeypatch.setenv("APPDATA", f"{PROFILE}\\AppData\\Roaming")
    monkeypatch.delenv("ASR_BATCH_CONFIG_DIR")
    assert str(default_path()) == os.path.join(f"{PROFILE}\\AppData\\Local", "asr-batch", "register.sqlite")
    assert str(config_folder()) == os.path.join(f"{PROFILE}\\AppData\\Local", "asr-batch")
    assert "Roaming" not in str(config_folder())


def test_on_macos_both_live_in_application_support(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "macos", lambda: True)
    monkeypatch.setattr(system, "windows", lambda: False)
    monkeypatch.delenv("ASR_BATCH_CONFIG_DIR")
    support = Path.home() / "Library" / "Application Support" / "asr-batch"
    assert (default_path(), config_folder()) == (support / "register.sqlite", support)


def test_on_linux_the_xdg_folders_count(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(system, "macos", lambda: False)
    monkeypatch.setattr(system, "windows", lambda: False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ASR_BATCH_CONFIG_DIR")
    assert default_path() == tmp_path / "data" / "asr-batch" / "register.sqlite"
    assert config_folder() == tmp_path / "config" / "asr-batch"


# --- signals, modes, links, cores --------------------------------------------------------------------------


def test_windows_stops_on_ctrl_c_and_ctrl_break_and_has_no_sighup() -> None:
    windows_signal = types.SimpleNamespace(SIGINT=2, SIGTERM=15, SIGBREAK=21)  # Windows' signal module
    posix_signal = types.SimpleNamespace(SIGINT=2, SIGTERM=15, SIGHUP=1)
    assert stop_signals(windows_signal) == (2, 15, 21)
    assert stop_signals(posix_signal) == (2, 15, 1)
    assert stop_signals() == (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # this machine


@pytest.mark.parametrize("mode", [FILE_MODE, DIR_MODE, 0o644])
def test_every_owner_only_mode_keeps_the_write_bit_that_windows_reads_as_not_read_only(mode: int) -> None:
    assert system.keeps_write_bit(mode)
    assert not system.keeps_write_bit(0o400)


def test_a_junction_counts_as_a_link_on_windows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 on_windows: None) -> None:
    folder = tmp_path / "uit" / "aanmeldingen"
    folder.mkdir(parents=True)
    (tmp_path / "uit" / output.MARKER).write_text("asr-batch")
    document = folder / "1001-bakkerij.pdf"
    document.write_bytes(b"%PDF")
    assert output.holds_our_document(document)
    monkeypatch.setattr(system, "_reparse_tag", lambda path: 0xA0000003 if path == folder else 0)
    assert system.is_link(folder) and not system.is_link(document)
    assert not output.holds_our_document(document)  # purge never deletes through a junction


def test_off_windows_the_reparse_tag_is_never_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(system, "_reparse_tag", lambda path: pytest.fail("read on Linux"))
    assert not system.is_link(tmp_path)
    (tmp_path / "link").symlink_to(tmp_path)
    assert system.is_link(tmp_path / "link")


def test_long_paths_are_off_on_a_windows_without_its_registry_value(monkeypatch: pytest.MonkeyPatch) -> None:
    assert system.long_paths()  # not Windows: nothing to switch on
    monkeypatch.setattr(system, "windows", lambda: True)
    assert not system.long_paths()  # no winreg here, as on a Windows that never set LongPathsEnabled


# --- serve's private folder --------------------------------------------------------------------------------


def test_on_windows_a_folder_whose_marker_can_be_deleted_is_abandoned_and_goes(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, on_windows: None) -> None:
    monkeypatch.setattr(os, "getuid", lambda: pytest.fail("Windows has no getuid"), raising=False)
    gone = tmp_path / f"{batch.workspace.PREFIX}gone"
    gone.mkdir()
    (gone / batch.workspace.IN_USE).write_bytes(b"")
    (gone / "geheim.xlsx").write_bytes(b"secret")
    live = tmp_path / f"{batch.workspace.PREFIX}live"
    live.mkdir()
    (live / batch.workspace.IN_USE).write_bytes(b"")
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if path.parent == live:  # its server holds the marker open: Windows refuses to delete it
            raise windows_error(file_errors.SHARING_VIOLATION, path)
        real_unlink(path, missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    assert batch.workspace.remove_abandoned(tmp_path) == [gone]
    assert not gone.exists() and (live / batch.workspace.IN_USE).exists()


def test_on_windows_holding_the_marker_open_is_the_lock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        on_windows: None) -> None:
    import fcntl

    monkeypatch.setattr(fcntl, "flock", lambda *args: pytest.fail("Windows has no fcntl"))
    with (tmp_path / "marker").open("wb") as handle:
        assert batch.workspace._lock(handle)


# --- names Windows keeps for devices, or shortens -------------------------------------------------------------


@pytest.mark.parametrize("name", ["CON.xlsx", "con", "Nul.tar.gz", "COM1.xlsx", "lpt9", "PRN .xlsx", "aux",
                                  "COM\u00b9.xlsx", "werkgevers.xlsx.", "werkgevers.xlsx ", "uitvoer."])
def test_device_names_and_a_trailing_dot_or_space_are_a_problem(name: str) -> None:
    assert system.windows_name_problem(name)


@pytest.mark.parametrize("name", ["werkgevers.xlsx", "CONSOLE.xlsx", "COM10.xlsx", "Aux B.V.xlsx", "com-1",
                                  "werkgevers .xlsx", "Con-uitvoer", ".asr-batch-uitvoer"])
def test_other_names_are_not(name: str) -> None:
    assert system.windows_name_problem(name) is None


names = st.one_of(st.sampled_from(["Con", "Aux B.V.", "NUL", "com1", "Prn.", " lpt1 ", "CON.xlsx", "aux.", ".",
                                   "werkgevers.xlsx ", "COM\u00b9"]), st.text(max_size=30))


@given(naam=names, code=st.one_of(st.none(), st.just(""), st.from_regex(r"\d{1,45}", fullmatch=True)))
def test_no_name_the_tool_makes_is_one_windows_refuses(naam: str, code: str | None) -> None:
    row = types.SimpleNamespace(werkgeverscode=code, naam=naam)
    for made in (slugify(naam), document_basename(row), f"{document_basename(row)}.pdf",  # type: ignore[arg-type]
                 upload_name(naam), upload_name(f"{naam}.xlsx"), f"{Path(upload_name(naam)).stem}-aanmeldingen.zip"):
        assert system.windows_name_problem(made) is None, made


def test_on_windows_an_input_named_con_is_refused_in_dutch(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_workbook([valid_row()], name="CON.xlsx")
    assert run_cli("validate", source).exit_code == 0  # Linux keeps such a file as any other
    monkeypatch.setattr(system, "windows", lambda: True)
    result = run_cli("validate", source)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "asr-batch: Het invoerbestand kan zo niet worden gebruikt: 'CON.xlsx' is voor Windows de naam van een apparaat "
        "(CON), geen bestand of map.",
        "Oplossing: Geef het een andere naam, bijvoorbeeld werkgevers.xlsx (of, voor een map, werkgevers-uitvoer), "
        "zonder punt of spatie aan het eind."]


@pytest.mark.parametrize(("command", "named"), [
    (("process", "{source}", "-o", "{tmp}/uitvoer."), "De uitvoermap kan zo niet worden gebruikt: 'uitvoer.' eindigt"),
    (("process", "{tmp}/werkgevers.xlsx ",), "Het invoerbestand kan zo niet worden gebruikt: 'werkgevers.xlsx ' "),
    (("status", "--xlsx", "{tmp}/NUL.xlsx"), "Het bestand kan zo niet worden gebruikt: 'NUL.xlsx' is voor Windows"),
    (("template", "{tmp}/aux.xlsx"), "Het bestand kan zo niet worden gebruikt: 'aux.xlsx' is voor Windows"),
    (("mark", "--from", "{tmp}/LPT1.xlsx"), "Het invoerbestand kan zo niet worden gebruikt: 'LPT1.xlsx' is voor"),
])
def test_on_windows_every_path_a_clerk_gives_is_checked(command: tuple[str, ...], named: str, tmp_path: Path,
                                                         make_workbook: WorkbookBuilder, on_windows: None) -> None:
    source = make_workbook([valid_row()])
    args = [a.format(source=source, tmp=tmp_path) for a in command]
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"asr-batch: {named}")
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["werkgevers.xlsx"]  # nothing made


# --- a file open in Excel ----------------------------------------------------------------------------------------


@pytest.fixture
def earlier_output(make_workbook: WorkbookBuilder, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A run with an issue (so foutenrapport.xlsx exists): its input, output folder and resultaat.json."""
    source = make_workbook([valid_row(), valid_row(werkgeverscode="1002", kvk_nummer="123")])
    target = tmp_path / "uit"
    assert run_cli("process", source, "-o", target, "--format", "html").exit_code == 1
    assert (target / "foutenrapport.xlsx").is_file()
    return source, target, (target / "resultaat.json").read_bytes()


def hold_open(monkeypatch: pytest.MonkeyPatch, *names: str, winerror: int = file_errors.SHARING_VIOLATION) -> None:
    """Excel (or a PDF reader) holds these files: opening them for writing fails as on Windows."""
    def probe(path: Path) -> None:
        if path.name in names:
            raise windows_error(winerror, path)

    monkeypatch.setattr(file_errors, "_open_for_writing", probe)


@pytest.mark.parametrize("winerror", [file_errors.SHARING_VIOLATION, file_errors.LOCK_VIOLATION])
def test_a_rerun_while_the_error_workbook_is_open_in_excel_says_so_before_any_work(
        earlier_output: tuple[Path, Path, bytes], monkeypatch: pytest.MonkeyPatch, on_windows: None,
        winerror: int) -> None:
    source, target, before = earlier_output
    hold_open(monkeypatch, "foutenrapport.xlsx", winerror=winerror)
    result = run_cli("process", source, "-o", target, "--format", "html")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"asr-batch: Het bestand 'foutenrapport.xlsx' is geopend in een ander programma (zoals Excel) en kan niet "
        f"worden vervangen (in '{target}').", f"Oplossing: {IN_EXCEL}"]
    assert (target / "resultaat.json").read_bytes() == before
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_several_open_files_are_counted(earlier_output: tuple[Path, Path, bytes], monkeypatch: pytest.MonkeyPatch,
                                        on_windows: None) -> None:
    source, target, _ = earlier_output
    hold_open(monkeypatch, "foutenrapport.xlsx", "1001-bakkerij-de-korenaar-b-v.html", "overzicht.html")
    result = run_cli("process", source, "-o", target, "--format", "html")
    assert result.exit_code == 2
    assert "(en nog 2 andere bestanden) is geopend in een ander programma" in result.stderr


def test_a_file_opened_while_the_run_works_stops_the_swap_and_the_earlier_output_stays(
        earlier_output: tuple[Path, Path, bytes], monkeypatch: pytest.MonkeyPatch, on_windows: None) -> None:
    """Opened in Excel after the check, before the swap: Windows refuses to rename the folder (winerror 5, naming
    the folder); the message names the file."""
    source, target, before = earlier_output
    real_replace = os.replace
    tries = []

    def replace(src: object, dst: object) -> None:
        if Path(str(src)) == target:
            tries.append(dst)
            hold_open(monkeypatch, "foutenrapport.xlsx")
            raise windows_error(file_errors.ACCESS_DENIED, target)
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    result = run_cli("process", source, "-o", target, "--format", "html")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("asr-batch: Het bestand 'foutenrapport.xlsx' is geopend in een ander programma")
    assert len(tries) == file_errors.BUSY_TRIES  # a virus scanner's moment was waited out first
    assert (target / "resultaat.json").read_bytes() == before


def test_when_the_new_folder_cannot_take_the_place_the_earlier_output_is_put_back_at_once(
        earlier_output: tuple[Path, Path, bytes], monkeypatch: pytest.MonkeyPatch, on_windows: None) -> None:
    source, target, before = earlier_output
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)) == target and ".bezig" in str(src):
            raise windows_error(file_errors.SHARING_VIOLATION, src)
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    result = run_cli("process", source, "-o", target, "--format", "html")
    assert result.exit_code == 2
    assert "is geopend in een ander programma" in result.stderr
    assert (target / "resultaat.json").read_bytes() == before
    assert not target.with_name(".uit.vorige").exists()


def test_a_virus_scanners_moment_is_waited_out(monkeypatch: pytest.MonkeyPatch, on_windows: None) -> None:
    tries: list[int] = []

    def busy_twice() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise windows_error(file_errors.SHARING_VIOLATION, "x")
        return "gelukt"

    assert file_errors.retry_busy(busy_twice) == "gelukt"
    assert len(tries) == 3
    monkeypatch.setattr(system, "windows", lambda: False)
    tries.clear()
    with pytest.raises(PermissionError):
        file_errors.retry_busy(busy_twice)  # elsewhere a refusal is a refusal
    assert len(tries) == 1


def refuse_open(monkeypatch: pytest.MonkeyPatch, target: Path, exc: OSError) -> None:
    real_open = os.open

    def fake(path: object, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == target:
            raise exc
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", fake)


def test_status_xlsx_onto_a_workbook_open_in_excel(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("process", make_workbook(numbered_rows(2)), "-o", tmp_path / "uit", "--format", "html"
                   ).exit_code == 0
    target = tmp_path / "register.xlsx"
    refuse_open(monkeypatch, target, windows_error(file_errors.SHARING_VIOLATION, target))
    result = run_cli("status", "--xlsx", target, "--force")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"asr-batch: Het bestand 'register.xlsx' is geopend in een ander programma (zoals Excel) en kan niet worden "
        f"geschreven (in '{tmp_path}').", f"Oplossing: {IN_EXCEL}"]


def test_status_xlsx_refused_plain_access_keeps_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "register.xlsx"
    refuse_open(monkeypatch, target, PermissionError(errno.EACCES, "Permission denied", str(target)))
    result = run_cli("status", "--xlsx", target)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"asr-batch: '{target}' kan niet worden geschreven (Permission denied).",
        "Oplossing: Kies een map waarin u mag schrijven, en sluit het bestand als het in Excel open staat."]


@pytest.mark.parametrize("command", [("validate",), ("process",), ("mark", "--from")])
def test_an_input_locked_by_excel_is_named(command: tuple[str, ...], make_workbook: WorkbookBuilder,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_workbook([valid_row()], name="werkgevers mei.xlsx")
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: (_ for _ in ()).throw(
        windows_error(file_errors.LOCK_VIOLATION, p)) if p == source else real(p))
    result = run_cli(*command, source)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"asr-batch: Het bestand 'werkgevers mei.xlsx' is geopend in een ander programma (zoals Excel) en kan niet "
        f"worden gelezen (in '{source.parent}').", f"Oplossing: {IN_EXCEL}"]


def test_an_input_without_read_access_keeps_its_message(make_workbook: WorkbookBuilder,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_workbook([valid_row()])
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: (_ for _ in ()).throw(
        PermissionError(errno.EACCES, "Permission denied", str(p))) if p == source else real(p))
    result = run_cli("validate", source)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "asr-batch: Het bestand 'werkgevers.xlsx' kan niet worden gelezen (Permission denied).",
        "Oplossing: Sluit het bestand in Excel en controleer of u leesrechten hebt."]


def test_the_template_over_a_workbook_open_in_excel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "asr-werkgevers.xlsx"
    target.write_bytes(b"in Excel")
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)) == target:
            raise windows_error(file_errors.SHARING_VIOLATION, dst)
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    result = run_cli("template", target, "--force")
    assert result.exit_code == 2
    assert "Het bestand 'asr-werkgevers.xlsx' is geopend in een ander programma" in result.stderr
    assert target.read_bytes() == b"in Excel"
    assert [p.name for p in tmp_path.iterdir()] == ["asr-werkgevers.xlsx"]


# --- paths near 260 characters --------------------------------------------------------------------------------


def deep_folder(base: Path, length: int) -> Path:
    """A folder path of exactly `length` characters under `base`, in parts Linux accepts (each under 255)."""
    remaining = length - len(str(base))
    count = -(-remaining // 101)
    sizes = [remaining // count + (1 if i < remaining % count else 0) for i in range(count)]
    folder = base.joinpath(*("d" * (size - 1) for size in sizes))  # each part costs its separator too
    assert len(str(folder)) == length
    return folder


def test_an_output_folder_too_deep_for_windows_is_refused_before_anything_is_written(
        make_workbook: WorkbookBuilder, tmp_path: Path, on_windows: None) -> None:
    source = make_workbook([valid_row(werkgeverscode="1001", naam="Bakkerij")])  # 1001-bakkerij.html
    deepest_name = len("aanmeldingen/1001-bakkerij.html")
    fits = deep_folder(tmp_path / "a", system.MAX_PATH - 1 - output.STAGING_EXTRA - 1 - deepest_name)
    result = run_cli("process", source, "-o", fits, "--format", "html")
    assert result.exit_code == 0, result.output
    deepest = max(len(str(p)) for p in fits.rglob("*"))
    assert deepest + output.STAGING_EXTRA <= system.MAX_PATH - 1  # as deep as the staging folder went
    too_deep = deep_folder(tmp_path / "b", len(str(fits)) + 1)
    result = run_cli("process", source, "-o", too_deep, "--format", "html")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"asr-batch: De uitvoermap '{too_deep}' ligt te diep: het langste pad dat asr-batch erin schrijft zou 260 "
        "tekens tellen, en Windows staat er 259 toe. Er is niets geschreven.",
        "Oplossing: Kies een map met een korter pad, dichter bij de schijf (bijvoorbeeld C:\\asr-batch), of een "
        "kortere mapnaam."]
    assert not too_deep.exists()


def test_a_windows_with_long_paths_takes_the_deep_folder(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, on_windows: None) -> None:
    monkeypatch.setattr(system, "long_paths", lambda: True)
    source = make_workbook([valid_row()])
    assert run_cli("process", source, "-o", deep_folder(tmp_path, 300), "--format", "html").exit_code == 0


@pytest.mark.parametrize(("exc", "path"), [
    (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300), None),
    (windows_error(file_errors.FILENAME_EXCED_RANGE, "C:\\kort", errno.ENOENT), None),
    (windows_error(file_errors.PATH_NOT_FOUND, "C:\\" + "d" * 270, errno.ENOENT), None),
])
def test_the_windows_and_posix_numbers_for_a_path_too_long(exc: OSError, path: None) -> None:
    explained = file_errors.explained(exc, path, "geschreven")
    assert isinstance(explained, UnusableInput)
    assert "is te lang" in explained.message and "Windows staat er 259 toe" in explained.message
    assert explained.fix == file_errors.SHORTER


def test_a_missing_folder_on_a_short_path_is_not_called_too_long() -> None:
    assert file_errors.explained(windows_error(file_errors.PATH_NOT_FOUND, "C:\\kort", errno.ENOENT), None,
                                 "geschreven") is None
    assert file_errors.explained(PermissionError(errno.EACCES, "Permission denied", "x"), None, "gelezen") is None


def test_status_xlsx_onto_a_path_too_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "register.xlsx"
    refuse_open(monkeypatch, target, windows_error(file_errors.FILENAME_EXCED_RANGE, target, errno.ENOENT))
    result = run_cli("status", "--xlsx", target)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"asr-batch: Het pad '{target}' is te lang ({len(str(target))} tekens")
    assert "Oplossing: Kies een map met een korter pad" in result.stderr


# --- the Start-menu shortcut ------------------------------------------------------------------------------------


def test_the_window_less_start_is_a_gui_script_of_the_package() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["gui-scripts"]
    assert declared == {"asr-batch-venster": "batch.window:main"}
    installed = {e.name: e.value for e in entry_points(group="gui_scripts")}
    assert installed.get("asr-batch-venster") == "batch.window:main"


def test_without_a_console_the_page_starts_and_its_messages_go_to_a_log(monkeypatch: pytest.MonkeyPatch,
                                                                        this_computer: Path) -> None:
    """pythonw gives Python no stdout and no stderr: the address goes nowhere, a failure to the log file."""
    import batch.cli

    seen: list[list[str]] = []

    def run() -> None:
        import sys

        seen.append(list(sys.argv))
        print("http://127.0.0.1:1/?token=geheim")
        print("asr-batch: Het register kan niet worden gelezen.", file=sys.stderr)

    monkeypatch.setattr("sys.stdout", None)
    monkeypatch.setattr("sys.stderr", None)
    monkeypatch.setattr("sys.argv", ["asr-batch-venster.exe", "--port", "8777"])
    monkeypatch.setattr(batch.cli, "run", run)
    batch.window.main()
    import sys

    sys.stdout.close()
    sys.stderr.close()
    assert seen == [["asr-batch-venster.exe", "serve", "--port", "8777"]]
    log = this_computer / batch.window.LOG
    assert log.read_text(encoding="utf-8") == "asr-batch: Het register kan niet worden gelezen.\n"
    assert log.stat().st_mode & 0o777 == FILE_MODE


# --- the README's list matches the code ---------------------------------------------------------------------------

# The calls and names that only POSIX has, or that differ on Windows. A string counts when it is one of these
# names exactly (signals.py names its signals as strings); docstrings and comments do not.
POSIX_ONLY = {"fcntl", "msvcrt", "getuid", "geteuid", "st_uid", "chmod", "fchmod", "umask", "O_NOFOLLOW", "lstat",
              "is_symlink", "SIGHUP", "SIGTERM", "SIGBREAK", "sched_getaffinity", "getpwuid", "setsid", "killpg"}
QUALIFIED = {("os", "name"), ("sys", "platform"), ("os", "link"), ("os", "kill")}


def posix_only_calls() -> set[tuple[str, str]]:
    found = set()
    for path in sorted((ROOT / "batch").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        with path.open("rb") as file:
            tokens = [t for t in tokenize.tokenize(file.readline) if t.type in (tokenize.NAME, tokenize.STRING,
                                                                                  tokenize.OP)]
        for before, dot, token in zip([None, None, *tokens], [None, *tokens], tokens, strict=False):
            if token.type == tokenize.NAME and token.string in POSIX_ONLY:
                found.add((token.string, module))
            elif token.type == tokenize.STRING and token.string.strip("'\"") in POSIX_ONLY:
                found.add((token.string.strip("'\""), module))
            elif (before is not None and dot is not None and dot.string == "."
                  and (before.string, token.string) in QUALIFIED):
                found.add((f"{before.string}.{token.string}", module))
    return found


def readme_list() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### POSIX-only steps and their Windows step", 1)[1].split("\n#", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "batch/" in line]


def test_the_readme_names_every_posix_only_call_where_it_is_made() -> None:
    rows = readme_list()
    missing = [(call, module) for call, module in sorted(posix_only_calls())
               if not any(f"`{module}`" in row and re.search(rf"`[^`]*\b{re.escape(call)}\b[^`]*`", row)
                          for row in rows)]
    assert missing == [], "add these to the README's list of POSIX-only steps"


def test_every_module_the_readme_list_names_still_makes_such_a_call() -> None:
    made = {module for _, module in posix_only_calls()}
    named = {found for row in readme_list() for found in re.findall(r"`(batch/[\w/]+\.py)`", row)}
    assert named - made == set(), "the README names a module that no longer makes a POSIX-only call"
    assert made <= named


def test_the_list_finder_finds_a_call_in_code_and_not_in_a_docstring(tmp_path: Path) -> None:
    found = posix_only_calls()
    assert ("fcntl", "batch/workspace.py") in found
    assert ("SIGHUP", "batch/signals.py") in found  # named as a string
    assert ("os.kill", "batch/serve/stop.py") not in found  # only its docstring mentions os.kill


def test_a_stop_signal_inside_a_connection_handler_of_waitress_stops_serve() -> None:
    """Seen in the suite under load: SIGHUP arrived while waitress closed a connection, waitress logged the exception
    as 'uncaptured' and served on. It lets only KeyboardInterrupt and SystemExit through."""
    from waitress import wasyncore

    from batch.signals import Terminated

    class Channel:
        def handle_write_event(self) -> None:
            raise Terminated(signal.SIGHUP)

        def handle_error(self) -> None:
            pytest.fail("swallowed")

    with pytest.raises(Terminated) as stopped:
        wasyncore.write(Channel())
    assert stopped.value.signum == signal.SIGHUP
