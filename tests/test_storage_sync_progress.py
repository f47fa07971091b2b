"""A RAID sync's progress read through any path is the progress at that moment on the device clock.

Issue 17 defect 1: `param.cgi` showed the SyncProgress written when the sync started while raid.cgi
computed the real one. The parameter store now reads it from a provider at read time."""

from __future__ import annotations

import json

from axisim.persistence import snapshot
from axisim.subsystems.storage import StorageSubsystem
from tests.conftest import DeviceClient, DeviceClientFactory

RAID = "/axis-cgi/disks/raid.cgi"
PROGRESS = "DiskManagement.S0.SyncProgress"


def storage_of(client: DeviceClient) -> StorageSubsystem:
    storage = client.device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    return storage


async def wire_progress(client: DeviceClient) -> tuple[int, int]:
    text = await client.text("GET", f"/axis-cgi/param.cgi?action=list&group={PROGRESS}")
    listed = int(text.strip().split("=", 1)[1])
    body = json.dumps({"apiVersion": "1.0", "method": "getStatus"})
    response = await client.post(RAID, data=body, headers={"Content-Type": "application/json"})
    (status,) = json.loads(await response.text())["data"]["raids"]
    return listed, int(status["syncProgress"])


async def test_sync_progress_is_the_same_through_param_cgi_and_raid_cgi(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016", variant="16TB")
    storage = storage_of(client)
    storage.fail_drive(1)
    storage.replace_drive(1)
    assert await wire_progress(client) == (0, 0)
    client.device.clock.advance(3 * 3600)
    listed, computed = await wire_progress(client)
    assert 0 < computed < 100 and listed == computed


async def test_time_passing_with_no_listener_call_is_seen(device_client: DeviceClientFactory) -> None:
    """Real time moves the clock with no `advance()`: the list body (remembered per state) must not lag."""
    client = await device_client("S3016", variant="16TB")
    storage = storage_of(client)
    storage.fail_drive(1)
    storage.replace_drive(1)
    before = await wire_progress(client)
    client.device.clock._offset += 3 * 3600  # as if three hours of real time had passed, no tick
    listed, computed = await wire_progress(client)
    assert before == (0, 0) and 0 < computed < 100 and listed == computed
    assert client.device.params.value(PROGRESS) == str(computed)


async def test_a_provided_value_is_not_a_saved_setting(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016", variant="16TB")
    storage = storage_of(client)
    storage.fail_drive(1)
    storage.replace_drive(1)
    client.device.clock._offset += 3 * 3600
    params = client.device.params
    assert PROGRESS not in params.changes()["values"]
    params.restore(params.changes())
    assert params.value(PROGRESS) == str(storage.sync_progress())
    query = "action=listdefinitions&listformat=xmlschema&group=DiskManagement"
    text = await client.text("GET", f"/axis-cgi/param.cgi?{query}")
    assert 'name="SyncProgress"' in text


async def test_the_server_report_and_saved_state_show_the_moment(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016", variant="16TB")
    storage = storage_of(client)
    storage.fail_drive(1)
    storage.replace_drive(1)
    client.device.clock._offset += 3 * 3600
    report = await client.text("GET", "/axis-cgi/serverreport.cgi")
    (line,) = [x for x in report.splitlines() if "SyncProgress" in x]
    assert line.split("=", 1)[1].strip().strip('"') == str(storage.sync_progress()) != "0"
    assert "SyncProgress" not in json.dumps(snapshot(client.device)["params"])
