"""disks/list.cgi, gethealth, getcapabilities, the job CGIs and raid.cgi on the wire.

Shapes from vapix-wire.md §6.2 (a recorded AXIS OS 9.80 list.cgi body; the VAPIX
edge storage and RAID management pages). One state: what raid.cgi and list.cgi
say is what the DiskManagement/Storage parameters say.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from axisim.device import AccountSpec
from axisim.subsystems.storage import StorageSubsystem
from tests.conftest import ROOT, DeviceClient, DeviceClientFactory

GB = 10**9
RAID = "/axis-cgi/disks/raid.cgi"


def storage_of(client: DeviceClient) -> StorageSubsystem:
    storage = client.device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    return storage


async def xml(client: DeviceClient, path: str) -> etree._Element:
    response = await client.get(path)
    assert response.status == 200 and response.headers["Content-Type"] == "text/xml"
    return etree.fromstring(await response.read())


async def raid(client: DeviceClient, document: dict[str, Any] | str, **kwargs: Any) -> dict[str, Any]:
    body = document if isinstance(document, str) else json.dumps(document)
    response = await client.post(RAID, data=body, headers={"Content-Type": "application/json"}, **kwargs)
    assert response.status == 200 and response.headers["Content-Type"] == "application/json"
    return json.loads(await response.text())


async def params(client: DeviceClient, group: str) -> dict[str, str]:
    text = await client.text("GET", f"/axis-cgi/param.cgi?action=list&group={group}")
    return dict(line.removeprefix("root.").split("=", 1) for line in text.splitlines())


async def test_list_cgi_is_the_recorded_shape(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008", variant="4TB")
    storage_of(client).add_recording(GB)
    text = await client.text("GET", "/axis-cgi/disks/list.cgi?diskid=all")
    total, free = 4 * 10**12 // 1024, (4 * 10**12 - GB) // 1024
    assert text == (
        '<?xml version="1.0"?>\n<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/list1.xsd">\n'
        f'<disks numberofdisks="1" >  <disk diskid="HDD_DISK" name="" totalsize="{total}" freesize="{free}" '
        'cleanuplevel="99" cleanupmaxage="7000" cleanuppolicy="fifo" locked="no" full="no" readonly="no" '
        'status="OK" filesystem="ext4" group="S0" requiredfilesystem="none" encryptionenabled="false" '
        'diskencrypted="false"/>\n</disks> </root>\n'
    )
    values = await params(client, "DiskManagement.S0")
    assert values["DiskManagement.S0.TotalSize"] == str(total) and values["DiskManagement.S0.FreeSize"] == str(free)


async def test_list_cgi_filters_by_disk(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016")
    assert (await xml(client, "/axis-cgi/disks/list.cgi?diskid=RAID_DISK")).find("disks/disk") is not None
    empty = await xml(client, "/axis-cgi/disks/list.cgi?diskid=SD_DISK")
    assert empty.find("disks").get("numberofdisks") == "0" and empty.find("disks/disk") is None


async def test_gethealth_reports_kelvin_and_the_health_test(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016")
    storage_of(client).set_temperature(0, 42)
    status = (await xml(client, "/axis-cgi/disks/gethealth.cgi")).find("HealthStatusSuccess/HealthStatus")
    assert dict(status.attrib) == {"diskid": "RAID_DISK", "wear": "-1", "temperature": "315", "overallhealth": "1"}
    storage_of(client).fail_drive(1)
    status = (await xml(client, "/axis-cgi/disks/gethealth.cgi")).find("HealthStatusSuccess/HealthStatus")
    assert status.get("overallhealth") == "0"


async def test_getcapabilities_lists_the_file_systems(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    disk = (await xml(client, "/axis-cgi/disks/getcapabilities.cgi?diskid=HDD_DISK")).find("disk")
    assert disk.get("encryptionsupported") == "true"
    assert [(f.get("name"), f.get("requiredfssupported")) for f in disk.iter("filesystem")] == [
        ("ext4", "true"),
        ("vfat", "false"),
    ]


async def test_format_job_progress_on_the_wire(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    storage = storage_of(client)
    storage.add_recording(GB)
    job = (await xml(client, "/axis-cgi/disks/format.cgi?diskid=HDD_DISK&filesystem=vfat")).find("job")
    assert job.get("result") == "OK" and job.get("action") == "format"
    job_id = job.get("jobid")
    client.device.clock.advance(storage.timings.format_s * 0.25)
    check = f"/axis-cgi/disks/job.cgi?jobid={job_id}&diskid=HDD_DISK"
    progress = (await xml(client, check)).find("job")
    assert progress.get("progress") == "25" and progress.get("result") == "OK"
    assert (await xml(client, "/axis-cgi/disks/list.cgi")).find("disks/disk").get("status") == "connected"
    client.device.clock.advance(storage.timings.format_s)
    done = (await xml(client, check)).find("job")
    assert (done.get("progress"), done.get("result"), done.get("description")) == ("100", "OK", "Formatted")
    disk = (await xml(client, "/axis-cgi/disks/list.cgi")).find("disks/disk")
    assert (disk.get("filesystem"), disk.get("status")) == ("vfat", "OK")
    assert disk.get("freesize") == disk.get("totalsize")  # the recordings are gone
    assert (await params(client, "Storage.S0.FileSystem")) == {"Storage.S0.FileSystem": "vfat"}


@pytest.mark.parametrize(
    "path, description",
    [
        ("/axis-cgi/disks/format.cgi?diskid=HDD_DISK&filesystem=ntfs", "File system ntfs is not supported"),
        ("/axis-cgi/disks/format.cgi?diskid=SD_DISK", "Invalid disk id"),
        ("/axis-cgi/disks/format.cgi", "Invalid disk id"),
        ("/axis-cgi/disks/mount.cgi?action=eject&diskid=HDD_DISK", "Invalid action"),
    ],
)
async def test_bad_job_requests_get_an_error_job_and_change_nothing(
    device_client: DeviceClientFactory, path: str, description: str
) -> None:
    client = await device_client("S3008")
    storage_of(client).add_recording(GB)
    job = (await xml(client, path)).find("job")
    assert job.get("result") == "ERROR" and job.get("description") == description and job.get("jobid") is None
    assert storage_of(client).status() == "OK" and len(storage_of(client).disk.recordings) == 1


async def test_unknown_job_and_write_protected_format(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    unknown = (await xml(client, "/axis-cgi/disks/job.cgi?jobid=99&diskid=HDD_DISK")).find("job")
    assert (unknown.get("action"), unknown.get("result"), unknown.get("progress")) == ("N/A", "ERROR", "100")
    locked = (await xml(client, "/axis-cgi/disks/lock.cgi?action=lock&diskid=HDD_DISK")).find("lock")
    assert locked.attrib == {"diskid": "HDD_DISK", "result": "OK"}
    assert (await params(client, "Storage.S0.Locked")) == {"Storage.S0.Locked": "yes"}
    refused = (await xml(client, "/axis-cgi/disks/format.cgi?diskid=HDD_DISK")).find("job")
    assert refused.get("result") == "ERROR" and "write protected" in refused.get("description")
    assert (await xml(client, "/axis-cgi/disks/list.cgi")).find("disks/disk").get("locked") == "yes"


async def test_an_operator_may_list_and_check_but_not_format(device_client: DeviceClientFactory) -> None:
    client = await device_client(
        "S3008", accounts=[AccountSpec("root", "pass", "admin"), AccountSpec("op", "op1", "operator")]
    )
    operator = ("op", "op1")
    assert (await client.get("/axis-cgi/disks/list.cgi", auth=operator)).status == 200
    assert (await client.get("/axis-cgi/disks/checkdisk.cgi?diskid=HDD_DISK", auth=operator)).status == 200
    assert (await client.get("/axis-cgi/disks/format.cgi?diskid=HDD_DISK", auth=operator)).status == 401
    assert storage_of(client).disk.filesystem == "ext4"


# -- raid.cgi --------------------------------------------------------------------------------


async def test_raid_get_status_matches_the_parameters(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016", variant="16TB")
    storage = storage_of(client)
    storage.fail_drive(1)
    storage.insert_drive(1, serial="REPLACED1")
    client.device.clock.advance(3600)
    reply = await raid(client, {"apiVersion": "1.0", "context": "c1", "method": "getStatus"})
    assert list(reply) == ["apiVersion", "context", "method", "data"] and reply["context"] == "c1"
    (status,) = reply["data"]["raids"]
    assert status["status"] == "syncing" and status["raidLevel"] == "raid5"
    assert 0 < status["syncProgress"] < 100 and status["syncTimeRemaining"] > 0
    assert status["components"][1] == {"componentStatus": "spare", "componentId": "1",
                                       "serialNumber": "REPLACED1", "capacity": 5333}  # fmt: skip
    values = await params(client, "DiskManagement.S0")
    assert values["DiskManagement.S0.RaidStatus"] == "Syncing"
    assert values["DiskManagement.S0.SyncProgress"] == str(status["syncProgress"])
    assert values["DiskManagement.S0.D1.SerialNumber"] == "REPLACED1"


async def test_raid_levels_and_versions(device_client: DeviceClientFactory) -> None:
    client = await device_client("S4000")
    caps = await raid(client, {"apiVersion": "1.0", "method": "getCapabilities"})
    assert caps["data"] == {"raidLevels": ["raid0", "raid1", "raid5", "raid6", "raid10"]}
    versions = await raid(client, {"method": "getSupportedVersions"})
    assert versions["data"] == {"apiVersions": ["1.0"]}


async def test_recreate_raid_after_unmount_then_format(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016")
    storage = storage_of(client)
    storage.add_recording(GB)
    request = {"apiVersion": "1.0", "method": "recreateRaidOnAllComponents", "params": {"raidLevel": "raid0"}}
    busy = await raid(client, request)
    assert busy["error"] == {"code": 1200, "message": "Generic RAID error"}  # still mounted
    await client.get("/axis-cgi/disks/mount.cgi?action=unmount&diskid=RAID_DISK")
    client.device.clock.advance(storage.timings.unmount_s)
    assert (await raid(client, request))["data"] == {}
    disk = (await xml(client, "/axis-cgi/disks/list.cgi")).find("disks/disk")
    assert (disk.get("status"), disk.get("filesystem")) == ("connected", "")  # no file system after recreation
    await client.get("/axis-cgi/disks/format.cgi?diskid=RAID_DISK&filesystem=ext4")
    client.device.clock.advance(storage.timings.format_s)
    await client.get("/axis-cgi/disks/mount.cgi?action=mount&diskid=RAID_DISK")
    client.device.clock.advance(storage.timings.mount_s)
    status = (await raid(client, {"apiVersion": "1.0", "method": "getStatus"}))["data"]["raids"][0]
    assert status["raidLevel"] == "raid0" and status["status"] == "active"  # RAID 0 has nothing to sync
    disk = (await xml(client, "/axis-cgi/disks/list.cgi")).find("disks/disk")
    assert disk.get("status") == "OK" and int(disk.get("totalsize")) == storage.total() // 1024
    assert storage.disk.recordings == []


@pytest.mark.parametrize(
    "body, error",
    [
        ("{not json", (2101, "Invalid JSON")),
        ("[1, 2]", (2101, "Invalid JSON")),
        ({"apiVersion": "1.0", "method": "explode"}, (2102, "Method not supported")),
        ({"apiVersion": "1.0", "method": "recreateRaidOnAllComponents"}, (2103, "Required parameter missing")),
        (
            {"apiVersion": "1.0", "method": "recreateRaidOnAllComponents", "params": {"raidLevel": 5}},
            (2104, "Invalid parameter value specified"),
        ),
        (
            {"apiVersion": "1.0", "method": "recreateRaidOnAllComponents", "params": {"raidLevel": "raid50"}},
            (1201, "RAID level not supported"),
        ),
        ({"apiVersion": "2.0", "method": "getStatus"}, (2104, "Invalid parameter value specified")),
    ],
)
async def test_raid_bad_requests_change_nothing(
    device_client: DeviceClientFactory, body: dict[str, Any] | str, error: tuple[int, str]
) -> None:
    client = await device_client("S3016")
    storage_of(client).add_recording(GB)
    reply = await raid(client, body)
    assert reply["error"] == {"code": error[0], "message": error[1]}
    assert storage_of(client).level == "raid5" and len(storage_of(client).disk.recordings) == 1


async def test_recreate_with_a_missing_drive_is_a_component_error(device_client: DeviceClientFactory) -> None:
    client = await device_client("S4000")
    storage = storage_of(client)
    storage.remove_drive(3)
    storage.unmount()
    client.device.clock.advance(5)
    reply = await raid(client, {"apiVersion": "1.0", "method": "recreateRaidOnAllComponents",
                                "params": {"raidLevel": "raid5"}})  # fmt: skip
    assert reply["error"] == {"code": 1202, "message": "Component device error"}
    components = (await raid(client, {"apiVersion": "1.0", "method": "getStatus"}))["data"]["raids"][0]["components"]
    assert components[3] == {"componentStatus": "missing", "componentId": "3", "serialNumber": "unknown", "capacity": 0}


async def test_recreate_needs_an_administrator(device_client: DeviceClientFactory) -> None:
    client = await device_client(
        "S3016", accounts=[AccountSpec("root", "pass", "admin"), AccountSpec("op", "op1", "operator")]
    )
    request = {"apiVersion": "1.0", "method": "recreateRaidOnAllComponents", "params": {"raidLevel": "raid6"}}
    response = await client.post(RAID, data=json.dumps(request), auth=("op", "op1"))
    assert response.status == 401
    assert (await raid(client, {"apiVersion": "1.0", "method": "getStatus"}, auth=("op", "op1")))["data"]["raids"]
    assert storage_of(client).level == "raid5"


NO_FEATURE = [
    ("S3008", RAID),
    ("C1410MkII", RAID),
    ("W401", "/axis-cgi/disks/list.cgi"),
    ("S3008", "/axis-cgi/disks/networkshare/list.cgi?schemaversion=1&shareid=all"),
]


@pytest.mark.parametrize("model, path", NO_FEATURE)
async def test_models_without_the_feature_answer_404(device_client: DeviceClientFactory, model: str, path: str) -> None:
    client = await device_client(model)
    response = await client.post(path, data="{}", auth=ROOT)
    assert response.status == 404 and "<title>404 Not Found</title>" in await response.text()


async def test_storage_apis_are_advertised_per_model(device_client: DeviceClientFactory) -> None:
    expected = {
        "S3008": {"disk-management", "disk-properties"},
        "S3016": {"disk-management", "disk-properties", "raid"},
        "C1410MkII": {"disk-management", "disk-properties", "disk-network-share"},
        "W401": set(),
    }
    for model, ids in expected.items():
        client = await device_client(model)
        body = {"apiVersion": "1.0", "method": "getApiList"}
        reply = await client.post("/axis-cgi/apidiscovery.cgi", json=body)
        listed = {api["id"] for api in (await reply.json(content_type=None))["data"]["apiList"]}
        assert listed & {"disk-management", "disk-properties", "disk-network-share", "raid"} == ids, model
