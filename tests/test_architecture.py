"""The architecture, as the folders show it, held by the imports.

``grader/`` is built in wings, each allowed to import only the wings below it:

    cli  ->  course  ->  api  ->  grading  ->  sandbox, reports  ->  errors, contract

``grader/sandbox/inside/`` and ``grader/sandbox/wire.py`` run next to student code, copied
into every worker's folder: they import only the standard library (numpy where a worker
must have it) and each other, and nothing outside ``grader/sandbox/`` imports ``inside/``.
These tests read the source with :mod:`ast`; they import nothing of the grader.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parent.parent / "grader"

# What each wing may import besides itself.
BASE = {"grader", "grader.errors", "grader.contract"}
ALLOWED = {
    "base": {"base"},
    "sandbox": {"base"},
    "reports": {"base"},
    "grading": {"base", "sandbox", "reports"},
    "api": {"base", "sandbox", "reports", "grading"},
    "course": {"base", "sandbox", "reports", "grading", "api"},
    "cli": {"base", "sandbox", "reports", "grading", "api", "course"},
}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(GRADER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(GRADER.rglob("*.py"))}


def wing(module: str) -> str:
    if module in BASE:
        return "base"
    if module in ("grader.cli", "grader.__main__"):
        return "cli"
    if module == "grader.api":
        return "api"
    parts = module.split(".")
    assert len(parts) >= 2 and parts[1] in ALLOWED, f"{module} is in no wing"
    return parts[1]


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(module: str, typing_too: bool = True) -> set[str]:
    """Every module ``module`` imports, anywhere in its body (functions too), resolved to
    grader modules where they are ours; with ``typing_too`` False, leaving out imports
    made only for the type checker."""
    path = modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    if not typing_too:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _type_checking_only(node):
                skip |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules() else base)
    return found


def ours(names: set[str]) -> set[str]:
    return {name for name in names if name == "grader" or name.startswith("grader.")}


@pytest.mark.parametrize("module", sorted(modules()))
def test_each_module_imports_only_the_wings_below_it(module):
    """Does every grader module import only its own wing and the wings below it?"""
    allowed = ALLOWED[wing(module)] | {wing(module)}
    wrong = sorted(name for name in ours(imports(module)) if wing(name) not in allowed)
    assert not wrong, f"{module} ({wing(module)}) imports from a higher wing: {wrong}"


def test_the_import_graph_has_no_cycles():
    """Can the grader's modules be ordered so that each imports only modules before it?"""
    graph = {name: ours(imports(name, typing_too=False)) - {name} for name in modules()}
    # A package's __init__ is imported with any of its modules: not an edge of a cycle.
    graph = {name: {d for d in deps if not name.startswith(d + ".")}
             for name, deps in graph.items()}
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in path, "import cycle: " + " -> ".join(path[path.index(name):] + [name])
        path.append(name)
        for dependency in sorted(graph.get(name, ())):
            visit(dependency)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def inside_modules() -> list[str]:
    return sorted(name for name in modules()
                  if name.startswith("grader.sandbox.inside") or name == "grader.sandbox.wire")


@pytest.mark.parametrize("module", inside_modules())
def test_the_code_next_to_student_code_imports_only_the_standard_library(module):
    """Does the worker's program import nothing but the standard library, numpy and its own
    files (which are all that is copied next to student code)?"""
    copied = set(inside_modules()) | {"grader", "grader.sandbox", "grader.sandbox.inside"}
    foreign = sorted(name for name in imports(module)
                     if name not in copied and name.split(".")[0] not in sys.stdlib_module_names
                     and name.split(".")[0] != "numpy")
    assert not foreign, f"{module} imports {foreign}, which a worker's folder does not hold"


def test_nothing_outside_the_sandbox_imports_the_inside():
    """Does only grader/sandbox/ import grader/sandbox/inside/ (the worker's own program)?"""
    wrong = sorted(f"{module} imports {name}" for module in modules()
                   if not module.startswith("grader.sandbox")
                   for name in imports(module) if name.startswith("grader.sandbox.inside"))
    assert not wrong, wrong


def test_the_worker_program_copies_every_inside_module():
    """Does the list of files copied into a worker hold every module of inside/ and the
    wire, so that a new module there cannot be forgotten in the copy?"""
    copied = ast.literal_eval(next(
        node.value for node in ast.parse((GRADER / "sandbox" / "program.py").read_text()).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FILES"))
    expected = {path.relative_to(GRADER / "sandbox").as_posix()
                for path in (GRADER / "sandbox").rglob("*.py")
                if path.parent.name == "inside" or path.name == "wire.py"}
    assert set(copied) == expected


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_is_over_400_lines(module):
    """Is every grader module short enough to read in one sitting?"""
    lines = modules()[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def test_the_checker_itself_sees_a_forbidden_import(tmp_path, monkeypatch):
    """Would an upward import and a cycle be caught (the checks above can fail)?"""
    package = tmp_path / "grader"
    for folder in ("sandbox", "course"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "sandbox" / "a.py").write_text("from grader.course import b\n")
    (package / "course" / "b.py").write_text("def f():\n    from grader.sandbox import a\n")
    monkeypatch.setattr(sys.modules[__name__], "GRADER", package)
    modules.cache_clear()
    try:
        with pytest.raises(AssertionError, match="higher wing"):
            test_each_module_imports_only_the_wings_below_it("grader.sandbox.a")
        with pytest.raises(AssertionError, match="import cycle"):
            test_the_import_graph_has_no_cycles()
    finally:
        modules.cache_clear()


def test_every_error_a_user_can_meet_is_in_the_errors_module():
    """Is every GraderError subclass defined in grader/errors.py, where the CLI's exit
    codes are, and nowhere else?"""
    tree = ast.parse((GRADER / "errors.py").read_text(encoding="utf-8"))
    ours_ = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    elsewhere = []
    for module, path in modules().items():
        if module == "grader.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", "")) in ours_
                    for base in node.bases):
                elsewhere.append(f"{module}.{node.name}")
    assert "GraderError" in ours_ and not elsewhere, elsewhere
