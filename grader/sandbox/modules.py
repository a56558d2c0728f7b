"""The standard modules learner code may import in a box, and which of them a source names.

A box is chrooted before learner code runs: it can import only what its zygote loaded
before forking it. Every zygote loads `AT_BOOT` as it boots. `ON_DEMAND` (dataclasses
and statistics with what they bring along, and typing: 10 ms of a zygote's 45 ms boot;
string and textwrap: 2 ms more, their classes and patterns made at import;
modules most learners' files never import) it loads before the first box whose source
names them, and only such a box sees them: what a box can import depends on its own
file alone, never on another student's (`hidden`). A box whose source is not known
(`modules=None`: a pytest run of the checks) sees them all.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own is an import, and typing is loaded on demand
if TYPE_CHECKING:
    from collections.abc import Iterable

AT_BOOT = (
    "bisect", "collections", "copy", "functools", "heapq", "itertools", "json", "math",
    "operator", "random", "re",
)
ON_DEMAND = (
    "dataclasses", "statistics", "string", "textwrap", "typing",
    # what those bring along, each importable by its name as when every box had it
    "ast", "decimal", "dis", "fractions", "importlib", "importlib.machinery", "inspect",
    "linecache", "numbers", "opcode", "token", "tokenize",
)
# Words that name no module of a family yet need it: a function that imports it as it
# runs (tests/test_box_modules.py finds every such import in what a box may load).
NEEDS = {
    "singledispatch": ("typing",),  # functools: its register reads annotations with typing
    "singledispatchmethod": ("typing",),
    "get_docstring": ("inspect",),  # ast: cleans the text with inspect.cleandoc
    "from_decimal": ("decimal",),  # fractions
}


def family(module: str) -> str:
    """The name a source must say for `module` to be seen: its top package's, without
    a leading underscore (`_decimal` is decimal's, `importlib.machinery` importlib's)."""
    return module.partition(".")[0].lstrip("_")


FAMILIES = frozenset(map(family, ON_DEMAND))


def named(text: str) -> list[str]:
    """The `ON_DEMAND` modules `text` (learner code) names: those whose family is a word
    of it (an import, a string given to importlib, a comment: a module loaded for
    nothing costs its zygote a few milliseconds once; one missed, the learner a grade)."""
    import re  # here: the zygote imports this module for its names alone

    words = set(re.findall(r"\w+", text))
    wanted = {family(m) for m in ON_DEMAND if family(m) in words}
    for word in words & NEEDS.keys():
        wanted.update(NEEDS[word])
    return [m for m in ON_DEMAND if family(m) in wanted]


def hidden(loaded: Iterable[str], wanted: Iterable[str] | None) -> list[str]:
    """What a box must not see of the `loaded` modules (its zygote's, beyond its boot's):
    those of an on-demand family its source did not name (`wanted`; None: it sees all)."""
    if wanted is None:
        return []
    seen = {family(m) for m in wanted}
    return [m for m in loaded if family(m) in FAMILIES and family(m) not in seen]
