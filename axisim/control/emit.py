"""Emit a declared event directly, as if a subsystem had published it: for a test author whose client
must handle an event no stimulus produces (a temperature alarm, a casing opened, a value out of range).

Only what the device declares (`device.event_topics()`, what GetEventInstances lists) may be emitted,
with the source and data item names its declaration has, so an emitted event is one a real device of
the model could send. The subsystem's state is not changed: a new subscriber's initial states
(`event_states()`) still show the simulated truth.
"""

from __future__ import annotations

from typing import Any

from ..device import Device
from ..events import Event, Item, TopicDecl, event_of

PUBLISHER = "control"
_VALUE_TYPES = (str, int, float, bool)


class EmitError(ValueError):
    """An event the device does not declare, or items its declaration has not."""


def _declaration(device: Device, topic: object) -> TopicDecl:
    if not isinstance(topic, str) or not topic:
        raise EmitError("topic is a string: a declared topic, e.g. tns1:Device/tnsaxis:IO/Port")
    declared = device.event_topics()
    decl = next((d for d in declared if d.topic == topic), None)
    if decl is None:
        names = ", ".join(sorted(d.topic for d in declared))
        raise EmitError(f"{device.model.id} declares no topic {topic!r}; topics: {names}")
    return decl


def _items(decl: TopicDecl, part: str, given: object, declared: tuple[Item, ...]) -> dict[str, Any]:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise EmitError(f"{part} is a JSON object of item names and values")
    names = [item.name for item in declared]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise EmitError(
            f"{decl.topic} declares {part} items {', '.join(names) or '(none)'}, not {', '.join(unknown)}"
        )  # fmt: skip
    for name, value in given.items():
        if not isinstance(value, _VALUE_TYPES):
            raise EmitError(f"{part} item {name} is a string, number or true/false")
    return given


def declared_event(device: Device, topic: object, source: object = None, data: object = None) -> Event:
    """The Event a device would publish for this declared topic, values as text; EmitError otherwise.
    Every source item the topic declares is needed (it names the instance), and for a property
    state its state item; other data items may be left out."""
    decl = _declaration(device, topic)
    source_items = _items(decl, "source", source, decl.source)
    data_items = _items(decl, "data", data, decl.data)
    missing = [item.name for item in decl.source if item.name not in source_items]
    if decl.stateful and decl.key is not None and decl.key not in data_items:
        missing.append(decl.key)
    if missing:
        raise EmitError(f"{decl.topic} needs {', '.join(missing)}")
    return event_of(decl, source_items, data_items, device.clock.wall(), PUBLISHER)


def emit(device: Device, topic: object, source: object = None, data: object = None) -> Event:
    """Publish a declared event on the device's bus (to every subscriber whose filter takes it)."""
    event = declared_event(device, topic, source, data)
    device.bus.deliver(event)
    return event
