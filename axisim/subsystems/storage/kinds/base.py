"""`StorageKind`: what differs between a single disk, a RAID array and a network share.

The plugin picks one kind when it is built (`kinds.kind_of`) and asks it whatever depends on
the medium: its parameters, its size, whether it is there or broken, what a lost or new drive
does, its extra events and saved state. Everything else (jobs, encryption, recordings, the
published status) is the same code for every kind. A kind without a feature says so through
its class flags (`encryption_supported`, ...) or the defaults below, never by its name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from param_tree import ParamDef

from ..media import TB, Disk, Drive
from ..published import GROUP, kilobytes, published_def
from ..topics import KELVIN

if TYPE_CHECKING:
    from axisim.events import TopicDecl

    from ..bays import DriveBays
    from ..host import StorageHost
    from ..topics import Data, Instances
    from .network_share_kind import NetworkShareKind
    from .raid_array import RaidArray

Apply = Callable[[], None]  # a checked saved state, applied by calling it
NOT_APPLICABLE = -3  # gethealth and Storage/Alert: "not applicable" (events.md §1.5)


class StorageKind(ABC):
    """One storage medium behind the plugin; the defaults fit a medium without drives or RAID."""

    name: ClassVar[str]  # "hdd", "raid", "share": for display and tests, never branched on
    default_disk_id: ClassVar[str]
    filesystems: ClassVar[tuple[str, ...]] = ("ext4", "vfat")
    encryption_supported: ClassVar[bool] = True
    required_fs_supported: ClassVar[bool] = True  # Autoformat (RequiredFileSystem=ext4)
    drive_health: ClassVar[bool] = True  # gethealth.cgi reports temperature and overall health
    level: str | None = None  # the RAID level (arrays only)
    levels: tuple[str, ...] = ()

    def __init__(self, host: StorageHost, facts: dict[str, Any]) -> None:
        self.host = host
        self.facts = facts

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        """The parameters this kind adds to the common status parameters."""
        return []

    @classmethod
    def bay_count(cls, facts: dict[str, Any]) -> int:
        return int(facts.get("drives", 1))

    @property
    def bays(self) -> DriveBays:
        return self.host.bays

    def prepare(self, disk: Disk) -> None:
        """The factory disk, before anything is published."""
        return None

    def drive_bytes(self) -> int:
        """The size of a new drive when nothing else says (the variant's capacity)."""
        return int(float(self.facts.get("capacity_tb", 2)) * TB)

    @abstractmethod
    def capacity(self) -> int:
        """Bytes the file system offers (0 when there is no usable disk)."""

    def broken(self) -> bool:
        return False

    def absent(self) -> bool:
        return False

    def mount_problem(self) -> tuple[int, str] | None:
        """Why a mount fails now (a network share's server refuses), or None."""
        return None

    # -- what is published -----------------------------------------------------------------

    def published(self) -> dict[str, str]:
        """This kind's published parameter values."""
        return {}

    def topics(self) -> list[TopicDecl]:
        """The topics this kind adds to the disk topics."""
        return []

    def instances(self) -> Instances:
        return {}

    def health(self) -> Data:
        """Storage/Alert's data; gethealth.cgi shows the same values."""
        return {"temperature": NOT_APPLICABLE, "alert": False, "wear": NOT_APPLICABLE,
                "overall_health": NOT_APPLICABLE}  # fmt: skip

    # -- the physical world ------------------------------------------------------------------

    def drive_lost(self) -> None:
        """A drive failed or was pulled (the bays logged it)."""
        self.host.settled()

    def drive_inserted(self, drive: Drive) -> None:
        """A new drive sits in a bay (the bays logged it)."""
        self.host.settled()

    def check_fit(self, size: int, members: list[int]) -> None:
        """StorageError when a new drive of `size` bytes cannot join the other `members`."""
        return None

    def settings_changed(self) -> None:
        """Storage or share parameters were set."""
        return None

    # -- a RAID's sync (nothing to sync elsewhere) -----------------------------------------------

    def raid_status(self) -> str:
        """VAPIX RAID status: active, degraded, syncing or failure."""
        return "degraded" if self.bays.lost() else "active"

    def sync_progress(self) -> int:
        return 100 if self.raid_status() == "active" else 0

    def sync_time_remaining(self) -> int:
        return 0

    def progress_mark(self) -> int | None:
        """A running sync's progress, saved per percent; None when nothing syncs."""
        return None

    def deadline(self) -> float | None:
        """When a running sync ends (device clock), or None."""
        return None

    def tick(self) -> bool:
        """Let simulated time take effect; True when something changed."""
        return False

    def set_sync_speed(self, bytes_per_second: float) -> None:
        self.host.timings.sync_bytes_per_s = bytes_per_second

    # -- persistence -----------------------------------------------------------------------

    def save(self, state: dict[str, Any]) -> None:
        """Add this kind's part to the saved state."""
        return None

    def loader(self, state: dict[str, Any]) -> Apply:
        """Check this kind's part of a saved state (KeyError, TypeError, ValueError when it is not
        valid) and return what applies it, so a bad state changes nothing."""
        return lambda: None

    # -- the kind's own APIs -----------------------------------------------------------------

    def as_raid(self) -> RaidArray | None:
        """The RAID management API's array, or None on a device without one."""
        return None

    def as_share(self) -> NetworkShareKind | None:
        """The network share API's share, or None on a device without one."""
        return None


class DrivesKind(StorageKind):
    """A medium of hard drives in bays: their temperature, health and status are published."""

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        defs = [published_def(f"{GROUP}.Temperature", "0"), published_def(f"{GROUP}.OverallHealth", "Passed")]
        defs += cls.array_definitions(facts)
        for bay in range(cls.bay_count(facts)):
            for item in ("SerialNumber", "Capacity", "Temperature", "Status"):
                defs.append(published_def(f"{GROUP}.D{bay}.{item}", ""))
        return defs

    @classmethod
    def array_definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        return []

    def published(self) -> dict[str, str]:
        values = {
            f"{GROUP}.Temperature": f"{self.bays.temperature():.0f}",
            f"{GROUP}.OverallHealth": "Passed" if self.bays.healthy() else "Failed",
        }
        for bay, drive in enumerate(self.bays.drives):
            key = f"{GROUP}.D{bay}"
            values[f"{key}.SerialNumber"] = drive.serial if drive else ""
            values[f"{key}.Capacity"] = str(kilobytes(drive.capacity)) if drive else "0"
            values[f"{key}.Temperature"] = f"{drive.temperature:.0f}" if drive else ""
            values[f"{key}.Status"] = drive.status if drive else "No drive"
        return values

    def health(self) -> Data:
        if self.host.absent():
            return super().health()
        celsius = round(self.bays.temperature())
        hot = celsius + KELVIN >= self.host.alert_temperature_k
        healthy = self.bays.healthy()
        return {"temperature": celsius, "alert": hot or not healthy, "wear": -1,
                "overall_health": 1 if healthy else 0}  # fmt: skip
