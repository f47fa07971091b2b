"""Storage on the device event bus (events.md §1.5 "Storage", §7): each stimulus, the mount CGI,
declared == published, states() covers every stateful topic."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from axisim.control import events as control
from axisim.device import Device, make_device
from axisim.events import Event
from axisim.subsystems.storage import StorageSubsystem
from tests.conftest import DeviceClientFactory
from tests.test_disks_share_properties import share_cgi, share_reply, speaker_with_share

ALERT, DISRUPTION = "tnsaxis:Storage/Alert", "tnsaxis:Storage/Disruption"
FAILURE = "tns1:Device/tnsaxis:HardwareFailure/StorageFailure"
RAID = "tnsaxis:Storage/RAID"
MODELS = ["S3008", "S3016", "S4000", "C1410MkII"]


def storage_of(device: Device) -> StorageSubsystem:
    storage = device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    return storage


def watch(device: Device) -> list[Event]:
    seen: list[Event] = []
    device.bus.subscribe(seen.append, ["tnsaxis:Storage//.", "tns1:Device/tnsaxis:HardwareFailure//."])
    return seen


def stimulate(device: Device, name: str, **args: Any) -> list[Event]:
    seen = watch(device)
    control.apply(device, "storage", name, args)
    return seen


def of(seen: list[Event], topic: str) -> list[Event]:
    return [e for e in seen if e.topic == topic]


def test_fail_drive_of_a_single_disk_is_a_failure_a_disruption_and_an_alert() -> None:
    device = make_device("S3008")
    seen = stimulate(device, "fail_drive", bay=0)
    (failure,) = of(seen, FAILURE)
    assert failure.source == {"disk_id": "HDD_DISK"} and failure.data == {"disruption": "1"} and failure.stateful
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["1"]
    (alert,) = of(seen, ALERT)
    assert alert.data["alert"] == "1" and alert.data["overall_health"] == "0" and alert.key == "alert"
    assert not of(seen, RAID)


def test_raid_fail_replace_and_sync_finished() -> None:
    device = make_device("S3016")
    seen = stimulate(device, "fail_drive", bay=1)
    (raid,) = of(seen, RAID)
    assert raid.source == {} and raid.data["raidstate"] == "degraded" and raid.data["component1status"] == "missing"
    assert raid.data["raidlevel"] == storage_of(device).level
    assert {e.topic: e.data["state"] for e in seen if e.topic.startswith(RAID + "/")} == {
        RAID + "/RAIDActive": "0", RAID + "/RAIDDegraded": "1"}
    assert not of(seen, FAILURE)  # the array still works
    seen = stimulate(device, "replace_drive", bay=1)
    assert [e.data["raidstate"] for e in of(seen, RAID)] == ["syncing"]
    assert {e.topic: e.data["state"] for e in seen if e.topic.startswith(RAID + "/")} == {
        RAID + "/RAIDDegraded": "0", RAID + "/RAIDSyncing": "1"}
    seen = watch(device)
    device.clock.advance(48 * 3600)
    assert [e.data["raidstate"] for e in of(seen, RAID)] == ["active"]
    assert of(seen, RAID)[0].data["component1status"] == "connected"


def test_remove_drive_disrupts_and_two_lost_drives_fail_the_array() -> None:
    device = make_device("S3016")
    seen = stimulate(device, "remove_drive", bay=0)
    assert [e.data["raidstate"] for e in of(seen, RAID)] == ["degraded"]
    seen = stimulate(device, "remove_drive", bay=2)
    assert [e.data["raidstate"] for e in of(seen, RAID)] == ["failure"]
    assert [e.data["disruption"] for e in of(seen, FAILURE)] == ["1"]
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["1"]


def test_temperature_crossing_the_alert_level() -> None:
    device = make_device("S3008")
    storage = storage_of(device)
    hot = storage.alert_temperature_k - 273
    seen = stimulate(device, "set_temperature", bay=0, celsius=hot - 5)
    assert [e.data["alert"] for e in of(seen, ALERT)] == ["0"]  # temperature changed, no alert
    seen = stimulate(device, "set_temperature", bay=0, celsius=hot)
    assert [(e.data["alert"], e.data["temperature"]) for e in of(seen, ALERT)] == [("1", str(hot))]
    seen = stimulate(device, "set_temperature", bay=0, celsius=hot)
    assert seen == []  # no change, no event


def test_damaged_filesystem_is_a_failure() -> None:
    device = make_device("S3008")
    seen = stimulate(device, "damage_filesystem", recordings=1)
    assert [e.data["disruption"] for e in of(seen, FAILURE)] == ["1"]
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["1"]


def test_a_full_disk_is_a_disruption() -> None:
    device = make_device("S3008")
    storage = storage_of(device)
    storage.set_cleanup_policy("none")
    seen = stimulate(device, "add_recording", size=storage.total() - storage.total() // 1000)
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["1"]
    seen = stimulate(device, "add_recording", size=1)
    assert seen == []


async def test_unmount_and_mount_on_the_wire(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    device, storage = client.device, storage_of(client.device)
    seen = watch(device)
    await client.get("/axis-cgi/disks/mount.cgi?action=unmount&diskid=HDD_DISK")
    device.clock.advance(storage.timings.unmount_s)
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["1"]
    seen.clear()
    await client.get("/axis-cgi/disks/mount.cgi?action=mount&diskid=HDD_DISK")
    device.clock.advance(60)
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["0"] and not of(seen, FAILURE)


@pytest.mark.parametrize("model", MODELS)
def test_declared_equals_published_and_states_cover_the_topics(model: str) -> None:
    device = make_device(model)
    storage = storage_of(device)
    declared = {d.topic: d for d in storage.topics()}
    states = storage.states()
    assert {e.topic for e in states} == {t for t, d in declared.items() if d.stateful}
    for event in states:
        decl = declared[event.topic]
        assert set(event.data) == {i.name for i in decl.data} and set(event.source) == {i.name for i in decl.source}
    seen = watch(device)
    for name, args in [("set_temperature", {"bay": 0, "celsius": 80.0}), ("add_recording", {}),
                       ("damage_filesystem", {}), ("fail_drive", {"bay": 0}), ("replace_drive", {"bay": 0}),
                       ("remove_drive", {"bay": 0})]:  # fmt: skip
        with contextlib.suppress(control.EventError):  # refused on this model (no bay, not recording)
            control.apply(device, "storage", name, args)
    device.clock.advance(48 * 3600)
    for event in seen:
        decl = declared[event.topic]
        assert set(event.data) == {i.name for i in decl.data} and event.stateful == decl.stateful
    assert model == "C1410MkII" or seen
    raid_models = {"S3016", "S4000"}
    assert (RAID in declared) == (model in raid_models)


async def test_share_connect_and_disconnect(device_client: DeviceClientFactory) -> None:
    client = await speaker_with_share(device_client)
    seen = watch(client.device)
    assert await share_cgi(client, "bind", "shareid=nas1") == share_reply('<BindSuccess DiskID="NetworkShare" />')
    client.device.clock.advance(3)
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["0"]
    assert [e.source for e in of(seen, DISRUPTION)] == [{"disk_id": "NetworkShare"}]
    assert [(e.data["wear"], e.data["overall_health"]) for e in of(seen, ALERT)] == [("-1", "-3")]
    seen.clear()
    await client.get("/axis-cgi/disks/mount.cgi?action=unmount&diskid=NetworkShare")
    client.device.clock.advance(2)
    assert [e.data["disruption"] for e in of(seen, DISRUPTION)] == ["1"]
