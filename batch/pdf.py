"""HTML → PDF with fpdf2 (pure Python), from the same Jinja2 template as the HTML document (medium="pdf").

fpdf2's `write_html` knows a small HTML subset and is strict about it (one text run per table cell, no
`<img>` paths we would want to follow, no unknown font faces). So the HTML first goes through `pdf_html`,
a small html.parser-based filter: it drops <head>, <style>, <script>, buttons, form fields, images and
anything with class "no-pdf"; unwraps div/span/section/... (a container holding only text becomes a <p>);
flattens every table cell to plain text; pads table rows to one column count; and keeps only attributes
fpdf2 understands, with values it can parse. An office's own aanmelding.html with arbitrary HTML therefore
renders too. Should fpdf2 still fail, the tables are retried as text lines, then the whole document as plain
paragraphs; only when that fails too does `PdfError` reach the caller.

Speed: fpdf2 parses its fonts for every document, and the full DejaVu fonts take ~45 ms of that. So the first
call subsets them once per process, in memory, to the Latin, Greek and Cyrillic scripts plus punctuation and
symbols (~0.5 s once); a document then takes ~70-80 ms instead of ~125 ms and its PDF is half the size. A
document with a character outside that subset uses the full fonts.
"""

from __future__ import annotations

import contextlib
import functools
import html as htmllib
import importlib.resources
import io
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace, TextStyle

from batch import __version__

FONT_FAMILY = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Scripts kept in the per-process font subset (everything a Dutch payroll file is likely to hold).
_SUBSET_RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF),
    (0x0400, 0x04FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
    (0x2150, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2300, 0x23FF), (0x25A0, 0x25FF),
    (0x2600, 0x26FF), (0x2700, 0x27BF), (0xFB00, 0xFB06), (0xFFFD, 0xFFFD),
)
_QUIET_LOGGERS = ("fpdf", "fontTools", "PIL")
_INK, _ACCENT, _SOFT, _LINE = (28, 36, 48), (27, 61, 109), (91, 102, 117), (190, 198, 208)


class PdfError(Exception):
    """A registration document could not be turned into a PDF. The message is plain Dutch."""


# --- fonts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fonts:
    data: dict[str, bytes]  # style -> subset font bytes; empty when subsetting is unavailable
    covered: frozenset[str]  # characters the subset can draw
    paths: dict[str, Path]  # style -> full font file


@functools.cache
def _fonts() -> _Fonts:
    root = importlib.resources.files("batch.fonts")
    paths = {style: Path(str(root.joinpath(name))) for style, name in _FONT_FILES.items()}
    try:
        from fontTools import subset as ftsubset
        from fontTools.ttLib import TTFont

        data: dict[str, bytes] = {}
        codepoints = [c for lo, hi in _SUBSET_RANGES for c in range(lo, hi + 1)]
        covered: set[str] | None = None
        for style, path in paths.items():
            font = TTFont(path, recalcTimestamp=False)
            options = ftsubset.Options()
            options.layout_features = []  # fpdf2 drops GSUB/GPOS anyway (no text shaping)
            options.name_IDs = ["*"]
            options.notdef_outline = True
            options.glyph_names = False
            options.hinting = False
            options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "FFTM"]
            subsetter = ftsubset.Subsetter(options)
            subsetter.populate(unicodes=codepoints)
            with _quiet():
                subsetter.subset(font)
            buffer = io.BytesIO()
            font.save(buffer)
            data[style] = buffer.getvalue()
            chars = {chr(c) for c in font.getBestCmap()}
            covered = chars if covered is None else covered & chars
        return _Fonts(data, frozenset(covered or ()), paths)
    except Exception:  # any trouble: fall back to the full font files
        return _Fonts({}, frozenset(), paths)


def prepare() -> None:
    """Do the once-per-process work (font subsetting, imports) now: called before forking workers, so
    each inherits it instead of repeating it (about 0.7 s per process)."""
    _fonts()


def _register_fonts(pdf: FPDF, text: str) -> None:
    fonts = _fonts()
    if fonts.data and not (set(text) - fonts.covered - {"\n", "\r", "\t"}):
        try:
            from fpdf.fonts import TTFFont

            for style, data in fonts.data.items():
                key = f"{FONT_FAMILY.lower()}{style}"
                pdf.fonts[key] = TTFFont(pdf, io.BytesIO(data), key, style)  # type: ignore[arg-type]
            return
        except Exception:  # fpdf2 internals changed: use the public API below
            pdf.fonts.clear()
    for style, path in fonts.paths.items():
        pdf.add_font(FONT_FAMILY, style, str(path))


# --- the HTML filter --------------------------------------------------------------------------------------

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr", "keygen"})
_DROP = frozenset({"head", "style", "script", "noscript", "template", "button", "input", "select", "textarea",
                   "option", "optgroup", "datalist", "output", "progress", "meter", "iframe", "frame",
                   "frameset", "object", "embed", "applet", "img", "picture", "svg", "math", "canvas", "video",
                   "audio", "source", "track", "map", "area", "meta", "link", "base", "title", "dialog",
                   "toc", "col", "colgroup", "rp", "rt"})
_INLINE_KEEP = frozenset({"b", "strong", "u", "s", "del", "strike", "code", "sup", "sub"})
_TEXT_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre"})
_LISTS = frozenset({"ul", "ol", "menu"})
_CONTAINERS = frozenset({"html", "body", "div", "section", "header", "footer", "main", "article", "nav",
                         "aside", "address", "figure", "figcaption", "form", "fieldset", "legend", "details",
                         "summary", "dl", "center", "hgroup", "search", "caption", "thead", "tbody", "tfoot",
                         "tr", "td", "th"})
_BLOCKS = _TEXT_BLOCKS | _LISTS | _CONTAINERS | {"table", "hr"}
_CLOSES_P = _BLOCKS - {"td", "th", "tr", "thead", "tbody", "tfoot", "caption"}
_MAX_DEPTH = 120

_NUMBER = re.compile(r"^\s*(\d{1,4}(?:\.\d{1,3})?)\s*(%?)\s*$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_HTML_FONT_SIZES = {"1": 8, "2": 10, "3": 12, "4": 14, "5": 18, "6": 24, "7": 36}
_SAFE_HREF = re.compile(r"^(?:https?://|mailto:|tel:)[^\s\"<>]*$", re.IGNORECASE)
_WS = re.compile(r"[ \t\n\r\f\v]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _TreeBuilder(HTMLParser):
    """Just enough of HTML's tree building: void elements, implied end tags, stray end tags ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack: list[_Node] = [self.root]
        self.title: str | None = None
        self._in_title = False

    def _close(self, names: frozenset[str] | set[str], boundary: frozenset[str] | set[str]) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[i].tag
            if tag in names:
                del self.stack[i:]
                return
            if tag in boundary:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, self_closing: bool) -> None:
        if tag == "title" and not self_closing:
            self._in_title = self.title is None
        if tag in _CLOSES_P:
            self._close({"p"}, {"td", "th", "li", "table", "blockquote", *_CONTAINERS} - {"p"})
        if tag == "li":
            self._close({"li"}, _LISTS | {"table"})
        elif tag in ("dt", "dd"):
            self._close({"dt", "dd"}, {"dl", "table"})
        elif tag == "tr":
            self._close({"tr"}, {"table"})
        elif tag in ("td", "th"):
            self._close({"td", "th"}, {"tr", "table"})
        elif tag in ("thead", "tbody", "tfoot"):
            self._close({"thead", "tbody", "tfoot"}, {"table"})
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID and not self_closing and len(self.stack) < _MAX_DEPTH:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data
        children = self.stack[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def _dropped(node: _Node) -> bool:
    return node.tag in _DROP or "no-pdf" in node.classes() or "hidden" in node.attrs


def _number(value: str | None, *, percent: bool = True) -> str | None:
    match = _NUMBER.match(value or "")
    if not match or (match.group(2) and not percent) or float(match.group(1)) <= 0:
        return None
    return match.group(1) + match.group(2)


def _attrs(node: _Node) -> str:
    """The attributes fpdf2 understands on this tag, only with values it can parse."""
    a, out = node.attrs, {}
    tag = node.tag
    if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6") and a.get("align", "").lower() in (
            "left", "center", "right", "justify"):
        out["align"] = a["align"].lower()
    elif tag == "ul":
        kind = a.get("type", "")
        if kind in ("disc", "circle") or (len(kind) == 1 and kind.isprintable() and not kind.isspace()):
            out["type"] = kind
    elif tag == "ol":
        if a.get("type") in ("1", "a", "A", "i", "I"):
            out["type"] = a["type"]
        if a.get("start", "").strip().isdigit() and 0 < int(a["start"]) < 10_000:
            out["start"] = a["start"].strip()
    elif tag == "font":
        if _COLOR.match(a.get("color", "")):
            out["color"] = a["color"]
        size = a.get("size", "").strip()
        if size in _HTML_FONT_SIZES:
            out["size"] = str(_HTML_FONT_SIZES[size])
    elif tag == "a" and _SAFE_HREF.match(a.get("href", "").strip()):
        out["href"] = a["href"].strip()
    if tag in ("p", "ul", "ol"):
        out["line-height"] = "1.2"  # fpdf2 reads this (non-standard) attribute; its default of 1.0 is cramped
    style = a.get("style", "").replace(" ", "").lower()
    if tag in _TEXT_BLOCKS and ("page-break-before:always" in style or "break-before:page" in style):
        out["style"] = "break-before: page"
    return "".join(f' {k}="{htmllib.escape(v, quote=True)}"' for k, v in out.items())


def _text(node: _Node | str, *, keep_lines: bool = False) -> str:
    """The visible text of a subtree: <br> and block ends become line breaks when `keep_lines`."""
    parts: list[str] = []

    def walk(n: _Node | str) -> None:
        if isinstance(n, str):
            parts.append(n)
            return
        if _dropped(n):
            return
        if n.tag == "br":
            parts.append("\n")
            return
        for child in n.children:
            walk(child)
        if n.tag in _BLOCKS:
            parts.append("\n" if n.tag not in ("td", "th") else " ")

    walk(node)
    raw = "".join(parts)
    if not keep_lines:
        return _WS.sub(" ", raw).strip()
    lines = (_WS.sub(" ", line).strip() for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


def _raw_text(node: _Node) -> str:
    """Text of a <pre>: whitespace kept as written."""
    parts: list[str] = []
    for child in node.children:
        if isinstance(child, str):
            parts.append(child)
        elif not _dropped(child):
            parts.append("\n" if child.tag == "br" else _raw_text(child))
    return "".join(parts).strip("\n")


def _has_block(node: _Node) -> bool:
    return any(isinstance(c, _Node) and not _dropped(c) and (c.tag in _BLOCKS or _has_block(c))
               for c in node.children)


def _rows(table: _Node) -> list[_Node]:
    rows: list[_Node] = []

    def walk(n: _Node) -> None:
        for c in n.children:
            if isinstance(c, _Node) and not _dropped(c):
                if c.tag == "tr":
                    rows.append(c)
                elif c.tag in ("thead", "tbody", "tfoot"):
                    walk(c)

    walk(table)
    return rows


class _Writer:
    def __init__(self, tables: bool) -> None:
        self.tables = tables
        self.out: list[str] = []

    def children(self, node: _Node, *, inline: bool, in_li: bool = False) -> None:
        for child in node.children:
            if isinstance(child, str):
                # whitespace between blocks still separates inline neighbours ("</font> <a>")
                self.out.append(htmllib.escape(child if inline or child.strip() else " ", quote=False))
            else:
                self.element(child, inline=inline, in_li=in_li)

    def element(self, node: _Node, *, inline: bool, in_li: bool) -> None:
        tag = node.tag
        if _dropped(node):
            return
        if tag == "br":
            self.out.append("<br>")
        elif tag == "hr":
            self.out.append("<br>" if inline else "<hr>")
        elif tag == "table":
            self.table(node, inline=inline)
        elif tag in _INLINE_KEEP:
            name = {"strong": "b", "strike": "s"}.get(tag, tag)
            self.out.append(f"<{name}>")
            self.children(node, inline=True)
            self.out.append(f"</{name}>")
        elif tag in ("font", "small") or (tag == "a" and _attrs(node)):
            name, attrs = ("font", ' size="8"') if tag == "small" else (tag, _attrs(node))
            self.out.append(f"<{name}{attrs}>")
            self.children(node, inline=True)
            self.out.append(f"</{name}>")
        elif tag in _TEXT_BLOCKS:
            if inline:
                heading = tag.startswith("h") and tag[1:].isdigit()
                self.out.append("<b>" if heading else " ")
                self.children(node, inline=True)
                self.out.append("</b> " if heading else " ")
            elif tag == "pre":
                self.out.append(f"<pre>{htmllib.escape(_raw_text(node), quote=False)}</pre>")
            else:
                self.out.append(f"<{tag}{_attrs(node)}>")
                self.children(node, inline=True, in_li=tag == "li")
                self.out.append(f"</{tag}>")
        elif tag in _LISTS:
            if inline and not in_li:
                self.children(node, inline=True)
                return
            name = "ul" if tag == "menu" else tag
            self.out.append(f"<{name}{_attrs(node)}>")
            self.children(node, inline=False)
            self.out.append(f"</{name}>")
        elif tag in _CONTAINERS and not inline:
            if _has_block(node):
                self.children(node, inline=False)
            elif _text(node):
                self.out.append("<p>")
                self.children(node, inline=True)
                self.out.append("</p>")
        else:  # span, i, em, label, unknown tags, containers in running text: keep the content only
            if tag in _CONTAINERS:
                self.out.append(" ")
            self.children(node, inline=inline, in_li=in_li)

    def table(self, node: _Node, *, inline: bool) -> None:
        grid: list[list[tuple[_Node, str]]] = []
        for row in _rows(node):
            cells = [(c, _text(c, keep_lines=True)) for c in row.children
                     if isinstance(c, _Node) and c.tag in ("td", "th") and not _dropped(c)]
            if cells:
                grid.append(cells)
        captions = [c for c in node.children if isinstance(c, _Node) and c.tag == "caption"]
        caption = " ".join(_text(c) for c in captions if not _dropped(c)).strip()
        if not any(text for row in grid for _, text in row):
            if caption and not inline:
                self.out.append(f"<p><b>{htmllib.escape(caption, quote=False)}</b></p>")
            return
        if inline or not self.tables:
            if caption:
                self.out.append(f"<p><b>{htmllib.escape(caption, quote=False)}</b></p>" if not inline
                                else htmllib.escape(caption, quote=False) + " ")
            for cells in grid:
                line = " · ".join(text.replace("\n", ", ") for _, text in cells if text)
                if line:
                    escaped = htmllib.escape(line, quote=False)
                    self.out.append(f"{escaped}<br>" if inline else f"<p>{escaped}</p>")
            return
        self._grid(node, grid, caption)

    def _grid(self, node: _Node, grid: list[list[tuple[_Node, str]]], caption: str) -> None:
        def span(cell: _Node) -> int:
            value = cell.attrs.get("colspan", "1").strip()
            return min(int(value), 40) if value.isdigit() and int(value) > 0 else 1

        columns = max(sum(span(c) for c, _ in row) for row in grid)
        header = all(c.tag == "th" for c, _ in grid[0]) and len(grid) > 1
        first = grid[0]
        widths = [_number(c.attrs.get("width")) for c, _ in first]
        keep_widths = len(first) == columns and all(widths) and all(span(c) == 1 for c, _ in first)
        border = node.attrs.get("border", "").strip()
        align = node.attrs.get("align", "").strip().lower()
        attrs = {"width": _number(node.attrs.get("width")),
                 "border": border if border.isdigit() else None,
                 "cellpadding": _number(node.attrs.get("cellpadding"), percent=False) or "1",
                 "cellspacing": _number(node.attrs.get("cellspacing"), percent=False),
                 "align": align if align in ("left", "center", "right") else None}
        if caption:
            self.out.append(f"<p><b>{htmllib.escape(caption, quote=False)}</b></p>")
        self.out.append("<table" + "".join(f' {k}="{v}"' for k, v in attrs.items() if v) + ">")
        for r, row in enumerate(grid):
            self.out.append("<tr>")
            used = 0
            for i, (cell, text) in enumerate(row):
                cell_span = min(span(cell), columns - used)
                used += cell_span
                heading = cell.tag == "th" and r == 0 and header
                bold = cell.tag == "th" or any(
                    isinstance(d, _Node) and d.tag in ("b", "strong") for d in _descendants(cell))
                extra = ""
                if cell_span > 1:
                    extra += f' colspan="{cell_span}"'
                if r == 0 and keep_widths:
                    extra += f' width="{widths[i]}"'
                cell_align = cell.attrs.get("align", "").strip().lower()
                extra += f' align="{cell_align if cell_align in ("left", "center", "right") else "left"}"'
                color = cell.attrs.get("bgcolor", "")
                if _COLOR.match(color):
                    extra += f' bgcolor="{color}"'
                escaped = htmllib.escape(text, quote=False)
                name = "th" if heading else "td"
                body = f"<b>{escaped}</b>" if bold and escaped and not heading else escaped
                self.out.append(f"<{name}{extra}>{body}</{name}>")
            self.out.append("<td></td>" * (columns - used))
            self.out.append("</tr>")
        self.out.append("</table>")


def _descendants(node: _Node) -> Iterator[_Node | str]:
    for child in node.children:
        yield child
        if isinstance(child, _Node):
            yield from _descendants(child)


def pdf_html(html: str, *, tables: bool = True) -> tuple[str, str | None]:
    """The HTML reduced to what fpdf2's write_html renders well, and the document's <title>."""
    builder = _TreeBuilder()
    builder.feed(_CONTROL.sub("", html))
    builder.close()
    writer = _Writer(tables)
    writer.children(builder.root, inline=False)
    title = _WS.sub(" ", builder.title).strip() if builder.title else None
    return "".join(writer.out), title


def _plain_paragraphs(html: str) -> list[str]:
    builder = _TreeBuilder()
    builder.feed(_CONTROL.sub("", html))
    builder.close()
    return _text(builder.root, keep_lines=True).split("\n")


# --- the PDF ----------------------------------------------------------------------------------------------


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT_FAMILY, size=7.5)
        self.set_text_color(*_SOFT)
        self.cell(0, 5, f"Pagina {self.page_no()} van {{nb}}", align="R")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """fpdf2 and fontTools log about unmatched tags, missing glyphs and subsetting: not for the user."""
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _tag_styles() -> dict[str, Any]:
    def heading(size: float, top: float) -> TextStyle:
        # fpdf2 multiplies a heading's b_margin by its line height
        return TextStyle(font_family=FONT_FAMILY, font_style="B", font_size_pt=size, color=_ACCENT,
                         t_margin=top, b_margin=0.35)

    return {
        "h1": heading(17, 2), "h2": heading(12.5, 1.5), "h3": heading(11, 1.5), "h4": heading(10.5, 3),
        "h5": heading(10, 3), "h6": heading(10, 3),
        "code": FontFace(family=FONT_FAMILY),
        "pre": TextStyle(font_family=FONT_FAMILY, t_margin=3),
        "blockquote": TextStyle(font_family=FONT_FAMILY, color=_SOFT, t_margin=3, b_margin=3, l_margin=6),
        "a": FontFace(color=_ACCENT, emphasis="UNDERLINE"),
        "li": TextStyle(l_margin=6, t_margin=1.5),
        "p": TextStyle(t_margin=0, b_margin=1.5),
    }


def _new_pdf(text: str, title: str | None, creation_date: datetime | None) -> FPDF:
    pdf = _Document(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(left=18, top=14, right=18)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_creator(f"asr-batch {__version__}")
    pdf.set_author("asr-batch")
    pdf.set_lang("nl-NL")
    if title:
        pdf.set_title(title)
    if creation_date is not None:
        pdf.set_creation_date(creation_date)
    _register_fonts(pdf, text + (title or "") + "0123456789 Paginavn")
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(*_LINE)
    pdf.set_line_width(0.2)
    pdf.add_page()
    return pdf


def _write_html(body: str, title: str | None, creation_date: datetime | None) -> bytes:
    pdf = _new_pdf(body, title, creation_date)
    pdf.write_html(body, font_family=FONT_FAMILY, tag_styles=_tag_styles(), table_line_separators=True,
                   li_prefix_color=_INK, warn_on_tags_not_matching=False)
    return bytes(pdf.output())


def _write_plain(paragraphs: list[str], title: str | None, creation_date: datetime | None) -> bytes:
    pdf = _new_pdf("\n".join(paragraphs), title, creation_date)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def html_to_pdf(html: str, *, creation_date: datetime | None = None) -> bytes:
    """An A4 PDF of `html` (a document rendered with medium="pdf"). Deterministic for a fixed
    `creation_date`. Raises PdfError (Dutch message) when even a plain-text PDF cannot be made."""
    errors: list[BaseException] = []
    with _quiet():
        for tables in (True, False):
            try:
                body, title = pdf_html(html, tables=tables)
                return _write_html(body, title, creation_date)
            except Exception as exc:  # fpdf2 raises many types; try a simpler form
                errors.append(exc)
        try:
            _, title = pdf_html(html)
            return _write_plain(_plain_paragraphs(html), title, creation_date)
        except Exception as exc:
            errors.append(exc)
    first = errors[0]
    # The message names only the kind of failure: fpdf2's own text could quote document content (a secret).
    raise PdfError(
        f"Van dit document kon geen PDF worden gemaakt ({type(first).__name__}). Gebruik --format html, of "
        "vereenvoudig het eigen sjabloon aanmelding.html (koppen, alinea's, lijsten en eenvoudige tabellen)."
    ) from first
