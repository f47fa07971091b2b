"""Events over WebSocket (events.md §2): `GET /axis-cgi/wssession.cgi` (a single-use session token,
§2.1) and `GET /vapix/ws-data-stream?sources=events[&wssession=<token>]` (the upgrade, §2.2), then
`events:configure` / `events:notify` (§2.3, §2.4; shapes in event_messages.py, filters in
event_filters.py).

One `Stream` per WebSocket: a bus subscription whose callback only appends to a bounded queue
(`QUEUE_SIZE`); a flush task, started when the queue gets work and ended when it is empty, writes
the frames. So a publisher never waits for a client, a slow client fills its own queue and loses
the newest events (counted: the journal's stream session `dropped`), and an idle subscription costs
no task of its own. A message is serialized once per device however many streams send it.

Streams close (WebSocket close 1001 "going away") when the device restarts or loses power (the
device's `on_change`, called right before it goes offline) and when its server shuts down
(`on_shutdown`). Faults and the journal come through `streams.py` (kind "websocket"): a refused
upgrade answers 503, `drop_after` closes after that many notifications, `delay` holds each one.

Served unless the device is started without it (`--no-websocket-events`: the routes' `switch`),
which is how a client's RTSP fallback is tested (events.md §0.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import weakref
from collections import deque
from collections.abc import Callable

from aiohttp import WSMsgType, web

from axisim.device import Device
from axisim.events import Event, Subscription
from axisim.lifecycle import Lifecycle, State
from param_tree import Role

from .apache_pages import apache_page
from .event_filters import EventFilter
from .event_messages import MAX_REQUEST, StreamRequestError, configure_reply, error_reply, notify, read_configure
from .replies import text_reply
from .request_context import DEVICE_KEY, AccessDenied, device_of, role_of, user_of
from .routing import Api, Route
from .streams import StreamFaults, StreamSession, stream_hooks

SWITCH = "websocket-events"  # the off switch's name (Device(switched_off=...), axisim serve --no-websocket-events)
WSSESSION = "/axis-cgi/wssession.cgi"
DATA_STREAM = "/vapix/ws-data-stream"
TOKEN_SECONDS = 15.0  # §2.1 [DOC]
MAX_TOKENS = 256  # live tokens per device; the oldest goes first
QUEUE_SIZE = 1000  # messages a stream holds for a slow client before it drops the newest
CLOSE_TIMEOUT = 2.0  # seconds a close waits for the client's close frame
GOING_AWAY = 1001


class Hub:
    """One device's WebSocket side: its session tokens, its open streams, the last message serialized.
    Holds no reference to the device (it is kept per device in a weak map)."""

    __slots__ = ("__weakref__", "_last", "lifecycle", "streams", "tokens")

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (user, expiry on the monotonic clock)
        self.streams: set[Stream] = set()
        self._last: tuple[Event | None, str] = (None, "")

    def issue(self, user: str) -> str:
        now = time.monotonic()
        for token in [t for t, (_, expiry) in self.tokens.items() if expiry <= now]:
            del self.tokens[token]
        while len(self.tokens) >= MAX_TOKENS:
            del self.tokens[next(iter(self.tokens))]
        token = str(10**18 + secrets.randbelow(9 * 10**18))  # 19 digits, as the doc's example
        self.tokens[token] = (user, now + TOKEN_SECONDS)
        return token

    def redeem(self, token: str) -> str | None:
        """The user of a live token, which is spent (single use); None for an unknown or expired one."""
        found = self.tokens.pop(token, None)
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def text_of(self, event: Event) -> str:
        last, text = self._last
        if last is not event:
            text = notify(event)
            self._last = (event, text)
        return text

    def device_changed(self) -> None:
        """device.on_change: a restart or power-off calls it just before going offline."""
        if self.streams:
            asyncio.get_running_loop().call_soon(self._check)

    def _check(self) -> None:
        state = self.lifecycle.state
        if state in (State.OFFLINE, State.OFF):
            reason = "device powered off" if state is State.OFF else "device restarted"
            for stream in list(self.streams):
                stream.close_soon(reason)

    async def close_all(self, reason: str) -> None:
        await asyncio.gather(*(stream.close(reason) for stream in list(self.streams)))


_HUBS: weakref.WeakKeyDictionary[Device, Hub] = weakref.WeakKeyDictionary()
_CLOSING: set[asyncio.Task[None]] = set()


def hub_of(device: Device) -> Hub:
    hub = _HUBS.get(device)
    if hub is None:
        hub = _HUBS[device] = Hub(device.lifecycle)
        device.on_change.append(hub.device_changed)
    return hub


class Stream:
    """One client's event stream: filters, bounded queue, flush task, journal session."""

    __slots__ = (
        "_flushing", "_subscription", "closed", "dropped", "faults", "filters", "hub", "queue", "reason", "sent",
        "session", "ws",
    )  # fmt: skip

    def __init__(self, hub: Hub, ws: web.WebSocketResponse, session: StreamSession, faults: StreamFaults) -> None:
        self.hub, self.ws, self.session, self.faults = hub, ws, session, faults
        self.queue: deque[Event | str] | None = None  # made on demand: an idle stream holds none
        self.filters: list[EventFilter] = []
        self._subscription: Subscription | None = None
        self._flushing: asyncio.Task[None] | None = None
        self.sent = self.dropped = 0
        self.closed = False
        self.reason = "closed by the client"

    # -- the bus side (synchronous: never waits) ---------------------------------------------------

    def offer(self, event: Event) -> None:
        """The bus callback: once per matching filter entry (each entry is a subscription, §2.3)."""
        for entry in self.filters:
            if entry.matches(event):
                self._push(event)

    def _push(self, item: Event | str) -> None:
        if self.closed:
            return
        queue = self.queue
        if queue is None:
            queue = self.queue = deque()
        elif len(queue) >= QUEUE_SIZE:
            self.dropped += 1
            self.session.dropped()
            return
        queue.append(item)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    def configure(self, frame: str | bytes, device: Device) -> None:
        """Replace the filters, reply, then the current state of every matching property (§0.5),
        all in one step: no change can slip between the states and the live events."""
        try:
            request = read_configure(frame)
        except StreamRequestError as error:
            self._push(error_reply(error))
            return
        if self._subscription is not None:
            self._subscription.cancel()
        self.filters = request.filters
        topics = [] if any(not f.topic for f in self.filters) else [f.topic for f in self.filters]
        self._subscription = device.bus.subscribe(self.offer, topics, clients=True) if self.filters else None
        self.session.configured([f.shown for f in self.filters])
        self._push(configure_reply(request.context))
        for event in device.event_states():
            self.offer(event)

    # -- the client side -----------------------------------------------------------------------------

    async def _flush(self) -> None:
        try:
            while self.queue and not self.closed:
                item = self.queue.popleft()
                if not self.queue:
                    self.queue = None  # nothing after this one: an idle stream keeps no queue
                if self.faults.delay and not isinstance(item, str):  # notifications, not replies
                    await asyncio.sleep(self.faults.delay)
                await self.ws.send_str(item if isinstance(item, str) else self.hub.text_of(item))
                if not isinstance(item, str):
                    self.sent += 1
                    self.session.sent()
                drop_after = self.faults.drop_after
                if drop_after is not None and self.sent >= drop_after:
                    self._flushing = None
                    await self.close(f"dropped after {drop_after} messages (fault)")
                    return
        except (ConnectionError, RuntimeError) as exc:  # the client went away mid-write
            self.reason = f"write failed: {exc.__class__.__name__}"
        finally:
            self._flushing = None

    def close_soon(self, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self.close(reason))
        _CLOSING.add(task)  # held until done (the loop keeps only a weak reference)
        task.add_done_callback(_CLOSING.discard)

    async def close(self, reason: str) -> None:
        if self.closed:
            return
        self.stop(reason)
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
            await self.ws.close(code=GOING_AWAY, message=reason[:100].encode())

    def stop(self, reason: str) -> None:
        """No more events: the subscription ends, the journal hears why (the first reason counts)."""
        if not self.closed:
            self.closed = True
            self.reason = reason
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        self.queue = None
        flushing, self._flushing = self._flushing, None
        if flushing is not None and flushing is not asyncio.current_task():
            flushing.cancel()
        self.hub.streams.discard(self)
        self.session.closed(self.reason)


async def wssession_cgi(request: web.Request) -> web.Response:
    """§2.1: the bare token, valid 15 s, single use (the `axis` library pastes the body into the URL)."""
    token = hub_of(device_of(request)).issue(user_of(request))
    return text_reply(token + "\n")


def _stream_user(request: web.Request, hub: Hub) -> str:
    """§2.2: a session token, or the request's own Digest/Basic (a viewer); AccessDenied -> 401."""
    token = request.query.get("wssession")
    if token is not None:
        user = hub.redeem(token)
        if user is not None:
            return user
    if role_of(request) >= Role.VIEWER:
        return user_of(request)
    raise AccessDenied(Role.VIEWER)


async def ws_data_stream(request: web.Request) -> web.StreamResponse:
    device = device_of(request)
    hub = hub_of(device)
    user = _stream_user(request, hub)
    sources = request.query.get("sources", "")
    ws = web.WebSocketResponse(max_msg_size=16 * MAX_REQUEST, timeout=CLOSE_TIMEOUT)
    if "events" not in sources.split(",") or not ws.can_prepare(request).ok:
        return apache_page(400)
    hooks = stream_hooks(request.app)
    faults = hooks.faults("websocket")
    if faults.refuse:
        return apache_page(503)
    await ws.prepare(request)
    stream = Stream(hub, ws, hooks.opened("websocket", request.remote or "-", user), faults)
    hub.streams.add(stream)
    try:
        async for message in ws:
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                stream.configure(message.data, device)
            elif message.type is WSMsgType.ERROR:
                stream.reason = f"protocol error: {ws.exception()}"
                break
    except asyncio.CancelledError:  # the listener went down under it (the device taken off the network)
        stream.reason = "connection shut down"
        raise
    finally:
        stream.stop(stream.reason)
    return ws


async def close_streams(app: web.Application) -> None:
    """on_shutdown: every open stream of the application's device ends with a close frame."""
    hub = _HUBS.get(app[DEVICE_KEY])
    if hub is not None:
        await hub.close_all("server shutting down")


ON_SHUTDOWN: list[Callable[[web.Application], object]] = [close_streams]
ROUTES = [
    Route(WSSESSION, wssession_cgi, Role.VIEWER, ("GET",), switch=SWITCH),
    Route(DATA_STREAM, ws_data_stream, Role.ANONYMOUS, ("GET",), switch=SWITCH),  # the handler authenticates
]
APIS = [Api("event-streaming-over-websocket", "1.0", "Event streaming over WebSocket")]
