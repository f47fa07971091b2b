"""Physical events on HTTP: the subsystems' Python APIs, by name, with typed arguments.

`apply(device, "poe", "plug", {"port": 3, "class": 3})` is what a technician plugging
a camera into port 3 does. Each event checks its arguments before it acts, so a
bad request changes nothing; what the subsystem refuses comes back as EventError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..device import Device
from ..subsystems.poe.switch import PoweredDevice
from ..subsystems.service_faults import ServiceFault
from ..subsystems.storage.media import StorageError

REQUIRED = object()
MAX_RECORDINGS = 10_000  # per event: a bounded loop
_TYPES: dict[type, str] = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}


class EventError(ValueError):
    """An unknown event, a bad argument, or a refusal by the subsystem."""


@dataclass(frozen=True)
class Event:
    subsystem: str
    name: str
    doc: str
    args: dict[str, tuple[type, Any]]  # name -> (type, default or REQUIRED)
    act: Callable[[Any, dict[str, Any]], Any]  # (subsystem, checked arguments) -> JSON-able result

    def describe(self) -> dict[str, Any]:
        return {
            "subsystem": self.subsystem,
            "event": self.name,
            "doc": self.doc,
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


def _powered_device(a: dict[str, Any]) -> PoweredDevice:
    return PoweredDevice(
        poe_class=a["class"],
        draw_w=a["draw_w"],
        lldp_request_w=a["lldp_w"],
        model=a["model"],
        mac=a["mac"],
        link=a["link"],
    )


def _plug(poe: Any, a: dict[str, Any]) -> Any:
    poe.plug(a["port"], _powered_device(a))
    return {"port": a["port"], "status": poe.status(a["port"])}


def _unplug(poe: Any, a: dict[str, Any]) -> Any:
    removed = poe.unplug(a["port"])
    return {"port": a["port"], "removed": removed.name if removed else None}


def _replace_drive(storage: Any, a: dict[str, Any]) -> Any:
    drive = storage.replace_drive(a["bay"], a["capacity"], a["serial"])
    return {"bay": drive.bay, "serial": drive.serial, "capacity": drive.capacity, "raid": storage.raid_status()}


def _recording(storage: Any, a: dict[str, Any]) -> Any:
    if not 1 <= a["count"] <= MAX_RECORDINGS:
        raise EventError(f"count is 1 to {MAX_RECORDINGS} recordings")
    recordings = [storage.add_recording(a["size"], a["age_days"]) for _ in range(a["count"])]
    return {"recordings": [r.id for r in recordings], "free": storage.free()}


def _drive(action: str) -> Callable[[Any, dict[str, Any]], Any]:
    def act(storage: Any, a: dict[str, Any]) -> Any:
        getattr(storage, action)(a["bay"])
        return {"bay": a["bay"], "raid": storage.raid_status()}

    return act


def _input(action: str) -> Callable[[Any, dict[str, Any]], Any]:
    def act(io: Any, a: dict[str, Any]) -> Any:
        getattr(io, action)(a["port"])
        return {"port": a["port"], "state": io.check(a["port"])}

    return act


def _wlan_add(wlan: Any, a: dict[str, Any]) -> Any:
    options = {k: v for k, v in a.items() if k != "ssid" and v is not None}
    wlan.add_network(a["ssid"], **options)
    return {"ssid": a["ssid"], "state": wlan.state()}


def _done(result: Any = None) -> Any:
    return {} if result is None else result


# fmt: off
PORT = {"port": (int, REQUIRED)}
BAY = {"bay": (int, REQUIRED)}
EVENTS: dict[tuple[str, str], Event] = {
    (e.subsystem, e.name): e
    for e in [
        Event("poe", "plug", "a powered device is plugged into a PoE port", {
            **PORT, "class": (int, 4), "draw_w": (float, 6.0), "lldp_w": (float, None),
            "model": (str, "AXIS camera"), "mac": (str, ""), "link": (bool, True),
        }, _plug),
        Event("poe", "unplug", "the powered device on a PoE port is unplugged", PORT, _unplug),
        Event("storage", "fail_drive", "the drive in a bay (0-based) breaks", BAY, _drive("fail_drive")),
        Event("storage", "remove_drive", "the drive in a bay is pulled out", BAY, _drive("remove_drive")),
        Event("storage", "replace_drive", "the drive in a bay is replaced by a new one", {
            **BAY, "capacity": (int, None), "serial": (str, None),
        }, _replace_drive),
        Event("storage", "add_recording", "recordings land on the disk", {
            "size": (int, 100_000_000), "age_days": (float, 0.0), "count": (int, 1),
        }, _recording),
        Event("storage", "set_temperature", "a drive's temperature changes", {**BAY, "celsius": (float, REQUIRED)},
              lambda s, a: _done(s.set_temperature(a["bay"], a["celsius"]))),
        Event("storage", "damage_filesystem", "a power cut while writing damages the last recordings",
              {"recordings": (int, 1)}, lambda s, a: _done(s.damage_filesystem(a["recordings"]))),
        Event("io", "close_input", "an input's circuit closes (1-based port)", PORT, _input("close_input")),
        Event("io", "open_input", "an input's circuit opens", PORT, _input("open_input")),
        Event("io", "cut_input", "a supervised input's wire is cut", PORT, _input("cut_input")),
        Event("io", "short_input", "a supervised input's wire is short-circuited", PORT, _input("short_input")),
        Event("io", "repair_input", "a tampered input's wiring is repaired", PORT, _input("repair_input")),
        Event("sip", "incoming_call", "a SIP user agent calls the device", {
            "from": (str, "sip:caller@192.168.0.20"), "account": (str, None),
        }, lambda s, a: {"call_id": s.incoming_call(a["from"], a["account"])}),
        Event("sip", "remote_hangup", "the far end hangs up a call", {"call_id": (str, REQUIRED)},
              lambda s, a: _done(s.remote_hangup(a["call_id"]))),
        Event("sip", "dtmf", "the far end of an active call sends DTMF", {
            "call_id": (str, REQUIRED), "sequence": (str, REQUIRED), "method": (str, "rtp"),
        }, lambda s, a: {"event": s.receive_dtmf(a["call_id"], a["sequence"], a["method"])}),
        Event("sip", "registration", "what the registrar answers an account", {
            "account": (str, REQUIRED), "code": (int, 200), "text": (str, None),
        }, lambda s, a: _done(s.set_registration(a["account"], a["code"], a["text"]))),
        Event("sip", "remote", "how called parties answer the device's calls", {
            "outcome": (str, REQUIRED), "after": (float, 2.0), "uri": (str, "*"), "hangs_up_after": (float, None),
        }, lambda s, a: _done(s.set_remote(a["outcome"], a["after"], a["uri"], a["hangs_up_after"]))),
        Event("audio", "press_button", "someone presses the control button", {},
              lambda s, a: _done(s.press_control_button())),
        Event("audio", "microphone_switch", "the microphone switch is set", {"on": (bool, REQUIRED)},
              lambda s, a: _done(s.set_microphone_switch(a["on"]))),
        Event("audio", "speaker_test_result", "whether the next speaker test passes", {"passes": (bool, REQUIRED)},
              lambda s, a: _done(s.set_speaker_test_result(a["passes"]))),
        Event("power", "ignition", "the vehicle's ignition turns on or off", {"on": (bool, REQUIRED)},
              lambda s, a: _done(s.set_ignition(a["on"]))),
        Event("power", "dc", "the DC supply is connected or disconnected", {"connected": (bool, REQUIRED)},
              lambda s, a: _done(s.set_dc(a["connected"]))),
        Event("power", "cable", "the Ethernet cable is plugged or unplugged", {
            "connected": (bool, REQUIRED), "poe": (bool, None),
        }, lambda s, a: _done(s.set_cable(a["connected"], a["poe"]))),
        Event("wlan", "add_network", "a wireless network comes into range", {
            "ssid": (str, REQUIRED), "security": (str, None), "passphrase": (str, None), "hidden": (bool, None),
            "signal": (int, None), "channel": (int, None),
        }, _wlan_add),
        Event("wlan", "remove_network", "a wireless network goes out of range", {"ssid": (str, REQUIRED)},
              lambda s, a: _done(s.remove_network(a["ssid"]))),
    ]
}
# fmt: on


def available(device: Device) -> list[Event]:
    """The events a device's subsystems accept."""
    return [e for e in EVENTS.values() if e.subsystem in device.subsystems]


def apply(device: Device, subsystem: str, name: str, given: dict[str, Any]) -> Any:
    """Run one physical event; EventError when it is unknown, malformed or refused."""
    event = EVENTS.get((subsystem, name))
    if event is None or subsystem not in device.subsystems:
        names = ", ".join(f"{e.subsystem}.{e.name}" for e in available(device))
        raise EventError(f"{device.model.id} has no event {subsystem}.{name}; events: {names}")
    arguments = _check(event, given)
    try:
        return event.act(device.subsystems[subsystem], arguments)
    except EventError:
        raise
    except (ValueError, LookupError, StorageError, ServiceFault) as exc:  # the subsystem refuses: nothing changed
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise EventError(str(message)) from exc
