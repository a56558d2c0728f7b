"""The import graph, imports inside functions included: no cycle, and every module in a layer."""

from __future__ import annotations

import grimp
import tomllib

from tests.conftest import ROOT


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected}: {hint}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child)
                    work.append((child, iter(sorted(imported))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_itself_back_even_through_imports_inside_functions() -> None:
    # grimp reads every import statement, at module level or inside a function: a lazy
    # import is still a dependency, and `grader -> grader.cli.jupyter -> ... -> grader`
    # was a cycle that only the layers contract's ignore list hid.
    graph = grimp.build_graph("grader", cache_dir=None)
    assert graph.direct_import_exists(importer="grader", imported="grader.jupyter"), \
        fail("no lazy import grader -> grader.jupyter", "grimp counts `grader.check`'s import",
             "the test no longer sees imports inside functions")
    cycles = _cycles(graph)
    assert not cycles, fail(cycles, "no cycle", "a module reaches itself through its imports")


def test_every_module_of_grader_sits_in_a_layer_and_no_import_is_excused() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")
    placed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    graph = grimp.build_graph("grader", cache_dir=None)
    children = {m for m in graph.modules if m.count(".") == 1}
    unplaced = sorted(children - placed)
    assert not unplaced, fail(unplaced, "every package and module in a layer",
                              "add it to [tool.importlinter]'s layers")
    excused = [c["name"] for c in config["contracts"] if c.get("ignore_imports")]
    assert not excused, fail(excused, "no contract with ignore_imports",
                             "remove the dependency instead (inject it, or move the module)")
