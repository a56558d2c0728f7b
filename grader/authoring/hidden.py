"""A checks file without its hidden checks: what a learner's release ships.

The hidden checks are cut out of the source text, and so is every top-level
definition (a constant, a helper function, an import) that only they used, with
the comment lines directly above it: a corpus "you never saw" must leave with the
check that uses it. Whatever is kept stays byte for byte as the author wrote it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stripped:
    """The public part of a checks file, and what was cut (for the leak check)."""

    text: str
    removed_names: list[str] = field(default_factory=list)
    removed_lines: list[str] = field(default_factory=list)  # stripped code lines


def _defined(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds, when binding is all it does."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if all(isinstance(t, ast.Name) for t in targets):
            return {t.id for t in targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.Import):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.module != "__future__":
        return {a.asname or a.name for a in node.names}
    return set()


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _span(node: ast.stmt, lines: list[str]) -> range:
    """0-based line indices of `node`, its decorators and the comments right above it."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    return range(first, node.end_lineno or node.lineno)


def kept_statements(tree: ast.Module, hidden: set[str]) -> list[bool]:
    """For each top-level statement: does the public file keep it?"""
    body = tree.body
    keep = [not (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in hidden)
            for n in body]
    # A definition stays when anything kept uses one of its names (to a fixed point).
    changed = True
    while changed:
        changed = False
        used = set().union(*(_used(n) - _defined(n) for n, k in zip(body, keep) if k))
        for index, node in enumerate(body):
            names = _defined(node)
            wanted = not names or bool(names & used) or (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name not in hidden and node.name.startswith("test_"))
            if keep[index] and not wanted:
                keep[index] = False
                changed = True
    return keep


def strip_hidden(source: str, hidden: set[str]) -> Stripped:
    """`source` without the functions named in `hidden` and what only they needed."""
    tree = ast.parse(source)
    body = tree.body
    keep = kept_statements(tree, hidden)
    lines = source.splitlines(keepends=True)
    cut: set[int] = set()
    for node, kept in zip(body, keep):
        if not kept:
            cut.update(_span(node, lines))
    kept_code = {line.strip() for i, line in enumerate(lines) if i not in cut}
    removed_lines = sorted({lines[i].strip() for i in cut} - kept_code - {""})
    text = "".join(line for i, line in enumerate(lines) if i not in cut)
    text = re.sub(r"\n{4,}", "\n\n\n", text)  # two blank lines between definitions, as before
    removed = sorted(set().union(*(_defined(n) for n, k in zip(body, keep) if not k)))
    return Stripped(text=text.rstrip("\n") + "\n", removed_names=removed,
                    removed_lines=removed_lines)


def module_reach(nodes: list[ast.stmt], modules: set[str],
                 aliases: dict[str, str]) -> dict[str, set[str] | None]:
    """The names `nodes` reach in each of the local `modules` (`aliases`: alias -> module).

    `from m import X` reaches X; `m.X` (or `alias.X`) reaches X; the module used as a
    value (passed, iterated, `from m import *`) reaches all of it: None.
    """
    reach: dict[str, set[str] | None] = {}

    def add(module: str, names: set[str] | None) -> None:
        old = reach.get(module, set())
        reach[module] = None if old is None or names is None else old | names

    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module in modules and not node.level:
            found = {a.name for a in node.names}
            add(node.module, None if "*" in found else found)
        if isinstance(node, ast.Import):  # imported, so shipped, even if nothing is used
            for a in node.names:
                if a.name in modules:
                    add(a.name, set())
        bases: set[int] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                    and sub.value.id in aliases:
                add(aliases[sub.value.id], {sub.attr})
                bases.add(id(sub.value))
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in aliases and id(sub) not in bases:
                add(aliases[sub.id], None)
    return reach


def import_aliases(tree: ast.Module, modules: set[str]) -> dict[str, str]:
    """Names that `import m` / `import m as a` bind to the local modules in `modules`."""
    return {(a.asname or a.name): a.name for node in tree.body if isinstance(node, ast.Import)
            for a in node.names if a.name in modules}
