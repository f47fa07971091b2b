"""Each device connection with the manners of the device's Apache: its timeouts, its Server
header, its pages for requests that cannot be parsed, and a client's faults logged as one line.

aiohttp's RequestHandler does the HTTP; DeviceProtocol adds what it lacks (a request-header
deadline) and routes its error paths to Apache's pages and to quiet log lines. A device's
connections start as LeanConnections (axisim/lean_connection.py), which hand a connection to a
DeviceProtocol when a request needs aiohttp's handler; axisim/device_runner.py picks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from email.utils import formatdate
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from cgi_handlers.apache_pages import APACHE_PAGES, apache_page

from .device import Device

LOG = logging.getLogger("axisim")
SERVER_HEADER = "Apache"  # ServerTokens Prod: AXIS OS 10.6+ can hide Apache's version (a guess, see README)
KEEPALIVE_TIMEOUT = 5.0  # Apache's KeepAliveTimeout default: an idle keep-alive connection is closed
HEADER_TIMEOUT = 20.0  # mod_reqtimeout's default header=20-40: request headers complete within 20 s, else 408
CLIENT_BODY_FAULTS = (HttpProcessingError, RequestPayloadError)  # how aiohttp reports a body it cannot read

REQUEST_TIMEOUT_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>408 Request Timeout</title>\n'
    b"</head><body>\n<h1>Request Timeout</h1>\n<p>Server timeout waiting for the HTTP request from the client.</p>\n"
    b"</body></html>\n"
)


def request_timeout_reply(server: str) -> bytes:
    head = (
        f"HTTP/1.1 408 Request Timeout\r\nDate: {formatdate(usegmt=True)}\r\nServer: {server}\r\n"
        f"Content-Length: {len(REQUEST_TIMEOUT_PAGE)}\r\nConnection: close\r\n"
        "Content-Type: text/html; charset=iso-8859-1\r\n\r\n"
    )
    return head.encode("ascii") + REQUEST_TIMEOUT_PAGE


class DeviceProtocol(RequestHandler):
    """aiohttp's connection handler with the manners of the device's Apache.

    - Between requests, aiohttp's keep-alive timer closes an idle connection (KeepAliveTimeout).
    - From the connection's start, and from the first byte of each later request, the request
      headers are due within `header_timeout` (mod_reqtimeout): else 408 (when some of the request
      came) and the connection closes. aiohttp has no such deadline: a slowloris client would hold
      its connection for ever.
    - Every reply carries the device's Server header, aiohttp's own 400s included.
    - A malformed request is the client's fault: one log line, never a traceback.
    - A request body's Content-Encoding is not decoded: Apache inflates request bodies only where
      an input DEFLATE filter is configured (off by default), so the CGI reads the bytes as sent
      and a compressed form is not a form. (aiohttp would inflate it while parsing, unbounded,
      and refuse a broken stream before the method is known.)"""

    __slots__ = ("_device", "_header_bytes", "_header_handle", "_header_timeout", "_server_header")

    def __init__(
        self, manager: web.Server, *, header_timeout: float = HEADER_TIMEOUT, server_header: str = SERVER_HEADER,
        device: Device | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(manager, **{**kwargs, "auto_decompress": False})
        self._device = device  # whose firewall (`packet_filter`) sees each new connection; None: the control API
        self._server_header = server_header
        self._header_timeout = header_timeout
        self._header_handle: asyncio.TimerHandle | None = None
        self._header_bytes = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        device = self._device
        if device is not None and device.packet_filter is not None and not admitted(device, transport):
            transport.abort()  # the device's firewall drops it: no answer, as a real DROP
            return
        self._start_header_clock()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._messages:  # the headers are complete (or refused with a 400)
            self._stop_header_clock()
        elif data:  # part of a request: its first bytes when the connection was idle
            self._header_bytes = True
            if self._header_handle is None and self._idle():
                self._start_header_clock()

    def close_when_answered(self) -> None:
        """Its listener is going (a port moved): a request under way or already received is answered,
        then the connection closes; an idle one closes now (aiohttp ignores data once closing)."""
        if self._request_in_progress or self._messages:
            self.close()
        else:
            self.force_close()

    def accept_handed(
        self, transport: asyncio.Transport, messages: list[Any], upgraded: bool, tail: bytes
    ) -> None:
        """Take over a connection a LeanConnection (axisim/lean_connection.py) has read so far: its
        parsed, unanswered requests (the first is one only aiohttp's handler serves: an upgrade, or
        one the parser refused) and what came after an upgrade request, as if this handler had read
        them itself."""
        self.connection_made(transport)
        if self.transport is None:  # the firewall dropped it
            return
        transport.set_protocol(self)
        for message in messages:
            self._request_count += 1
            self._messages.append(message)
        self._upgraded, self._message_tail = upgraded, tail
        self._stop_header_clock()

    def _idle(self) -> bool:
        return self._waiter is not None and not self._waiter.done()

    def _start_header_clock(self) -> None:
        if self._keepalive_handle is not None:  # the header deadline governs until the request is in
            self._keepalive_handle.cancel()
            self._keepalive_handle = None
        self._header_handle = self._loop.call_later(self._header_timeout, self._header_timed_out)

    def _stop_header_clock(self) -> None:
        if self._header_handle is not None:
            self._header_handle.cancel()
            self._header_handle = None
        self._header_bytes = False

    def _header_timed_out(self) -> None:
        self._header_handle = None
        if self.transport is None or self._force_close or self._messages or not self._idle():
            return
        if self._header_bytes:
            self.transport.write(request_timeout_reply(self._server_header))
        LOG.debug("%s: no complete request within %g s, connection closed", self._peer(), self._header_timeout)
        self.force_close()

    def _peer(self) -> str:
        return peer_host(self.transport.get_extra_info("peername") if self.transport is not None else None)

    def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> Coroutine[Any, Any, tuple[web.StreamResponse, bool]]:
        """Every reply leaves through here, so the Server header is set here, once. Not a coroutine
        itself: it hands back aiohttp's, one coroutine less per reply."""
        if (type(resp) is web.Response or isinstance(resp, web.StreamResponse)) and not resp.prepared:
            resp.headers["Server"] = self._server_header
        return super().finish_response(request, resp, start_time)

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        """A request aiohttp refuses before any handler (bad request line, headers, framing):
        Apache's page for the status, and one log line."""
        if status not in APACHE_PAGES:
            return super().handle_error(request, status, exc, message)
        LOG.info("%s: bad request refused with %d (%s)", self._peer(), status, one_line(exc) if exc else message)
        if request.writer.output_size > 0:
            raise ConnectionError("the reply had begun; the connection is dropped")
        response = apache_page(status)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """A body aiohttp cannot read after the reply (its lingering read), or a client gone mid-reply:
        the client's fault, already answered, so a debug line. Anything else is a fault of the
        simulator and keeps its traceback."""
        exc = kw.get("exc_info")
        if isinstance(exc, (*CLIENT_BODY_FAULTS, ConnectionError)):
            LOG.debug("%s: %s after the reply (%s)", self._peer(), type(exc).__name__, one_line(exc))
            return
        super().log_exception(*args, **kw)


def one_line(exc: BaseException) -> str:
    """An exception as a short single line for the log (aiohttp's messages span lines)."""
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return text[:200]


def peer_host(peername: object) -> str:
    """A connection's client address for a log line ("-" when the transport has none)."""
    return str(peername[0]) if isinstance(peername, tuple) and peername else "-"


def admitted(device: Device, transport: asyncio.BaseTransport) -> bool:
    """Whether the device's firewall passes a connection (its peer, to its local port)."""
    packet_filter = device.packet_filter
    peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
    if packet_filter is None or not isinstance(peer, tuple) or not isinstance(local, tuple):
        return True
    return packet_filter(str(peer[0]), int(local[1]))


class _AcceptLimit(logging.Filter):
    """asyncio logs a traceback each second per listener while the process is out of file
    descriptors ("socket.accept() out of system resource"): keep one warning line a minute."""

    INTERVAL = 60.0

    def __init__(self) -> None:
        super().__init__()
        self._last = -self.INTERVAL

    def filter(self, record: logging.LogRecord) -> bool:
        if self._closed_while_retrying(record):
            return False
        if not str(record.msg).startswith("socket.accept() out of system resource"):
            return True
        now = time.monotonic()
        if now - self._last < self.INTERVAL:
            return False
        self._last = now
        record.msg = (
            "out of open files: new connections wait until some close (idle ones close after the keep-alive "
            "timeout); raise the limit with ulimit -n"
        )
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

    @staticmethod
    def _closed_while_retrying(record: logging.LogRecord) -> bool:
        """The accept retry asyncio scheduled after running out of files, firing after the listener closed
        (a device stopping, SIGTERM): "Invalid file descriptor: -1", nothing to say."""
        error = record.exc_info[1] if record.exc_info else None
        return (
            isinstance(error, ValueError) and "_start_serving" in str(record.msg) and "file descriptor" in str(error)
        )


ACCEPT_LIMIT = _AcceptLimit()


def quiet_accept_errors() -> None:
    """Install the filter on asyncio's logger once (idempotent)."""
    logger = logging.getLogger("asyncio")
    if ACCEPT_LIMIT not in logger.filters:
        logger.addFilter(ACCEPT_LIMIT)
