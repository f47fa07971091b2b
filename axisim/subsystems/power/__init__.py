"""The W401's power inputs, ignition and delayed shutdown.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `power` names."""

from .plugin import PowerError, PowerStatus, PowerSubsystem

SUBSYSTEM = PowerSubsystem

__all__ = ["SUBSYSTEM", "PowerError", "PowerStatus", "PowerSubsystem"]
