"""`DeviceSite`: one listener of a device's aiohttp application, bound the way a fleet of thousands
can afford.

aiohttp's `TCPSite` asks asyncio's `create_server` to resolve the host, make the socket, set
SO_REUSEADDR and bind. Two costs grow with a fleet: asyncio's path costs about twice a pre-bound
socket's, and Linux's search for a free port (port 0) with SO_REUSEADDR already set slows past
about 7,000 bound sockets, to 1.5 ms a bind at 10,000 (10 µs without it). So the socket is made
here, a free port is found without SO_REUSEADDR and the option set right after the bind: the
listener (and every connection it accepts) ends up as asyncio would make it, and a restart binding
the same port again while old connections sit in TIME_WAIT still can. A host that is not an
address literal (a name, "" for every interface) goes through asyncio as before.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from ssl import SSLContext

from aiohttp import web

BACKLOG = 128  # aiohttp's TCPSite default


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def bound_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to an address literal and `port` (0: a free port), with SO_REUSEADDR
    (and IPV6_V6ONLY for IPv6) as asyncio sets them. OSError worded as asyncio words it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            where = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
            raise OSError(
                exc.errno, f"error while attempting to bind on address {where!r}: {(exc.strerror or '').lower()}"
            ) from None
        if not port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class DeviceSite(web.BaseSite):
    """A TCP listener of a runner's server on host:port (0: a free port); `port` is the bound one
    once started. The same object as aiohttp's TCPSite to its runner."""

    __slots__ = ("_bound_port", "_host", "_port")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, ssl_context: SSLContext | None = None) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=BACKLOG)
        self._host = host
        self._port = port
        self._bound_port: int | None = None

    @property
    def port(self) -> int:
        return self._bound_port if self._bound_port is not None else self._port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host or "0.0.0.0"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        if not _literal(self._host):
            self._server = await loop.create_server(
                server, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog, reuse_address=True
            )
        else:
            sock = bound_socket(self._host, self._port)
            try:
                self._server = await loop.create_server(server, sock=sock, ssl=self._ssl_context, backlog=self._backlog)
            except BaseException:
                sock.close()
                raise
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
