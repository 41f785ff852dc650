"""axe-core in the browser tests: every page of `asr-batch serve` and every HTML file asr-batch writes is audited
against WCAG 2.1 A and AA (tests/test_accessibility.py).

axe-core comes from the `axe-playwright-python` package of the test extra, which ships axe-core's own build
(axe.min.js, MPL-2.0, its licence in the file's header); nothing is fetched at test time. The script is evaluated
in the page through the DevTools protocol, which the pages' Content-Security-Policy does not govern, so the pages
are audited with the very headers they are served with.
"""

from __future__ import annotations

from typing import Any

# WCAG 2.1 A and AA, as axe-core tags its rules: 2.0's rules and the ones 2.1 added.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
INSTALL_HINT = "pip install '.[test]' (axe-playwright-python brings axe-core)"


def missing() -> str | None:
    """Why axe-core cannot be had here, or None."""
    try:
        import axe_playwright_python.base  # noqa: F401
    except ImportError:
        return f"axe-core is not installed: {INSTALL_HINT}"
    return None


def _script() -> str:
    from axe_playwright_python.base import AXE_FILE_PATH

    return AXE_FILE_PATH.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.1 A/AA on the page as it is now (its DOM, its styles, what is shown)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_script())
    result = page.evaluate("options => axe.run(document, options)",
                           {"runOnly": {"type": "tag", "values": list(TAGS)}, "resultTypes": ["violations"]})
    found: list[dict[str, Any]] = result["violations"]
    return found


def describe(found: list[dict[str, Any]]) -> str:
    """One line per violation: the rule, its impact, what it asks, and the selectors of every element at fault."""
    lines = []
    for violation in found:
        targets = ", ".join(" ".join(str(part) for part in node["target"]) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -- {targets}")
    return "\n".join(lines)
