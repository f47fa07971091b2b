"""One mDNS/Bonjour responder per process for every served device with discovery on.

Each device announces, while it is ready, reachable and `Network.Bonjour.Enabled` is yes, the
service types of its kind (events.md §6): instance `<Bonjour.FriendlyName> - <MAC>` (the factory
friendly name is `AXIS <ProdNbr>`), host `axis-<mac>.local`, TXT `macaddress=<MAC>`, SRV to its
HTTP port, an A record for its address (AAAA for an IPv6 one) and, while `Network.ZeroConf.Enabled`
is yes, one for its 169.254 address (the one the network settings report when link-local is on). The
responder compares what each device should announce with what it announces (on
every change the device reports and on a short sweep, which sees restarts, power and the network
switch) and sends goodbyes and new announcements for the difference. python-zeroconf does the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import ifaddr
from zeroconf import IPVersion, NonUniqueNameException
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from ..device import Device
from ..lifecycle import State
from ..server import RunningDevice
from ..subsystems.network.config import ZEROCONF, ipv4_link_local
from .common import WILDCARDS, Source

LOG = logging.getLogger("axisim.discovery")

ENABLED = "Network.Bonjour.Enabled"
FRIENDLY_NAME = "Network.Bonjour.FriendlyName"
PROD_NBR = "Brand.ProdNbr"
PROD_TYPE = "Brand.ProdType"
VIDEO = "_axis-video._tcp.local."
# events.md §6: recorders add _axis-nvr, speakers _axis-audiosite; every kind keeps _axis-video
# (Home Assistant discovers only that one)
KIND_SERVICES = {"recorder": ("_axis-nvr._tcp.local.",), "speaker": ("_axis-audiosite._tcp.local.",)}
SWEEP_SECONDS = 0.5


def _kind(device: Device) -> str:
    prod_type = device.param(PROD_TYPE).lower()
    return next((kind for kind in KIND_SERVICES if kind in prod_type), "")


def link_local(device: Device) -> str | None:
    """The device's 169.254 address, the network settings' own (events.md §6: a real device announces
    one, and the npm client drops an answer without it); None while `Network.ZeroConf.Enabled` is no."""
    if device.param(ZEROCONF, "yes") == "no":
        return None
    return ipv4_link_local(device.identity.mac)


def _interface_addresses(ipv6: bool) -> list[str]:
    """The host's addresses that are not loopback (for a device listening on every address): IPv4,
    and IPv6 too when `ipv6` (a device on `::` answers on both)."""
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0] if ipv6 else None
            if address is not None and not ipaddress.ip_address(address).is_loopback:
                found.append(address)
    return found


def device_addresses(host: str) -> list[str]:
    """The addresses a device listening on `host` announces (A, and AAAA for IPv6 ones): its own, or
    the host's for a wildcard (`0.0.0.0`: IPv4 only; `::` and all: IPv6 as well)."""
    if host not in WILDCARDS:
        return [host]
    return _interface_addresses(ipv6=host != "0.0.0.0")


@dataclass(frozen=True)
class Announcement:
    """What one device announces now: compared with the last one to decide what to send."""

    name: str
    host: str
    port: int
    addresses: tuple[str, ...]
    types: tuple[str, ...]
    mac: str

    def infos(self) -> list[AsyncServiceInfo]:
        packed = [ipaddress.ip_address(a).packed for a in self.addresses]
        txt = {"macaddress": self.mac}
        return [
            AsyncServiceInfo(
                kind, f"{self.name}.{kind}", port=self.port, properties=txt, server=self.host, addresses=packed
            )
            for kind in self.types
        ]


def announced_services(running: RunningDevice, with_link_local: bool = True) -> Announcement | None:
    """What the device announces (None: nothing: not ready, off the network, or Bonjour off)."""
    device = running.device
    if not running.reachable or device.lifecycle.state is not State.READY or not device.link_up:
        return None
    if device.param(ENABLED, "yes") != "yes":
        return None
    serial = device.serial
    friendly = device.param(FRIENDLY_NAME) or f"AXIS {device.param(PROD_NBR, device.model.id)}"
    addresses = device_addresses(running.host)
    local = link_local(device) if with_link_local else None
    if local is not None:
        addresses.append(local)
    types = (VIDEO, *KIND_SERVICES.get(_kind(device), ()))
    return Announcement(
        f"{friendly} - {serial}"[:63], f"axis-{serial.lower()}.local.", running.port, tuple(addresses), types, serial
    )  # fmt: skip


class MdnsResponder:
    """The process's one responder: `start()`, then it follows its devices until `stop()` (goodbyes)."""

    def __init__(
        self, sources: Iterable[Source] = (), *, interfaces: list[str] | None = None, with_link_local: bool = True,
        sweep: float = SWEEP_SECONDS,
    ) -> None:  # fmt: skip
        self.sources: dict[object, Source] = {source: source for source in sources}
        self.interfaces = interfaces
        self.with_link_local = with_link_local
        self.sweep = sweep
        self.zeroconf: AsyncZeroconf | None = None
        self._sent: dict[object, tuple[Announcement, list[AsyncServiceInfo]]] = {}
        self._busy: dict[object, asyncio.Task[None]] = {}
        self._watched: dict[object, Device] = {}
        self._task: asyncio.Task[None] | None = None
        self._leaving: set[asyncio.Task[None]] = set()  # goodbyes of devices that left
        self._wake = asyncio.Event()

    async def start(self) -> None:
        if self.interfaces is None:
            self.zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
        else:
            self.zeroconf = AsyncZeroconf(interfaces=self.interfaces, ip_version=IPVersion.V4Only)
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def announced(self) -> int:
        """How many devices announce something now."""
        return len(self._sent)

    def wake(self) -> None:
        """A device changed: look again at once (device.on_change calls it)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._reconcile()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.sweep)
            await asyncio.sleep(0)  # a change reported mid-step (restart, power) has finished

    def add(self, key: object, source: Source) -> None:
        """Follow one more device (`source()` is its RunningDevice while it runs)."""
        self.sources[key] = source
        self.wake()

    async def remove(self, key: object) -> None:
        """Stop following a device: its goodbye goes out in the background (a fleet stopping says
        goodbye for all its devices at once; `stop()` waits for every one)."""
        self.sources.pop(key, None)
        busy = self._busy.pop(key, None)
        goodbye = asyncio.get_running_loop().create_task(self._after(busy, key))
        self._leaving.add(goodbye)
        goodbye.add_done_callback(self._leaving.discard)
        device = self._watched.pop(key, None)
        if device is not None:
            with contextlib.suppress(ValueError):
                device.on_change.remove(self.wake)

    def _reconcile(self) -> None:
        for number, source in list(self.sources.items()):
            running = source()
            if running is not None and self._watched.get(number) is not running.device:
                self._watched[number] = running.device
                running.device.on_change.append(self.wake)  # a reset builds a new Device: watch it too
            wanted = announced_services(running, self.with_link_local) if running is not None else None
            sent = self._sent.get(number)
            if (sent[0] if sent else None) == wanted:
                continue
            busy = self._busy.get(number)
            if busy is not None and not busy.done():
                continue  # the next sweep looks again once this device's last change is sent
            self._busy[number] = asyncio.get_running_loop().create_task(self._send(number, wanted))

    async def _after(self, busy: asyncio.Task[None] | None, key: object) -> None:
        if busy is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await busy
        await self._send(key, None)

    async def _send(self, number: object, wanted: Announcement | None) -> None:
        """Goodbyes for what the device announced, then its new announcement. Each step waits for its
        packets to go out: an announcement still being repeated after a goodbye would bring the
        device back in every browser."""
        assert self.zeroconf is not None
        sent = self._sent.pop(number, None)
        if sent is not None:
            await asyncio.gather(*(self._goodbye(info) for info in sent[1]))
        if wanted is None:
            return
        infos = wanted.infos()
        self._sent[number] = (wanted, infos)
        await asyncio.gather(*(self._announce(info) for info in infos))

    async def _goodbye(self, info: AsyncServiceInfo) -> None:
        assert self.zeroconf is not None
        await (await self.zeroconf.async_unregister_service(info))  # TTL 0, sent three times

    async def _announce(self, info: AsyncServiceInfo) -> None:
        assert self.zeroconf is not None
        try:
            await (await self.zeroconf.async_register_service(info, cooperating_responders=True))
        except NonUniqueNameException:
            LOG.warning("mDNS name %s is taken on this network", info.name)

    async def stop(self) -> None:
        """Goodbye for every device, then close the sockets."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in self._busy.values():
            task.cancel()
        await asyncio.gather(*self._busy.values(), *self._leaving, return_exceptions=True)
        for device in self._watched.values():
            with contextlib.suppress(ValueError):
                device.on_change.remove(self.wake)
        self._watched.clear()
        if self.zeroconf is not None:
            await self.zeroconf.async_unregister_all_services()
            await self.zeroconf.async_close()
            self.zeroconf = None
        self._sent.clear()


_shared: MdnsResponder | None = None
_members: set[object] = set()


async def join(key: object, source: Source) -> MdnsResponder:
    """The process's responder (started by the first device that joins) follows this device too."""
    global _shared
    if _shared is None:
        _shared = MdnsResponder()
        await _shared.start()
    _members.add(key)
    _shared.add(key, source)
    return _shared


async def leave(key: object) -> None:
    """The device's goodbye; the last device to leave closes the responder."""
    global _shared
    if _shared is None or key not in _members:
        return
    _members.discard(key)
    await _shared.remove(key)
    if not _members:
        responder, _shared = _shared, None
        await responder.stop()
