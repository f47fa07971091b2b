"""The time a device's simulation runs on.

Long storage jobs, RAID syncs (and later pulses and delayed shutdowns) are timed
by this clock, not by sleeping: it runs with real time, and tests or the control
API move it forward with `advance()`, after which every listener catches up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def iso(wall: float) -> str:
    """A device wall time as events and logs stamp it: ISO 8601 UTC to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


class SimClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self.wall_offset = 0.0  # a date set on the device (time.cgi setDateTime): its wall time only
        self.on_advance: list[Callable[[], None]] = []

    def now(self) -> float:
        """Monotonic seconds (for durations and progress)."""
        return time.monotonic() + self._offset

    def wall(self) -> float:
        """Unix time as the device sees it (recording ages)."""
        return time.time() + self._offset + self.wall_offset

    def set_wall(self, epoch: float) -> None:
        """The device's date and time are set (a client, the control API): its wall time jumps,
        backwards too; durations, uptime and pending jobs (`now()`) are not moved."""
        self.wall_offset = epoch - time.time() - self._offset
        self.notify()  # wall-time schedules see the jump at once

    def wall_shift(self) -> float:
        """How far the wall time is from the host's (what a restart must keep: the device's RTC)."""
        return self._offset + self.wall_offset

    def shift_wall(self, shift: float) -> None:
        """Restore a saved `wall_shift()`."""
        self.wall_offset = shift - self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        self.notify()

    def notify(self) -> None:
        """Every listener catches up with the clock (after it moved, or the time zone changed)."""
        for listener in list(self.on_advance):
            listener()


class DeadlineTimer:
    """Calls `callback` in real time when the earliest pending deadline passes.

    Subsystems time their work on the SimClock and catch up in `advance()`; in a
    served device this timer also lets a deadline take effect with no request
    arriving. Without a running event loop (a device used from plain Python) it does
    nothing: the clock's listeners are then the only way time takes effect.
    """

    def __init__(self, clock: SimClock, callback: Callable[[], None]) -> None:
        self.clock = clock
        self.callback = callback
        self._handle: asyncio.TimerHandle | None = None

    def arm(self, deadline: float | None) -> None:
        """Wake at `deadline` (SimClock seconds); None cancels."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if deadline is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        delay = max(0.0, deadline - self.clock.now())
        self._handle = loop.call_later(delay + 0.01, self.callback)
