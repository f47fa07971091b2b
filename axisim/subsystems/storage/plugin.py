"""Storage subsystem: the recorders' hard drive or RAID, the speaker's network share.

Settings are the real `Storage.S0` parameters (VAPIX edge storage: `Locked` is "Write protect",
`RequiredFileSystem=ext4` "Autoformat", `CleanupMaxAge` the retention, `Enabled=no` the speaker's
"Ignore network storage"); `NetworkShare.N0.*` is the share. The plugin keeps the parameters,
the hooks, the topics and the stimuli and hands the work to its parts: the storage kind (`kinds/`,
chosen once from the model's facts), the bays, the jobs, encryption, recordings, the publisher
and the saved state, which reach back only through `host.StorageHost`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer
from axisim.events import Event, TopicDecl
from axisim.lifecycle import RestartKind
from param_tree import ParamDef, Role

from ..base import Subsystem
from ..stimuli import stimulus
from . import state, topics
from .bays import DriveBays
from .encryption import Encryption
from .host import STORAGE, StorageTimings
from .jobs import DiskJobs
from .kinds import NetworkShareKind, RaidArray, kind_of
from .media import Disk, Drive, Job, Recording, StorageError
from .network_share import SHARE
from .published import Publisher, common_definitions
from .recordings import Recordings
from .topics import KELVIN

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..base import DeviceView

MAX_RECORDINGS = 10_000  # per stimulus: a bounded loop
TEMPERATURE_ALERT_C = 60.0  # a drive this hot is reported in the system log


class StorageSubsystem(Subsystem):
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
        return [*common_definitions(), *kind_of(facts).definitions(facts)]

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        facts = device.variant.facts
        self.timings = StorageTimings()
        self.alert_wear = 50
        self.alert_temperature_k = int(TEMPERATURE_ALERT_C) + KELVIN
        kind = kind_of(facts)
        self.disk = Disk(str(facts.get("disk_id", kind.default_disk_id)), "S0")
        self.bays = DriveBays(self, kind.bay_count(facts))
        self.medium = kind(self, facts)
        self.medium.prepare(self.disk)
        self.bays.fill(self.medium.drive_bytes())
        self.tools = DiskJobs(self)
        self.encryption = Encryption(self, self.tools)
        self.recordings = Recordings(self, self.tools)
        self.publisher = Publisher(self)
        self._timer = DeadlineTimer(device.clock, self.tick)
        self._saved_progress: int | None = None
        device.clock.on_advance.append(self.tick)
        self.refresh()

    # -- what the disk is now ---------------------------------------------------

    @property
    def kind(self) -> str:
        """The kind's name (hdd, raid, share), for display and tests; nothing branches on it."""
        return self.medium.name

    @property
    def drives(self) -> list[Drive | None]:
        return self.bays.drives

    @property
    def level(self) -> str | None:
        return self.medium.level

    def param(self, name: str) -> str:
        return self.device.params.value(name)

    @property
    def locked(self) -> bool:
        return self.param(f"{STORAGE}.Locked") == "yes"

    @property
    def enabled(self) -> bool:
        return self.param(f"{STORAGE}.Enabled") == "yes"

    def raid_status(self) -> str:
        """VAPIX RAID status: active, degraded, syncing or failure."""
        return self.medium.raid_status()

    def sync_progress(self) -> int:
        return self.medium.sync_progress()

    def sync_time_remaining(self) -> int:
        return self.medium.sync_time_remaining()

    def broken(self) -> bool:
        return self.medium.broken()

    def absent(self) -> bool:
        return self.medium.absent()

    def status(self) -> str:
        """The disk status of disks/list.cgi (VAPIX edge storage: disconnected, connected, OK, ...)."""
        return state.status(self)

    def total(self) -> int:
        return state.total(self)

    def free(self) -> int:
        return state.free(self)

    def full(self) -> bool:
        return state.full(self)

    def health(self) -> dict[str, object]:
        """Storage/Alert's data, as gethealth.cgi reports it (temperature in Celsius, -3: none)."""
        return self.medium.health()

    # -- publishing and time ------------------------------------------------------------

    def refresh(self) -> None:
        """After a change: the status parameters, then an event for each property instance that changed."""
        self.publisher.refresh()

    def topics(self) -> list[TopicDecl]:
        return topics.declared(self)

    def states(self) -> list[Event]:
        return self.publisher.states()

    def event(self, message: str) -> None:
        self.device.logs.system_event(message, source="storage")

    def settled(self, message: str | None = None) -> None:
        """After any change: publish, log, save, and wake up when the next job or sync ends."""
        if message:
            self.event(message)
        self.refresh()
        self.device.changed()
        self.arm_timer()

    def arm_timer(self) -> None:
        """Finish jobs and syncs in real time too (the clock's `advance` covers simulated time)."""
        deadlines = self.tools.deadlines() + self.recordings.deadlines()
        sync_end = self.medium.deadline()
        if sync_end is not None:
            deadlines.append(sync_end)
        self._timer.arm(min(deadlines, default=None))

    def tick(self) -> None:
        """Let simulated time take effect: finish due jobs and syncs, apply retention."""
        changed = self.tools.finish_due()
        changed = self.recordings.finish_due() or changed
        changed = self.medium.tick() or changed
        changed = self.recordings.apply_retention() or changed
        progress = self.medium.progress_mark()
        if changed or progress != self._saved_progress:  # a sync's progress is saved per percent
            self._saved_progress = progress
            self.settled()
        else:
            self.publisher.params()  # nothing changed but the clock: no event, no diff

    # -- the disk tools (jobs.py, encryption.py) --------------------------------------------

    def job(self, job_id: int) -> Job | None:
        self.tick()
        return self.tools.jobs.get(job_id)

    def format(self, filesystem: str | None = None, actor: Actor | None = None, *,
               mounted_after: bool | None = None, result: str | None = None) -> Job:  # fmt: skip
        """Erase all recordings and format ("Format"); encrypts when encryption is enabled."""
        return self.tools.format(filesystem, actor, mounted_after=mounted_after, result=result)

    def check(self, actor: Actor | None = None) -> Job:
        return self.tools.fsck("checkdisk", actor)

    def repair(self, actor: Actor | None = None) -> Job:
        return self.tools.fsck("repair", actor)

    def mount(self, passphrase: str | None = None, actor: Actor | None = None) -> Job:
        return self.tools.mount(passphrase, actor)

    def unmount(self, actor: Actor | None = None) -> Job:
        return self.tools.unmount(actor)

    def enable_encryption(self, passphrase: str, actor: Actor | None = None) -> None:
        self.encryption.enable(passphrase, actor)

    def disable_encryption(self, actor: Actor | None = None) -> None:
        self.encryption.disable(actor)

    def change_passphrase(self, old: str, new: str, actor: Actor | None = None) -> None:
        self.encryption.change_passphrase(old, new, actor)

    def encrypt(self, passphrase: str, actor: Actor | None = None) -> Job:
        return self.encryption.encrypt(passphrase, actor)

    def decrypt(self, actor: Actor | None = None) -> Job:
        return self.encryption.decrypt(actor)

    # -- RAID (kinds/raid_array.py) --------------------------------------------------------

    def _array(self) -> RaidArray:
        array = self.medium.as_raid()
        if array is None:
            raise StorageError("no_raid", "The device has no RAID")
        return array

    def recreate_raid(self, level: str, actor: Actor | None = None) -> None:
        self._array().recreate(level, actor)

    def change_raid_level(self, level: str, passphrase: str | None = None, actor: Actor | None = None) -> Job:
        return self._array().change_level(level, passphrase, actor)

    def set_sync_speed(self, bytes_per_second: float) -> None:
        """How fast a RAID rebuilds (simulated); progress so far is kept."""
        if bytes_per_second <= 0:
            raise ValueError("the sync speed must be positive")
        self.medium.set_sync_speed(bytes_per_second)
        self.settled()

    # -- the network share (kinds/network_share_kind.py) -------------------------------------

    def shares(self) -> NetworkShareKind:
        """The speaker's share tools; StorageError on a device without a network share."""
        share = self.medium.as_share()
        if share is None:
            raise StorageError("no_share", "The device has no network share")
        return share

    @property
    def bound(self) -> bool:
        share = self.medium.as_share()
        return share is not None and share.bound

    def share(self) -> dict[str, str] | None:
        """The configured share (settings from NetworkShare.N0), or None."""
        share = self.medium.as_share()
        return share.share() if share is not None else None

    def smb_version(self) -> str:
        return self.shares().smb_version()

    def add_share(self, address: str, share: str, user: str = "", password: str = "", **options: Any) -> str:
        """ "Add network storage" (options: nicename, share_id, smb_version, test, actor)."""
        return self.shares().add_share(address, share, user, password, **options)

    def remove_share(self, share_id: str, actor: Actor | None = None) -> None:
        self.shares().remove_share(share_id, actor)

    def bind(self, share_id: str, automount: bool = True, actor: Actor | None = None) -> str:
        return self.shares().bind(share_id, automount, actor)

    def unbind(self, share_id: str, actor: Actor | None = None) -> None:
        self.shares().unbind(share_id, actor)

    def remove_network_storage(self, actor: Actor | None = None) -> None:
        if self.share() is None:
            raise StorageError("unknown_share", "No network share")
        self.shares().remove_network_storage(actor)

    def test_share(self, actor: Actor | None = None, **override: str) -> Job:
        return self.shares().test_share(actor, **override)

    def set_nas(self, outcome: str | None = None, **behaviour: Any) -> None:
        """What the (simulated) NAS does (capacity, required_password, min_smb)."""
        self.shares().set_nas(outcome, **behaviour)

    # -- the physical world (bays.py, recordings.py) ------------------------------------------

    def fail_drive(self, bay: int) -> None:
        self.bays.fail(bay)

    def remove_drive(self, bay: int) -> Drive:
        return self.bays.remove(bay)

    def insert_drive(self, bay: int, capacity: int | None = None, serial: str | None = None) -> Drive:
        return self.bays.insert(bay, capacity, serial)

    def replace_drive(self, bay: int, capacity: int | None = None, serial: str | None = None) -> Drive:
        return self.bays.replace(bay, capacity, serial)

    def set_temperature(self, bay: int, celsius: float) -> None:
        self.bays.set_temperature(bay, celsius)

    def damage_filesystem(self, recordings: int = 1) -> None:
        self.recordings.damage(recordings)

    def add_recording(self, size: int, age_days: float = 0.0) -> Recording:
        return self.recordings.add(size, age_days)

    # -- the rules' "Record video" action (edge storage API; rules/actions.py calls these by word) ----

    def start_recording(self, disk_id: str, options: str = "", pre_seconds: float = 0.0) -> str:
        """Record to `disk_id` until `stop_recording`; the recording's id (StorageError if it cannot)."""
        return self.recordings.start(disk_id, options, pre_seconds).id

    def stop_recording(self, recording_id: str, post_seconds: float = 0.0) -> None:
        self.recordings.stop(recording_id, post_seconds)

    @property
    def recording(self) -> bool:
        """A recording is ongoing (`tnsaxis:Storage/Recording`)."""
        return bool(self.recordings.ongoing)

    # -- settings --------------------------------------------------------------------------

    def set_write_protect(self, on: bool, actor: Actor | None = None) -> None:
        self.set(f"{STORAGE}.Locked", "yes" if on else "no", actor)

    def set_autoformat(self, on: bool, actor: Actor | None = None) -> None:
        self.set(f"{STORAGE}.RequiredFileSystem", "ext4" if on else "none", actor)

    def set_retention(self, days: int, actor: Actor | None = None) -> None:
        self.set(f"{STORAGE}.CleanupMaxAge", str(days), actor)

    def set_cleanup_policy(self, policy: str, actor: Actor | None = None) -> None:
        self.set(f"{STORAGE}.CleanupPolicyActive", policy, actor)

    def set_required_fs(self, filesystem: str, actor: Actor | None = None) -> None:
        """Autoformat is `ext4`; `none` turns it off (disk properties setrequiredfs)."""
        if not self.medium.required_fs_supported or filesystem not in ("none", "ext4"):
            raise StorageError("filesystem", "Specified file system is not supported.")
        self.set(f"{STORAGE}.RequiredFileSystem", filesystem, actor)

    def set_alert_levels(self, wear: int | None, temperature_k: int | None) -> None:
        """Disk alert levels (disk properties): a drive at or over the temperature is reported."""
        if wear is not None:
            self.alert_wear = wear
        if temperature_k is not None:
            self.alert_temperature_k = temperature_k
        self.settled()

    def set(self, name: str, value: str, actor: Actor | None, *more: tuple[str, str]) -> None:
        """Set related settings all or nothing (a refused share address must not leave half a share)."""
        changes = [(name, value), *more]
        for key, text in changes:
            if not self.device.params.check_write(key, text, Role.ADMIN):
                raise StorageError("invalid", f"{key} cannot be set to {text!r}")
        who = (actor,) if actor is not None else ()
        self.device.update_params(changes, Role.ADMIN, *who)

    def audit(self, actor: Actor | None, message: str) -> None:
        if actor is None:
            self.event(message)
        else:
            self.device.logs.configuration(actor.who, actor.client, message)

    def params_changed(self, applied: dict[str, str] | None) -> None:
        names = applied or {}
        if applied is None or any(n.startswith((STORAGE, SHARE)) for n in names):
            self.medium.settings_changed()
            if not self.enabled and self.disk.mounted:
                self.disk.mounted = False
                self.event(f"{self.disk.disk_id} ignored: unmounted")
            elif self.enabled and f"{STORAGE}.Enabled" in names:
                self.tools.mount_if_ready()
            self.recordings.apply_retention()
            self.refresh()
            self.arm_timer()

    # -- the device's restarts ----------------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        self.tools.complete_all()
        self.recordings.finish_due(everything=True)  # "triggered recordings end when the device is shut down"
        if kind is not RestartKind.REBOOT:
            # the settings are reset: the device no longer knows the encryption password
            self.disk.encryption_key, self.disk.wrong_key = None, False
        if self.disk.encrypted and self.disk.encryption_key is None:
            self.disk.mounted = False
        self.refresh()

    def booted(self) -> None:
        self.tools.mount_if_ready()
        self.refresh()
        self.arm_timer()


    # -- persistence ----------------------------------------------------------------------

    def to_state(self) -> Any:
        return state.save(self)

    def load_state(self, saved: Any) -> None:
        state.load(self, saved)
