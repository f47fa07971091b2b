"""mDNS/Bonjour on this host (events.md §6 Discovery): python-zeroconf's browser, read as Home Assistant's
Axis integration reads it, sees what the simulated devices announce and follows their changes.
The same tests across two network namespaces are in tests/test_discovery_netns.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from axisim.discovery import mdns
from tests.conftest import digest_request
from tests.mdns_browser import Browser

VIDEO, NVR, AUDIO = "_axis-video._tcp.local.", "_axis-nvr._tcp.local.", "_axis-audiosite._tcp.local."


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    seen = Browser()
    yield seen
    await seen.close()


def of(seen: dict[str, Any], *serials: str) -> list[dict[str, Any]]:
    """This test's devices only (another process on the host may announce Axis devices too)."""
    return [v for v in seen.values() if v["mac"].replace(":", "").upper() in serials]


def named(serial: str) -> Any:
    return lambda seen: of(seen, serial)


def gone(serial: str) -> Any:
    return lambda seen: not of(seen, serial)


async def test_a_mixed_site_is_seen_as_home_assistant_sees_it(axisim_fleet_factory: Any, browser: Browser) -> None:
    """§6: every kind announces _axis-video (HA's only type) with TXT macaddress, SRV to its port,
    axis-<mac>.local; recorders add _axis-nvr, the speaker _axis-audiosite."""
    fleet = await axisim_fleet_factory("S3008,C1410MkII,W401", count=3, discovery=True)
    serials = [d.serial for d in fleet]
    assert await browser.wait_for(lambda seen: len(of(seen, *serials)) == 5)
    for device in fleet:
        prod = device.device.param("Brand.ProdNbr")
        views = [v for v in browser.seen.values() if v["mac"] == device.identity.mac.lower()]
        video = next(v for v in views if v["type"] == VIDEO)
        assert video["accepted"]  # Axis OUI, an address that is not link-local
        assert video["name"] == f"AXIS {prod} - {device.serial}"
        assert (video["host"], video["port"]) == ("127.0.0.1", device.port)
        assert video["server"] == f"axis-{device.serial.lower()}.local."
        assert any(a.startswith("169.254.") for a in video["addresses"])  # the npm client needs one
        extra = {"S3008": {NVR}, "C1410 Mk II": {AUDIO}, "W401": set()}[prod]
        assert {v["type"] for v in views} == {VIDEO} | extra


async def test_bonjour_parameters_act(axisim_device_factory: Any, browser: Browser) -> None:
    """Network.Bonjour.FriendlyName renames the announcement; Enabled=no withdraws it (a goodbye)."""
    device = await axisim_device_factory("W401", discovery=True)
    assert await browser.wait_for(named(device.serial))
    update = f"{device.url}/axis-cgi/param.cgi?action=update&Network.Bonjour.FriendlyName=Gate"
    async with aiohttp.ClientSession() as session:
        assert (await digest_request(session, "GET", update, device.credentials)).text == "OK"
        renamed = [f"Gate - {device.serial}"]
        assert await browser.wait_for(lambda seen: [v["name"] for v in of(seen, device.serial)] == renamed)
        off = f"{device.url}/axis-cgi/param.cgi?action=update&Network.Bonjour.Enabled=no"
        assert (await digest_request(session, "GET", off, device.credentials)).text == "OK"
        assert await browser.wait_for(gone(device.serial))


async def test_the_link_local_record_is_the_devices_own_and_follows_zeroconf(
    axisim_device_factory: Any, browser: Browser
) -> None:
    """The 169.254 A record (events.md §6) is the address the device reports as its link-local one
    (Network.ZeroConf.IPAddress once link-local is on); Network.ZeroConf.Enabled=no withdraws it, and
    the announcement goes on with the LAN address alone."""
    device = await axisim_device_factory("S3008", discovery=True)
    assert await browser.wait_for(lambda seen: len(of(seen, device.serial)) == 2)
    async with aiohttp.ClientSession() as session:

        async def update(query: str) -> None:
            url = f"{device.url}/axis-cgi/param.cgi?action=update&{query}"
            assert (await digest_request(session, "GET", url, device.credentials)).text == "OK"

        await update("Network.ZeroConf.Fallback=no")  # link-local always on: the device reports its address
        listed = f"{device.url}/axis-cgi/param.cgi?action=list&group=Network.ZeroConf.IPAddress"
        reported = (await digest_request(session, "GET", listed, device.credentials)).text.strip().split("=", 1)[1]
        assert reported.startswith("169.254.")
        addresses = lambda seen: [sorted(v["addresses"]) for v in of(seen, device.serial) if v["type"] == VIDEO]  # noqa: E731
        assert addresses(browser.seen) == [sorted(["127.0.0.1", reported])], browser.seen  # in no set order
        await update("Network.ZeroConf.Enabled=no")
        assert await browser.wait_for(lambda seen: addresses(seen) == [["127.0.0.1"]])
        await update("Network.ZeroConf.Enabled=yes")
        assert await browser.wait_for(lambda seen: addresses(seen) == [sorted(["127.0.0.1", reported])])


async def test_a_restart_says_goodbye_and_announces_again_when_ready(
    axisim_device_factory: Any, browser: Browser
) -> None:
    """Offline during its boot, the device is gone from the browser; ready again, it is back."""
    device = await axisim_device_factory("S3008", discovery=True, boot_time=1.0)
    assert await browser.wait_for(lambda seen: len(of(seen, device.serial)) == 2)
    async with aiohttp.ClientSession() as session:
        reply = await digest_request(session, "GET", f"{device.url}/axis-cgi/restart.cgi", device.credentials)
        assert reply.status == 200
    assert await browser.wait_for(gone(device.serial))
    assert await browser.wait_for(lambda seen: len(of(seen, device.serial)) == 2)
    assert device.device.lifecycle.is_ready


async def test_power_and_network_take_it_off_the_list(axisim_device_factory: Any, browser: Browser) -> None:
    """Power off and the control API's network switch withdraw the device; both back, it returns."""
    device = await axisim_device_factory("W401", discovery=True)
    assert await browser.wait_for(named(device.serial))
    device.device.power_off("test")
    assert await browser.wait_for(gone(device.serial))
    device.device.power_on()
    assert await browser.wait_for(named(device.serial))
    await device.go_offline()
    assert await browser.wait_for(gone(device.serial))
    await device.go_online()
    assert await browser.wait_for(named(device.serial))


async def test_discovery_is_off_by_default(axisim_device_factory: Any) -> None:
    """Without discovery no responder exists, so nothing is sent; the last device leaving closes it."""
    await axisim_device_factory("W401")
    assert mdns._shared is None
    announced = await axisim_device_factory("W401", index=1, discovery=True)
    assert mdns._shared is not None
    await announced.stop()
    assert mdns._shared is None
