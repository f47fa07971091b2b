"""The request journal of one device: what a client asked and what it got.

A client author reads it to see what their client needed; the paths no route
serves are kept apart, counted, so an unsupported call stands out in a long run.
Beside the requests it keeps the device's events (from the device event bus), so a
test sees what the device told the world between two requests.
Bounded: the newest `capacity` entries, `EVENT_CAPACITY` events and `max_unsupported`
distinct paths.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..clock import iso
from ..events import Event

DEFAULT_CAPACITY = 1000
EVENT_CAPACITY = 500
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

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method, "path": self.path, "count": self.count,
            "first": iso(self.first), "last": iso(self.last),
        }  # fmt: skip


class Journal:
    """Entries cost nothing until requests arrive (the deque is made on first use)."""

    __slots__ = ("_entries", "_events", "_unsupported", "capacity", "events_total", "total")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: deque[Entry] | None = None
        self._unsupported: dict[tuple[str, str], Unsupported] | None = None
        self.total = 0  # requests seen since the last clear, including those no longer kept
        self._events: deque[Event] | None = None
        self.events_total = 0

    def record(self, entry: Entry) -> None:
        if self._entries is None:
            self._entries = deque(maxlen=self.capacity)
        self._entries.append(entry)
        self.total += 1
        if not entry.supported:
            self._note_unsupported(entry)

    def _note_unsupported(self, entry: Entry) -> None:
        if self._unsupported is None:
            self._unsupported = {}
        path = entry.path.partition("?")[0]
        key = (entry.method, path)
        seen = self._unsupported.get(key)
        if seen is not None:
            seen.count += 1
            seen.last = entry.time
        elif len(self._unsupported) < MAX_UNSUPPORTED:
            self._unsupported[key] = Unsupported(entry.method, path, 1, entry.time, entry.time)

    def entries(self, limit: int | None = None) -> list[Entry]:
        """Oldest first; the newest `limit` when given."""
        kept = list(self._entries or ())
        if limit is None:
            return kept
        return kept[-limit:] if limit else []

    def record_event(self, event: Event) -> None:
        """A device event bus subscriber: keep the newest events."""
        if self._events is None:
            self._events = deque(maxlen=EVENT_CAPACITY)
        self._events.append(event)
        self.events_total += 1

    def events(self, limit: int | None = None) -> list[Event]:
        """Oldest first; the newest `limit` when given."""
        kept = list(self._events or ())
        if limit is None:
            return kept
        return kept[-limit:] if limit else []

    def unsupported(self) -> list[Unsupported]:
        return sorted((self._unsupported or {}).values(), key=lambda u: (-u.count, u.path, u.method))

    def clear(self) -> None:
        self._entries = None
        self._unsupported = None
        self.total = 0
        self._events = None
        self.events_total = 0


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
