"""The storage topics (events.md §1.5 "Storage" and §7) and the current state of each instance.

`instances()` reads the subsystem once into {(topic, source value): data}; the plugin publishes
the instances whose data differ from the last reading, and `states()` is the same reading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from axisim.events import Item, TopicDecl

if TYPE_CHECKING:
    from .plugin import StorageSubsystem

KELVIN = 273  # disk temperatures and alert levels are in kelvin on the wire
DISK_ID = Item("disk_id", "xsd:string")
ALERT = TopicDecl(
    "tnsaxis:Storage/Alert", stateful=True, source=(DISK_ID,),
    data=(Item("temperature", "xsd:int"), Item("alert", key=True), Item("wear", "xsd:int"),
          Item("overall_health", "xsd:int")),
    nice="Storage alert",
)  # fmt: skip
DISRUPTION = TopicDecl(
    "tnsaxis:Storage/Disruption", stateful=True, source=(DISK_ID,), data=(Item("disruption", key=True),),
    nice="Storage disruption",
)
STORAGE_FAILURE = TopicDecl(
    "tns1:Device/tnsaxis:HardwareFailure/StorageFailure", stateful=True, source=(DISK_ID,),
    data=(Item("disruption", key=True),), nice="Storage Failure",
)
RAID_STATES = ("active", "degraded", "syncing", "failure")


def raid_topic(drives: int) -> TopicDecl:
    """`tnsaxis:Storage/RAID`: one component<N>status item per bay (so per model)."""
    components = tuple(Item(f"component{bay}status", "xsd:string") for bay in range(drives))
    return TopicDecl(
        "tnsaxis:Storage/RAID", stateful=True,
        data=(Item("raidstate", "xsd:string", key=True), *components, Item("raidlevel", "xsd:string")),
    )  # fmt: skip


RAID_CHILDREN = {
    state: TopicDecl(f"tnsaxis:Storage/RAID/RAID{state.title()}", stateful=True, data=(Item("state", key=True),))
    for state in RAID_STATES
}
_RAID_TOPICS: dict[int, TopicDecl] = {}  # one declaration per bay count, shared by every device


def raid_decl(drives: int) -> TopicDecl:
    decl = _RAID_TOPICS.get(drives)
    if decl is None:
        decl = _RAID_TOPICS[drives] = raid_topic(drives)
    return decl


def declared(storage: StorageSubsystem) -> list[TopicDecl]:
    decls = [ALERT, DISRUPTION, STORAGE_FAILURE]
    if storage.kind == "raid":
        decls += [raid_decl(storage.drive_count), *RAID_CHILDREN.values()]
    return decls


def component_status(storage: StorageSubsystem, bay: int) -> str:
    """As raid.cgi getStatus names it: missing, spare (being rebuilt) or connected."""
    drive = storage.drives[bay]
    if drive is None or drive.failed:
        return "missing"
    return "spare" if drive.syncing else "connected"


def instances(storage: StorageSubsystem) -> dict[tuple[TopicDecl, str], dict[str, object]]:
    """Every property instance's data now; the source value is the disk id ("" when none)."""
    disk, disk_id = storage.disk, storage.disk.disk_id
    share = storage.kind == "share"
    if share or storage.absent():
        health: dict[str, object] = {"temperature": -3, "alert": False, "wear": -3 if not share or not storage.bound
                                     else -1, "overall_health": -3}  # fmt: skip
    else:
        hot = round(storage.temperature()) + KELVIN >= storage.alert_temperature_k
        healthy = storage.healthy()
        health = {"temperature": round(storage.temperature()), "alert": hot or not healthy, "wear": -1,
                  "overall_health": 1 if healthy else 0}  # fmt: skip
    failed = storage.broken() or disk.fs_errors
    disrupted = storage.absent() or failed or not disk.mounted or storage.locked or storage.full()
    found: dict[tuple[TopicDecl, str], dict[str, object]] = {
        (ALERT, disk_id): health,
        (DISRUPTION, disk_id): {"disruption": disrupted},
        (STORAGE_FAILURE, disk_id): {"disruption": failed},
    }
    if storage.kind == "raid":
        state = storage.raid_status()
        raid: dict[str, object] = {"raidstate": state}
        raid.update({f"component{bay}status": component_status(storage, bay) for bay in range(storage.drive_count)})
        raid["raidlevel"] = storage.level or ""
        found[(raid_decl(storage.drive_count), "")] = raid
        found.update({(decl, ""): {"state": state == name} for name, decl in RAID_CHILDREN.items()})
    return found
