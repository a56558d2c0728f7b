"""The bases of every pydantic model in grade: each builds its validator on first use."""

from __future__ import annotations

import os
import sys
import types
from typing import TYPE_CHECKING, Any, Generic, TypeVar


def _no_plugin_loader() -> None:
    """With PYDANTIC_DISABLE_PLUGINS=__all__ (grade's commands set it), pydantic's plugin
    loader finds no plugin, yet importing it imports importlib.metadata (email, zipfile,
    csv...: 15-20 ms of CPU, before a batch forks its workers). Its one function is then
    answered here; any other name loads pydantic's own module (a newer pydantic's)."""
    name = "pydantic.plugin._loader"
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") != "__all__" or name in sys.modules:
        return
    stand_in = types.ModuleType(name, "pydantic's plugin loader, no plugin (grader/models.py)")

    def get_plugins() -> tuple[()]:
        return ()

    def real(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system's questions (__path__...)
            raise AttributeError(attribute)
        del sys.modules[name]
        import importlib

        return getattr(importlib.import_module(name), attribute)

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    stand_in.__getattr__ = real  # type: ignore[method-assign]
    sys.modules[name] = stand_in


_no_plugin_loader()

from pydantic import BaseModel, ConfigDict  # noqa: E402

# Building a validator costs milliseconds per model, and a learner's `grade exercise-1`
# imports dozens of models but validates only a few: none is built at import.
DEFERRED = ConfigDict(defer_build=True)

T = TypeVar("T")


class Model(BaseModel):
    """A file format's model (or a part of one)."""

    model_config = DEFERRED


if TYPE_CHECKING:
    from pydantic import RootModel

    class Root(RootModel[T], Generic[T]):
        """A file format whose top level is not an object (grades.json is a list)."""


def __getattr__(name: str) -> Any:
    """`Root`, made on first use (PEP 562): a generic RootModel costs ~1 ms to make, and
    only the exports need it (a batch's main makes it after its first result, not
    before its workers fork)."""
    if name != "Root":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pydantic import RootModel

    class Root(RootModel[T], Generic[T]):
        """A file format whose top level is not an object (grades.json is a list)."""

        model_config = DEFERRED

    Root.__module__, Root.__qualname__ = __name__, "Root"
    globals()["Root"] = Root
    return Root
