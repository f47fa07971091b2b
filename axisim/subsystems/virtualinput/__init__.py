"""Virtual inputs and the manual trigger (events.md §4.7), on every model.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `virtualinput` names."""

from .inputs import MAX_DURATION_S, VirtualInputError
from .plugin import VirtualInputSubsystem

SUBSYSTEM = VirtualInputSubsystem

__all__ = ["MAX_DURATION_S", "SUBSYSTEM", "VirtualInputError", "VirtualInputSubsystem"]
