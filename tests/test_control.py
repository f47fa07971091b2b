"""The control API (axisim/control/http.py) and its Python twin (SimulatedDevice), end to end.

A small fleet (S3008, W401, C1410 Mk II, S3016) runs on free loopback ports with the control API
on its own listener. Every test drives the control API over HTTP and checks what a VAPIX client
of the device then SEES: replies, refused connections, parameters and API answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from lxml import etree

from axisim.control.faults import FaultError
from axisim.control.http import start_control
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.simulated import SimulatedDevice
from tests.conftest import Reply, connection_refused, digest_request

ROOT = ("root", "pass")
S3008, W401, C1410, S3016 = 0, 1, 2, 3  # fleet indexes
PARAM = "/axis-cgi/param.cgi"
BRAND_ERROR = "# Error: Error -1 getting param in group 'Brand'\n"
TIMEOUT = aiohttp.ClientTimeout(total=10)


# -- a VAPIX client of one device --------------------------------------------------------------


async def vapix(
    url: str,
    path: str,
    *,
    method: str = "GET",
    auth: tuple[str, str] | None = ROOT,
    data: str | bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request as curl --digest sends it, on a fresh connection each time, so keep-alive never
    hides a refused or dropped connection."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        return await digest_request(session, method, url + path, auth, data=data)


async def text_of(url: str, path: str, **kwargs: Any) -> str:
    reply = await vapix(url, path, **kwargs)
    assert reply.status == 200, (path, reply.status, reply.text)
    return reply.text


async def params(device: SimulatedDevice, *names: str) -> dict[str, str]:
    """param.cgi?action=list as the admin; {name: value}."""
    body = await text_of(device.url, f"{PARAM}?action=list&group={','.join(names)}")
    return dict(line.split("=", 1) for line in body.splitlines() if line)


async def param(device: SimulatedDevice, name: str) -> str:
    return (await params(device, name))[name]


async def update(device: SimulatedDevice, **values: str) -> str:
    query = "&".join(f"{name.replace('__', '.')}={value}" for name, value in values.items())
    return await text_of(device.url, f"{PARAM}?action=update&{query}")


async def systemready(device: SimulatedDevice) -> dict[str, Any]:
    """Anonymous systemready.cgi: readiness, uptime and boot id as a client reads them."""
    body = json.dumps({"apiVersion": "1.0", "method": "systemready"})
    reply = await vapix(device.url, "/axis-cgi/systemready.cgi", method="POST", data=body, auth=None)
    assert reply.status == 200, reply.text
    return reply.json()["data"]


async def answers(device: SimulatedDevice) -> bool:
    """The device answers a client normally (systemready says yes)."""
    return (await systemready(device))["systemready"] == "yes"


# -- the fleet and its control API ---------------------------------------------------------------


@dataclass
class Control:
    fleet: Fleet
    base: str
    session: aiohttp.ClientSession

    def __getitem__(self, index: int) -> SimulatedDevice:
        return self.fleet[index]

    async def call(self, method: str, path: str, body: Any = None, *, raw: str | None = None) -> tuple[int, Any]:
        """(status, JSON document) of one control API request; `raw` is sent as the body as is."""
        if raw is not None:
            response = await self.session.request(method, self.base + path, data=raw)
        elif body is not None:
            response = await self.session.request(method, self.base + path, json=body)
        else:
            response = await self.session.request(method, self.base + path)
        text = await response.text()
        if response.content_type == "application/json":
            return response.status, json.loads(text)
        return response.status, text

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None, *, raw: str | None = None) -> tuple[int, Any]:
        return await self.call("POST", path, body, raw=raw)

    async def delete(self, path: str) -> tuple[int, Any]:
        return await self.call("DELETE", path)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        got, document = await self.call(method, path, body)
        assert got == status, (method, path, got, document)
        return document

    async def add_fault(self, device: int, **spec: Any) -> dict[str, Any]:
        return await self.ok("POST", f"/devices/{device}/faults", spec, 201)

    async def faults(self, device: int) -> list[dict[str, Any]]:
        return (await self.ok("GET", f"/devices/{device}/faults"))["faults"]

    async def event(self, device: int, subsystem: str, name: str, **args: Any) -> Any:
        document = await self.ok("POST", f"/devices/{device}/events/{subsystem}/{name}", args)
        assert document["serial"] == self[device].serial
        return document["result"]

    async def journal(self, device: int, query: str = "") -> dict[str, Any]:
        return await self.ok("GET", f"/devices/{device}/journal{query}")


@contextlib.asynccontextmanager
async def controlled(*models: str) -> AsyncIterator[Control]:
    """One device of each model on free ports of 127.0.0.1, with the control API. Open feeds and
    event streams end with them: neither the control API nor the fleet is held up (5 s each)."""
    plan = make_plan([Group(model, 1) for model in models], addressing=Addressing("ports", "127.0.0.1", 0))
    fleet = Fleet.from_plan(plan)
    await fleet.start()
    runner = None
    try:
        runner, port = await start_control(fleet, "127.0.0.1", 0)
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            yield Control(fleet, f"http://127.0.0.1:{port}", session)
    finally:
        if runner is not None:
            started = time.monotonic()
            await runner.cleanup()
            assert time.monotonic() - started < 5
        started = time.monotonic()
        await fleet.stop()
        assert time.monotonic() - started < 5


SPEAKER_AND_KIT = ("W401", "C1410MkII")  # index 0 the W401, index 1 the C1410 Mk II


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async with controlled("S3008", "W401", "C1410MkII", "S3016") as running:
        yield running


def refused(document: Any) -> None:
    """The control API's error shape: a JSON object with a readable message."""
    assert isinstance(document, dict) and set(document) == {"error"}, document
    assert isinstance(document["error"], str) and document["error"]


# -- listing and state -----------------------------------------------------------------------------


async def test_devices_lists_every_device_with_url_and_credentials(control: Control) -> None:
    rows = (await control.ok("GET", "/devices"))["devices"]
    assert [row["model"] for row in rows] == ["S3008", "W401", "C1410MkII", "S3016"]
    assert [row["index"] for row in rows] == [0, 1, 2, 3]
    for row, device in zip(rows, control.fleet, strict=True):
        assert row["serial"] == device.serial and re.fullmatch(r"[0-9A-F]{12}", row["serial"])
        assert row["url"] == device.url == f"http://127.0.0.1:{row['http_port']}"
        assert (row["username"], row["password"]) == ROOT
        assert row["state"] == "ready" and row["reachable"] is True and row["faults"] == 0
        # the listed URL and credentials are what a client logs in with
        listed = await text_of(
            row["url"], f"{PARAM}?action=list&group=Brand.ProdNbr", auth=(row["username"], row["password"])
        )
        assert listed.startswith("Brand.ProdNbr=")
    assert len({row["serial"] for row in rows}) == len({row["http_port"] for row in rows}) == 4


async def test_device_by_serial_any_case_or_by_index(control: Control) -> None:
    device = control[W401]
    by_index = await control.ok("GET", f"/devices/{W401}")
    by_serial = await control.ok("GET", f"/devices/{device.serial}")
    by_lower = await control.ok("GET", f"/devices/{device.serial.lower()}")
    assert by_index["serial"] == by_serial["serial"] == by_lower["serial"] == device.serial
    assert by_index["model"] == "W401" and by_index["url"] == device.url
    assert by_index["state"] == "ready" and by_index["reachable"] is True and by_index["faults"] == []
    words = {"time", "network", "io", "power", "wlan", "bluetooth", "virtualinput", "firewall", "rules", "mqtt"}
    assert set(by_index["subsystems"]) == words


@pytest.mark.parametrize("key", ["4", "99", "ACCC00000000", "nope", "-1"])
async def test_unknown_device_is_404_json(control: Control, key: str) -> None:
    for method, path in [
        ("GET", f"/devices/{key}"),
        ("GET", f"/devices/{key}/faults"),
        ("POST", f"/devices/{key}/offline"),
        ("GET", f"/devices/{key}/journal"),
        ("POST", f"/devices/{key}/reset"),
    ]:
        status, document = await control.call(method, path)
        assert status == 404, (method, path, document)
        refused(document)
    assert all(device.reachable for device in control.fleet)


async def test_unknown_route_and_method_are_json_errors(control: Control) -> None:
    status, document = await control.get("/nothing/here")
    assert status == 404
    refused(document)
    status, document = await control.call("PUT", "/devices")
    assert status == 405
    refused(document)


async def test_inventory_json_and_csv_list_the_fleet(control: Control) -> None:
    document = await control.ok("GET", "/inventory.json")
    assert [row["serial"] for row in document["devices"]] == [d.serial for d in control.fleet]
    response = await control.session.get(control.base + "/inventory.csv")
    assert response.status == 200 and response.content_type == "text/csv"
    lines = (await response.text()).splitlines()
    assert lines[0].split(",")[:4] == ["index", "model", "variant", "serial"]
    assert len(lines) == 5
    assert all(d.serial in line and d.url in line for d, line in zip(control.fleet, lines[1:], strict=True))


# -- faults ------------------------------------------------------------------------------------------


async def test_status_fault_hits_matching_paths_only(control: Control) -> None:
    device, other = control[S3008], control[S3016]
    fault = await control.add_fault(S3008, path="/axis-cgi/param.cgi", status=503)
    assert fault["path"] == "/axis-cgi/param.cgi" and fault["status"] == 503 and fault["hits"] == 0
    reply = await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")
    assert reply.status == 503 and "Service Unavailable" in reply.text
    # other paths of the same device, and the same path on another device, are unaffected
    assert await answers(device)
    assert await param(other, "Brand.ProdNbr") == "S3016"
    listed = await control.faults(S3008)
    assert len(listed) == 1 and listed[0]["hits"] == 1
    assert (await control.ok("GET", f"/devices/{S3008}"))["faults"] == listed


async def test_body_fault_returns_the_vapix_error_byte_exact(control: Control) -> None:
    device = control[S3008]
    await control.add_fault(S3008, path="/axis-cgi/param.cgi", query="*group=Brand*", body=BRAND_ERROR)
    reply = await vapix(device.url, f"{PARAM}?action=list&group=Brand")
    assert reply.status == 200
    assert reply.body == BRAND_ERROR.encode()
    assert reply.headers["Content-Type"].startswith("text/plain")
    # the query glob restricts it: another group on the same path answers normally
    assert await params(device, "Network.SSH.Enabled") == {"Network.SSH.Enabled": "no"}


async def test_body_fault_with_content_type_and_status(control: Control) -> None:
    device = control[S3008]
    body = '{"apiVersion": "1.0", "error": {"code": 8000, "message": "Internal error"}}'
    await control.add_fault(S3008, path="/axis-cgi/basicdeviceinfo.cgi", body=body, status=500,
                            content_type="application/json")  # fmt: skip
    reply = await vapix(device.url, "/axis-cgi/basicdeviceinfo.cgi", method="POST", data="{}")
    assert (reply.status, reply.body, reply.headers["Content-Type"]) == (500, body.encode(), "application/json")


async def test_count_limits_a_fault_to_n_requests(control: Control) -> None:
    device = control[S3008]
    await control.add_fault(S3008, path="/axis-cgi/param.cgi", status=500, count=2)
    statuses = [(await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status for _ in range(2)]
    assert statuses == [500, 500]
    assert await param(device, "Brand.ProdNbr") == "S3008"
    assert await param(device, "Brand.ProdNbr") == "S3008"
    assert await control.faults(S3008) == []  # spent


async def test_latency_fault_delays_replies(control: Control) -> None:
    device = control[S3008]
    fault = await control.add_fault(S3008, path="/axis-cgi/systemready.cgi", latency_ms=300)
    assert fault["latency_ms"] == 300
    started = time.monotonic()
    assert await answers(device)  # delayed, not changed
    assert time.monotonic() - started >= 0.25
    # another device has no latency added (no upper bound asserted on timing, only its answer)
    assert await answers(control[W401])


async def test_latency_and_status_faults_on_one_path_both_apply(control: Control) -> None:
    device = control[S3008]
    slow = await control.add_fault(S3008, path="/axis-cgi/param.cgi", latency_ms=300)
    failing = await control.add_fault(S3008, path="/axis-cgi/param.cgi", status=503)
    started = time.monotonic()
    assert (await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status == 503
    assert time.monotonic() - started >= 0.25
    hits = {f["id"]: f["hits"] for f in await control.faults(S3008)}
    assert hits == {slow["id"]: 1, failing["id"]: 1}


async def test_drop_fault_disconnects_the_client(control: Control) -> None:
    device = control[S3008]
    await control.add_fault(S3008, path="/axis-cgi/param.cgi", drop=True)
    # a POST: aiohttp retries an idempotent GET once on a disconnect, which would journal two drops
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await vapix(device.url, PARAM, method="POST", data="action=list&group=Brand.ProdNbr")
    with pytest.raises(aiohttp.ClientConnectionError):
        await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")  # GET too, retry or not
    assert await answers(device)  # only the matching path drops
    entries = (await control.journal(S3008))["entries"]
    dropped = [(e["method"], e["status"]) for e in entries if e["path"].startswith(PARAM)]
    assert dropped[0] == ("POST", 0) and {status for _, status in dropped} == {0}  # the journal says: no reply


async def test_hang_fault_holds_requests_until_removed(control: Control) -> None:
    device = control[S3008]
    fault = await control.add_fault(S3008, path="/axis-cgi/param.cgi", hang=True)
    request = asyncio.ensure_future(text_of(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr"))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(request), 0.5)
        assert await answers(device)  # the rest of the device works meanwhile
        assert await control.ok("DELETE", f"/devices/{S3008}/faults/{fault['id']}") == {"removed": fault["id"]}
        assert await asyncio.wait_for(request, 5) == "Brand.ProdNbr=S3008\n"
    finally:
        request.cancel()


async def test_hang_fault_with_count_holds_only_the_first_request(control: Control) -> None:
    device = control[S3008]
    fault = await control.add_fault(S3008, path="/axis-cgi/systemready.cgi", hang=True, count=1)
    first = asyncio.ensure_future(systemready(device))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(first), 0.5)
        assert await asyncio.wait_for(answers(device), 5)  # the second request is not held
        await control.ok("DELETE", f"/devices/{S3008}/faults/{fault['id']}")
        assert (await asyncio.wait_for(first, 5))["systemready"] == "yes"
    finally:
        first.cancel()


async def test_deleting_all_faults_releases_hung_requests_and_restores_replies(control: Control) -> None:
    device = control[S3008]
    await control.add_fault(S3008, path="/axis-cgi/systemready.cgi", hang=True)
    await control.add_fault(S3008, path="/axis-cgi/param.cgi", status=503)
    request = asyncio.ensure_future(systemready(device))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(request), 0.5)
        assert await control.ok("DELETE", f"/devices/{S3008}/faults") == {"removed": 2}
        assert (await asyncio.wait_for(request, 5))["systemready"] == "yes"
    finally:
        request.cancel()
    assert await control.faults(S3008) == []
    assert await param(device, "Brand.ProdNbr") == "S3008"


async def test_removing_a_fault_by_id_restores_normal_replies(control: Control) -> None:
    device = control[S3008]
    first = await control.add_fault(S3008, path="/axis-cgi/param.cgi", status=500)
    second = await control.add_fault(S3008, path="/axis-cgi/systemready.cgi", status=503)
    assert second["id"] != first["id"]
    assert (await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status == 500
    assert await control.ok("DELETE", f"/devices/{S3008}/faults/{first['id']}") == {"removed": first["id"]}
    assert await param(device, "Brand.ProdNbr") == "S3008"
    assert [f["id"] for f in await control.faults(S3008)] == [second["id"]]  # the other one stays
    for missing in (str(first["id"]), "999", "abc"):
        status, document = await control.delete(f"/devices/{S3008}/faults/{missing}")
        assert status == 404
        refused(document)
    assert [f["id"] for f in await control.faults(S3008)] == [second["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {"path": "/axis-cgi/*", "status": 500, "colour": "red"},  # unknown field
        {"status": 42},
        {"status": 600},
        {"status": True},
        {"latency_ms": -1},
        {"latency_ms": "100"},
        {"status": 500, "drop": True},
        {"hang": True, "drop": True},
        {"body": "x", "hang": True},
        {"drop": "yes"},
        {"count": 0, "status": 500},
        {"path": "/x"},  # no effect
        {"status": 500, "content_type": "text/plain\r\nX-Evil: 1"},
        "not json",
        "[1, 2]",
        "null",
        '"text"',
    ],
)
async def test_bad_fault_bodies_are_400_and_add_nothing(control: Control, body: Any) -> None:
    device = control[S3008]
    if isinstance(body, str):
        status, document = await control.post(f"/devices/{S3008}/faults", raw=body)
    else:
        status, document = await control.post(f"/devices/{S3008}/faults", body)
    assert status == 400, document
    refused(document)
    assert await control.faults(S3008) == [] and device.faults.all() == []
    assert await param(device, "Brand.ProdNbr") == "S3008"


async def test_fault_field_named_self_is_400(control: Control) -> None:
    status, document = await control.post(f"/devices/{S3008}/faults", {"self": 1, "status": 500})
    assert status == 400
    refused(document)
    assert await control.faults(S3008) == []


# -- offline and online ----------------------------------------------------------------------------


async def test_offline_refuses_connections_and_online_restores_without_a_reboot(control: Control) -> None:
    device = control[W401]
    device.device.lifecycle.booted_at -= 100  # the device has been up for a while
    before = await systemready(device)
    assert int(before["uptime"]) >= 100
    assert await control.ok("POST", f"/devices/{W401}/offline") == {"serial": device.serial, "reachable": False}
    assert await connection_refused(device.url)
    for other in (control[S3008], control[C1410], control[S3016]):
        assert await answers(other)
    listed = {row["serial"]: row for row in (await control.ok("GET", "/devices"))["devices"]}
    assert listed[device.serial]["reachable"] is False
    assert listed[device.serial]["state"] == "ready"  # the device runs on, off the network

    assert await control.ok("POST", f"/devices/{W401}/online") == {"serial": device.serial, "reachable": True}
    after = await systemready(device)
    assert after["systemready"] == "yes"
    assert after["bootid"] == before["bootid"]  # not a reboot
    assert int(after["uptime"]) >= int(before["uptime"])
    assert device.url == listed[device.serial]["url"]
    assert await param(device, "Properties.System.SerialNumber") == device.serial  # the same device answers
    state = await control.ok("GET", f"/devices/{device.serial}")
    assert state["serial"] == device.serial and state["reachable"] is True and state["uptime"] >= 100


async def test_offline_closes_open_keep_alive_connections(control: Control) -> None:
    device = control[S3008]
    body = json.dumps({"apiVersion": "1.0", "method": "systemready"})
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        response = await session.post(device.url + "/axis-cgi/systemready.cgi", data=body)
        assert response.status == 200
        await response.read()
        await control.ok("POST", f"/devices/{S3008}/offline")
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(device.url + "/axis-cgi/systemready.cgi", data=body) as again:
                await again.read()
    await control.ok("POST", f"/devices/{S3008}/online")
    assert await answers(device)


async def test_offline_and_online_twice_and_idempotent(control: Control) -> None:
    device = control[C1410]
    for _ in range(2):
        await control.ok("POST", f"/devices/{C1410}/offline")
        await control.ok("POST", f"/devices/{C1410}/offline")
        assert await connection_refused(device.url)
        await control.ok("POST", f"/devices/{C1410}/online")
        await control.ok("POST", f"/devices/{C1410}/online")
        assert await answers(device)


async def test_physical_events_while_offline_are_seen_once_back_online(control: Control) -> None:
    device = control[W401]
    await control.ok("POST", f"/devices/{W401}/offline")
    await control.event(W401, "power", "ignition", on=False)
    assert await connection_refused(device.url)
    await control.ok("POST", f"/devices/{W401}/online")
    assert await param(device, "PowerSettings.Status.Ignition") == "off"


# -- physical events ------------------------------------------------------------------------------


async def poe_status(device: SimulatedDevice, port: int) -> dict[str, str]:
    """nvr/poe/getportstatuses.cgi, the row of one port (1-based)."""
    body = await vapix(device.url, "/axis-cgi/nvr/poe/getportstatuses.cgi?schemaversion=1")
    assert body.status == 200, body.text
    root = etree.fromstring(body.body)
    for row in root.findall("GetPortStatusesSuccess/PortStatus"):
        fields = {child.tag: child.text or "" for child in row}
        if fields["Port"] == str(port):
            return fields
    raise AssertionError(f"no port {port}")


@pytest.mark.parametrize("index, port", [(S3008, 3), (S3016, 12)])
async def test_poe_plug_and_unplug_are_seen_by_clients(control: Control, index: int, port: int) -> None:
    device = control[index]
    status_param = f"PoE.P{port - 1}.Status"
    assert await param(device, status_param) == "Not connected"
    assert (await poe_status(device, port))["StatusCode"] == "0"
    result = await control.event(index, "poe", "plug", port=port, **{"class": 2}, draw_w=5,
                                 model="AXIS M3085-V", mac="B8:A4:4F:00:00:03")  # fmt: skip
    assert result == {"port": port, "status": "Connected - PoE"}
    assert await param(device, status_param) == "Connected - PoE"
    row = await poe_status(device, port)
    assert (row["StatusCode"], row["Description"], row["PoeClass"]) == ("1", "Connected - PoE", "2")
    assert row["PowerConsumption"] == "5.0"
    assert await param(device, f"PoE.P{port - 1}.FriendlyName") == "AXIS M3085-V B8:A4:4F:00:00:03"
    removed = await control.event(index, "poe", "unplug", port=port)
    assert removed == {"port": port, "removed": "AXIS M3085-V B8:A4:4F:00:00:03"}
    assert await param(device, status_param) == "Not connected"
    assert (await poe_status(device, port))["StatusCode"] == "0"


async def raid_status(device: SimulatedDevice) -> dict[str, Any]:
    body = json.dumps({"apiVersion": "1.0", "method": "getStatus"})
    reply = await vapix(device.url, "/axis-cgi/disks/raid.cgi", method="POST", data=body)
    assert reply.status == 200, reply.text
    (raid,) = reply.json()["data"]["raids"]
    return raid


async def test_storage_drive_fail_and_replace_are_seen_by_clients(control: Control) -> None:
    device = control[S3016]
    assert await param(device, "DiskManagement.S0.RaidStatus") == "Online"
    assert (await raid_status(device))["status"] == "active"
    result = await control.event(S3016, "storage", "fail_drive", bay=1)
    assert result == {"bay": 1, "raid": "degraded"}
    assert await param(device, "DiskManagement.S0.RaidStatus") == "Degraded"
    raid = await raid_status(device)
    assert raid["status"] == "degraded"
    health = await vapix(device.url, "/axis-cgi/disks/gethealth.cgi")
    status = etree.fromstring(health.body).find("HealthStatusSuccess/HealthStatus")
    assert status is not None and status.get("overallhealth") == "0"

    result = await control.event(S3016, "storage", "replace_drive", bay=1, serial="NEWDRIVE1")
    assert result["bay"] == 1 and result["serial"] == "NEWDRIVE1" and result["raid"] == "syncing"
    values = await params(device, "DiskManagement.S0.RaidStatus", "DiskManagement.S0.D1.SerialNumber")
    assert values == {"DiskManagement.S0.RaidStatus": "Syncing", "DiskManagement.S0.D1.SerialNumber": "NEWDRIVE1"}
    raid = await raid_status(device)
    assert raid["status"] == "syncing" and raid["components"][1]["serialNumber"] == "NEWDRIVE1"


async def free_kb(device: SimulatedDevice) -> int:
    body = await vapix(device.url, "/axis-cgi/disks/list.cgi?diskid=all")
    disk = etree.fromstring(body.body).find("disks/disk")
    assert disk is not None
    return int(disk.get("freesize", ""))


@pytest.mark.parametrize("index", [S3008, S3016])
async def test_add_recording_uses_disk_space_seen_by_clients(control: Control, index: int) -> None:
    device = control[index]
    before = await free_kb(device)
    result = await control.event(index, "storage", "add_recording", size=3_000_000_000, count=2)
    assert len(result["recordings"]) == 2
    after = await free_kb(device)
    assert before - after == pytest.approx(6_000_000_000 // 1024, abs=2)


async def test_io_inputs_are_seen_by_port_cgi(control: Control) -> None:
    device = control[W401]
    check = "/axis-cgi/io/port.cgi?checkactive=1"
    assert await text_of(device.url, check) == "port1=inactive\n"
    result = await control.event(W401, "io", "close_input", port=1)
    assert result["port"] == 1
    assert await text_of(device.url, check) == "port1=active\n"
    await control.event(W401, "io", "open_input", port=1)
    assert await text_of(device.url, check) == "port1=inactive\n"


async def call_service(device: SimulatedDevice, command: str, message: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({f"axcall:{command}": message})
    reply = await vapix(device.url, "/vapix/call", method="POST", data=body)
    assert reply.status == 200, (command, reply.status, reply.text)
    return reply.json()


async def test_sip_incoming_call_is_seen_by_the_call_service(control: Control) -> None:
    device = control[C1410]
    assert (await call_service(device, "GetCallStatuses", {}))["CallStatus"] == []
    config = {"SIPConfiguration": {"SIPEnabled": True, "AllowIncomingCalls": True}}
    assert await call_service(device, "SetSIPConfiguration", config) == {}
    call_id = (await control.event(C1410, "sip", "incoming_call", **{"from": "sip:guest@example.com"}))["call_id"]
    (status,) = (await call_service(device, "GetCallStatuses", {}))["CallStatus"]
    assert status["CallId"] == call_id
    assert (status["Direction"], status["RemoteURI"]) == ("Incoming", "sip:guest@example.com")
    assert (status["CallState"], status["CallStateReason"]) == ("Active", "AcceptedByDevice")
    await control.event(C1410, "sip", "remote_hangup", call_id=call_id)
    status = (await call_service(device, "GetCallStatus", {"CallId": call_id}))["CallStatus"]
    assert (status["CallState"], status["CallStateReason"]) == ("Terminated", "Terminated")


async def test_power_ignition_is_seen_in_the_parameters(control: Control) -> None:
    device = control[W401]
    assert await param(device, "PowerSettings.Status.Ignition") == "on"
    await control.event(W401, "power", "ignition", on=False)
    assert await param(device, "PowerSettings.Status.Ignition") == "off"
    await control.event(W401, "power", "ignition", on=True)
    assert await param(device, "PowerSettings.Status.Ignition") == "on"


async def test_wlan_network_in_range_is_seen_in_the_parameters(control: Control) -> None:
    device = control[W401]
    wireless = "Network.Wireless"
    assert await update(device, **{f"{wireless}.ESSID": "Depot", f"{wireless}.W0.Enabled": "yes",
                                   f"{wireless}.W0.Passphrase": "correct-horse"}) == "OK"  # fmt: skip
    assert await param(device, f"{wireless}.Status.State") == "searching"
    result = await control.event(W401, "wlan", "add_network", ssid="Depot", passphrase="correct-horse", signal=-48,
                                 channel=11)  # fmt: skip
    assert result["ssid"] == "Depot"
    values = await params(device, f"{wireless}.Status.State", f"{wireless}.Status.SignalStrength",
                          f"{wireless}.Status.Channel")  # fmt: skip
    assert values == {f"{wireless}.Status.State": "standby", f"{wireless}.Status.SignalStrength": "-48",
                      f"{wireless}.Status.Channel": "11"}  # fmt: skip
    await control.event(W401, "wlan", "remove_network", ssid="Depot")
    assert await param(device, f"{wireless}.Status.State") == "searching"


async def test_events_list_what_the_model_has(control: Control) -> None:
    listed = (await control.ok("GET", f"/devices/{W401}/events"))["events"]
    subsystems = {e["subsystem"] for e in listed}
    assert subsystems == {"io", "power", "wlan", "bluetooth"}
    plug = next(e for e in (await control.ok("GET", f"/devices/{S3008}/events"))["events"] if e["event"] == "plug")
    assert plug["subsystem"] == "poe" and plug["args"]["port"] == {"type": "int"}
    assert plug["args"]["class"] == {"type": "int", "default": 4}


BAD_EVENTS = [
    (W401, "io/close_input", {}),  # missing required arg
    (W401, "io/close_input", {"port": "1"}),  # wrong type
    (W401, "io/close_input", {"port": True}),  # a bool is not a number
    (W401, "io/close_input", {"port": 1, "force": True}),  # unknown arg
    (W401, "io/close_input", {"port": 99}),  # no such port
    (W401, "io/explode", {}),  # unknown event
    (W401, "poe/plug", {"port": 1}),  # a subsystem the model lacks
    (W401, "power/ignition", {"on": 1}),
    (W401, "wlan/add_network", {"ssid": "X", "passphrase": "short"}),
    (W401, "wlan/add_network", {"ssid": "X", "security": "bogus"}),
    (S3008, "poe/plug", {"port": 9}),
    (S3008, "poe/plug", {"port": 1, "class": 9}),
    (S3008, "poe/plug", {"port": 1, "draw_w": -5}),
    (S3008, "sip/incoming_call", {}),
    (S3016, "storage/fail_drive", {"bay": 9}),
    (S3016, "storage/replace_drive", {"bay": 9}),
    (S3016, "storage/add_recording", {"size": -1}),
    (S3016, "storage/add_recording", {"size": 10**20}),
    (C1410, "sip/remote", {"outcome": "bogus"}),
    (C1410, "sip/registration", {"account": "nope"}),
    (C1410, "audio/microphone_switch", {"on": "yes"}),
    (C1410, "storage/fail_drive", {"bay": 0}),  # the speaker has a share, no drive
]


@pytest.mark.parametrize("index, event, args", BAD_EVENTS)
async def test_bad_events_are_400_and_change_nothing(control: Control, index: int, event: str, args: Any) -> None:
    before = (await control.ok("GET", f"/devices/{index}"))["subsystems"]
    status, document = await control.post(f"/devices/{index}/events/{event}", args)
    assert status == 400, document
    refused(document)
    assert (await control.ok("GET", f"/devices/{index}"))["subsystems"] == before


@pytest.mark.parametrize("raw", ["not json", "[1]", "null", "3"])
async def test_event_bodies_that_are_not_a_json_object_are_400(control: Control, raw: str) -> None:
    before = (await control.ok("GET", f"/devices/{W401}"))["subsystems"]
    status, document = await control.post(f"/devices/{W401}/events/io/close_input", raw=raw)
    assert status == 400
    refused(document)
    assert (await control.ok("GET", f"/devices/{W401}"))["subsystems"] == before


async def test_refused_event_leaves_what_clients_see_unchanged(control: Control) -> None:
    device = control[W401]
    status, _ = await control.post(f"/devices/{W401}/events/io/close_input", {"port": 1, "force": True})
    assert status == 400
    assert await text_of(device.url, "/axis-cgi/io/port.cgi?checkactive=1") == "port1=inactive\n"


@pytest.mark.parametrize("extra", ["name", "subsystem"])
async def test_event_argument_named_like_a_parameter_is_400(control: Control, extra: str) -> None:
    before = (await control.ok("GET", f"/devices/{W401}"))["subsystems"]
    status, document = await control.post(f"/devices/{W401}/events/io/close_input", {"port": 1, extra: "x"})
    assert status == 400, document
    refused(document)
    assert (await control.ok("GET", f"/devices/{W401}"))["subsystems"] == before


@pytest.mark.parametrize(
    "event, args",
    [
        ("remote_hangup", {"call_id": "no-such-call"}),
        ("dtmf", {"call_id": "no-such-call", "sequence": "1"}),
        ("incoming_call", {"from": "sip:guest@example.com", "account": "no-such-account"}),
    ],
)
async def test_sip_events_naming_unknown_calls_or_accounts_are_400(control: Control, event: str, args: Any) -> None:
    before = (await control.ok("GET", f"/devices/{C1410}"))["subsystems"]
    status, document = await control.post(f"/devices/{C1410}/events/sip/{event}", args)
    assert status == 400, document
    refused(document)
    assert (await control.ok("GET", f"/devices/{C1410}"))["subsystems"] == before


async def test_refused_drive_replacement_leaves_the_raid_as_it_was(control: Control) -> None:
    device = control[S3016]
    status, document = await control.post(f"/devices/{S3016}/events/storage/replace_drive", {"bay": 1, "capacity": 10})
    assert status == 400
    refused(document)
    assert await param(device, "DiskManagement.S0.RaidStatus") == "Online"


@pytest.mark.parametrize("count", [0, -1])
async def test_add_recording_count_below_one_is_400(control: Control, count: int) -> None:
    status, document = await control.post(f"/devices/{S3016}/events/storage/add_recording", {"count": count})
    assert status == 400, document
    refused(document)


async def test_event_error_message_quotes_the_value_intact(control: Control) -> None:
    status, document = await control.post(f"/devices/{C1410}/events/sip/remote", {"outcome": "bogus"})
    assert status == 400
    assert "'bogus'" in document["error"], document


# -- the journal -----------------------------------------------------------------------------------


async def test_journal_records_requests_in_order(control: Control) -> None:
    device = control[S3008]
    started = time.time()
    bad = await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr", auth=("root", "wrong"))
    assert bad.status == 401
    missing = await vapix(device.url, "/axis-cgi/nonexistent.cgi?x=1", auth=None)
    assert missing.status == 404
    assert await param(device, "Brand.ProdNbr") == "S3008"
    document = await control.journal(S3008)
    assert document["serial"] == device.serial
    entries = document["entries"]
    seen = [(e["method"], e["path"], e["user"], e["status"], e["supported"]) for e in entries]
    listing = f"{PARAM}?action=list&group=Brand.ProdNbr"
    assert seen == [
        ("GET", listing, "", 401, True),  # the challenge
        ("GET", listing, "", 401, True),  # the wrong password: refused, so no user
        ("GET", "/axis-cgi/nonexistent.cgi?x=1", "", 404, False),
        ("GET", listing, "", 401, True),  # the challenge
        ("GET", listing, "root", 200, True),
    ]
    assert document["total"] == len(entries) == 5
    times = []
    for entry in entries:
        assert entry["client"] == "127.0.0.1"
        assert isinstance(entry["duration_ms"], float | int) and entry["duration_ms"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]), entry["time"]
        moment = time.mktime(time.strptime(entry["time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        times.append(entry["time"])
        assert started - 2 <= moment <= time.time() + 2
    assert times == sorted(times)
    assert document["unsupported"] == [
        {"method": "GET", "path": "/axis-cgi/nonexistent.cgi", "count": 1,
         "first": document["unsupported"][0]["first"], "last": document["unsupported"][0]["last"]},
    ]  # fmt: skip
    assert (await control.ok("GET", "/devices"))["devices"][S3008]["requests"] == 5


async def test_unsupported_paths_are_counted_apart(control: Control) -> None:
    device = control[W401]
    for path in ("/axis-cgi/nonexistent.cgi", "/axis-cgi/nonexistent.cgi?a=1", "/axis-cgi/other.cgi"):
        assert (await vapix(device.url, path, auth=None)).status == 404
    assert (await vapix(device.url, "/axis-cgi/other.cgi", method="POST", data="x", auth=None)).status == 404
    assert await answers(device)  # a supported request is not listed
    document = await control.ok("GET", f"/devices/{W401}/journal/unsupported")
    assert document["serial"] == device.serial
    rows = [(u["method"], u["path"], u["count"]) for u in document["unsupported"]]
    assert rows == [
        ("GET", "/axis-cgi/nonexistent.cgi", 2),
        ("GET", "/axis-cgi/other.cgi", 1),
        ("POST", "/axis-cgi/other.cgi", 1),
    ]
    assert all(u["first"] <= u["last"] for u in document["unsupported"])
    assert (await control.journal(W401))["unsupported"] == document["unsupported"]


async def test_journal_limit_returns_the_newest(control: Control) -> None:
    device = control[S3008]
    for n in range(5):
        assert (await vapix(device.url, f"/axis-cgi/nonexistent.cgi?n={n}", auth=None)).status == 404
    document = await control.journal(S3008, "?limit=2")
    assert [e["path"] for e in document["entries"]] == [
        "/axis-cgi/nonexistent.cgi?n=3",
        "/axis-cgi/nonexistent.cgi?n=4",
    ]
    assert document["total"] == 5
    assert len((await control.journal(S3008, "?limit=50"))["entries"]) == 5
    for bad in ("-1", "x", "1.5"):
        status, error = await control.get(f"/devices/{S3008}/journal?limit={bad}")
        assert status == 400
        refused(error)


async def test_journal_limit_zero_returns_no_entries(control: Control) -> None:
    device = control[S3008]
    assert (await vapix(device.url, "/axis-cgi/nonexistent.cgi", auth=None)).status == 404
    document = await control.journal(S3008, "?limit=0")
    assert document["entries"] == [] and document["total"] == 1


async def test_dropped_request_and_hang_and_latency_in_the_journal(control: Control) -> None:
    device = control[S3008]
    await control.add_fault(S3008, path="/axis-cgi/param.cgi", drop=True, count=1)
    with pytest.raises(aiohttp.ClientConnectionError):  # a POST: aiohttp would retry a GET
        await vapix(device.url, PARAM, method="POST", data="action=list&group=Brand.ProdNbr", auth=None)
    await control.add_fault(S3008, path="/axis-cgi/systemready.cgi", latency_ms=200, count=1)
    assert await answers(device)
    entries = (await control.journal(S3008))["entries"]
    assert [(e["path"], e["status"]) for e in entries] == [
        (PARAM, 0),
        ("/axis-cgi/systemready.cgi", 200),
    ]
    assert entries[1]["duration_ms"] >= 150


async def test_delete_journal_empties_it(control: Control) -> None:
    device = control[S3008]
    assert (await vapix(device.url, "/axis-cgi/nonexistent.cgi", auth=None)).status == 404
    assert await answers(device)
    assert (await control.journal(S3008))["total"] == 2
    assert await control.ok("DELETE", f"/devices/{S3008}/journal") == {"serial": device.serial, "total": 0}
    document = await control.journal(S3008)
    assert (document["total"], document["entries"], document["unsupported"]) == (0, [], [])
    assert await answers(device)  # recording goes on
    assert [e["path"] for e in (await control.journal(S3008))["entries"]] == ["/axis-cgi/systemready.cgi"]


# -- reset -----------------------------------------------------------------------------------------


async def test_reset_device_restores_factory_state_on_the_same_url(control: Control) -> None:
    device = control[S3008]
    url, serial = device.url, device.serial
    assert await update(device, Network__SSH__Enabled="yes") == "OK"
    assert await param(device, "Network.SSH.Enabled") == "yes"
    await control.event(S3008, "poe", "plug", port=2)
    await control.add_fault(S3008, path="/axis-cgi/nonexistent.cgi", status=500)
    state = await control.ok("POST", f"/devices/{serial.lower()}/reset")
    assert state["serial"] == serial and state["url"] == url and state["faults"] == []
    assert state["state"] == "ready" and state["reachable"] is True
    assert device.url == url
    assert await param(device, "Network.SSH.Enabled") == "no"
    assert await param(device, "PoE.P1.Status") == "Not connected"
    assert await control.faults(S3008) == []
    assert (await vapix(device.url, "/axis-cgi/nonexistent.cgi", auth=None)).status == 404
    journal = await control.journal(S3008)  # the journal keeps its record across the reset
    assert any(e["path"] == f"{PARAM}?action=update&Network.SSH.Enabled=yes" for e in journal["entries"])
    # the other devices are untouched
    assert await control.add_fault(W401, path="/x", status=500)
    assert len(await control.faults(W401)) == 1


async def test_reset_releases_a_hung_request(control: Control) -> None:
    device = control[S3008]
    await control.add_fault(S3008, path="/axis-cgi/param.cgi", hang=True)
    request = asyncio.ensure_future(vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr"))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(request), 0.5)
        await asyncio.wait_for(control.ok("POST", f"/devices/{S3008}/reset"), 8)
    finally:
        request.cancel()
    assert await param(device, "Brand.ProdNbr") == "S3008"


async def test_reset_fleet_resets_every_device(control: Control) -> None:
    recorder, io_unit = control[S3008], control[W401]
    assert await update(recorder, Network__SSH__Enabled="yes") == "OK"
    assert await update(io_unit, Network__SSH__Enabled="yes") == "OK"
    await control.add_fault(C1410, path="/axis-cgi/param.cgi", status=503)
    await control.ok("POST", f"/devices/{S3016}/offline")
    urls = [d.url for d in control.fleet]
    assert await control.ok("POST", "/reset") == {"reset": 4}
    assert [d.url for d in control.fleet] == urls
    assert await param(recorder, "Network.SSH.Enabled") == "no"
    assert await param(io_unit, "Network.SSH.Enabled") == "no"
    assert await param(control[C1410], "Brand.ProdNbr") == "C1410 Mk II"
    assert await answers(control[S3016])  # factory-new devices are on the network
    rows = (await control.ok("GET", "/devices"))["devices"]
    assert all(row["faults"] == 0 and row["reachable"] and row["state"] == "ready" for row in rows)


# -- the Python API does the same ----------------------------------------------------------------


async def test_python_faults_are_the_http_faults(control: Control) -> None:
    device = control[S3008]
    fault = device.add_fault(path="/axis-cgi/param.cgi", status=503)
    listed = await control.faults(S3008)
    assert [f["id"] for f in listed] == [fault.id] and listed[0]["status"] == 503
    assert (await vapix(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status == 503
    with pytest.raises(FaultError):
        device.add_fault(status=42)
    with pytest.raises(FaultError):
        device.add_fault(path="/x", colour="red")
    assert len(await control.faults(S3008)) == 1
    assert device.remove_fault(fault.id) is True
    assert device.remove_fault(fault.id) is False
    assert await param(device, "Brand.ProdNbr") == "S3008"
    # added over HTTP, removed from Python
    added = await control.add_fault(S3008, path="/axis-cgi/param.cgi", body=BRAND_ERROR)
    assert [f.id for f in device.faults.all()] == [added["id"]]
    assert (await vapix(device.url, f"{PARAM}?action=list&group=Brand")).body == BRAND_ERROR.encode()
    device.clear_faults()
    assert await control.faults(S3008) == []
    assert await param(device, "Brand.ProdNbr") == "S3008"


async def test_python_offline_is_the_http_offline(control: Control) -> None:
    device = control[C1410]
    boot_id = device.device.boot_id
    await device.go_offline()
    assert device.reachable is False
    assert await connection_refused(device.url)
    assert (await control.ok("GET", f"/devices/{C1410}"))["reachable"] is False
    assert await answers(control[S3008])
    await device.go_online()
    assert (await control.ok("GET", f"/devices/{C1410}"))["reachable"] is True
    assert (await systemready(device))["bootid"] == boot_id
    # and the other way round: offline over HTTP is seen in Python
    await control.ok("POST", f"/devices/{C1410}/offline")
    assert device.reachable is False
    await control.ok("POST", f"/devices/{C1410}/online")
    assert device.reachable is True and await answers(device)


async def test_python_events_are_the_http_events(control: Control) -> None:
    device = control[W401]
    result = device.event("io", "close_input", port=1)
    assert result["port"] == 1
    assert await text_of(device.url, "/axis-cgi/io/port.cgi?checkactive=1") == "port1=active\n"
    events = device.events()
    assert events == (await control.ok("GET", f"/devices/{W401}/events"))["events"]
