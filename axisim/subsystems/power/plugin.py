"""Power of the W401: DC input with ignition sense, PoE in, and delayed shutdown (issue 7).

Manual, "Power setting" / "Delayed shutdown": with the ignition connected to the 3-pin
terminal block and **Delayed shutdown** on, the device keeps running for the delay
time (1-60 minutes) after the ignition goes off, then shuts down; "if the device has
been without power before it is turned on, a delay occurs before Delayed shutdown is
activated". The manual gives no figure for that delay: axisim takes the model fact
`delayed_shutdown_arming_s` (60 s). With delayed shutdown off the ignition is ignored.

The device is powered while the DC input or PoE (over a connected Ethernet cable)
supplies it; losing both turns it off at once. It boots when power returns, or, after a
delayed shutdown, when the ignition comes back on.

Parameters: `PowerSettings.DelayedPowerDown.Enabled` (yes/no) and `.DelayTime`
(seconds, 60-3600, as power-settings.cgi's `delayTime`), and published
`PowerSettings.Status.{DCInput,PoE,Ignition,DelayedPowerDown,ShutdownIn}`. Real AXIS
OS keeps these in power-settings.cgi only; axisim also lists them (one state, issue 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer
from param_tree import ParamDef, ParamType, Role, SecurityLevel, whole_number

from ...events import Event, TopicDecl
from ..base import PUBLISHED, Subsystem, param_def
from ..stimuli import stimulus
from .topics import DC_INPUT, ETH0, IGNITION_DECL, POWER_SUPPLY_FAILURE_DECL, interfaces_of, network_lost_decl

if TYPE_CHECKING:
    from ..base import DeviceView

GROUP = "PowerSettings"
ENABLED = f"{GROUP}.DelayedPowerDown.Enabled"
DELAY = f"{GROUP}.DelayedPowerDown.DelayTime"
STATUS = f"{GROUP}.Status"
OPERATOR_RW = SecurityLevel.parse("7714")  # power-settings.cgi's delayed power down is for operators
VIEWER_R = SecurityLevel.parse("7717")
YES_NO = ParamType("bool", true_word="yes", false_word="no")
DEFAULT_DELAY_S = 300  # not in the manual; five minutes, inside its 1-60 minute range
LLDP_ENABLED, LLDP_MAX_POWER = "Network.LLDP.POE.Enabled", "Network.LLDP.POE.MaxPower"


class PowerError(ValueError):
    """A delayed power down setting the device refuses (delay outside its limits)."""


@dataclass(frozen=True, slots=True)
class PowerStatus:
    """What the device draws and how its PoE was negotiated (None: not known, e.g. not on PoE)."""

    draw_w: float
    pse_class: int | None
    lldp_class: int | None
    requested_w: float | None


class PowerSubsystem(Subsystem):
    name = "power"

    # -- physical stimuli (the control API's events) --------------------------------------------

    @stimulus("the vehicle's ignition turns on or off", on=bool)
    def physical_ignition(self, on: bool) -> dict[str, Any]:
        self.set_ignition(on)
        return {}

    @stimulus("the DC supply is connected or disconnected", connected=bool)
    def physical_dc(self, connected: bool) -> dict[str, Any]:
        self.set_dc(connected)
        return {}

    @stimulus("the Ethernet cable is plugged or unplugged", connected=bool, poe=(bool, None))
    def physical_cable(self, connected: bool, poe: bool | None) -> dict[str, Any]:
        self.set_cable(connected, poe)
        return {}

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        low, high = cls.limits(facts)
        return [
            param_def(ENABLED, "no", YES_NO, OPERATOR_RW),
            param_def(DELAY, str(DEFAULT_DELAY_S), ParamType("int", min=low, max=high), OPERATOR_RW),
            param_def(f"{STATUS}.DCInput", "connected", PUBLISHED, VIEWER_R),
            param_def(f"{STATUS}.PoE", "connected", PUBLISHED, VIEWER_R),
            param_def(f"{STATUS}.Ignition", "on", PUBLISHED, VIEWER_R),
            param_def(f"{STATUS}.DelayedPowerDown", "disabled", PUBLISHED, VIEWER_R),
            param_def(f"{STATUS}.ShutdownIn", "", PUBLISHED, VIEWER_R),
        ]

    @staticmethod
    def limits(facts: dict[str, Any]) -> tuple[int, int]:
        """The delay's limits in seconds (manual: "between 1 and 60 minutes")."""
        return int(facts.get("delayed_shutdown_min", 1)) * 60, int(facts.get("delayed_shutdown_max", 60)) * 60

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        facts = device.variant.facts
        self.arming_s = float(facts.get("delayed_shutdown_arming_s", 60))
        self.poe_class = int(facts.get("poe_class", -1))
        self.idle_w = float(facts.get("idle_power_w", 3.0))
        # the physical world: what is connected, and the ignition key
        self.dc = True
        self.cable = True  # the Ethernet cable (the network, and PoE when the switch gives it)
        self.poe = True  # the switch port on the cable supplies PoE
        self.ignition = True
        self.powered_since = device.clock.now()
        self.ignition_off_at: float | None = None
        self.enabled_at = self.powered_since  # when delayed shutdown was last turned on
        self._was_enabled = self.enabled
        self.off_reason: str | None = None  # "power" | "ignition" while the device is off
        self._timer = DeadlineTimer(device.clock, self.evaluate)
        device.clock.on_advance.append(self.evaluate)
        self._reported = self._properties()
        self.publish_params()

    # -- settings ----------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.device.param(ENABLED) == "yes"

    @property
    def delay_s(self) -> int:
        return int(self.device.param(DELAY, str(DEFAULT_DELAY_S)))

    def set_delayed_power_down(self, enabled: bool, delay_s: int | None = None) -> None:
        """power-settings.cgi setDelayedPowerDownMode: the delay is only taken when turning it on."""
        low, high = self.limits(self.device.variant.facts)
        changes = [(ENABLED, "yes" if enabled else "no")]
        if enabled and delay_s is not None:
            if not low <= delay_s <= high:
                raise PowerError(f"the delay is {low}-{high} seconds")  # refused whole: nothing changes
            changes.append((DELAY, str(delay_s)))
        if self.device.update_params(changes, Role.OPERATOR):
            raise PowerError(f"the delay is {low}-{high} seconds")

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(name.startswith(f"{GROUP}.") for name in applied):
            if self.enabled and not self._was_enabled:
                self.enabled_at = self.device.clock.now()  # it watches the ignition from now on
            self._was_enabled = self.enabled
            self.evaluate()

    # -- the physical side (Python API) ------------------------------------------

    @property
    def powered(self) -> bool:
        return self.dc or (self.cable and self.poe)

    @property
    def on_poe(self) -> bool:
        return self.cable and self.poe

    def set_dc(self, connected: bool) -> None:
        """Connect or disconnect the DC supply on the power connector."""
        self.dc = connected
        self._physical(f"DC input {'connected' if connected else 'disconnected'}")

    def set_cable(self, connected: bool, poe: bool | None = None) -> None:
        """Plug or unplug the Ethernet cable; `poe` says whether the switch powers it."""
        self.cable = connected
        if poe is not None:
            self.poe = poe
        self._physical(f"Ethernet cable {'connected' if connected else 'disconnected'}")
        for subsystem in self.device.subsystems.values():
            if subsystem is not self:
                subsystem.world_changed("cable")

    def set_ignition(self, on: bool) -> None:
        """The vehicle's ignition, on the power connector's ignition pin."""
        if on == self.ignition:
            return
        self.ignition = on
        self.ignition_off_at = None if on else self.device.clock.now()
        self._physical(f"Ignition {'on' if on else 'off'}")

    def _physical(self, message: str) -> None:
        self.device.logs.system_event(message, source="power")
        self.evaluate()
        self.device.changed()

    # -- what follows: power off, boot, delayed shutdown ---------------------------

    def armed_at(self) -> float:
        """When delayed shutdown starts to act after the device got power."""
        return self.powered_since + self.arming_s

    def shutdown_at(self) -> float | None:
        """When the running countdown ends (None: no countdown)."""
        if not self.enabled or self.ignition or self.ignition_off_at is None or self.device.lifecycle.is_off:
            return None
        return max(self.ignition_off_at, self.armed_at(), self.enabled_at) + self.delay_s

    def evaluate(self) -> None:
        now = self.device.clock.now()
        device = self.device
        if not self.powered:
            self.off_reason = "power"  # without power, whatever shut it down: power back boots it
            if not device.lifecycle.is_off:
                device.power_off("no power on the DC input or PoE")
        elif device.lifecycle.is_off and (self.off_reason == "power" or self.ignition):
            self.off_reason = None
            self.powered_since = now
            device.logs.system_event("Power on", source="power")
            device.power_on()
        else:
            deadline = self.shutdown_at()
            if deadline is not None and now >= deadline:
                self.off_reason = "ignition"
                device.power_off(f"delayed shutdown, ignition off for {self.delay_s} s")
        self.publish_params()
        self._timer.arm(self._next_deadline(now))

    def _next_deadline(self, now: float) -> float | None:
        deadline = self.shutdown_at()
        if deadline is None and self.enabled and not self.ignition and now < self.armed_at():
            deadline = self.armed_at()
        return deadline

    def status(self) -> str:
        """disabled | starting (the manual's delay after power-up) | armed | countdown | off."""
        if self.device.lifecycle.is_off:
            return "off"
        if not self.enabled:
            return "disabled"
        if self.shutdown_at() is not None and self.device.clock.now() >= self.armed_at():
            return "countdown"
        return "armed" if self.device.clock.now() >= self.armed_at() else "starting"

    def publish_params(self) -> None:
        deadline = self.shutdown_at()
        remaining = "" if deadline is None else str(max(0, round(deadline - self.device.clock.now())))
        self.device.params.set_base({
            f"{STATUS}.DCInput": "connected" if self.dc else "disconnected",
            f"{STATUS}.PoE": "connected" if self.on_poe else "disconnected",
            f"{STATUS}.Ignition": "on" if self.ignition else "off",
            f"{STATUS}.DelayedPowerDown": self.status(),
            f"{STATUS}.ShutdownIn": remaining,
        })  # fmt: skip
        self._report()

    # -- events (the device bus) ----------------------------------------------------

    def _lost_decl(self) -> TopicDecl:
        return network_lost_decl(interfaces_of({self.name, *self.device.subsystems}))

    def _properties(self) -> list[tuple[TopicDecl, dict[str, object], dict[str, object]]]:
        """The DC supply (lost: power critical, the device runs on PoE if at all), the ignition, the cable's link."""
        return [
            (POWER_SUPPLY_FAILURE_DECL, {"power": DC_INPUT}, {"power_critical": not self.dc}),
            (IGNITION_DECL, {}, {"state": self.ignition}),
            (self._lost_decl(), {"interface": ETH0}, {"lost": not self.cable}),
        ]

    def topics(self) -> list[TopicDecl]:
        return [decl for decl, _, _ in self._properties()]

    def states(self) -> list[Event]:
        return [self.state_of(decl, source, data) for decl, source, data in self._properties()]

    def _report(self) -> None:
        now = self._properties()
        before, self._reported = self._reported, now
        for old, new in zip(before, now, strict=True):
            if old[2] != new[2]:
                self.publish(new[0], new[1], new[2])

    # -- power status (power-settings.cgi getPowerStatus; -1: not available) ---------

    def power_status(self) -> PowerStatus:
        self.evaluate()
        lldp = self.on_poe and self.device.param(LLDP_ENABLED) == "yes"
        milliwatts = whole_number(self.device.param(LLDP_MAX_POWER, ""))
        return PowerStatus(
            draw_w=self.idle_w if not self.device.lifecycle.is_off else 0.0,
            pse_class=self.poe_class if self.on_poe else None,
            lldp_class=self.poe_class if lldp else None,
            requested_w=milliwatts / 1000 if lldp and milliwatts is not None else None,
        )

    # -- the physical world survives a restart of the simulator ----------------------

    def to_state(self) -> Any:
        return {"dc": self.dc, "cable": self.cable, "poe": self.poe, "ignition": self.ignition}

    def load_state(self, state: Any) -> None:
        if not isinstance(state, dict) or not all(isinstance(state.get(k), bool) for k in self.to_state()):
            raise ValueError("power: dc, cable, poe and ignition must be true or false")
        self.dc, self.cable, self.poe, self.ignition = state["dc"], state["cable"], state["poe"], state["ignition"]
        if not self.powered:
            self.dc = True  # starting the simulator is a power-up: the device comes back on its DC input
        self.ignition_off_at = None if self.ignition else self.device.clock.now()
        self.evaluate()


__all__ = ["PowerError", "PowerStatus", "PowerSubsystem"]
