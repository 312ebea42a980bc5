"""The public autotests: a test module's source without its instructor-only code.

Every test marked ``@pytest.mark.hidden`` (a function, a class, or a method of a class)
is cut from the source with :mod:`ast`, with its decorators and the comment block above
it; so are the ``variants=`` of each ``Mistake(...)`` and the ``ANSWERS`` table (they
compute answers from the reference, and their code can be the solution itself: the
bundle names mistakes from their digests instead); and so is every module-level name (an
input array, a helper, a fixture) that only the cut code used: students never see a
hidden test's inputs. A hidden marker that cannot be cut by itself stops the release
rather than being guessed at.
"""

from __future__ import annotations

import ast
import re
from typing import TypeGuard

from grader.errors import ReleaseError


# Raised here first, by the cutting of hidden tests, and by the rest of the release.
# A statement that can carry a hidden marker: a test function or a class of tests.
_Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _is_hidden_marker(node: ast.AST) -> bool:
    """``pytest.mark.hidden``, ``mark.hidden``, or either called."""
    if isinstance(node, ast.Call):
        node = node.func
    if not (isinstance(node, ast.Attribute) and node.attr == "hidden"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
        isinstance(owner, ast.Name) and owner.id == "mark")


def _mentions_hidden(node: ast.AST) -> bool:
    return any(_is_hidden_marker(child) for child in ast.walk(node))


def is_hidden(node: ast.stmt) -> TypeGuard[_Definition]:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and any(
        _is_hidden_marker(d) for d in node.decorator_list)


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else (
        [node.target] if isinstance(node, ast.AnnAssign) else [])
    names = set()
    for target in targets:
        names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _used_names(node: ast.AST) -> set[str]:
    """Names a node reads, including parameter names (how pytest asks for a fixture)."""
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    used |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    return used


def _node_lines(node: ast.stmt, lines: list[str]) -> range:
    """The source lines of a statement with its decorators and the comment block above it."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return range(first, (node.end_lineno or node.lineno) + 1)  # end_lineno: set by ast.parse


def _offset(lines: list[str], line: int, column: int) -> int:
    """The character offset of ``column`` (in UTF-8 bytes, as ast counts) on ``line``."""
    text = lines[line - 1].encode("utf-8")[:column].decode("utf-8")
    return sum(len(lines[i]) for i in range(line - 1)) + len(text)


def without_variants(source: str, origin: str = "<autotest>") -> tuple[str, set[str]]:
    """``source`` with the ``variants=`` argument of every ``Mistake(...)`` call cut, and
    the names those arguments used."""
    tree = ast.parse(source, origin)
    lines = source.splitlines(keepends=True)
    spans, used = [], set()
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "Mistake"):
            continue
        arguments: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
        arguments.sort(key=lambda n: (n.lineno, n.col_offset))
        for before, keyword in zip(arguments, arguments[1:], strict=False):
            if isinstance(keyword, ast.keyword) and keyword.arg == "variants":
                spans.append((_offset(lines, before.end_lineno or 0, before.end_col_offset or 0),
                              _offset(lines, keyword.end_lineno or 0,
                                      keyword.end_col_offset or 0)))
                used |= _used_names(keyword.value)
    for start, end in sorted(spans, reverse=True):
        source = source[:start] + source[end:]
    return source, used


def _is_answers(node: ast.stmt) -> bool:
    return "ANSWERS" in _defined_names(node)


def public_source(source: str, origin: str = "<autotest>") -> tuple[str, list[str], list[str]]:
    """``source`` without its instructor-only code and what only it used; the tests and
    names cut.

    Raises ReleaseError when a hidden marker remains that cannot be cut by itself
    (a module-wide ``pytestmark`` or a hidden ``pytest.param``): a bundle never guesses.
    """
    source, hidden_uses = without_variants(source, origin)
    tree = ast.parse(source, origin)
    lines = source.splitlines(keepends=True)
    cut: set[int] = set()
    removed: list[str] = []
    orphaned: list[str] = []
    for node in tree.body:
        if _is_answers(node):
            cut.update(_node_lines(node, lines))
            orphaned.append("ANSWERS")
            hidden_uses |= _used_names(node)
        elif is_hidden(node):
            cut.update(_node_lines(node, lines))
            removed.append(node.name)
            hidden_uses |= _used_names(node)
        elif isinstance(node, ast.ClassDef) and any(is_hidden(m) for m in node.body):
            rest = [m for m in node.body if not is_hidden(m) and not (
                isinstance(m, ast.Expr) and isinstance(m.value, ast.Constant))]
            if not rest:  # a class of hidden tests only: an empty body would not parse
                cut.update(_node_lines(node, lines))
                removed.append(node.name)
                hidden_uses |= _used_names(node)
                continue
            for member in node.body:
                if is_hidden(member):
                    cut.update(_node_lines(member, lines))
                    removed.append(f"{node.name}.{member.name}")
                    hidden_uses |= _used_names(member)
    # Then, until nothing changes: module-level names that only the cut code used.
    while True:
        kept = [n for n in tree.body if not set(_node_lines(n, lines)) <= cut]
        orphans = []
        for node in kept:
            names = _defined_names(node)
            if not names or not names <= hidden_uses or any(
                    name.startswith("test") for name in names):
                continue
            used_elsewhere = set().union(*(_used_names(other) for other in kept
                                           if other is not node))
            if not names & used_elsewhere:
                orphans.append(node)
        if not orphans:
            break
        for node in orphans:
            cut.update(_node_lines(node, lines))
            orphaned += sorted(_defined_names(node))
            hidden_uses |= _used_names(node)
    text = "".join(line for number, line in enumerate(lines, start=1) if number not in cut)
    text = re.sub(r"\n{3,}(?=\S)", "\n\n\n", text).rstrip("\n") + "\n"
    if _mentions_hidden(ast.parse(text, origin)):
        raise ReleaseError(f"{origin}: a hidden marker is left that is not on a test function "
                           "or class (pytestmark or pytest.param?); cut it by hand first")
    return text, removed, orphaned


def hidden_test_names(source: str) -> list[str]:
    """The names of the tests in ``source`` marked hidden."""
    tree = ast.parse(source)
    names = []
    for node in ast.walk(tree):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and is_hidden(node)):
            names.append(node.name)
    return names
