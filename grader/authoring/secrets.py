"""What only hidden checks own (names, data, helper modules), for the release's leak check.

A hidden check leaks through its code, not through English: its name and the names
of what was cut with it are matched as identifiers in shipped code, and its data
(the string literals of cut definitions and of containers in cut code, and of
helper modules only hidden checks import) is matched anywhere, docstrings and
comments included. A helper module that public checks import ships whole, so a name
in it that only hidden checks reach is refused outright.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.authoring.build import relative
from grader.authoring.hidden import import_aliases, kept_statements, module_reach
from grader.authoring.problems import Problem
from grader.checks import Check, local_modules
from grader.course import Course, Exercise

MIN_LITERAL = 4  # shorter strings ("a", "the") are everywhere and say nothing


@dataclass(frozen=True)
class Secret:
    """Something only hidden checks use, and where it came from (for the message)."""

    text: str
    origin: str
    identifier: bool  # a name: matched in code only; otherwise data, matched anywhere

    @property
    def shown(self) -> str:
        return f"`{self.text}`" if self.identifier else repr(self.text)


def _bound(node: ast.stmt) -> set[str]:
    """Names a top-level definition (not an import) binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {t.id for t in targets if isinstance(t, ast.Name)}
    return set()


def _names(nodes: list[ast.stmt]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        found |= _bound(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                found.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                found.add(sub.attr)
    return found


def _first_use(nodes: list[ast.stmt], name: str) -> int:
    """The first line of `nodes` that names `name` (as `name` or `alias.name`)."""
    return min((sub.lineno for node in nodes for sub in ast.walk(node)
                if (isinstance(sub, ast.Name) and sub.id == name)
                or (isinstance(sub, ast.Attribute) and sub.attr == name)
                or (isinstance(sub, ast.alias) and sub.name == name)), default=0)


def _strings(node: ast.AST) -> set[str]:
    return {s.value for s in ast.walk(node) if isinstance(s, ast.Constant)
            and isinstance(s.value, str)}


def _data(node: ast.stmt) -> set[str]:
    """The string literals of a definition that are data, not prose.

    An assignment's values are data; in a function, only literals inside containers
    (`{"apple": 0.5}`, `["the dog sat"]`) are: its messages and docstring are prose.
    """
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return _strings(node)
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Dict, ast.List, ast.Set, ast.Tuple)):
            found |= {s for s in _strings(sub)}
    return found


def _literal(text: str) -> bool:
    return len(text.strip()) >= MIN_LITERAL


def _helper_problems(course: Course, exercise: Exercise, checks_file: str, module: Path,
                     public: set[str], hidden_only: dict[str, int]) -> list[Problem]:
    """A shipped helper whose names only hidden checks reach: refused, name by name."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    defined = {name: node for node in tree.body for name in _bound(node)}
    # What the public checks reach, and what that reaches inside the module.
    reached, todo = set(), [n for n in public if n in defined]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += [n for n in _names([defined[name]]) if n in defined]
    where = relative(course, module)
    return [Problem(file=where, line=defined[name].lineno, exercise=exercise.id,
                    message=f"`{name}` ships in {where} because the public checks of "
                    f"{exercise.id} import {module.stem}, but only hidden checks use it "
                    f"({checks_file}:{line}); move it into a module only hidden checks "
                    "import")
            for name, line in sorted(hidden_only.items()) if name in defined
            and name not in reached]


def hidden_secrets(course: Course, exercise: Exercise,
                   hidden: list[Check]) -> tuple[list[Secret], list[Problem]]:
    """What the hidden checks of `exercise` own, and the helpers that would ship it."""
    path = course.checks_path(exercise)
    where = relative(course, path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keep = kept_statements(tree, {c.id for c in hidden})
    kept = [n for n, k in zip(tree.body, keep, strict=True) if k]
    cut = [n for n, k in zip(tree.body, keep, strict=True) if not k]
    public_names, public_strings = _names(kept), set().union(*map(_strings, kept))
    secrets = [s for c in hidden for s in (
        Secret(c.id, f"the hidden check {c.name!r} ({where}:{c.line})", True),
        Secret(c.name, f"the name of a hidden check ({where}:{c.line})", False))]
    for node in cut:
        owner = ", ".join(sorted(_bound(node))) or "an import"
        secrets += [Secret(name, f"used only by hidden checks ({where}:{node.lineno})", True)
                    for name in sorted(_bound(node) - public_names)]
        secrets += [Secret(text, f"data of {owner}, which only hidden checks use "
                           f"({where}:{node.lineno})", False)
                    for text in sorted(_data(node) - public_strings) if _literal(text)]
    modules = local_modules(path)
    aliases = import_aliases(tree, set(modules))
    shipped = module_reach(kept, set(modules), aliases)
    used = module_reach(cut, set(modules), aliases)
    problems: list[Problem] = []
    for name, module in modules.items():
        if name not in shipped:  # stays home: everything in it is the hidden checks'
            helper = ast.parse(module.read_text(encoding="utf-8"))
            origin = f"from {relative(course, module)}, which only hidden checks import"
            secrets.append(Secret(name, origin, True))
            for node in helper.body:
                secrets += [Secret(n, origin, True) for n in sorted(_bound(node))]
                secrets += [Secret(t, origin, False) for t in sorted(_data(node)) if _literal(t)]
            continue
        public, private = shipped[name], used.get(name, set())
        if public is None or private is None:
            continue  # the module is used as a whole: nothing to tell apart
        lines = {n: _first_use(cut, n) for n in private - public}
        problems += _helper_problems(course, exercise, where, module, public, lines)
    return secrets, problems
