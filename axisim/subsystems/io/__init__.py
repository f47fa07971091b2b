"""The W401's I/O ports, their supervision and relay.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `io` names."""

from .plugin import (
    PORT_TOPIC,
    STATE_ALIASES,
    SUPERVISION_STATES,
    TAMPER_TOPIC,
    IoSubsystem,
    PortChange,
    PortError,
    Range,
)

SUBSYSTEM = IoSubsystem

__all__ = [
    "PORT_TOPIC",
    "STATE_ALIASES",
    "SUBSYSTEM",
    "SUPERVISION_STATES",
    "TAMPER_TOPIC",
    "IoSubsystem",
    "PortChange",
    "PortError",
    "Range",
]
