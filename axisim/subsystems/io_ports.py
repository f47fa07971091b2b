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

OPEN, CLOSED = "open", "closed"
TAMPER_STATES = ("cut", "short")
MAX_STEP_MS = 65535  # portmanagement setStateSequence: time <= 65535 ms
_ACTION = re.compile(r"(?:([0-9]+):)?((?:[/\\]|[0-9]+)+)")
_TOKEN = re.compile(r"[/\\]|[0-9]+")


class PortError(ValueError):
    """A request the ports refuse (unknown port, wrong direction, malformed action)."""


def opposite(state: str) -> str:
    return CLOSED if state == OPEN else OPEN


@dataclass(slots=True)
class Step:
    circuit: str  # open | closed
    at: float  # clock seconds when it takes effect


@dataclass(slots=True)
class Port:
    index: int  # 0-based (IOPort.I<index>); port.cgi numbers it index + 1
    direction: str = "input"
    normal: str = OPEN
    configurable: bool = True
    supervisable: bool = True
    supervised: bool = False
    name: str = ""
    circuit: str = OPEN  # what the loop is (input) or what the port drives (output)
    tamper: str | None = None  # supervised input: "cut" or "short"
    steps: list[Step] = field(default_factory=list)  # an output's pending timed states

    @property
    def active(self) -> bool:
        if self.direction == "input" and self.supervised and self.tamper:
            return False  # a tampered loop says nothing about the contact
        return self.circuit != self.normal

    def settle(self, now: float) -> bool:
        """Apply the sequence steps due by `now`; True when the circuit changed."""
        before = self.circuit
        while self.steps and self.steps[0].at <= now:
            self.circuit = self.steps.pop(0).circuit
        return self.circuit != before

    def next_step(self) -> float | None:
        return self.steps[0].at if self.steps else None

    def to_normal(self) -> None:
        """An output back at its normal state, its sequence dropped (settings changed, restart ended)."""
        self.steps.clear()
        if self.direction == "output":
            self.circuit = self.normal


def parse_action(text: str, default_port: int = 1) -> tuple[int, list[tuple[bool, int]]]:
    """port.cgi `action=`: `2:/300\\` -> (2, [(True, 0), (False, 300)]): (active?, wait ms before).

    `/` activates, `\\` deactivates, a number waits that many milliseconds; the port
    (1-based) defaults to output 1 when left out."""
    match = _ACTION.fullmatch(text)
    if match is None:
        raise PortError(f"malformed action {text!r}")
    port = int(match.group(1)) if match.group(1) is not None else default_port
    steps: list[tuple[bool, int]] = []
    wait = 0
    for token in _TOKEN.findall(match.group(2)):
        if token.isdigit():
            if wait or not steps or int(token) > MAX_STEP_MS:
                raise PortError(f"malformed action {text!r}")  # a wait must follow a change, once
            wait = int(token)
        else:
            steps.append((token == "/", wait))
            wait = 0
    if wait or not steps:
        raise PortError(f"malformed action {text!r}")  # ends with a wait, or changes nothing
    return port, steps


def schedule(port: Port, changes: list[tuple[bool, int]], now: float) -> None:
    """Replace an output's pending sequence by `changes` (active?, wait ms before), starting now."""
    if port.direction != "output":
        raise PortError(f"port {port.index + 1} is not an output")
    port.steps.clear()
    at = now
    for active, wait_ms in changes:
        at += wait_ms / 1000
        port.steps.append(Step(opposite(port.normal) if active else port.normal, at))
    port.settle(now)
