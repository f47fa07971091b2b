"""`StorageHost`: what the storage parts (the kinds, jobs, encryption, recordings, bays) may use
of the plugin that owns them, and through it of each other (`tools`, `encryption`). The plugin
is the one host; naming it through this narrow interface keeps each part testable and stops a
part from reaching into another part's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..base import DeviceView
    from .bays import DriveBays
    from .encryption import Encryption
    from .jobs import DiskJobs
    from .kinds.base import StorageKind
    from .media import Disk

STORAGE = "Storage.S0"  # the real storage settings (VAPIX edge storage) the parts read with `param`


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


class StorageHost(Protocol):
    """The storage plugin as its parts see it."""

    device: DeviceView
    disk: Disk
    timings: StorageTimings
    medium: StorageKind
    bays: DriveBays
    tools: DiskJobs  # the job list and the disk tools
    encryption: Encryption
    alert_temperature_k: int

    @property
    def locked(self) -> bool: ...

    @property
    def enabled(self) -> bool: ...

    def param(self, name: str) -> str:
        """A parameter's value now."""
        ...

    def absent(self) -> bool: ...

    def broken(self) -> bool: ...

    def status(self) -> str: ...

    def total(self) -> int: ...

    def event(self, message: str) -> None:
        """A line in the system log (source storage)."""
        ...

    def settled(self, message: str | None = None) -> None:
        """After a change: log, publish, save and re-arm the timer."""
        ...

    def audit(self, actor: Actor | None, message: str) -> None: ...

    def set(self, name: str, value: str, actor: Actor | None, *more: tuple[str, str]) -> None:
        """Set related settings all or nothing."""
        ...
