"""An SSDP search as Home Assistant's ssdp component makes one (M-SEARCH to 239.255.255.250:1900, then
each LOCATION's description, matched on `manufacturer` AXIS; events.md §6), in plain asyncio UDP.
As a script (`python3 tests/ssdp_search.py ST SECONDS`) it prints one JSON line: the replies, each
with its headers and the description fields Home Assistant reads."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import urllib.request
from typing import Any
from xml.etree import ElementTree

GROUP = ("239.255.255.250", 1900)
NS = "{urn:schemas-upnp-org:device-1-0}"


def search_message(st: str, mx: int = 1) -> bytes:
    lines = ["M-SEARCH * HTTP/1.1", f"HOST: {GROUP[0]}:{GROUP[1]}", 'MAN: "ssdp:discover"', f"MX: {mx}", f"ST: {st}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Collect(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[dict[str, str]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        lines = data.decode("latin-1").split("\r\n")
        headers = {"_status": lines[0], "_from": addr[0]}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().upper()] = value.strip()
        self.replies.append(headers)


async def search(st: str, seconds: float, mx: int = 1) -> list[dict[str, str]]:
    """Every reply within `seconds` (bounded)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    sock.bind(("", 0))
    transport, protocol = await loop.create_datagram_endpoint(_Collect, sock=sock)
    try:
        transport.sendto(search_message(st, mx), GROUP)
        await asyncio.sleep(seconds)
    finally:
        transport.close()
    return protocol.replies


class NotifyListener:
    """The NOTIFY messages multicast to the SSDP group (port 1900, shared with any responder here)."""

    def __init__(self) -> None:
        self.protocol = _Collect()
        self.transport: asyncio.BaseTransport | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", GROUP[1]))
        for address in ("0.0.0.0",):
            membership = socket.inet_aton(GROUP[0]) + socket.inet_aton(address)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        self.transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(lambda: self.protocol, sock=sock)

    def notifies(self, usn_prefix: str) -> list[str]:
        """The NTS of each NOTIFY for the device's root (`upnp:rootdevice`), in order."""
        return [
            m["NTS"] for m in self.protocol.replies
            if m["_status"].startswith("NOTIFY") and m.get("NT") == "upnp:rootdevice"
            and m["USN"].startswith(usn_prefix)
        ]  # fmt: skip

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def description(location: str) -> dict[str, Any]:
    """The fields Home Assistant's Axis flow reads (manufacturer, presentationURL, serialNumber, friendlyName)."""
    with urllib.request.urlopen(location, timeout=5) as response:
        root = ElementTree.fromstring(response.read())
    device = root.find(f"{NS}device")
    assert device is not None
    return {child.tag.removeprefix(NS): (child.text or "") for child in device if len(child) == 0}


async def _main(st: str, seconds: float) -> None:
    replies = await search(st, seconds)
    for item in replies:
        item["_description"] = description(item["LOCATION"]) if "LOCATION" in item else {}  # type: ignore[assignment]
    print(json.dumps(replies), flush=True)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], float(sys.argv[2])))
