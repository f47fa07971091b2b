"""The storage topics (events.md §1.5 "Storage" and §7) and the current state of each instance.

`instances()` reads the subsystem once into {(topic, source value): data}; the publisher sends
the instances whose data differ from the last reading, and `states()` is the same reading.
The disk topics declare the device's one disk id as the `disk_id` source value, as a real device
lists its disks (`SD_DISK`, `NetworkShare`; events.md §1.5); the storage kind adds its own topics
(a RAID's state machine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from axisim.events import Item, TopicDecl

if TYPE_CHECKING:
    from .kinds.raid_array import RaidArray
    from .plugin import StorageSubsystem

KELVIN = 273  # disk temperatures and alert levels are in kelvin on the wire
Data = dict[str, object]
Instances = dict[tuple[TopicDecl, str], Data]


def disk_topic_set(disk_id: str) -> tuple[TopicDecl, TopicDecl, TopicDecl]:
    """Storage alert, disruption and failure, their `disk_id` source declaring this disk."""
    source = (Item("disk_id", "xsd:string", values=((disk_id, None),)),)
    return (
        TopicDecl(
            "tnsaxis:Storage/Alert", stateful=True, source=source,
            data=(Item("temperature", "xsd:int"), Item("alert", key=True), Item("wear", "xsd:int"),
                  Item("overall_health", "xsd:int")),
            nice="Storage alert",
        ),
        TopicDecl("tnsaxis:Storage/Disruption", stateful=True, source=source,
                  data=(Item("disruption", key=True),), nice="Storage disruption"),
        TopicDecl("tns1:Device/tnsaxis:HardwareFailure/StorageFailure", stateful=True, source=source,
                  data=(Item("disruption", key=True),), nice="Storage Failure"),
    )  # fmt: skip


_DISK_TOPICS: dict[str, tuple[TopicDecl, TopicDecl, TopicDecl]] = {}  # one set per disk id, shared by devices


def disk_topics(disk_id: str) -> tuple[TopicDecl, TopicDecl, TopicDecl]:
    found = _DISK_TOPICS.get(disk_id)
    if found is None:
        found = _DISK_TOPICS[disk_id] = disk_topic_set(disk_id)
    return found


# "Recording ongoing" (events.md §1.5 [REC]; edge storage API "Event recording ongoing"): no source
RECORDING_DECL = TopicDecl("tnsaxis:Storage/Recording", stateful=True, data=(Item("recording", key=True),),
                           nice="Recording ongoing")  # fmt: skip

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
    return [*disk_topics(storage.disk.disk_id), RECORDING_DECL, *storage.medium.topics()]


def raid_instances(array: RaidArray) -> Instances:
    """The RAID state machine's instances (no source)."""
    state = array.raid_status()
    raid: Data = {"raidstate": state}
    raid.update({f"component{bay}status": component_status(array, bay) for bay in range(array.bays.count)})
    raid["raidlevel"] = array.level or ""
    found: Instances = {(raid_decl(array.bays.count), ""): raid}
    found.update({(decl, ""): {"state": state == name} for name, decl in RAID_CHILDREN.items()})
    return found


def component_status(array: RaidArray, bay: int) -> str:
    """As raid.cgi getStatus names it: missing, spare (being rebuilt) or connected."""
    drive = array.bays.drives[bay]
    if drive is None or drive.failed:
        return "missing"
    return "spare" if drive.syncing else "connected"


def instances(storage: StorageSubsystem) -> Instances:
    """Every property instance's data now; the source value is the disk id ("" when none)."""
    disk, disk_id = storage.disk, storage.disk.disk_id
    alert, disruption, failure = disk_topics(disk_id)
    failed = storage.broken() or disk.fs_errors
    disrupted = storage.absent() or failed or not disk.mounted or storage.locked or storage.full()
    found: Instances = {
        (alert, disk_id): storage.medium.health(),
        (disruption, disk_id): {"disruption": disrupted},
        (failure, disk_id): {"disruption": failed},
        (RECORDING_DECL, ""): {"recording": storage.recording},
    }
    found.update(storage.medium.instances())
    return found
