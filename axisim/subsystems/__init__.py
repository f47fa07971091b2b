"""Parameter-group plugins: one package per feature, found by the word a model's manifest lists
(`[model] subsystems = ["poe", "storage"]` -> `axisim.subsystems.poe.SUBSYSTEM`). Nothing lists
them by hand: a new subsystem is a new package here."""

from __future__ import annotations

import importlib
from functools import cache

from .base import Subsystem


class UnknownSubsystem(LookupError):
    """A manifest word with no package of that name."""


@cache
def subsystem_class(word: str) -> type[Subsystem]:
    """The subsystem class a manifest word names (`poe` -> PoeSubsystem)."""
    if not word.isidentifier() or word.startswith("_") or word == "base":
        raise UnknownSubsystem(word)
    try:
        module = importlib.import_module(f"{__name__}.{word}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{word}":
            raise
        raise UnknownSubsystem(word) from exc
    cls = getattr(module, "SUBSYSTEM", None)
    if not (isinstance(cls, type) and issubclass(cls, Subsystem)) or cls.name != word:
        raise UnknownSubsystem(word)
    return cls


__all__ = ["Subsystem", "UnknownSubsystem", "subsystem_class"]
