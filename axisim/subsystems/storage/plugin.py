"""Storage subsystem: the recorders' hard drive or RAID, the speaker's network share.

Settings live in the real `Storage.S0` parameters (VAPIX edge storage):
`Locked` is "Write protect", `RequiredFileSystem=ext4` is "Autoformat",
`CleanupMaxAge`/`CleanupPolicyActive` are the retention, `Enabled=no` is the
speaker's "Ignore network storage", `ExtraMountOptions` (`vers=3.0`) the SMB
version, `NetworkShare.N0.*` the share. What the manuals show and no real
parameter holds is published, read-only, in the plugin's `DiskManagement.S0`
group (status, sizes, encryption, health, RAID level and status, each drive).
The disk's content (file system, encryption, recordings, RAID level) is the
physical world: a factory default resets the settings and keeps all of it,
but forgets the encryption password, so an encrypted disk waits to be mounted
with it (manuals, "Hard reset").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer
from axisim.events import Event, TopicDecl
from axisim.lifecycle import RestartKind
from param_tree import ParamDef, ParamType, Role, SecurityLevel

from ..base import PUBLISHED, Subsystem, param_def
from ..stimuli import stimulus
from . import raid, topics
from .media import (
    TB,
    Disk,
    Drive,
    Job,
    Recording,
    StorageError,
    check_passphrase,
    passphrase_digest,
    passphrase_matches,
)
from .network_share import SHARE, STORAGE, NasBehaviour, ShareSettings
from .topics import KELVIN

MAX_RECORDINGS = 10_000  # per stimulus: a bounded loop

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..base import DeviceView

GROUP = "DiskManagement.S0"
READ = SecurityLevel.parse("7747")  # operators read what disks/list.cgi shows them
ADMIN_RW = SecurityLevel.parse("7766")
STATUS_WORDS = {"active": "Online", "degraded": "Degraded", "syncing": "Syncing", "failure": "Failed"}
TEMPERATURE_ALERT_C = 60.0  # a drive this hot is reported in the system log
CHECK_FILESYSTEMS = ("ext4",)  # VAPIX: only ext4 can be checked or repaired


@dataclass
class StorageTimings:
    """Simulated durations; a RAID rebuild writes a whole drive, so it takes hours ("may take several hours")."""

    format_s: float = 20.0
    checkdisk_s: float = 30.0
    repair_s: float = 60.0
    mount_s: float = 2.0
    unmount_s: float = 2.0
    test_s: float = 3.0
    sync_bytes_per_s: float = 150e6


def kind_of(facts: dict[str, Any]) -> str:
    """`share` (speaker), `raid` (S3016, S4000) or `hdd` (S3008)."""
    if facts.get("storage") == "network_share":
        return "share"
    return "raid" if facts.get("raid") else "hdd"


def _def(name: str, value: str, kind: ParamType = PUBLISHED, security: SecurityLevel = READ) -> ParamDef:
    return param_def(name, value, kind, security)


def kilobytes(size: int) -> int:
    return size // 1024


class StorageSubsystem(ShareSettings, Subsystem):
    name = "storage"

    # -- physical stimuli (the control API's events) --------------------------------------------

    @stimulus("the drive in a bay (0-based) breaks", bay=int)
    def physical_fail_drive(self, bay: int) -> dict[str, Any]:
        self.fail_drive(bay)
        return {"bay": bay, "raid": self.raid_status()}

    @stimulus("the drive in a bay is pulled out", bay=int)
    def physical_remove_drive(self, bay: int) -> dict[str, Any]:
        self.remove_drive(bay)
        return {"bay": bay, "raid": self.raid_status()}

    @stimulus("the drive in a bay is replaced by a new one", bay=int, capacity=(int, None), serial=(str, None))
    def physical_replace_drive(self, bay: int, capacity: int | None, serial: str | None) -> dict[str, Any]:
        drive = self.replace_drive(bay, capacity, serial)
        return {"bay": drive.bay, "serial": drive.serial, "capacity": drive.capacity, "raid": self.raid_status()}

    @stimulus("recordings land on the disk", size=(int, 100_000_000), age_days=(float, 0.0), count=(int, 1))
    def physical_add_recording(self, size: int, age_days: float, count: int) -> dict[str, Any]:
        if not 1 <= count <= MAX_RECORDINGS:
            raise ValueError(f"count is 1 to {MAX_RECORDINGS} recordings")
        recordings = [self.add_recording(size, age_days) for _ in range(count)]
        return {"recordings": [r.id for r in recordings], "free": self.free()}

    @stimulus("a drive's temperature changes", bay=int, celsius=float)
    def physical_set_temperature(self, bay: int, celsius: float) -> dict[str, Any]:
        self.set_temperature(bay, celsius)
        return {}

    @stimulus("a power cut while writing damages the last recordings", recordings=(int, 1))
    def physical_damage_filesystem(self, recordings: int) -> dict[str, Any]:
        self.damage_filesystem(recordings)
        return {}

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        kind = kind_of(facts)
        defs = [
            _def(f"{GROUP}.Status", "OK"),
            _def(f"{GROUP}.Mounted", "yes"),
            _def(f"{GROUP}.Encrypted", "no"),
            _def(f"{GROUP}.TotalSize", "0"),
            _def(f"{GROUP}.FreeSize", "0"),
            _def(f"{GROUP}.UsedSpace", "0"),
            _def(f"{GROUP}.Recordings", "0"),
        ]
        if kind == "share":
            text = ParamType("string", maxlen=255)
            return [
                *defs,
                _def(f"{SHARE}.Address", "", text, ADMIN_RW),
                _def(f"{SHARE}.Name", "", text, ADMIN_RW),
                _def(f"{SHARE}.Password", "", ParamType("password", maxlen=255), ADMIN_RW),
                _def(f"{SHARE}.Port", "0", ParamType("int", min=0, max=65535), ADMIN_RW),
                _def(f"{SHARE}.Share", "", text, ADMIN_RW),
                _def(f"{SHARE}.ShareId", "", ParamType("string", maxlen=64), ADMIN_RW),
                _def(f"{SHARE}.Username", "", text, ADMIN_RW),
                _def(f"{GROUP}.Bound", "no"),
            ]
        defs += [_def(f"{GROUP}.Temperature", "0"), _def(f"{GROUP}.OverallHealth", "Passed")]
        if kind == "raid":
            defs += [
                _def(f"{GROUP}.RaidLevel", str(facts["raid_level"])),
                _def(f"{GROUP}.RaidStatus", "Online"),
                _def(f"{GROUP}.SyncProgress", "100"),
            ]
        for bay in range(int(facts.get("drives", 1))):
            for item in ("SerialNumber", "Capacity", "Temperature", "Status"):
                defs.append(_def(f"{GROUP}.D{bay}.{item}", ""))
        return defs

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        facts = device.variant.facts
        self.kind = kind_of(facts)
        self.timings = StorageTimings()
        self.disk = Disk(str(facts.get("disk_id", "HDD_DISK")), "S0")
        self.levels = tuple(facts.get("raid_levels", ())) if self.kind == "raid" else ()
        self.level: str | None = str(facts["raid_level"]) if self.kind == "raid" else None
        self.array_failed = False
        self.synced = 0  # bytes rebuilt so far, at `sync_mark`
        self.sync_total = 0  # bytes to rebuild; 0: not syncing
        self.sync_mark = 0.0
        self.jobs: dict[int, Job] = {}
        self.next_job = 1
        self.drives: list[Drive | None] = []
        self.drive_count = int(facts.get("drives", 1)) if self.kind != "share" else 0
        self.replacements = 0
        if self.kind == "share":
            self.nas = NasBehaviour()
            self.bound = False
            self.disk.filesystem, self.disk.mounted = "cifs", False
        else:
            drive_bytes = self._drive_bytes(facts)
            self.drives = [self._new_drive(bay, drive_bytes) for bay in range(self.drive_count)]
        self.alert_wear = 50
        self.alert_temperature_k = int(TEMPERATURE_ALERT_C) + KELVIN
        self._timer = DeadlineTimer(device.clock, self.tick)
        self._saved_progress: int | None = None
        device.clock.on_advance.append(self.tick)
        self._last: tuple[tuple[object, ...], ...] = ()  # each event instance's data values, last published
        if self.kind == "raid":  # derived from the clock: read at the moment, by every path
            device.params.provide(f"{GROUP}.SyncProgress", self._sync_progress_text)
        self.refresh()

    def _drive_bytes(self, facts: dict[str, Any]) -> int:
        """The variant's capacity is what the default disk offers (a RAID's usable size)."""
        usable = int(float(facts.get("capacity_tb", 2)) * TB)
        if self.kind == "raid" and self.level:
            return usable // raid.data_drives(self.level, self.drive_count)
        return usable

    def _new_drive(self, bay: int, capacity: int, serial: str | None = None) -> Drive:
        if serial is None:
            seed = f"{self.device.serial}:{bay}:{self.replacements}".encode()
            serial = "ZA" + hashlib.sha256(seed).hexdigest()[:6].upper()
        return Drive(bay, serial, capacity, temperature=34.0 + bay)

    # -- what the disk is now ---------------------------------------------------

    def _param(self, name: str) -> str:
        return self.device.params.value(name)

    @property
    def locked(self) -> bool:
        return self._param(f"{STORAGE}.Locked") == "yes"

    @property
    def enabled(self) -> bool:
        return self._param(f"{STORAGE}.Enabled") == "yes"

    def present_drives(self) -> list[Drive]:
        return [d for d in self.drives if d is not None]

    def lost_bays(self) -> set[int]:
        return {bay for bay, d in enumerate(self.drives) if d is None or d.failed}

    def raid_status(self) -> str:
        """VAPIX RAID status: active, degraded, syncing or failure."""
        if self.array_failed:
            return "failure"
        if self.lost_bays():
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
        return max(0, int((self.sync_total - self._synced_now()) / self.timings.sync_bytes_per_s))

    def _sync_progress_text(self) -> str:
        return str(self.sync_progress())

    def _synced_now(self) -> int:
        if not self.sync_total:
            return 0
        elapsed = max(0.0, self.device.clock.now() - self.sync_mark)
        return min(self.sync_total, self.synced + int(elapsed * self.timings.sync_bytes_per_s))

    def capacity(self) -> int:
        """Bytes the file system offers (0 when there is no usable disk)."""
        if self.kind == "share":
            return self.nas.capacity if self.bound else 0
        if self.kind == "hdd":
            drive = self.drives[0]
            return drive.capacity if drive is not None and not drive.failed else 0
        if self.array_failed or self.level is None:
            return 0
        return raid.usable_bytes(self.level, self.drive_count, [d.capacity for d in self.present_drives()])

    def broken(self) -> bool:
        if self.kind == "raid":
            return self.array_failed
        if self.kind == "hdd":
            return self.drives[0] is not None and self.drives[0].failed
        return False

    def absent(self) -> bool:
        if self.kind == "share":
            return not self.bound
        return self.kind == "hdd" and self.drives[0] is None

    def status(self) -> str:
        """The disk status of disks/list.cgi (VAPIX edge storage: disconnected, connected, OK, ...)."""
        disk = self.disk
        if self.absent():
            return "disconnected"
        if self.broken() or disk.fs_errors:
            return "failed"
        if disk.encrypted and disk.encryption_key is None:
            return "no passphrase"
        if disk.encrypted and not disk.key_opens():
            return "wrong passphrase"
        if disk.encryption_key is not None and not disk.encrypted and not disk.mounted:
            return "not encrypted"
        return "OK" if disk.mounted else "connected"

    def total(self) -> int:
        return self.capacity() if self.disk.mounted else 0

    def free(self) -> int:
        return max(0, self.total() - self.disk.used) if self.disk.mounted else 0

    def full(self) -> bool:
        total = self.total()
        return bool(total) and self.free() * 100 < total  # less than 1 % left

    def temperature(self) -> float:
        drives = [d for d in self.present_drives() if not d.failed]
        return max((d.temperature for d in drives), default=0.0)

    def healthy(self) -> bool:
        """The overall health test: passed unless a drive is broken."""
        return not any(d.failed for d in self.present_drives())

    def busy(self) -> Job | None:
        return next((j for j in self.jobs.values() if not j.done and j.action != "test"), None)

    # -- publishing ---------------------------------------------------------------

    def publish_params(self) -> None:
        """Write the published status parameters (read-only values a client lists)."""
        disk = self.disk
        values = {
            f"{GROUP}.Status": self.status(),
            f"{GROUP}.Mounted": "yes" if disk.mounted else "no",
            f"{GROUP}.Encrypted": "yes" if disk.encrypted else "no",
            f"{GROUP}.TotalSize": str(kilobytes(self.total())),
            f"{GROUP}.FreeSize": str(kilobytes(self.free())),
            f"{GROUP}.UsedSpace": str(int(disk.used * 100 / self.total())) if self.total() else "0",
            f"{GROUP}.Recordings": str(len(disk.recordings)),
            f"{STORAGE}.FileSystem": disk.filesystem or "ext4",
        }
        if self.kind == "share":
            values[f"{GROUP}.Bound"] = "yes" if self.bound else "no"
        else:
            values[f"{GROUP}.Temperature"] = f"{self.temperature():.0f}"
            values[f"{GROUP}.OverallHealth"] = "Passed" if self.healthy() else "Failed"
            for bay, drive in enumerate(self.drives):
                key = f"{GROUP}.D{bay}"
                values[f"{key}.SerialNumber"] = drive.serial if drive else ""
                values[f"{key}.Capacity"] = str(kilobytes(drive.capacity)) if drive else "0"
                values[f"{key}.Temperature"] = f"{drive.temperature:.0f}" if drive else ""
                values[f"{key}.Status"] = drive.status if drive else "No drive"
        if self.kind == "raid":
            values[f"{GROUP}.RaidLevel"] = self.level or ""
            values[f"{GROUP}.RaidStatus"] = STATUS_WORDS[self.raid_status()]
        self.device.params.set_base(values)

    def refresh(self) -> None:
        """After a change: the status parameters, then an event for each property instance that changed."""
        self.publish_params()
        now = topics.instances(self)
        values = tuple(tuple(data.values()) for data in now.values())  # instances come in a fixed order
        last, self._last = self._last, values
        for position, ((decl, disk_id), data) in enumerate(now.items()):
            if position >= len(last) or last[position] != values[position]:
                self.publish(decl, {"disk_id": disk_id} if disk_id else None, data)

    def topics(self) -> list[TopicDecl]:
        return topics.declared(self)

    def states(self) -> list[Event]:
        return [self.state_of(decl, {"disk_id": disk_id} if disk_id else {}, data)
                for (decl, disk_id), data in topics.instances(self).items()]  # fmt: skip

    def _event(self, message: str) -> None:
        self.device.logs.system_event(message, source="storage")

    def _settled(self, message: str | None = None) -> None:
        """After any change: publish, log, save, and wake up when the next job or sync ends."""
        if message:
            self._event(message)
        self.refresh()
        self.device.changed()
        self._arm_timer()

    def _arm_timer(self) -> None:
        """Finish jobs and syncs in real time too (the clock's `advance` covers simulated time)."""
        deadlines = [j.started + j.duration for j in self.jobs.values() if not j.done]
        if self.sync_total:
            remaining = (self.sync_total - self._synced_now()) / self.timings.sync_bytes_per_s
            deadlines.append(self.device.clock.now() + remaining)
        self._timer.arm(min(deadlines, default=None))

    def tick(self) -> None:
        """Let simulated time take effect: finish due jobs and syncs, apply retention."""
        now = self.device.clock.now()
        changed = False
        for job in sorted(self.jobs.values(), key=lambda j: j.started + j.duration):
            if job.due(now):
                job.complete()
                self._event(f"Disk job {job.id} ({job.action} {job.disk_id}): {job.result} {job.description}".rstrip())
                changed = True
        if self.sync_total and self._synced_now() >= self.sync_total:
            self.sync_total = self.synced = 0
            for drive in self.present_drives():
                drive.syncing = False
            self._event(f"RAID {self.level} synchronized: Online")
            changed = True
        changed = self._apply_retention() or changed
        progress = self.sync_progress() if self.sync_total else None
        if changed or progress != self._saved_progress:  # a sync's progress is saved per percent
            self._saved_progress = progress
            self._settled()
        else:
            self.publish_params()  # nothing changed but the clock: no event, no diff

    # -- jobs ----------------------------------------------------------------------

    def _job(self, action: str, duration: float, finish: Callable[[], str]) -> Job:
        job = Job(self.next_job, action, self.disk.disk_id, self.device.clock.now(), duration, finish)
        self.next_job += 1
        self.jobs[job.id] = job
        for old in sorted(self.jobs)[:-50]:  # keep the last 50 jobs answerable
            del self.jobs[old]
        if duration <= 0:
            job.complete()
        self._settled(f"Disk job {job.id} started: {action} {self.disk.disk_id}")
        return job

    def job(self, job_id: int) -> Job | None:
        self.tick()
        return self.jobs.get(job_id)

    def _usable(self, *, formatted: bool = True, opened: bool = True) -> None:
        """Refuse a tool on a disk that is missing, broken, busy or locked away."""
        if self.absent():
            raise StorageError("no_disk", "No disk")
        if self.broken():
            raise StorageError("failed", "The disk has failed")
        if self.busy():
            raise StorageError("busy", "Another disk job is running")
        if opened and self.disk.encrypted and self.disk.encryption_key is None:
            raise StorageError("no_passphrase", "The disk is encrypted: enter its password")
        if opened and not self.disk.key_opens():
            raise StorageError("wrong_passphrase", "The password does not open the encrypted disk")
        if formatted and not self.disk.filesystem:
            raise StorageError("no_filesystem", "The disk has no file system: format it")

    def _writable(self) -> None:
        if self.locked:
            raise StorageError("locked", "The disk is write protected")

    def filesystems(self) -> tuple[str, ...]:
        return ("cifs",) if self.kind == "share" else ("ext4", "vfat")

    def format(
        self, filesystem: str | None = None, actor: Actor | None = None, *,
        mounted_after: bool | None = None, result: str | None = None,
    ) -> Job:  # fmt: skip
        """Erase all recordings and format ("Format"); encrypts when encryption is enabled.

        The disk ends mounted as it was, or as `mounted_after` says (the web interface's
        tools, which unmount first); `result` replaces the job's description."""
        fs = filesystem or self.disk.filesystem or self.filesystems()[0]
        if fs not in self.filesystems():
            raise StorageError("filesystem", f"File system {fs} is not supported")
        self._usable(formatted=False, opened=False)
        self._writable()
        remount = self.disk.mounted if mounted_after is None else mounted_after
        self.disk.mounted = False
        self._audit(actor, f"Format {self.disk.disk_id} ({fs}) started")

        def done() -> str:
            disk = self.disk
            disk.erase()
            disk.filesystem = fs
            disk.encrypted_with = disk.encryption_key if self.kind != "share" else None
            disk.wrong_key = False
            disk.mounted = remount
            return result or ("Formatted, encrypted" if disk.encrypted else "Formatted")

        return self._job("format", self.timings.format_s, done)

    def check(self, actor: Actor | None = None) -> Job:
        """ "Check the storage device for errors and tries to repair it automatically."""
        return self._fsck("checkdisk", self.timings.checkdisk_s, actor)

    def repair(self, actor: Actor | None = None) -> Job:
        """Recordings pause during the repair; damaged recordings are lost."""
        return self._fsck("repair", self.timings.repair_s, actor)

    def _fsck(self, action: str, duration: float, actor: Actor | None) -> Job:
        self._usable()
        if self.disk.filesystem not in CHECK_FILESYSTEMS:
            raise StorageError("filesystem", f"Only ext4 disks can be checked, not {self.disk.filesystem}")
        remount = self.disk.mounted
        self.disk.mounted = False  # recordings pause
        self._audit(actor, f"{action} {self.disk.disk_id} started")

        def done() -> str:
            disk = self.disk
            disk.mounted = remount
            if not disk.fs_errors:
                return "No errors found"
            if action == "checkdisk" and self._param(f"{STORAGE}.AutoRepair") != "yes":
                raise StorageError("errors", "Errors found: repair the disk")
            lost = [r for r in disk.recordings if r.damaged]
            disk.recordings = [r for r in disk.recordings if not r.damaged]
            disk.fs_errors = False
            return f"Errors repaired, {len(lost)} recordings lost" if lost else "Errors repaired"

        return self._job(action, duration, done)

    def mount(self, passphrase: str | None = None, actor: Actor | None = None) -> Job:
        """Mount; an encrypted disk whose password the device forgot needs `passphrase`."""
        disk = self.disk
        if passphrase is not None:
            if disk.encryption_key is not None and not disk.key_opens():
                disk.encryption_key = None  # try again with this one
            if disk.encryption_key is None:
                self.enable_encryption(passphrase, actor)
        self._usable()
        if disk.encryption_key is not None and not disk.encrypted:
            raise StorageError("not_encrypted", "Encryption is enabled: format the disk before use")
        if not self.enabled:
            raise StorageError("disabled", "The storage is ignored (Storage.S0.Enabled=no)")
        self._audit(actor, f"Mount {disk.disk_id}")

        def done() -> str:
            if self.kind == "share":
                problem = self.nas_problem()
                if problem is not None:
                    raise StorageError(f"test_{problem[0]}", problem[1])
            self._autoformat()
            disk.mounted = True
            return "Mounted"

        return self._job("mount", self.timings.mount_s, done)

    def unmount(self, actor: Actor | None = None) -> Job:
        """ "This will stop all ongoing recordings."""
        if self.absent():
            raise StorageError("no_disk", "No disk")
        if self.busy():
            raise StorageError("busy", "Another disk job is running")
        self._audit(actor, f"Unmount {self.disk.disk_id}")

        def done() -> str:
            self.disk.mounted = False
            return "Unmounted"

        return self._job("unmount", self.timings.unmount_s, done)

    def _autoformat(self) -> None:
        """Autoformat (RequiredFileSystem=ext4) reformats a disk of another file system when it is
        mounted, unless it is locked (VAPIX disk properties)."""
        required = self._param(f"{STORAGE}.RequiredFileSystem")
        if required != "none" and self.kind != "share" and self.disk.filesystem != required and not self.locked:
            self.disk.erase()
            self.disk.filesystem = required
            self.disk.encrypted_with = self.disk.encryption_key
            self._event(f"Autoformat: {self.disk.disk_id} formatted as {required}")

    # -- encryption (disk properties) ----------------------------------------------

    def _encryptable(self) -> None:
        if self.kind == "share":
            raise StorageError("no_encryption", "The disk does not support disk encryption.")

    def enable_encryption(self, passphrase: str, actor: Actor | None = None) -> None:
        """Give the device the disk's password: the next format encrypts with it, or an encrypted
        disk whose password was forgotten opens with it."""
        self._encryptable()
        check_passphrase(passphrase)
        disk = self.disk
        if disk.encryption_key is not None:
            raise StorageError("already_enabled", "Encryption is already enabled.")
        if disk.mounted:
            raise StorageError("mounted", "The disk is mounted. Encryption can only be enabled/disabled "
                               "when the disk is unmounted.")  # fmt: skip
        if disk.encrypted_with is not None and passphrase_matches(passphrase, disk.encrypted_with):
            disk.encryption_key, disk.wrong_key = disk.encrypted_with, False
        else:
            disk.encryption_key = passphrase_digest(passphrase)
            disk.wrong_key = disk.encrypted
        self._audit(actor, f"Disk encryption enabled for {disk.disk_id}")
        self._settled()

    def disable_encryption(self, actor: Actor | None = None) -> None:
        """The disk stays encrypted until it is formatted ("no passphrase" until then)."""
        self._encryptable()
        disk = self.disk
        if disk.mounted:
            raise StorageError("mounted", "The disk is mounted. Encryption can only be enabled/disabled "
                               "when the disk is unmounted.")  # fmt: skip
        if disk.encryption_key is None:
            raise StorageError("not_enabled", "Encryption is not enabled.")
        disk.encryption_key, disk.wrong_key = None, False
        self._audit(actor, f"Disk encryption disabled for {disk.disk_id}")
        self._settled()

    def change_passphrase(self, old: str, new: str, actor: Actor | None = None) -> None:
        """ "Changing the password doesn't disrupt ongoing recordings."""
        self._encryptable()
        disk = self.disk
        if not disk.mounted:
            raise StorageError("unmounted", "The disk is unmounted. Passphrase can only be changed when the disk "
                               "is mounted.")  # fmt: skip
        if not disk.encrypted or disk.encryption_key is None:
            raise StorageError("not_enabled", "The disk is not encrypted.")
        try:
            check_passphrase(new)
        except StorageError as exc:
            raise StorageError("invalid_new_passphrase", "Invalid new passphrase.") from exc
        if not passphrase_matches(old, disk.encrypted_with or ""):
            raise StorageError("old_mismatch", "The oldpassphrase does not match the existing passphrase.")
        disk.encrypted_with = disk.encryption_key = passphrase_digest(new)
        self._audit(actor, f"Disk encryption password changed for {disk.disk_id}")
        self._settled()

    def encrypt(self, passphrase: str, actor: Actor | None = None) -> Job:
        """The web interface's "Encrypt" tool: unmount, enable encryption, format (erases all files)."""
        self._encryptable()
        check_passphrase(passphrase)
        self._usable(opened=False)
        if self.disk.encrypted:
            raise StorageError("already_enabled", "Encryption is already enabled.")
        self._writable()
        was_mounted, self.disk.mounted = self.disk.mounted, False
        self.disk.encryption_key = None
        self.enable_encryption(passphrase, actor)
        return self.format(actor=actor, mounted_after=was_mounted)

    def decrypt(self, actor: Actor | None = None) -> Job:
        """The "Decrypt" tool: "All files on the storage device will be erased."""
        self._encryptable()
        if not self.disk.encrypted:
            raise StorageError("not_enabled", "The disk is not encrypted.")
        self._usable()
        self._writable()
        was_mounted, self.disk.mounted = self.disk.mounted, False
        self.disable_encryption(actor)
        return self.format(actor=actor, mounted_after=was_mounted)

    # -- RAID -------------------------------------------------------------------------

    def recreate_raid(self, level: str, actor: Actor | None = None) -> None:
        """raid.cgi recreateRaidOnAllComponents: a new, empty array without a file system."""
        if self.kind != "raid":
            raise StorageError("no_raid", "The device has no RAID")
        if level not in self.levels or not raid.supported(level, self.drive_count):
            raise StorageError("level", "RAID level not supported")
        if self.busy() or self.disk.mounted:
            raise StorageError("mounted", "Generic RAID error")
        if self.lost_bays():
            raise StorageError("component", "Component device error")
        self.level = level
        self.array_failed = False
        self.disk.erase()
        self.disk.filesystem = ""
        self.disk.encrypted_with = None
        self.disk.wrong_key = False
        for drive in self.present_drives():
            drive.syncing = False
        self._start_sync()
        self._audit(actor, f"RAID recreated as {level}; all data erased")
        self._settled()

    def change_raid_level(self, level: str, passphrase: str | None = None, actor: Actor | None = None) -> Job:
        """The "Change RAID level" tool: reformats and deletes all data, optionally encrypted."""
        if self.busy():
            raise StorageError("busy", "Another disk job is running")
        self._writable()
        if passphrase is not None:
            check_passphrase(passphrase)
        mounted, self.disk.mounted = self.disk.mounted, False
        try:
            self.recreate_raid(level, actor)
        except StorageError:
            self.disk.mounted = mounted
            raise
        self.disk.encryption_key = None
        if passphrase is not None:
            self.enable_encryption(passphrase, actor)
        return self.format("ext4", actor, mounted_after=True, result="RAID configured")

    def _start_sync(self) -> None:
        if self.level is None or not raid.redundant(self.level):
            return
        # a new array makes every member consistent: one drive's worth of writing, in parallel
        self.sync_total = min(d.capacity for d in self.present_drives())
        self.synced = 0
        self.sync_mark = self.device.clock.now()

    def set_sync_speed(self, bytes_per_second: float) -> None:
        """How fast a RAID rebuilds (simulated); progress so far is kept."""
        if bytes_per_second <= 0:
            raise ValueError("the sync speed must be positive")
        self.synced, self.sync_mark = self._synced_now(), self.device.clock.now()
        self.timings.sync_bytes_per_s = bytes_per_second
        self._settled()

    # -- the physical world (the control API later) ----------------------------------

    def _drive(self, bay: int) -> Drive | None:
        if self.kind == "share" or not 0 <= bay < self.drive_count:
            raise StorageError("no_bay", f"No drive bay {bay}")
        return self.drives[bay]

    def fail_drive(self, bay: int) -> None:
        """A drive breaks: RAID 0 fails, RAID 5 degrades, RAID 6 survives two, RAID 1 and 10 by mirror."""
        drive = self._drive(bay)
        if drive is None or drive.failed:
            raise StorageError("no_drive", f"Bay {bay} holds no working drive")
        drive.failed, drive.syncing = True, False
        self._lost(f"Hard drive {bay} ({drive.serial}) failed")

    def remove_drive(self, bay: int) -> Drive:
        drive = self._drive(bay)
        if drive is None:
            raise StorageError("no_drive", f"Bay {bay} is empty")
        self.drives[bay] = None
        self._lost(f"Hard drive {bay} ({drive.serial}) removed")
        return drive

    def _lost(self, message: str) -> None:
        self._event(message)
        if self.kind == "hdd":
            self.disk.mounted = False
            self._settled("The hard drive is not available: recording stopped")
            return
        rebuilding = {d.bay for d in self.present_drives() if d.syncing}
        if not rebuilding:
            self.sync_total = self.synced = 0  # the rebuild (or a new array's first sync) stops
        if self.array_failed:
            self._settled()
        elif not raid.survives(self.level or "raid0", self.drive_count, self.lost_bays() | rebuilding):
            self.array_failed = True
            self.sync_total = self.synced = 0
            self.disk.mounted = False
            self.disk.erase()
            self._settled(f"RAID {self.level} failed: not recording")
        else:
            self._settled(f"RAID {self.level} degraded")

    def insert_drive(self, bay: int, capacity: int | None = None, serial: str | None = None) -> Drive:
        """Replace a hard drive: a degraded RAID syncs it in and returns Online; a failed RAID stays
        failed until it is recreated; the S3008's new drive is empty (Autoformat formats it)."""
        old = self._drive(bay)
        if old is not None and not old.failed:
            raise StorageError("occupied", f"Bay {bay} holds a working drive")
        size = self._fitting_size(bay, capacity)
        self.replacements += 1
        drive = self._new_drive(bay, size, serial)
        self.drives[bay] = drive
        self._event(f"Hard drive {bay} ({drive.serial}) inserted")
        if self.kind == "hdd":
            self.disk.erase()
            self.disk.filesystem, self.disk.encrypted_with, self.disk.mounted = "", None, False
            if self._param(f"{STORAGE}.RequiredFileSystem") != "none" and self.enabled:
                self._autoformat()
                self.disk.mounted = bool(self.disk.filesystem)
            self._settled()
            return drive
        if not self.array_failed and self.level and raid.redundant(self.level):
            drive.syncing = True
            if not self.sync_total:
                self.synced, self.sync_total, self.sync_mark = 0, size, self.device.clock.now()
        self._settled(f"RAID {self.level} syncing drive {bay}" if drive.syncing else None)
        return drive

    def _fitting_size(self, bay: int, capacity: int | None) -> int:
        """The new drive's size (by default the array's); StorageError when it is too small."""
        members = [d.capacity for d in self.present_drives() if not d.failed and d.bay != bay]
        size = capacity if capacity is not None else (min(members) if members else self._drive_bytes(
            self.device.variant.facts))  # fmt: skip
        if self.kind == "raid" and members and size < min(members) and not self.array_failed:
            raise StorageError("too_small", "The new drive is smaller than the RAID's drives")
        return size

    def replace_drive(self, bay: int, capacity: int | None = None, serial: str | None = None) -> Drive:
        """A technician swaps the drive in a bay (failed or working) for a new one; a new drive
        that does not fit is refused before the old one is pulled."""
        self._fitting_size(bay, capacity)
        old = self._drive(bay)
        if old is not None and not old.failed:
            self.remove_drive(bay)
        return self.insert_drive(bay, capacity, serial)

    def set_temperature(self, bay: int, celsius: float) -> None:
        drive = self._drive(bay)
        if drive is None:
            raise StorageError("no_drive", f"Bay {bay} is empty")
        drive.temperature = float(celsius)
        hot = celsius + KELVIN >= self.alert_temperature_k
        self._settled(f"Hard drive {bay} temperature {celsius:.0f} C: too hot" if hot else None)

    def damage_filesystem(self, recordings: int = 1) -> None:
        """File system errors (a power cut while writing): the last `recordings` are damaged."""
        self.disk.fs_errors = True
        for recording in self.disk.recordings[-recordings:] if recordings > 0 else []:
            recording.damaged = True
        self._settled(f"File system errors on {self.disk.disk_id}")

    # -- recordings ------------------------------------------------------------------------

    def add_recording(self, size: int, age_days: float = 0.0) -> Recording:
        """A recording of `size` bytes lands on the disk (cleanup "fifo" makes room)."""
        disk = self.disk
        if size <= 0:
            raise ValueError("a recording has a positive size")
        if not disk.mounted or self.status() != "OK":
            raise StorageError("not_recording", f"{disk.disk_id} is not mounted: not recording")
        if self.locked:
            raise StorageError("locked", "The disk is write protected: not recording")
        if any(j.action == "repair" and not j.done for j in self.jobs.values()):
            raise StorageError("busy", "Recordings pause during a repair")
        total = self.total()
        if size > total:
            raise StorageError("full", "The recording is larger than the disk")
        while total - disk.used < size:
            if self._param(f"{STORAGE}.CleanupPolicyActive") != "fifo":
                raise StorageError("full", "The disk is full")
            removed = disk.recordings.pop(0)
            self._event(f"Recording {removed.id} removed to make room")
        recording = Recording(f"{disk.next_recording:08d}_{disk.disk_id}", size,
                              self.device.clock.wall() - age_days * 86400)  # fmt: skip
        disk.next_recording += 1
        disk.recordings.append(recording)
        self._apply_retention()
        self._settled()
        return recording

    def _apply_retention(self) -> bool:
        """Recordings older than `CleanupMaxAge` days go, unless the disk is locked (0: keep all)."""
        max_age = int(self._param(f"{STORAGE}.CleanupMaxAge") or "0")
        if not max_age or self.locked:
            return False
        limit = self.device.clock.wall() - max_age * 86400
        keep = [r for r in self.disk.recordings if r.created >= limit]
        if len(keep) == len(self.disk.recordings):
            return False
        self._event(f"Retention: {len(self.disk.recordings) - len(keep)} recordings older than {max_age} days removed")
        self.disk.recordings = keep
        return True

    # -- settings --------------------------------------------------------------------------

    def set_write_protect(self, on: bool, actor: Actor | None = None) -> None:
        self._set(f"{STORAGE}.Locked", "yes" if on else "no", actor)

    def set_autoformat(self, on: bool, actor: Actor | None = None) -> None:
        self._set(f"{STORAGE}.RequiredFileSystem", "ext4" if on else "none", actor)

    def set_retention(self, days: int, actor: Actor | None = None) -> None:
        self._set(f"{STORAGE}.CleanupMaxAge", str(days), actor)

    def set_cleanup_policy(self, policy: str, actor: Actor | None = None) -> None:
        self._set(f"{STORAGE}.CleanupPolicyActive", policy, actor)

    def set_required_fs(self, filesystem: str, actor: Actor | None = None) -> None:
        """Autoformat is `ext4`; `none` turns it off (disk properties setrequiredfs)."""
        if self.kind == "share" or filesystem not in ("none", "ext4"):
            raise StorageError("filesystem", "Specified file system is not supported.")
        self._set(f"{STORAGE}.RequiredFileSystem", filesystem, actor)

    def set_alert_levels(self, wear: int | None, temperature_k: int | None) -> None:
        """Disk alert levels (disk properties): a drive at or over the temperature is reported."""
        if wear is not None:
            self.alert_wear = wear
        if temperature_k is not None:
            self.alert_temperature_k = temperature_k
        self._settled()

    def _set(self, name: str, value: str, actor: Actor | None, *more: tuple[str, str]) -> None:
        """Set related settings all or nothing (a refused share address must not leave half a share)."""
        changes = [(name, value), *more]
        for key, text in changes:
            if not self.device.params.check_write(key, text, Role.ADMIN):
                raise StorageError("invalid", f"{key} cannot be set to {text!r}")
        who = (actor,) if actor is not None else ()
        self.device.update_params(changes, Role.ADMIN, *who)

    def _audit(self, actor: Actor | None, message: str) -> None:
        if actor is None:
            self._event(message)
        else:
            self.device.logs.configuration(actor.who, actor.client, message)

    def params_changed(self, applied: dict[str, str] | None) -> None:
        names = applied or {}
        if applied is None or any(n.startswith((STORAGE, SHARE)) for n in names):
            if self.kind == "share":
                self._share_follows_settings()
            if not self.enabled and self.disk.mounted:
                self.disk.mounted = False
                self._event(f"{self.disk.disk_id} ignored: unmounted")
            elif self.enabled and f"{STORAGE}.Enabled" in names:
                self._mount_if_ready()
            self._apply_retention()
            self.refresh()
            self._arm_timer()

    # -- the device's restarts ----------------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        for job in self.jobs.values():
            job.complete()  # the device finishes its disk jobs before it goes down
        if kind is not RestartKind.REBOOT:
            # the settings are reset: the device no longer knows the encryption password
            self.disk.encryption_key, self.disk.wrong_key = None, False
        if self.disk.encrypted and self.disk.encryption_key is None:
            self.disk.mounted = False
        self.refresh()

    def booted(self) -> None:
        self._mount_if_ready()
        self.refresh()
        self._arm_timer()

    def _mount_if_ready(self) -> None:
        """Mount on boot (`MountOnBoot`), and when the speaker stops ignoring its share."""
        disk = self.disk
        ready = not self.absent() and not self.broken() and bool(disk.filesystem) and disk.key_opens()
        if disk.encrypted and disk.encryption_key is None:
            ready = False
        if self.kind == "share" and self.nas_problem():
            ready = False
        if ready and not disk.mounted and self.enabled and self._param(f"{STORAGE}.MountOnBoot") == "yes":
            self._autoformat()
            disk.mounted = True

    # -- persistence ----------------------------------------------------------------------

    def to_state(self) -> Any:
        state: dict[str, Any] = {
            "disk": self.disk.to_state(),
            "next_job": self.next_job,
            "drives": [d.to_state() if d else None for d in self.drives],
            "replacements": self.replacements,
            "alert_levels": [self.alert_wear, self.alert_temperature_k],
        }
        if self.kind == "raid":
            state["raid"] = {"level": self.level, "failed": self.array_failed,
                             "synced": self._synced_now(), "sync_total": self.sync_total,
                             "speed": self.timings.sync_bytes_per_s}  # fmt: skip
        if self.kind == "share":
            state["share"] = {"bound": self.bound, "nas": self.nas.to_state()}
        return state

    def load_state(self, state: Any) -> None:
        if state is None:
            return  # saved before the device had storage: the factory disk
        try:
            drives = [None if d is None else Drive.from_state(d) for d in state["drives"]]
            if len(drives) != self.drive_count:
                raise ValueError(f"{len(drives)} drives, the model has {self.drive_count}")
            disk = Disk(self.disk.disk_id, self.disk.group)
            disk.load_state(state["disk"])
            raid_state = state.get("raid")
            share_state = state.get("share")
            if self.kind == "raid" and (not isinstance(raid_state, dict) or raid_state["level"] not in self.levels):
                raise ValueError("raid: missing or unknown level")
            nas = NasBehaviour.from_state(share_state["nas"]) if self.kind == "share" else None
            next_job, replacements = int(state["next_job"]), int(state["replacements"])
            wear, temperature_k = (int(v) for v in state.get("alert_levels", [50, 333]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"storage: state is not valid ({exc!r})") from exc
        self.drives, self.disk, self.next_job, self.replacements = drives, disk, next_job, replacements
        self.alert_wear, self.alert_temperature_k = wear, temperature_k
        if self.kind == "raid":
            self.level, self.array_failed = str(raid_state["level"]), bool(raid_state["failed"])
            self.timings.sync_bytes_per_s = float(raid_state["speed"])
            self.synced, self.sync_total = int(raid_state["synced"]), int(raid_state["sync_total"])
            self.sync_mark = self.device.clock.now()
        if nas is not None:
            self.nas, self.bound = nas, bool(share_state["bound"])
        self.jobs.clear()
        self.refresh()
        self._arm_timer()
