"""A device connection that serves plain requests with less of aiohttp around each one.

aiohttp's RequestHandler keeps a task per connection looping on a future per parsed message, and
wraps each request in a second task and a chain of coroutines; on this machine that is ~20 µs of
every request (`python3 -m bench.where`, "without lean"). LeanConnection keeps every part that
makes the reply what it is: aiohttp's C parser with the same limits, the application's Request
(`request_factory`), its handler (router, pipeline), and aiohttp's own `prepare`/`write_eof`
through aiohttp's StreamWriter, so the bytes on the wire are the ones aiohttp would write. What it
drops is the loop: a parsed message starts its request's task from `data_received`.

What it does not serve itself it hands over, with the connection, to DeviceProtocol
(axisim/connection.py): a request asking for an upgrade (the event WebSocket) and a request the
parser refused (Apache's 400 page), with whatever follows them on the connection. From then on
aiohttp's handler owns that connection, exactly as if it had owned it from the start.

It keeps DeviceProtocol's manners: the firewall at accept, the request-header deadline with its
408 page, the keep-alive timeout, the Server header on every reply, requests answered in order,
a body left unread drained after the reply (aiohttp's lingering), and the runner's shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import hdrs, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.helpers import ceil_timeout, rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpRequestParser, HttpVersion10, HttpVersion11, StreamWriter
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_writer import _serialize_headers
from aiohttp.log import access_logger as aiohttp_access_logger
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.tcp_helpers import tcp_keepalive
from aiohttp.web_log import AccessLogger
from aiohttp.web_protocol import _PAYLOAD_ACCESS_ERROR, RequestPayloadError, _ErrInfo

from .connection import (
    HEADER_TIMEOUT,
    KEEPALIVE_TIMEOUT,
    SERVER_HEADER,
    admitted,
    peer_host,
    request_timeout_reply,
)  # fmt: skip

if TYPE_CHECKING:
    from aiohttp.http_parser import RawRequestMessage
    from aiohttp.web_protocol import RequestHandler

    from .device import Device

LOG = logging.getLogger("axisim")
QUEUE_LIMIT = 32  # pipelined requests parsed ahead of their answers before reading pauses (aiohttp's limit)
_IDLE, _KEEPALIVE, _HEADERS = 0, 1, 2  # what the connection's one timer is counting down to
SWITCHING_UPGRADES = frozenset({"websocket"})  # aiohttp's ALLOWED_UPGRADES
_EMPTY_BODY = frozenset({204, 304})  # with HEAD and 1xx: no body, and aiohttp's rules for Content-Length


class LeanConnection(BaseProtocol):
    """One connection of a device listener (`_DeviceServer` makes it; `manager` is aiohttp's
    low-level server, whose request factory and handler it calls and whose connection list it
    joins, so runner shutdown and listener moves see it). `handover()` on the manager makes the
    DeviceProtocol that takes the connection over."""

    __slots__ = (
        "_access", "_closing", "_device", "_due", "_header_bytes", "_header_timeout", "_keepalive_timeout",
        "_lingering_time", "_manager", "_queue", "_request", "_server_header", "_tail", "_task_handler",
        "_tcp_keepalive", "_timer", "_timing", "max_field_size", "max_headers", "max_line_size", "peername",
        "sockname", "ssl_context",
    )  # fmt: skip

    def __init__(
        self, manager: web.Server, *, loop: asyncio.AbstractEventLoop, device: Device | None,
        keepalive_timeout: float = KEEPALIVE_TIMEOUT, header_timeout: float = HEADER_TIMEOUT,
        server_header: str = SERVER_HEADER, max_line_size: int = 8190, max_headers: int = 128,
        max_field_size: int = 8190, lingering_time: float = 10.0, read_bufsize: int = 2**16,
        tcp_keepalive: bool = True, access_log: logging.Logger | None = aiohttp_access_logger,
        access_log_class: type[AccessLogger] = AccessLogger, access_log_format: str = AccessLogger.LOG_FORMAT,
        **_: Any,
    ) -> None:  # fmt: skip
        parser = HttpRequestParser(
            self, loop, read_bufsize, max_line_size=max_line_size, max_field_size=max_field_size,
            max_headers=max_headers, payload_exception=RequestPayloadError, auto_decompress=False,
        )  # fmt: skip  (DeviceProtocol's reasons for auto_decompress=False hold here)
        super().__init__(loop, parser)
        # aiohttp's multipart reader takes its limits from the request's protocol
        self.max_line_size, self.max_field_size, self.max_headers = max_line_size, max_field_size, max_headers
        self._manager: web.Server | None = manager
        self._device = device
        self._keepalive_timeout = keepalive_timeout
        self._header_timeout = header_timeout
        self._server_header = server_header
        self._lingering_time = lingering_time
        self._tcp_keepalive = tcp_keepalive
        access = access_log_class(access_log, access_log_format) if access_log else None
        self._access = access if access is not None and access.enabled else None  # as aiohttp decides
        self._queue: deque[tuple[Any, StreamReader]] = deque()  # parsed, not yet answered
        self._tail = b""  # what came after an upgrade request, for the handler that takes over
        self._task_handler: asyncio.Task[None] | None = None  # the request being answered (aiohttp's name)
        self._request: web.BaseRequest | None = None
        self._closing = False  # answer what is under way, then close
        self._timer: asyncio.TimerHandle | None = None
        self._timing = _IDLE
        self._due = 0.0
        self._header_bytes = False  # some of a request came while the header clock runs (408, not silence)
        self.ssl_context: Any = None
        self.peername: Any = None
        self.sockname: Any = None

    # -- the connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self._manager is not None and self.transport is not None
        if self._tcp_keepalive:
            tcp_keepalive(self.transport)
        self._manager.connection_made(self, self.transport)  # type: ignore[arg-type]  (duck-typed: shutdown, close)
        # aiohttp's Request reads these from its protocol, three per request: asked of the transport once
        self.ssl_context = transport.get_extra_info("sslcontext")
        self.peername = transport.get_extra_info("peername")
        self.sockname = transport.get_extra_info("sockname")
        device = self._device
        if device is not None and device.packet_filter is not None and not admitted(device, transport):
            transport.abort()  # the device's firewall drops it: no answer, as a real DROP
            return
        self._count_down(_HEADERS, self._header_timeout)  # the first request's headers are due

    def connection_lost(self, exc: BaseException | None) -> None:
        manager = self._manager
        if manager is None:  # handed over: the new handler was told
            return
        manager.connection_lost(self, exc)  # type: ignore[arg-type]
        super().connection_lost(exc)
        self._manager = None
        self._closing = True
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._request is not None:  # a handler still reading the body gets an error, as in aiohttp
            self._request._cancel(exc if exc is not None else ConnectionResetError("Connection lost"))
        if manager.handler_cancellation and self._task_handler is not None:
            self._task_handler.cancel()

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        if self._upgraded:  # an upgrade request waits in the queue for the handler that takes over
            self._tail += data
            return
        assert self._parser is not None
        try:
            messages, upgraded, tail = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            messages, upgraded, tail = [(_ErrInfo(status=400, exc=exc, message=exc.message), EMPTY_PAYLOAD)], False, b""
        if upgraded:  # the parser stopped after an upgrade request and its body: what follows is the new protocol's
            self._upgraded, self._tail = True, tail
            if not messages and self._task_handler is None:
                self._next()  # the upgrade request waiting for its body can go over now
        if messages:
            self._queue.extend(messages)
            self._timing = _IDLE  # the headers are in: no deadline while a request is answered
            self._header_bytes = False
            if len(self._queue) >= QUEUE_LIMIT and not self._buffer_paused:
                self._pause_reading_for_buffer()
            if self._task_handler is None:
                self._next()
        elif data:  # part of a request: its first bytes start the header clock when the connection was idle
            self._header_bytes = True
            if self._task_handler is None and self._timing != _HEADERS:
                self._count_down(_HEADERS, self._header_timeout)

    # -- closing (aiohttp's names: web.Server and the runner call them)

    def close(self) -> None:
        """Answer the request under way, then close; an idle connection closes now."""
        self._closing = True
        if self._task_handler is None:
            self.force_close()

    def force_close(self) -> None:
        self._closing = True
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def close_when_answered(self) -> None:
        """Its listener is going (a port moved): as DeviceProtocol.close_when_answered."""
        if self._task_handler is not None or self._queue:
            self.close()
        else:
            self.force_close()

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        """The runner is stopping: the request under way has `timeout` to finish, then is cancelled."""
        self._closing = True
        task = self._task_handler
        if task is not None and not task.done():
            try:
                async with ceil_timeout(timeout):
                    await asyncio.shield(task)
            except (TimeoutError, asyncio.CancelledError):
                if _cancelled_by_caller():
                    raise
            if not task.done():
                task.cancel()
        self.force_close()

    # -- requests, one at a time in order

    def _next(self) -> None:
        """Start answering the first queued request, or hand the connection over when it is one
        aiohttp's handler must serve."""
        queue = self._queue
        if not queue or self._closing:
            return
        message = queue[0][0]
        if type(message) is _ErrInfo:
            self._hand_over()
            return
        if message.method == "CONNECT" or (message.upgrade and _switches(message)):
            if self._upgraded:  # its body (if any) is in: aiohttp's handler takes the connection
                self._hand_over()
            else:  # its body is still coming: due like a request's headers (mod_reqtimeout), then over
                self._header_bytes = True
                self._count_down(_HEADERS, self._header_timeout)
            return
        _message, payload = queue.popleft()
        if self._buffer_paused and len(queue) <= QUEUE_LIMIT // 2:
            self._resume_reading_for_buffer()
        self._task_handler = self._loop.create_task(self._answer(message, payload))

    async def _answer(self, message: RawRequestMessage, payload: StreamReader) -> None:
        manager = self._manager
        if manager is None:
            return
        manager.requests_count += 1
        loop = self._loop
        started = loop.time() if self._access is not None else 0.0
        keep_alive = False
        request: web.BaseRequest | None = None
        try:
            request = manager.request_factory(message, payload, self, StreamWriter(self, loop), self._task_handler)  # type: ignore[arg-type]
            self._request = request
            try:
                response = await manager.request_handler(request)
            except web.HTTPException as exc:
                response = exc
            except TimeoutError:
                response = _failed(request, 504, None)
            except Exception as exc:
                response = _failed(request, 500, exc)
            keep_alive = await self._send(request, response)
            if self._access is not None:
                self._access.log(request, response, loop.time() - started)
            if not payload.is_eof():  # drained even when the connection closes next: closing on unread
                drained = await self._linger(payload)  # data would reset it and lose the reply
                keep_alive = keep_alive and drained
            payload.set_exception(_PAYLOAD_ACCESS_ERROR)
        except ConnectionError:
            LOG.debug("%s: client gone before its reply was written", peer_host(self.peername))
        except asyncio.CancelledError:
            self.force_close()
            raise
        except Exception:
            LOG.exception("unhandled error answering %s %s", message.method, message.path)
        finally:
            self._request = None
            self._task_handler = None
            if request is not None:
                request._task = None  # type: ignore[assignment]  (no cycle through a traceback)
        if keep_alive and not self._closing:
            self._next()
            if self._task_handler is None and self._manager is not None:
                self._count_down(_KEEPALIVE, self._keepalive_timeout)
        elif self.transport is not None:
            self.force_close()

    async def _send(self, request: web.BaseRequest, response: Any) -> bool:
        """Write the reply as aiohttp's finish_response does; whether the connection stays open."""
        request._finish()
        if not isinstance(response, web.StreamResponse):
            response = _not_a_response(response)
        if not response.prepared:
            response.headers["Server"] = self._server_header
            reply = plain_reply(request, response) if self._access is None else None
            if reply is not None:
                transport = self.transport
                if transport is None or transport.is_closing():
                    raise ConnectionResetError("Cannot write to closing transport")  # as aiohttp's StreamWriter
                transport.write(reply)
                return bool(response.keep_alive)
        await response.prepare(request)
        await response.write_eof()
        return bool(response.keep_alive)

    async def _linger(self, payload: StreamReader) -> bool:
        """A body the handler did not read: drained (for up to lingering_time), so the next request
        starts where it should; False when it did not end in time."""
        if self._lingering_time <= 0 or self.transport is None:
            return False
        end = self._loop.time() + self._lingering_time
        try:
            while not payload.is_eof() and (now := self._loop.time()) < end:
                async with ceil_timeout(end - now):
                    await payload.readany()
        except (TimeoutError, asyncio.CancelledError):
            if _cancelled_by_caller():
                raise
        return payload.is_eof()

    # -- the one timer: keep-alive between requests, the header deadline while a request arrives

    def _count_down(self, timing: int, seconds: float) -> None:
        """One timer for the connection: moved later by reading `_due` when it fires (every request
        moves the keep-alive deadline later), set again only when the new deadline is earlier (the
        5 s keep-alive after the first request, while the 20 s header clock of the connection's
        start is still pending)."""
        self._timing = timing
        due = self._due = self._loop.time() + seconds
        timer = self._timer
        if timer is None or timer.when() > due:
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(due, self._expired)

    def _expired(self) -> None:
        self._timer = None
        if self._timing == _IDLE or self._closing or self.transport is None:
            return
        if self._loop.time() < self._due:  # moved on since it was set
            self._timer = self._loop.call_at(self._due, self._expired)
            return
        if self._timing == _HEADERS:
            if self._header_bytes:
                self.transport.write(request_timeout_reply(self._server_header))
            client, seconds = peer_host(self.peername), self._header_timeout
            LOG.debug("%s: no complete request within %g s, connection closed", client, seconds)
        self.force_close()

    # -- handing over to aiohttp's handler

    def _hand_over(self) -> None:
        """The queued requests, what follows an upgrade and the connection itself go to a
        DeviceProtocol, which answers them from its own loop; this connection is done."""
        manager, transport = self._manager, self.transport
        assert manager is not None and transport is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buffer_paused or self._reading_paused:  # the new handler starts reading with flags of its own
            self._buffer_paused = self._reading_paused = False
            self._resume_transport_reading()
        handler: RequestHandler = manager.handover()  # type: ignore[attr-defined]
        manager.connection_lost(self, None)  # type: ignore[arg-type]
        self._manager = None
        self._closing = True
        messages, self._queue = list(self._queue), deque()
        for _message, payload in messages:  # their bodies now ask the new handler for flow control and
            if payload is not EMPTY_PAYLOAD:  # whether the connection is still there
                payload._protocol = handler
        handler.accept_handed(transport, messages, self._upgraded, self._tail)  # type: ignore[attr-defined]
        self._tail = b""
        self.transport = None


def _switches(message: RawRequestMessage) -> bool:
    """Whether aiohttp's parser switches protocols after this request: an Upgrade it supports
    (only `websocket`), as aiohttp's _http_parser.pyx decides (its set is not importable); CONNECT
    is tested by the caller. A request naming another upgrade (h2c) is an ordinary request."""
    value = message.headers.get(hdrs.UPGRADE, "")
    return value.isascii() and value.lower() in SWITCHING_UPGRADES


def plain_reply(request: web.BaseRequest, response: web.StreamResponse) -> bytes | None:
    """The bytes aiohttp's `prepare` and `write_eof` would write for a plain reply (a web.Response
    with a bytes body, neither compressed nor chunked, no cookies, no Content-Length of its own, to
    a request other than HEAD, status 200-599 but 204 and 304, no on_response_prepare signal), with
    the response marked as sent; None for any other reply, which goes through aiohttp's own path.
    The header rules are Response._start's and StreamResponse._prepare_headers': one write instead
    of a chain of five coroutines and the writer's buffers. tests/test_lean_connection.py checks
    the bytes against aiohttp's, so an aiohttp that changes them fails there, not on a client."""
    if type(response) is not web.Response or response._payload_writer is not None or response._eof_sent:
        return None
    body = response._body
    status = response._status
    if (
        (body is not None and type(body) is not bytes) or response._compression or response._chunked
        or response._cookies or status < 200 or status in _EMPTY_BODY or request.method == "HEAD"
    ):  # fmt: skip
        return None
    headers = response._headers
    if hdrs.CONTENT_LENGTH in headers:
        return None
    for app in request.match_info.apps:
        if app.on_response_prepare:
            return None
    headers[hdrs.CONTENT_LENGTH] = str(len(body)) if body else "0"
    if body:
        headers.setdefault(hdrs.CONTENT_TYPE, "application/octet-stream")
    if hdrs.DATE not in headers:
        headers[hdrs.DATE] = rfc822_formatted_time()
    headers.setdefault(hdrs.SERVER, SERVER_SOFTWARE)
    keep_alive = response._keep_alive
    if keep_alive is None:
        keep_alive = response._keep_alive = request.keep_alive
    version = request.version
    if hdrs.CONNECTION not in headers:
        if keep_alive:
            if version == HttpVersion10:
                headers[hdrs.CONNECTION] = "keep-alive"
        elif version == HttpVersion11:
            headers[hdrs.CONNECTION] = "close"
    head = _serialize_headers(f"HTTP/{version[0]}.{version[1]} {status} {response._reason}", headers)
    response._eof_sent = True  # prepared, and its write_eof does nothing
    response._body_length = len(body) if body else 0
    return head + body if body else head


def _failed(request: web.BaseRequest, status: int, exc: BaseException | None) -> web.Response:
    """A handler that raised (the pipeline answers every failure itself, so this is a simulator bug):
    the reply aiohttp's RequestHandler.handle_error gives (not in debug mode), the traceback in the log."""
    if exc is not None:
        LOG.error("error answering %s %s", request.method, request.path, exc_info=exc)
    content_type, text = "text/plain", None
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        title = f"{HTTPStatus.INTERNAL_SERVER_ERROR.value} {HTTPStatus.INTERNAL_SERVER_ERROR.phrase}"
        description = HTTPStatus.INTERNAL_SERVER_ERROR.description
        if "text/html" in request.headers.get("Accept", ""):
            content_type = "text/html"
            text = f"<html><head><title>{title}</title></head><body>\n<h1>{title}</h1>\n{description}\n</body></html>\n"
        else:
            text = f"{title}\n\n{description}"
    response = web.Response(status=status, text=text, content_type=content_type)
    response.force_close()
    return response


def _not_a_response(returned: object) -> web.Response:
    """A handler that returned something else than a response: aiohttp's 500 for it."""
    LOG.error("a handler returned %r instead of a response", returned)
    error = web.HTTPInternalServerError()
    return web.Response(status=error.status, reason=error.reason, text=error.text, headers=error.headers)


def _cancelled_by_caller() -> bool:
    """After a timeout or cancellation around an inner wait: whether it was the current task itself
    that was cancelled (which must go on), not only the wait (aiohttp's shutdown and linger rule)."""
    current = asyncio.current_task()
    return current is not None and current.cancelling() > 0
