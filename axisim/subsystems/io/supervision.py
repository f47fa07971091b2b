"""Supervised inputs' voltage windows (supervisedio.cgi): the states, the scale and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from .ports import PortError


@dataclass(frozen=True, slots=True)
class Range:
    """A supervised input's voltage window for one state (supervisedio.cgi), in millivolts."""

    lower: int
    upper: int


SUPERVISION_STATES = ("short", "close", "open", "cut")  # getSupportedStates, in the doc's order
STATE_ALIASES = {"shorted": "short", "closed": "close"}  # the doc spells them both ways
LEVEL_SCALE = 255
# nominal loop levels with end-of-line resistors, inside the doc example's default windows
LEVELS = {"short": 4, "close": 50, "open": 145, "cut": 230}


def check_ranges(ranges: dict[str, Range]) -> None:
    """Windows within the scale, lower <= upper, for known states, not overlapping."""
    if any(state not in SUPERVISION_STATES for state in ranges):
        raise PortError("unknown supervision state", "range")
    ordered = sorted(ranges.values(), key=lambda r: r.lower)
    if any(not 0 <= r.lower <= r.upper <= LEVEL_SCALE for r in ordered):
        raise PortError("a window is outside 0-255 or upside down", "range")
    if any(a.upper >= b.lower for a, b in pairwise(ordered)):
        raise PortError("supervision windows overlap", "range")
