"""Discovery as Home Assistant sees it across a network: its SSDP listener (async-upnp-client's
`SsdpListener` and `DescriptionCache`, tests/upnp_browser.py) and its zeroconf browser
(tests/mdns_browser.py) in the LAN namespace, the simulated site in the other (tests/netns.py).
Wire facts: events.md §6 (SSDP reply and NOTIFY, rootdesc1.xml fields; goodbyes on power off and
reboot). Skipped, with the reason, where namespaces cannot be made (not root, no iproute2)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.netns import (
    BASE_PORT,
    CONTROL_PORT,
    CURL,
    DIGEST,
    SITE_COUNT,
    SITE_PORTS,
    NetnsPair,
    Watch,
    enable_upnp,
    netns_pair,
    site_devices,
    spawn_site,
    stop,
    unavailable,
    until_ok,
    watch_mdns,
)
from tests.upnp_browser import UpnpWatch

REASON = unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")
UDN = "uuid:Upnp-BasicDevice-1_0-{}"
Site = tuple[NetnsPair, asyncio.subprocess.Process, dict[str, dict[str, Any]]]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """The mixed site with UPnP turned on (off by factory default), and what each device should look like."""
    with netns_pair(os.getpid() + 3) as pair:
        fleet = await spawn_site(pair, tmp_path / "inventory")
        try:
            await enable_upnp(pair, SITE_PORTS)
            yield pair, fleet, await site_devices(pair, tmp_path / "inventory.json")
        finally:
            await stop(fleet, interrupt=True)


async def _watch_upnp(pair: NetnsPair, seconds: float = 60) -> UpnpWatch:
    process = await pair.spawn(pair.lan, sys.executable, "tests/upnp_browser.py", pair.lan_ip, str(seconds))
    return await UpnpWatch(process).ready()  # type: ignore[return-value]


def _macs(watch: Watch) -> set[str]:
    return {v["mac"].replace(":", "").upper() for v in watch.seen.values() if v["type"] == "_axis-video._tcp.local."}


async def test_home_assistant_ssdp_finds_every_device_and_reads_its_description(site: Site) -> None:
    """An ssdp:all search as Home Assistant makes it finds each device; its description carries what the
    Axis integration reads: manufacturer AXIS, model, serial (the MAC), UDN and a presentationURL with the
    device's address and port."""
    pair, _fleet, expected = site
    watch = await _watch_upnp(pair)
    try:
        assert await watch.until(lambda w: len(w.listed) == SITE_COUNT, timeout=20), watch.sources
        assert set(watch.listed) == {UDN.format(mac) for mac in expected}
        for mac, want in expected.items():
            description = watch.listed[UDN.format(mac)]
            assert description["manufacturer"] == "AXIS"
            assert description["modelName"] == f"AXIS {want['product']}"
            assert description["modelNumber"] == want["product"]
            assert description["serialNumber"] == mac
            assert description["UDN"] == UDN.format(mac)
            assert description["friendlyName"] == f"AXIS {want['product']} - {mac}"
            assert description["presentationURL"] == f"http://{want['address']}:{want['port']}/"
    finally:
        await stop(watch.process)


async def test_a_device_leaving_and_returning_is_seen_on_both_protocols(site: Site) -> None:
    """Off the network, restarting, or powered off (the W401 losing DC and PoE): an mDNS goodbye and an
    SSDP byebye take it off both lists; back on the network, ready again, or powered again and booted:
    announced again (NOTIFY alive: no new search needed)."""
    pair, _fleet, expected = site
    w401 = next(mac for mac, want in expected.items() if want["product"] == "W401")
    other = next(mac for mac in sorted(expected) if mac != w401)
    restarted = f"http://{expected[other]['address']}:{expected[other]['port']}/axis-cgi/restart.cgi"
    control = f"http://{pair.site_ip}:{CONTROL_PORT}/devices"
    post = (*CURL, "-X", "POST")
    steps = {  # (the device, how it goes, how it comes back)
        "offline": (sorted(expected)[0], [(*post, f"{control}/{sorted(expected)[0]}/offline")],
                    [(*post, f"{control}/{sorted(expected)[0]}/online")]),
        "restart": (other, [(*DIGEST, restarted)], []),
        "power": (w401, [(*post, f"{control}/{w401}/events/power/cable", "-d", '{"connected": true, "poe": false}'),
                         (*post, f"{control}/{w401}/events/power/dc", "-d", '{"connected": false}')],
                  [(*post, f"{control}/{w401}/events/power/dc", "-d", '{"connected": true}')]),
    }  # fmt: skip
    mdns, upnp = await watch_mdns(pair), await _watch_upnp(pair)
    try:
        assert await mdns.until(lambda seen: _macs(mdns) == set(expected), timeout=20), mdns.seen
        assert await upnp.until(lambda w: len(w.listed) == SITE_COUNT, timeout=20), upnp.sources
        for step, (mac, leave, back) in steps.items():
            udn, alive = UDN.format(mac), len(upnp.sources)
            for command in leave:
                await pair.run(pair.lan, *command)
            assert await mdns.until(lambda seen, mac=mac: mac not in _macs(mdns)), step
            assert await upnp.until(lambda w, udn=udn: udn not in w.listed), step
            for command in back:
                await pair.run(pair.lan, *command)
            assert await mdns.until(lambda seen, mac=mac: mac in _macs(mdns)), step
            assert await upnp.until(lambda w, udn=udn: udn in w.listed), step
            assert (udn, "advertisement_alive") in upnp.sources[alive:], step
    finally:
        await stop(mdns.process)
        await stop(upnp.process)


async def test_sigterm_says_goodbye_for_every_device_before_exit(site: Site) -> None:
    """`kill` (SIGTERM) of `axisim fleet --discovery`: every device leaves both lists before the process
    exits (status 0), as a powered-off device says goodbye."""
    pair, fleet, expected = site
    mdns, upnp = await watch_mdns(pair), await _watch_upnp(pair)
    try:
        assert await mdns.until(lambda seen: _macs(mdns) == set(expected), timeout=20), mdns.seen
        assert await upnp.until(lambda w: len(w.listed) == SITE_COUNT, timeout=20), upnp.sources
        fleet.terminate()
        assert await asyncio.wait_for(fleet.wait(), 10) == 0
        assert await mdns.until(lambda seen: not seen, timeout=5), mdns.seen
        assert await upnp.until(lambda w: not w.listed, timeout=5), upnp.listed
    finally:
        await stop(mdns.process)
        await stop(upnp.process)


async def test_serve_sigterm_says_goodbye(tmp_path: Path) -> None:
    """The same for one device: `axisim serve --discovery`, UPnP on, then SIGTERM."""
    with netns_pair(os.getpid() + 4) as pair:
        serve = await pair.spawn(
            pair.site, sys.executable, "-m", "axisim", "serve", "--model", "W401", "--host", pair.site_ip, "--port",
            str(BASE_PORT), "--no-https", "--no-rtsp", "--discovery",
        )  # fmt: skip
        mdns = upnp = None
        try:
            url = f"http://{pair.site_ip}:{BASE_PORT}/axis-cgi/param.cgi?action=update&Network.UPnP.Enabled=yes"
            assert await until_ok(pair, url)
            mdns, upnp = await watch_mdns(pair), await _watch_upnp(pair)
            assert await mdns.until(lambda seen: len(seen) == 1, timeout=20), mdns.seen
            assert await upnp.until(lambda w: len(w.listed) == 1, timeout=20), upnp.sources
            serve.terminate()
            assert await asyncio.wait_for(serve.wait(), 10) == 0
            assert await mdns.until(lambda seen: not seen, timeout=5), mdns.seen
            assert await upnp.until(lambda w: not w.listed, timeout=5), upnp.listed
        finally:
            for watch in (mdns, upnp):
                if watch is not None:
                    await stop(watch.process)
            await stop(serve)
