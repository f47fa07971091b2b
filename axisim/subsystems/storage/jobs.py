"""The disk tools as jobs on the device clock: format, check, repair, mount, unmount (and the
share's connection test). A job's progress grows with simulated time; its effect applies once,
when it is due (`finish_due`, from the plugin's tick) or when the device goes down."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .host import STORAGE
from .media import Job, StorageError

if TYPE_CHECKING:
    from axisim.logs import Actor

    from .host import StorageHost

CHECK_FILESYSTEMS = ("ext4",)  # VAPIX: only ext4 can be checked or repaired
KEPT_JOBS = 50  # the last jobs job.cgi still answers


class DiskJobs:
    def __init__(self, host: StorageHost) -> None:
        self.host = host
        self.jobs: dict[int, Job] = {}
        self.next_job = 1

    # -- the job list --------------------------------------------------------------------------

    def start(self, action: str, duration: float, finish: Callable[[], str]) -> Job:
        disk = self.host.disk
        job = Job(self.next_job, action, disk.disk_id, self.host.device.clock.now(), duration, finish)
        self.next_job += 1
        self.jobs[job.id] = job
        for old in sorted(self.jobs)[:-KEPT_JOBS]:
            del self.jobs[old]
        if duration <= 0:
            job.complete()
        self.host.settled(f"Disk job {job.id} started: {action} {disk.disk_id}")
        return job

    def running(self) -> list[Job]:
        return [j for j in self.jobs.values() if not j.done]

    def busy(self) -> Job | None:
        """The disk job that keeps other tools off the disk (a share test does not)."""
        return next((j for j in self.running() if j.action != "test"), None)

    def deadlines(self) -> list[float]:
        return [j.started + j.duration for j in self.running()]

    def finish_due(self) -> bool:
        """Finish the jobs whose time has come, in order; True when one did."""
        now = self.host.device.clock.now()
        changed = False
        for job in sorted(self.jobs.values(), key=lambda j: j.started + j.duration):
            if job.due(now):
                job.complete()
                self.host.event(f"Disk job {job.id} ({job.action} {job.disk_id}): {job.result} {job.description}"
                                .rstrip())  # fmt: skip
                changed = True
        return changed

    def complete_all(self) -> None:
        """The device finishes its disk jobs before it goes down."""
        for job in self.jobs.values():
            job.complete()

    # -- checks before a tool ----------------------------------------------------------------

    def usable(self, *, formatted: bool = True, opened: bool = True) -> None:
        """Refuse a tool on a disk that is missing, broken, busy or locked away."""
        host, disk = self.host, self.host.disk
        if host.absent():
            raise StorageError("no_disk", "No disk")
        if host.broken():
            raise StorageError("failed", "The disk has failed")
        if self.busy():
            raise StorageError("busy", "Another disk job is running")
        if opened and disk.encrypted and disk.encryption_key is None:
            raise StorageError("no_passphrase", "The disk is encrypted: enter its password")
        if opened and not disk.key_opens():
            raise StorageError("wrong_passphrase", "The password does not open the encrypted disk")
        if formatted and not disk.filesystem:
            raise StorageError("no_filesystem", "The disk has no file system: format it")

    def writable(self) -> None:
        if self.host.locked:
            raise StorageError("locked", "The disk is write protected")

    # -- the tools -----------------------------------------------------------------------------

    def format(
        self, filesystem: str | None = None, actor: Actor | None = None, *,
        mounted_after: bool | None = None, result: str | None = None,
    ) -> Job:  # fmt: skip
        """Erase all recordings and format ("Format"); encrypts when encryption is enabled.

        The disk ends mounted as it was, or as `mounted_after` says (the web interface's
        tools, which unmount first); `result` replaces the job's description."""
        host, medium = self.host, self.host.medium
        fs = filesystem or host.disk.filesystem or medium.filesystems[0]
        if fs not in medium.filesystems:
            raise StorageError("filesystem", f"File system {fs} is not supported")
        self.usable(formatted=False, opened=False)
        self.writable()
        remount = host.disk.mounted if mounted_after is None else mounted_after
        host.disk.mounted = False
        host.audit(actor, f"Format {host.disk.disk_id} ({fs}) started")

        def done() -> str:
            disk = host.disk
            disk.erase()
            disk.filesystem = fs
            disk.encrypted_with = disk.encryption_key if medium.encryption_supported else None
            disk.wrong_key = False
            disk.mounted = remount
            return result or ("Formatted, encrypted" if disk.encrypted else "Formatted")

        return self.start("format", host.timings.format_s, done)

    def fsck(self, action: str, actor: Actor | None) -> Job:
        """checkdisk ("checks the storage device for errors and tries to repair it automatically")
        or repair (recordings pause during the repair; damaged recordings are lost)."""
        host = self.host
        self.usable()
        if host.disk.filesystem not in CHECK_FILESYSTEMS:
            raise StorageError("filesystem", f"Only ext4 disks can be checked, not {host.disk.filesystem}")
        remount = host.disk.mounted
        host.disk.mounted = False  # recordings pause
        host.audit(actor, f"{action} {host.disk.disk_id} started")

        def done() -> str:
            disk = host.disk
            disk.mounted = remount
            if not disk.fs_errors:
                return "No errors found"
            if action == "checkdisk" and host.param(f"{STORAGE}.AutoRepair") != "yes":
                raise StorageError("errors", "Errors found: repair the disk")
            lost = [r for r in disk.recordings if r.damaged]
            disk.recordings = [r for r in disk.recordings if not r.damaged]
            disk.fs_errors = False
            return f"Errors repaired, {len(lost)} recordings lost" if lost else "Errors repaired"

        duration = host.timings.checkdisk_s if action == "checkdisk" else host.timings.repair_s
        return self.start(action, duration, done)

    def mount(self, passphrase: str | None = None, actor: Actor | None = None) -> Job:
        """Mount; an encrypted disk whose password the device forgot needs `passphrase`."""
        host, disk = self.host, self.host.disk
        if passphrase is not None:
            if disk.encryption_key is not None and not disk.key_opens():
                disk.encryption_key = None  # try again with this one
            if disk.encryption_key is None:
                host.encryption.enable(passphrase, actor)
        self.usable()
        if disk.encryption_key is not None and not disk.encrypted:
            raise StorageError("not_encrypted", "Encryption is enabled: format the disk before use")
        if not host.enabled:
            raise StorageError("disabled", "The storage is ignored (Storage.S0.Enabled=no)")
        host.audit(actor, f"Mount {disk.disk_id}")

        def done() -> str:
            problem = host.medium.mount_problem()
            if problem is not None:
                raise StorageError(f"test_{problem[0]}", problem[1])
            self.autoformat()
            disk.mounted = True
            return "Mounted"

        return self.start("mount", host.timings.mount_s, done)

    def unmount(self, actor: Actor | None = None) -> Job:
        """ "This will stop all ongoing recordings."""
        host = self.host
        if host.absent():
            raise StorageError("no_disk", "No disk")
        if self.busy():
            raise StorageError("busy", "Another disk job is running")
        host.audit(actor, f"Unmount {host.disk.disk_id}")

        def done() -> str:
            host.disk.mounted = False
            return "Unmounted"

        return self.start("unmount", host.timings.unmount_s, done)

    def mount_if_ready(self) -> None:
        """Mount on boot (`MountOnBoot`), and when the speaker stops ignoring its share."""
        host, disk = self.host, self.host.disk
        ready = not host.absent() and not host.broken() and bool(disk.filesystem) and disk.key_opens()
        if disk.encrypted and disk.encryption_key is None:
            ready = False
        if host.medium.mount_problem() is not None:
            ready = False
        if ready and not disk.mounted and host.enabled and host.param(f"{STORAGE}.MountOnBoot") == "yes":
            self.autoformat()
            disk.mounted = True

    def autoformat(self) -> None:
        """Autoformat (RequiredFileSystem=ext4) reformats a disk of another file system when it is
        mounted, unless it is locked (VAPIX disk properties)."""
        host, disk = self.host, self.host.disk
        required = host.param(f"{STORAGE}.RequiredFileSystem")
        if required != "none" and host.medium.required_fs_supported and disk.filesystem != required \
                and not host.locked:  # fmt: skip
            disk.erase()
            disk.filesystem = required
            disk.encrypted_with = disk.encryption_key
            host.event(f"Autoformat: {disk.disk_id} formatted as {required}")
