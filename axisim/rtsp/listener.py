"""A device's RTSP listener: binds the first port it can of those it is given (554, then the
remapped one), keeps its connections, and closes them all (their sessions journaled with why)
when the device restarts, loses power, goes off the network or the simulator stops."""

from __future__ import annotations

import asyncio
import errno

from cgi_handlers.event_metadata import producer_address
from cgi_handlers.streams import StreamHooks

from ..device import Device
from ..lifecycle import State
from .connection import PRESENTATION, RtspConnection

SESSION_TIMEOUT = 60.0  # seconds, as `Session: <id>;timeout=60` says (events.md §3.3)
MAX_CONNECTIONS = 64  # per device; more are closed at once


class RtspListenError(OSError):
    """No port of those tried could be bound; `describe()` says which and why."""

    def __init__(self, cause: OSError, host: str, ports: tuple[int, ...]) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.host, self.ports = host, ports

    @property
    def in_use(self) -> bool:
        return self.errno == errno.EADDRINUSE

    def describe(self) -> str:
        tried = " or ".join(str(p) for p in self.ports)
        where = f"[{self.host}]" if ":" in self.host else self.host
        if self.in_use:
            return f"RTSP port {tried} is in use on {where}"
        return f"cannot listen for RTSP on {where}:{tried}: {self.strerror}"


class RtspServer:
    def __init__(
        self, device: Device, host: str, ports: tuple[int, ...], hooks: StreamHooks,
        session_timeout: float = SESSION_TIMEOUT,
    ) -> None:  # fmt: skip
        self.device = device
        self.host = host
        self.ports = ports  # tried in order; once one is bound, the device keeps it across restarts
        self.port: int | None = None
        self.hooks = hooks
        self.session_timeout = session_timeout
        self.producer = producer_address(device.serial)
        self._server: asyncio.Server | None = None
        self._connections: set[RtspConnection] = set()

    def url(self, host: str | None = None) -> str:
        """The event stream's URL (no port when it is 554, as the `axis` library writes it)."""
        name = host or self.host
        name = f"[{name}]" if ":" in name else name
        port = "" if self.port in (None, 554) else f":{self.port}"
        return f"rtsp://{name}{port}{PRESENTATION}?video=0&audio=0&event=on"

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Listen on the first port that can be had; RtspListenError when none can."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for port in self.ports:
            try:
                self._server = await loop.create_server(
                    lambda: RtspConnection(self), self.host, port, reuse_address=True
                )  # fmt: skip
            except OSError as exc:
                failure = exc
                continue
            self.port = self._server.sockets[0].getsockname()[1]
            self.ports = (self.port,)
            return
        assert failure is not None
        raise RtspListenError(failure, self.host, self.ports)

    def admit(self, connection: RtspConnection) -> bool:
        if len(self._connections) >= MAX_CONNECTIONS:
            return False
        self._connections.add(connection)
        return True

    def forget(self, connection: RtspConnection) -> None:
        self._connections.discard(connection)

    @property
    def sessions(self) -> int:
        return sum(1 for c in self._connections if c.stream is not None)

    async def stop(self, reason: str | None = None) -> None:
        """Stop listening and close every connection and session (`reason`, or what the device's state
        says: restarting, powered off, off the network)."""
        why = reason or self._why()
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for connection in list(self._connections):
            connection.end_stream(why)
            if connection.transport is not None:
                connection.transport.abort()
        self._connections.clear()
        if server is not None:
            await server.wait_closed()

    def _why(self) -> str:
        state = self.device.lifecycle.state
        if state is State.OFFLINE:
            return "device restarting"
        if state is State.OFF:
            return "device powered off"
        return "device off the network"
