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
    SITE_PORTS,
    NetnsPair,
    enable_upnp,
    netns_pair,
    site_devices,
    spawn_site,
    stop,
    unavailable,
    until_ok,
    watch_mdns,
)

REASON = unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")
VIDEO = "_axis-video._tcp.local."
NVR, AUDIO = "_axis-nvr._tcp.local.", "_axis-audiosite._tcp.local."
PRODUCTS = {  # Brand.ProdNbr -> the service types it announces (events.md §6)
    "S3008": {VIDEO, NVR}, "S3016": {VIDEO, NVR}, "S4000": {VIDEO, NVR}, "C1410 Mk II": {VIDEO, AUDIO}, "W401": {VIDEO},
}


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[NetnsPair, asyncio.subprocess.Process]]:
    """A mixed fleet with discovery on, in the site namespace (boot time 1 s)."""
    with netns_pair(os.getpid()) as pair:
        fleet = await spawn_site(pair, tmp_path / "inventory")
        try:
            yield pair, fleet
        finally:
            await stop(fleet, interrupt=True)  # as Ctrl-C: the fleet says goodbye and stops


async def test_a_browser_on_the_lan_lists_the_site_and_follows_it(site: tuple[NetnsPair, Any], tmp_path: Path) -> None:
    """A mixed fleet (every model) started with discovery on: a browser in the other namespace lists
    every device as Home Assistant reads it, with the right name, MAC (an Axis OUI), model and URL
    (host and port, which answer with that model), and each kind's service types; a device taken off
    the network disappears and comes back; a restart removes it until it is ready; turning Bonjour
    off in its parameters removes it."""
    pair, _fleet = site
    expected = await site_devices(pair, tmp_path / "inventory.json")
    assert sorted(want["product"] for want in expected.values()) == sorted(PRODUCTS)
    services = sum(len(PRODUCTS[want["product"]]) for want in expected.values())
    watch = await watch_mdns(pair)
    try:
        assert await watch.until(lambda seen: len(seen) == services, timeout=30), watch.seen
        for mac, want in expected.items():
            views = [v for v in watch.seen.values() if v["mac"].replace(":", "").upper() == mac]
            assert {v["type"] for v in views} == PRODUCTS[want["product"]], (mac, views)
            video = next(v for v in views if v["type"] == VIDEO)
            assert video["accepted"]  # Home Assistant's check: an Axis OUI and an address not link-local
            assert video["name"] == f"AXIS {want['product']} - {mac}"
            assert (video["host"], video["port"]) == (want["address"], want["port"]) == (pair.site_ip, want["port"])
            assert video["server"] == f"axis-{mac.lower()}.local."
            url = f"http://{video['host']}:{video['port']}/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
            assert (await pair.run(pair.lan, *DIGEST, url)).strip() == f"Brand.ProdNbr={want['product']}"
        first = min(expected, key=lambda mac: expected[mac]["port"])
        name = f"AXIS {expected[first]['product']} - {first}"
        control = f"http://{pair.site_ip}:{CONTROL_PORT}/devices/{first}"
        gone = lambda seen: name not in {v["name"] for v in seen.values()}  # noqa: E731
        back = lambda seen: len(seen) == services  # noqa: E731

        await pair.run(pair.lan, *CURL, "-X", "POST", f"{control}/offline")
        assert await watch.until(gone)
        await pair.run(pair.lan, *CURL, "-X", "POST", f"{control}/online")
        assert await watch.until(back)

        device = f"http://{expected[first]['address']}:{expected[first]['port']}"
        await pair.run(pair.lan, *DIGEST, f"{device}/axis-cgi/restart.cgi")
        assert await watch.until(gone)
        assert await watch.until(back)

        off = f"{device}/axis-cgi/param.cgi?action=update&Network.Bonjour.Enabled=no"
        assert await until_ok(pair, off)  # bounded: the device may still be booting
        assert await watch.until(gone)
    finally:
        await stop(watch.process)


async def test_an_ssdp_search_from_the_lan_finds_each_device_once(site: tuple[NetnsPair, Any]) -> None:
    """UPnP turned on through param.cgi from the LAN: an M-SEARCH for ssdp:all there gets one reply per
    device, each LOCATION a description Home Assistant's SSDP matcher accepts (manufacturer AXIS)."""
    pair, _fleet = site
    ports = SITE_PORTS
    await enable_upnp(pair, ports)
    replies = json.loads(await pair.run(pair.lan, sys.executable, "tests/ssdp_search.py", "ssdp:all", "1.5"))
    assert sorted(r["LOCATION"] for r in replies) == [f"http://{pair.site_ip}:{p}/rootdesc1.xml" for p in ports]
    for found in replies:
        fields = found["_description"]
        assert fields["manufacturer"] == "AXIS"
        assert found["USN"] == f"{fields['UDN']}::urn:axis-com:service:BasicService:1"
        assert fields["presentationURL"] == found["LOCATION"].removesuffix("rootdesc1.xml")


async def test_with_discovery_off_nothing_is_sent(tmp_path: Path) -> None:
    """The default: a mixed fleet started without --discovery, with Bonjour on and UPnP turned on in
    every device's parameters, restarted, asked by an mDNS query and an M-SEARCH every second, and
    stopped, sends not one UDP datagram to the LAN (captured below the sockets on the LAN's
    interface). The capture's own check: the datagram the site namespace sends at the end is seen."""
    with netns_pair(os.getpid() + 6) as pair:
        capture = await pair.spawn(pair.lan, sys.executable, "tests/udp_watch.py", f"v{pair.tag}l", "120")
        try:
            assert capture.stdout is not None
            assert json.loads(await asyncio.wait_for(capture.stdout.readline(), 15)) == {"ready": True}
            fleet = await spawn_site(pair, tmp_path / "inventory", discovery=False)
            try:
                await enable_upnp(pair, SITE_PORTS)
                for port in SITE_PORTS:
                    url = f"http://{pair.site_ip}:{port}/axis-cgi/param.cgi?action=list&group=Network.Bonjour.Enabled"
                    assert (await pair.run(pair.lan, *DIGEST, url)).strip() == "Network.Bonjour.Enabled=yes"
                device = f"http://{pair.site_ip}:{BASE_PORT}/axis-cgi"
                await pair.run(pair.lan, *DIGEST, f"{device}/restart.cgi")
                assert await until_ok(pair, f"{device}/param.cgi?action=update&Network.UPnP.Enabled=yes")  # booted
                await asyncio.sleep(3)  # the queries go on meanwhile, once a second
            finally:
                await stop(fleet, interrupt=True)
            probe = f"import socket; socket.socket(2, 2).sendto(b'end', ('{pair.lan_ip}', 9))"
            await pair.run(pair.site, sys.executable, "-c", probe)
            out, _ = await asyncio.wait_for(capture.communicate(), 20)
        finally:
            await stop(capture)
        seen = json.loads(out.decode().strip().splitlines()[-1])
        assert [(d["src"], d["dst"], d["dport"]) for d in seen] == [(pair.site_ip, pair.lan_ip, 9)], seen


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
