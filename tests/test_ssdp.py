"""SSDP/UPnP on this host (events.md §6 SSDP): M-SEARCH answered once per device as the recording
shows, the root description Home Assistant matches on, NOTIFY alive/byebye on the lifecycle, and the
factory default (UPnP off) that sends nothing. Across namespaces: tests/test_discovery_netns.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from tests.conftest import digest_request
from tests.ssdp_search import NotifyListener, description, search

SERVICE = "urn:axis-com:service:BasicService:1"


async def _upnp(device: Any, enabled: str) -> None:
    url = f"{device.url}/axis-cgi/param.cgi?action=update&Network.UPnP.Enabled={enabled}"
    async with aiohttp.ClientSession() as session:
        assert (await digest_request(session, "GET", url, device.credentials)).text == "OK"


async def _mine(fleet: Any, st: str) -> list[dict[str, str]]:
    """The replies of this test's devices (other processes on the host may answer too)."""
    usns = {f"uuid:Upnp-BasicDevice-1_0-{d.serial}" for d in fleet}
    return [r for r in await search(st, 1.2) if r.get("USN", "").split("::")[0] in usns]


async def _until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_upnp_is_off_by_factory_default(axisim_fleet_factory: Any) -> None:
    """AXIS OS 12 ships with SSDP off (§6): no reply, and no description served."""
    fleet = await axisim_fleet_factory("S3008,W401", count=2, discovery=True)
    assert await _mine(fleet, "ssdp:all") == []
    async with aiohttp.ClientSession() as session, session.get(f"{fleet[0].url}/rootdesc1.xml") as reply:
        assert reply.status == 404


@pytest.mark.parametrize("st", ["ssdp:all", "upnp:rootdevice", SERVICE])
async def test_one_reply_per_device_and_the_description_ha_matches(axisim_fleet_factory: Any, st: str) -> None:
    fleet = await axisim_fleet_factory("S3008,C1410MkII,W401", count=3, discovery=True)
    for device in fleet:
        await _upnp(device, "yes")
    await asyncio.sleep(0.1)  # the responder sees the change at once (device.on_change), then sends
    replies = await _mine(fleet, st)
    assert len(replies) == 3
    for device in fleet:
        found = next(r for r in replies if device.serial in r["USN"])
        expected_st = "upnp:rootdevice" if st == "upnp:rootdevice" else SERVICE
        assert (found["_status"], found["ST"]) == ("HTTP/1.1 200 OK", expected_st)
        assert found["CACHE-CONTROL"] == "max-age=1800"
        assert found["USN"] == f"uuid:Upnp-BasicDevice-1_0-{device.serial}::{expected_st}"
        assert found["LOCATION"] == f"{device.url}/rootdesc1.xml"
        fields = await asyncio.to_thread(description, found["LOCATION"])
        prod = device.device.param("Brand.ProdNbr")
        assert fields["manufacturer"] == "AXIS"  # Home Assistant's SSDP matcher
        assert fields["friendlyName"] == f"AXIS {prod} - {device.serial}"
        assert (fields["serialNumber"], fields["modelNumber"]) == (device.serial, prod)
        assert fields["presentationURL"] == f"{device.url}/"


async def test_notify_alive_and_byebye_follow_the_device(axisim_device_factory: Any) -> None:
    """UPnP on: alive; a restart: byebye, then alive when ready; UPnP off: byebye and no reply."""
    listener = NotifyListener()
    await listener.start()
    try:
        device = await axisim_device_factory("W401", discovery=True, boot_time=0.5)
        prefix = f"uuid:Upnp-BasicDevice-1_0-{device.serial}"
        await _upnp(device, "yes")
        assert await _until(lambda: listener.notifies(prefix) == ["ssdp:alive"])
        async with aiohttp.ClientSession() as session:
            await digest_request(session, "GET", f"{device.url}/axis-cgi/restart.cgi", device.credentials)
        assert await _until(lambda: listener.notifies(prefix) == ["ssdp:alive", "ssdp:byebye", "ssdp:alive"])
        assert await device.wait_ready(10)
        await _upnp(device, "no")
        assert await _until(lambda: listener.notifies(prefix)[-1:] == ["ssdp:byebye"])
        assert await _mine([device], "ssdp:all") == []
    finally:
        listener.close()


async def test_the_upnp_friendly_name_is_the_descriptions(axisim_device_factory: Any) -> None:
    """Network.UPnP.FriendlyName ("UPnP name" in the manuals' Network discovery protocols) is what the
    root description a search leads to names the device (Home Assistant's title for it)."""
    device = await axisim_device_factory("C1410MkII", discovery=True)
    await _upnp(device, "yes")
    url = f"{device.url}/axis-cgi/param.cgi?action=update&Network.UPnP.FriendlyName=Lobby%20speaker"
    async with aiohttp.ClientSession() as session:
        assert (await digest_request(session, "GET", url, device.credentials)).text == "OK"
    (found,) = await _mine([device], SERVICE)
    fields = await asyncio.to_thread(description, found["LOCATION"])
    assert fields["friendlyName"] == "Lobby speaker"
