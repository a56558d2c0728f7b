"""`Record`: a frozen record with a dataclass's equality, repr, replace and pickling.

The runner's results, failures and sheets are on a learner's way to the first box:
`dataclasses` imports inspect, ast and dis, and each decorated class compiles its
methods at import, about 13 ms of a learner's run before it asks for its sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # a TypeVar bound to "Record" would compile() at import (1.3 ms)
    from typing_extensions import Self


class Record:
    """Fields are the `__slots__` of the class and of its bases; `__init__` sets them
    once with `_set`, and they cannot be assigned afterwards."""

    __slots__ = ()
    fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fields = tuple(name for klass in reversed(cls.__mro__)
                           for name in klass.__dict__.get("__slots__", ()))

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen record")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen record")

    def values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.fields)

    def given(self) -> dict[str, object]:
        """The fields as keyword arguments: what the record was made from."""
        return {name: getattr(self, name) for name in self.fields}

    def replace(self, **changes: object) -> Self:
        """A copy with `changes`, made by `__init__` again (as dataclasses.replace)."""
        return type(self)(**{**self.given(), **changes})

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.values() == other.values()

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.fields)
        return f"{type(self).__qualname__}({shown})"

    def __reduce__(self) -> tuple[object, tuple[type[Record], dict[str, object]]]:
        return _rebuild, (type(self), self.given())


def _rebuild(cls: type[Record], given: dict[str, object]) -> Record:
    """A pickled record, made by its `__init__` again (a frozen record's fields cannot be
    set the way pickle sets them)."""
    return cls(**given)
