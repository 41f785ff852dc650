"""Measure the performance targets side by side: each figure is a ratio A / B of two whole commands, or one
command's time against a bound in seconds.

A and B run as subprocesses in alternating pairs (A, B, A, B, ...); a figure reports the medians of A and B,
their ratio and the min–max of the per-pair ratios. It always exits 0: it is a measurement, not a test.

    python benchmarks/run.py [--pairs 5] [--quick] [--linearity] [--set-aside] [--out benchmarks/results.md]
                             [--work /dev/shm/asr-bench] [--only register]

Each run gets an empty output folder. By default the previous output is deleted just before (outside the
timed region). On ext4 without a journal (this machine's disk) creating files right after thousands were
deleted is slow -- the kernel skips every inode deleted in the last 60 s (up to 6 minutes while the inode
table is not yet written back), one by one -- and how slow varies from run to run by seconds, for the floor
script as much as for asr-batch. --set-aside moves the previous output aside instead and deletes it all at
the end: the figures of a disk at rest (wait some minutes after a run that deleted many files).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"  # git-ignored
SEED = 20261129
PDF_ROWS = 1_000  # PDF against HTML, both on one core
BIG_PDF_ROWS = 3_000  # a big office; also enough documents that per-run start-up does not hide the workers' gain
BIN = Path(sys.executable).parent


class BenchError(Exception):
    """A command failed or exited with an unexpected code; the figure is reported as an error."""


@dataclass
class Cmd:
    argv: list[str]
    cwd: Path | None = None
    expect: int = 0
    fresh: Path | None = None  # output folder deleted before every run, outside the timed region
    one_core: bool = False  # pinned to one CPU (Linux), so that it runs as on a one-core machine
    env: dict[str, str] = field(default_factory=dict)  # added to this process's environment


@dataclass
class Figure:
    name: str
    a: Cmd
    b: Cmd | None  # None: A's own time is the figure, against `bound` seconds
    bound: float
    pairs: int
    memory: bool = False  # peak RSS in KB instead of wall-clock seconds
    at_least: bool = False  # the bound is a minimum (PDF speed-up), not a maximum
    a_values: list[float] = field(default_factory=list)
    b_values: list[float] = field(default_factory=list)
    error: str = ""


def script(name: str) -> str:
    """A console script of this venv, as users run it."""
    found = shutil.which(name, path=str(BIN))
    if found is None:
        raise SystemExit(f"run.py: '{name}' not found next to {sys.executable}; install the project in this venv.")
    return found


def workload(rows: int) -> Path:
    """The clean workbook of `rows` werkgevers; regenerated only if missing or made by another generator."""
    from workload import write_workload

    import batch.fields

    path = WORK / f"werkgevers-{rows}.xlsx"
    stamp = path.with_suffix(".json")
    generator = hashlib.sha256((HERE / "workload.py").read_bytes() + Path(batch.fields.__file__).read_bytes())
    wanted = {"rows": rows, "seed": SEED, "generator": generator.hexdigest()[:16]}
    if path.exists() and stamp.exists():
        recorded = json.loads(stamp.read_text())
        if recorded.pop("bytes", None) == path.stat().st_size and recorded == wanted:
            return path
    print(f"generating {path.name} ...", file=sys.stderr, flush=True)
    WORK.mkdir(exist_ok=True)
    partial = path.with_name(f"partial-{path.name}")
    write_workload(partial, rows, seed=SEED)
    partial.replace(path)
    stamp.write_text(json.dumps({**wanted, "bytes": path.stat().st_size}))
    return path


def check_exit(cmd: Cmd, code: int) -> None:
    if code != cmd.expect:
        raise BenchError(f"exit {code} (expected {cmd.expect}) from: {' '.join(cmd.argv)}")


SET_ASIDE = WORK / "opzij"  # --set-aside: earlier outputs, deleted when the benchmark ends
_set_aside = False


def empty_output(folder: Path) -> None:
    if not folder.exists():
        return
    if _set_aside:
        SET_ASIDE.mkdir(exist_ok=True)
        folder.rename(SET_ASIDE / f"{folder.name}-{time.monotonic_ns()}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def seconds(cmd: Cmd) -> float:
    if cmd.fresh is not None:
        empty_output(cmd.fresh)
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if cmd.one_core else None
    start = time.perf_counter()
    done = subprocess.run(cmd.argv, cwd=cmd.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          preexec_fn=pin, env={**os.environ, **cmd.env})
    elapsed = time.perf_counter() - start
    check_exit(cmd, done.returncode)
    return elapsed


def peak_kb(cmd: Cmd) -> float:
    # ru_maxrss of RUSAGE_CHILDREN is the maximum over every child ever waited for, so each measurement
    # runs in a fresh intermediate process (--measure-rss) whose only child is the command.
    done = subprocess.run([sys.executable, __file__, "--measure-rss", "--", *cmd.argv], cwd=cmd.cwd,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"--measure-rss failed: {done.stderr.strip()}")
    code, kb = done.stdout.split()
    check_exit(cmd, int(code))
    return float(kb)


def measure_rss(argv: list[str]) -> int:
    """--measure-rss mode: run one command, print its exit code and peak RSS in KB (Linux units)."""
    import resource

    code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return 0


def run_figure(figure: Figure) -> None:
    measure: Callable[[Cmd], float] = peak_kb if figure.memory else seconds
    print(f"{figure.name}: {figure.pairs} pair(s)", file=sys.stderr, flush=True)
    try:
        for _ in range(figure.pairs):
            figure.a_values.append(measure(figure.a))
            if figure.b is not None:
                figure.b_values.append(measure(figure.b))
    except BenchError as error:
        figure.error = str(error)
        print(f"  error: {error}", file=sys.stderr)


OTHERS = 100_000  # werkgevers of other workbooks in the big register


def register_with_others(small: Path) -> Path:
    """A copy of the register that knows the 10k workload's werkgevers, plus OTHERS werkgevers of other workbooks,
    two documents each (made by another computer) and three events each: next year's register of a big office.
    Written with sqlite3 directly: through asr-batch it would take minutes."""
    import sqlite3

    big = small.with_name(f"register-{OTHERS // 1000}k-others.sqlite")
    big.unlink(missing_ok=True)
    shutil.copyfile(small, big)
    codes = [str(500_000 + i) for i in range(OTHERS)]
    day, at = "2026-01-05", "2026-01-05T09:00:00+01:00"
    with sqlite3.connect(big) as db:
        db.executemany("insert into werkgevers (werkgeverscode, naam, state, first_seen, last_seen, source_file, "
                       "source_row, fingerprint) values (?, ?, 'new', ?, ?, 'ander-kantoor.xlsx', ?, ?)",
                       ((code, f"Werkgever {code} B.V.", day, day, i + 2, hashlib.sha256(code.encode()).hexdigest())
                        for i, code in enumerate(codes)))
        db.executemany("insert into documents (werkgeverscode, path, computer, computer_name) values "
                       "(?, ?, 'c0ffee00-0000-4000-8000-000000000000', 'PC-COLLEGA')",
                       ((code, f"/elders/uitvoer/aanmeldingen/{code}.{medium}") for code in codes
                        for medium in ("html", "pdf")))
        db.executemany("insert into events (at, user, werkgeverscode, event, detail) values (?, 'collega', ?, ?, ?)",
                       ((at, code, event, "ander-kantoor.xlsx") for code in codes
                        for event in ("new", "submitted", "confirmed")))
    return big


def figures(pairs: int, big_pairs: int, linearity: bool, memory: bool) -> list[Figure]:
    asr, py = script("asr-batch"), sys.executable
    w10k, pdfs, big = workload(10_000), workload(PDF_ROWS), workload(BIG_PDF_ROWS)
    out = WORK / "out"
    # frictionless runs in the workload's folder on a relative name (it refuses absolute paths as "not safe"),
    # on the Werkgevers sheet (by default it would check the first sheet, the small office sheet): same file,
    # same data. Empty trailing Opmerkingen cells count as "missing-cell" errors, and after its default
    # --limit-errors of 1000 it stops reading, i.e. after 1,000 of 10,000 rows; skipping that one error type
    # makes it check every row, and the clean file is then VALID (exit 0).
    frictionless = Cmd([script("frictionless"), "validate", w10k.name, "--sheet", "Werkgevers",
                        "--skip-errors", "missing-cell"], cwd=w10k.parent)

    def html(path: Path, *options: str) -> Cmd:
        return Cmd([asr, "process", str(path), "--format", "html", "-o", str(out), "-q", *options], fresh=out)

    def pdf(jobs: int) -> Cmd:
        return Cmd([asr, "process", str(big), "--format", "pdf", "-j", str(jobs), "-o", str(out), "-q"], fresh=out)

    def one_core(medium: str) -> Cmd:
        return Cmd([asr, "process", str(pdfs), "--format", medium, "-o", str(out), "-q"], fresh=out, one_core=True)

    registered = Cmd([asr, "process", str(w10k), "--format", "html", "-o", str(out), "-q"], fresh=out)
    seconds(registered)  # once, untimed: the register now knows the 10,000 werkgevers, as in next month's run
    small = Path(os.environ["ASR_BATCH_REGISTER"])
    big_register = register_with_others(small)
    chosen = [
        Figure("`process --format html` with / without the register (10k, the register already knows them)",
               registered, html(w10k, "--no-register"), 1.15, pairs),
        Figure(f"`process --format html` 10k, a register that also holds {OTHERS:,} other werkgevers / only these "
               "10k", html(w10k, "--register", str(big_register)), html(w10k, "--register", str(small)), 1.05,
               pairs),
        Figure("`asr-batch validate` / `frictionless validate` (10k)", Cmd([asr, "validate", str(w10k), "-q"]),
               frictionless, 0.5, pairs),
        Figure("`process --format html` / `frictionless validate` (10k)", html(w10k), frictionless, 1.0, pairs),
        Figure("`process --format html` / floor script (10k)", html(w10k),
               Cmd([py, str(HERE / "floor.py"), str(w10k), str(out)], fresh=out), 2.5, pairs),
        Figure("`asr-batch --help` / `python -c \"import click\"`", Cmd([asr, "--help"]),
               Cmd([py, "-c", "import click"]), 2.5, pairs),
    ]
    if linearity or memory:
        w100k = workload(100_000)
        if linearity:
            chosen.append(Figure("`process --format html` 100k / 10k rows", html(w100k), html(w10k), 12, big_pairs))
    chosen += [
        Figure(f"`process --format pdf` / `process --format html` ({PDF_ROWS:,} rows, one core)",
               one_core("pdf"), one_core("html"), 4, pairs),
        Figure(f"PDF docs/s with 2 cores / 1 core: time `-j 1` / time `-j 2` ({BIG_PDF_ROWS:,} rows)",
               pdf(1), pdf(2), 1.7, pairs, at_least=True),
        Figure(f"`process` HTML + PDF, {BIG_PDF_ROWS:,} rows, all cores: seconds",
               Cmd([asr, "process", str(big), "-o", str(out), "-q"], fresh=out), None, 60, pairs),
        # Windows and macOS start the workers with spawn: each imports batch and the job is pickled to it.
        Figure(f"`process` HTML + PDF, {BIG_PDF_ROWS:,} rows, all cores: ASR_BATCH_START_METHOD=spawn / default",
               Cmd([asr, "process", str(big), "-o", str(out), "-q"], fresh=out,
                   env={"ASR_BATCH_START_METHOD": "spawn"}),
               Cmd([asr, "process", str(big), "-o", str(out), "-q"], fresh=out, env={"ASR_BATCH_START_METHOD": ""}),
               1.5, pairs),
    ]
    if memory:
        reader = "import sys, pandas as pd; pd.read_excel(sys.argv[1], sheet_name='Werkgevers', engine='calamine')"
        chosen.append(Figure("peak RSS: `validate` 100k / pandas `read_excel(engine='calamine')`",
                             Cmd([asr, "validate", str(w100k), "-q"]), Cmd([py, "-c", reader, str(w100k)]),
                             3, big_pairs, memory=True))
    return chosen


def machine() -> str:
    model = ""
    if shutil.which("lscpu"):
        lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
        model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), "")
    load = f", load {os.getloadavg()[0]:.2f} at start" if hasattr(os, "getloadavg") else ""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (f"{now}; {platform.platform()}; Python {platform.python_version()}; {os.cpu_count()} CPUs"
            f"{f' ({model})' if model else ''}{load}; asr-batch {version('asr-batch')}, "
            f"frictionless {version('frictionless')}, pandas {version('pandas')}")


def value(figure: Figure, values: list[float]) -> str:
    middle = statistics.median(values)
    return f"{middle / 1024:.0f} MB" if figure.memory else f"{middle:.2f} s"


def row(figure: Figure) -> str:
    bound = f"{'≥' if figure.at_least else '≤'} {figure.bound:g}{' s' if figure.b is None else ''}"
    if figure.error or not figure.a_values:
        return f"| {figure.name} | – | – | – | {bound} | ERROR: {figure.error or 'no measurement'} |"
    if figure.b is None:
        middle = statistics.median(figure.a_values)
        spread = f"{min(figure.a_values):.2f}–{max(figure.a_values):.2f}"
        return (f"| {figure.name} | {middle:.2f} s | – | {middle:.2f} s ({spread}) | {bound} | "
                f"{'PASS' if middle <= figure.bound else 'FAIL'} |")
    ratio = statistics.median(figure.a_values) / statistics.median(figure.b_values)
    per_pair = [a / b for a, b in zip(figure.a_values, figure.b_values, strict=True)]
    ok = ratio >= figure.bound if figure.at_least else ratio <= figure.bound
    return (f"| {figure.name} | {value(figure, figure.a_values)} | {value(figure, figure.b_values)} | "
            f"{ratio:.2f} ({min(per_pair):.2f}–{max(per_pair):.2f}) | {bound} | {'PASS' if ok else 'FAIL'} |")


def table(done: list[Figure], header: str, notes: list[str]) -> str:
    pairs = sorted({figure.pairs for figure in done})
    lines = [f"Machine: {header}", "",
             f"Median of {'/'.join(map(str, pairs))} alternating pair(s) A, B per figure; ratio = median A / median B "
             "(min–max over the pairs).", "",
             "| figure (A / B) | A median | B median | ratio (min–max) | bound | ok |",
             "| --- | ---: | ---: | --- | --- | --- |",
             *(row(figure) for figure in done), ""]
    return "\n".join(lines + [f"- {note}" for note in notes]) + "\n"


NOTES = [
    "frictionless: `frictionless validate <name>.xlsx --sheet Werkgevers --skip-errors missing-cell` in the "
    "workload's folder. Same file and data: relative name because absolute paths are refused as 'not safe'; "
    "`--sheet` because the first sheet is the office sheet; `--skip-errors missing-cell` because every empty "
    "trailing Opmerkingen cell is a 'missing-cell' error and its default error limit (1000) would make it stop "
    "after 1,000 of the 10,000 rows.",
    "floor: `python benchmarks/floor.py` (python-calamine read + one tiny autoescaped Jinja2 HTML file per row).",
    "Workloads: `benchmarks/workload.py`, seed 20261129, ~30% with a DGA, credentials on the office sheet.",
]


def main(argv: list[str]) -> int:
    if argv[:2] == ["--measure-rss", "--"]:  # internal mode, see peak_kb()
        return measure_rss(argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=None, help="alternating pairs per figure (default 5; 2 quick)")
    parser.add_argument("--quick", action="store_true",
                        help="2 pairs, 1 pair at 100k rows, no 100k linearity run unless --linearity")
    parser.add_argument("--linearity", action="store_true", help="with --quick: run the 100k linearity figure too")
    parser.add_argument("--set-aside", action="store_true",
                        help="move each previous output aside instead of deleting it before the next run")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this Markdown file")
    parser.add_argument("--work", type=Path, default=None,
                        help="where the workloads, registers and outputs go (default benchmarks/.work); a tmpfs "
                             "such as /dev/shm/asr-bench takes the disk out of the figures")
    parser.add_argument("--only", default=None, help="run only the figures whose name contains this text")
    args = parser.parse_args(argv)
    pairs = args.pairs or (2 if args.quick else 5)
    if pairs < 1:
        parser.error("--pairs must be at least 1")
    big_pairs = min(pairs, 1) if args.quick else pairs
    memory = sys.platform.startswith("linux")
    notes = NOTES + ([] if memory else ["peak RSS figure skipped: ru_maxrss is only comparable on Linux."])
    global _set_aside, WORK, SET_ASIDE
    _set_aside = args.set_aside
    if args.work is not None:
        WORK = args.work.absolute()
        SET_ASIDE = WORK / "opzij"
    # A register of the benchmark's own, never the user's; it starts empty, and the first run fills it.
    WORK.mkdir(parents=True, exist_ok=True)
    register = WORK / "register.sqlite"
    register.unlink(missing_ok=True)
    os.environ["ASR_BATCH_REGISTER"] = str(register)
    os.environ["ASR_BATCH_CONFIG_DIR"] = str(WORK / "config")  # the benchmark's own computer id, never the user's
    header = machine() + ("; outputs set aside, not deleted, between runs" if args.set_aside else
                          "; each output deleted just before the next run")
    done = [figure for figure in figures(pairs, big_pairs, linearity=args.linearity or not args.quick, memory=memory)
            if args.only is None or args.only in figure.name]
    for figure in done:
        run_figure(figure)
    shutil.rmtree(WORK / "out", ignore_errors=True)
    shutil.rmtree(SET_ASIDE, ignore_errors=True)
    report = table(done, header, notes)
    print(report)
    if args.out:
        args.out.write_text(f"# Performance, as last measured\n\n{report}\n"
                            f"Reproduce: `python benchmarks/run.py {' '.join(argv)}`\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
