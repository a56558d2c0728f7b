"""The bases of every pydantic model in grade: each builds its validator on first use."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, RootModel

# Building a validator costs milliseconds per model, and a learner's `grade exercise-1`
# imports dozens of models but validates only a few: none is built at import.
DEFERRED = ConfigDict(defer_build=True)

T = TypeVar("T")


class Model(BaseModel):
    """A file format's model (or a part of one)."""

    model_config = DEFERRED


class Root(RootModel[T], Generic[T]):
    """A file format whose top level is not an object (grades.json is a list)."""

    model_config = DEFERRED
