"""Reboot and reset: restart.cgi, factorydefault.cgi, hardfactorydefault.cgi (vapix-wire.md §2.1).

The reboot window is tested against real listeners: connections refused while
offline, keep-alive connections closed, back with a new boot id and every setting.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from axisim.device import DEFAULT_ACCOUNT, Device, make_device
from axisim.digest_client import authorization
from axisim.lifecycle import BootTimes, RestartKind
from axisim.server import RunningDevice, start_device
from param_tree import ParamDef, Role
from tests.conftest import MODELS, DeviceClientFactory, connection_refused

# §2.1 [CLIENT]: the exact page, with the device's address in `server=`
RESTART_PAGE = (
    "<html>\n  <head>\n"
    '    <meta http-equiv="refresh" content="0;URL=/admin/{page}.shtml?server=127.0.0.1">\n'
    "  </head>\n  <body>\n  </body>\n</html>\n"
)

# Every manual, Maintenance: "The only settings saved after restore are: Boot protocol (DHCP or
# static), Static IP address, Default router, Subnet mask, 802.1X settings, O3C settings, DNS
# server IP address" -- as the parameters that hold them (broadcast follows address and mask).
MANUAL_KEPT_EXACT = {
    "Network.BootProto", "Network.IPAddress", "Network.DefaultRouter", "Network.Routing.DefaultRouter",
    "Network.SubnetMask", "Network.Broadcast", "Network.DNSServer1", "Network.DNSServer2",
    "Network.Resolver.NameServer1", "Network.Resolver.NameServer2", "Network.Resolver.NameServerList",
}  # fmt: skip
MANUAL_KEPT_GROUPS = ("RemoteService.",)  # O3C
MANUAL_KEPT_PARTS = (".dot1x.", ".Link.BootProto")  # 802.1X per interface; boot protocol per interface


def kept_by_manual(name: str) -> bool:
    return (
        name in MANUAL_KEPT_EXACT
        or name.startswith(MANUAL_KEPT_GROUPS)
        or (name.startswith("Network.Interface.") and any(p in name for p in MANUAL_KEPT_PARTS))
    )


def alternative(definition: ParamDef, current: str) -> str | None:
    """A valid value different from the current one, or None when the type offers none."""
    kind = definition.type
    candidates: list[str] = []
    if kind.kind == "bool":
        candidates = [kind.true_word, kind.false_word]
    elif kind.kind == "enum":
        candidates = [entry for entry, _ in kind.entries]
    elif kind.kind == "int":
        candidates = [str(v) for v in (kind.min, kind.max) if v is not None] + [str(lo) for lo, _ in kind.ranges]
        candidates += ["1", "0", "2"]
    elif kind.kind in ("ip", "ipList"):
        candidates = ["10.9.8.7", "10.9.8.6"]
    elif kind.kind == "hostname":
        candidates = ["changed-host", "other-host"]
    else:
        candidates = ["changed", "other"]
    return next((c for c in candidates if c != current and kind.accepts(c)), None)


def change_everything(device: Device) -> dict[str, str]:
    """Set every parameter an administrator may write to another valid value."""
    changes = []
    for definition in device.params.all():
        if not (definition.type.writable and definition.security.may_write(Role.ADMIN)):
            continue
        if definition.name == "Network.HTTP.AuthenticationPolicy":  # keep Digest, the test client's scheme
            continue
        value = alternative(definition, device.params.value(definition.name))
        if value is not None:
            changes.append((definition.name, value))
    # leave out what a subsystem's rule across parameters refuses (e.g. SIP port = TLS port)
    vetoed = set().union(*(s.refused(dict(changes)) for s in device.subsystems.values()))
    changes = [(name, value) for name, value in changes if name not in vetoed]
    refused = device.update_params(changes, Role.ADMIN)
    assert not refused
    return dict(changes)


def factory_values(model: str) -> dict[str, str]:
    fresh = make_device(model, accounts=[DEFAULT_ACCOUNT])
    return {d.name: fresh.params.value(d.name) for d in fresh.params.all()}


@pytest.mark.parametrize("model", MODELS)
async def test_factory_default_keeps_exactly_the_manuals_list(device_client: DeviceClientFactory, model: str) -> None:
    client = await device_client(model)
    changed = change_everything(client.device)
    assert len(changed) > 100  # the test covers the tree, not a handful of names
    assert any(kept_by_manual(name) for name in changed)
    response = await client.get("/axis-cgi/factorydefault.cgi")
    assert response.status == 200
    assert await response.text() == RESTART_PAGE.format(page="factoryMessage")
    factory = factory_values(model)
    for name, value in changed.items():
        expected = value if kept_by_manual(name) else factory[name]
        assert client.device.params.value(name) == expected, name
    # accounts are not on the list: the device waits for its first administrator
    assert client.device.needs_setup


@pytest.mark.parametrize("model", ["S3008", "C1410MkII"])
async def test_hard_factory_default_resets_everything_and_needs_setup(
    device_client: DeviceClientFactory, model: str
) -> None:
    client = await device_client(model)
    changed = change_everything(client.device)
    response = await client.get("/axis-cgi/hardfactorydefault.cgi")
    assert await response.text() == RESTART_PAGE.format(page="factoryMessage2")
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"
    factory = factory_values(model)
    assert {name: client.device.params.value(name) for name in changed} == {name: factory[name] for name in changed}
    ready = await client.post("/axis-cgi/systemready.cgi", json={"apiVersion": "1", "method": "systemready"})
    assert (await ready.json())["data"]["needsetup"] == "yes"
    # nothing but the initial administrator can be done (§4.4)
    listed = await client.get("/axis-cgi/param.cgi?action=list&group=Brand", auth=None)
    assert listed.status == 401
    created = await client.get(
        "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=newpass&grp=root&sgrp=admin:operator:viewer:ptz", auth=None
    )
    assert "Created account root." in await created.text()
    listed = await client.get("/axis-cgi/param.cgi?action=list&group=Brand.Brand", auth=("root", "newpass"))
    assert await listed.text() == "Brand.Brand=AXIS\n"


async def test_restart_keeps_settings_and_changes_boot_id(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes")
    boot_id = client.device.boot_id
    response = await client.get("/axis-cgi/restart.cgi")
    assert await response.text() == RESTART_PAGE.format(page="restartMessage")
    assert client.device.boot_id != boot_id
    assert await client.text("GET", "/axis-cgi/param.cgi?action=list&group=Network.FTP.Enabled") == (
        "Network.FTP.Enabled=yes\n"
    )
    assert not client.device.needs_setup


@pytest.mark.parametrize("path", ["restart.cgi", "factorydefault.cgi", "hardfactorydefault.cgi"])
async def test_only_an_administrator_may_restart_or_reset(device_client: DeviceClientFactory, path: str) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppass&grp=users&sgrp=operator:viewer")
    boot_id = client.device.boot_id
    for auth in (None, ("op", "oppass"), ("root", "wrong")):
        response = await client.get(f"/axis-cgi/{path}", auth=auth)
        assert response.status == 401
    assert client.device.boot_id == boot_id
    assert client.device.accounts.get("op") is not None


# -- the reboot window on real listeners -------------------------------------------------


async def _digest(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> aiohttp.ClientResponse:
    first = await session.request(method, url, **kwargs)
    if first.status != 401:
        return first
    await first.read()
    uri = first.request_info.url.raw_path_qs
    header = authorization(first.headers["WWW-Authenticate"], user="root", password="pass", method=method, uri=uri)
    return await session.request(method, url, headers={"Authorization": header}, **kwargs)


async def _systemready(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with session.post(f"{url}/axis-cgi/systemready.cgi", json={"apiVersion": "1", "method": "systemready"}) as r:
        return (await r.json())["data"]


@pytest.fixture
async def running() -> Any:
    device = make_device("S3008", boot_times=BootTimes(offline_seconds=0.6, booting_seconds=0.4))
    started = await start_device(device, "127.0.0.1", 0, https_port=0)
    yield started
    await started.stop()


async def test_reboot_window_refuses_then_returns_with_new_boot_id(running: RunningDevice) -> None:
    url = running.url
    # a client's idle keep-alive connection, opened before the restart
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    writer.write(b"GET /axis-cgi/systemready.cgi HTTP/1.1\r\nHost: device\r\n\r\n")
    await writer.drain()
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 ")
    async with aiohttp.ClientSession() as session:
        updated = await _digest(session, "GET", f"{url}/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes")
        assert await updated.text() == "OK"
        before = await _systemready(session, url)
        assert before["systemready"] == "yes"
        restart = await _digest(session, "GET", f"{url}/axis-cgi/restart.cgi")
        assert restart.status == 200
        assert "restartMessage.shtml" in await restart.text()
        await asyncio.sleep(0.15)
        # offline: the kept-alive connection is closed and new ones are refused, on both ports
        rest = await asyncio.wait_for(reader.read(), 2)  # whatever body is left, then EOF
        assert b"HTTP/1.1" not in rest
        writer.close()
        assert await connection_refused(f"{url}/axis-cgi/systemready.cgi")
        assert await connection_refused(f"http://127.0.0.1:{running.https_port}/")
        # booting: the listener is back, systemready tells the truth, the rest is not yet served
        seen: list[str] = []
        for _ in range(60):  # bounded: 60 x 50 ms
            await asyncio.sleep(0.05)
            try:
                state = await _systemready(session, url)
            except aiohttp.ClientConnectionError:
                continue
            seen.append(state["systemready"])
            if state["systemready"] == "no":
                listed = await session.get(f"{url}/axis-cgi/param.cgi?action=list")
                # 503 while booting; the boot may end between the two requests (0.4 s is 8 polls, so
                # the last "no" can land a millisecond before the device is ready)
                assert listed.status == 503 or running.device.lifecycle.is_ready
            if state["systemready"] == "yes":
                break
        assert seen[0] == "no" and seen[-1] == "yes"
        assert state["bootid"] != before["bootid"]
        assert int(state["uptime"]) <= 1
        kept = await _digest(session, "GET", f"{url}/axis-cgi/param.cgi?action=list&group=Network.FTP.Enabled")
        assert await kept.text() == "Network.FTP.Enabled=yes\n"


async def test_systemready_timeout_waits_for_readiness(running: RunningDevice) -> None:
    running.device.restart(RestartKind.REBOOT)
    for _ in range(40):  # wait for the listener to come back (bounded)
        await asyncio.sleep(0.05)
        if not await connection_refused(running.url):
            break
    async with aiohttp.ClientSession() as session:
        body = {"apiVersion": "1", "method": "systemready", "params": {"timeout": 5}}
        async with session.post(f"{running.url}/axis-cgi/systemready.cgi", json=body) as response:
            data = json.loads(await response.text())["data"]
    assert data["systemready"] == "yes"


async def test_reboot_cycle_records_in_the_system_log(running: RunningDevice) -> None:
    running.device.restart(RestartKind.REBOOT)
    assert await running.wait_ready(10)
    lines = running.device.logs.system.lines()
    assert any("Restart requested by system" in line for line in lines)
    assert any("System booted" in line and running.device.boot_id in line for line in lines)
    assert lines[-1].endswith("System ready")
