"""What one registration PDF costs Typst, counted in instructions instead of timed.

On this kind of shared machine one run of the same loop takes up to a tenth more or less time than the next, so
a template change worth 3% cannot be seen with a stopwatch without dozens of runs. Valgrind counts the
instructions a process executes: the same to 0.1% from run to run. This script makes the 1,000-row workload's
PDFs with a template (the built-in one, or --template FILE) under callgrind, once with 30 documents and once with
30 + N (the first 30 warm Typst's caches), and prints the difference per document:

- the instructions without memset: the work;
- memset, apart and in bytes: valgrind counts `rep stosb` byte by byte, so memset would swamp the count.
  Typst's zlib clears some 0.5 MB of state for every stream it compresses, eight per PDF;
- the instructions by component (Rust crate, libc, Python).

    apt-get install valgrind
    python benchmarks/pdf_work.py [--template FILE] [--documents 200]

Instructions are not time (waiting for memory, the kernel), but a change that takes 5% of the instructions away
takes time away too: compare variants here, then confirm in real runs (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WARM = 30
_LINE = re.compile(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)$")
_CRATE = re.compile(r"(?:\?\?\?:)<*([a-z_][a-z_0-9]*)::")


def component(function: str) -> str:
    """The crate, or the C library part, a callgrind function line belongs to."""
    if "memset" in function:
        return "memset"
    if "memmove" in function or "memcpy" in function:
        return "memcpy"
    if "malloc" in function:
        return "malloc"
    if "libpython" in function or "/Python-3" in function or "/Objects/" in function:
        return "python"
    found = _CRATE.search(function)
    return found.group(1) if found else "other"


def counts(profile: Path) -> collections.Counter[str]:
    """Instructions per component in one callgrind profile ('total' holds the program's total)."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", str(profile)], capture_output=True, text=True,
                         check=True).stdout
    found: collections.Counter[str] = collections.Counter()
    for line in out.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        number = int(match.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in line:
            found["total"] = number
        else:
            found[component(match.group(2))] += number
    return found


def typeset(data_file: str, template: str, documents: int) -> None:
    """The child valgrind runs: WARM + documents PDFs in one process, as `process` makes them."""
    from batch.pdf import Typesetter

    gc.disable()
    with open(data_file, "rb") as f:
        datas, created = pickle.load(f)  # written by this script a moment ago, in a private folder
    with Typesetter(Path(template)) as typesetter:
        for data in datas[: WARM + documents]:
            typesetter.pdf(data, created=created)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, help="an aanmelding.typ (default: the built-in one)")
    parser.add_argument("--documents", type=int, default=200, help="documents counted after the warm-up")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        typeset(args.child[0], args.child[1], int(args.child[2]))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        raise SystemExit("pdf_work.py: valgrind is not installed (apt-get install valgrind).")

    from run import workload

    from batch.aanmelding import document_data
    from batch.pdf import builtin_template
    from batch.pipeline import check

    template = (args.template or builtin_template()).resolve()
    result = check(workload(1000))
    datas = [document_data(row, result, mask_secrets=False) for row in result.rows if row.status == "valid"]
    if len(datas) < WARM + args.documents:
        raise SystemExit(f"pdf_work.py: the workload has {len(datas)} documents; ask for at most {len(datas) - WARM}.")
    with tempfile.TemporaryDirectory(prefix="pdf-work-") as folder:
        data_file = os.path.join(folder, "data.pickle")
        with open(data_file, "wb") as f:
            pickle.dump((datas, result.generated_at), f)
        found = []
        for documents in (0, args.documents):
            profile = Path(folder) / f"callgrind-{documents}.out"
            child = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}",
                                    sys.executable, __file__, "--child", data_file, str(template), str(documents)],
                                   capture_output=True, text=True)
            if child.returncode != 0:  # a broken template, say: show why
                raise SystemExit(f"pdf_work.py: making the PDFs failed:\n{child.stderr[-3000:]}")
            found.append(counts(profile))
    base, more = found
    per = {key: (more[key] - base[key]) / args.documents for key in more}
    work = per.pop("total") - per["memset"]
    print(f"{template}: per document, after {WARM} to warm up, {args.documents} counted")
    print(f"  {work / 1e6:6.2f} M instructions without memset; memset {per.pop('memset') / 1e6:.2f} MB")
    for key, value in sorted(per.items(), key=lambda item: -item[1])[:15]:
        print(f"  {value / 1e6:6.2f} M  {100 * value / work:4.1f}%  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
