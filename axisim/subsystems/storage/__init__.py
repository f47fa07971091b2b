"""Edge storage: the recorders' disks and RAID, the speaker's network share.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `storage` names."""

from .plugin import StorageSubsystem
from .published import kilobytes
from .topics import KELVIN

SUBSYSTEM = StorageSubsystem

__all__ = ["KELVIN", "SUBSYSTEM", "StorageSubsystem", "kilobytes"]
