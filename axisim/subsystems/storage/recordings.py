"""Recordings on the disk: what lands (cleanup "fifo" makes room), what retention removes,
and what a power cut damages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .host import STORAGE
from .media import Recording, StorageError

if TYPE_CHECKING:
    from .host import StorageHost
    from .jobs import DiskJobs

DAY_S = 86400


class Recordings:
    def __init__(self, host: StorageHost, tools: DiskJobs) -> None:
        self.host = host
        self.tools = tools

    def add(self, size: int, age_days: float = 0.0) -> Recording:
        """A recording of `size` bytes lands on the disk (cleanup "fifo" makes room)."""
        host, disk = self.host, self.host.disk
        if size <= 0:
            raise ValueError("a recording has a positive size")
        if not disk.mounted or host.status() != "OK":
            raise StorageError("not_recording", f"{disk.disk_id} is not mounted: not recording")
        if host.locked:
            raise StorageError("locked", "The disk is write protected: not recording")
        if any(j.action == "repair" for j in self.tools.running()):
            raise StorageError("busy", "Recordings pause during a repair")
        total = host.total()
        if size > total:
            raise StorageError("full", "The recording is larger than the disk")
        while total - disk.used < size:
            if host.param(f"{STORAGE}.CleanupPolicyActive") != "fifo":
                raise StorageError("full", "The disk is full")
            removed = disk.recordings.pop(0)
            host.event(f"Recording {removed.id} removed to make room")
        recording = Recording(f"{disk.next_recording:08d}_{disk.disk_id}", size,
                              host.device.clock.wall() - age_days * DAY_S)  # fmt: skip
        disk.next_recording += 1
        disk.recordings.append(recording)
        self.apply_retention()
        host.settled()
        return recording

    def apply_retention(self) -> bool:
        """Recordings older than `CleanupMaxAge` days go, unless the disk is locked (0: keep all)."""
        host, disk = self.host, self.host.disk
        max_age = int(host.param(f"{STORAGE}.CleanupMaxAge") or "0")
        if not max_age or host.locked:
            return False
        limit = host.device.clock.wall() - max_age * DAY_S
        keep = [r for r in disk.recordings if r.created >= limit]
        if len(keep) == len(disk.recordings):
            return False
        host.event(f"Retention: {len(disk.recordings) - len(keep)} recordings older than {max_age} days removed")
        disk.recordings = keep
        return True

    def damage(self, recordings: int = 1) -> None:
        """File system errors (a power cut while writing): the last `recordings` are damaged."""
        disk = self.host.disk
        disk.fs_errors = True
        for recording in disk.recordings[-recordings:] if recordings > 0 else []:
            recording.damaged = True
        self.host.settled(f"File system errors on {disk.disk_id}")
