"""The physical world of the ports as the device's saved state keeps it: what each input's loop
does (open or closed contact, cut or shorted wire) and the supervision windows set on it."""

from __future__ import annotations

from typing import Any

from .ports import CLOSED, OPEN, TAMPER_STATES, Port
from .supervision import Range


def wiring_state(ports: list[Port], ranges: dict[int, dict[str, Range]]) -> dict[str, Any]:
    return {
        "wiring": {str(p.index): {"loop": p.loop, "tamper": p.tamper} for p in ports},
        "ranges": {
            str(index): {state: [r.lower, r.upper] for state, r in windows.items()}
            for index, windows in ranges.items()
        },
    }


def parse_wiring(
    state: Any, count: int
) -> tuple[dict[int, tuple[str, str | None]], dict[int, dict[str, Range]]]:
    """(port -> (loop, tamper), port -> supervision windows) of a saved state for `count` ports;
    ValueError when it is not valid (nothing is applied)."""
    wiring = state.get("wiring") if isinstance(state, dict) else None
    if not isinstance(wiring, dict):
        raise ValueError("io: 'wiring' is missing")
    loops: dict[int, tuple[str, str | None]] = {}
    ranges: dict[int, dict[str, Range]] = {}
    try:
        for index, spec in wiring.items():
            loop, tamper = spec["loop"], spec["tamper"]
            if not 0 <= int(index) < count or loop not in (OPEN, CLOSED):
                raise ValueError(f"port {index}")
            if tamper is not None and tamper not in TAMPER_STATES:
                raise ValueError(f"port {index} tamper {tamper!r}")
            loops[int(index)] = (loop, tamper)
        for index, windows in dict(state.get("ranges", {})).items():
            ranges[int(index)] = {str(s): Range(int(lo), int(hi)) for s, (lo, hi) in windows.items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"io: the wiring is not valid ({exc})") from exc
    return loops, ranges
