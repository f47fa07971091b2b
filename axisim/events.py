"""The device event bus: what happens to a device, as typed events anyone may subscribe to.

A subsystem declares the topics it can emit (`TopicDecl`: the AXIS topic, whether it is a
property state or a pulse, its source and data items) and publishes through
`device.bus.publish(decl, source, data)`. The event stream, action rules, MQTT and the
control API's journal attach here as subscribers with a topic filter; none of them is
known to the publishers. Declarations and events come from the same `TopicDecl`, so
what `GetEventInstances` declares and what a stream sends cannot disagree.

Cost: while nobody subscribes, `publish` is one attribute test, no Event is built (a
fleet of 10,000 devices pays nothing for events no one reads). Values are strings as on
every Axis event surface (events.md §0.4): booleans `"1"`/`"0"`.

No HTTP, no wire format here: topics are kept in their declaration spelling
(`tns1:Device/tnsaxis:IO/Port`); each surface spells them its own way.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

LOG = logging.getLogger("axisim")


@dataclass(frozen=True, slots=True)
class Item:
    """A source or data item of a topic (events.md §1.3 SimpleItemInstance)."""

    name: str
    type: str = "xsd:boolean"  # as declared: xsd:int, xsd:string, xsd:boolean, tt:ReferenceToken, ...
    key: bool = False  # isPropertyState: this data item's value is the state
    nice: str | None = None
    values: tuple[tuple[str, str | None], ...] = ()  # declared values and their nice names


@dataclass(frozen=True, slots=True)
class TopicDecl:
    """One topic a device can emit: property state (`stateful`) or pulse."""

    topic: str  # declaration spelling, e.g. tns1:Device/tnsaxis:IO/Port
    stateful: bool
    source: tuple[Item, ...] = ()
    data: tuple[Item, ...] = ()
    nice: str | None = None

    @property
    def key(self) -> str | None:
        """The data item holding the state (stateful topics)."""
        return next((item.name for item in self.data if item.key), None)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened: topic, source (which instance), data, device time."""

    topic: str
    source: dict[str, str]
    data: dict[str, str]
    time: float  # device wall clock (Unix seconds)
    stateful: bool
    key: str | None = None  # the data item holding the state, for stateful topics
    publisher: str = ""  # the subsystem (or "device") that published it

    @property
    def value(self) -> str | None:
        """The state value of a property event (None for a pulse)."""
        return self.data.get(self.key) if self.key else None


def text(value: object) -> str:
    """An event value as every Axis surface sends it: booleans "1"/"0", numbers as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def topic_matches(pattern: str, topic: str) -> bool:
    """The one topic-filter matcher (the bus, the event streams, the control API's log): ONVIF-style
    `a/b//.` (the subtree under a/b, a/b included; `//.` alone: every topic), alternatives joined by
    `|` (ONVIF ConcreteSet), `fnmatch` globs, or the exact topic. Both sides in one spelling
    (`tns1:`/`tnsaxis:`); a surface with another spelling converts its filters first."""
    if "|" in pattern:
        return any(topic_matches(part.strip(), topic) for part in pattern.split("|") if part.strip())
    if pattern.endswith("//."):
        stem = pattern[:-3]
        return not stem or topic == stem or topic.startswith(stem + "/")
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(topic, pattern)
    return topic == pattern


SIMULATOR_NAMESPACE = "axisim:"  # the simulator's own topics (a rule's action runs): never declared


def for_clients(topic: str) -> bool:
    """A topic a device's clients may see: not one of the simulator's own (events.md §1.5 lists what
    a device declares; `axisim:` topics exist only for the control API and tests)."""
    return not topic.startswith(SIMULATOR_NAMESPACE)


class Clock(Protocol):
    def wall(self) -> float: ...


@dataclass(eq=False, slots=True)
class Subscription:
    """A subscriber's callback and filter; `cancel()` stops it."""

    bus: EventBus
    callback: Callable[[Event], None]
    patterns: tuple[str, ...] = ()  # empty: every topic
    clients: bool = False  # a client's stream: the simulator's own topics are left out
    cancelled: bool = field(default=False)

    def wants(self, topic: str) -> bool:
        if self.clients and not for_clients(topic):
            return False
        return not self.patterns or any(topic_matches(p, topic) for p in self.patterns)

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.bus._drop(self)


class EventBus:
    """One device's events. Subscribers are called synchronously, in subscription order; one that
    raises is logged and the others still get the event (a broken stream never stops a relay)."""

    __slots__ = ("_clock", "_subscriptions")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._subscriptions: tuple[Subscription, ...] = ()  # replaced, never mutated: safe to iterate

    @property
    def active(self) -> bool:
        """Someone listens: a publisher may skip work only events would need."""
        return bool(self._subscriptions)

    def subscribe(
        self, callback: Callable[[Event], None], topics: Iterable[str] = (), *, clients: bool = False
    ) -> Subscription:
        """`clients=True` for what goes out to a device's clients (event streams, MQTT): the
        simulator's own `axisim:` topics never reach them."""
        subscription = Subscription(self, callback, tuple(topics), clients)
        self._subscriptions = (*self._subscriptions, subscription)
        return subscription

    def _drop(self, subscription: Subscription) -> None:
        self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)

    def publish(
        self, decl: TopicDecl, source: dict[str, object] | None = None, data: dict[str, object] | None = None,
        *, publisher: str = "",
    ) -> None:  # fmt: skip
        if not self._subscriptions:
            return
        event = event_of(decl, source or {}, data or {}, self._clock.wall(), publisher)
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Hand a built event to the subscribers that want its topic."""
        for subscription in self._subscriptions:
            if subscription.wants(event.topic):
                try:
                    subscription.callback(event)
                except Exception:  # a subscriber's bug must not undo the device's action
                    LOG.exception("event subscriber failed on %s", event.topic)


def event_of(
    decl: TopicDecl, source: dict[str, object], data: dict[str, object], time: float, publisher: str = ""
) -> Event:
    """The Event of a declared topic, values as text: what `publish` sends, and a property's current
    state (what a new subscriber is told first, events.md §0.5)."""
    return Event(
        decl.topic, {k: text(v) for k, v in source.items()}, {k: text(v) for k, v in data.items()}, time,
        decl.stateful, decl.key, publisher,
    )  # fmt: skip


# The device's own topics (subsystems declare theirs): events.md §1.5 "System and status".
SYSTEM_READY = TopicDecl(
    "tns1:Device/tnsaxis:Status/SystemReady", stateful=True, data=(Item("ready", key=True),), nice="System Ready"
)

# Network/Lost is the device's, whichever subsystem sees the link go (power: the cable, wlan: the
# association): one declaration with the union of the interfaces (events.md §1.5, §7).
NETWORK_LOST = "tns1:Device/tnsaxis:Network/Lost"
ETH0, WLAN0 = "eth0", "wlan0"


def network_lost_decl(interfaces: Iterable[str]) -> TopicDecl:
    """Network/Lost for the device's interfaces (eth0, and wlan0 on a device with WLAN)."""
    source = (Item("interface", "xsd:string", values=tuple((name, None) for name in interfaces)),)
    return TopicDecl(NETWORK_LOST, True, source, (Item("lost", key=True),), nice="Network lost")


def interfaces_of(subsystems: Iterable[str]) -> tuple[str, ...]:
    """The interfaces a device with these subsystems reports in Network/Lost."""
    names = set(subsystems)
    return (*((ETH0,) if "power" in names else ()), *((WLAN0,) if "wlan" in names else ()))
