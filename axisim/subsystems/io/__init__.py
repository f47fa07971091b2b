"""The W401's I/O ports, their supervision and relay.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `io` names."""

from .changes import PortChange
from .plugin import IoSubsystem
from .ports import PortError
from .supervision import STATE_ALIASES, SUPERVISION_STATES, Range

SUBSYSTEM = IoSubsystem

__all__ = [
    "STATE_ALIASES",
    "SUBSYSTEM",
    "SUPERVISION_STATES",
    "IoSubsystem",
    "PortChange",
    "PortError",
    "Range",
]
