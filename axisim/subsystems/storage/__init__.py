"""Edge storage: the recorders' disks and RAID, the speaker's network share.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `storage` names."""

from .plugin import KELVIN, StorageSubsystem, kilobytes

SUBSYSTEM = StorageSubsystem

__all__ = ["KELVIN", "SUBSYSTEM", "StorageSubsystem", "kilobytes"]
