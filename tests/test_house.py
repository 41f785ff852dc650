"""The house rules of batch/ (issue 23), counted the same way every time so that they stay true.

- No module over 400 lines, no function over 80, no class over 250 (lines as the file has them, docstrings and
  comments included: what a newcomer has to read).
- No import cycle between the modules of batch/: every import counts, also one inside a function (kept lazy for a
  fast start, it is still a dependency); only imports under `if TYPE_CHECKING:` do not, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "batch"
MAX_MODULE, MAX_FUNCTION, MAX_CLASS = 400, 80, 250


def _modules() -> dict[str, Path]:
    """batch's modules by dotted name (a package by its own name, not `.__init__`)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes under `if TYPE_CHECKING:`."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def _imports(name: str, path: Path) -> set[str]:
    """The modules of batch that `name` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from batch.register import store` imports a module; `from batch.register import locate` a name
            targets |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names}
    return {target for target in targets if target in MODULES and target != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_edge(source: str, target: str) -> bool:
    """A package's __init__ importing its own submodules to re-export them is how a package is made, not a cycle;
    a submodule importing its package's __init__ back would be."""
    return target.startswith(source + ".")


def test_no_import_cycle() -> None:
    graph = {name: {t for t in _imports(name, path) if not _package_edge(name, t)} for name, path in MODULES.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_function_or_class_too_long(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    too_long = []
    if len(source.splitlines()) > MAX_MODULE:
        too_long.append(f"module: {len(source.splitlines())} lines")
    for node in ast.walk(ast.parse(source)):
        limit = (MAX_CLASS if isinstance(node, ast.ClassDef)
                 else MAX_FUNCTION if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None)
        if limit is not None and node.end_lineno is not None:
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                too_long.append(f"{node.name}: {lines} lines")
    assert too_long == []


def test_every_package_is_in_the_wheel() -> None:
    """pyproject.toml lists the packages by hand (batch.templates comes from templates/): a new subpackage left out
    of that list would be missing from the installed tool, while every test run from the checkout still passes."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert packages - listed == set()
