"""The drive bays: which drive sits where, and a technician's hands (fail, pull, insert, heat).

What a lost or new drive means for the disk is the storage kind's business (a single disk stops,
a RAID degrades or syncs); the bays only keep the drives. The speaker has no bays (count 0), so
every bay number is refused there."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from .media import Drive, StorageError
from .topics import KELVIN

if TYPE_CHECKING:
    from .host import StorageHost


class DriveBays:
    def __init__(self, host: StorageHost, count: int) -> None:
        self.host = host
        self.count = count
        self.drives: list[Drive | None] = []
        self.replacements = 0

    def fill(self, drive_bytes: int) -> None:
        """The factory drives."""
        self.drives = [self.new_drive(bay, drive_bytes) for bay in range(self.count)]

    def new_drive(self, bay: int, capacity: int, serial: str | None = None) -> Drive:
        if serial is None:
            seed = f"{self.host.device.serial}:{bay}:{self.replacements}".encode()
            serial = "ZA" + hashlib.sha256(seed).hexdigest()[:6].upper()
        return Drive(bay, serial, capacity, temperature=34.0 + bay)

    def present(self) -> list[Drive]:
        return [d for d in self.drives if d is not None]

    def lost(self) -> set[int]:
        return {bay for bay, d in enumerate(self.drives) if d is None or d.failed}

    def temperature(self) -> float:
        drives = [d for d in self.present() if not d.failed]
        return max((d.temperature for d in drives), default=0.0)

    def healthy(self) -> bool:
        """The overall health test: passed unless a drive is broken."""
        return not any(d.failed for d in self.present())

    def drive(self, bay: int) -> Drive | None:
        if not 0 <= bay < self.count:
            raise StorageError("no_bay", f"No drive bay {bay}")
        return self.drives[bay]

    def fail(self, bay: int) -> None:
        """A drive breaks: RAID 0 fails, RAID 5 degrades, RAID 6 survives two, RAID 1 and 10 by mirror."""
        drive = self.drive(bay)
        if drive is None or drive.failed:
            raise StorageError("no_drive", f"Bay {bay} holds no working drive")
        drive.failed, drive.syncing = True, False
        self._lost(f"Hard drive {bay} ({drive.serial}) failed")

    def remove(self, bay: int) -> Drive:
        drive = self.drive(bay)
        if drive is None:
            raise StorageError("no_drive", f"Bay {bay} is empty")
        self.drives[bay] = None
        self._lost(f"Hard drive {bay} ({drive.serial}) removed")
        return drive

    def _lost(self, message: str) -> None:
        self.host.event(message)
        self.host.medium.drive_lost()

    def insert(self, bay: int, capacity: int | None = None, serial: str | None = None) -> Drive:
        """Replace a hard drive: a degraded RAID syncs it in and returns Online; a failed RAID stays
        failed until it is recreated; the S3008's new drive is empty (Autoformat formats it)."""
        old = self.drive(bay)
        if old is not None and not old.failed:
            raise StorageError("occupied", f"Bay {bay} holds a working drive")
        size = self.fitting_size(bay, capacity)
        self.replacements += 1
        drive = self.new_drive(bay, size, serial)
        self.drives[bay] = drive
        self.host.event(f"Hard drive {bay} ({drive.serial}) inserted")
        self.host.medium.drive_inserted(drive)
        return drive

    def fitting_size(self, bay: int, capacity: int | None) -> int:
        """The new drive's size (by default the array's); StorageError when it does not fit."""
        members = [d.capacity for d in self.present() if not d.failed and d.bay != bay]
        size = capacity if capacity is not None else (min(members) if members else self.host.medium.drive_bytes())
        self.host.medium.check_fit(size, members)
        return size

    def replace(self, bay: int, capacity: int | None = None, serial: str | None = None) -> Drive:
        """A technician swaps the drive in a bay (failed or working) for a new one; a new drive
        that does not fit is refused before the old one is pulled."""
        self.fitting_size(bay, capacity)
        old = self.drive(bay)
        if old is not None and not old.failed:
            self.remove(bay)
        return self.insert(bay, capacity, serial)

    def set_temperature(self, bay: int, celsius: float) -> None:
        drive = self.drive(bay)
        if drive is None:
            raise StorageError("no_drive", f"Bay {bay} is empty")
        drive.temperature = float(celsius)
        hot = celsius + KELVIN >= self.host.alert_temperature_k
        self.host.settled(f"Hard drive {bay} temperature {celsius:.0f} C: too hot" if hot else None)
