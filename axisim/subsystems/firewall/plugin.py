"""The device firewall of every model (AXIS OS 12.x; the manual's System > Security > Firewall;
VAPIX "Firewall configuration service").

Off by default. While it is activated the subsystem installs its verdict as the device's
`packet_filter`, which the server asks for each new connection and request (HTTP, HTTPS, RTSP): a
connection the active rules drop gets no answer at all. While it is off `packet_filter` is None,
so a request pays one attribute test. A test of new rules runs on the device clock: when its time
is up (a DeadlineTimer in a served device, a clock advance, or the next verdict asked), the
previous rules come back and the tested ones stay pending. Saved with the device's state (a
restart ends a test, see state.py); either factory default clears it (the manuals' Maintenance
section lists what a restore keeps, and the firewall is not on it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer
from axisim.lifecycle import RestartKind

from ..base import ActorRef, Subsystem
from .rules import FirewallError, client_address, policy, read_rules, verdict
from .state import MAX_FALLBACK_S, Firewall, Ruleset

if TYPE_CHECKING:
    from ..base import DeviceView

SOURCE = "firewall"  # the logs' source of its lines
MEMO_LIMIT = 4096  # verdicts remembered per rule set (client, protocol, port); cleared beyond


class FirewallSubsystem(Subsystem):
    name = "firewall"

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.state = Firewall()
        self._memo: dict[tuple[str, str, int], bool] = {}
        self._timer = DeadlineTimer(device.clock, self.tick)
        device.clock.on_advance.append(self.tick)

    # -- what the API reads ----------------------------------------------------------------------

    @property
    def activated(self) -> bool:
        return self.state.activated

    def rules(self) -> dict[str, Any]:
        """The `conf/rules` entity's properties, as Python values."""
        self.tick()
        state, now = self.state, self.device.clock.now()
        return {
            "activeRules": [rule.to_dict() for rule in state.active.rules],
            "activeDefaultPolicy": state.active.default,
            "pendingRules": [] if state.pending is None else [rule.to_dict() for rule in state.pending.rules],
            "pendingDefaultPolicy": None if state.pending is None else state.pending.default,
            "testTimeLeft": state.time_left(now),
        }

    # -- what the API changes (FirewallError: nothing changed) -----------------------------------

    def set_activated(self, on: bool, actor: ActorRef) -> None:
        self.tick()
        if on != self.state.activated:
            self.state.set_activated(on)
            self._log(actor, f"Firewall {'activated' if on else 'deactivated'}")
        self._changed()

    def set_rules(self, rules: Any, default_policy: Any, fallback_time: Any, actor: ActorRef) -> None:
        """`setRules`: the values as the client sent them; every one is checked before anything changes."""
        if isinstance(fallback_time, bool) or not isinstance(fallback_time, int) or fallback_time < 0:
            raise FirewallError(None, "fallbackTime must be a positive number")
        if fallback_time > MAX_FALLBACK_S:
            raise FirewallError(103, "Invalid request.")
        new = Ruleset(read_rules(rules), policy(default_policy))
        self.tick()
        self.state.set_rules(new, fallback_time, self.device.clock.now())
        test = f", tested for {fallback_time} s" if fallback_time else ""
        self._log(actor, f"Firewall rules set: {len(new.rules)} rules, default policy {new.default}{test}")
        self._changed()

    def confirm(self, actor: ActorRef) -> None:
        self.tick()
        self.state.confirm()
        self._log(actor, "Firewall rules confirmed")
        self._changed()

    def clear_pending(self, actor: ActorRef) -> None:
        self.tick()
        self.state.clear_pending()
        self._log(actor, "Firewall pending rules cleared")
        self._changed()

    # -- enforcement -------------------------------------------------------------------------------

    def admits(self, client: str, port: int, protocol: str = "TCP") -> bool:
        """The device's packet filter while activated: whether a connection from `client` to the
        local `port` passes the active rules. An address that is not an IP address passes."""
        if self.state.deadline is not None and self.device.clock.now() >= self.state.deadline:
            self.tick()
        key = (client, protocol, port)
        known = self._memo.get(key)
        if known is not None:
            return known
        address = client_address(client)
        active = self.state.active
        passes = address is None or verdict(active.rules, active.default, address, protocol, port)
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = passes
        return passes

    # -- time, restarts, saved state -------------------------------------------------------------

    def tick(self) -> None:
        """End a test whose time is up."""
        if self.state.expire(self.device.clock.now()):
            self.device.logs.system_event("Firewall test time out: the previous rules are active again", SOURCE)
            self._changed()

    def going_down(self, kind: RestartKind) -> None:
        """A restart ends a test (the rules from before it come back); a factory default clears all."""
        if kind is RestartKind.REBOOT:
            self.state.expire(float("inf"))
        else:
            self.state.reset()
        self._follow()

    def to_state(self) -> Any:
        return self.state.to_state()

    def load_state(self, state: Any) -> None:
        self.state.load_state(state)
        self._follow()

    def _changed(self) -> None:
        self._follow()
        self.device.changed()

    def _follow(self) -> None:
        """The device's packet filter and the test timer after any change."""
        self._memo.clear()
        self.device.packet_filter = self.admits if self.state.activated else None
        self._timer.arm(self.state.deadline)

    def _log(self, actor: ActorRef, message: str) -> None:
        self.device.logs.configuration(actor.who, actor.client, message, source=SOURCE)
