"""One SSDP/UPnP responder per process for every served device with discovery on (events.md §6 SSDP).

While a device is ready, reachable and `Network.UPnP.Enabled` is yes (off by factory default on the
AXIS OS 12 profiles), the responder answers `M-SEARCH` for `ssdp:all`, `upnp:rootdevice`, the Axis
service type, the device type and its UUID with one reply per device, its `LOCATION` the device's
`rootdesc1.xml` (cgi_handlers/upnp.py); it multicasts `NOTIFY ssdp:alive` when the device becomes
announced and `ssdp:byebye` when it goes (restart, power, network switch, UPnP off, stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import socket
import struct
import sys
from dataclasses import dataclass
from typing import cast

import ifaddr

from cgi_handlers.upnp import DESCRIPTION_PATH, ENABLED, udn

from ..device import Device
from ..lifecycle import State
from ..server import RunningDevice
from .common import WILDCARDS, Source

LOG = logging.getLogger("axisim.discovery")

GROUP, PORT = "239.255.255.250", 1900
SERVICE = "urn:axis-com:service:BasicService:1"
DEVICE_TYPE = "urn:schemas-upnp-org:device:Basic:1"
ROOT = "upnp:rootdevice"
SERVER = "Linux/2.6.35, UPnP/1.0, Portable SDK for UPnP devices/1.6.18"  # the recorded reply's
MAX_AGE = 1800
SWEEP_SECONDS = 0.5
MAX_SEARCH = 2048  # an M-SEARCH is a few hundred bytes
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux <netinet/in.h>; Python 3.11 lacks the name


@dataclass(frozen=True)
class Presence:
    """One announced device: where its description is and who it is."""

    location: str
    udn: str
    address: str

    def headers(self, kind: str) -> tuple[str, str]:
        """(ST/NT value, USN) for one of the device's types."""
        return kind, self.udn if kind == self.udn else f"{self.udn}::{kind}"


def presence(running: RunningDevice) -> Presence | None:
    device = running.device
    if not running.reachable or device.lifecycle.state is not State.READY or not device.link_up:
        return None
    if device.param(ENABLED, "no") != "yes":
        return None
    address = running.host if running.host not in WILDCARDS else _first_address()
    literal = f"[{address}]" if ":" in address else address
    return Presence(f"http://{literal}:{running.port}{DESCRIPTION_PATH}", udn(device), address)


def _first_address() -> str:
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                return ip.ip
    return "127.0.0.1"


def _message(start: str, fields: list[tuple[str, str]]) -> bytes:
    return ("\r\n".join([start, *(f"{k}: {v}" if v else f"{k}:" for k, v in fields)]) + "\r\n\r\n").encode()


def reply(found: Presence, st: str) -> bytes:
    """The search answer as the recording shows it."""
    kind, usn = found.headers(st)
    return _message("HTTP/1.1 200 OK", [
        ("CACHE-CONTROL", f"max-age={MAX_AGE}"), ("EXT", ""), ("LOCATION", found.location), ("SERVER", SERVER),
        ("ST", kind), ("USN", usn),
    ])  # fmt: skip


def notify(found: Presence, nt: str, alive: bool) -> bytes:
    kind, usn = found.headers(nt)
    nts = "ssdp:alive" if alive else "ssdp:byebye"
    fields = [("HOST", f"{GROUP}:{PORT}"), ("NT", kind), ("NTS", nts), ("USN", usn)]
    if alive:
        fields[1:1] = [("CACHE-CONTROL", f"max-age={MAX_AGE}"), ("LOCATION", found.location), ("SERVER", SERVER)]
    return _message("NOTIFY * HTTP/1.1", fields)


def parse_search(data: bytes) -> tuple[str, float] | None:
    """(ST, MX) of an `M-SEARCH * HTTP/1.1` with `MAN: "ssdp:discover"`; None for anything else."""
    if len(data) > MAX_SEARCH:
        return None
    lines = data.decode("latin-1").split("\r\n")
    if lines[0].split() != ["M-SEARCH", "*", "HTTP/1.1"]:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().upper()] = value.strip()
    if headers.get("MAN", "").strip('"') != "ssdp:discover" or not headers.get("ST"):
        return None
    try:
        mx = min(max(float(headers.get("MX", "1")), 0.0), 5.0)
    except ValueError:
        mx = 1.0
    return headers["ST"], mx


class SsdpResponder(asyncio.DatagramProtocol):
    """The process's SSDP responder: `start()`, then it follows its devices until `stop()` (byebyes)."""

    def __init__(self, sweep: float = SWEEP_SECONDS) -> None:
        self.sources: dict[object, Source] = {}
        self.sweep = sweep
        self.transport: asyncio.DatagramTransport | None = None
        self._sock: socket.socket | None = None
        self._alive: dict[object, Presence] = {}
        self._watched: dict[object, Device] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        """Bind UDP 1900 (shared with other responders) and join the SSDP group on every IPv4 interface."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(AttributeError, OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", PORT))
        for adapter in ifaddr.get_adapters():
            for ip in adapter.ips:
                if isinstance(ip.ip, str):
                    with contextlib.suppress(OSError):
                        membership = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(ip.ip))
                        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.setblocking(False)
        self._sock = sock
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, sock=sock)
        self._task = loop.create_task(self._run())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        search = parse_search(data)
        if search is None:
            return
        st, mx = search
        loop = asyncio.get_running_loop()
        for key, found in list(self._alive.items()):
            kinds = {SERVICE: SERVICE, ROOT: ROOT, DEVICE_TYPE: DEVICE_TYPE, found.udn: found.udn, "ssdp:all": SERVICE}
            kind = kinds.get(st)
            if kind is not None:  # answered within MX, spread as UPnP 1.0 §1.2.3 asks of devices
                loop.call_later(random.uniform(0, mx * 0.8), self._reply, key, found, kind, addr)

    def _reply(self, key: object, found: Presence, kind: str, addr: tuple[str, int]) -> None:
        """A search answer due now, unless the device left meanwhile (a reply after its byebye would
        list a device that is gone)."""
        if self._alive.get(key) == found:
            self._send(reply(found, kind), addr, found.address)

    def _send(self, payload: bytes, addr: tuple[str, int], source: str) -> None:
        """From the device's own address, as a real device's replies come (the npm client takes a
        device's address from the packet's source): IP_PKTINFO on Linux."""
        sock = self._sock
        if self.transport is None or sock is None:
            return
        try:
            packed = socket.inet_aton(source)
        except OSError:  # not IPv4: the kernel chooses
            packed = None
        if packed is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, packed)
        with contextlib.suppress(OSError):
            if packed is None or sys.platform != "linux":
                self.transport.sendto(payload, addr)
                return
            pktinfo = struct.pack("@i4s4s", 0, packed, bytes(4))
            sock.sendmsg([payload], [(socket.IPPROTO_IP, IP_PKTINFO, pktinfo)], 0, addr)

    def _announce(self, found: Presence, alive: bool) -> None:
        for kind in (ROOT, found.udn, DEVICE_TYPE, SERVICE):
            self._send(notify(found, kind, alive), (GROUP, PORT), found.address)

    def add(self, key: object, source: Source) -> None:
        self.sources[key] = source
        self._wake.set()

    def remove(self, key: object) -> None:
        self.sources.pop(key, None)
        gone = self._alive.pop(key, None)
        if gone is not None:
            self._announce(gone, alive=False)
        device = self._watched.pop(key, None)
        if device is not None:
            with contextlib.suppress(ValueError):
                device.on_change.remove(self._wake.set)

    async def _run(self) -> None:
        while True:
            self._reconcile()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.sweep)
            await asyncio.sleep(0)

    def _reconcile(self) -> None:
        for key, source in list(self.sources.items()):
            running = source()
            if running is not None and self._watched.get(key) is not running.device:
                self._watched[key] = running.device
                running.device.on_change.append(self._wake.set)
            wanted = presence(running) if running is not None else None
            sent = self._alive.get(key)
            if sent == wanted:
                continue
            if sent is not None:
                self._announce(sent, alive=False)
                del self._alive[key]
            if wanted is not None:
                self._alive[key] = wanted
                self._announce(wanted, alive=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for key in list(self.sources):
            self.remove(key)
        if self.transport is not None:
            self.transport.close()
            self.transport = None


_shared: SsdpResponder | None = None


async def join(key: object, source: Source) -> None:
    """The process's SSDP responder (started by the first device) follows this device too; a port
    1900 that cannot be had leaves SSDP out (logged), as it does not stop the device."""
    global _shared
    if _shared is None:
        responder = SsdpResponder()
        try:
            await responder.start()
        except OSError as exc:
            LOG.warning("SSDP off: UDP port %d cannot be had: %s", PORT, exc)
            return
        _shared = responder
    _shared.add(key, source)


async def leave(key: object) -> None:
    """The device's byebye; the last device to leave closes the responder."""
    global _shared
    if _shared is None or key not in _shared.sources:
        return
    _shared.remove(key)
    if not _shared.sources:
        responder, _shared = _shared, None
        await responder.stop()
