"""What the storage subsystem publishes: the read-only `DiskManagement.S0` parameters and the
storage events (a diff of each property instance against the last reading).

The parameters hold what the manuals show and no real parameter holds (status, sizes, encryption,
health, RAID level and status, each drive); the storage kind adds its own part."""

from __future__ import annotations

from typing import TYPE_CHECKING

from axisim.events import Event
from param_tree import ParamDef, ParamType, SecurityLevel

from ..base import PUBLISHED, param_def
from . import topics
from .host import STORAGE

if TYPE_CHECKING:
    from .plugin import StorageSubsystem

GROUP = "DiskManagement.S0"
READ = SecurityLevel.parse("7747")  # operators read what disks/list.cgi shows them
ADMIN_RW = SecurityLevel.parse("7766")


def published_def(name: str, value: str, kind: ParamType = PUBLISHED, security: SecurityLevel = READ) -> ParamDef:
    return param_def(name, value, kind, security)


def kilobytes(size: int) -> int:
    return size // 1024


def common_definitions() -> list[ParamDef]:
    """The status parameters every storage kind publishes."""
    return [
        published_def(f"{GROUP}.Status", "OK"),
        published_def(f"{GROUP}.Mounted", "yes"),
        published_def(f"{GROUP}.Encrypted", "no"),
        published_def(f"{GROUP}.TotalSize", "0"),
        published_def(f"{GROUP}.FreeSize", "0"),
        published_def(f"{GROUP}.UsedSpace", "0"),
        published_def(f"{GROUP}.Recordings", "0"),
    ]


class Publisher:
    """Publishes the status parameters and the events whose data changed since the last time."""

    def __init__(self, storage: StorageSubsystem) -> None:
        self.storage = storage
        self._last: tuple[tuple[object, ...], ...] = ()  # each event instance's data values, last published

    def params(self) -> None:
        """Write the published status parameters (read-only values a client lists)."""
        storage, disk = self.storage, self.storage.disk
        total = storage.total()
        values = {
            f"{GROUP}.Status": storage.status(),
            f"{GROUP}.Mounted": "yes" if disk.mounted else "no",
            f"{GROUP}.Encrypted": "yes" if disk.encrypted else "no",
            f"{GROUP}.TotalSize": str(kilobytes(total)),
            f"{GROUP}.FreeSize": str(kilobytes(storage.free())),
            f"{GROUP}.UsedSpace": str(int(disk.used * 100 / total)) if total else "0",
            f"{GROUP}.Recordings": str(len(disk.recordings)),
            f"{STORAGE}.FileSystem": disk.filesystem or "ext4",
            **storage.medium.published(),
        }
        storage.device.params.set_base(values)

    def refresh(self) -> None:
        """After a change: the status parameters, then an event for each property instance that changed."""
        self.params()
        now = topics.instances(self.storage)
        values = tuple(tuple(data.values()) for data in now.values())  # instances come in a fixed order
        last, self._last = self._last, values
        for position, ((decl, disk_id), data) in enumerate(now.items()):
            if position >= len(last) or last[position] != values[position]:
                self.storage.publish(decl, {"disk_id": disk_id} if disk_id else None, data)

    def states(self) -> list[Event]:
        return [self.storage.state_of(decl, {"disk_id": disk_id} if disk_id else {}, data)
                for (decl, disk_id), data in topics.instances(self.storage).items()]  # fmt: skip
