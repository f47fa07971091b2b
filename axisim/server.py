"""Binds one device's listeners (HTTP, HTTPS with its certificate) and brings them down and up
again as the device reboots or loses power; the application they serve is axisim.pipeline's.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from dataclasses import dataclass, field

from aiohttp import web

from .access_policy import HTTP_PORT, HTTPS_ENABLED, HTTPS_PORT, RTSP_ENABLED, RTSP_PORT
from .connection import HEADER_TIMEOUT, KEEPALIVE_TIMEOUT, quiet_accept_errors
from .control.faults import Faults
from .control.journal import Journal
from .control.stream_hooks import STREAM_HOOKS_KEY
from .device import Device
from .device_runner import DeviceRunner
from .https_certificates import Certificates
from .lifecycle import State
from .listen_site import DeviceSite
from .listener_moves import ListenerMoves, close_site
from .mqtt_link import MqttLink
from .persistence import StateDir
from .pipeline import build_app
from .rtsp import RtspServer
from .tls import Certificate, CertificateError

LOG = logging.getLogger("axisim")
HTTPS_OFFSET = 363  # a device's default HTTPS port follows its HTTP port (8080 -> 8443), so neighbours never collide


class ListenError(OSError):
    """A listener that could not bind: which one (HTTP or HTTPS), where, and why."""

    def __init__(self, cause: OSError, host: str, port: int, https: bool) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.host, self.port, self.https = host, port, https

    @property
    def in_use(self) -> bool:
        return self.errno == errno.EADDRINUSE

    def describe(self) -> str:
        """`port 8443 is in use` or `cannot listen on 10.0.0.9:80: Permission denied`."""
        if self.in_use:
            return f"port {self.port} is in use" if self.port else "no free port"
        where = f"[{self.host}]" if ":" in self.host else self.host
        return f"cannot listen on {where}:{self.port}: {self.strerror}"


@dataclass
class RunningDevice:
    """A device with its HTTP and (unless turned off) HTTPS listeners, which its reboots close and
    reopen, and which follow its settings (HTTPS.Enabled, the ports: axisim/listener_moves.py)."""

    device: Device
    runner: web.AppRunner
    host: str
    port: int
    https_port: int | None = None  # where HTTPS listens while HTTPS.Enabled (None: started without HTTPS)
    certificates: Certificates | None = None
    reachable: bool = True  # False: the control API took it off the network (listeners closed)
    rtsp: RtspServer | None = None  # the RTSP event stream's listener, when the device serves one
    mqtt: MqttLink | None = None  # the device's MQTT connection (axisim/mqtt_link.py), if it has a client
    moves: ListenerMoves | None = None  # the listeners following the device's settings
    state: StateDir | None = None  # where a certificate made later (HTTPS turned on) is kept
    sites: dict[bool, DeviceSite] = field(default_factory=dict)  # by secure: HTTP (False), HTTPS (True)
    _cycle_task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host_text}:{self.port}"

    @property
    def https_listening(self) -> bool:
        return True in self.sites

    @property
    def https_url(self) -> str | None:
        """None while the device serves no HTTPS (started without it, or HTTPS.Enabled=no)."""
        if self.https_port is None or (self.sites and not self.https_listening):
            return None
        return f"https://{self._host_text}:{self.https_port}"

    @property
    def _host_text(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def _https_wanted(self) -> bool:
        return self.https_port is not None and self.device.param(HTTPS_ENABLED, "yes") != "no"

    async def listen(self, port: int, secure: bool) -> DeviceSite:
        """One listener of the device's application; ListenError when the port cannot be had."""
        context = None
        if secure:
            if self.certificates is None:  # started without HTTPS, turned on by HTTPS.Enabled
                self.certificates = Certificates(self.device, None, self.state)
                self.device.on_factory_default.append(lambda _kind: self._renew())
            context = self.certificates.context
        site = DeviceSite(self.runner, self.host, port, ssl_context=context)
        try:
            await site.start()
        except OSError as exc:
            raise ListenError(exc, self.host, port, https=secure) from exc
        return site

    def _renew(self) -> None:
        if self.certificates is not None:
            self.certificates.renew()

    async def _bind(self) -> None:
        """Both listeners or neither; ListenError names the one that failed. HTTPS only while
        HTTPS.Enabled says so."""
        http = await self.listen(self.port, secure=False)
        self.port = http.port
        self.sites = {False: http}
        if self._https_wanted:
            assert self.https_port is not None
            try:
                https = await self.listen(self.https_port, secure=True)
            except (OSError, CertificateError):
                await http.stop()
                self.sites = {}
                raise
            self.https_port = https.port
            self.sites[True] = https
        if self.rtsp is not None and self.device.param(RTSP_ENABLED, "yes") != "no":
            try:
                await self.rtsp.start()
            except OSError:
                for site in self.sites.values():
                    await site.stop()
                self.sites = {}
                raise
        self.publish_ports()

    def publish_ports(self) -> None:
        """The parameters report the real ports (device-fixed values, so a saved or reset value
        never names a port nothing listens on)."""
        ports = {HTTP_PORT: str(self.port)}
        if self.https_port is not None:
            ports[HTTPS_PORT] = str(self.https_port)
        if self.rtsp is not None and self.rtsp.port is not None:
            ports[RTSP_PORT] = str(self.rtsp.port)
        ports = {k: v for k, v in ports.items() if k in self.device.params}
        self.device.params.set_base(ports)
        if not self.https_listening:  # an HTTPS port set while HTTPS is off stays set
            ports.pop(HTTPS_PORT, None)
        if self.rtsp is None or not self.rtsp.listening:  # the same for RTSP
            ports.pop(RTSP_PORT, None)
        self.device.params.set_values(ports)  # equal to the base: any stored value goes

    async def _unbind(self) -> None:
        if self.rtsp is not None:
            await self.rtsp.stop()  # its sessions close: restarting, powered off, off the network
        for site in self.sites.values():
            await close_site(site)
        self.sites = {}
        if self.runner.server is not None:
            await self.runner.server.shutdown(timeout=2)  # keep-alive connections close too

    def _schedule_cycle(self) -> None:
        self._cycle_task = asyncio.get_running_loop().create_task(self._cycle())

    def _schedule_power(self, on: bool) -> None:
        """Power lost: a running boot stops and the listeners go down; power back: the device
        boots once the listeners are down (a brief glitch is a full power cycle)."""
        previous = self._cycle_task

        async def run() -> None:
            if previous is not None and not previous.done():
                if not on:
                    previous.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await previous
            await (self._come_back() if on else self._unbind())

        self._cycle_task = asyncio.get_running_loop().create_task(run())

    async def _cycle(self) -> None:
        """Offline for the boot time, back with a new boot id, ready after the booting time."""
        await self._unbind()
        await self._come_back()

    async def _come_back(self) -> None:
        times = self.device.lifecycle.times
        await asyncio.sleep(times.offline_seconds)
        self.device.boot()
        if self.moves is not None:
            self.moves.adopt()  # a port change not yet applied: the restart binds there
        while self.reachable:
            try:
                await self._bind()
                break
            except OSError:  # the port is briefly taken by someone else: keep trying, as a device would
                LOG.warning("%s: port busy while coming back, retrying", self.device.serial)
                await asyncio.sleep(0.5)
        await asyncio.sleep(times.booting_seconds)
        self.device.ready()

    async def set_reachable(self, reachable: bool) -> None:
        """Off the network (connections refused, the device runs on) or back on it."""
        if reachable == self.reachable:
            return
        self.reachable = reachable
        if self.mqtt is not None:
            self.mqtt.set_reachable(reachable)  # its broker connection drops (last will) or comes back
        if not reachable:
            await self._unbind()
        elif not self.sites and self.device.lifecycle.state in (State.READY, State.BOOTING):
            await self._bind()  # otherwise the running restart or the next power-on binds

    async def wait_ready(self, timeout: float = 30.0) -> bool:
        """Wait until a running restart cycle has finished."""
        task = self._cycle_task
        if task is None or task.done():
            return self.device.lifecycle.is_ready
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout)
        return self.device.lifecycle.is_ready

    async def stop(self) -> None:
        if self._cycle_task is not None:
            self._cycle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cycle_task
        self.device.lifecycle.cycle = None
        self.device.lifecycle.power = None
        if self.rtsp is not None:
            await self.rtsp.stop("simulator stopped")
        if self.mqtt is not None:
            await self.mqtt.close()
        await self.runner.cleanup()


async def start_device(
    device: Device,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    https_port: int | None = 0,
    certificate: Certificate | None = None,
    state: StateDir | None = None,
    access_log: bool = False,
    journal: Journal | None = None,
    faults: Faults | None = None,
    keepalive_timeout: float = KEEPALIVE_TIMEOUT,
    header_timeout: float = HEADER_TIMEOUT,
    rtsp_ports: tuple[int, ...] = (),
) -> RunningDevice:
    """Bind the device on host:port and host:https_port (0 = a free port, None = no HTTPS), and its
    RTSP event stream on the first of `rtsp_ports` that can be had (none: no RTSP), inside the
    running event loop. Idle connections close after `keepalive_timeout` seconds;
    request headers are due within `header_timeout` seconds (Apache's defaults).
    ListenError when a port cannot be had."""
    quiet_accept_errors()
    app = build_app(device, journal, faults)
    runner = DeviceRunner(
        app, access_log=LOG if access_log else None, shutdown_timeout=2, keepalive_timeout=keepalive_timeout,
        header_timeout=header_timeout, server_header=device.model.quirks.server_header,
    )  # fmt: skip
    await runner.setup()
    certificates = Certificates(device, certificate, state) if https_port is not None else None
    running = RunningDevice(device, runner, host, port, https_port, certificates, state=state)
    if https_port is None and HTTPS_ENABLED in device.params:  # started without HTTPS: the setting says so
        device.params.set_base({HTTPS_ENABLED: "no"})
        device.params.set_values({HTTPS_ENABLED: "no"})
    if not rtsp_ports and RTSP_ENABLED in device.params:  # started without RTSP: likewise
        device.params.set_base({RTSP_ENABLED: "no"})
        device.params.set_values({RTSP_ENABLED: "no"})
    if rtsp_ports:
        running.rtsp = RtspServer(device, host, rtsp_ports, app[STREAM_HOOKS_KEY])
    try:
        await running._bind()
    except (OSError, CertificateError):
        await runner.cleanup()
        raise
    if certificates is not None:
        device.on_factory_default.append(lambda _kind: certificates.renew())
    device.lifecycle.cycle = running._schedule_cycle
    device.lifecycle.power = running._schedule_power
    running.moves = ListenerMoves(running)
    running.moves.attach()
    running.mqtt = MqttLink.attach(device, faults)
    return running
