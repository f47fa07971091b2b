"""Discovery as a Node.js VMS sees it: the npm packages `axis-discovery-bonjour` and `axis-discovery-ssdp`
(tests/npm, tests/npm_clients.py) browsing from the LAN namespace, the simulated site in the other
(tests/netns.py). They read the wire of events.md §6: the Bonjour package takes the instance name,
SRV port, TXT `macaddress`, a LAN A record and a 169.254 one; the SSDP package takes the MAC from
the USN, the address from the reply's source, and name, model and port (from presentationURL) from
rootdesc1.xml. Skipped, with the reason, when not root or node/npm are missing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests import npm_clients
from tests.netns import (
    CONTROL_PORT,
    CURL,
    DIGEST,
    SITE_COUNT,
    SITE_PORTS,
    NetnsPair,
    enable_upnp,
    netns_pair,
    site_devices,
    spawn_site,
    stop,
)
from tests.netns import unavailable as netns_unavailable
from tests.npm_clients import NpmWatch

REASON = netns_unavailable() or npm_clients.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[NetnsPair, asyncio.subprocess.Process, dict[str, Any]]]:
    """The mixed site with UPnP turned on (off by factory default), and what each device should look like."""
    with netns_pair(os.getpid() + 2) as pair:
        fleet = await spawn_site(pair, tmp_path / "inventory")
        try:
            await enable_upnp(pair, SITE_PORTS)
            yield pair, fleet, await site_devices(pair, tmp_path / "inventory.json")
        finally:
            await stop(fleet, interrupt=True)


async def _browse(pair: NetnsPair, seconds: float = 60) -> NpmWatch:
    script = str(npm_clients.NPM_DIR / "browse.js")
    watch = NpmWatch(await pair.spawn(pair.lan, "node", script, str(seconds)))
    await watch.ready()
    return watch


async def test_the_npm_clients_list_every_device_of_a_mixed_site(site: tuple[NetnsPair, Any, dict]) -> None:
    """Every device, in both packages, with its name, MAC, model, address and port."""
    pair, _fleet, expected = site
    watch = await _browse(pair)
    try:
        both = lambda w: w.complete("bonjour", SITE_COUNT) and w.complete("ssdp", SITE_COUNT)  # noqa: E731
        assert await watch.until(both, timeout=30), watch.listed
        assert set(watch.listed["bonjour"]) == set(watch.listed["ssdp"]) == set(expected)
        for mac, want in expected.items():
            name = f"AXIS {want['product']} - {mac}"
            bonjour = watch.listed["bonjour"][mac]
            assert bonjour["friendlyName"] == name
            assert (bonjour["address"], bonjour["port"]) == (want["address"], want["port"])
            assert bonjour["linkLocalAddress"].startswith("169.254.")
            upnp = watch.listed["ssdp"][mac]
            assert upnp["friendlyName"] == name
            assert (upnp["modelName"], upnp["modelNumber"]) == (f"AXIS {want['product']}", want["product"])
            assert (upnp["address"], upnp["port"]) == (want["address"], want["port"])
            assert upnp["presentationURL"] == f"http://{want['address']}:{want['port']}/"
    finally:
        await stop(watch.process)


async def test_the_npm_clients_see_a_device_leave_and_come_back(site: tuple[NetnsPair, Any, dict]) -> None:
    """A device taken off the network: a goodbye in both packages (mDNS TTL 0, SSDP byebye); back on the
    network: a hello in both once it announces again. A device restarting: the same."""
    pair, _fleet, expected = site
    mac = sorted(expected)[0]
    device = f"http://{expected[mac]['address']}:{expected[mac]['port']}"
    control = f"http://{pair.site_ip}:{CONTROL_PORT}/devices/{mac}"
    watch = await _browse(pair)
    try:
        both = lambda w: w.complete("bonjour", SITE_COUNT) and w.complete("ssdp", SITE_COUNT)  # noqa: E731
        gone = lambda w: mac not in w.listed["bonjour"] and mac not in w.listed["ssdp"]  # noqa: E731
        assert await watch.until(both, timeout=30), watch.listed
        await pair.run(pair.lan, *CURL, "-X", "POST", f"{control}/offline")
        assert await watch.until(gone), watch.events[-6:]
        await pair.run(pair.lan, *CURL, "-X", "POST", f"{control}/online")
        assert await watch.until(both), watch.listed

        await pair.run(pair.lan, *DIGEST, f"{device}/axis-cgi/restart.cgi")
        assert await watch.until(gone), watch.events[-6:]
        assert await watch.until(both), watch.listed
    finally:
        await stop(watch.process)
