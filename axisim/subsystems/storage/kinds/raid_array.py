"""A RAID array of hard drives (S3016, S4000): its level, its survival when drives are lost,
the sync that rebuilds a new drive, and the RAID management API's recreate and the web
interface's "Change RAID level" (manual: "Supported RAID levels are 0, 1, 5, 6, 10")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from param_tree import ParamDef

from .. import raid, topics
from ..media import Drive, Job, StorageError, check_passphrase
from ..published import GROUP, published_def
from .base import Apply, DrivesKind

if TYPE_CHECKING:
    from axisim.events import TopicDecl
    from axisim.logs import Actor

    from ..host import StorageHost
    from ..topics import Instances

STATUS_WORDS = {"active": "Online", "degraded": "Degraded", "syncing": "Syncing", "failure": "Failed"}


class RaidArray(DrivesKind):
    name = "raid"
    default_disk_id = "RAID_DISK"

    def __init__(self, host: StorageHost, facts: dict[str, Any]) -> None:
        super().__init__(host, facts)
        self.levels = tuple(facts.get("raid_levels", ()))
        self.level: str | None = str(facts["raid_level"])
        self.failed = False
        self.synced = 0  # bytes rebuilt so far, at `sync_mark`
        self.sync_total = 0  # bytes to rebuild; 0: not syncing
        self.sync_mark = 0.0
        # derived from the clock: read at the moment, by every path
        host.device.params.provide(f"{GROUP}.SyncProgress", lambda: str(self.sync_progress()))

    @classmethod
    def array_definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        return [
            published_def(f"{GROUP}.RaidLevel", str(facts["raid_level"])),
            published_def(f"{GROUP}.RaidStatus", "Online"),
            published_def(f"{GROUP}.SyncProgress", "100"),
        ]

    def as_raid(self) -> RaidArray:
        return self

    def drive_bytes(self) -> int:
        """The variant's capacity is what the default disk offers (the array's usable size)."""
        usable = super().drive_bytes()
        return usable // raid.data_drives(self.level, self.bay_count(self.facts)) if self.level else usable

    def capacity(self) -> int:
        if self.failed or self.level is None:
            return 0
        return raid.usable_bytes(self.level, self.bays.count, [d.capacity for d in self.bays.present()])

    def broken(self) -> bool:
        return self.failed

    def published(self) -> dict[str, str]:
        return {**super().published(), f"{GROUP}.RaidLevel": self.level or "",
                f"{GROUP}.RaidStatus": STATUS_WORDS[self.raid_status()]}  # fmt: skip

    def topics(self) -> list[TopicDecl]:
        return [topics.raid_decl(self.bays.count), *topics.RAID_CHILDREN.values()]

    def instances(self) -> Instances:
        return topics.raid_instances(self)

    # -- status and sync -----------------------------------------------------------------------

    def raid_status(self) -> str:
        if self.failed:
            return "failure"
        if self.bays.lost():
            return "degraded"
        return "syncing" if self.sync_total else "active"

    def sync_progress(self) -> int:
        status = self.raid_status()
        if status == "active":
            return 100
        if status != "syncing":
            return 0
        return min(99, int(self._synced_now() * 100 / self.sync_total))

    def sync_time_remaining(self) -> int:
        if self.raid_status() != "syncing":
            return 0
        return max(0, int((self.sync_total - self._synced_now()) / self.host.timings.sync_bytes_per_s))

    def _synced_now(self) -> int:
        if not self.sync_total:
            return 0
        elapsed = max(0.0, self.host.device.clock.now() - self.sync_mark)
        return min(self.sync_total, self.synced + int(elapsed * self.host.timings.sync_bytes_per_s))

    def progress_mark(self) -> int | None:
        return self.sync_progress() if self.sync_total else None

    def deadline(self) -> float | None:
        if not self.sync_total:
            return None
        remaining = (self.sync_total - self._synced_now()) / self.host.timings.sync_bytes_per_s
        return self.host.device.clock.now() + remaining

    def tick(self) -> bool:
        if not self.sync_total or self._synced_now() < self.sync_total:
            return False
        self.sync_total = self.synced = 0
        for drive in self.bays.present():
            drive.syncing = False
        self.host.event(f"RAID {self.level} synchronized: Online")
        return True

    def set_sync_speed(self, bytes_per_second: float) -> None:
        """Progress so far is kept."""
        self.synced, self.sync_mark = self._synced_now(), self.host.device.clock.now()
        super().set_sync_speed(bytes_per_second)

    def _start_sync(self) -> None:
        if self.level is None or not raid.redundant(self.level):
            return
        # a new array makes every member consistent: one drive's worth of writing, in parallel
        self.sync_total = min(d.capacity for d in self.bays.present())
        self.synced = 0
        self.sync_mark = self.host.device.clock.now()

    # -- drives lost and found ------------------------------------------------------------------

    def drive_lost(self) -> None:
        """RAID 0 fails, RAID 5 degrades, RAID 6 survives two, RAID 1 and 10 by mirror."""
        rebuilding = {d.bay for d in self.bays.present() if d.syncing}
        if not rebuilding:
            self.sync_total = self.synced = 0  # the rebuild (or a new array's first sync) stops
        if self.failed:
            self.host.settled()
        elif not raid.survives(self.level or "raid0", self.bays.count, self.bays.lost() | rebuilding):
            self.failed = True
            self.sync_total = self.synced = 0
            self.host.disk.mounted = False
            self.host.disk.erase()
            self.host.settled(f"RAID {self.level} failed: not recording")
        else:
            self.host.settled(f"RAID {self.level} degraded")

    def drive_inserted(self, drive: Drive) -> None:
        """A degraded array syncs the new drive in; a failed one stays failed until it is recreated."""
        if not self.failed and self.level and raid.redundant(self.level):
            drive.syncing = True
            if not self.sync_total:
                self.synced, self.sync_total, self.sync_mark = 0, drive.capacity, self.host.device.clock.now()
        self.host.settled(f"RAID {self.level} syncing drive {drive.bay}" if drive.syncing else None)

    def check_fit(self, size: int, members: list[int]) -> None:
        if members and size < min(members) and not self.failed:
            raise StorageError("too_small", "The new drive is smaller than the RAID's drives")

    # -- the RAID tools --------------------------------------------------------------------------

    def recreate(self, level: str, actor: Actor | None = None) -> None:
        """raid.cgi recreateRaidOnAllComponents: a new, empty array without a file system."""
        host, disk = self.host, self.host.disk
        if level not in self.levels or not raid.supported(level, self.bays.count):
            raise StorageError("level", "RAID level not supported")
        if host.tools.busy() or disk.mounted:
            raise StorageError("mounted", "Generic RAID error")
        if self.bays.lost():
            raise StorageError("component", "Component device error")
        self.level = level
        self.failed = False
        disk.erase()
        disk.filesystem = ""
        disk.encrypted_with = None
        disk.wrong_key = False
        for drive in self.bays.present():
            drive.syncing = False
        self._start_sync()
        host.audit(actor, f"RAID recreated as {level}; all data erased")
        host.settled()

    def change_level(self, level: str, passphrase: str | None = None, actor: Actor | None = None) -> Job:
        """The "Change RAID level" tool: reformats and deletes all data, optionally encrypted."""
        host, disk = self.host, self.host.disk
        if host.tools.busy():
            raise StorageError("busy", "Another disk job is running")
        host.tools.writable()
        if passphrase is not None:
            check_passphrase(passphrase)
        mounted, disk.mounted = disk.mounted, False
        try:
            self.recreate(level, actor)
        except StorageError:
            disk.mounted = mounted
            raise
        disk.encryption_key = None
        if passphrase is not None:
            host.encryption.enable(passphrase, actor)
        return host.tools.format("ext4", actor, mounted_after=True, result="RAID configured")

    # -- persistence -----------------------------------------------------------------------------

    def save(self, state: dict[str, Any]) -> None:
        state["raid"] = {"level": self.level, "failed": self.failed, "synced": self._synced_now(),
                         "sync_total": self.sync_total, "speed": self.host.timings.sync_bytes_per_s}  # fmt: skip

    def loader(self, state: dict[str, Any]) -> Apply:
        saved = state.get("raid")
        if not isinstance(saved, dict) or saved["level"] not in self.levels:
            raise ValueError("raid: missing or unknown level")
        level, failed, speed = str(saved["level"]), bool(saved["failed"]), float(saved["speed"])
        synced, sync_total = int(saved["synced"]), int(saved["sync_total"])

        def apply() -> None:
            self.level, self.failed, self.host.timings.sync_bytes_per_s = level, failed, speed
            self.synced, self.sync_total = synced, sync_total
            self.sync_mark = self.host.device.clock.now()

        return apply
