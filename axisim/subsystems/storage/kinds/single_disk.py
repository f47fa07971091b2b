"""One hard drive (the S3008) or card: the disk is the drive, so losing it stops recording and a
new one comes empty (Autoformat formats it)."""

from __future__ import annotations

from ..host import STORAGE
from ..media import Drive
from .base import DrivesKind


class SingleDisk(DrivesKind):
    name = "hdd"
    default_disk_id = "HDD_DISK"  # an SD card model names its disk SD_DISK (model.toml `disk_id`)

    def _drive(self) -> Drive | None:
        return self.bays.drives[0]

    def capacity(self) -> int:
        drive = self._drive()
        return drive.capacity if drive is not None and not drive.failed else 0

    def broken(self) -> bool:
        drive = self._drive()
        return drive is not None and drive.failed

    def absent(self) -> bool:
        return self._drive() is None

    def drive_lost(self) -> None:
        self.host.disk.mounted = False
        self.host.settled("The hard drive is not available: recording stopped")

    def drive_inserted(self, drive: Drive) -> None:
        disk = self.host.disk
        disk.erase()
        disk.filesystem, disk.encrypted_with, disk.mounted = "", None, False
        if self.host.param(f"{STORAGE}.RequiredFileSystem") != "none" and self.host.enabled:
            self.host.tools.autoformat()
            disk.mounted = bool(disk.filesystem)
        self.host.settled()
