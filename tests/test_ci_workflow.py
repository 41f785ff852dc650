"""The owner's GitHub workflow (.github/workflows/ci.yml) is valid and runs what `.ci/run` runs: the README's test
command, on Windows, macOS and Linux, on the oldest Python asr-batch supports and the newest it is tested on.

Validity is checked against the GitHub workflow schema that check-jsonschema ships (from SchemaStore), offline."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
README = (ROOT / "README.md").read_text(encoding="utf-8")
TEST_COMMAND = README.split("## Quick start", 1)[1].split("```", 2)[1].strip().splitlines()[1]


def _workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def _check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, check=False, timeout=120)


def test_the_workflow_is_a_valid_github_workflow(tmp_path: Path) -> None:
    done = _check_schema(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    # ...and the check can fail: the same file with a job that names no runner
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "runs_on:"), encoding="utf-8")
    refused = _check_schema(broken)
    assert refused.returncode == 1 and "'runs-on' is a required property" in refused.stdout


def test_the_matrix_is_three_systems_on_the_oldest_and_the_newest_python() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    oldest = requires.removeprefix(">=")
    newest = re.search(r"tested on 3\.11 and (3\.\d+)", README)
    assert newest is not None, "the README says which newest Python is tested"
    (job,) = _workflow()["jobs"].values()
    matrix = job["strategy"]["matrix"]
    assert sorted(matrix["os"]) == ["macos-latest", "ubuntu-latest", "windows-latest"]
    assert matrix["python-version"] == [oldest, newest.group(1)]  # strings: YAML would read 3.10 as 3.1
    assert job["runs-on"] == "${{ matrix.os }}"
    assert job["strategy"]["fail-fast"] is False
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"


def test_the_workflow_runs_the_readme_test_command_as_ci_run_does() -> None:
    assert TEST_COMMAND == "pip install '.[test]' && pytest"
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    workflow = _workflow()
    (job,) = workflow["jobs"].values()
    runs = [step for step in job["steps"] if "run" in step]
    assert runs[-1]["run"].strip() == TEST_COMMAND
    assert runs[-1]["shell"] == "bash"  # the same command on Windows too, not PowerShell's reading of it
    assert [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s] == ["actions/checkout",
                                                                              "actions/setup-python"]
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)


def test_browser_and_postgresql_tests_may_skip_on_github() -> None:
    """Runners without Chromium or PostgreSQL's programs skip those tests with their reason, as they do on a
    developer's machine; only `.ci/run` makes them compulsory."""
    assert "ASR_BATCH_REQUIRE" not in re.sub(r"#.*", "", WORKFLOW.read_text(encoding="utf-8"))
