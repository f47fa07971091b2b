"""I/O ports of the W401, bound to the `IOPort.I#` parameter groups (issue 7).

The settings (direction, normal state, names, supervision) live in parameters, so
param.cgi, io/port.cgi, portmanagement.cgi and supervisedio.cgi show one state; the
physical world (what the contacts wired to the inputs do, cut or shorted wiring) and
what the outputs drive live here and are saved with the device's state.

Parameter mapping (vapix-wire.md §5.3; P5512 dump in param-trees.md §5.7):
- `IOPort.I#.Input.Trig` / `Output.Active` are the circuit that makes the port active,
  so the manual's "Normal state" is the other one;
- `Input.NbrOfInputs` / `Output.NbrOfOutputs` count the ports per direction;
- axisim adds `IOPort.I#.Supervised` (yes/no, supervisable ports) and the published
  `IOPort.I#.State` (open, closed, or cut/short for a tampered supervised input): real
  AXIS OS keeps both outside param.cgi, the issue asks for one state through both.

Numbers: `IOPort.I<n>` and portmanagement are 0-based; port.cgi, the manual's "Port 9"
and this module's Python API are 1-based.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer
from axisim.lifecycle import RestartKind
from param_tree import ParamDef, Role

from ...events import Event, TopicDecl
from ..base import Subsystem
from ..stimuli import stimulus
from . import params as io_params
from . import topics as io_topics
from .changes import PortChange, in_request_order, settings
from .params import GROUP, key
from .ports import (
    CLOSED,
    MAX_STEP_MS,
    OPEN,
    TAMPER_STATES,
    Port,
    PortError,
    parse_action,
    run_sequence,
    schedule,
)
from .supervision import LEVELS, Range, check_ranges
from .wiring import parse_wiring, wiring_state

if TYPE_CHECKING:
    from ..base import DeviceView

class IoSubsystem(Subsystem):
    name = "io"

    # -- physical stimuli (the control API's events) --------------------------------------------

    def _input_result(self, port: int) -> dict[str, Any]:
        return {"port": port, "state": self.check(port)}

    @stimulus("an input's circuit closes (1-based port)", port=int)
    def physical_close_input(self, port: int) -> dict[str, Any]:
        self.close_input(port)
        return self._input_result(port)

    @stimulus("an input's circuit opens", port=int)
    def physical_open_input(self, port: int) -> dict[str, Any]:
        self.open_input(port)
        return self._input_result(port)

    @stimulus("a supervised input's wire is cut", port=int)
    def physical_cut_input(self, port: int) -> dict[str, Any]:
        self.cut_input(port)
        return self._input_result(port)

    @stimulus("a supervised input's wire is short-circuited", port=int)
    def physical_short_input(self, port: int) -> dict[str, Any]:
        self.short_input(port)
        return self._input_result(port)

    @stimulus("a tampered input's wiring is repaired", port=int)
    def physical_repair_input(self, port: int) -> dict[str, Any]:
        self.repair_input(port)
        return self._input_result(port)

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        return io_params.definitions(facts)

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        facts = device.variant.facts
        self.ports = [
            Port(index, configurable=self._param(index, "Configurable") == "yes",
                 supervisable=io_params.supervisable(facts, index))
            for index in range(int(facts["io_ports"]))
        ]  # fmt: skip
        self.ranges: dict[int, dict[str, Range]] = {}  # supervised ports' windows, when set
        self._seen: dict[int, tuple[bool, bool]] = {}  # port -> (active, tampered) last reported
        self._timer = DeadlineTimer(device.clock, self.tick)
        device.clock.on_advance.append(self.tick)
        self.sync()
        for port in self.ports:
            port.to_normal()
        self._report(quiet=True)

    # -- parameters <-> ports ------------------------------------------------

    def _param(self, index: int, name: str, default: str = "") -> str:
        return self.device.param(f"{key(index)}.{name}", default)

    def sync(self) -> None:
        """Make the ports follow their settings."""
        io_params.follow_settings(self.ports, self._param)

    def publish_params(self) -> None:
        values = io_params.published(self.ports)
        self.device.params.set_base({k: v for k, v in values.items() if k in self.device.params})

    def refused(self, proposed: dict[str, str]) -> set[str]:
        """Supervision is for inputs (io_params.refused)."""
        return io_params.refused(self.ports, proposed)

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is not None and not any(name.startswith(f"{GROUP}.") for name in applied):
            return
        self.sync()
        # manual, "I/O ports": "If you change any settings on this page, the output circuits
        # go back to their normal positions regardless of any active triggers."
        for port in self.ports:
            port.to_normal()
        self._report()

    # -- what happened: published values, events, the timer -------------------

    def _report(self, quiet: bool = False) -> None:
        """Publish the parameters, and an event for each port whose active or tampered state changed."""
        self.publish_params()
        for port in self.ports:
            now = (port.active, port.tampered)
            before = self._seen.get(port.index)
            self._seen[port.index] = now
            if quiet or before is None or before == now:
                continue
            if before[0] != now[0]:
                self.device.logs.system_event(
                    f"I/O port {port.index + 1} ({port.name}) {'active' if now[0] else 'inactive'}", source="io"
                )
            if before[1] != now[1]:
                what = f"tampering detected ({port.tamper})" if now[1] else "tampering ended"
                self.device.logs.system_event(f"Supervised input {port.index + 1} ({port.name}): {what}", source="io")
            self._emit(port, before, now)
        self._timer.arm(min((t for p in self.ports if (t := p.next_step()) is not None), default=None))

    # -- the device event bus (events.md §1.5 I/O) ----------------------------------------------

    def topics(self) -> list[TopicDecl]:
        return io_topics.declarations(self.ports)

    def states(self) -> list[Event]:
        return [self.state_of(d, s, v) for port in self.ports for d, s, v in io_topics.instances(self.ports, port)]

    def _emit(self, port: Port, before: tuple[bool, bool], now: tuple[bool, bool]) -> None:
        """Publish the port's instances on a change of its active or tampered state."""
        if not self.device.bus.active or before == now:
            return
        for decl, source, data in io_topics.instances(self.ports, port):
            if decl.topic == io_topics.SUPERVISED_PORT or before[0] != now[0]:
                self.publish(decl, source, data)

    def tick(self) -> None:
        """Apply the output sequence steps that are due."""
        now = self.device.clock.now()
        changed = [port.settle(now) for port in self.ports]
        if any(changed) or any(p.next_step() is not None for p in self.ports):
            self._report()

    # -- the physical side (Python API; numbers are 1-based, as in the manual) ---

    def port(self, number: int) -> Port:
        if not 1 <= number <= len(self.ports):
            raise PortError(f"there is no port {number}", "port")
        return self.ports[number - 1]

    def _wired_input(self, number: int) -> Port:
        port = self.port(number)
        if not port.configurable and port.direction == "output":
            raise PortError(f"port {number} is an output only", "direction")
        return port

    def set_input(self, number: int, closed: bool) -> None:
        """The contact wired to an input closes or opens the loop (a button pressed, a window opened)."""
        self._wired_input(number).loop = CLOSED if closed else OPEN
        self._physical()

    def close_input(self, number: int) -> None:
        self.set_input(number, True)

    def open_input(self, number: int) -> None:
        self.set_input(number, False)

    def tamper(self, number: int, how: str | None) -> None:
        """Cut or short an input's wiring ("cut" | "short"), or repair it (None)."""
        if how is not None and how not in TAMPER_STATES:
            raise PortError(f"tampering is 'cut' or 'short', not {how!r}")
        self._wired_input(number).tamper = how
        self._physical()

    def cut_input(self, number: int) -> None:
        self.tamper(number, "cut")

    def short_input(self, number: int) -> None:
        self.tamper(number, "short")

    def repair_input(self, number: int) -> None:
        self.tamper(number, None)

    def output(self, number: int) -> str:
        """What an output drives now: "open" or "closed" circuit."""
        port = self.port(number)
        if port.direction != "output":
            raise PortError(f"port {number} is not an output", "direction")
        self.tick()
        return port.drive

    def _physical(self) -> None:
        self._report()
        self.device.changed()

    # -- what the APIs do (port.cgi is 1-based, portmanagement and supervision 0-based) --

    def check(self, number: int) -> str:
        """port.cgi check: the circuit the port reads or drives."""
        self.tick()
        return self.port(number).circuit

    def run_action(self, text: str) -> None:
        """port.cgi action (`2:/300\\`): outputs only."""
        number, changes = parse_action(text)
        schedule(self.port(number), changes, self.device.clock.now())
        self._report()

    def at(self, index: int) -> Port:
        """A port by its 0-based index (PortError "port" when there is none)."""
        return self.port(index + 1)

    def set_ports(self, changes: list[PortChange]) -> tuple[list[int], list[tuple[int, str | None]]]:
        """portmanagement setPorts: apply what is valid; return the ports changed and the
        refused (port, property) pairs (property None: no such port). Directions come first,
        so a name or normal state lands on the side the port really has; settings return
        the outputs to normal (manual), then the requested output states apply."""
        failures: list[tuple[int, str | None]] = []
        known = []
        for change in changes:
            if 0 <= change.index < len(self.ports):
                known.append(change)
            else:
                failures.append((change.index, None))
        directions = []
        for change in known:
            port = self.ports[change.index]
            if change.direction is not None and change.direction != port.direction and not port.configurable:
                failures.append((change.index, "direction"))
            elif change.direction is not None:
                directions.append((f"{key(change.index)}.Direction", change.direction, change.index, "direction"))
        failures += self._apply(directions)
        failures += self._apply(
            [update for c in known for update in settings(c, key(c.index), self.ports[c.index].direction)]
        )
        for change in known:
            port = self.ports[change.index]
            if change.state is None:
                continue
            if port.direction != "output" or change.state not in (OPEN, CLOSED):
                failures.append((change.index, "state"))
            else:
                # "the state will be overridden when the next part of the sequence is executed"
                port.drive = change.state
        self._report()
        return [change.index for change in known if change.touches], in_request_order(failures, changes)

    def _apply(self, updates: list[tuple[str, str, int, str]]) -> list[tuple[int, str | None]]:
        """Set (parameter, value, port, property) updates; the refused ones as (port, property)."""
        if not updates:
            return []
        refused = {name for name, _ in self.device.update_params([(n, v) for n, v, _, _ in updates], Role.ADMIN)}
        return [(index, prop) for name, _, index, prop in updates if name in refused]

    def set_state_sequence(self, index: int, states: list[tuple[str, int]]) -> None:
        """portmanagement setStateSequence: each (circuit, hold ms) in turn; the last one stays."""
        port = self.at(index)
        if port.direction != "output":
            raise PortError(f"port {index} is not an output", "direction")
        if not states or any(c not in (OPEN, CLOSED) or not 0 <= ms <= MAX_STEP_MS for c, ms in states):
            raise PortError("a sequence is open/closed states held 0-65535 ms", "value")
        self.tick()
        if port.steps:
            raise PortError("State sequence already ongoing", "ongoing")
        run_sequence(port, states, self.device.clock.now())
        self._report()

    # -- supervision (supervisedio.cgi) -------------------------------------------

    def supervisable(self, index: int) -> bool:
        port = self.at(index)
        return port.supervisable and port.direction == "input"

    def level(self, index: int) -> int:
        """The loop's level as the end-of-line resistors make it (0-255 scale), read only when supervised."""
        port = self.at(index)
        if not port.supervised:
            return 0
        return LEVELS[port.tamper or ("close" if port.loop == CLOSED else OPEN)]

    def supervision_state(self, index: int) -> str:
        """short | close | open | cut, the names getSupportedStates lists."""
        port = self.at(index)
        state = port.state
        return {"closed": "close", "cut": "cut", "short": "short"}.get(state, OPEN)

    def set_supervised(self, index: int, on: bool, ranges: dict[str, Range] | None = None) -> None:
        if not self.supervisable(index):
            raise PortError(f"port {index} cannot be supervised", "supervision")
        if ranges is not None:
            check_ranges(ranges)
        if self.device.update_params([(f"{key(index)}.Supervised", "yes" if on else "no")], Role.ADMIN):
            raise PortError(f"port {index} cannot be supervised", "supervision")
        if ranges is not None:
            self.ranges[index] = dict(ranges)
            self.device.changed()

    # -- the device's restarts ---------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        if kind is not RestartKind.REBOOT:
            self.ranges.clear()  # a factory default forgets the supervision windows
        # manual: "During restart, the output circuit is open."
        for port in self.ports:
            port.steps.clear()
            if port.direction == "output":
                port.drive = OPEN
        self._report()

    def booted(self) -> None:
        # "When the restart is complete, the circuit goes back to the normal position."
        for port in self.ports:
            port.to_normal()
        self._report()

    # -- the physical world survives a restart of the simulator ------------------

    def to_state(self) -> Any:
        return wiring_state(self.ports, self.ranges)

    def load_state(self, state: Any) -> None:
        loops, ranges = parse_wiring(state, len(self.ports))
        for index, (loop, tamper) in loops.items():
            self.ports[index].loop, self.ports[index].tamper = loop, tamper
        self.ranges = ranges
        self.sync()
        self._report(quiet=True)


__all__ = ["CLOSED", "OPEN", "IoSubsystem", "PortChange", "PortError", "Range"]
