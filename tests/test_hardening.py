"""Issue 5, hardening: hostile and broken input, resource limits, safe output, secrets, interrupted runs.

Organised by the numbered items of the issue. Every test builds its real broken or hostile file in tmp_path.
What test_cli.py and test_process.py already pin (in-process, one defect each) is not repeated; here the same
contract is held against the real console entry (`python -m batch.cli`, a subprocess with a timeout, so a hang
or a crash of the interpreter fails the test instead of the suite) and against files made to hurt.

1. Unusable input: exit 2, a Dutch message with "Oplossing:", never a traceback, never a hang.
2. Resource limits before parsing; no XML entity is expanded or fetched; the row cap; a sheet whose used
   range runs to row 1,048,576.
3. Output that cannot be turned against its reader: escaping in office templates, plain text (never a
   formula) in the xlsx asr-batch composes, Windows-safe file names, nothing written outside DIR.
4. Secrets: the one redaction point also covers --debug tracebacks (from a worker process too); owner-only files.
5. Ctrl-C and SIGTERM: exit 130 / 143 with one line, the last complete output folder intact, nothing left over.
6. Hypothesis: whole workbooks from a nasty alphabet never make `check` raise, keep the counts invariant and
   never put the secret in a public rendering. (tests/fuzz/fuzz_reader.py is the atheris harness, run by hand.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result as CliResult
from conftest import (
    DEFAULT_OFFICE,
    HEADERS,
    OFFICE_LABELS,
    SECRET,
    WorkbookBuilder,
    by_header,
    numbered_rows,
    run_cli,
    store_as_text,
    valid_row,
    write_workbook,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

import batch.limits
import batch.output
import batch.reader
from batch.annotate import ISSUES_SHEET, write_text
from batch.errors import UnusableInput
from batch.fields import FIELDS, SHEET_WERKGEVERS
from batch.model import Result, RowResult
from batch.pipeline import Options, check
from batch.pipeline import process as write_output
from batch.redact import MASK
from batch.render import document_basename
from batch.summary import format_summary
from batch.values import clean_text

POSIX = sys.platform != "win32"
# What the `asr-batch` console script runs. Not `python -m batch.cli`: under -m, CPython (3.11, 3.12) ends
# with SIGINT instead of the exit code when a KeyboardInterrupt once passed through code run by exec() of a
# string (as in dataclass and namedtuple creation), even when it was caught (`unhandled_keyboard_interrupt`).
AS_INSTALLED = [sys.executable, "-c", "from batch.cli import run; run()"]
IS_ROOT = POSIX and hasattr(os, "geteuid") and os.geteuid() == 0
HTML_ONLY = ("--format", "html")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DOC_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.(?:html|pdf)$")
WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(10))}


# --- helpers ------------------------------------------------------------------------------------------------


def asr_batch(*args: object, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real console entry in a fresh interpreter. A hang fails the test by its timeout."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"}
    return subprocess.run(
        [*AS_INSTALLED, *(str(a) for a in args)],
        capture_output=True, text=True, encoding="utf-8", timeout=timeout, cwd=cwd, env=env,
    )


def assert_refused(proc: subprocess.CompletedProcess[str] | CliResult, *needles: str,
                   absent: Sequence[str] = ()) -> None:
    """Exit 2 with a real diagnosis: a Dutch message and its fix on stderr, no traceback, no catch-all."""
    code = proc.returncode if isinstance(proc, subprocess.CompletedProcess) else proc.exit_code
    assert code == 2, f"exit {code}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "onverwachte fout" not in proc.stderr, proc.stderr  # the catch-all is no diagnosis
    assert proc.stderr.startswith("asr-batch: "), proc.stderr
    assert "Oplossing: " in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in {proc.stderr!r}"
    for needle in absent:
        assert needle not in proc.stderr, f"{needle!r} in {proc.stderr!r}"


def workbook(path: Path, count: int = 3, **options: object) -> Path:
    return write_workbook(path, numbered_rows(count), **options)  # type: ignore[arg-type]


def rezip(source: Path, dest: Path, changes: Mapping[str, Callable[[bytes], bytes]] | None = None, *,
          extra: Mapping[str, bytes] | None = None, stored: bool = False) -> Path:
    """Copy a workbook entry by entry, changing some entries' bytes and adding others."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w", method) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if changes and info.filename in changes:
                data = changes[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dest


def entry_data_span(data: bytes, name: str) -> tuple[int, int]:
    """Where the (compressed) bytes of one zip entry lie in the file."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    offset = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[offset + 26:offset + 30])
    start = offset + 30 + name_length + extra_length
    return start, start + info.compress_size


def patch_central_directory(data: bytes, name: str, *, uncompressed_size: int) -> bytes:
    """Make the central directory declare another uncompressed size for one entry (nothing is inflated)."""
    buffer = bytearray(data)
    position = buffer.find(b"PK\x01\x02")
    found = False
    while position >= 0:
        length = struct.unpack("<H", buffer[position + 28:position + 30])[0]
        if bytes(buffer[position + 46:position + 46 + length]) == name.encode():
            buffer[position + 24:position + 28] = struct.pack("<I", uncompressed_size)
            found = True
        position = buffer.find(b"PK\x01\x02", position + 4)
    assert found, name
    return bytes(buffer)


def ole_file(path: Path, streams: Sequence[str]) -> Path:
    """A small but well-formed Compound File (OLE2 v3): header, one FAT sector, one directory sector with
    the root entry and the named (empty) streams. Excel 97-2003 workbooks (.xls) and password-protected
    .xlsx files are both such containers; only their stream names tell them apart."""
    free, end, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    assert len(streams) <= 3
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", OLE_MAGIC, bytes(16), 0x3E, 3, 0xFFFE, 9, 6, bytes(6),
                         0, 1, 1, 0, 0x1000, end, 0, end, 0)
    header += struct.pack("<109I", 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, right: int = no_stream, child: int = no_stream) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, no_stream, right, child,
                           bytes(16), 0, 0, 0, end, 0)

    ordered = sorted(streams, key=lambda n: (len(n), n.upper()))  # the order a CFB directory tree needs
    entries = [entry("Root Entry", 5, child=1 if ordered else no_stream)]
    for index, name in enumerate(ordered, start=1):
        kind = 1 if name.startswith("\x06") else 2  # \x06DataSpaces is a storage
        entries.append(entry(name, kind, right=index + 1 if index < len(ordered) else no_stream))
    unused = struct.pack("<64sHBBIII16sIQQIQ", bytes(64), 0, 0, 0, no_stream, no_stream, no_stream,
                         bytes(16), 0, 0, 0, 0, 0)
    directory = b"".join(entries) + unused * (4 - len(entries))
    assert len(header) == len(fat) == len(directory) == 512
    path.write_bytes(header + fat + directory)
    return path


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) below `folder`, by relative path."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.endswith((".bezig", ".vorige")))


def column_of(key: str) -> str:
    return get_column_letter([f.key for f in FIELDS].index(key) + 1)


def resultaat(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))
    return data


# === 1. every unusable input ends in exit 2 with a Dutch message that names the fix ========================


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "bestaat-niet.xlsx"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "werkgevers.xlsx"
    folder.mkdir()
    return folder


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "werkgevers.xlsx"
    path.write_bytes(b"")
    return path


def _cut(fraction: float) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        data = workbook(tmp_path / "heel.xlsx").read_bytes()
        path = tmp_path / "afgebroken.xlsx"
        path.write_bytes(data[: int(len(data) * fraction)])
        return path
    return build


def _without_end_record(tmp_path: Path) -> Path:
    data = workbook(tmp_path / "heel.xlsx").read_bytes()
    path = tmp_path / "afgebroken.xlsx"
    path.write_bytes(data[:-10])  # the end-of-central-directory record is cut
    return path


def _garbage_in(entry: str) -> Callable[[Path], Path]:
    """16 random bytes in the middle of one entry's compressed data; the zip directory stays intact."""
    def build(tmp_path: Path) -> Path:
        data = bytearray(workbook(tmp_path / "heel.xlsx").read_bytes())
        start, end = entry_data_span(bytes(data), entry)
        middle, rnd = (start + end) // 2, random.Random(entry)
        for i in range(max(start, middle - 8), min(end, middle + 8)):
            data[i] = rnd.randrange(256)
        path = tmp_path / "beschadigd.xlsx"
        path.write_bytes(bytes(data))
        return path
    return build


def _bit_rot_in_workbook_xml(tmp_path: Path) -> Path:
    """A stored (uncompressed) workbook with one digit changed in xl/workbook.xml: the XML is still
    well-formed, only the CRC-32 no longer matches (what a bad sector or a broken download does)."""
    stored = rezip(workbook(tmp_path / "heel.xlsx"), tmp_path / "stored.xlsx", stored=True)
    data = stored.read_bytes()
    assert data.count(b'calcId="124519"') == 1
    path = tmp_path / "bitrot.xlsx"
    path.write_bytes(data.replace(b'calcId="124519"', b'calcId="124518"'))
    return path


def _zip_without_workbook(tmp_path: Path) -> Path:
    path = tmp_path / "werkgevers.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hallo, dit is geen werkmap")
    return path


def _legacy_xls(tmp_path: Path) -> Path:
    return ole_file(tmp_path / "werkgevers.xls",
                    ["Workbook", "\x05SummaryInformation", "\x05DocumentSummaryInformation"])


def _encrypted_xlsx(tmp_path: Path) -> Path:
    return ole_file(tmp_path / "werkgevers.xlsx", ["\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"])


def _csv_renamed(tmp_path: Path) -> Path:
    path = tmp_path / "werkgevers.xlsx"
    path.write_bytes("\ufeffWerkgeverscode,Naam werkgever,DGA in verloning\r\n1001,Bakkerij,Nee\r\n".encode())
    return path


def _lock_file(tmp_path: Path) -> Path:
    workbook(tmp_path / "werkgevers.xlsx")
    lock = tmp_path / "~$werkgevers.xlsx"
    lock.write_bytes(b"\x0bTessa Tester" + bytes(150))
    return lock


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "werkgevers.xlsx"
    os.mkfifo(path)
    return path


UNUSABLE: dict[str, tuple[Callable[[Path], Path], tuple[str, ...], tuple[str, ...]]] = {
    # id: (builder, words the message must hold, words it must not hold)
    "missing-path": (_missing, ("bestaat niet",), ()),
    "folder": (_folder, ("map",), ()),
    "empty-file": (_empty, ("leeg",), ()),
    "zip-cut-in-half": (_cut(0.5), ("afgebroken.xlsx",), ()),
    "zip-first-100-bytes": (_cut(100 / 6000), ("afgebroken.xlsx",), ()),
    "zip-without-end-record": (_without_end_record, ("afgebroken.xlsx",), ()),
    "garbage-in-workbook.xml": (_garbage_in("xl/workbook.xml"), ("beschadigd.xlsx",), ()),
    "garbage-in-workbook.xml.rels": (_garbage_in("xl/_rels/workbook.xml.rels"), ("beschadigd.xlsx",), ()),
    "garbage-in-employer-sheet": (_garbage_in("xl/worksheets/sheet2.xml"), ("beschadigd.xlsx",), ()),
    "garbage-in-office-sheet": (_garbage_in("xl/worksheets/sheet1.xml"), ("beschadigd.xlsx",), ()),
    "garbage-in-styles": (_garbage_in("xl/styles.xml"), ("beschadigd.xlsx",), ()),
    "bad-crc-in-workbook.xml": (_bit_rot_in_workbook_xml, ("bitrot.xlsx",), ()),
    "zip-with-only-hello.txt": (_zip_without_workbook, ("werkgevers.xlsx",), ()),
    "legacy-xls": (_legacy_xls, (".xls", "Excel 97-2003", ".xlsx"), ("wachtwoord",)),
    "password-protected-xlsx": (_encrypted_xlsx, ("wachtwoord", ".xlsx"), ("Excel 97-2003",)),
    "csv-renamed-xlsx": (_csv_renamed, ("CSV", ".xlsx"), ()),
    "excel-lock-file": (_lock_file, ("~$", "werkgevers.xlsx"), ()),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_unusable_input_exits_2_through_the_console_entry(tmp_path: Path, case: str) -> None:
    build, needles, absent = UNUSABLE[case]
    proc = asr_batch("validate", build(tmp_path))
    assert_refused(proc, *needles, absent=absent)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_exits_2_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = asr_batch("validate", _fifo(tmp_path), timeout=30)
    assert_refused(proc, "geen gewoon bestand")
    assert time.monotonic() - started < 20


@pytest.mark.skipif(not POSIX or IS_ROOT, reason="file modes; root reads every file")
def test_file_without_read_permission_exits_2(tmp_path: Path) -> None:
    path = workbook(tmp_path / "werkgevers.xlsx")
    path.chmod(0)
    try:
        assert_refused(asr_batch("validate", path), "kan niet worden gelezen", "leesrechten")
    finally:
        path.chmod(0o600)


def test_read_permission_error_is_unusable_input_in_dutch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above where tests run as root: the OS refuses the read."""
    path = workbook(tmp_path / "werkgevers.xlsx")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(UnusableInput) as caught:
        check(path)
    assert "kan niet worden gelezen" in caught.value.message
    assert "leesrechten" in caught.value.fix
    assert_refused(run_cli("validate", path), "kan niet worden gelezen", "leesrechten")


def test_oversized_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "werkgevers.xlsx"
    with path.open("wb") as handle:  # sparse: costs no disk space
        handle.write(b"PK\x03\x04")
        handle.truncate(batch.reader.MAX_FILE_BYTES + 1)

    def never(self: Path) -> bytes:
        raise AssertionError("an oversized file must not be read into memory")

    monkeypatch.setattr(Path, "read_bytes", never)
    assert_refused(run_cli("validate", path), f"{batch.reader.MAX_FILE_BYTES // (1024 * 1024)} MB")


VALID_NAMES = [
    "werkgevers lijst.xlsx",
    "Wérkgevers – Łódź 2024 ✓.xlsx",
    "werkgevers.xlsx ",  # a trailing space after the extension
    "map met spatie /werkgevers.xlsx",  # a folder name ending in a space
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_odd_but_valid_path_works(tmp_path: Path, name: str) -> None:
    if not POSIX and name.rstrip("/").split("/")[0].endswith(" "):
        pytest.skip("Windows strips trailing spaces from names")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook(path, count=2)
    proc = asr_batch("validate", path)
    assert proc.returncode == 0, proc.stderr
    assert "2 rijen: 2 geldig" in proc.stdout
    assert proc.stderr == ""


# === 2. resource limits before parsing ======================================================================


def test_more_zip_entries_than_the_limit_is_refused_naming_the_limit(tmp_path: Path) -> None:
    source = workbook(tmp_path / "heel.xlsx")
    extra = {f"xl/media/image{n}.png": b"\x89PNG" for n in range(batch.limits.MAX_ENTRIES)}
    path = rezip(source, tmp_path / "veel-onderdelen.xlsx", extra=extra)
    assert_refused(run_cli("validate", path), f"grens: {batch.limits.MAX_ENTRIES}")


def test_declared_uncompressed_size_beyond_the_limit_is_refused_without_inflating(tmp_path: Path) -> None:
    data = workbook(tmp_path / "heel.xlsx").read_bytes()
    path = tmp_path / "liegt.xlsx"
    path.write_bytes(patch_central_directory(data, "docProps/app.xml", uncompressed_size=0xFFFF_FFF0))
    limit_mb = batch.limits.MAX_UNCOMPRESSED // (1024 * 1024)
    assert_refused(run_cli("validate", path), f"de grens is {limit_mb} MB")


def test_total_uncompressed_size_beyond_a_lowered_limit_names_that_limit(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch.limits, "MAX_UNCOMPRESSED", 1024 * 1024)
    picture = random.Random(5).randbytes(2 * 1024 * 1024)  # incompressible
    path = rezip(workbook(tmp_path / "heel.xlsx"), tmp_path / "groot.xlsx", extra={"xl/media/foto.png": picture})
    assert_refused(run_cli("validate", path), "de grens is 1 MB")


def test_entry_that_inflates_like_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    # 17 MiB of zeros deflate about 1028:1: above RATIO_FLOOR and MAX_RATIO, and still a 20 KB file.
    zeros = bytes(batch.limits.RATIO_FLOOR + 1024 * 1024)
    path = rezip(workbook(tmp_path / "heel.xlsx"), tmp_path / "bom.xlsx", extra={"xl/media/leeg.bin": zeros})
    assert path.stat().st_size < 100_000
    assert_refused(run_cli("validate", path), f"meer dan {batch.limits.MAX_RATIO} keer", "xl/media/leeg.bin")


def test_entry_that_inflates_beyond_its_declared_size_is_not_trusted(tmp_path: Path) -> None:
    """The central directory says 2 KB, the deflate stream holds 20 MB: the reader must not follow the stream."""
    source = workbook(tmp_path / "heel.xlsx")
    with zipfile.ZipFile(source) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml")
    padded = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 * 1024 * 1024), 1)
    big = rezip(source, tmp_path / "groot.xlsx", {"xl/worksheets/sheet2.xml": lambda _: padded}).read_bytes()
    # Declare the original size in both headers, so the limits see a small, ordinary entry.
    with zipfile.ZipFile(io.BytesIO(big)) as archive:
        offset = archive.getinfo("xl/worksheets/sheet2.xml").header_offset
    lying = bytearray(patch_central_directory(big, "xl/worksheets/sheet2.xml", uncompressed_size=len(sheet)))
    lying[offset + 22:offset + 26] = struct.pack("<I", len(sheet))
    path = tmp_path / "liegt.xlsx"
    path.write_bytes(bytes(lying))
    started = time.monotonic()
    proc = asr_batch("validate", path)
    assert time.monotonic() - started < 30
    assert_refused(proc, "liegt.xlsx")


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]>")
XXE = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _with_doctype(doctype: bytes, old: bytes = b"", new: bytes = b"") -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        xml = xml.replace(b"?>", b"?>" + doctype, 1) if xml.startswith(b"<?xml") else doctype + xml
        if old:
            assert old in xml
            xml = xml.replace(old, new, 1)
        return xml
    return change


ENTITY_CASES: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "billion-laughs-in-employer-sheet": ("xl/worksheets/sheet2.xml", _with_doctype(LAUGHS, b"Werkgever 1001",
                                                                                    b"&lol9;")),
    "xxe-in-employer-sheet": ("xl/worksheets/sheet2.xml", _with_doctype(XXE, b"Werkgever 1001", b"&e;")),
    "billion-laughs-in-office-sheet": ("xl/worksheets/sheet1.xml", _with_doctype(LAUGHS, b"Salarisbureau Testmans",
                                                                                  b"&lol9;")),
    "xxe-in-sheet-name": ("xl/workbook.xml", _with_doctype(XXE, b'name="Werkgevers"', b'name="&e;"')),
    "xxe-declared-in-workbook.xml": ("xl/workbook.xml", _with_doctype(XXE)),
    "billion-laughs-declared-in-workbook.xml": ("xl/workbook.xml", _with_doctype(LAUGHS)),
    "billion-laughs-in-workbook-rels": ("xl/_rels/workbook.xml.rels", _with_doctype(LAUGHS)),
    "billion-laughs-in-content-types": ("[Content_Types].xml", _with_doctype(LAUGHS)),
    "xxe-in-styles": ("xl/styles.xml", _with_doctype(XXE)),
}


@pytest.mark.parametrize("case", list(ENTITY_CASES))
def test_xml_entities_are_never_expanded_or_fetched(tmp_path: Path, case: str) -> None:
    entry, change = ENTITY_CASES[case]
    path = rezip(workbook(tmp_path / "heel.xlsx"), tmp_path / "entiteiten.xlsx", {entry: change})
    started = time.monotonic()
    proc = asr_batch("validate", "--json", path, timeout=60)
    assert time.monotonic() - started < 30
    assert "Traceback" not in proc.stderr
    assert "root:" not in proc.stdout + proc.stderr
    assert "lollol" not in proc.stdout + proc.stderr
    if proc.returncode == 2:
        assert_refused(proc)  # refused: then as a diagnosis, not as a crash
    else:
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["counts"]["valid"] == 3


def test_entities_in_a_sheet_only_the_annotated_copy_reads_are_not_expanded(tmp_path: Path) -> None:
    """foutenrapport.xlsx is made with openpyxl, which reads every sheet, also those the reader skipped."""
    rows = [valid_row(), valid_row(werkgeverscode="WG-1")]  # one invalid row: there is an annotated copy
    source = write_workbook(tmp_path / "bron.xlsx", rows, extra_sheets={"Notities": [["hallo"]]})
    changes = {"xl/worksheets/sheet1.xml": _with_doctype(XXE, b"hallo", b"&e;")}
    path = rezip(source, tmp_path / "entiteiten.xlsx", changes)
    out = tmp_path / "uit"
    proc = asr_batch("process", path, "-o", out, *HTML_ONLY, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert (out / "foutenrapport.xlsx").exists()
    for file in out.rglob("*"):
        if file.is_file():
            assert b"root:" not in file.read_bytes(), file.name


def test_row_cap_refuses_more_employers_and_says_to_split(make_workbook: WorkbookBuilder,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch.reader, "MAX_ROWS", 50)
    path = make_workbook(numbered_rows(60))
    assert_refused(run_cli("validate", path), "60 rijen", "hoogstens 50", "Splits")
    with pytest.raises(UnusableInput, match="hoogstens 50"):
        check(path)


def test_real_row_cap_is_far_above_any_office() -> None:
    assert batch.reader.MAX_ROWS >= 100_000


def _stretched(path: Path, how: str) -> Path:
    """A workbook whose employer sheet runs to the last row Excel has, by formatting or by a stray value."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET_WERKGEVERS]
    if how == "fill":
        for column in range(1, len(HEADERS) + 1):
            ws.cell(row=1_048_576, column=column).fill = PatternFill("solid", start_color="FFFFFF00")
        ws.row_dimensions[1_048_576].height = 30
    wb.save(path)
    if how == "empty-string":  # openpyxl drops "", so write the cell Excel writes for an emptied text cell
        cell = b'<row r="1048576"><c r="L1048576" t="inlineStr"><is><t></t></is></c></row>'
    elif how == "space-in-last-cell":  # someone typed a space in XFD1048576 (Ctrl+End, then a space)
        cell = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is></c></row>'
    else:
        return path
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml")
    stretched = sheet.replace(b"</sheetData>", cell + b"</sheetData>", 1)
    return rezip(path, path.with_name(f"{how}.xlsx"), {"xl/worksheets/sheet2.xml": lambda _: stretched})


@pytest.mark.parametrize("how", ["fill", "empty-string", "space-in-last-cell"])
def test_sheet_used_to_row_1048576_is_read_quickly_and_counts_only_real_rows(tmp_path: Path, how: str) -> None:
    path = _stretched(workbook(tmp_path / "werkgevers.xlsx", count=3), how)
    started = time.monotonic()
    proc = asr_batch("validate", "--json", path, timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[:600]}"
    counts = json.loads(proc.stdout)["counts"]
    assert (counts["rows"], counts["valid"], counts["skipped"]) == (3, 3, 0)
    assert elapsed < 10, f"{elapsed:.1f} s"


@pytest.mark.parametrize("cell", ["XFD1048576", "DA5", "A200000", "AAA1"])
def test_a_value_far_outside_any_list_of_werkgevers_names_its_cell(tmp_path: Path, cell: str) -> None:
    """calamine would hold every cell up to it in memory: the file is refused, and the message says which cell."""
    path = workbook(tmp_path / "werkgevers.xlsx", count=3)
    row = "".join(ch for ch in cell if ch.isdigit())
    far = f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml")
    stretched = rezip(path, path.with_name("ver.xlsx"),
                      {"xl/worksheets/sheet2.xml": lambda _: sheet.replace(b"</sheetData>", far + b"</sheetData>", 1)})
    proc = asr_batch("validate", stretched, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"heeft een waarde in cel {cell}, ver buiten een lijst met werkgevers" in proc.stderr
    assert f"Maak cel {cell} leeg" in proc.stderr


def test_used_range_to_row_1048576_does_not_trip_the_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch.reader, "MAX_ROWS", 50)
    path = _stretched(workbook(tmp_path / "werkgevers.xlsx", count=40), "empty-string")
    result = check(path)
    assert result.counts["rows"] == 40 and result.counts["valid"] == 40


def test_rows_made_only_of_formulas_without_a_saved_value_are_not_lost(make_workbook: WorkbookBuilder) -> None:
    """A workbook filled by a script (openpyxl, pandas) that writes formulas but no results: every such cell
    is an error at that cell, and no row disappears from the counts."""
    rows = [*numbered_rows(2), {"werkgeverscode": "=Bron!A4", "naam": "=Bron!B4"}]
    result = check(make_workbook(rows))
    assert result.counts["rows"] == 3, result.counts
    assert result.counts["invalid"] == 1
    only_formulas = [{key: f"=Bron!{get_column_letter(i + 1)}2"
                      for i, key in enumerate(["werkgeverscode", "naam", "dga", "dertiende_maand", "verloning"])}]
    result = check(make_workbook(only_formulas, name="alleen-formules.xlsx"))
    assert result.counts["rows"] == 1, result.counts
    assert {i.code for i in result.rows[0].issues} == {"formule_zonder_waarde"}


# === 3. output that cannot be turned against its reader =====================================================

ATTRIBUTE_BREAKOUT = '"><script>alert(1)</script><b title=\'x'


def office_templates(tmp_path: Path, files: Mapping[str, str]) -> Path:
    folder = tmp_path / "sjablonen"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_office_templates_escape_text_in_elements_and_attributes(make_workbook: WorkbookBuilder,
                                                                 tmp_path: Path) -> None:
    templates = office_templates(tmp_path, {
        "aanmelding.html": '<p title="{{ werkgever.naam }}" data-x=\'{{ werkgever.opmerkingen }}\'>'
                           "{{ werkgever.naam }} {{ titel }}</p>\n",
        "overzicht.html": '{% for r in rijen %}<p data-naam="{{ r.naam }}">{{ r.naam }}</p>{% endfor %}\n',
    })
    rows = [valid_row(naam=ATTRIBUTE_BREAKOUT, opmerkingen="' onmouseover='alert(2)")]
    out = tmp_path / "uit"
    result = run_cli("process", make_workbook(rows), "-o", out, *HTML_ONLY, "--templates", templates)
    assert result.exit_code == 0, result.output
    (document,) = (out / "aanmeldingen").glob("*.html")
    for path in (document, out / "overzicht.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>" not in text and "'x" not in text, path.name
        assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text, path.name
    assert "' onmouseover" not in document.read_text(encoding="utf-8")
    assert "&#39; onmouseover=&#39;alert(2)" in document.read_text(encoding="utf-8")


@pytest.mark.parametrize("template", [
    "{{ werkgever.__class__.__mro__ }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    '{% include "/etc/passwd" %}',
    '{% include "../../../../../../etc/passwd" %}',
])
def test_office_template_cannot_escape_its_sandbox(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                   template: str) -> None:
    out = tmp_path / "uit"
    templates = office_templates(tmp_path, {"aanmelding.html": f"<p>{template}</p>\n"})
    result = run_cli("process", make_workbook([valid_row()]), "-o", out, *HTML_ONLY, "--templates", templates)
    assert_refused(result, "aanmelding.html")
    assert "root:" not in result.output
    assert not out.exists()


def _hostile_fouten_workbook(make_workbook: WorkbookBuilder) -> tuple[Path, list[str]]:
    """Unknown headers and werkgeverscodes that start with = + - @ tab CR, typed as text, so every one
    of them reaches the Fouten sheet (as column name, and quoted in a message)."""
    texts = ['=HYPERLINK("http://evil","klik")', "+31 6 1234", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
    headers = [*HEADERS, *(f"{t} kop" for t in texts)]
    rows = [by_header(valid_row(werkgeverscode=str(2000 + i), naam=t, opmerkingen=t)) for i, t in enumerate(texts)]
    path = make_workbook(rows, headers=headers)
    cells = {f"{get_column_letter(len(HEADERS) + 1 + i)}1": f"{t} kop" for i, t in enumerate(texts)}
    for i, t in enumerate(texts):
        row = 2 + i
        cells |= {f"{column_of('werkgeverscode')}{row}": t, f"{column_of('naam')}{row}": t,
                  f"{column_of('opmerkingen')}{row}": t}
    store_as_text(path, cells)
    return path, texts


def test_fouten_sheet_writes_every_formula_like_text_as_quoted_text(make_workbook: WorkbookBuilder,
                                                                     tmp_path: Path) -> None:
    source, texts = _hostile_fouten_workbook(make_workbook)
    out = tmp_path / "uit"
    result = run_cli("process", source, "-o", out, *HTML_ONLY)
    assert result.exit_code == 1, result.output
    fouten = openpyxl.load_workbook(out / "foutenrapport.xlsx")[ISSUES_SHEET]
    written = [c for row in fouten.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in written if c.data_type == "f"] == []
    risky = [c for c in written if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)]
    assert risky, "the hostile headers must be listed on the Fouten sheet"
    assert [c.coordinate for c in risky if not c.quotePrefix] == []
    values = [c.value for c in written if isinstance(c.value, str)]
    for text in texts:
        assert clean_text(f"{text} kop") in values, text  # the header, round-tripped as the text it was
        assert any(f"'{clean_text(text)}'" in v for v in values), text  # the code, quoted in its message
    with zipfile.ZipFile(out / "foutenrapport.xlsx") as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        fouten_xml = archive.read(sheets[-1])
    assert b"<f>" not in fouten_xml and b"<f " not in fouten_xml


def test_annotated_copy_keeps_the_offices_typed_text_as_text(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    source, texts = _hostile_fouten_workbook(make_workbook)
    out = tmp_path / "uit"
    assert run_cli("process", source, "-o", out, *HTML_ONLY).exit_code == 1
    copy = openpyxl.load_workbook(out / "foutenrapport.xlsx")[SHEET_WERKGEVERS]
    for i, text in enumerate(texts):
        cell = copy[f"{column_of('naam')}{2 + i}"]
        assert cell.data_type == "s" and cell.value == openpyxl.load_workbook(source)[SHEET_WERKGEVERS][
            cell.coordinate].value
        assert cell.quotePrefix, f"{cell.coordinate} lost its apostrophe: {text!r}"


@pytest.mark.parametrize("text", [
    "=1+1", '=HYPERLINK("http://evil","x")', "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1",
    "=cmd|' /C calc'!A0", "-", "=", "gewone tekst",
])
def test_write_text_stores_plain_text_that_round_trips(tmp_path: Path, text: str) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    write_text(ws["A1"], text)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml
    cell = openpyxl.load_workbook(path).active["A1"]  # type: ignore[index]
    assert cell.data_type == "s"
    # XML turns a bare CR into LF when it is read back (openpyxl writes it unescaped; Excel writes _x000D_).
    assert cell.value == text.replace("\r", "\n")
    assert bool(cell.quotePrefix) == text.startswith((*FORMULA_STARTS, "\n"))


HOSTILE_FILE_NAMES = [
    "CON", "prn", "Aux", "NUL.txt", "COM1", "LPT9", "com¹", 'a:b*c?"<>|d', "eind met punten...",
    "eind met spaties   ", "x" * 500, "é" * 300, "../../x", "/etc/passwd", "..\\..\\x", "C:\\Windows\\x",
    "\\\\server\\share\\x", "~/.bashrc", ".", "..", "\u202egnp.exe", "😀😀😀",
]


def test_document_file_names_are_safe_on_windows_too(make_workbook: WorkbookBuilder, tmp_path: Path) -> None:
    rows = [valid_row(werkgeverscode=str(3001 + i), naam=n) for i, n in enumerate(HOSTILE_FILE_NAMES)]
    source = make_workbook(rows)
    out = tmp_path / "a" / "b" / "uit"
    before = tree(tmp_path)
    result = run_cli("process", source, "-o", out, *HTML_ONLY)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "aanmeldingen").iterdir())
    assert len(names) == len(HOSTILE_FILE_NAMES)
    for name in names:
        assert DOC_NAME.match(name), name
        assert len(name) <= 100, name
        assert name.split(".")[0] not in WINDOWS_DEVICES, name
    # nothing written outside DIR: the whole tree outside it is exactly as it was
    after = {k: v for k, v in tree(tmp_path).items() if not (k == "a/b/uit" or k.startswith("a/b/uit/"))}
    assert after == {**before, "a": None, "a/b": None}
    for path in out.rglob("*"):
        assert not path.is_symlink()
        assert out.resolve() in path.resolve().parents


@given(code=st.from_regex(r"[0-9]{1,20}", fullmatch=True), naam=st.one_of(st.none(), st.text(max_size=400)))
@settings(max_examples=200, deadline=None)
def test_document_basename_is_windows_safe_for_any_name(code: str, naam: str | None) -> None:
    row = RowResult(row=2, status="valid", werkgeverscode=code, record={"naam": naam, "werkgeverscode": code})
    base = document_basename(row)
    for name in (f"{base}.html", f"{base}.pdf"):
        assert DOC_NAME.match(name), name
        assert len(name) <= 100
        assert name.split(".")[0] not in WINDOWS_DEVICES
        assert not name.endswith((" ", "."))


@pytest.mark.parametrize("digits", [40, 1000])
def test_long_werkgeverscodes_never_share_a_document(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                     digits: int) -> None:
    """Two valid employers whose long codes differ only after the 40th (or 1000th) digit: two documents, not
    one overwritten by the other."""
    first, second = "1" * digits + "1", "1" * digits + "2"
    out = tmp_path / "uit"
    result = run_cli("process", make_workbook([valid_row(werkgeverscode=first), valid_row(werkgeverscode=second)]),
                     "-o", out, *HTML_ONLY)
    assert result.exit_code == 0, result.output
    documents = [d for row in resultaat(out)["rows"] for d in row["documents"]]  # type: ignore[attr-defined]
    assert len(set(documents)) == 2, documents
    assert len(list((out / "aanmeldingen").iterdir())) == 2
    assert all(len(Path(d).name) <= 255 for d in documents)


# === 4. secrets =============================================================================================


def _crash_after_reading(message: str) -> Callable[..., Result]:
    """A failure deep in the core, after the reader has seen (and remembered) the secrets."""
    def validate_table(table: object, *, strict: bool = False) -> Result:
        error = RuntimeError(message)
        error.add_note(f"note with {SECRET}")
        raise error from KeyError(SECRET)
    return validate_table


def test_debug_traceback_from_deep_in_the_core_is_redacted(make_workbook: WorkbookBuilder,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batch.validate.validate_table", _crash_after_reading(f"boom {SECRET}"))
    path = make_workbook([valid_row(client_id="eigen-client", client_secret=SECRET)])
    debug = run_cli("--debug", "validate", path)
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr and "RuntimeError" in debug.stderr and "KeyError" in debug.stderr
    assert f"boom {MASK}" in debug.stderr and f"note with {MASK}" in debug.stderr
    assert SECRET not in debug.output
    plain = run_cli("validate", path)
    assert plain.exit_code == 2
    assert "Traceback" not in plain.output and SECRET not in plain.output
    assert "--debug" in plain.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the HTML worker pool forks (and so inherits the "
                                                                    "monkeypatch) on Linux only")
def test_debug_traceback_from_a_worker_process_is_redacted(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import batch.render

    real = batch.render.render_document

    def render_fails(env: object, row: RowResult, result: object, **options: object) -> str:
        if row.record["client_secret"] != SECRET:  # the made-up document of the check up front
            return real(env, row, result, **options)  # type: ignore[arg-type]
        raise RuntimeError(f"worker boom {SECRET}")  # the failure quotes the secret the document carries

    monkeypatch.setattr("batch.render.render_document", render_fails)
    monkeypatch.setattr("batch.documents.POOL_MIN_HTML", 8)  # a pool for 16 rows
    rows = numbered_rows(16, client_id="eigen-client", client_secret=SECRET)
    out = tmp_path / "uit"
    result = run_cli("--debug", "process", make_workbook(rows), "-o", out, "--format", "html", "-j", "2")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and f"worker boom {MASK}" in result.stderr
    assert "concurrent.futures.process._RemoteTraceback" in result.stderr  # it did come from a worker
    assert SECRET not in result.output
    assert not out.exists() and leftovers(tmp_path) == []


SPICY_SECRET = 'Sp1cy "<&>" Secret-Never-Shown-4411'  # a space, quotes and HTML/JSON special characters


def test_secret_with_a_space_and_markup_characters_is_in_no_public_output(make_workbook: WorkbookBuilder,
                                                                          tmp_path: Path) -> None:
    rows = [valid_row(werkgeverscode="1001", client_id="eigen-client", client_secret=SPICY_SECRET),
            valid_row(werkgeverscode="1002", client_id="eigen-client", client_secret=SECRET)]  # conflict too
    path = make_workbook(rows)
    out = tmp_path / "uit"
    outputs = {"validate": run_cli("validate", path), "validate --json": run_cli("validate", "--json", path),
               "process": run_cli("process", path, "-o", out, *HTML_ONLY)}
    assert {name: r.exit_code for name, r in outputs.items()} == {n: 1 for n in outputs}
    issues = [i for row in resultaat(out)["rows"] for i in row["issues"]]  # type: ignore[attr-defined]
    assert any(i["field"] == "client_secret" and i["code"] == "spatie" for i in issues)
    texts = {f"{name} {stream}": getattr(r, stream) for name, r in outputs.items() for stream in ("stdout", "stderr")}
    texts |= {name: (out / name).read_text(encoding="utf-8")
              for name in ("resultaat.json", "overzicht.html", "foutenrapport.html")}
    fouten = openpyxl.load_workbook(out / "foutenrapport.xlsx")[ISSUES_SHEET]
    texts["Fouten sheet"] = "\n".join(str(c.value) for row in fouten.iter_rows() for c in row)
    for where, text in texts.items():
        for part in ("Secret-Never-Shown-4411", "Sp1cy", SECRET):  # any piece, in any escaping
            assert part not in text, f"{part!r} in {where}"


@pytest.mark.skipif(not POSIX, reason="POSIX file modes")
def test_files_holding_a_secret_are_owner_only_whatever_the_umask(make_workbook: WorkbookBuilder,
                                                                  tmp_path: Path) -> None:
    rows = [valid_row(client_id="eigen-client", client_secret=SECRET), valid_row(werkgeverscode="WG")]
    out = tmp_path / "uit"
    previous = os.umask(0)
    try:
        write_output(make_workbook(rows), out, Options(formats=("html", "pdf")))
    finally:
        os.umask(previous)
    holding = [*(out / "aanmeldingen").iterdir(), out / "foutenrapport.xlsx"]
    assert len(holding) == 3
    for path in holding:
        assert path.stat().st_mode & 0o777 == 0o600, f"{path.name}: {oct(path.stat().st_mode & 0o777)}"
    for folder in (out, out / "aanmeldingen"):
        assert folder.stat().st_mode & 0o077 == 0, f"{folder.name}: {oct(folder.stat().st_mode & 0o777)}"


# === 5. runs that stop halfway lose nothing =================================================================

POSIX_SIGNALS = pytest.mark.skipif(not POSIX, reason="POSIX signals")


def _start_big_run(source: Path, out: Path, jobs: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(
        [*AS_INSTALLED, "process", str(source), "-o", str(out), "--format", "pdf",
         "-j", str(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env,
        start_new_session=True,  # our own process group: a Ctrl-C to it never reaches pytest
    )


def _wait_for_documents_in_staging(proc: subprocess.Popen[str], parent: Path, name: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be interrupted: {proc.communicate()}")
        for staging in parent.glob(f".{name}.*.bezig"):
            documents = staging / "aanmeldingen"
            if documents.is_dir() and len(list(documents.iterdir())) >= count:
                return
        time.sleep(0.02)
    raise AssertionError("no staging folder with documents appeared within 30 s")


def _no_process_left_in_group(pgid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@POSIX_SIGNALS
@pytest.mark.parametrize(("how", "jobs", "earlier_run", "exit_code", "word"), [
    ("SIGINT", 1, True, 130, "afgebroken"),
    ("SIGTERM", 1, True, 143, "gestopt"),
    ("SIGHUP", 1, True, 129, "gestopt (SIGHUP)"),  # the terminal window closed
    ("Ctrl-C to the process group", 2, False, 130, "afgebroken"),
])
def test_interrupted_run_keeps_the_last_complete_output(tmp_path: Path, how: str, jobs: int, earlier_run: bool,
                                                        exit_code: int, word: str) -> None:
    out = tmp_path / "uit"
    before: dict[str, bytes | None] = {}
    if earlier_run:
        first = asr_batch("process", workbook(tmp_path / "klein.xlsx", count=2), "-o", out, "--format", "pdf")
        assert first.returncode == 0, first.stderr
        before = tree(out)
    big = workbook(tmp_path / "groot.xlsx", count=80)
    proc = _start_big_run(big, out, jobs)
    try:
        _wait_for_documents_in_staging(proc, tmp_path, out.name, count=4)
        if how in ("SIGTERM", "SIGINT", "SIGHUP"):
            proc.send_signal(getattr(signal, how))
        else:
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole foreground group
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == exit_code, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("asr-batch: ") and word in lines[0], stderr
    assert "Traceback" not in stderr
    if earlier_run:
        assert tree(out) == before  # the earlier output, byte for byte, and nothing of the new run
    else:
        assert not out.exists()
    assert leftovers(tmp_path) == []
    assert _no_process_left_in_group(proc.pid), "a worker process outlived the interrupted run"


@POSIX_SIGNALS
def test_a_second_ctrl_c_while_the_workers_stop_neither_hangs_nor_leaves_anything(tmp_path: Path) -> None:
    """An impatient user presses Ctrl-C twice. The second must not cut short the wait for the workers (the
    process then hung at exit, for good once signals were ignored) nor the removal of the staging folder."""
    out = tmp_path / "uit"
    proc = _start_big_run(workbook(tmp_path / "groot.xlsx", count=80), out, jobs=2)
    try:
        _wait_for_documents_in_staging(proc, tmp_path, out.name, count=4)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail("the run did not end after two Ctrl-C's")
    assert proc.returncode == 130, stderr
    assert stderr.count("afgebroken") == 1 and "Traceback" not in stderr, stderr
    assert not out.exists() and leftovers(tmp_path) == []
    assert _no_process_left_in_group(proc.pid), "a worker process outlived the interrupted run"


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="signal masks are POSIX")
def test_ctrl_c_during_the_swap_leaves_a_complete_folder(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C right after the previous output was moved aside, before the new one took its place.

    A real run has more than one thread (numpy's OpenBLAS workers start when pandas is imported), so the
    kernel may hand a Ctrl-C to a thread that does not block it; a helper thread stands in for them here."""
    out = tmp_path / "uit"
    write_output(make_workbook(numbered_rows(2)), out, Options(formats=("html",)))
    before = tree(out)
    source = make_workbook(numbered_rows(3, start=2001), name="nieuw.xlsx")
    real_replace = os.replace

    def replace_hit_by_ctrl_c(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_replace(src, dst)
        if str(dst).endswith(".vorige"):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.3)  # the moment in which the old folder is aside and the new one not yet in place

    helper_done = threading.Event()
    helper = threading.Thread(target=helper_done.wait, daemon=True)
    helper.start()
    monkeypatch.setattr(os, "replace", replace_hit_by_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            write_output(source, out, Options(formats=("html",)))
    finally:
        signal.signal(signal.SIGINT, previous)
        monkeypatch.undo()
        helper_done.set()
        helper.join()
    assert out.is_dir(), f"no output folder any more; beside it: {leftovers(tmp_path)}"
    assert leftovers(tmp_path) == []
    after = tree(out)
    if after != before:  # the swap finished first: then the new folder is whole
        data = resultaat(out)
        listed = {d for row in data["rows"] for d in row["documents"]}  # type: ignore[attr-defined]
        on_disk = {f"aanmeldingen/{p.name}" for p in (out / "aanmeldingen").iterdir()}
        assert data["counts"]["valid"] == 3 and listed == on_disk and len(on_disk) == 3  # type: ignore[index]


# === 6. Hypothesis: whole workbooks from a nasty alphabet ===================================================

BLANKS = st.text(alphabet=" \t\n\r\u00a0\u200b", max_size=5)  # every one of these is an empty cell to the user
CORES = st.one_of(
    st.sampled_from([
        "مرحبا بالعالم", "עברית", "\u202eexe.gnp", "e\u0301\u0308", "👩‍👩‍👧‍👦", "Ünïcödé Łódź", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "#N/A", "TRUE", "Ja", "nee", "J", "maandelijks", "4-wekelijks", "wekelijks", "a;b;;c", "1001", "0001",
        "<script>alert(1)</script>", "'quoted", "{{ 7*7 }}", "%s%n", "1.001,50", "123456782", "12345678L01",
    ]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zs", "Zl", "Zp")), min_size=1, max_size=30),
)
TEXTS = st.builds(lambda pre, core, post: pre + core + post, BLANKS, CORES, BLANKS)
FORMULAS = st.sampled_from(["=1+1", "=A1", "=Bron!A2", '=HYPERLINK("http://evil","x")', "=1/0", "=NA()", "==",
                            '=""'])
HUGE = st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "€", "😀", "1"]), st.integers(5_000, 10_000))
NUMBERS = st.one_of(st.integers(-(10**15), 10**15), st.sampled_from([1e20, -0.0, 0.5, 1001.0, 1e-300, 2**53 + 1]),
                    st.floats(allow_nan=False, allow_infinity=False, width=64))
MOMENTS = st.one_of(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
                    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)))
NASTY = st.one_of(st.none(), BLANKS, TEXTS, FORMULAS, HUGE, NUMBERS, MOMENTS, st.booleans())
SECRETS = st.one_of(NASTY, st.just(SECRET), st.builds(lambda a, b: a + SECRET + b, BLANKS, BLANKS),
                    st.just(SECRET + " x"))
EXTRA_HEADERS = st.sampled_from(["Vestiging", "Code", "Naam werkgever", "😀", "Opmerking 2"])


def _is_blank(value: object) -> bool:
    """Blank as the user sees it, decided from how the value was generated (not by asking batch)."""
    return value is None or (isinstance(value, str) and value.strip(" \t\n\r\u00a0\u200b") == "")


@st.composite
def nasty_workbooks(draw: st.DrawFn) -> tuple[list[dict[str, object]], str | None]:
    rows = []
    for _ in range(draw(st.integers(2, 8))):
        sparse = draw(st.booleans())  # most cells empty: blank, skipped and nearly empty rows
        rows.append({f.key: draw(SECRETS if f.key == "client_secret" else NASTY)
                     if not sparse or draw(st.integers(0, 3)) == 0 else draw(st.one_of(st.none(), BLANKS))
                     for f in FIELDS})
    extra = draw(st.one_of(st.none(), EXTRA_HEADERS))
    if extra is not None:
        for row in rows:
            row[extra] = draw(NASTY)
    return rows, extra


@given(nasty_workbooks())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_any_nasty_workbook_gives_a_result_that_adds_up_and_hides_the_secret(
        book: tuple[list[dict[str, object]], str | None]) -> None:
    rows, extra = book
    headers = [*HEADERS, *([extra] if extra else [])]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "werkgevers.xlsx"
        _write_by_position(path, headers, rows, extra)
        result = check(path)
    assert isinstance(result, Result)
    last_filled = max((i + 1 for i, row in enumerate(rows)
                       if not all(_is_blank(row[f.key]) for f in FIELDS)), default=0)
    counts = result.counts
    assert counts["rows"] == counts["valid"] + counts["invalid"] + counts["skipped"] == last_filled, counts
    assert [r.row for r in result.rows] == list(range(2, 2 + last_filled))
    public = json.dumps(result.to_dict(), ensure_ascii=False) + json.dumps(result.to_dict()) + format_summary(result)
    assert SECRET not in public


def _write_by_position(path: Path, headers: list[str], rows: list[dict[str, object]], extra: str | None) -> None:
    """Like conftest.write_workbook, but by column position, so an extra column may repeat a known header."""
    wb = openpyxl.Workbook()
    office = wb.active
    assert office is not None
    office.title = "Salarisverwerker"
    office.append(["Gegeven", "Waarde"])
    for key, value in DEFAULT_OFFICE.items():
        office.append([OFFICE_LABELS.get(key, key), value])
    ws = wb.create_sheet(SHEET_WERKGEVERS)
    ws.append(headers)
    for row in rows:
        ws.append([row[f.key] for f in FIELDS] + ([row[extra]] if extra else []))
    wb.save(path)

