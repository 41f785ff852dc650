"""The README is part of the contract: its commands, column table and exit codes must stay current, and every
link in it and in the reference it points to (docs/, benchmarks/README.md) must lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from batch.cli import main
from batch.fields import readme_table

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINKING_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]


def test_quick_start_is_exactly_the_two_commands() -> None:
    block = README.split("## Quick start", 1)[1].split("```", 2)[1]
    assert block.strip().splitlines() == [
        "pip install . && asr-batch process samples/werkgevers.xlsx",
        "pip install '.[test]' && pytest",
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install '.[test]' && pytest" in ci.splitlines()


def test_ci_runs_the_postgresql_and_browser_tests_rather_than_skipping_them() -> None:
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    exported = {word for line in ci.splitlines() if line.startswith("export ") for word in line.split()[1:]}
    assert {"ASR_BATCH_REQUIRE_POSTGRES=1", "ASR_BATCH_REQUIRE_BROWSER=1"} <= exported
    assert "apt-get install" in ci and "packages+=(chromium)" in ci and "packages+=(postgresql)" in ci


def test_column_table_matches_the_field_table() -> None:
    assert readme_table() in README


def test_every_command_and_option_is_documented() -> None:
    for name, command in main.commands.items():
        assert f"asr-batch {name}" in README, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in ("--help",):
                    assert f"`{opt}" in README or f" {opt}" in README, f"{name} {opt}"


def test_exit_code_table_names_codes_0_1_2() -> None:
    section = README.split("### Exit codes", 1)[1].split("##", 1)[0]
    codes = re.findall(r"^\| ([0-9]) \|", section, flags=re.M)
    assert codes == ["0", "1", "2"]


def test_usage_errors_are_dutch_and_exit_2() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "batch.cli", "validate"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert "het argument WERKMAP ontbreekt" in done.stderr  # issue 28: no Click word (FILE) left
    assert "Traceback" not in done.stderr


def _without_code_blocks(markdown: str) -> str:
    return re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)


def _github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lowercase, punctuation but '-' and '_' dropped, spaces to '-',
    and a repeated anchor numbered -1, -2, ..."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _without_code_blocks(markdown), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        numbered, n = slug, 0
        while numbered in anchors:
            n += 1
            numbered = f"{slug}-{n}"
        anchors.add(numbered)
    return anchors


def _relative_links(markdown: str) -> list[str]:
    # Inline code is not markup: a bracket or parenthesis in it is no link.
    text = re.sub(r"`[^`\n]*`", "code", _without_code_blocks(markdown))
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)", text)
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_every_relative_link_resolves() -> None:
    broken = []
    for source in LINKING_FILES:
        for target in _relative_links(source.read_text(encoding="utf-8")):
            path, _, anchor = target.partition("#")
            linked = (source.parent / path).resolve() if path else source
            if not linked.is_file():
                broken.append(f"{source.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _github_anchors(linked.read_text("utf-8")):
                broken.append(f"{source.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_readme_links_every_page_of_docs() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _relative_links(README)}
    assert {page.resolve() for page in (ROOT / "docs").glob("*.md")} <= linked
    assert (ROOT / "benchmarks" / "README.md").resolve() in linked
