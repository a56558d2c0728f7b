"""Mutants of a solution: small AST edits a wrong answer could make, each a runnable file.

Each operator finds its sites in the solution's syntax tree and rewrites only that
piece of the text (by byte offsets), so a mutant differs from the solution in one
spot and its diff is one line or two. Code under ``if __name__ == "__main__":`` is
never graded, so nothing there is mutated. Docstrings are never dropped.
"""

from __future__ import annotations

import ast
import copy
import difflib
from dataclasses import dataclass
from enum import Enum

# random.X(...) calls that produce a value, and the constant that replaces each
# (as a template over the call's first argument's text)
RANDOM_CONSTANTS = {
    "random": "0.5", "uniform": "{0}", "randint": "{0}", "randrange": "{0}",
    "choice": "{0}[0]", "gauss": "{0}", "triangular": "{0}",
}
# comparison -> the comparisons a mutant puts in its place (negated, loosened, reversed)
COMPARISONS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE, ast.Gt), ast.LtE: (ast.Lt, ast.Gt, ast.GtE),
    ast.Gt: (ast.GtE, ast.LtE, ast.Lt), ast.GtE: (ast.Gt, ast.Lt, ast.LtE),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}


class Operator(str, Enum):
    """The kinds of mutation; course.yaml and solution comments name them."""

    COMPARE = "compare"      # flip or loosen a comparison
    CONSTANT = "constant"    # a number by one, or to 0
    SWAP = "swap"            # swap the operands of a binary operation
    RETURN = "return"        # return None instead of the value
    DROP = "drop"            # drop a statement (it becomes `pass`)
    DICT = "dict"            # a dictionary value swapped with its neighbour's
    RANDOM = "random"        # a random call replaced by a constant


@dataclass(frozen=True)
class Mutant:
    """One mutant of a solution: where, what changed, and the whole mutated text."""

    id: str
    operator: Operator
    line: int
    before: str  # the solution's line, as written
    after: str   # the same line in the mutant
    source: str

    def diff(self, solution: str) -> str:
        return "".join(difflib.unified_diff(
            solution.splitlines(keepends=True), self.source.splitlines(keepends=True),
            "solution", "mutant", n=1))


# An edit: (start byte, end byte, replacement text)
Edit = tuple[int, int, str]


class _Text:
    """The solution as bytes, addressable by the AST's (line, UTF-8 column) positions."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.data = source.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.starts[node.lineno - 1] + node.col_offset,  # type: ignore[attr-defined]
                self.starts[node.end_lineno - 1] + node.end_col_offset)  # type: ignore[attr-defined]

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode("utf-8")

    def apply(self, edits: list[Edit]) -> str:
        data = self.data
        for start, end, text in sorted(edits, reverse=True):
            data = data[:start] + text.encode("utf-8") + data[end:]
        return data.decode("utf-8")


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":``: code the grader never runs."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _graded_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node outside ``if __name__ == "__main__":`` blocks, in source order."""
    found: list[ast.AST] = []
    for statement in tree.body:
        if not _is_main_guard(statement):
            found += list(ast.walk(statement))
    return sorted((n for n in found if hasattr(n, "lineno")),
                  key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]


def _edits(node: ast.AST, text: _Text) -> list[tuple[Operator, list[Edit]]]:
    """Every mutation of `node` itself (not of its children)."""
    out: list[tuple[Operator, list[Edit]]] = []
    start, end = text.span(node) if hasattr(node, "end_col_offset") else (0, 0)

    def replace(operator: Operator, replacement: str) -> None:
        out.append((operator, [(start, end, replacement)]))

    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            for other in COMPARISONS.get(type(op), ()):
                changed = copy.deepcopy(node)
                changed.ops[index] = other()
                replace(Operator.COMPARE, ast.unparse(changed))
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not (
            isinstance(node.value, bool)):
        number = node.value
        for value in dict.fromkeys([number + 1, number - 1, type(number)(0)]):
            if value != number:
                replace(Operator.CONSTANT, repr(value))
    elif isinstance(node, ast.BinOp) and ast.dump(node.left) != ast.dump(node.right):
        replace(Operator.SWAP, ast.unparse(ast.BinOp(node.right, node.op, node.left)))
    elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        out.append((Operator.RETURN, [(*text.span(node.value), "None")]))
    elif isinstance(node, ast.Dict) and len(node.values) > 1 and None not in node.keys:
        values = node.values
        for i, item in enumerate(values):
            neighbour = values[(i + 1) % len(values)]
            if ast.dump(item) != ast.dump(neighbour) and (i + 1 < len(values) or len(values) > 2):
                out.append((Operator.DICT, [(*text.span(item), text.segment(neighbour)),
                                            (*text.span(neighbour), text.segment(item))]))
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
          and isinstance(node.func.value, ast.Name) and node.func.value.id == "random"
          and node.func.attr in RANDOM_CONSTANTS):
        template = RANDOM_CONSTANTS[node.func.attr]
        if "{0}" in template and not node.args:
            return out
        first = text.segment(node.args[0]) if node.args else ""
        if node.args and not isinstance(node.args[0], (ast.Name, ast.Attribute, ast.Subscript,
                                                       ast.Call, ast.Constant)):
            first = f"({first})"
        replace(Operator.RANDOM, template.format(first))
    if isinstance(node, ast.stmt) and not _is_docstring(node) and not isinstance(
            node, ast.Pass) and not (isinstance(node, ast.ImportFrom)
                                     and node.module == "__future__"):
        replace(Operator.DROP, "pass")
    return out


def _line(source: str, number: int) -> str:
    lines = source.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def make_mutants(solution: str) -> list[Mutant]:
    """Every mutant of `solution` that still compiles, in source order.

    Ids are ``line:column:operator`` (plus ``/2``, ``/3`` for further mutants of the
    same spot), stable while the solution's text above them does not change.
    """
    tree = ast.parse(solution)
    text = _Text(solution)
    mutants: list[Mutant] = []
    seen: set[str] = {solution}
    for node in _graded_nodes(tree):
        line, column = node.lineno, node.col_offset  # type: ignore[attr-defined]
        for count, (operator, edits) in enumerate(_edits(node, text), 1):
            source = text.apply(edits)
            if source in seen:
                continue
            try:
                compile(source, "mutant.py", "exec")
            except SyntaxError:
                continue  # e.g. a decorated function whose `def` was dropped
            seen.add(source)
            first = min(start for start, _, _ in edits)
            shown = text.data[:first].count(b"\n") + 1
            ident = f"{line}:{column}:{operator.value}" + (f"/{count}" if count > 1 else "")
            mutants.append(Mutant(ident, operator, shown, _line(solution, shown),
                                  _line(source, shown), source))
    return mutants
