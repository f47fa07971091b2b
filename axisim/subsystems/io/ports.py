"""I/O ports as the W401's connector has them: pure state, no parameters, no HTTP (issue 7, step 1).

A port is an input or an output (configurable ports switch), with a normal state
(open or closed circuit) and a current circuit; it is active when the circuit
differs from its normal state (W401 manual, "I/O ports": "The input or output is
activated when the current state is different from the normal state"). A
supervised input also knows when its loop is cut or shorted (end-of-line resistors).
An output follows a timed sequence of states (port.cgi pulses and waits,
portmanagement's setStateSequence), evaluated on the device clock.

Parameter mapping (for the subsystem): an input's `IOPort.I#.Input.Trig` is the
circuit that makes it active, so normal state = the other one; an output's
`IOPort.I#.Output.Active` likewise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from param_tree import whole_number

OPEN, CLOSED = "open", "closed"
TAMPER_STATES = ("cut", "short")
MAX_STEP_MS = 65535  # portmanagement setStateSequence: time <= 65535 ms
_ACTION = re.compile(r"(?:([0-9]+):)?((?:[/\\]|[0-9]+)+)")
_TOKEN = re.compile(r"[/\\]|[0-9]+")


class PortError(ValueError):
    """A request the ports refuse; `reason` says which kind, for the APIs' error codes:
    port (no such port), direction (not an output / input), value (malformed), range
    (supervision window), supervision (not supervisable), ongoing (a sequence runs)."""

    def __init__(self, message: str, reason: str = "value") -> None:
        super().__init__(message)
        self.reason = reason


def opposite(state: str) -> str:
    return CLOSED if state == OPEN else OPEN


@dataclass(slots=True)
class Step:
    circuit: str  # open | closed
    at: float  # clock seconds when it takes effect


@dataclass(slots=True)
class Port:
    index: int  # 0-based (IOPort.I<index>); port.cgi and the manual number it index + 1
    direction: str = "input"
    normal: str = OPEN
    configurable: bool = True
    supervisable: bool = True
    supervised: bool = False
    name: str = ""
    loop: str = OPEN  # physical: what the contact wired to the input makes of the loop
    tamper: str | None = None  # physical: the input's wiring is "cut" or "short"
    drive: str = OPEN  # what the port drives as an output
    steps: list[Step] = field(default_factory=list)  # an output's pending timed states

    @property
    def circuit(self) -> str:
        """What the port reads (input) or drives (output): open or closed. Without
        supervision a cut loop reads as open and a shorted one as closed."""
        if self.direction == "output":
            return self.drive
        if self.tamper is not None:
            return OPEN if self.tamper == "cut" else CLOSED
        return self.loop

    @property
    def tampered(self) -> bool:
        return self.direction == "input" and self.supervised and self.tamper is not None

    @property
    def state(self) -> str:
        """open | closed, or cut | short for a tampered supervised input."""
        return self.tamper if self.tampered and self.tamper else self.circuit

    @property
    def active(self) -> bool:
        if self.tampered:
            return False  # a tampered loop says nothing about the contact
        return self.circuit != self.normal

    def settle(self, now: float) -> bool:
        """Apply the sequence steps due by `now`; True when the drive changed."""
        before = self.drive
        while self.steps and self.steps[0].at <= now:
            self.drive = self.steps.pop(0).circuit
        return self.drive != before

    def next_step(self) -> float | None:
        return self.steps[0].at if self.steps else None

    def to_normal(self) -> None:
        """An output back at its normal state, its sequence dropped (settings changed, restart ended)."""
        self.steps.clear()
        self.drive = self.normal


def parse_action(text: str, default_port: int = 1) -> tuple[int, list[tuple[bool, int]]]:
    """port.cgi `action=`: `2:/300\\` -> (2, [(True, 0), (False, 300)]): (active?, wait ms before).

    `/` activates, `\\` deactivates, a number waits that many milliseconds; the port
    (1-based) defaults to output 1 when left out."""
    match = _ACTION.fullmatch(text)
    if match is None:
        raise PortError(f"malformed action {text!r}")
    port = whole_number(match.group(1)) if match.group(1) is not None else default_port
    if port is None:
        raise PortError(f"malformed action {text!r}")
    steps: list[tuple[bool, int]] = []
    wait = 0
    for token in _TOKEN.findall(match.group(2)):
        if token not in ("/", "\\"):
            number = whole_number(token, high=MAX_STEP_MS)
            if wait or not steps or number is None:
                raise PortError(f"malformed action {text!r}")  # a wait must follow a change, once
            wait = number
        else:
            steps.append((token == "/", wait))
            wait = 0
    if wait or not steps:
        raise PortError(f"malformed action {text!r}")  # ends with a wait, or changes nothing
    return port, steps


def schedule(port: Port, changes: list[tuple[bool, int]], now: float) -> None:
    """Replace an output's pending sequence by `changes` (active?, wait ms before), starting now."""
    circuits = [(opposite(port.normal) if active else port.normal, wait) for active, wait in changes]
    run_sequence(port, [(circuit, 0) for circuit, _ in circuits], now, waits=[w for _, w in circuits])


def run_sequence(port: Port, states: list[tuple[str, int]], now: float, waits: list[int] | None = None) -> None:
    """Replace an output's pending sequence: each (circuit, hold ms) is set in turn, after the
    previous one was held (portmanagement's setStateSequence); `waits` instead gives the wait
    before each change (port.cgi). A trailing hold keeps the sequence ongoing until it ends."""
    if port.direction != "output":
        raise PortError(f"port {port.index + 1} is not an output", "direction")
    port.steps.clear()
    at = now
    for number, (circuit, hold_ms) in enumerate(states):
        at += (waits[number] if waits is not None else 0) / 1000
        port.steps.append(Step(circuit, at))
        at += hold_ms / 1000
    if waits is None and states and states[-1][1]:
        port.steps.append(Step(states[-1][0], at))  # the last hold: ongoing until it ends
    port.settle(now)
