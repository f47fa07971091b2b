"""Each storage kind through the wire (issue 17): the single disk (S3008), the RAID array (S3016)
and the speaker's network share (C1410 Mk II) each publish their own parameters, report their
health and capabilities in their own way, and declare their disk id on the storage events.

What the other storage tests leave out: the share's and an empty bay's gethealth, the share's and
the array's capabilities, the DiskManagement group's shape per kind, and the disk ids the event
declarations list (events.md §1.5)."""

from __future__ import annotations

import pytest
from lxml import etree

from axisim.subsystems.storage import StorageSubsystem
from axisim.subsystems.storage.kinds import NetworkShareKind, RaidArray, SingleDisk, kind_of
from tests.conftest import DeviceClient, DeviceClientFactory

KINDS = [("S3008", SingleDisk, "HDD_DISK"), ("S3016", RaidArray, "RAID_DISK"), ("C1410MkII", NetworkShareKind,
                                                                                "NetworkShare")]  # fmt: skip
SHARE_API = "/axis-cgi/disks/networkshare"
NAS = "schemaversion=1&nicename=NAS&address=nas.example.com&share=rec&user=cam&pass=pw&shareid=nas1"
EVENT1 = "http://www.axis.com/vapix/ws/event1"
GET_EVENT_INSTANCES = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
    b'<GetEventInstances xmlns="http://www.axis.com/vapix/ws/event1"/></s:Body></s:Envelope>'
)


def storage_of(client: DeviceClient) -> StorageSubsystem:
    storage = client.device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    return storage


async def group(client: DeviceClient, name: str) -> dict[str, str]:
    """param.cgi list of a group, `root.` dropped (vapix-wire.md §2)."""
    text = await client.text("GET", f"/axis-cgi/param.cgi?action=list&group={name}")
    return dict(line.removeprefix("root.").split("=", 1) for line in text.splitlines() if line)


async def health(client: DeviceClient) -> dict[str, str]:
    """gethealth.cgi's one HealthStatus (vapix-wire.md §6.2)."""
    root = etree.fromstring(await (await client.get("/axis-cgi/disks/gethealth.cgi")).read())
    return dict(root.find("HealthStatusSuccess/HealthStatus").attrib)


async def capabilities(client: DeviceClient, disk_id: str) -> etree._Element:
    root = etree.fromstring(await (await client.get(f"/axis-cgi/disks/getcapabilities.cgi?diskid={disk_id}")).read())
    return root.find("disk")


@pytest.mark.parametrize("model, kind, disk_id", KINDS)
async def test_the_kind_is_chosen_once_from_the_model(
    device_client: DeviceClientFactory, model: str, kind: type, disk_id: str
) -> None:
    """The model's facts choose the kind; list.cgi names the disk as the real device does."""
    client = await device_client(model)
    storage = storage_of(client)
    assert kind_of(client.device.variant.facts) is kind and isinstance(storage.medium, kind)
    listed = etree.fromstring(await (await client.get("/axis-cgi/disks/list.cgi?diskid=all")).read())
    assert [d.get("diskid") for d in listed.iter("disk")] == [disk_id]


@pytest.mark.parametrize(
    "model, present, absent",
    [
        ("S3008", {"Temperature", "OverallHealth", "D0.Status"}, {"RaidLevel", "SyncProgress", "D1.Status", "Bound"}),
        ("S3016", {"RaidLevel", "RaidStatus", "SyncProgress", "D3.Status"}, {"Bound", "D4.Status"}),
        ("C1410MkII", {"Bound", "Status", "Mounted"}, {"Temperature", "OverallHealth", "RaidLevel", "D0.Status"}),
    ],
)
async def test_each_kind_publishes_its_own_parameters(
    device_client: DeviceClientFactory, model: str, present: set[str], absent: set[str]
) -> None:
    """param.cgi: the DiskManagement group holds what the kind shows (drives, RAID, a bound share)."""
    client = await device_client(model)
    names = {name.removeprefix("DiskManagement.S0.") for name in await group(client, "DiskManagement.S0")}
    assert present <= names and not absent & names


async def test_share_health_reports_wear_only(device_client: DeviceClientFactory) -> None:
    """vapix-wire.md §6.2 gethealth example: `<HealthStatus diskid="NetworkShare" wear="-1" />`; an
    unbound share is not applicable (-3)."""
    client = await device_client("C1410MkII")
    assert await health(client) == {"diskid": "NetworkShare", "wear": "-3"}
    assert "AddSuccess" in await client.text("GET", f"{SHARE_API}/add.cgi?{NAS}")
    assert "BindSuccess" in await client.text("GET", f"{SHARE_API}/bind.cgi?schemaversion=1&shareid=nas1")
    assert await health(client) == {"diskid": "NetworkShare", "wear": "-1"}


async def test_an_empty_bay_has_no_health(device_client: DeviceClientFactory) -> None:
    """A single disk pulled out: gethealth says not applicable (-3), list.cgi disconnected, the
    drive's parameters "No drive"; a new drive is formatted (Autoformat) and reports again."""
    client = await device_client("S3008")
    storage_of(client).remove_drive(0)
    assert await health(client) == {"diskid": "HDD_DISK", "wear": "-3", "temperature": "-3", "overallhealth": "-3"}
    listed = etree.fromstring(await (await client.get("/axis-cgi/disks/list.cgi?diskid=HDD_DISK")).read())
    assert listed.find("disks/disk").get("status") == "disconnected"
    assert (await group(client, "DiskManagement.S0.D0.Status"))["DiskManagement.S0.D0.Status"] == "No drive"
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&Storage.S0.RequiredFileSystem=ext4") == "OK"
    storage_of(client).insert_drive(0)
    assert (await health(client))["overallhealth"] == "1"
    listed = etree.fromstring(await (await client.get("/axis-cgi/disks/list.cgi?diskid=HDD_DISK")).read())
    assert (listed.find("disks/disk").get("status"), listed.find("disks/disk").get("filesystem")) == ("OK", "ext4")


@pytest.mark.parametrize(
    "model, disk_id, flags, filesystems",
    [
        ("S3016", "RAID_DISK", ("true", "true"), ["ext4", "vfat"]),
        ("C1410MkII", "NetworkShare", ("false", "false"), ["cifs"]),
    ],
)
async def test_capabilities_follow_the_kind(
    device_client: DeviceClientFactory, model: str, disk_id: str, flags: tuple[str, str], filesystems: list[str]
) -> None:
    """getcapabilities.cgi (VAPIX edge storage): a share cannot be encrypted nor autoformatted and
    holds cifs; an array is a disk like the S3008's."""
    disk = await capabilities(await device_client(model), disk_id)
    assert (disk.get("requiredfssupported"), disk.get("encryptionsupported")) == flags
    assert [f.get("name") for f in disk.iter("filesystem")] == filesystems


@pytest.mark.parametrize("model, kind, disk_id", KINDS)
async def test_storage_events_declare_the_disk_id(
    device_client: DeviceClientFactory, model: str, kind: type, disk_id: str
) -> None:
    """events.md §1.5: Storage/Alert, Storage/Disruption and HardwareFailure/StorageFailure list the
    device's disk (`disk_id` values `SD_DISK`, `NetworkShare` on a camera and a speaker)."""
    client = await device_client(model)
    response = await client.post("/vapix/services", data=GET_EVENT_INSTANCES,
                                 headers={"Content-Type": "application/soap+xml"})  # fmt: skip
    root = etree.fromstring(await response.read())
    found = {}
    for leaf in ("Alert", "Disruption", "StorageFailure"):
        (element,) = [e for e in root.iter() if etree.QName(e).localname == leaf]
        item = element.find(f"{{{EVENT1}}}MessageInstance/{{{EVENT1}}}SourceInstance/{{{EVENT1}}}SimpleItemInstance")
        found[leaf] = (item.get("Name"), [v.text for v in item])
    assert found == dict.fromkeys(("Alert", "Disruption", "StorageFailure"), ("disk_id", [disk_id]))
