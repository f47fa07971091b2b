"""Physical events on HTTP: the stimuli each subsystem declares (`axisim.subsystems.stimuli`),
by name, with typed arguments.

`apply(device, "poe", "plug", {"port": 3, "class": 3})` is what a technician plugging
a camera into port 3 does. Each event checks its arguments before it acts, so a
bad request changes nothing; what the subsystem refuses comes back as EventError.
No list of events is kept here: a subsystem's stimuli are found on its class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..device import Device
from ..subsystems.base import Refusal
from ..subsystems.stimuli import REQUIRED, Stimulus, stimuli_of

_TYPES: dict[type, str] = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}


class EventError(ValueError):
    """An unknown event, a bad argument, or a refusal by the subsystem."""


@dataclass(frozen=True)
class Event:
    """A subsystem's stimulus as the control API names it."""

    subsystem: str
    stimulus: Stimulus

    @property
    def name(self) -> str:
        return self.stimulus.name

    @property
    def args(self) -> dict[str, tuple[type, Any]]:
        return self.stimulus.args

    def describe(self) -> dict[str, Any]:
        return {
            "subsystem": self.subsystem,
            "event": self.name,
            "doc": self.stimulus.doc,
            "args": {
                name: {"type": kind.__name__, **({} if default is REQUIRED else {"default": default})}
                for name, (kind, default) in self.args.items()
            },
        }


def _check(event: Event, given: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(event.args))
    if unknown:
        raise EventError(
            f"{event.subsystem}.{event.name} takes {', '.join(event.args) or 'no arguments'}, not {', '.join(unknown)}"
        )
    checked: dict[str, Any] = {}
    for name, (kind, default) in event.args.items():
        if name not in given:
            if default is REQUIRED:
                raise EventError(f"{event.subsystem}.{event.name} needs {name} ({_TYPES[kind]})")
            checked[name] = default
            continue
        value = given[name]
        if value is None and default is None:
            checked[name] = None
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise EventError(f"{name} is {_TYPES[kind]}")
        checked[name] = value
    return checked


def available(device: Device) -> list[Event]:
    """The events a device's subsystems accept."""
    return [
        Event(word, stimulus)
        for word, subsystem in device.subsystems.items()
        for stimulus in stimuli_of(type(subsystem)).values()
    ]


def apply(device: Device, subsystem: str, name: str, given: dict[str, Any]) -> Any:
    """Run one physical event; EventError when it is unknown, malformed or refused."""
    target = device.subsystems.get(subsystem)
    stimulus = stimuli_of(type(target)).get(name) if target is not None else None
    if target is None or stimulus is None:
        names = ", ".join(f"{e.subsystem}.{e.name}" for e in available(device))
        raise EventError(f"{device.model.id} has no event {subsystem}.{name}; events: {names}")
    arguments = _check(Event(subsystem, stimulus), given)
    try:
        return stimulus.perform(target, arguments)
    except EventError:
        raise
    except (Refusal, ValueError, LookupError) as exc:  # the subsystem refuses: nothing changed
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise EventError(str(message)) from exc
