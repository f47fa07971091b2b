"""The state of virtual input ports and manual triggers: which are active, and until when.

Pure rules, no parameters and no events (plugin.py binds them). Numbers are 1-based as on the
wire: virtual inputs 1..N (`virtualinput/activate.cgi?port=`), manual triggers 1..M (the
`port` of `IO/VirtualPort`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from param_tree import whole_number

MAX_DURATION_S = 86_400 * 365  # longer than any test runs; activate.cgi refuses more (error 50) [GUESS]
MAX_STEP_MS = 3_600_000  # one wait of a manual-trigger action (io/port.cgi's limit)

_ACTION = re.compile(r"(?:(\d+))?:([/\\0-9]+)")
_TOKEN = re.compile(r"[/\\]|\d+")


class VirtualInputError(ValueError):
    """A request the virtual inputs refuse; `kind`: port (no such input), duration, action (malformed)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(slots=True)
class Switches:
    """N numbered on/off switches, each with the changes scheduled for it: (clock seconds, active?)
    in time order (a duration's deactivation, a manual-trigger sequence)."""

    count: int
    active: set[int] = field(default_factory=set)
    steps: dict[int, list[tuple[float, bool]]] = field(default_factory=dict)

    def check(self, number: int) -> None:
        if not 1 <= number <= self.count:
            raise VirtualInputError(f"there is no port {number}", "port")

    def is_active(self, number: int) -> bool:
        return number in self.active

    def set(self, number: int, active: bool, then: list[tuple[float, bool]] | None = None) -> bool:
        """Set one switch now and replace what was scheduled for it by `then`; True when its state changed."""
        self.check(number)
        self.steps.pop(number, None)
        if then:
            self.steps[number] = sorted(then, key=lambda step: step[0])
        return self._apply(number, active)

    def _apply(self, number: int, active: bool) -> bool:
        if active == (number in self.active):
            return False
        if active:
            self.active.add(number)
        else:
            self.active.discard(number)
        return True

    def due(self, now: float) -> list[tuple[int, bool]]:
        """Apply the scheduled changes whose time has come, in time order; (number, new state) of each
        one that changed a state."""
        pending = sorted(
            (at, number, active) for number, queue in self.steps.items() for at, active in queue if at <= now
        )
        for number in {number for _, number, _ in pending}:
            rest = [step for step in self.steps[number] if step[0] > now]
            if rest:
                self.steps[number] = rest
            else:
                del self.steps[number]
        return [(number, active) for _, number, active in pending if self._apply(number, active)]

    def next_due(self) -> float | None:
        return min((queue[0][0] for queue in self.steps.values() if queue), default=None)

    def clear(self) -> None:
        """Every switch off, nothing scheduled (a restart)."""
        self.active.clear()
        self.steps.clear()


def parse_action(text: str) -> tuple[int | None, list[tuple[bool, int]]]:
    """`io/virtualinput.cgi` `action=6:/2000\\` -> (6, [(True, 0), (False, 2000)]): (active?, wait ms
    before); the port is None when left out (the API then means input 1)."""
    match = _ACTION.fullmatch(text)
    if match is None:
        raise VirtualInputError(f"malformed action {text!r}", "action")
    port = whole_number(match.group(1)) if match.group(1) is not None else None
    steps: list[tuple[bool, int]] = []
    wait = 0
    for token in _TOKEN.findall(match.group(2)):
        if token in ("/", "\\"):
            steps.append((token == "/", wait))
            wait = 0
            continue
        number = whole_number(token, high=MAX_STEP_MS)
        if wait or not steps or number is None:
            raise VirtualInputError(f"malformed action {text!r}", "action")  # a wait follows a change, once
        wait = number
    if wait or not steps:
        raise VirtualInputError(f"malformed action {text!r}", "action")
    return port, steps
