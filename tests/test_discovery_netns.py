"""Discovery across a network, as a VMS or Home Assistant on another machine sees it (events.md §6):
the simulator in one network namespace, the clients in another, a veth pair between them (tests/netns.py).
Skipped, with the reason, where namespaces cannot be made (not root, no iproute2)."""

from __future__ import annotations

import asyncio
import json
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
    NetnsPair,
    enable_upnp,
    netns_pair,
    spawn_site,
    stop,
    unavailable,
    until_ok,
    watch_mdns,
)

REASON = unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")
VIDEO = "_axis-video._tcp.local."


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[NetnsPair, asyncio.subprocess.Process]]:
    """A mixed fleet with discovery on, in the site namespace (boot time 1 s)."""
    with netns_pair(os.getpid()) as pair:
        fleet = await spawn_site(pair, tmp_path / "inventory")
        try:
            yield pair, fleet
        finally:
            await stop(fleet, interrupt=True)  # as Ctrl-C: the fleet says goodbye and stops


async def test_a_browser_on_the_lan_lists_the_site_and_follows_it(site: tuple[NetnsPair, Any]) -> None:
    """A mixed fleet started with discovery on: a browser in the other namespace lists every device as
    Home Assistant reads it (host, port, MAC with an Axis OUI), the URL answers with the model; a device
    taken off the network disappears and comes back; a restart removes it until it is ready; turning
    Bonjour off in its parameters removes it."""
    pair, _fleet = site
    watch = await watch_mdns(pair)
    try:
        assert await watch.until(lambda seen: len(seen) == 5, timeout=30), watch.seen
        video = sorted((v for v in watch.seen.values() if v["type"] == VIDEO), key=lambda v: v["port"])
        assert [v["port"] for v in video] == [BASE_PORT, BASE_PORT + 1, BASE_PORT + 2]
        assert all(v["accepted"] and v["host"] == pair.site_ip for v in video)
        for view in video:
            url = f"http://{view['host']}:{view['port']}/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
            reply = await pair.run(pair.lan, *DIGEST, url)
            product = reply.strip().split("=", 1)[1]
            assert view["name"] == f"AXIS {product} - {view['mac'].replace(':', '').upper()}"
        first = video[0]
        control = f"http://{pair.site_ip}:{CONTROL_PORT}/devices/{first['mac'].replace(':', '')}"
        gone = lambda seen: first["name"] not in {v["name"] for v in seen.values()}  # noqa: E731
        back = lambda seen: len(seen) == 5  # noqa: E731

        await pair.run(pair.lan, *CURL, "-X", "POST", f"{control}/offline")
        assert await watch.until(gone)
        await pair.run(pair.lan, *CURL, "-X", "POST", f"{control}/online")
        assert await watch.until(back)

        device = f"http://{first['host']}:{first['port']}"
        await pair.run(pair.lan, *DIGEST, f"{device}/axis-cgi/restart.cgi")
        assert await watch.until(gone)
        assert await watch.until(back)

        off = f"{device}/axis-cgi/param.cgi?action=update&Network.Bonjour.Enabled=no"
        for _ in range(20):  # bounded: the device may still be booting
            if (await pair.run(pair.lan, *DIGEST, off)).strip() == "OK":
                break
            await asyncio.sleep(0.25)
        assert await watch.until(gone)
    finally:
        await stop(watch.process)


async def test_an_ssdp_search_from_the_lan_finds_each_device_once(site: tuple[NetnsPair, Any]) -> None:
    """UPnP turned on through param.cgi from the LAN: an M-SEARCH for ssdp:all there gets one reply per
    device, each LOCATION a description Home Assistant's SSDP matcher accepts (manufacturer AXIS)."""
    pair, _fleet = site
    ports = [BASE_PORT, BASE_PORT + 1, BASE_PORT + 2]
    await enable_upnp(pair, ports)
    replies = json.loads(await pair.run(pair.lan, sys.executable, "tests/ssdp_search.py", "ssdp:all", "1.5"))
    assert sorted(r["LOCATION"] for r in replies) == [f"http://{pair.site_ip}:{p}/rootdesc1.xml" for p in ports]
    for found in replies:
        fields = found["_description"]
        assert fields["manufacturer"] == "AXIS"
        assert found["USN"] == f"{fields['UDN']}::urn:axis-com:service:BasicService:1"
        assert fields["presentationURL"] == found["LOCATION"].removesuffix("rootdesc1.xml")


async def test_interface_addressing_gives_each_device_an_address_of_the_lan(tmp_path: Path) -> None:
    """`--interface` adds the addresses the interface lacks (root), each device listens on its own on one
    port, announces that address over mDNS and answers SSDP from it (the npm client takes a device's
    address from the reply's source), and the addresses go when the fleet stops."""
    with netns_pair(os.getpid() + 1) as pair:
        first = pair.site_ip.rsplit(".", 1)[0] + ".10"
        addresses = [first.rsplit(".", 1)[0] + f".{10 + i}" for i in range(3)]
        fleet = await pair.spawn(
            pair.site, sys.executable, "-m", "axisim", "fleet", "--models", "S3008,W401", "--count", "3",
            "--interface", f"v{pair.tag}s", "--first-address", first, "--base-port", "8080", "--no-rtsp",
            "--discovery", "--control-host", pair.site_ip, "--inventory", str(tmp_path / "inventory"), "--quiet",
        )  # fmt: skip
        watch = await watch_mdns(pair)
        try:
            three = lambda seen: len([v for v in seen.values() if v["type"] == VIDEO]) == 3  # noqa: E731
            assert await watch.until(three, timeout=30), watch.seen
            video = [v for v in watch.seen.values() if v["type"] == VIDEO]
            assert sorted((v["host"], v["port"]) for v in video) == [(a, 8080) for a in addresses]
            for address in addresses:
                url = f"http://{address}:8080/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
                assert (await pair.run(pair.lan, *DIGEST, url)).startswith("Brand.ProdNbr=")
                upnp = f"http://{address}:8080/axis-cgi/param.cgi?action=update&Network.UPnP.Enabled=yes"
                assert await until_ok(pair, upnp)
            st = "urn:axis-com:service:BasicService:1"
            replies = json.loads(await pair.run(pair.lan, sys.executable, "tests/ssdp_search.py", st, "1.5"))
            assert sorted((r["_from"], r["LOCATION"]) for r in replies) == [
                (a, f"http://{a}:8080/rootdesc1.xml") for a in addresses
            ]
        finally:
            await stop(watch.process)
            await stop(fleet, interrupt=True)
        left = await pair.run(pair.site, "ip", "-4", "-o", "addr", "show", "dev", f"v{pair.tag}s")
        assert not any(a + "/32" in left for a in addresses)



async def test_a_device_on_an_ipv6_address_announces_it_in_an_aaaa_record(tmp_path: Path) -> None:
    """`axisim serve --host <IPv6>` with discovery: its announcement carries an AAAA record for that address
    (next to the 169.254 A record), and the device answers there from the LAN."""
    with netns_pair(os.getpid() + 5) as pair:
        site6, lan6 = f"fd00:213:{pair.tag}::1", f"fd00:213:{pair.tag}::2"
        await pair.run(pair.site, "ip", "-6", "addr", "add", f"{site6}/64", "dev", f"v{pair.tag}s", "nodad")
        await pair.run(pair.lan, "ip", "-6", "addr", "add", f"{lan6}/64", "dev", f"v{pair.tag}l", "nodad")
        serve = await pair.spawn(
            pair.site, sys.executable, "-m", "axisim", "serve", "--model", "W401", "--host", site6, "--port",
            str(BASE_PORT), "--no-https", "--no-rtsp", "--discovery",
        )  # fmt: skip
        watch = None
        try:
            watch = await watch_mdns(pair)
            assert await watch.until(lambda seen: len(seen) == 1, timeout=20), watch.seen
            (view,) = watch.seen.values()
            assert view["addresses6"] == [site6] and view["port"] == BASE_PORT
            assert all(a.startswith("169.254.") for a in view["addresses"])
            url = f"http://[{site6}]:{BASE_PORT}/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
            assert (await pair.run(pair.lan, *DIGEST, url)).startswith("Brand.ProdNbr=W401")
        finally:
            if watch is not None:
                await stop(watch.process)
            await stop(serve)
