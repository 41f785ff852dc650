"""What a page or a document may do in the browser: the Content-Security-Policy of every answer, without
'unsafe-inline'. An inline script or style runs only when the sha256 hash of its text is listed.

- A page runs its script from /pagina.js only ('self'); its one style (from _basis.html, in <head>) is listed by
  the hash of the page as rendered.
- A document (overzicht.html, foutenrapport.html, a registration document) runs only the scripts of the built-in
  templates: their hashes are taken from the templates once, so a script that is not the tool's own does not run
  even if one got into the file. Its styles are listed by the hashes of the <style> elements in the file's <head>,
  read when it is served: a workbook's values are only ever in the <body> and the escaped <title>, and under
  default-src 'none' a style can load nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path

_PAGE_REST = "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
_DOCUMENT_REST = "img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
# An answer of the page that is not a rendered page (a redirect, /pagina.js): nothing inline at all.
PAGE_POLICY = f"default-src 'none'; script-src 'self'; style-src 'none'; {_PAGE_REST}"
# A document whose file could not be read for its styles: it shows unstyled rather than allowing more.
DOCUMENT_POLICY = f"default-src 'none'; script-src 'none'; style-src 'none'; {_DOCUMENT_REST}"
_HEAD_AT_MOST = 256 * 1024  # characters of a document read for its <head>: a few KB in every built-in template

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)  # no attributes: not a src= script
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_TEMPLATES_WITH_SCRIPT = ("_basis.html", "overzicht.html", "foutenrapport.html", "aanmelding.html")


def _hash(text: str) -> str:
    # An HTML parser turns CR LF and a lone CR into LF before anything sees the text: a file written on Windows
    # has the same hash as the template.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _sources(hashes: list[str]) -> str:
    return " ".join(dict.fromkeys(hashes)) or "'none'"


def _head(html: str) -> str:
    end = html.find("<body")
    return html[:end] if end >= 0 else ""


def page_policy(html: str) -> str:
    """The policy of a page rendered by the app: its own script file, its own style."""
    styles = _sources([_hash(s) for s in _STYLE.findall(_head(html))])
    return f"default-src 'none'; script-src 'self'; style-src {styles}; {_PAGE_REST}"


@functools.cache
def document_scripts() -> tuple[str, ...]:
    """The hashes of the inline scripts in the built-in templates (a script with template code in it has none:
    it would not run, and the browser tests would say so)."""
    from batch.render import make_environment

    env = make_environment()
    hashes = []
    for name in _TEMPLATES_WITH_SCRIPT:
        source = env.loader.get_source(env, name)[0] if env.loader else ""
        hashes += [_hash(s) for s in _INLINE_SCRIPT.findall(source) if "{{" not in s and "{%" not in s]
    return tuple(hashes)


def document_policy(path: Path) -> str:
    """The policy of a document the page serves: the built-in templates' scripts, the styles of its <head>."""
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            head = _head(file.read(_HEAD_AT_MOST))
    except OSError:
        return DOCUMENT_POLICY
    styles = _sources([_hash(s) for s in _STYLE.findall(head)])
    scripts = _sources(list(document_scripts()))
    return f"default-src 'none'; script-src {scripts}; style-src {styles}; {_DOCUMENT_REST}"
