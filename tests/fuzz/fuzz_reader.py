"""Atheris fuzz harness for the reader: `batch.pipeline.check` on mutated workbooks.

Run by hand, not in CI: atheris is no dependency of asr-batch, and pytest never collects this folder
(tests/conftest.py sets `collect_ignore = ["fuzz"]`; the file name does not start with test_ either).
Atheris runs on Linux and macOS, with a CPython it has wheels for.

    pip install atheris
    python tests/fuzz/fuzz_reader.py -atheris_runs=100000 -max_len=1000000 -timeout=30 -rss_limit_mb=4096

Keep and grow a corpus between runs (any real .xlsx may go in; atheris adds what reaches new code):

    mkdir -p fuzz-corpus && cp samples/*.xlsx fuzz-corpus/
    python tests/fuzz/fuzz_reader.py fuzz-corpus -atheris_runs=100000 -max_len=1000000 -timeout=30

Replay one finding (libFuzzer writes it as crash-<sha1>, timeout-<sha1> or oom-<sha1> in the current folder):

    python tests/fuzz/fuzz_reader.py crash-<sha1>

To keep fuzzing past findings instead of stopping at the first, add `-fork=2 -ignore_crashes=1
-ignore_timeouts=1 -ignore_ooms=1`.

What it does. Every input is the bytes of a workbook. It is written to a temporary werkgevers.xlsx and read with
`batch.pipeline.check`. An `UnusableInput` is the correct answer to a broken file (exit 2 with a Dutch message);
anything else is a finding: any other exception (the user would see "onverwachte fout"), a crash of the
interpreter (a native reader aborting), a hang (`-timeout`) or a memory blow-up (`-rss_limit_mb`).

Mutations start from seed workbooks (samples/werkgevers.xlsx and one built with tests/conftest.write_workbook),
so an empty corpus works too. A custom mutator either mutates the raw bytes of the zip (headers, CRCs, deflate
streams: the archive checks), or unpacks it, changes one entry -- libFuzzer's byte mutations, a dropped entry,
or a hostile snippet (a DOCTYPE with entities, a cell at the far end of the sheet, ...) -- and packs it again,
so that mutations reach the XML readers instead of dying at the CRC check.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent

# Snippets a hostile or broken workbook may hold; spliced into a random place of an XML entry.
SNIPPETS: tuple[bytes, ...] = (
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b"&e;",
    b"&b;",
    b'<row r="1048576"><c r="L1048576" t="inlineStr"><is><t></t></is></c></row>',
    b'<c r="A5" t="s"><v>99999</v></c>',
    b'<c r="B5"><f>1+1</f></c>',
    b'<c r="C5" t="e"><v>#N/A</v></c>',
    b'<c r="D5" t="d"><v>2024-13-45T25:61:00</v></c>',
    b'<dimension ref="A1:XFD1048576"/>',
    b'<mergeCell ref="A1:Z9999"/>',
    b"\x00\xff\xfe",
    "\u202e\u00e9\U0001f600".encode(),
)

Mutator = Callable[[bytes, int], bytes]


def seed_workbooks() -> list[bytes]:
    """The starting points: the sample workbook and a small one made the way the tests make them."""
    seeds = []
    sample = ROOT / "samples" / "werkgevers.xlsx"
    if sample.is_file():
        seeds.append(sample.read_bytes())
    sys.path.insert(0, str(TESTS))
    from conftest import numbered_rows, valid_row, write_workbook

    with tempfile.TemporaryDirectory() as folder:
        rows = [*numbered_rows(3), valid_row(werkgeverscode="=A1", dga="Ja", dga_naam="A; B")]
        seeds.append(write_workbook(Path(folder) / "seed.xlsx", rows).read_bytes())
    return seeds


def _unpack(data: bytes) -> list[tuple[str, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(info.filename, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        return None


def _pack(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def mutate_workbook(data: bytes, max_size: int, seed: int, mutate_bytes: Mutator, seeds: list[bytes]) -> bytes:
    """One mutation of a workbook (see the module docstring). `mutate_bytes` is libFuzzer's byte mutator."""
    rng = random.Random(seed)
    if not data.startswith(b"PK") or rng.random() < 0.02:
        data = rng.choice(seeds)
    roll = rng.random()
    entries = _unpack(data) if roll >= 0.2 else None
    if not entries:
        return mutate_bytes(data, max_size)
    # Favour the entries the reader parses: workbook, relationships, sheets, shared strings.
    weights = [5 if name.startswith("xl/") and name.endswith((".xml", ".rels")) else 1 for name, _ in entries]
    index = rng.choices(range(len(entries)), weights=weights)[0]
    name, content = entries[index]
    if roll < 0.3 and len(entries) > 1:
        del entries[index]
    elif roll < 0.45:
        at = rng.randrange(len(content) + 1)
        entries[index] = (name, content[:at] + rng.choice(SNIPPETS) + content[at:])
    else:
        entries[index] = (name, mutate_bytes(content, max(2 * len(content), 256)))
    packed = _pack(entries)
    return packed if len(packed) <= max_size else mutate_bytes(data[:max_size], max_size)


def main() -> None:
    import atheris

    with atheris.instrument_imports(include=["batch"]):
        from batch.errors import UnusableInput
        from batch.pipeline import check
        from batch.redact import forget_all

    warnings.simplefilter("ignore")  # as the CLI does: library warnings are no findings
    seeds = seed_workbooks()
    target = Path(tempfile.mkdtemp(prefix="asr-batch-fuzz-")) / "werkgevers.xlsx"

    def test_one_input(data: bytes) -> None:
        target.write_bytes(data)
        forget_all()
        with contextlib.suppress(UnusableInput):  # the right answer to a broken file
            check(target)

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        return mutate_workbook(data, max_size, seed, atheris.Mutate, seeds)

    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
