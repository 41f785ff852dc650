"""The two flows, stage by stage. The core entry points: they return a Result, never print, never exit.

validate:  read → normalise → judge
process:   read → normalise → register (what is pending) → documents, started early → judge → plan → documents
           and reports, into a staging folder → register records the run, in one transaction with the swap of the
           output folder

Each stage is a module of its own: reader, normalise, validate (judge), register, documents (aanmelding, render,
pdf), output (the staging folder and the swap).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from batch import file_errors, signals
from batch.documents import DOCUMENTS_DIR, DocumentJob, Documents, default_jobs, plan_documents
from batch.errors import UnusableInput
from batch.files import DIR_MODE, FILE_MODE, write_private
from batch.model import Result, RowResult
from batch.output import MARKER, RESULT_FILE, check_path_length, check_target, staging_folder, swap_in
from batch.progress import Progress, silent
from batch.redact import redact

if TYPE_CHECKING:
    from collections.abc import Callable

    from jinja2 import Environment

    from batch.carry_over import Earlier
    from batch.normalise import Draft
    from batch.register import Location, Plan, Register


@dataclass(frozen=True)
class Options:
    formats: tuple[str, ...] = ("html", "pdf")
    strict: bool = False
    mask_secrets: bool = False
    templates_dir: Path | None = None
    force: bool = False
    jobs: int | None = None  # worker processes for the documents; None: all cores
    register: Location | None = None  # None: leave the register alone (--no-register)
    only_pending: bool = False  # documents only for werkgevers still to submit (new, changed)


def check(path: Path, *, strict: bool = False) -> Result:
    """validate: read, normalise and judge a workbook. Raises UnusableInput when it cannot be used."""
    from batch.reader import read_table
    from batch.validate import validate_table

    return validate_table(read_table(path), strict=strict)


def process(source: Path, target: Path, options: Options, *, progress: Progress = silent) -> Result:
    """process: check the workbook, write the whole output folder, record the run in the register."""
    from batch.normalise import normalise
    from batch.reader import read_table
    from batch.render import check_templates, make_environment

    if options.only_pending and options.register is None:
        raise UnusableInput("--only-pending kan niet samen met --no-register: zonder register is niet bekend wat "
                            "nog moet worden aangemeld.", "Laat een van beide weg.")
    target = Path(os.path.abspath(target))  # "." and ".." have no name to put a staging folder beside
    env = make_environment(options.templates_dir)
    check_templates(env)  # a broken office template fails before anything is written
    if "pdf" in options.formats:
        from batch.pdf import check_template

        check_template(options.templates_dir)
    draft = normalise(read_table(source))
    foreign = check_target(target, source, options.force)
    check_path_length(target, draft.result.rows, options.formats)
    register = _RunRegister(options.register)
    try:
        try:
            return _write(env, draft, register, source, target, foreign, options, progress)
        except OSError as exc:  # a folder we may not write in, a full disk, a file open in Excel
            raise file_errors.explained(exc, None, "geschreven") or UnusableInput(
                f"De uitvoer kan niet worden geschreven in '{target}' ({exc.strerror or type(exc).__name__}).",
                "Kies met -o een map waarin u mag schrijven en waar ruimte is; een eerdere uitvoer is ongewijzigd.",
            ) from None
    finally:
        register.close()


class _RunRegister:
    """The run's register, opened when it is first read: with --only-pending before the documents (they depend on
    it), otherwise once the first documents are being made, so that importing SQLAlchemy and reading the register
    overlap with them (a tenth of a second at 10,000 rows, benchmarks/README.md). An unusable register still stops
    the run before the output folder is touched: the staging folder goes, early documents and all."""

    def __init__(self, location: Location | None) -> None:
        self.location = location
        self.opened: Register | None = None

    def open(self) -> Register | None:
        if self.location is not None and self.opened is None:
            from batch.register import open_register, this_computer

            this_computer(create=True)  # the id its documents are recorded with: made (or refused) first
            self.opened = open_register(self.location, create=True)
        return self.opened

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()


def _write(env: Environment, draft: Draft, run_register: _RunRegister, source: Path, target: Path, foreign: bool,
           options: Options, progress: Progress) -> Result:
    from batch.carry_over import carry_over, left_behind, read_earlier
    from batch.normalise import refuse_known_alike
    from batch.register import PENDING

    def read_register() -> Plan | None:
        """What the register will say of each werkgever that looks valid (reads only)."""
        register = run_register.open()
        if register is None:
            return None
        valid = (r for r in draft.result.rows if r.status == "valid")
        found = register.plan(valid, target / DOCUMENTS_DIR)
        refuse_known_alike(draft, found.alike)  # before any document is started for such a row
        return found

    # With --only-pending the documents depend on the register: read it first. Otherwise it is read while the
    # first documents are made.
    plan = read_register() if options.only_pending else None
    codes = frozenset(code for code, state in plan.states.items() if state in PENDING) if plan else None
    earlier = read_earlier(target)  # the folder this run replaces: what it holds leaves with it, or comes along
    with staging_folder(target) as staging:
        docs = staging / DOCUMENTS_DIR
        docs.mkdir(mode=DIR_MODE)
        job = DocumentJob(draft.result, docs, options.formats, options.mask_secrets, options.templates_dir, codes)
        with Documents(job, jobs=options.jobs or default_jobs(), env=env) as documents:
            documents.start_early()  # before pandas and pandera load: the documents overlap with the rules
            plan = plan or read_register()
            planned = plan.states if plan else {}
            with signals.deferred():  # not cut halfway: numpy cannot be imported again after that
                from batch.validate import judge

            result = judge(draft, strict=options.strict)
            for row in result.rows:
                row.register_state = planned.get(row.werkgeverscode or "") if row.status == "valid" else None
            plan_documents(result, options.formats, codes)
            if plan is not None and codes is not None:
                carry_over(result, earlier, plan, codes, target, options.formats, docs)
            result.left_behind = left_behind(result, earlier, options.formats)
            fingerprints = plan.fingerprints if plan else {}
            documents.finish(progress, meanwhile=lambda: _write_reports(env, result, source, staging, foreign,
                                                                        fingerprints))
        register = run_register.opened
        if register is None or plan is None:
            swap_in(staging, target, foreign)
        else:
            _record_and_swap(register, plan, env, result, source, staging, target, foreign, options, earlier)
    return result


def _record_and_swap(register: Register, plan: Plan, env: Environment, result: Result, source: Path,
                     staging: Path, target: Path, foreign: bool, options: Options, earlier: Earlier) -> None:
    from batch.carry_over import carry_row, left_behind, still_there

    def swap(states: dict[str, str]) -> None:
        # Another clerk may have marked a werkgever since the register was read: the reports say what the
        # register will say, and with --only-pending its new document goes (the register records none). A purge
        # may have deleted an earlier document this run carried over: it goes too.
        stale = any(row.register_state != states.get(row.werkgeverscode or "") for row in result.rows
                    if row.status == "valid")
        if stale:
            for row in result.rows:
                row.register_state = states.get(row.werkgeverscode or "") if row.status == "valid" else None
            if options.only_pending:
                _withdraw(result, staging, lambda row: carry_row(row, earlier, plan, target, options.formats,
                                                                 staging / DOCUMENTS_DIR))
        if still_there(result, earlier, staging / DOCUMENTS_DIR) or stale:
            result.left_behind = left_behind(result, earlier, options.formats)
            _write_reports(env, result, source, staging, foreign, plan.fingerprints)
        swap_in(staging, target, foreign)

    register.record(result, plan, target / DOCUMENTS_DIR, then=swap, only_pending=options.only_pending)


def _withdraw(result: Result, staging: Path, carry: Callable[[RowResult], str | None]) -> None:
    """--only-pending, and a clerk marked a werkgever while this run made its document: the run decided on a state
    the register no longer holds. Its new document leaves the output folder before the swap (the register records
    none: Register.record); the earlier one comes along instead where it can (carry_over.py), and the row says
    what happened."""
    from batch.register import PENDING, STATES

    for row in result.rows:
        if (row.status != "valid" or not row.documents or row.carried_over
                or row.register_state in (None, *PENDING)):
            continue
        for document in row.documents:
            (staging / document).unlink(missing_ok=True)
        row.documents = []
        note = carry(row)
        marked = f"tijdens deze run {STATES.get(row.register_state or '', row.register_state)} (door een collega)"
        if row.carried_over:
            row.register_note = f"{marked}: het nieuwe document is weggehaald, de eerdere aanmelding meegenomen"
        else:
            row.register_note = f"{marked}: het document is weggehaald" + (f"; {note}" if note else "")


def _write_reports(env: Environment, result: Result, source: Path, staging: Path, foreign: bool,
                   fingerprints: dict[str, str]) -> None:
    """Everything but the documents; runs while the documents are being made (their names are planned)."""
    from batch.carry_over import ledger
    from batch.render import render_reports

    if not foreign:  # the marker claims the whole folder; a forced run into someone's folder does not
        # Its ledger says what data each document was made from: the next run into this folder reads it.
        write_private(staging / MARKER, f"asr-batch {result.tool_version}\n{ledger(result, fingerprints)}")
    write_private(staging / RESULT_FILE, redact(json.dumps(result.to_dict(), ensure_ascii=False, indent=2)) + "\n")
    overview, error_report = render_reports(env, result)
    write_private(staging / "overzicht.html", redact(overview))
    write_private(staging / "foutenrapport.html", redact(error_report))
    if result.all_issues:
        from batch.annotate import write_annotated_copy

        write_annotated_copy(source, result, result.input.sheet, staging / "foutenrapport.xlsx")
        (staging / "foutenrapport.xlsx").chmod(FILE_MODE)
