"""The storage kinds: one medium behind one interface (`StorageKind`), chosen once per device."""

from __future__ import annotations

from typing import Any

from .base import DrivesKind, StorageKind
from .network_share_kind import NetworkShareKind
from .raid_array import RaidArray
from .single_disk import SingleDisk


def kind_of(facts: dict[str, Any]) -> type[StorageKind]:
    """The speaker's network share (`storage = "network_share"`), a RAID (`raid = true`: S3016,
    S4000) or one disk (S3008)."""
    if facts.get("storage") == "network_share":
        return NetworkShareKind
    return RaidArray if facts.get("raid") else SingleDisk


__all__ = ["DrivesKind", "NetworkShareKind", "RaidArray", "SingleDisk", "StorageKind", "kind_of"]
