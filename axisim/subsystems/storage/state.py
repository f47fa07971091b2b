"""The storage subsystem's saved state: the physical world a factory default keeps (the disk's
content, the drives, the RAID or the share's NAS), checked whole before any of it applies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .media import Disk, Drive

if TYPE_CHECKING:
    from .plugin import StorageSubsystem


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
