"""Physical stimuli: what a technician, a cable or a caller does to a device, declared on the
subsystem method that performs it.

    @stimulus("the drive in a bay (0-based) breaks", bay=int)
    def physical_fail_drive(self, bay: int) -> dict: ...

The control API (`POST /devices/<d>/events/<subsystem>/<name>`) and the Python API find them
by scanning the subsystem class, so a new subsystem's stimuli need no list kept elsewhere.
An argument is `name=type` (required) or `name=(type, default)`; a trailing `_` lets a
keyword (`class_`, `from_`) be an argument name: the wire name has no underscore.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

REQUIRED: Any = object()
PREFIX = "physical_"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Stimulus:
    name: str  # the wire name: the method's name without `physical_`
    doc: str
    args: dict[str, tuple[type, Any]]  # wire name -> (type, default or REQUIRED)
    method: str  # the subsystem method that performs it

    def perform(self, subsystem: Any, checked: dict[str, Any]) -> Any:
        """Call the method with checked arguments (wire names mapped to parameter names)."""
        keywords = {(name + "_" if name in _KEYWORDS else name): value for name, value in checked.items()}
        return getattr(subsystem, self.method)(**keywords)


_KEYWORDS = frozenset({"class", "from", "in", "is", "global", "lambda", "pass", "return", "with", "yield"})


def stimulus(doc: str, **args: type | tuple[type, Any]) -> Callable[[F], F]:
    """Mark a `physical_<name>` method as the stimulus `<name>`."""

    def mark(method: F) -> F:
        if not method.__name__.startswith(PREFIX):
            raise TypeError(f"a stimulus method is named {PREFIX}<name>, not {method.__name__}")
        declared = {
            name.rstrip("_"): (spec if isinstance(spec, tuple) else (spec, REQUIRED)) for name, spec in args.items()
        }
        method.__stimulus__ = Stimulus(method.__name__[len(PREFIX) :], doc, declared, method.__name__)  # type: ignore[attr-defined]
        return method

    return mark


@cache
def stimuli_of(cls: type) -> dict[str, Stimulus]:
    """The stimuli a subsystem class declares, by wire name, in definition order."""
    found: dict[str, Stimulus] = {}
    for klass in reversed(cls.__mro__):
        for attribute in vars(klass).values():
            declared = getattr(attribute, "__stimulus__", None)
            if isinstance(declared, Stimulus):
                found[declared.name] = declared
    return found
