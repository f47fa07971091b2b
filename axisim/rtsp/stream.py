"""One RTSP session's metadata stream: the device's events as RTP, over UDP or interleaved on the
RTSP connection (events.md §3.1, §3.5).

On PLAY it sends the current state of every property instance its filters want (`Initialized`,
events.md §0.5), then each event from the device bus (`Changed` for property states, no operation
for pulses), in order. The bus calls back synchronously, so events are queued (bounded: what does
not fit is dropped and counted in the journal) and a task sends them, holding each one when a
`delay` fault says so and ending the session after `drop_after` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from cgi_handlers.event_metadata import CHANGED, INITIALIZED, metadata_document
from cgi_handlers.streams import StreamFaults, StreamSession

from ..device import Device
from ..events import Event, Subscription, topic_matches
from .rtp import RtpStream, interleaved

MAX_QUEUE = 1024  # events waiting to be sent; more are dropped (and counted)
MAX_TCP_BUFFER = 1 << 20  # interleaved: bytes the client has not read before messages are dropped
MAX_FILTERS = 32
UDP_BURST = 16  # datagrams sent back to back before the sender yields (the initial states are a burst)
UDP_PAUSE = 0.002  # seconds between bursts, so a client with the default receive buffer keeps up


@dataclass(frozen=True, slots=True)
class TransportSpec:
    """What SETUP agreed: UDP to the client's ports, or interleaved channels on the connection."""

    tcp: bool
    client_ports: tuple[int, int] = (0, 0)  # UDP: RTP, RTCP
    channels: tuple[int, int] = (0, 1)  # TCP: RTP, RTCP

    def header(self, server_ports: tuple[int, int], ssrc: int) -> str:
        """The Transport header of the SETUP reply (events.md §3.3)."""
        if self.tcp:
            base = f"RTP/AVP/TCP;unicast;interleaved={self.channels[0]}-{self.channels[1]}"
        else:
            base = (
                f"RTP/AVP;unicast;client_port={self.client_ports[0]}-{self.client_ports[1]};"
                f"server_port={server_ports[0]}-{server_ports[1]}"
            )
        return f'{base};ssrc={ssrc:08X};mode="PLAY"'


def _pair(text: str, low_min: int, high: int) -> tuple[int, int] | None:
    """`a-b` (or `a`, meaning a, a+1) within low_min..high."""
    first, sep, second = text.partition("-")
    if not first.isdigit() or len(first) > 5 or (sep and (not second.isdigit() or len(second) > 5)):
        return None
    pair = (int(first), int(second) if sep else int(first) + 1)
    return pair if low_min <= pair[0] <= high and 0 <= pair[1] <= high else None


def parse_transport(header: str) -> TransportSpec | None:
    """The first transport of the client's list that the device serves: unicast RTP/AVP over UDP with
    client ports, or RTP/AVP/TCP interleaved (channels 0-1 when not named). None: none of them."""
    for option in header.split(",")[:8]:
        fields = [f.strip() for f in option.split(";")]
        profile = fields[0].upper()
        params = dict(f.partition("=")[::2] for f in fields[1:])
        if "multicast" in params:
            continue
        if profile in ("RTP/AVP", "RTP/AVP/UDP") and "client_port" in params:
            ports = _pair(params["client_port"], 1, 65535)
            if ports is not None:
                return TransportSpec(False, client_ports=ports)
        elif profile == "RTP/AVP/TCP":
            channels = _pair(params.get("interleaved") or "0-1", 0, 255)
            if channels is not None:
                return TransportSpec(True, channels=channels)
    return None


def topic_filters(values: list[str]) -> list[str]:
    """`eventtopic=` values (events.md §3.1: `onvif:`/`axis:` spelling, `,` or `|` between filters)
    as bus patterns (`tns1:`/`tnsaxis:`). ValueError when there are too many or one is empty."""
    patterns = []
    for value in values:
        for item in value.replace("|", ",").split(","):
            item = item.strip()
            if not item or len(item) > 256:
                raise ValueError("an empty or overlong eventtopic filter")
            patterns.append(_declared_spelling(item))
    if len(patterns) > MAX_FILTERS:
        raise ValueError("too many eventtopic filters")
    return patterns


def _declared_spelling(topic: str) -> str:
    segments = []
    for segment in topic.split("/"):
        if segment.startswith("onvif:"):
            segment = "tns1:" + segment[6:]
        elif segment.startswith("axis:"):
            segment = "tnsaxis:" + segment[5:]
        segments.append(segment)
    return "/".join(segments)


class Sink:
    """Where the packets go: a UDP socket to the client's RTP port, or the RTSP connection."""

    def __init__(
        self, spec: TransportSpec, host: str, client: str, write: Callable[[bytes], None],
        backlog: Callable[[], int],
    ) -> None:  # fmt: skip
        self.spec = spec
        self._write = write
        self._backlog = backlog
        self._socket: socket.socket | None = None
        self._address = (client, spec.client_ports[0])
        self.server_ports = (0, 0)
        if not spec.tcp:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.bind((host, 0))
            except OSError:
                sock.close()
                raise
            self._socket = sock
            port = sock.getsockname()[1]
            self.server_ports = (port, port + 1)

    @property
    def datagrams(self) -> bool:
        """UDP: nothing slows the sender down but the pauses it takes itself."""
        return self._socket is not None

    def send(self, packets: list[bytes]) -> bool:
        """False when the packets could not be handed on (a full buffer): the message is dropped."""
        if self._socket is not None:
            try:
                for packet in packets:
                    self._socket.sendto(packet, self._address)
            except OSError:  # a full send buffer, or the client's port is gone (ICMP unreachable)
                return False
            return True
        if self._backlog() > MAX_TCP_BUFFER:
            return False
        self._write(b"".join(interleaved(self.spec.channels[0], packet) for packet in packets))
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class Stream:
    """One session: its id, transport, filters, RTP state and the task that sends."""

    def __init__(
        self, device: Device, sink: Sink, patterns: list[str], faults: StreamFaults, record: StreamSession,
        producer: str, on_end: Callable[[Stream, str], None],
    ) -> None:  # fmt: skip
        self.id = secrets.token_hex(8).upper()  # hex digits only: no word the client's parser looks for
        self.device = device
        self.sink = sink
        self.patterns = patterns
        self.faults = faults
        self.record = record
        self.producer = producer
        self.rtp = RtpStream()
        self._on_end = on_end
        self._queue: deque[tuple[Event, str | None]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self.sent = 0
        self.closed = False

    @property
    def playing(self) -> bool:
        return self._subscription is not None

    def _wants(self, topic: str) -> bool:
        return not self.patterns or any(topic_matches(p, topic) for p in self.patterns)

    def play(self) -> None:
        """Current states first, then live events; the subscription is made in the same step as the
        states are read, so no change falls between them."""
        if self.playing or self.closed:
            return
        for event in self.device.event_states():
            if self._wants(event.topic):
                self._enqueue(event, INITIALIZED)
        self._subscription = self.device.bus.subscribe(self._published, self.patterns, clients=True)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._send_loop())

    def pause(self) -> None:
        """No events until the next PLAY (which starts with the current states again)."""
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        self._queue.clear()

    def _published(self, event: Event) -> None:
        self._enqueue(event, CHANGED if event.stateful else None)

    def _enqueue(self, event: Event, operation: str | None) -> None:
        if len(self._queue) >= MAX_QUEUE:
            self.record.dropped()
            return
        self._queue.append((event, operation))
        self._wake.set()

    async def _send_loop(self) -> None:
        while not self.closed:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            event, operation = self._queue.popleft()
            if self.faults.delay:
                await asyncio.sleep(self.faults.delay)
                if not self.playing:  # paused (or closed) meanwhile: this one is not sent
                    continue
            self._send(event, operation)
            if self._queue and self.sink.datagrams and self.sent % UDP_BURST == 0:
                await asyncio.sleep(UDP_PAUSE)
            if self.faults.drop_after is not None and self.sent >= self.faults.drop_after:
                self._on_end(self, f"dropped after {self.sent} messages (fault)")
                return

    def _send(self, event: Event, operation: str | None) -> None:
        document = metadata_document(event, self.producer, operation)
        packets = self.rtp.packets(document, event.time)
        if not self.device.link_up or not self.sink.send(packets):
            self.record.dropped()  # no link: lost on the wire, as a real stream's would be
            return
        self.sent += 1
        self.record.sent()

    def close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.pause()
        self._wake.set()
        if self._task is not None and self._task is not _current_task():
            self._task.cancel()
        self.sink.close()
        self.record.closed(reason)


def _current_task() -> asyncio.Task[object] | None:
    with contextlib.suppress(RuntimeError):
        return asyncio.current_task()
    return None
