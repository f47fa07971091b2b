"""What the disk is now (its status and sizes, the same for every kind) and the storage
subsystem's saved state: the physical world a factory default keeps (the disk's content,
the drives, the RAID or the share's NAS), checked whole before any of it applies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .media import Disk, Drive

if TYPE_CHECKING:
    from .plugin import StorageSubsystem


def status(storage: StorageSubsystem) -> str:
    """The disk status of disks/list.cgi (VAPIX edge storage: disconnected, connected, OK, ...)."""
    disk = storage.disk
    if storage.absent():
        return "disconnected"
    if storage.broken() or disk.fs_errors:
        return "failed"
    if disk.encrypted and disk.encryption_key is None:
        return "no passphrase"
    if disk.encrypted and not disk.key_opens():
        return "wrong passphrase"
    if disk.encryption_key is not None and not disk.encrypted and not disk.mounted:
        return "not encrypted"
    return "OK" if disk.mounted else "connected"


def total(storage: StorageSubsystem) -> int:
    """Bytes the mounted file system offers (0 when it is not mounted)."""
    return storage.medium.capacity() if storage.disk.mounted else 0


def free(storage: StorageSubsystem) -> int:
    return max(0, total(storage) - storage.disk.used) if storage.disk.mounted else 0


def full(storage: StorageSubsystem) -> bool:
    size = total(storage)
    return bool(size) and free(storage) * 100 < size  # less than 1 % left


def save(storage: StorageSubsystem) -> dict[str, Any]:
    state: dict[str, Any] = {
        "disk": storage.disk.to_state(),
        "next_job": storage.tools.next_job,
        "drives": [d.to_state() if d else None for d in storage.bays.drives],
        "replacements": storage.bays.replacements,
        "alert_levels": [storage.alert_wear, storage.alert_temperature_k],
    }
    storage.medium.save(state)
    return state


def load(storage: StorageSubsystem, state: Any) -> None:
    """Restore `save()`'s data; ValueError when it is not valid (nothing changed then)."""
    if state is None:
        return  # saved before the device had storage: the factory disk
    try:
        drives = [None if d is None else Drive.from_state(d) for d in state["drives"]]
        if len(drives) != storage.bays.count:
            raise ValueError(f"{len(drives)} drives, the model has {storage.bays.count}")
        disk = Disk(storage.disk.disk_id, storage.disk.group)
        disk.load_state(state["disk"])
        apply_kind = storage.medium.loader(state)
        next_job, replacements = int(state["next_job"]), int(state["replacements"])
        wear, temperature_k = (int(v) for v in state.get("alert_levels", [50, 333]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"storage: state is not valid ({exc!r})") from exc
    storage.bays.drives, storage.bays.replacements = drives, replacements
    storage.disk, storage.tools.next_job = disk, next_job
    storage.alert_wear, storage.alert_temperature_k = wear, temperature_k
    apply_kind()
    storage.tools.jobs.clear()
    storage.refresh()
    storage.arm_timer()
