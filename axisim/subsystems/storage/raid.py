"""RAID arithmetic: usable size and survival of the five levels the recorders offer.

Pure functions over drive counts, so sizes per level and failure rules are
checked in one place (manual: "Supported RAID levels are 0, 1, 5, 6, 10";
VAPIX RAID management: raid0, raid1, raid5, raid6, raid10).
"""

from __future__ import annotations

LEVELS = ("raid0", "raid1", "raid5", "raid6", "raid10")
MIN_DRIVES = {"raid0": 2, "raid1": 2, "raid5": 3, "raid6": 4, "raid10": 4}


def data_drives(level: str, drives: int) -> int:
    """How many drives' worth of capacity holds data (the rest is parity or mirror)."""
    if level == "raid0":
        return drives
    if level == "raid1":
        return 1  # every drive holds the same data
    if level == "raid5":
        return drives - 1
    if level == "raid6":
        return drives - 2
    if level == "raid10":
        return drives // 2
    raise ValueError(f"unknown RAID level {level!r}")


def supported(level: str, drives: int) -> bool:
    if level not in LEVELS or drives < MIN_DRIVES[level]:
        return False
    return level != "raid10" or drives % 2 == 0


def usable_bytes(level: str, drives: int, drive_bytes: list[int]) -> int:
    """Usable size: the data drives times the smallest member present (md uses the smallest)."""
    return data_drives(level, drives) * min(drive_bytes, default=0)


def survives(level: str, drives: int, lost: set[int]) -> bool:
    """Does the array still hold its data with the drives at these 0-based positions lost?

    RAID 0 loses everything with one drive; RAID 5 survives one; RAID 6 two;
    RAID 1 while any mirror is left; RAID 10 while each mirrored pair keeps one drive.
    """
    if not lost:
        return True
    if level == "raid0":
        return False
    if level == "raid1":
        return len(lost) < drives
    if level == "raid5":
        return len(lost) <= 1
    if level == "raid6":
        return len(lost) <= 2
    if level == "raid10":
        return all(not {pair, pair + 1} <= lost for pair in range(0, drives, 2))
    raise ValueError(f"unknown RAID level {level!r}")


def redundant(level: str) -> bool:
    """Can the level rebuild a replaced drive (everything but RAID 0)."""
    return level != "raid0"
