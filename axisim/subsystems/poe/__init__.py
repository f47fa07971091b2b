"""Power over Ethernet of the recorders' switch ports (S3008, S3016).

The package is the feature: `SUBSYSTEM` is what a model's manifest word `poe` names."""

from .plugin import STATUSES, PoeError, PoeSubsystem, PoweredDevice, watts

SUBSYSTEM = PoeSubsystem

__all__ = ["STATUSES", "SUBSYSTEM", "PoeError", "PoeSubsystem", "PoweredDevice", "watts"]
