"""The W401's Bluetooth beacon: what it receives from body worn cameras and what it broadcasts.

Receiving is physical (the control API's `beacon` stimulus: a camera of a body worn system, its
System ID, sends a message type) and becomes the stateless `Bluetooth/BeaconReceived` event a rule
takes as its trigger ("In the list of conditions, select Bluetooth beacon signal received. In
System ID, enter the body worn system's ID"). Broadcasting is the rules' "Broadcast signal" action
(`broadcast`, `stop_broadcast`: System ID and message type, "enter 1 to broadcast the message
lightbar active"); the `Bluetooth/Broadcast` property says what the kit sends now (the latest of
the running broadcasts). Nothing is saved: a restart stops broadcasting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...events import Event, TopicDecl
from ..base import Refusal, Subsystem
from ..stimuli import stimulus
from .topics import BEACON_RECEIVED_DECL, BROADCAST_DECL

if TYPE_CHECKING:
    from axisim.lifecycle import RestartKind

    from ..base import DeviceView

MAX_SYSTEM_ID = 64  # [GUESS] characters of a body worn system's ID
MAX_MESSAGE_TYPE = 255  # [GUESS] one byte of the beacon's payload
MAX_BROADCASTS = 256  # one per rule at most (256 rules)


class BeaconError(Refusal, ValueError):
    """A System ID or message type the kit cannot send or did not receive."""


def checked(system_id: str, message_type: int) -> tuple[str, int]:
    if not system_id or len(system_id) > MAX_SYSTEM_ID or not system_id.isprintable():
        raise BeaconError(f"invalid System ID {system_id[:MAX_SYSTEM_ID]!r}")
    if isinstance(message_type, bool) or not 0 <= message_type <= MAX_MESSAGE_TYPE:
        raise BeaconError(f"invalid message type {message_type!r} (0-{MAX_MESSAGE_TYPE})")
    return system_id, message_type


class BluetoothSubsystem(Subsystem):
    name = "bluetooth"

    @stimulus("a body worn camera's Bluetooth beacon is received", system_id=str, message_type=(int, 1))
    def physical_beacon(self, system_id: str, message_type: int) -> dict[str, Any]:
        self.receive(system_id, message_type)
        return {"system_id": system_id, "message_type": message_type}

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self._broadcasts: dict[int, tuple[str, int]] = {}  # handle -> (System ID, message type)
        self._next = 1
        self._sent: tuple[str, int] | None = None  # what the Broadcast property last said

    # -- receiving -----------------------------------------------------------------------------------

    def receive(self, system_id: str, message_type: int = 1) -> None:
        """A beacon arrives (BeaconError: not one a body worn system sends)."""
        system_id, message_type = checked(system_id, message_type)
        self.publish(BEACON_RECEIVED_DECL, {"SystemID": system_id}, {"MessageType": message_type})

    # -- broadcasting (the rules' action) ----------------------------------------------------------

    def broadcast(self, system_id: str, message_type: int) -> int:
        """Start broadcasting; a handle for `stop_broadcast` (BeaconError: bad values)."""
        entry = checked(system_id, message_type)
        if len(self._broadcasts) >= MAX_BROADCASTS:
            raise BeaconError("too many broadcasts")
        handle, self._next = self._next, self._next + 1
        self._broadcasts[handle] = entry
        self._changed()
        return handle

    def stop_broadcast(self, handle: int) -> None:
        if self._broadcasts.pop(handle, None) is not None:
            self._changed()

    @property
    def broadcasting(self) -> tuple[str, int] | None:
        """What the kit sends now: the latest running broadcast (None: nothing)."""
        return self._broadcasts[max(self._broadcasts)] if self._broadcasts else None

    def _changed(self) -> None:
        now = self.broadcasting
        if now != self._sent:
            self._sent = now
            self.publish(BROADCAST_DECL, {}, self._data())
            what = "stopped" if now is None else f"System ID {now[0]}, message type {now[1]}"
            self.device.logs.system_event(f"Bluetooth beacon broadcast: {what}", source="bluetooth")

    def _data(self) -> dict[str, object]:
        now = self.broadcasting
        return {"active": now is not None, "SystemID": now[0] if now else "", "MessageType": now[1] if now else 0}

    # -- the device's restarts and events -----------------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        self._broadcasts.clear()
        self._sent = None

    def topics(self) -> list[TopicDecl]:
        return [BEACON_RECEIVED_DECL, BROADCAST_DECL]

    def states(self) -> list[Event]:
        return [self.state_of(BROADCAST_DECL, {}, self._data())]
