"""A running device's listeners follow its settings: `System.BoaPort`, `HTTPS.Port`,
`HTTPS.Enabled`, `Network.RTSP.Port` and `Network.RTSP.Enabled`.

Every manual, Network > "HTTP and HTTPS": the HTTP port is 80 or 1024-65535 (1-1023 for an
administrator), the HTTPS port likewise. A change the simulator cannot serve (the port is taken,
by another program or by another of the device's listeners, or the address refuses it) is refused
before the reply, with param.cgi's usual error line, and nothing changes. A change it can serve is
answered first and then applied, as the device's web server restarts after answering: the new
listener opens, the old one closes, and the old port's connections close once their request is
answered. The parameters always name where the device listens (`RunningDevice.publish_ports`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING

from .access_policy import (
    HTTP_PORT,
    HTTPS_ENABLED,
    HTTPS_PORT,
    RTSP_ENABLED,
    RTSP_PORT,
    Listeners,
    moved,
    port_of,
)
from .connection import DeviceProtocol
from .lean_connection import LeanConnection
from .lifecycle import State
from .logs import Severity

if TYPE_CHECKING:
    from .listen_site import DeviceSite
    from .server import RunningDevice

LOG = logging.getLogger("axisim")


def can_listen(host: str, port: int) -> bool:
    """Whether a listener could bind host:port now (as aiohttp's would: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def close_site(site: DeviceSite) -> None:
    """Stop accepting, let the connections already accepted attach, then close the listener.
    Python 3.11's `Server.close()` between an accept and its transport leaks that connection
    (`Server._attach` asserts), and its client hangs; stopping the reader first closes the window."""
    listener = site._server  # aiohttp keeps the asyncio.Server private
    if listener is not None:
        loop = asyncio.get_running_loop()
        for sock in listener.sockets:
            loop.remove_reader(sock.fileno())
        await asyncio.sleep(0)  # the accepted connections' transports are made on the next turn
        await asyncio.sleep(0)
    await site.stop()


class ListenerMoves:
    """The veto (before the reply) and the move (after it) of one running device's listeners."""

    def __init__(self, running: RunningDevice) -> None:
        self.running = running
        self._task: asyncio.Task[None] | None = None

    def attach(self) -> None:
        device = self.running.device
        device.vetoes.append(self.refused)
        device.on_change.append(self.follow)

    # -- the settings ------------------------------------------------------------

    def wanted(self, applied: dict[str, str] | None = None) -> Listeners:
        device = self.running.device
        changes = applied or {}
        return Listeners.read(
            lambda name, default: changes.get(name) or device.param(name, default), device.params.__contains__
        )

    def current(self) -> Listeners:
        running = self.running
        rtsp = running.rtsp.port if running.rtsp is not None and running.rtsp.listening else None
        return Listeners(running.port, running.https_port if running.https_listening else None, rtsp)

    def refused(self, applied: dict[str, str]) -> list[str]:
        """The listener settings of `applied` the simulator cannot serve (Device.vetoes)."""
        if not moved(applied):
            return []
        wanted, now = self.wanted(applied), self.current()
        refused = set(wanted.clashes())
        host = self.running.host
        if wanted.http != now.http and not can_listen(host, wanted.http):
            refused.add(HTTP_PORT)
        if wanted.https is not None and wanted.https != now.https and not can_listen(host, wanted.https):
            refused.update((HTTPS_PORT, HTTPS_ENABLED))
        if wanted.rtsp and wanted.rtsp != now.rtsp and not can_listen(host, wanted.rtsp):
            refused.update((RTSP_PORT, RTSP_ENABLED))
        if wanted.rtsp is not None and self.running.rtsp is None:
            refused.update((RTSP_PORT, RTSP_ENABLED))  # started without RTSP (Enabled=no): nothing to open
        return [name for name in applied if name in refused]

    # -- the move ----------------------------------------------------------------------

    def follow(self) -> None:
        """Device.on_change: when the settings name other ports than the listeners', move them
        (after the reply under way). A device restarting binds where its settings say instead."""
        running = self.running
        if not running.sites or running.device.lifecycle.state is not State.READY:
            return
        if self._task is not None and not self._task.done():
            return  # the move under way reads the settings once more when it ends
        if self.wanted() != self.current():
            self._task = asyncio.get_running_loop().create_task(self._move())

    def adopt(self) -> None:
        """Before a restart binds: the ports the settings name (a change not yet applied; an HTTPS
        port set while HTTPS is off is where it opens once on)."""
        wanted, running = self.wanted(), self.running
        running.port = wanted.http
        https = port_of(running.device.param(HTTPS_PORT, ""))
        if https and (running.https_port is not None or wanted.https is not None):
            running.https_port = https
        if wanted.rtsp and running.rtsp is not None:
            running.rtsp.ports = (wanted.rtsp,)

    async def _move(self) -> None:
        for _ in range(3):  # settings changed again during a move: follow them (bounded)
            wanted = self.wanted()
            if wanted == self.current() or not self.running.sites:
                return
            await self._move_http(wanted.http)
            await self._move_https(wanted.https)
            await self._move_rtsp(wanted.rtsp)
            self.running.publish_ports()

    async def _move_http(self, port: int) -> None:
        running = self.running
        if port == running.port:
            return
        old = running.sites.get(False)
        try:
            site = await running.listen(port, secure=False)
        except OSError as exc:
            self._failed(HTTP_PORT, str(running.port), exc)
            return
        running.sites[False], running.port = site, port
        if old is not None:
            await self._close(old)

    async def _move_https(self, port: int | None) -> None:
        running = self.running
        old = running.sites.get(True)
        if port == (running.https_port if old is not None else None):
            return
        site = None
        if port is not None:
            try:
                site = await running.listen(port, secure=True)
            except Exception as exc:  # a port taken since, or a certificate that cannot be made
                if old is None:
                    self._failed(HTTPS_ENABLED, "no", exc)
                else:
                    self._failed(HTTPS_PORT, str(running.https_port), exc)
                return
            running.sites[True], running.https_port = site, port
        else:
            running.sites.pop(True, None)
        if old is not None:
            await self._close(old)

    async def _move_rtsp(self, port: int | None) -> None:
        """Reopen the RTSP listener on `port` (None or 0: Network.RTSP.Enabled=no, close it)."""
        rtsp = self.running.rtsp
        if rtsp is None or (port == rtsp.port and rtsp.listening):
            return
        was, listening = rtsp.ports, rtsp.listening
        if listening:
            await rtsp.stop("port changed" if port else "RTSP disabled")
        if not port:
            return
        rtsp.ports = (port,)
        try:
            await rtsp.start()
        except OSError as exc:
            rtsp.ports = was
            if not listening:
                self._failed(RTSP_ENABLED, "no", exc)
                return
            with contextlib.suppress(OSError):
                await rtsp.start()
            self._failed(RTSP_PORT, str(rtsp.port), exc)

    async def _close(self, site: DeviceSite) -> None:
        """Stop listening on the old port, then close its connections once their request is answered."""
        old_port = site.port
        await close_site(site)
        server = self.running.runner.server
        if server is None:
            return
        for connection in server.connections:
            if not isinstance(connection, (DeviceProtocol, LeanConnection)):
                continue
            if _local_port(connection.transport) == old_port:
                connection.close_when_answered()

    def _failed(self, name: str, value: str, exc: BaseException) -> None:
        """A port taken between the check and the move: the setting goes back, the log says why."""
        device = self.running.device
        if name in device.params:
            device.params.set_values({name: value})
        device.logs.system.write(Severity.WARNING, "httpd", f"Could not apply {name}: {exc}")
        LOG.warning("%s: could not apply %s: %s", device.serial, name, exc)


def _local_port(transport: asyncio.BaseTransport | None) -> int | None:
    name = transport.get_extra_info("sockname") if transport is not None else None
    return name[1] if isinstance(name, tuple) and len(name) > 1 else None
