"""Issue 26, security item 3: a zip bomb inside the old limits, and the memory an upload leaves with the server.

The limits (batch/limits.py) come from what a workbook of 100,000 werkgevers holds, measured; the review's bomb (a
workbook of 1-2 MB whose shared strings unpack to some 500 MB, inside the old limits of 512 MB and 1,000:1) is now
refused from the zip's directory alone, in Dutch, exit 2, by the CLI and by the page. The page handles each upload in
a process of its own (batch/serve/apart.py), so what reading it cost goes back to the system when it is done: the
server's own memory stays what it was, even after a bomb that fits inside the new limits.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bombs import as_shared_strings, fan_out_shared_string, inflate_shared_strings, unpacked_size, write_ods
from browser import start_server, stop
from conftest import HEADERS, OFFICE_CLIENT_ID, SECRET, numbered_rows, run_cli, write_workbook
from test_serve import Browser, app, client, states, upload, upload_register_workbook, workspace  # noqa: F401

import batch.limits
from batch.errors import UnusableInput
from batch.fields import FIELDS
from batch.limits import MB, check_archive
from batch.pipeline import check
from batch.redact import MASK, forget_all, redact
from batch.serve.apart import Failed, apart

AS_INSTALLED = [sys.executable, "-c", "from batch.cli import run; run()"]
ON_LINUX = sys.platform.startswith("linux")  # the memory of a process is read from /proc and wait4


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three valid werkgevers, as the bombs' own content."""
    return write_workbook(tmp_path_factory.mktemp("werkmap") / "werkgevers.xlsx", numbered_rows(3))


@pytest.fixture(scope="module")
def review_bomb(workbook: Path) -> Path:
    """The review's bomb: shared strings unpacking to ~490 MB at ~260:1 (a 2 MB file), inside the old limits (512 MB
    in all, 1,000:1), which let it through."""
    bomb = inflate_shared_strings(workbook, workbook.with_name("bom.xlsx"), unpacked=480 * MB, block=200)
    assert bomb.stat().st_size < 3 * MB
    assert batch.limits.MAX_SHARED_STRINGS < unpacked_size(bomb) < 512 * MB
    return bomb


@pytest.fixture(scope="module")
def inside_bomb(workbook: Path) -> Path:
    """A bomb just inside the new limits: shared strings of ~180 MB at ~65:1, a 3 MB file. Read, it costs some
    hundreds of MB, which the page's server must not keep."""
    bomb = inflate_shared_strings(workbook, workbook.with_name("bijna-bom.xlsx"), unpacked=176 * MB, unique=32)
    assert unpacked_size(bomb) < batch.limits.MAX_SHARED_STRINGS
    return bomb


REFUSED = re.compile(r"'bom\.xlsx' bevat een onderdeel \(xl/sharedStrings\.xml\) dat uitgepakt \d+ MB groot wordt; "
                     r"voor de gedeelde teksten \(sharedStrings\.xml\) is de grens 192 MB\.")


# --- the limits hold what a werkgevers workbook holds ---------------------------------------------------------


@dataclass
class _Entry:
    filename: str
    file_size: int
    compress_size: int


class _Directory:
    """A zip's central directory as check_archive sees it: names and declared sizes, nothing to inflate."""

    def __init__(self, *entries: tuple[str, int, int]) -> None:
        self.entries = [_Entry(name, size, packed) for name, size, packed in entries]

    def infolist(self) -> list[_Entry]:
        return self.entries


MEASURED = {  # 100,000 werkgevers, every column filled (batch/limits.py, docs/security.md)
    "openpyxl": [("xl/worksheets/sheet2.xml", 93_293_250, 14_003_652)],
    "LibreOffice .xlsx": [("xl/sharedStrings.xml", 65_111_622, 9_738_265),
                          ("xl/worksheets/sheet2.xml", 62_245_799, 4_964_613)],
    "LibreOffice .ods": [("content.xml", 176_045_524, 11_037_232)],
    "status --xlsx": [("xl/worksheets/sheet1.xml", 72_033_343, 6_047_510),
                      ("xl/worksheets/sheet2.xml", 25_497_324, 1_898_424)],
    "formatting to row 1,048,576": [("xl/worksheets/sheet1.xml", 105_843_552, 2_960_352)],
    "each cell of 12 columns formatted to row 1,048,576": [("xl/worksheets/sheet1.xml", 299_079_651, 24_237_320)],
}


@pytest.mark.parametrize("saved", MEASURED)
def test_every_workbook_of_100_000_werkgevers_as_measured_passes_the_limits(saved: str) -> None:
    check_archive(_Directory(*MEASURED[saved]), "werkgevers.xlsx")  # type: ignore[arg-type]


@pytest.mark.parametrize("part, size, said", [
    ("xl/sharedStrings.xml", 193 * MB, "voor de gedeelde teksten (sharedStrings.xml) is de grens 192 MB"),
    ("xl/worksheets/sheet1.xml", 321 * MB, "voor een tabblad is de grens 320 MB"),
    ("content.xml", 481 * MB, "voor de inhoud van een .ods-bestand (content.xml) is de grens 480 MB"),
    ("xl/media/image1.png", 65 * MB, "voor een onderdeel als opmaak of een afbeelding is de grens 64 MB"),
])
def test_a_part_beyond_its_limit_is_refused_naming_part_and_limit(part: str, size: int, said: str) -> None:
    with pytest.raises(UnusableInput) as refused:
        check_archive(_Directory((part, size, size // 10)), "werkgevers.xlsx")  # type: ignore[arg-type]
    assert f"({part})" in refused.value.message and said in refused.value.message
    assert refused.value.fix == batch.limits.FIX_SMALLER


def test_a_part_that_grows_more_than_the_ratio_is_refused_below_every_size_limit() -> None:
    entry = ("xl/sharedStrings.xml", 50 * MB, 50 * MB // (batch.limits.MAX_RATIO + 1))
    with pytest.raises(UnusableInput) as refused:
        check_archive(_Directory(entry), "werkgevers.xlsx")  # type: ignore[arg-type]
    assert f"meer dan {batch.limits.MAX_RATIO} keer zo groot" in refused.value.message
    assert "zip-bom" in refused.value.message


# --- the CLI ----------------------------------------------------------------------------------------------


def test_process_refuses_the_reviews_bomb_in_dutch_with_exit_2_and_little_memory(review_bomb: Path,
                                                                                  tmp_path: Path) -> None:
    before = review_bomb.read_bytes()
    proc = subprocess.run([*AS_INSTALLED, "process", str(review_bomb), "-o", str(tmp_path / "uit")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert REFUSED.search(proc.stderr), proc.stderr
    assert "Oplossing: Verwijder overbodige tabbladen, afbeeldingen en opmaak, of splits het bestand." in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "uit").exists()
    assert review_bomb.read_bytes() == before
    assert states() == {}


@pytest.mark.skipif(not ON_LINUX, reason="a process's peak memory is read with getrusage on Linux")
def test_refusing_the_bomb_costs_no_more_memory_than_a_small_workbook(review_bomb: Path, tmp_path: Path) -> None:
    # Measured in a process of its own, which starts no other: the peak of its children is its own.
    probe = ("import resource, subprocess, sys; "
             "subprocess.run(sys.argv[1:], capture_output=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
    peak = int(subprocess.run([sys.executable, "-c", probe, *AS_INSTALLED, "validate", str(review_bomb)],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path).stdout)
    assert peak < 250, f"refusing the bomb took {peak} MB"  # reading it took 600 MB before, and a bigger one more


# --- the page ---------------------------------------------------------------------------------------------


def test_the_page_refuses_the_bomb_with_the_clis_dutch_message(client, review_bomb: Path) -> None:  # noqa: F811
    response = upload(client, review_bomb)
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert REFUSED.search(text), text
    assert "Verwijder overbodige tabbladen, afbeeldingen en opmaak, of splits het bestand." in text
    assert "Traceback" not in text
    assert states() == {}


def test_the_register_page_refuses_the_bomb_as_register_workbook(client, review_bomb: Path) -> None:  # noqa: F811
    response = upload_register_workbook(client, review_bomb.read_bytes(), "bom.xlsx")
    assert response.status_code == 400
    assert REFUSED.search(html.unescape(response.text))


def _rss_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert found
    return int(found.group(1)) // 1024


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Browser]]:
    server, first = start_server(tmp_path)
    try:
        yield server, Browser(first.strip())
    finally:
        code, stderr = stop(server)
        assert code == 0, stderr
        assert "Traceback" not in stderr


@pytest.mark.skipif(not ON_LINUX, reason="the server's memory is read from /proc")
def test_the_servers_memory_stays_what_it_was_after_a_bomb_inside_the_limits(real_server, inside_bomb: Path,
                                                                             review_bomb: Path) -> None:
    server, browser = real_server
    browser.get("/")
    before = _rss_mb(server.pid)
    assert browser.upload(inside_bomb) == 200  # read, checked, documents written: the result page
    assert '<b data-count="valid">3</b>' in browser.get("/resultaat")
    after_inside = _rss_mb(server.pid)
    assert browser.upload(review_bomb) == 400
    after_bomb = _rss_mb(server.pid)
    # Read in the server itself, the first cost it some 100 MB that it kept (49 MB before, 148 MB after); the
    # second, under the old limits, 600 MB. Read apart, the server grows by a few MB (the pages, the result).
    assert after_inside - before < 40, (before, after_inside)
    assert after_bomb - before < 40, (before, after_bomb)


# --- the process apart --------------------------------------------------------------------------------------


def test_an_unusable_workbook_read_apart_is_the_same_dutch_message(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput) as apart_error:
        apart(check, tmp_path / "weg.xlsx")
    with pytest.raises(UnusableInput) as here:
        check(tmp_path / "weg.xlsx")
    assert (apart_error.value.message, apart_error.value.fix) == (here.value.message, here.value.fix)


def test_the_secrets_read_apart_are_masked_here_too(workbook: Path) -> None:
    forget_all()
    result = apart(check, workbook)
    assert result.counts["valid"] == 3
    assert redact(f"geheim: {SECRET}") == f"geheim: {MASK}"


def test_an_unexpected_error_apart_names_only_its_kind() -> None:
    with pytest.raises(Failed) as failed:
        apart(int, SECRET)  # ValueError: invalid literal for int() ... with the value in its text
    assert failed.value.kind == "ValueError" and SECRET not in str(failed.value)


def test_a_process_that_dies_without_an_answer_is_a_dutch_message() -> None:
    with pytest.raises(UnusableInput) as died:
        apart(os._exit, 9)
    assert died.value.message.startswith("De verwerking van de werkmap is onverwacht gestopt (code 9)")
    assert "probeer het opnieuw" in died.value.fix


def test_the_process_apart_uses_the_register_and_computer_of_now(workbook: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork server started earlier knows the environment of then; the upload's process gets today's."""
    from batch.register import status_of

    apart(check, workbook)  # the fork server (where there is one) starts now
    register = tmp_path / "later.sqlite"
    monkeypatch.setenv("ASR_BATCH_REGISTER", str(register))
    assert apart(status_of, None).register == status_of(None).register
    assert str(register) in status_of(None).register


# --- the far-cells path --------------------------------------------------------------------------------------


def test_the_shared_strings_read_for_far_cells_are_let_go_once_the_workbook_is_read(workbook: Path,
                                                                                   tmp_path: Path) -> None:
    """A blank shared string in the last row Excel has: reading whether it is blank parses every shared string,
    which must not stay in memory for the rest of the run."""
    from batch.reader import far_cells

    padded = inflate_shared_strings(workbook, tmp_path / "ver.xlsx", unpacked=1)  # an sst of its own, nearly empty
    with zipfile.ZipFile(padded) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(b"</sst>", b"<si><t> </t></si></sst>")
    blank = parts["xl/sharedStrings.xml"].count(b"<si>") - 1
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"].replace(
        b"</sheetData>", b'<row r="1048576"><c r="A1048576" t="s"><v>%d</v></c></row></sheetData>' % blank)
    far = tmp_path / "ver-weg.xlsx"
    with zipfile.ZipFile(far, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert check(far).counts["valid"] == 3
    assert far_cells._shared_cache == {}


# --- the bomb no size limit sees: one text in a great many cells ------------------------------------------------
# (issue 26, item 3, second half: batch/reader/repeated_text.py)

REPEATED = ("De cellen van '{name}' herhalen samen {mb} MB tekst (de meeste op tabblad 'Werkgevers'): dezelfde tekst "
            "in heel veel cellen. Een werkmap met 100.000 werkgevers heeft in al zijn cellen samen zo'n 82 MB tekst "
            "(grens: 192 MB).")
REPEATED_FIX = ("Oplossing: Controleer of u de goede werkmap kiest. Kopieer anders alleen de werkgevers naar een lege "
                "werkmap (asr-batch template), of splits ze over meer bestanden.")


@pytest.fixture(scope="module")
def fan_out(workbook: Path) -> Path:
    """1,000 rows of 12 cells that all point at one shared string of 32,000 characters: a 50 KB file that took
    1.6 GB and 20 s to read, 366 MB of text."""
    bomb = fan_out_shared_string(workbook, workbook.with_name("waaier.xlsx"), rows=1_000)
    assert bomb.stat().st_size < 100_000
    return bomb


@pytest.fixture(scope="module")
def repeated_ods(workbook: Path) -> Path:
    """A row of 12 cells of the same 32,000 characters, repeated 1,000 times: a 21 KB .ods that took 1.8 GB."""
    bomb = write_ods(workbook.with_name("herhaald.ods"), HEADERS, [], repeated_rows=1_000)
    assert bomb.stat().st_size < 100_000
    return bomb


BOMB_TEXT = {"fan_out": 366, "repeated_ods": 367}  # MB: 11,999 copies of 32,000 characters and their XML


def _ods_rows(count: int) -> list[list[str]]:
    return [[str(value or "") for value in (row.get(f.key) for f in FIELDS)]
            for row in numbered_rows(count, client_id=OFFICE_CLIENT_ID, client_secret=SECRET)]


@pytest.mark.parametrize("bomb", ["fan_out", "repeated_ods"])
@pytest.mark.parametrize("command", ["validate", "process"])
def test_a_workbook_that_repeats_one_text_in_many_cells_is_refused_in_dutch(bomb: str, command: str, tmp_path: Path,
                                                                          request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(bomb)
    before = path.read_bytes()
    extra = ["-o", str(tmp_path / "uit")] if command == "process" else []
    proc = subprocess.run([*AS_INSTALLED, command, str(path), *extra], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    said = REPEATED.format(name=path.name, mb=BOMB_TEXT[bomb])
    assert proc.stderr.splitlines() == [f"asr-batch: {said}", REPEATED_FIX]
    assert proc.stdout == ""
    assert not (tmp_path / "uit").exists()
    assert path.read_bytes() == before


@pytest.mark.skipif(not ON_LINUX, reason="a process's peak memory is read with getrusage on Linux")
@pytest.mark.parametrize("bomb", ["fan_out", "repeated_ods"])
def test_refusing_a_repeated_text_costs_no_more_memory_than_a_small_workbook(bomb: str, tmp_path: Path,
                                                                          request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(bomb)
    probe = ("import resource, subprocess, sys; "
             "subprocess.run(sys.argv[1:], capture_output=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
    peak = int(subprocess.run([sys.executable, "-c", probe, *AS_INSTALLED, "validate", str(path)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout)
    assert peak < 250, f"refusing {path.name} took {peak} MB"  # reading it took 1.6-1.8 GB, and more rows more


def test_the_page_refuses_a_repeated_text_with_the_clis_dutch_message(client, fan_out: Path,  # noqa: F811
                                                                      repeated_ods: Path) -> None:
    for bomb, mb in ((fan_out, BOMB_TEXT["fan_out"]), (repeated_ods, BOMB_TEXT["repeated_ods"])):
        response = upload(client, bomb)
        assert response.status_code == 400
        text = html.unescape(response.text)
        assert REPEATED.format(name=bomb.name, mb=mb) in text
        assert "Traceback" not in text
    assert states() == {}


def test_a_repeated_text_is_refused_as_register_workbook_too(client, tmp_path: Path) -> None:  # noqa: F811
    """`mark --from` and the register page read a register workbook with calamine as well: here a hidden sheet
    that says it is one, and 12,000 cells in it that point at one string of 32,000 characters."""
    from batch.register_workbook.layout import HIDDEN, MARKER

    marked = write_workbook(tmp_path / "register.xlsx", [], office=None, extra_sheets={HIDDEN: [[MARKER, "2"]]})
    bomb = fan_out_shared_string(marked, tmp_path / "register-waaier.xlsx", rows=1_000,
                                 sheet="xl/worksheets/sheet1.xml")
    said = REPEATED.format(name=bomb.name, mb=BOMB_TEXT["fan_out"])
    said = said.replace("tabblad 'Werkgevers'", f"tabblad '{HIDDEN}'")
    result = run_cli("mark", "--from", bomb)
    assert result.exit_code == 2, result.output
    assert f"asr-batch: {said}" in result.stderr and "Traceback" not in result.output
    response = upload_register_workbook(client, bomb.read_bytes(), bomb.name)
    assert response.status_code == 400
    assert said in html.unescape(response.text)


@pytest.fixture(scope="module")
def full_workbooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """10,000 werkgevers with every column filled, names of some 80 and remarks of some 140 characters
    (benchmarks/workload.py), saved with shared strings as Excel saves, and as LibreOffice writes an .ods."""
    spec = importlib.util.spec_from_file_location("workload", Path(__file__).parents[1] / "benchmarks" / "workload.py")
    assert spec and spec.loader
    workload = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(workload)
    folder = tmp_path_factory.mktemp("vol")
    inline = workload.write_full_workload(folder / "inline.xlsx", FULL_ROWS)
    xlsx = as_shared_strings(inline, folder / "werkgevers.xlsx")
    with zipfile.ZipFile(inline) as archive:  # the same cells, as text, into the .ods
        sheet = archive.read("xl/worksheets/sheet2.xml").decode()
    rows = [[html.unescape(text) for text in re.findall(r"<t>(.*?)</t>", row)]
            for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet)]
    ods = write_ods(folder / "werkgevers.ods", rows[0], rows[1:])
    return xlsx, ods


FULL_ROWS = 10_000


def test_a_full_workbook_is_counted_cell_by_cell_and_read(full_workbooks: tuple[Path, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A tenth of the largest werkgevers list against a tenth of the budget: the zip's directory cannot clear it, so
    every cell is counted, and what it repeats (Ja, Nee, Maandelijks) stays far below."""
    from batch.reader import repeated_text

    monkeypatch.setattr(repeated_text, "MAX_REPEATED_TEXT", repeated_text.MAX_REPEATED_TEXT * FULL_ROWS // 100_000)
    counted: list[int] = []
    shared_text = repeated_text._shared_text
    monkeypatch.setattr(repeated_text, "_shared_text",
                        lambda xml, lengths: counted.append(len(xml)) or shared_text(xml, lengths))
    for path in full_workbooks:
        result = check(path)
        assert result.counts["rows"] == FULL_ROWS and result.counts["invalid"] == 0, path.name
    assert max(counted) > 4 * MB  # the werkgevers sheet of the .xlsx, counted cell by cell


def test_what_a_full_workbook_repeats_is_a_small_part_of_the_budget(full_workbooks: tuple[Path, Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from batch.reader import repeated_text

    xlsx, ods = full_workbooks
    monkeypatch.setattr(repeated_text, "MAX_REPEATED_TEXT", 0)  # no bound from the directory: every cell counted
    with zipfile.ZipFile(xlsx) as archive:
        repeated, held = repeated_text._xlsx_repeated(archive)
    with zipfile.ZipFile(ods) as archive:
        in_ods = repeated_text._Ods(archive.read("content.xml"), 100_000).repeated()
    # At 100,000 werkgevers: 15 MB repeated of 82 MB held, against a budget of 192 MB.
    assert repeated * 100_000 // FULL_ROWS < 20 * MB
    assert held["Werkgevers"] * 100_000 // FULL_ROWS < 90 * MB
    assert sum(in_ods.values()) * 100_000 // FULL_ROWS < 20 * MB


def test_an_ods_value_far_below_any_list_is_refused_naming_its_cell(tmp_path: Path) -> None:
    """Empty rows repeated down to row 300,000 and one value there: calamine would hold every cell up to it (1.9 GB
    for a value in column CV)."""
    far = ('<table:table-row table:number-rows-repeated="299990"><table:table-cell table:number-columns-repeated='
           '"16384"/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="2"/>'
           '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>')
    path = write_ods(tmp_path / "ver.ods", HEADERS, _ods_rows(3), after=far)
    with pytest.raises(UnusableInput) as refused:
        check(path)
    assert refused.value.message == ("Tabblad 'Werkgevers' heeft een waarde in cel C299995, ver buiten een lijst met "
                                     "werkgevers (asr-batch leest hoogstens 100.000 rijen en 104 kolommen).")
    assert refused.value.fix.startswith("Maak cel C299995 leeg")


def test_an_ods_value_far_right_of_any_list_is_refused_naming_its_cell(tmp_path: Path) -> None:
    far = ('<table:table-row><table:table-cell table:number-columns-repeated="500"/><table:table-cell '
           'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    path = write_ods(tmp_path / "breed.ods", HEADERS, _ods_rows(3), after=far)
    with pytest.raises(UnusableInput) as refused:
        check(path)
    assert refused.value.message.startswith("Tabblad 'Werkgevers' heeft een waarde in cel SG5, ver buiten")


def test_an_ods_as_libreoffice_writes_it_is_read(tmp_path: Path) -> None:
    """Every row ends in a run of empty cells repeated, the sheet in empty rows repeated, equal neighbours (Ja, Ja)
    in one cell repeated: none of that is a value far away or much text repeated."""
    rows = _ods_rows(3)
    rows[0][4] = rows[0][7] = "Ja"  # DGA in verloning and 13e maand
    rows[0][5:7] = ["Jan de Vries", "42"]
    rows[1][7] = rows[1][8] = "Ja"  # not a verloning, but two equal neighbours: one cell repeated
    path = write_ods(tmp_path / "werkgevers.ods", HEADERS, rows)
    assert b'table:number-columns-repeated="2"' in zipfile.ZipFile(path).read("content.xml")
    result = check(path)
    assert result.counts["rows"] == 3 and result.counts["valid"] == 2


@pytest.mark.parametrize("spelling", [
    b'<c r="{ref}" t=\'s\'><v>0</v></c>',
    b'<c r="{ref}" t = "s"><v>0</v></c>',
    b'<c r="{ref}" t="s"><f>A1</f><v>0</v></c>',
    b'<x:c r="{ref}" t="s"><x:v>0</x:v></x:c>',
    b'<c r="{ref}" t="s"><v>+000</v></c>',
])
def test_every_spelling_of_a_shared_cell_is_counted(spelling: bytes, workbook: Path, tmp_path: Path) -> None:
    """XML allows a cell of type "s" to be written in more ways than Excel does; each is counted (or, where no
    pattern here reads its index, counted as the longest string)."""
    plain = fan_out_shared_string(workbook, tmp_path / "plain.xlsx", rows=1_000)
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}

    def respell(match: re.Match[bytes]) -> bytes:
        return spelling.replace(b"{ref}", match.group(1))

    sheet, respelled = re.subn(rb'<c r="([A-Z]+[0-9]+)" t="s"><v>0</v></c>', respell, parts["xl/worksheets/sheet2.xml"])
    assert respelled == 12_000
    parts["xl/worksheets/sheet2.xml"] = sheet
    bomb = tmp_path / "anders.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(UnusableInput) as refused:
        check(bomb)
    assert refused.value.message.startswith("De cellen van 'anders.xlsx' herhalen samen 366 MB tekst")


def test_a_process_ended_by_the_system_says_so_in_dutch() -> None:
    """The kernel ends a process that takes too much memory with SIGKILL: exit code -9, not a code to show."""
    with pytest.raises(UnusableInput) as died:
        apart(signal.raise_signal, signal.SIGKILL)
    assert died.value.message == ("De verwerking van de werkmap is onverwacht gestopt: het systeem heeft haar "
                                  "beëindigd (SIGKILL), mogelijk doordat er niet genoeg geheugen vrij was.")
    assert "probeer het opnieuw" in died.value.fix
