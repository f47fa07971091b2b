"""The AppRunner behind every device listener and the control API, and the one place that picks
which protocol serves a new connection.

A device's connections are LeanConnections (axisim/lean_connection.py), which hand a connection
to a DeviceProtocol (axisim/connection.py) when a request needs aiohttp's own handler (an
upgrade, a request the parser refused). The control API, and every device when `AXISIM_HTTP=aiohttp`
is set, get DeviceProtocols from the start: the switch is there to compare the two
(`python3 -m bench.where`) and to rule the lean path out when a client misbehaves."""

from __future__ import annotations

import logging
import os

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from cgi_handlers.request_context import DEVICE_KEY

from .connection import DeviceProtocol
from .device import Device
from .lean_connection import LeanConnection

LOG = logging.getLogger("axisim")
LEAN = os.environ.get("AXISIM_HTTP", "lean").strip().lower() != "aiohttp"


class _DeviceServer(web.Server):
    """aiohttp's low-level server making the connections of a device (or of the control API)."""

    device: Device | None = None

    def __call__(self) -> RequestHandler:
        if self.device is not None and LEAN:
            try:
                return LeanConnection(self, loop=self._loop, device=self.device, **self._kwargs)  # type: ignore[return-value]
            except Exception:  # asyncio would drop the connection without a word: say why, serve it anyway
                LOG.exception("cannot make a lean connection; aiohttp's handler serves it")
        return self.handover()

    def handover(self) -> DeviceProtocol:
        """aiohttp's handler with the device's manners (LeanConnection hands connections to one)."""
        return DeviceProtocol(self, loop=self._loop, device=self.device, **self._kwargs)


class DeviceRunner(web.AppRunner):
    """An AppRunner whose connections are the device's (kwargs: keepalive_timeout, header_timeout,
    server_header, ...). The control API uses it too, with its own Server header: the same limits
    and quiet refusals of malformed requests."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _DeviceServer  # the same server, with the methods that pick the protocol
        assert isinstance(server, _DeviceServer)
        server.device = self.app.get(DEVICE_KEY)  # a device's application (the control API's has none)
        return server
