"""SimulatedDevice: one device with its listeners, journal and faults, and the control
operations a test or the control API runs on it (the Python control API).

The journal and faults belong to the simulator, not the device, so they survive the
device's restarts; a reset replaces the device with a factory-new one on the same ports.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from param_tree import Role

from . import discovery, notify
from .control import emit, events, rules
from .control.expect import EventWaiter
from .control.faults import Fault, Faults
from .control.journal import Journal
from .device import DEFAULT_ACCOUNT, AccountSpec, Device, make_device
from .events import Event, Subscription
from .identity import Identity
from .lifecycle import BootTimes
from .persistence import StateDir
from .server import RunningDevice, start_device
from .timezone import iso_local

MAX_SHIFT_S = 100 * 365 * 86400  # one control step moves a device at most a century


@dataclass(frozen=True)
class DeviceSpec:
    """Everything needed to build (and rebuild, on reset) one simulated device."""

    model: str = "S3008"
    variant: str | None = None
    accounts: tuple[AccountSpec, ...] = (DEFAULT_ACCOUNT,)
    seed: str | None = None  # None: the model's own default seed (device.default_seed)
    index: int = 0
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    https_port: int | None = None  # None: HTTP only; 0: any free port
    rtsp_ports: tuple[int, ...] = ()  # the RTSP event stream: the first of these that binds; (): none
    strict_nc: bool = False
    boot_times: BootTimes = field(default_factory=lambda: BootTimes(0.0, 0.0))
    state_dir: Path | None = None
    websocket_events: bool = True  # False: no WebSocket event stream, not in apidiscovery (RTSP fallback tests)
    discovery: bool = False  # True: the process's mDNS responder announces it (axisim/discovery/)

    @property
    def ip(self) -> str:
        """The address the device reports for itself (a wildcard listener reports loopback)."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host


class Listener:
    """A subscription to a simulated device's events that follows it across resets (each reset
    makes a new Device with a new bus); `cancel()` stops it."""

    __slots__ = ("_owner", "callback", "subscription", "topics")

    def __init__(self, owner: SimulatedDevice, callback: Callable[[Event], None], topics: tuple[str, ...]) -> None:
        self._owner = owner
        self.callback = callback
        self.topics = topics
        self.subscription: Subscription | None = None

    def attach(self, device: Device) -> None:
        self.subscription = device.bus.subscribe(self.callback, self.topics)

    def cancel(self) -> None:
        if self.subscription is not None:
            self.subscription.cancel()
            self.subscription = None
            self._owner._listeners.remove(self)


class SimulatedDevice:
    """A started (or startable) device: URL, credentials, identity, and its control."""

    def __init__(self, spec: DeviceSpec) -> None:
        self.spec = spec
        self.journal = Journal()
        self.faults = Faults()
        self._listeners: list[Listener] = []
        self.device: Device = self._build()
        self.running: RunningDevice | None = None
        self._state: StateDir | None = None  # the state directory of the running device, if any
        self._ports: tuple[int, int | None] = (spec.port, spec.https_port)
        self._rtsp_ports = spec.rtsp_ports

    def _build(self) -> Device:
        spec = self.spec
        device = make_device(
            spec.model, variant=spec.variant, accounts=spec.accounts, seed=spec.seed, index=spec.index, ip=spec.ip,
            strict_nc=spec.strict_nc, boot_times=spec.boot_times,
            switched_off=() if spec.websocket_events else ("websocket-events",),
        )  # fmt: skip
        device.bus.subscribe(self.journal.record_event)  # the journal's events view, across resets
        notify.install(device)  # action rules' HTTP notifications leave through aiohttp
        for listener in self._listeners:
            listener.attach(device)
        return device

    # -- who it is ---------------------------------------------------------------

    @property
    def identity(self) -> Identity:
        return self.device.identity

    @property
    def serial(self) -> str:
        return self.device.serial

    @property
    def url(self) -> str:
        return self._running().url

    @property
    def https_url(self) -> str | None:
        return self._running().https_url

    @property
    def port(self) -> int:
        return self._running().port

    @property
    def rtsp_port(self) -> int | None:
        """The RTSP event stream's port (None: the device serves none, or Network.RTSP.Enabled=no)."""
        running = self.running
        rtsp = running.rtsp if running is not None else None
        if rtsp is not None and running is not None and running.sites and not rtsp.listening:
            return None  # up, but its RTSP turned off
        if rtsp is not None and rtsp.port is not None:
            return rtsp.port
        return self._rtsp_ports[0] if self._rtsp_ports else None

    @property
    def rtsp_url(self) -> str | None:
        """`rtsp://<address>[:port]/axis-media/media.amp?video=0&audio=0&event=on` (None: no RTSP)."""
        rtsp = self._running().rtsp
        return rtsp.url(self.spec.ip) if rtsp is not None and self.rtsp_port is not None else None

    @property
    def username(self) -> str:
        return self.spec.accounts[0].name if self.spec.accounts else ""

    @property
    def password(self) -> str:
        return self.spec.accounts[0].password if self.spec.accounts else ""

    @property
    def credentials(self) -> tuple[str, str]:
        """The first account's name and password (what a client logs in with)."""
        return self.username, self.password

    def _running(self) -> RunningDevice:
        if self.running is None:
            raise RuntimeError(f"device {self.serial} is not started")
        return self.running

    # -- start, stop, reset --------------------------------------------------------

    async def start(self, save: bool = True) -> None:
        """Listen; the state directory is read first and written only once listening (with
        `save=False`, only at `start_saving()`: a fleet saves once every device listens)."""
        state = StateDir(self.spec.state_dir) if self.spec.state_dir is not None else None
        if state is not None:
            state.load_into(self.device)  # reads only: a start that fails leaves the directory as it was
        port, https_port = self._ports
        self.running = await start_device(
            self.device, self.spec.host, port, https_port=https_port, state=state, journal=self.journal,
            faults=self.faults, rtsp_ports=self._rtsp_ports,
        )  # fmt: skip
        self._ports = (self.running.port, self.running.https_port)  # a reset comes back on the same ports
        rtsp = self.running.rtsp
        if rtsp is not None and rtsp.port is not None:
            self._rtsp_ports = (rtsp.port,)
        self._state = state
        if self.spec.discovery:
            await discovery.join(self, lambda: self.running)
        if save:
            await self.start_saving()

    async def start_saving(self) -> None:
        """Write the state directory from now on (StateError, the device stopped, when it cannot be)."""
        if self._state is None or self._state.saving:
            return
        try:
            self._state.start_saving(self.device)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        self.faults.clear()  # releases hanging requests, so the listener closes at once
        await discovery.leave(self)  # its goodbye while it still answers
        if self.running is not None:
            await self.running.stop()
            self.running = None

    async def reset(self) -> None:
        """Back to the state it started in: a factory-new device (same identity, the configured
        accounts) on the same ports, its saved state wiped and its faults removed.
        The journal keeps its record (clear it with `journal.clear()`)."""
        was_running = self.running is not None
        await self.stop()
        if self.spec.state_dir is not None and self.spec.state_dir.exists():
            shutil.rmtree(self.spec.state_dir)
        self.device = self._build()
        if was_running:
            await self.start()

    # -- faults and reachability -----------------------------------------------------

    def add_fault(self, /, **spec: Any) -> Fault:
        """See axisim/control/faults.py: path, query, status, body, content_type, latency_ms,
        jitter_ms, drop, hang, count. FaultError when the description is wrong."""
        return self.faults.add(spec)

    def remove_fault(self, fault_id: int) -> bool:
        return self.faults.remove(fault_id)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def reachable(self) -> bool:
        return self.running is not None and self.running.reachable

    async def go_offline(self) -> None:
        """Off the network: new connections are refused and open ones close; the device runs on."""
        await self._running().set_reachable(False)

    async def go_online(self) -> None:
        await self._running().set_reachable(True)

    async def wait_ready(self, timeout: float = 30.0) -> bool:
        """Wait for a running restart or power-on to finish."""
        return await self._running().wait_ready(timeout)

    # -- brute-force blocks (System.PreventDoSAttack, axisim/dos_guard.py) --------------------

    def blocks(self) -> list[dict[str, Any]]:
        """The client addresses the device blocks now, with the seconds each block has left
        (on the device clock: a request from the address restarts it)."""
        return [
            {"address": address, "seconds_left": round(left, 3)}
            for address, left in sorted(self.device.brute_force.blocks().items())
        ]

    def clear_blocks(self, address: str | None = None) -> list[str]:
        """Lift the block of `address` (None: every block), as a reboot would; the addresses lifted."""
        return self.device.brute_force.clear(address)

    # -- the device clock (schedules, certificate expiry, log times) --------------------------

    def clock(self) -> dict[str, Any]:
        """The device's wall time (UTC and local, in its time zone), zone and uptime."""
        device = self.device
        wall = device.clock.wall()
        return {
            "serial": self.serial,
            "utc": datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "local": iso_local(device.local_time()),
            "posix_time_zone": device.logs.stamper.zone.posix.text,
            "time_zone": device.logs.stamper.zone.iana or "",
            "shift_s": round(device.clock.wall_shift(), 3),  # how far the device is from the host clock
            "uptime": device.uptime,
        }

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Time passes on the device: its wall time and its timers (jobs, pulses, blocks) move
        forward together, as if `seconds` had gone by. ValueError for a negative or absurd step."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_SHIFT_S:
            raise ValueError(f"advance takes 0 to {MAX_SHIFT_S} seconds")
        self.device.clock.advance(float(seconds))
        self.device.changed()
        return self.clock()

    def set_clock(self, when: str | datetime) -> dict[str, Any]:
        """The device's date and time jump to `when` (ISO 8601 with a zone, or an aware datetime),
        as if its clock were set; timers and uptime do not move. ValueError when unreadable."""
        moment = datetime.fromisoformat(when.replace("Z", "+00:00")) if isinstance(when, str) else when
        if moment.tzinfo is None:
            raise ValueError("give the time with its zone (Z or +hh:mm)")
        self.device.clock.set_wall(moment.timestamp())
        self.device.changed()
        return self.clock()

    # -- the physical world ------------------------------------------------------------

    def event(self, subsystem: str, name: str, /, **args: Any) -> Any:
        """A physical event (`event("poe", "plug", port=3)`); EventError when refused."""
        return events.apply(self.device, subsystem, name, args)

    def events(self) -> list[dict[str, Any]]:
        """The physical events this device accepts, with their arguments."""
        return [e.describe() for e in events.available(self.device)]

    # -- the device's events ---------------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], None], topics: Iterable[str] = ()) -> Listener:
        """Every event (of `topics`: exact, `a/b//.` or globs) from now on, across resets."""
        listener = Listener(self, callback, tuple(topics))
        listener.attach(self.device)
        self._listeners.append(listener)
        return listener

    def emit(self, topic: str, source: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> Event:
        """Publish a declared event directly (axisim/control/emit.py); EmitError when the model does
        not declare the topic or its items. The subsystem's state does not change."""
        return emit.emit(self.device, topic, source, data)

    def rules(self) -> list[dict[str, Any]]:
        """The action rules, each with its action configuration, `active` and its run count
        (axisim/control/rules.py); RuleError on a model without rules."""
        return rules.list_rules(self.device)

    def fire_rule(self, rule: int, source: dict[str, Any] | None = None,
                  data: dict[str, Any] | None = None) -> list[Event]:  # fmt: skip
        """Publish the event a rule's start event selects (each condition's, without one); the rule
        then runs as on the device. `source`/`data` override the derived items."""
        return rules.fire(self.device, rule, source, data)

    def rule_runs(self, rule: int) -> list[dict[str, Any]]:
        """The actions a rule ran or failed to run, oldest first."""
        return rules.runs(self.device, rule)

    def wait_for_event(
        self, topic: str, *, source: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
        timeout: float = 5.0,
    ) -> EventWaiter:  # fmt: skip
        """The next event of `topic` whose source and data contain these items (values as text:
        `{"port": 0}` matches "0", True matches "1"). Not a coroutine: it subscribes as it is called,
        so an event caused after the call is never missed, even one published at once:

            waiter = device.wait_for_event("tns1:Device/tnsaxis:IO/Port", source={"port": "0"},
                                           data={"state": "1"}, timeout=2.0)
            device.event("io", "close_input", port=1)
            event = await waiter            # TimeoutError (naming what came instead) after 2 s

        `await device.wait_for_event(...)` alone waits for an event something else will cause."""
        return EventWaiter(self.subscribe, topic, source, data, timeout, f"device {self.serial}")

    def expect_event(
        self, topic: str, *, source: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
        timeout: float = 5.0,
    ) -> EventWaiter:  # fmt: skip
        """`wait_for_event` as a context manager that waits when the block ends:

            async with device.expect_event("tns1:Device/tnsaxis:IO/Port", data={"state": "1"}) as seen:
                await client.close_the_door()
            assert seen.event.source == {"port": "0"}"""
        return self.wait_for_event(topic, source=source, data=data, timeout=timeout)

    # -- what a VMS imports and a test reads ------------------------------------------------

    def inventory(self) -> dict[str, Any]:
        running = self.running
        return {
            "index": self.spec.index,
            "model": self.device.model.id,
            "variant": self.device.variant.name,
            "serial": self.serial,
            "mac": self.identity.mac,
            "hostname": self.device.hostname,
            "address": self.spec.ip,
            "http_port": running.port if running else self._ports[0],
            "https_port": (running.https_port if running.https_url else None) if running else self._ports[1],
            "rtsp_port": self.rtsp_port,
            "url": running.url if running else "",
            "username": self.username,
            "password": self.password,
        }

    def parameters(self, group: str = "") -> dict[str, str]:
        """The parameters as an administrator's `param.cgi?action=list` shows them (secrets masked),
        in list order; those of `group` (`Network` or `Network.eth0`, any case) when given."""
        store = self.device.params
        prefix = group.lower().removeprefix("root.").rstrip(".")
        return {
            d.name: d.type.display(store.value(d.name))
            for d in store.readable(store.all(), Role.ADMIN)
            if not prefix or d.name.lower() == prefix or d.name.lower().startswith(prefix + ".")
        }

    def state(self) -> dict[str, Any]:
        """The device as the control API shows it: identity, lifecycle, faults, subsystems."""
        device = self.device
        return {
            **self.inventory(),
            "https_url": self.https_url if self.running is not None else None,
            "rtsp_url": self.rtsp_url if self.running is not None else None,
            "firmware": device.firmware.active,
            "state": device.lifecycle.state.name.lower(),
            "reachable": self.reachable,
            "link_up": device.link_up,
            "boot_id": device.boot_id,
            "uptime": device.uptime,
            "accounts": device.accounts.members_all(),
            "faults": [f.to_json() for f in self.faults.all()],
            "requests": self.journal.total,
            "subsystems": {name: subsystem.to_state() for name, subsystem in device.subsystems.items()},
        }
