"""Faults a test injects into one device: what a flaky network or a sick device does.

A fault matches requests by path (glob) and query (glob) and does, in this order:
added latency (fixed plus uniform jitter), then at most one of: a fixed reply
(HTTP status and/or body, e.g. a VAPIX error text), a dropped connection, or a
request that hangs until the fault is removed. `count` limits how many requests
it hits. Knows no HTTP: the server's middleware acts on what `match` returns.

An MQTT fault (`{"kind": "mqtt"}`) makes the device's MQTT broker unreachable while it is there:
a connection is cut without a word (the broker sends the last will) and no new one gets
through; the device's MQTT link (axisim/mqtt_link.py) asks `mqtt_unreachable()` and is told
of every change through `listeners`.

A stream fault (`kind` "websocket" or "rtsp") hits event streams instead of requests:
refuse the stream (the WebSocket upgrade, the RTSP SETUP), close it after `drop_after`
messages, or hold each message `delay` seconds; `count` limits how many streams it hits.
The streams ask for it through `stream_plan(kind)` (axisim/control/stream_hooks.py).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

MAX_LATENCY_MS = 600_000.0
MAX_BODY = 1 << 20
FIELDS = frozenset(
    {"path", "query", "status", "body", "content_type", "latency_ms", "jitter_ms", "drop", "hang", "count"}
)
STREAM_KINDS = ("websocket", "rtsp")
STREAM_FIELDS = frozenset({"kind", "refuse", "drop_after", "delay", "count"})
MAX_STREAM_DELAY = 600.0  # seconds
MQTT_KIND = "mqtt"


class FaultError(ValueError):
    """A fault description that cannot be applied."""


@dataclass(eq=False)
class Fault:
    id: int
    path: str = "*"
    query: str = "*"
    status: int | None = None
    body: str | None = None
    content_type: str = "text/plain"
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    drop: bool = False
    hang: bool = False
    count: int | None = None  # requests (streams) left to hit; None: until removed
    hits: int = 0
    kind: str | None = None  # a stream fault: "websocket" or "rtsp"; None: a request fault
    refuse: bool = False
    drop_after: int | None = None  # messages a stream sends before it is closed
    delay_s: float = 0.0  # seconds each stream message is held
    released: asyncio.Event | None = field(default=None, repr=False)  # made when a request hangs

    @property
    def replies(self) -> bool:
        return self.status is not None or self.body is not None

    def matches(self, path: str, query: str) -> bool:
        return fnmatchcase(path, self.path) and (self.query == "*" or fnmatchcase(query, self.query))

    def delay(self) -> float:
        """Seconds to wait before the request goes on."""
        jitter = random.uniform(0.0, self.jitter_ms) if self.jitter_ms else 0.0
        return (self.latency_ms + jitter) / 1000.0

    def release(self) -> None:
        if self.released is not None:
            self.released.set()

    def to_json(self) -> dict[str, Any]:
        if self.kind is not None:
            return self._stream_json()
        document: dict[str, Any] = {"id": self.id, "path": self.path, "query": self.query}
        for name in ("status", "body", "latency_ms", "jitter_ms", "count"):
            value = getattr(self, name)
            if value not in (None, 0.0) or (name == "count" and value == 0):
                document[name] = value
        if self.body is not None:
            document["content_type"] = self.content_type
        if self.drop:
            document["drop"] = True
        if self.hang:
            document["hang"] = True
        document["hits"] = self.hits
        return document

    def _stream_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.refuse:
            document["refuse"] = True
        if self.drop_after is not None:
            document["drop_after"] = self.drop_after
        if self.delay_s:
            document["delay"] = self.delay_s
        if self.count is not None:
            document["count"] = self.count
        document["hits"] = self.hits
        return document


def _number(spec: dict[str, Any], name: str, low: float, high: float) -> float:
    value = spec.get(name, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultError(f"{name} is a number from {low:g} to {high:g}")
    return float(value)


def _flag(spec: dict[str, Any], name: str) -> bool:
    value = spec.get(name, False)
    if not isinstance(value, bool):
        raise FaultError(f"{name} is true or false")
    return value


def _text(spec: dict[str, Any], name: str, default: str | None) -> str | None:
    value = spec.get(name, default)
    if value is not None and not isinstance(value, str):
        raise FaultError(f"{name} is a string")
    return value


def _count(spec: dict[str, Any]) -> int | None:
    count = spec.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise FaultError("count is a whole number of requests (streams), 1 or more")
    return count


def parse_stream_fault(fault_id: int, spec: dict[str, Any]) -> Fault:
    """A stream fault from its JSON description: kind, then refuse, drop_after and/or delay."""
    kind = spec.get("kind")
    if kind not in STREAM_KINDS:
        raise FaultError(f"kind is one of {', '.join((*STREAM_KINDS, MQTT_KIND))}")
    unknown = sorted(set(spec) - STREAM_FIELDS)
    if unknown:
        raise FaultError(
            f"a stream fault takes {', '.join(sorted(STREAM_FIELDS))}, not {', '.join(unknown)}"
        )  # fmt: skip
    drop_after = spec.get("drop_after")
    if drop_after is not None and (isinstance(drop_after, bool) or not isinstance(drop_after, int) or drop_after < 0):
        raise FaultError("drop_after is a whole number of messages, 0 or more")
    fault = Fault(
        id=fault_id, path="", query="", count=_count(spec), kind=kind, refuse=_flag(spec, "refuse"),
        drop_after=drop_after, delay_s=_number(spec, "delay", 0, MAX_STREAM_DELAY),
    )  # fmt: skip
    if not (fault.refuse or fault.drop_after is not None or fault.delay_s):
        raise FaultError("a stream fault needs an effect: refuse, drop_after or delay")
    return fault


def parse_fault(fault_id: int, spec: dict[str, Any]) -> Fault:
    """A Fault from its JSON description; FaultError says what is wrong."""
    if spec.get("kind") == MQTT_KIND:
        if set(spec) != {"kind"}:
            raise FaultError("an mqtt fault takes only kind: the broker is unreachable while it is there")
        return Fault(id=fault_id, path="", query="", kind=MQTT_KIND)
    if "kind" in spec:
        return parse_stream_fault(fault_id, spec)
    stream_only = sorted(set(spec) & (STREAM_FIELDS - FIELDS))
    if stream_only:
        raise FaultError(f"{', '.join(stream_only)}: stream fault fields, for a fault with kind websocket or rtsp")
    unknown = sorted(set(spec) - FIELDS)
    if unknown:
        raise FaultError(f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(sorted(FIELDS))}")
    status = spec.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise FaultError("status is an HTTP status code, 100-599")
    count = _count(spec)
    body = _text(spec, "body", None)
    if body is not None and len(body) > MAX_BODY:
        raise FaultError(f"body is at most {MAX_BODY} characters")
    fault = Fault(
        id=fault_id,
        path=_text(spec, "path", "*") or "*",
        query=_text(spec, "query", "*") or "*",
        status=status,
        body=body,
        content_type=_text(spec, "content_type", "text/plain") or "text/plain",
        latency_ms=_number(spec, "latency_ms", 0, MAX_LATENCY_MS),
        jitter_ms=_number(spec, "jitter_ms", 0, MAX_LATENCY_MS),
        drop=_flag(spec, "drop"),
        hang=_flag(spec, "hang"),
        count=count,
    )
    if sum((fault.replies, fault.drop, fault.hang)) > 1:
        raise FaultError("a fault replies (status/body), drops or hangs: one of them")
    if not (fault.replies or fault.drop or fault.hang or fault.latency_ms or fault.jitter_ms):
        raise FaultError("a fault needs an effect: status, body, latency_ms, jitter_ms, drop or hang")
    if any(c in fault.content_type for c in "\r\n"):
        raise FaultError("content_type is one header value")
    return fault


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """What the stream faults of a kind do to one new stream."""

    refuse: bool = False
    drop_after: int | None = None
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Plan:
    """What the matching faults do to one request."""

    delay: float
    final: Fault | None  # the fault that replies, drops or hangs


class Faults:
    """The faults of one device, applied in the order they were added."""

    __slots__ = ("_faults", "_ids", "listeners")

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self.listeners: list[Callable[[], None]] = []  # told of every change (the MQTT link)

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def mqtt_unreachable(self) -> bool:
        """An "mqtt" fault holds: the device's broker cannot be reached."""
        return any(fault.kind == MQTT_KIND for fault in self._faults)

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = parse_fault(next(self._ids), spec)
        self._faults.append(fault)
        self._changed()
        return fault

    def all(self) -> list[Fault]:
        return list(self._faults)

    def get(self, fault_id: int) -> Fault | None:
        return next((f for f in self._faults if f.id == fault_id), None)

    def remove(self, fault_id: int) -> bool:
        fault = self.get(fault_id)
        if fault is None:
            return False
        self._faults.remove(fault)
        fault.release()
        self._changed()
        return True

    def clear(self) -> None:
        for fault in self._faults:
            fault.release()
        self._faults = []
        self._changed()

    def plan(self, path: str, query: str) -> Plan | None:
        """Consume one hit of every matching fault; None when none matches."""
        delay = 0.0
        final: Fault | None = None
        matched = False
        for fault in list(self._faults):
            if fault.kind is not None:  # a stream fault: stream_plan's
                continue
            if fault.count == 0 or not fault.matches(path, query):  # 0: a spent hang, kept to be released
                continue
            if final is not None and (fault.replies or fault.drop or fault.hang):
                continue  # the first terminal fault wins; later ones wait for their turn
            matched = True
            fault.hits += 1
            delay += fault.delay()
            if fault.replies or fault.drop or fault.hang:
                final = fault
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0 and not fault.hang:
                    self._faults.remove(fault)
        return Plan(delay, final) if matched else None

    def stream_plan(self, kind: str) -> StreamPlan | None:
        """Consume one hit of every stream fault of `kind` (one call: one new stream); None when none.
        Several faults add up: refused if one refuses, the smallest drop_after, the delays summed."""
        refuse, drop_after, delay, matched = False, None, 0.0, False
        for fault in list(self._faults):
            if fault.kind != kind:
                continue
            matched = True
            fault.hits += 1
            refuse = refuse or fault.refuse
            if fault.drop_after is not None:
                drop_after = fault.drop_after if drop_after is None else min(drop_after, fault.drop_after)
            delay += fault.delay_s
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
        return StreamPlan(refuse, drop_after, delay) if matched else None
