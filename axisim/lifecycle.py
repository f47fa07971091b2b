"""Boot states of a device: ready -> (restart) -> offline -> booting -> ready (DESIGN.md "Device lifecycle").

The core only records the state and asks for a restart; whoever owns the
listeners (the server) registers a `cycle` hook that takes the device offline for
`offline_seconds`, brings it back and, after `booting_seconds`, marks it ready.
Without a hook (a device used from Python alone) a restart completes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

# a small recorder or speaker answers HTTP again after about half a minute and
# reports ready a few seconds later; tests set both to zero
DEFAULT_OFFLINE_SECONDS = 25.0
DEFAULT_BOOTING_SECONDS = 5.0


class State(enum.Enum):
    READY = "ready"
    OFFLINE = "offline"  # listeners closed: connections refused
    BOOTING = "booting"  # answering, but systemready says "no"
    OFF = "off"  # no power (or shut down by its delayed shutdown): offline until power returns


class RestartKind(enum.Enum):
    REBOOT = "reboot"
    SOFT = "soft"  # factory default keeping the network settings
    HARD = "hard"  # everything, the network settings included


@dataclass
class BootTimes:
    offline_seconds: float = DEFAULT_OFFLINE_SECONDS
    booting_seconds: float = DEFAULT_BOOTING_SECONDS


class Lifecycle:
    """State, boot id and uptime of one device, and the hook that runs a restart."""

    def __init__(self, times: BootTimes | None = None) -> None:
        self.times = times or BootTimes()
        self.state = State.READY
        self.boot_id = str(uuid.uuid4())
        self.booted_at = time.monotonic()
        self.cycle: Callable[[], None] | None = None  # set by the server that owns the listeners
        self.power: Callable[[bool], None] | None = None  # likewise: listeners down (False), boot (True)
        self._ready: asyncio.Event | None = None

    @property
    def uptime(self) -> int:
        return int(time.monotonic() - self.booted_at)

    @property
    def is_ready(self) -> bool:
        return self.state is State.READY

    def go_offline(self, state: State = State.OFFLINE) -> None:
        """Down for a restart (OFFLINE) or without power (OFF): not ready until it boots."""
        self.state = state
        if self._ready is not None:
            self._ready.clear()

    @property
    def is_off(self) -> bool:
        return self.state is State.OFF

    def booted(self) -> None:
        self.boot_id = str(uuid.uuid4())
        self.booted_at = time.monotonic()
        self.state = State.BOOTING

    def mark_ready(self) -> None:
        self.state = State.READY
        if self._ready is not None:
            self._ready.set()

    async def wait_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for readiness (systemready's `timeout` parameter)."""
        if self.is_ready or timeout <= 0:
            return self.is_ready
        if self._ready is None:
            self._ready = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self.is_ready
