"""Virtual inputs and the manual trigger of every model (events.md §4.7).

Virtual inputs are 64 switches a client turns on and off (`virtualinput/activate.cgi`,
`deactivate.cgi`), optionally on for a duration; action rules and VMSs use them as conditions.
The manual trigger is the older form (`io/virtualinput.cgi?action=6:/2000\\`): its port number
is `Properties.IO.ManualTriggerNbr` (6), its event the view area's `IO/VirtualPort`. Both are
volatile: a restart turns them off. Each change publishes its property event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from axisim.clock import DeadlineTimer
from param_tree import whole_number

from ...events import Event, TopicDecl
from ..base import Subsystem
from .inputs import MAX_DURATION_S, Switches, VirtualInputError, parse_action
from .topics import MANUAL_TRIGGERS, VIRTUAL_INPUTS, virtual_input_decl, virtual_port_decl

if TYPE_CHECKING:
    from axisim.lifecycle import RestartKind

    from ..base import DeviceView

MANUAL_TRIGGER_NBR = "Properties.IO.ManualTriggerNbr"
DEFAULT_MANUAL_TRIGGER = 6  # the API's default, "commonly 6 for products with up to 4 I/O ports"


class VirtualInputSubsystem(Subsystem):
    name = "virtualinput"

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        facts = device.variant.facts
        self.inputs = Switches(int(facts.get("virtual_inputs", VIRTUAL_INPUTS)))
        self.triggers = Switches(int(facts.get("manual_triggers", MANUAL_TRIGGERS)))
        self._input_decl = virtual_input_decl(self.inputs.count)
        self._trigger_decl = virtual_port_decl(self.triggers.count)
        self._timer = DeadlineTimer(device.clock, self.tick)
        device.clock.on_advance.append(self.tick)

    # -- virtual inputs (virtualinput/activate.cgi, deactivate.cgi) -----------------------------

    def activate(self, port: int, duration: int | None = None) -> bool:
        """Turn a virtual input on (off again after `duration` seconds; 0: at once); True when it was off.
        VirtualInputError "duration" / "port" when refused."""
        if duration is not None and not 0 <= duration <= MAX_DURATION_S:
            raise VirtualInputError(f"invalid duration {duration}", "duration")
        self.inputs.check(port)
        then = [(self.device.clock.now() + duration, False)] if duration else None
        changed = self._set_input(port, True, then)
        if duration == 0:
            self._set_input(port, False)
        return changed

    def deactivate(self, port: int) -> bool:
        """Turn a virtual input off; True when it was on."""
        return self._set_input(port, False)

    def is_active(self, port: int) -> bool:
        self.inputs.check(port)
        return self.inputs.is_active(port)

    def _set_input(self, port: int, active: bool, then: list[tuple[float, bool]] | None = None) -> bool:
        changed = self.inputs.set(port, active, then)
        if changed:
            self.publish(self._input_decl, {"port": port}, {"active": active})
        self._arm()
        return changed

    # -- the manual trigger (io/virtualinput.cgi) -------------------------------------------------

    @property
    def manual_trigger_number(self) -> int:
        """The action port of the first manual trigger (`Properties.IO.ManualTriggerNbr`)."""
        number = whole_number(self.device.param(MANUAL_TRIGGER_NBR, str(DEFAULT_MANUAL_TRIGGER)))
        return DEFAULT_MANUAL_TRIGGER if number is None else number

    def run_action(self, text: str) -> None:
        """`6:/2000\\`: set the manual trigger, then each later change after its wait (ms). VirtualInputError
        "action" (malformed) or "port" (not a manual trigger: the physical inputs are not simulated here)."""
        port, steps = parse_action(text)
        trigger = (1 if port is None else port) - self.manual_trigger_number + 1
        if not 1 <= trigger <= self.triggers.count:
            raise VirtualInputError(f"port {port} is not a manual trigger", "port")
        now, then = self.device.clock.now(), []
        at = now
        for active, wait in steps[1:]:
            at += wait / 1000
            then.append((at, active))
        if self.triggers.set(trigger, steps[0][0], then):
            self.publish(self._trigger_decl, {"port": trigger}, {"state": steps[0][0]})
        self._arm()
        self.tick()  # zero waits take effect at once

    def trigger_active(self, trigger: int = 1) -> bool:
        self.triggers.check(trigger)
        return self.triggers.is_active(trigger)

    # -- time and restarts ------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply the scheduled changes that are due (durations, trigger sequences)."""
        now = self.device.clock.now()
        for port, active in self.inputs.due(now):
            self.publish(self._input_decl, {"port": port}, {"active": active})
        for trigger, active in self.triggers.due(now):
            self.publish(self._trigger_decl, {"port": trigger}, {"state": active})
        self._arm()

    def _arm(self) -> None:
        times = [t for t in (self.inputs.next_due(), self.triggers.next_due()) if t is not None]
        self._timer.arm(min(times, default=None))

    def going_down(self, kind: RestartKind) -> None:
        """A restart turns every virtual input and trigger off."""
        for port in sorted(self.inputs.active):
            self.publish(self._input_decl, {"port": port}, {"active": False})
        for trigger in sorted(self.triggers.active):
            self.publish(self._trigger_decl, {"port": trigger}, {"state": False})
        self.inputs.clear()
        self.triggers.clear()
        self._arm()

    # -- the device event bus -----------------------------------------------------------------------

    def topics(self) -> list[TopicDecl]:
        return [self._input_decl, self._trigger_decl]

    def states(self) -> list[Event]:
        inputs = [
            self.state_of(self._input_decl, {"port": n}, {"active": self.inputs.is_active(n)})
            for n in range(1, self.inputs.count + 1)
        ]
        triggers = [
            self.state_of(self._trigger_decl, {"port": n}, {"state": self.triggers.is_active(n)})
            for n in range(1, self.triggers.count + 1)
        ]
        return inputs + triggers
