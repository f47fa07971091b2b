"""Recordings on the disk: what lands (cleanup "fifo" makes room), what retention removes,
what a power cut damages, and the recordings an action rule starts and stops (the "Record video"
action, edge storage API: `storage_id`, `pre_duration`, `post_duration` in milliseconds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .host import STORAGE
from .media import Recording, StorageError

if TYPE_CHECKING:
    from .host import StorageHost
    from .jobs import DiskJobs

DAY_S = 86400
BYTES_PER_S = 250_000  # [GUESS] a recorded stream's rate (2 Mbit/s, a camera's H.264 1080p at a low bit rate)


@dataclass(slots=True)
class Ongoing:
    """A recording an action started: it grows until stopped, then for its post-trigger time."""

    recording: Recording
    started: float  # device clock (SimClock.now), the pre-trigger time before it counted already
    options: str
    ends: float | None = None  # set when the action stops


class Recordings:
    def __init__(self, host: StorageHost, tools: DiskJobs) -> None:
        self.host = host
        self.tools = tools
        self.ongoing: dict[str, Ongoing] = {}  # by recording id; not saved: a restart ends them

    def _writable(self) -> None:
        host, disk = self.host, self.host.disk
        if not disk.mounted or host.status() != "OK":
            raise StorageError("not_recording", f"{disk.disk_id} is not mounted: not recording")
        if host.locked:
            raise StorageError("locked", "The disk is write protected: not recording")
        if any(j.action == "repair" for j in self.tools.running()):
            raise StorageError("busy", "Recordings pause during a repair")

    def _make_room(self, size: int, keep: Recording | None = None) -> None:
        """Free `size` bytes: cleanup "fifo" removes the oldest recordings (never `keep`)."""
        host, disk = self.host, self.host.disk
        total = host.total()
        if size > total:
            raise StorageError("full", "The recording is larger than the disk")
        while total - disk.used < size:
            oldest = next((r for r in disk.recordings if r is not keep), None)
            if host.param(f"{STORAGE}.CleanupPolicyActive") != "fifo" or oldest is None:
                raise StorageError("full", "The disk is full")
            disk.recordings.remove(oldest)
            host.event(f"Recording {oldest.id} removed to make room")

    def add(self, size: int, age_days: float = 0.0) -> Recording:
        """A recording of `size` bytes lands on the disk (cleanup "fifo" makes room)."""
        host, disk = self.host, self.host.disk
        if size <= 0:
            raise ValueError("a recording has a positive size")
        self._writable()
        self._make_room(size)
        recording = Recording(f"{disk.next_recording:08d}_{disk.disk_id}", size,
                              host.device.clock.wall() - age_days * DAY_S)  # fmt: skip
        disk.next_recording += 1
        disk.recordings.append(recording)
        self.apply_retention()
        host.settled()
        return recording

    # -- recordings an action rule starts and stops -------------------------------------------------

    def start(self, disk_id: str, options: str, pre_s: float) -> Recording:
        """Begin recording to `disk_id` (StorageError: no such disk, or it cannot record now); the
        pre-trigger time is on the disk at once."""
        disk = self.host.disk
        if disk_id != disk.disk_id:
            raise StorageError("no_disk", f"No storage {disk_id!r} on this device (it has {disk.disk_id})")
        now = self.host.device.clock.now()
        recording = self.add(max(1, int(pre_s * BYTES_PER_S)))
        self.ongoing[recording.id] = Ongoing(recording, now, options)
        self.host.settled(f"Recording {recording.id} started on {disk_id}")
        return recording

    def stop(self, recording_id: str, post_s: float) -> None:
        """The action ended: the recording goes on for the post-trigger time, then lands whole."""
        ongoing = self.ongoing.get(recording_id)
        if ongoing is None or ongoing.ends is not None:
            return
        ongoing.ends = self.host.device.clock.now() + post_s
        if post_s <= 0:
            self.finish_due()
        self.host.settled()

    def deadlines(self) -> list[float]:
        return [o.ends for o in self.ongoing.values() if o.ends is not None]

    def finish_due(self, everything: bool = False) -> bool:
        """Close the recordings whose post-trigger time is over (`everything`: all, now: the device
        goes down, or the disk stopped taking recordings); True when one closed."""
        now = self.host.device.clock.now()
        stopped = everything or bool(self.ongoing and self._refused())
        due = [o for o in self.ongoing.values() if stopped or (o.ends is not None and o.ends <= now)]
        for ongoing in due:
            del self.ongoing[ongoing.recording.id]
            self._close(ongoing, now if ongoing.ends is None else min(now, ongoing.ends))
        return bool(due)

    def _refused(self) -> bool:
        try:
            self._writable()
        except StorageError:
            return True
        return False

    def _close(self, ongoing: Ongoing, end: float) -> None:
        recording, disk = ongoing.recording, self.host.disk
        if not any(r is recording for r in disk.recordings):  # formatted or cleaned up meanwhile
            return
        grown = int(max(0.0, end - ongoing.started) * BYTES_PER_S)
        try:
            self._make_room(grown, keep=recording)
        except StorageError as exc:
            grown = 0  # what did not fit is lost; the recording keeps what it had
            self.host.event(f"Recording {recording.id} cut short: {exc}")
        recording.size += grown
        self.host.event(f"Recording {recording.id} stopped ({recording.size} bytes)")

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
