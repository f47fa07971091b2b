"""The request journal of one device: what a client asked and what it got.

A client author reads it to see what their client needed; the paths no route
serves are kept apart, counted, so an unsupported call stands out in a long run.
Beside the requests it keeps the device's events (from the device event bus), so a
test sees what the device told the world between two requests, and its event stream
sessions (WebSocket, RTSP): who opened one, with which filters, what it sent and
dropped, and how it ended.
Bounded: the newest `capacity` entries, `EVENT_CAPACITY` events, `STREAM_CAPACITY`
stream sessions and `max_unsupported` distinct paths.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..clock import iso
from ..events import Event, topic_matches

DEFAULT_CAPACITY = 1000
EVENT_CAPACITY = 500
STREAM_CAPACITY = 200
MAX_UNSUPPORTED = 256
DROPPED = 0  # the status journaled for a connection closed without a reply


def iso_ms(wall: float) -> str:
    """A wall time as the journal shows it: ISO 8601 UTC to the millisecond."""
    return f"{iso(wall)[:-1]}.{int(wall % 1 * 1000):03d}Z"


class Entry(NamedTuple):  # a tuple: one is made per request, so it must be cheap
    time: float  # seconds since the epoch, when the request arrived
    client: str
    method: str
    path: str  # path and query, as sent
    user: str  # the authenticated account, "" when anonymous or refused
    status: int  # 0: the connection was dropped (a fault, or the device went offline)
    duration_ms: float
    supported: bool = True
    replayed: bool = False  # answered from a recorded model's recording (cgi_handlers/replay.py)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = self._asdict()
        document["time"] = iso_ms(self.time)
        document["duration_ms"] = round(self.duration_ms, 3)
        return document


@dataclass(slots=True)
class Unsupported:
    method: str
    path: str
    count: int
    first: float
    last: float
    # a recorded model's miss: {"nearest": the closest recorded request of the latest such request, or None}
    replay: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        document = {
            "method": self.method, "path": self.path, "count": self.count,
            "first": iso(self.first), "last": iso(self.last),
        }  # fmt: skip
        if self.replay is not None:
            document.update(self.replay)
        return document


@dataclass(eq=False, slots=True)
class StreamRecord:
    """One event stream session; the stream reports to it (cgi_handlers/streams.py StreamSession):
    `configured(filters)`, `sent(n)`, `dropped(n)`, `closed(reason)`. Counting costs one addition."""

    id: int
    kind: str  # "websocket" or "rtsp"
    client: str
    user: str
    opened: float  # Unix seconds
    filters: list[str] = field(default_factory=list)
    messages_sent: int = 0
    messages_dropped: int = 0
    closed_at: float | None = None
    reason: str | None = None

    def configured(self, filters: list[str]) -> None:
        self.filters = list(filters)  # the latest configuration (a client may configure again)

    def sent(self, count: int = 1) -> None:
        self.messages_sent += count

    def dropped(self, count: int = 1) -> None:
        self.messages_dropped += count

    def closed(self, reason: str) -> None:
        if self.closed_at is None:  # the first reason is the cause; later ones are its echoes
            self.closed_at = time.time()
            self.reason = reason

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "client": self.client, "user": self.user,
            "opened": iso_ms(self.opened), "filters": self.filters, "sent": self.messages_sent,
            "dropped": self.messages_dropped, "open": self.closed_at is None,
            "closed": iso_ms(self.closed_at) if self.closed_at is not None else None, "reason": self.reason,
        }  # fmt: skip


class Journal:
    """Entries cost nothing until requests arrive (the deque is made on first use)."""

    __slots__ = (
        "_entries", "_events", "_streams", "_unsupported", "capacity", "events_total", "streams_total", "total"
    )  # fmt: skip

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: deque[Entry] | None = None
        self._unsupported: dict[tuple[str, str], Unsupported] | None = None
        self.total = 0  # requests seen since the last clear, including those no longer kept
        self._events: deque[Event] | None = None
        self.events_total = 0
        self._streams: deque[StreamRecord] | None = None
        self.streams_total = 0  # sessions opened since the last clear; also numbers them

    def record(self, entry: Entry, replay: dict[str, Any] | None = None) -> None:
        """`replay`: a recorded model's request that matched nothing recorded (its nearest one)."""
        if self._entries is None:
            self._entries = deque(maxlen=self.capacity)
        self._entries.append(entry)
        self.total += 1
        if not entry.supported:
            self._note_unsupported(entry, replay)

    def _note_unsupported(self, entry: Entry, replay: dict[str, Any] | None) -> None:
        if self._unsupported is None:
            self._unsupported = {}
        path = entry.path.partition("?")[0]
        key = (entry.method, path)
        seen = self._unsupported.get(key)
        if seen is not None:
            seen.count += 1
            seen.last = entry.time
            if replay is not None:
                seen.replay = replay
        elif len(self._unsupported) < MAX_UNSUPPORTED:
            self._unsupported[key] = Unsupported(entry.method, path, 1, entry.time, entry.time, replay)

    def entries(self, limit: int | None = None) -> list[Entry]:
        """Oldest first; the newest `limit` when given."""
        kept = list(self._entries or ())
        if limit is None:
            return kept
        return kept[-limit:] if limit else []

    def entries_after(self, seen: int, limit: int | None = None) -> list[Entry]:
        """Oldest first, those recorded after the first `seen` of `total`: what a reader who saw
        `seen` requests has not (every kept one when `seen` is past `total`: cleared since); the
        newest `limit` of them when given."""
        new = self.total - seen
        kept = list(self._entries or ())
        if new >= 0:
            kept = kept[-new:] if new else []
        return _newest(kept, limit)

    def record_event(self, event: Event) -> None:
        """A device event bus subscriber: keep the newest events."""
        if self._events is None:
            self._events = deque(maxlen=EVENT_CAPACITY)
        self._events.append(event)
        self.events_total += 1

    def events(self, limit: int | None = None, topics: tuple[str, ...] = ()) -> list[Event]:
        """Oldest first; those whose topic matches one of `topics` (filters as the bus takes them)
        when given; the newest `limit` when given."""
        kept = list(self._events or ())
        if topics:
            kept = [e for e in kept if any(topic_matches(t, e.topic) for t in topics)]
        return _newest(kept, limit)

    def open_stream(self, kind: str, client: str, user: str) -> StreamRecord:
        """A new stream session, recorded from now on (the stream keeps the record and reports to it)."""
        if self._streams is None:
            self._streams = deque(maxlen=STREAM_CAPACITY)
        self.streams_total += 1
        record = StreamRecord(self.streams_total, kind, client, user, time.time())
        self._streams.append(record)
        return record

    def streams(self, limit: int | None = None) -> list[StreamRecord]:
        """Oldest first; the newest `limit` when given."""
        return _newest(list(self._streams or ()), limit)

    def unsupported(self) -> list[Unsupported]:
        return sorted((self._unsupported or {}).values(), key=lambda u: (-u.count, u.path, u.method))

    def clear(self) -> None:
        self._entries = None
        self._unsupported = None
        self.total = 0
        self._events = None
        self.events_total = 0
        self._streams = None
        self.streams_total = 0


def _newest(kept: list[Any], limit: int | None) -> list[Any]:
    if limit is None:
        return kept
    return kept[-limit:] if limit else []


def event_json(event: Event) -> dict[str, Any]:
    """An event as the control API shows it."""
    return {
        "time": iso_ms(event.time),
        "topic": event.topic,
        "source": event.source,
        "data": event.data,
        "property": event.stateful,
        "key": event.key,
        "publisher": event.publisher,
    }
