"""Render step: the Result becomes HTML (registration documents, overzicht.html, foutenrapport.html).

Templates are Jinja2, autoescaped whatever their file name, with StrictUndefined, in a sandbox (an office may
bring its own templates with `--templates DIR`). Templates never see model objects, only plain dicts built
here, so the overview and the error report cannot reach a Client Secret even when an office overrides them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
import secrets
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

from batch.aanmelding import DOCUMENT_KEYS, document_data, dutch_datetime, mask_secret
from batch.catalogue import CATALOGUE, Issue, Severity
from batch.errors import UnusableInput
from batch.fields import FIELDS, JA, OFFICE_FIELDS, SECRET_FIELDS
from batch.model import REGISTER_STATES, STATUS_NL, Dga, InputInfo, Office, Result, RowResult
from batch.slug import slugify
from batch.words import count, word

DOCUMENT_TEMPLATE = "aanmelding.html"
OVERVIEW_TEMPLATE = "overzicht.html"
ERROR_REPORT_TEMPLATE = "foutenrapport.html"
TEMPLATE_NAMES = (DOCUMENT_TEMPLATE, OVERVIEW_TEMPLATE, ERROR_REPORT_TEMPLATE)

SEVERITY_LABELS = {Severity.ERROR: "Fout", Severity.WARNING: "Waarschuwing"}

# What aanmelding.html may use: the document's data (aanmelding.py) and `medium`, always "html" since the PDF
# has a template of its own (kept for offices' templates written when both media came from this one).
DOCUMENT_VARIABLES = ("medium", *DOCUMENT_KEYS)


# --- environment ------------------------------------------------------------------------------------------


def _builtin_loader() -> jinja2.BaseLoader:
    """The built-in templates: package `batch.templates` when installed, else `templates/` of the checkout."""
    try:
        root = importlib.resources.files("batch.templates")
    except ModuleNotFoundError:
        return jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates")
    if isinstance(root, Path):
        return jinja2.FileSystemLoader(root)
    candidate = root.joinpath(DOCUMENT_TEMPLATE)  # a namespace package gives a MultiplexedPath
    if isinstance(candidate, Path) and candidate.is_file():
        return jinja2.FileSystemLoader(candidate.parent)

    def load(name: str) -> str | None:  # zipped or otherwise non-file resources
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        resource = root.joinpath(name)
        return resource.read_text(encoding="utf-8") if resource.is_file() else None

    return jinja2.FunctionLoader(load)


def _finalize(value: object) -> object:
    """`{{ empty }}` prints nothing rather than "None" (values of empty cells are None)."""
    return "" if value is None else value


class _BuiltinEnvironment(jinja2.Environment):
    """The environment of the built-in templates only, which render registration documents by shape (below)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.document_shapes: dict[tuple[Any, ...], _Shape] = {}
        self.document_shapes_size = 0  # characters of template text held by document_shapes


def make_environment(custom_dir: Path | None = None) -> jinja2.Environment:
    """A sandboxed Jinja2 environment: `custom_dir` first (the office's own templates), then the built-ins.

    Autoescaping is on for every file name. Templates are compiled once and cached (no reload checks), so
    rendering thousands of documents compiles each template a single time.
    """
    loaders: list[jinja2.BaseLoader] = []
    if custom_dir is not None:
        if not custom_dir.is_dir():
            raise UnusableInput(
                f"De sjablonenmap '{custom_dir}' bestaat niet of is geen map.",
                "Geef bij --templates een bestaande map met uw eigen sjablonen (bijvoorbeeld aanmelding.html), "
                "of laat --templates weg voor de ingebouwde sjablonen.",
            )
        loaders.append(jinja2.FileSystemLoader(custom_dir))
    loaders.append(_builtin_loader())
    # The built-in templates are ours; an office's own templates run in a sandbox.
    environment_class = _BuiltinEnvironment if custom_dir is None else ImmutableSandboxedEnvironment
    env = environment_class(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["mask"] = mask_secret
    env.filters["aantal"] = count  # {{ n|aantal("werkgever") }}: "1 werkgever", "2 werkgevers"
    env.filters["woord"] = word
    return env


# --- template errors --------------------------------------------------------------------------------------


def _template_position(exc: BaseException) -> tuple[str | None, int | None]:
    """File and line of the template code that raised `exc` (Jinja2 puts template frames in tracebacks)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name, exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and not frame.filename.endswith(".py") and frame.filename != "<template>":
            return frame.filename, frame.lineno
    return None, None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"het sjabloon '{exc.name}' bestaat niet"
    if isinstance(exc, jinja2.UndefinedError):
        return f"onbekende variabele of eigenschap ({exc.message})"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"syntaxfout ({exc.message})"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"niet toegestaan in een sjabloon ({exc})"
    return f"{type(exc).__name__}: {exc}"


def template_error(exc: BaseException, template: str, secrets: tuple[str | None, ...] = ()) -> UnusableInput:
    """A Jinja2 failure as an exit-2 problem that names the template file, the line and the fix.
    Any of `secrets` quoted by the exception text (a key looked up by its value...) is blanked out."""
    where, line = _template_position(exc)
    if where is None and isinstance(exc, jinja2.TemplateNotFound):
        where = template
    place = f"'{where or template}'" + (f" op regel {line}" if line else "")
    fix = ("Herstel het sjabloon (de taal is Jinja2) of haal het weg uit de sjablonenmap, "
           "dan gebruikt asr-batch het ingebouwde sjabloon.")
    if isinstance(exc, jinja2.UndefinedError) and template == DOCUMENT_TEMPLATE:
        fix += f" Beschikbare variabelen in {DOCUMENT_TEMPLATE}: {', '.join(DOCUMENT_VARIABLES)}."
    detail = _describe(exc)
    for secret in secrets:
        if secret:
            detail = detail.replace(secret, "***")
    return UnusableInput(f"Fout in sjabloon {place}: {detail.rstrip('.')}.", fix)


_RENDER_FAILURES = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def _render(env: jinja2.Environment, name: str, context: dict[str, Any],
            secrets: tuple[str | None, ...] = ()) -> str:
    try:
        return env.get_template(name).render(context)
    except _RENDER_FAILURES as exc:
        raise template_error(exc, name, secrets) from exc


# --- contexts ---------------------------------------------------------------------------------------------


def document_context(row: RowResult, result: Result, *, mask_secrets: bool,
                     value: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Everything aanmelding.html may use (DOCUMENT_VARIABLES): the document's data plus `medium`."""
    return {"medium": "html", **document_data(row, result, mask_secrets=mask_secrets, value=value)}


def _issue(issue: Issue) -> dict[str, Any]:
    entry = CATALOGUE.get(issue.code)
    value = None if issue.field in SECRET_FIELDS else issue.value
    return {
        "ernst": "fout" if issue.severity is Severity.ERROR else "waarschuwing",
        "ernst_label": SEVERITY_LABELS[issue.severity],
        "code": issue.code,
        "titel": entry.title if entry else issue.code,
        "rij": issue.row,
        "cel": issue.cell,
        "kolom": issue.column,
        "waarde": value,
        "melding": issue.message,
        "oplossing": issue.fix,
    }


def _document_link(path: str) -> dict[str, str]:
    posix = path.replace("\\", "/")
    kind = posix.rsplit(".", 1)[-1].upper() if "." in posix else "Document"
    return {"href": quote(posix, safe="/"), "label": kind, "pad": posix}


def _row(row: RowResult) -> dict[str, Any]:
    meldingen = [_issue(i) for i in row.issues]
    return {
        "rij": row.row,
        "status": row.status,
        "status_label": STATUS_NL[row.status],
        "werkgeverscode": row.werkgeverscode,
        "naam": row.naam,
        "reden": row.reason,
        "register": row.register_state,
        "register_label": REGISTER_STATES.get(row.register_state or "", ""),
        "register_note": row.register_note,
        "meegenomen": row.carried_over,
        "documenten": [_document_link(d) for d in row.documents],
        "meldingen": meldingen,
        "fouten": sum(m["ernst"] == "fout" for m in meldingen),
        "waarschuwingen": sum(m["ernst"] == "waarschuwing" for m in meldingen),
    }


def report_context(result: Result) -> dict[str, Any]:
    """What overzicht.html and foutenrapport.html may use. Built without any record value but the
    werkgeverscode and the name, so no Client Secret can reach these reports."""
    counts = result.counts
    rows = [_row(r) for r in result.rows]
    file_issues = [_issue(i) for i in result.file_issues]
    return {
        "gegenereerd_op": dutch_datetime(result.generated_at),
        "versie": f"asr-batch {result.tool_version}",
        "medium": "html",
        "invoer": {"bestand": result.input.file, "tabblad": result.input.sheet,
                   "kopregel": result.input.header_row, "sha256": result.input.sha256},
        "strikt": result.strict,
        "tellingen": {"rijen": counts["rows"], "geldig": counts["valid"], "ongeldig": counts["invalid"],
                      "overgeslagen": counts["skipped"], "fouten": counts["errors"],
                      "waarschuwingen": counts["warnings"]},
        "bestandsmeldingen": file_issues,
        "rijen": rows,
        "met_register": any(r.register_state for r in result.rows),
        "rijen_met_meldingen": [r for r in rows if r["meldingen"]],
        "aanmeldingen": dict(zip(("geldig", "nieuw", "meegenomen", "zonder"), result.document_counts, strict=True)),
        "niet_meegenomen": [{"document": d.document, "werkgeverscode": d.werkgeverscode, "reden": d.reason}
                            for d in result.left_behind],
        "schoon": not file_issues and not any(r["meldingen"] for r in rows),
    }


# --- rendering --------------------------------------------------------------------------------------------


def render_document(env: jinja2.Environment, row: RowResult, result: Result, *, mask_secrets: bool) -> str:
    """The registration document (aanmelding.html) of one valid row."""
    secrets = (row.record.get("client_secret"), result.office.get("client_secret"))
    if isinstance(env, _BuiltinEnvironment):
        return _render_by_shape(env, row, result, mask_secrets=mask_secrets, secrets=secrets)
    context = document_context(row, result, mask_secrets=mask_secrets)
    return _render(env, DOCUMENT_TEMPLATE, context, secrets)


# --- the built-in document, by shape ----------------------------------------------------------------------
# Jinja2 spends some 100 µs on a registration document, nearly all of it in its generic runtime (an escape, a
# finalize and an attribute lookup per printed value, a generator step per piece of text). The built-in
# aanmelding.html uses a row's own values in two ways only: it prints them, or it tests whether they are
# empty. So rows whose values are empty in the same places, with the same lines and DGAs, share one shape:
# the template is rendered once per shape with a numbered marker in place of each non-empty value, and each
# row's document is that text with the markers replaced by the row's values, escaped as Jinja2 escapes them.
# tests/test_render.py checks that this gives exactly Jinja2's output on varied rows. An office's own
# templates (--templates) are always rendered by Jinja2 itself.

# Private-use characters and a token drawn per process: no template text, nor any value from the workbook
# printed as it is (the office's name, the file name), can contain a marker.
_TOKEN = secrets.token_hex(8)
_MARK = f"\ue000{_TOKEN}:{{}}\ue001"
_MARKS = re.compile(f"\ue000{_TOKEN}:([0-9]+)\ue001")
_MARKERS = [_MARK.format(n) for n in range(64)]  # a document has some 30 values
# The cache starts again, empty, when its texts would exceed this many characters: a few thousand shapes of
# ordinary rows, or a few of rows with a thousand DGAs each.
_MAX_SHAPES_SIZE = 16_000_000


class _Shape(NamedTuple):
    texts: list[str]  # the template text around the markers: one more than `slots`
    slots: list[int]  # which value each marker stands for


def _key(shape: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        tuple(tuple(item.items()) if isinstance(item, dict) else item for item in value)
        if isinstance(value, list) else tuple(value.items()) if isinstance(value, dict) else value
        for value in shape.values()
    )


def _render_by_shape(env: _BuiltinEnvironment, row: RowResult, result: Result, *, mask_secrets: bool,
                     secrets: tuple[str | None, ...]) -> str:
    values: list[Any] = []
    unusual: list[Any] = []

    def mark(value: Any) -> Any:
        if value is None or isinstance(value, str) and not value:
            return value  # an empty value is part of the shape
        if not value:  # 0, False, []: empty, yet printed otherwise than "" (records hold text, but callers may not)
            unusual.append(value)
            return value
        values.append(value)
        return _MARKERS[len(values) - 1] if len(values) <= len(_MARKERS) else _MARK.format(len(values) - 1)

    marked = document_context(row, result, mask_secrets=mask_secrets, value=mark)
    if unusual:
        context = document_context(row, result, mask_secrets=mask_secrets)
        return _render(env, DOCUMENT_TEMPLATE, context, secrets)
    key = _key(marked)
    shape = env.document_shapes.get(key)
    if shape is None:
        pieces = _MARKS.split(_render(env, DOCUMENT_TEMPLATE, marked, secrets))
        shape = _Shape(pieces[0::2], [int(n) for n in pieces[1::2]])
        size = sum(map(len, shape.texts))
        if env.document_shapes_size + size > _MAX_SHAPES_SIZE:
            env.document_shapes.clear()
            env.document_shapes_size = 0
        env.document_shapes[key] = shape
        env.document_shapes_size += size
    texts = iter(shape.texts)
    out = [next(texts)]
    for slot, text in zip(shape.slots, texts, strict=True):
        out += (escape(values[slot]), text)
    return "".join(out)


def render_reports(env: jinja2.Environment, result: Result) -> tuple[str, str]:
    """overzicht.html and foutenrapport.html, from one report context."""
    context = report_context(result)
    return render_overview(env, result, context), render_error_report(env, result, context)


def render_overview(env: jinja2.Environment, result: Result, context: dict[str, Any] | None = None) -> str:
    """overzicht.html: every row with its status, documents and issues."""
    return _render(env, OVERVIEW_TEMPLATE, context or report_context(result))


def render_error_report(env: jinja2.Environment, result: Result, context: dict[str, Any] | None = None) -> str:
    """foutenrapport.html: every error and warning by row, file-level issues first."""
    return _render(env, ERROR_REPORT_TEMPLATE, context or report_context(result))


def document_basename(row: RowResult) -> str:
    """`<werkgeverscode>-<slug of the name>`, safe as a file name on every platform (no extension)."""
    return _basename(row.werkgeverscode, row.naam)


@functools.lru_cache(maxsize=2 * 65_536)  # `process` asks for each name up to three times (documents.py)
def _basename(werkgeverscode: str | None, naam: str | None) -> str:
    code = slugify(werkgeverscode, fallback="", max_length=sys.maxsize)
    if len(code) > 40:  # never cut a code short (nor before hashing it): two werkgevers would share a file
        code = f"{code[:30]}-{hashlib.sha256(code.encode()).hexdigest()[:9]}"
    name = slugify(naam)
    return f"{code}-{name}" if code else name


# --- checking up front ------------------------------------------------------------------------------------


def sample_result() -> Result:
    """A small made-up result (field examples) to try every template on before any output is written."""
    record = {f.key: f.example or None for f in FIELDS}
    record.update(dga=JA, opmerkingen="Voorbeeld")
    issue = Issue(Severity.ERROR, "kvk_formaat", "'KvK-nummer' moet 8 cijfers zijn, maar is '123'.",
                  "Neem het KvK-nummer over uit het handelsregister.", row=3, field="kvk_nummer",
                  column="KvK-nummer", cell="J3", value="123")
    valid = RowResult(row=2, status="valid", werkgeverscode=record["werkgeverscode"], record=record,
                      dgas=[Dga("J. de Vries", "12"), Dga("M. Öztürk", "15")],
                      documents=["aanmeldingen/1001-voorbeeld.html", "aanmeldingen/1001-voorbeeld.pdf"])
    invalid = RowResult(row=3, status="invalid", werkgeverscode="1002", issues=[issue],
                        record={"naam": "Voorbeeld B.V.", "werkgeverscode": "1002"})
    skipped = RowResult(row=4, status="skipped", werkgeverscode=None, reason="lege rij")
    office = Office({f.key: "Voorbeeld" for f in OFFICE_FIELDS})
    file_issue = Issue(Severity.WARNING, "kolom_onbekend", "Kolom 'Fax' wordt niet herkend.",
                       "Pas de kop aan of verwijder de kolom.", column="Fax", cell="M1")
    return Result(input=InputInfo("voorbeeld.xlsx", "0" * 64, "Werkgevers", 1), rows=[valid, invalid, skipped],
                  file_issues=[file_issue], office=office)


def check_templates(env: jinja2.Environment) -> None:
    """Compile all three templates and try each once, so a broken (custom) template stops the run with
    exit 2 before any output is written. Raises UnusableInput naming the file and line."""
    for name in TEMPLATE_NAMES:
        try:
            env.get_template(name)
        except (jinja2.TemplateError, OSError, UnicodeDecodeError) as exc:
            raise template_error(exc, name) from exc
    sample = sample_result()
    for mask in (False, True):
        render_document(env, sample.rows[0], sample, mask_secrets=mask)
    render_overview(env, sample)
    render_error_report(env, sample)
