"""Brute-force blocking (`System.PreventDoSAttack.*`): the rules of Apache's mod_evasive, which
the parameters are named after (DoSPageCount, DoSSiteCount, DoSBlockingPeriod ...).

What is counted: authentication failures, per client address and page and per client address
(every manual, Security > "Prevent brute-force attacks": "the number of authentication failures
allowed per second before the block starts ... both on page level and device level"; the switch
is `ActivatePasswordThrottling`). mod_evasive itself counts every request; a device counting
those would block a client that polls an image 25 times a second, so only failures count here
[GUESS from the manuals' wording].

mod_evasive's counter: a hit less than the interval after the previous one adds one, a later hit
starts again at one; more than the count blocks the address. A blocked address gets 403 for every
request, on every page, and each such request restarts the blocking period (mod_evasive's README,
DOSBlockingPeriod). Times are the device clock (`SimClock.now()`), so tests advance them.

Cost: `BruteForceGuard` holds nothing but its collaborators until a failure is counted with the
setting on; `DosGuard` then keeps at most `MAX_COUNTERS` counters and `MAX_BLOCKS` blocks, the
stalest dropped first. A reboot or a setting turned off forgets everything, as Apache's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .events import EventBus, Item, TopicDecl
from .logs import DeviceLogs

GROUP = "System.PreventDoSAttack"
SWITCH = f"{GROUP}.ActivatePasswordThrottling"
MAX_COUNTERS = 256  # (address, page) and address counters of one device
MAX_BLOCKS = 256  # blocked addresses of one device
MAX_PAGE = 255  # characters of a path kept in a counter's key

# events.md §1.5 "System and status": a pulse with the blocked address [REC 11.11, 12.9]
BLOCKED_IP = TopicDecl(
    "tns1:Device/tnsaxis:Network/BlockedIP", stateful=False, data=(Item("address", "xsd:string"),),
    nice="IP address blocked",
)  # fmt: skip

# mod_evasive's own defaults, used where a setting is 0 (its configuration reader does the same)
_DEFAULTS = {"DoSBlockingPeriod": 10, "DoSPageCount": 2, "DoSPageInterval": 1, "DoSSiteCount": 50, "DoSSiteInterval": 1}


@dataclass(frozen=True, slots=True)
class Limits:
    """The five numbers of the setting, in seconds and failures."""

    period: float
    page_count: int
    page_interval: float
    site_count: int
    site_interval: float

    @classmethod
    def read(cls, value: Callable[[str], str]) -> Limits | None:
        """The limits in force, None when the setting is off (or the model has none): `value`
        reads a parameter ("" when the model lacks it)."""
        if value(SWITCH).lower() != "on":
            return None
        numbers = {}
        for name, default in _DEFAULTS.items():
            text = value(f"{GROUP}.{name}")
            numbers[name] = int(text) if text.isdigit() and int(text) > 0 else default
        return cls(
            float(numbers["DoSBlockingPeriod"]), numbers["DoSPageCount"], float(numbers["DoSPageInterval"]),
            numbers["DoSSiteCount"], float(numbers["DoSSiteInterval"]),
        )  # fmt: skip


class _Counter:
    __slots__ = ("count", "last")

    def __init__(self, now: float) -> None:
        self.count = 0
        self.last = now


class DosGuard:
    """The pure rules: counters and blocks per client address on a clock; no device, no HTTP."""

    __slots__ = ("_blocks", "_counters", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._counters: dict[tuple[str, str], _Counter] = {}  # (address, page); page "" is the site
        self._blocks: dict[str, float] = {}  # address -> last request seen while blocked

    def blocked(self, address: str, now: float) -> bool:
        """Whether `address` is blocked; a request while blocked restarts the period."""
        last = self._blocks.get(address)
        if last is None:
            return False
        if now - last >= self.limits.period:
            del self._blocks[address]
            return False
        self._blocks[address] = now
        return True

    def failure(self, address: str, page: str, now: float) -> bool:
        """Count one authentication failure; True when it starts a block of `address`."""
        limits = self.limits
        over_page = self._hit((address, page[:MAX_PAGE]), now, limits.page_count, limits.page_interval)
        over_site = self._hit((address, ""), now, limits.site_count, limits.site_interval)
        if not (over_page or over_site) or address in self._blocks:
            return False
        if len(self._blocks) >= MAX_BLOCKS:
            self._forget_blocks(now)
        self._blocks[address] = now
        return True

    def _hit(self, key: tuple[str, str], now: float, limit: int, interval: float) -> bool:
        counter = self._counters.pop(key, None)  # popped and put back: the dict stays oldest-first
        if counter is None:
            if len(self._counters) >= MAX_COUNTERS:
                self._forget_counters(now)
            counter = _Counter(now)
        elif now - counter.last >= interval:
            counter.count = 0
        counter.count += 1
        counter.last = now
        self._counters[key] = counter
        return counter.count > limit

    def _forget_counters(self, now: float) -> None:
        longest = max(self.limits.page_interval, self.limits.site_interval)
        for key in [k for k, c in self._counters.items() if now - c.last >= longest]:
            del self._counters[key]
        while len(self._counters) >= MAX_COUNTERS:  # all fresh: the stalest goes
            del self._counters[next(iter(self._counters))]

    def _forget_blocks(self, now: float) -> None:
        for address in [a for a, last in self._blocks.items() if now - last >= self.limits.period]:
            del self._blocks[address]
        while len(self._blocks) >= MAX_BLOCKS:
            del self._blocks[min(self._blocks, key=self._blocks.__getitem__)]

    def blocks(self, now: float) -> dict[str, float]:
        """Blocked addresses and the seconds left of each block."""
        period = self.limits.period
        return {a: period - (now - last) for a, last in self._blocks.items() if now - last < period}

    def clear(self, address: str | None = None) -> list[str]:
        """Lift the block of `address` (None: of all) and forget its counters; the addresses lifted."""
        if address is None:
            lifted = list(self._blocks)
            self._blocks.clear()
            self._counters.clear()
            return lifted
        for key in [k for k in self._counters if k[0] == address]:
            del self._counters[key]
        return [address] if self._blocks.pop(address, None) is not None else []

    @property
    def holds(self) -> bool:
        return bool(self._blocks)


class BruteForceGuard:
    """One device's blocking: the setting read from its parameters, the rules in a `DosGuard` made
    at the first counted failure, the block's log lines and BlockedIP event.

    The request pipeline asks `refuses(address, path)` before authentication only while `holding`
    (an attribute test per request otherwise) and tells `failed(...)` of each authentication failure."""

    __slots__ = ("_bus", "_guard", "_limits", "_logs", "_now", "holding")

    def __init__(
        self, limits: Callable[[], Limits | None], now: Callable[[], float], logs: DeviceLogs, bus: EventBus
    ) -> None:
        self._limits = limits  # the setting of the moment (memoised by the parameter store)
        self._now = now
        self._logs = logs
        self._bus = bus
        self._guard: DosGuard | None = None
        self.holding = False  # some address is blocked (or was: `refuses` finds out)

    def _current(self) -> DosGuard | None:
        """The guard under the setting of the moment: dropped when it is off, new limits applied."""
        limits = self._limits()
        if limits is None:
            self._guard = None
            self.holding = False
        elif self._guard is not None:
            self._guard.limits = limits
        return self._guard

    def refuses(self, address: str, path: str) -> bool:
        """Whether a request from `address` is refused (403), restarting its block."""
        guard = self._current()
        if guard is None:
            return False
        if guard.blocked(address, self._now()):
            self._logs.access_denied(address, path)
            return True
        self.holding = guard.holds
        return False

    def failed(self, address: str, path: str) -> None:
        """An authentication failure from `address` on `path` (already in the access log)."""
        limits = self._limits()
        if limits is None:
            self._guard = None
            self.holding = False
            return
        guard = self._guard
        if guard is None:
            guard = self._guard = DosGuard(limits)
        guard.limits = limits
        if guard.failure(address, path, self._now()):
            self.holding = True
            self._logs.address_blocked(address)
            self._bus.publish(BLOCKED_IP, data={"address": address}, publisher="device")

    def blocks(self) -> dict[str, float]:
        """Blocked addresses and the seconds each block has left."""
        guard = self._current()
        return guard.blocks(self._now()) if guard is not None else {}

    def clear(self, address: str | None = None) -> list[str]:
        """Lift one block (None: every block); the addresses lifted."""
        guard = self._guard
        if guard is None:
            return []
        lifted = guard.clear(address)
        self.holding = guard.holds
        return lifted

    def forget(self) -> None:
        """A reboot: the web server starts with empty tables."""
        self._guard = None
        self.holding = False
