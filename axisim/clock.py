"""The time a device's simulation runs on.

Long storage jobs, RAID syncs (and later pulses and delayed shutdowns) are timed
by this clock, not by sleeping: it runs with real time, and tests or the control
API move it forward with `advance()`, after which every listener catches up.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self.on_advance: list[Callable[[], None]] = []

    def now(self) -> float:
        """Monotonic seconds (for durations and progress)."""
        return time.monotonic() + self._offset

    def wall(self) -> float:
        """Unix time as the device sees it (recording ages)."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        for listener in list(self.on_advance):
            listener()
