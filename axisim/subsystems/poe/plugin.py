"""PoE subsystem of the S3008 and S3016 recorders: the switch, bound to the `PoE` parameter group.

Parameters (instance keys are 0-based as VAPIX groups are; `PoE.P0` is port 1):
- `PoE.KeepPowerOnRestart` (yes/no), per port `PoE.P#.Enabled` (yes/no),
  `PoE.P#.Mode` (S3016: `powerandethernet` | `poweronly`), `PoE.P#.FriendlyName`;
- read-only, derived from the switch: `PoE.NbrOfPorts`, `PoE.TotalPowerLimit`,
  `PoE.AllocatedPower`, `PoE.PowerConsumption`, `PoE.BudgetExceeded`, per port
  `Status`, `Class`, `AllocatedPower`, `PowerConsumption`.
The settings live in the parameters; the switch follows them, and its derived
values are written back after every change, so param.cgi and nvr/poe show one state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from param_tree import ParamDef, ParamType, Role, SecurityLevel

from ...events import Event, TopicDecl
from ..base import PUBLISHED, Subsystem, param_def
from ..stimuli import stimulus
from .switch import CLASS_RESERVATION, PoeError, PoeSwitch, PoweredDevice
from .topics import ANY, failure_data, poe_failure_decl

if TYPE_CHECKING:
    from axisim.lifecycle import RestartKind

    from ..base import DeviceView

GROUP = "PoE"
KEEP = f"{GROUP}.KeepPowerOnRestart"
OPERATOR_RW = SecurityLevel.parse("7744")  # the nvr/poe API is for operators (vapix-wire.md §4.2)
OPERATOR_R = SecurityLevel.parse("7747")
YES_NO = ParamType("bool", true_word="yes", false_word="no")
MODES = ("powerandethernet", "poweronly")

# nvr/poe StatusCode table (research notes from the VAPIX NVR PoE page): code -> description
STATUSES = {
    0: "Not connected",
    1: "Connected - PoE",
    2: "Connected - No PoE",
    3: "Disabled",
    4: "Error: Power budget exceeded",
    5: "Error: Other",
}
STATUS_DISCONNECTED = STATUSES[0]


def watts(value: float) -> str:
    """Watts as the recorder shows them, parameters and nvr/poe alike: one decimal (`7.0`)."""
    return f"{value:.1f}"


def _def(name: str, value: str, kind: ParamType, security: SecurityLevel) -> ParamDef:
    return param_def(f"{GROUP}.{name}", value, kind, security)


def port_key(number: int) -> str:
    return f"P{number - 1}"


class PoeSubsystem(Subsystem):
    name = "poe"

    # -- physical stimuli (the control API's events) --------------------------------------------

    @stimulus(
        "a powered device is plugged into a PoE port", port=int, class_=(int, 4), draw_w=(float, 6.0),
        lldp_w=(float, None), model=(str, "AXIS camera"), mac=(str, ""), link=(bool, True),
    )  # fmt: skip
    def physical_plug(
        self, port: int, class_: int, draw_w: float, lldp_w: float | None, model: str, mac: str, link: bool
    ) -> dict[str, Any]:
        self.plug(port, PoweredDevice(poe_class=class_, draw_w=draw_w, lldp_request_w=lldp_w, model=model, mac=mac,
                                      link=link))  # fmt: skip
        return {"port": port, "status": self.status(port)}

    @stimulus("the powered device on a PoE port is unplugged", port=int)
    def physical_unplug(self, port: int) -> dict[str, Any]:
        removed = self.unplug(port)
        return {"port": port, "removed": removed.name if removed else None}

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        ports = int(facts["poe_ports"])
        defs = [
            # "Turn on to supply power to connected devices during a restart": off until turned on
            _def("KeepPowerOnRestart", "no", YES_NO, OPERATOR_RW),
            _def("NbrOfPorts", str(ports), PUBLISHED, OPERATOR_R),
            _def("TotalPowerLimit", watts(float(facts["poe_budget_w"])), PUBLISHED, OPERATOR_R),
            _def("AllocatedPower", watts(0), PUBLISHED, OPERATOR_R),
            _def("PowerConsumption", watts(0), PUBLISHED, OPERATOR_R),
            _def("BudgetExceeded", "no", PUBLISHED, OPERATOR_R),
        ]
        for number in range(1, ports + 1):
            key = port_key(number)
            defs += [
                _def(f"{key}.Enabled", "yes", YES_NO, OPERATOR_RW),
                _def(f"{key}.FriendlyName", "", ParamType("string", maxlen=64), OPERATOR_RW),
                _def(f"{key}.Status", STATUS_DISCONNECTED, PUBLISHED, OPERATOR_R),
                _def(f"{key}.Class", "", PUBLISHED, OPERATOR_R),
                _def(f"{key}.AllocatedPower", watts(0), PUBLISHED, OPERATOR_R),
                _def(f"{key}.PowerConsumption", watts(0), PUBLISHED, OPERATOR_R),
            ]
            if facts.get("port_modes"):
                modes = ParamType("enum", entries=tuple((m, None) for m in MODES))
                defs.append(_def(f"{key}.Mode", MODES[0], modes, OPERATOR_RW))
        return defs

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        facts = device.variant.facts
        self.switch = PoeSwitch(
            port_count=int(facts["poe_ports"]), budget_w=float(facts["poe_budget_w"]),
            max_class=int(facts["poe_max_class"]), lldp="lldp" in facts.get("poe_allocation", ()),
        )  # fmt: skip
        self.has_modes = bool(facts.get("port_modes"))
        self._failed: dict[int, bool] = {}  # port (1..N, -1 the budget) -> fault last reported
        self.sync()

    # -- parameters <-> switch -------------------------------------------------

    def _param(self, name: str) -> str:
        return self.device.params.value(f"{GROUP}.{name}")

    def sync(self) -> None:
        """Make the switch follow the settings, then publish what it derives."""
        switch = self.switch
        switch.keep_power = self._param("KeepPowerOnRestart") == "yes"
        for port in switch.ports:
            key = port_key(port.number)
            enabled = self._param(f"{key}.Enabled") == "yes"
            if enabled != port.enabled:
                switch.set_enabled(port.number, enabled)
            if self.has_modes:
                switch.set_power_only(port.number, self._param(f"{key}.Mode") == "poweronly")
        switch.evaluate()
        self.publish_params()

    def publish_params(self) -> None:
        switch = self.switch
        values = {
            f"{GROUP}.TotalPowerLimit": watts(switch.budget_w),
            f"{GROUP}.AllocatedPower": watts(switch.allocated_w),
            f"{GROUP}.PowerConsumption": watts(switch.consumption_w),
            f"{GROUP}.BudgetExceeded": "yes" if switch.budget_exceeded else "no",
        }
        for port in switch.ports:
            key = f"{GROUP}.{port_key(port.number)}"
            device = port.device
            values[f"{key}.Status"] = self.status(port.number)
            values[f"{key}.Class"] = str(switch.effective_class(device)) if device else ""
            values[f"{key}.AllocatedPower"] = watts(port.reserved_w)
            values[f"{key}.PowerConsumption"] = watts(port.consumption_w)
            values[f"{key}.FriendlyName"] = device.name if device else ""  # shown unless renamed
        self.device.params.set_base(values)
        self._report_failures()

    # -- events (the device bus) --------------------------------------------------

    def _faults(self) -> dict[int, bool]:
        """Each port's fault (its device waits for power the budget cannot give), and the budget's."""
        faults = {port.number: port.over_budget for port in self.switch.ports}
        faults[ANY] = self.switch.budget_exceeded
        return faults

    def topics(self) -> list[TopicDecl]:
        return [poe_failure_decl(self.switch.port_count)]

    def states(self) -> list[Event]:
        decl = poe_failure_decl(self.switch.port_count)
        return [self.state_of(decl, {"port": n}, failure_data(f)) for n, f in self._faults().items()]

    def _report_failures(self) -> None:
        """Publish PoEFailure for each port whose fault appeared or cleared since the last report."""
        faults = self._faults()
        before, self._failed = self._failed, faults
        if not before:
            return  # the first look at the switch: nothing changed yet
        decl = poe_failure_decl(self.switch.port_count)
        for number, failed in faults.items():
            if before.get(number, False) != failed:
                self.publish(decl, {"port": number}, failure_data(failed))

    def status(self, number: int) -> str:
        return STATUSES[self.status_code(number)]

    def status_code(self, number: int) -> int:
        port = self.switch.port(number)
        if not port.enabled:
            return 3
        if port.device is None:
            return 0
        if port.powered:
            return 1
        return 4 if port.over_budget else 0

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(name.startswith(f"{GROUP}.") for name in applied):
            self.sync()

    # -- settings as the native API makes them ----------------------------------

    def set_port_enabled(self, number: int, enabled: bool) -> None:
        self.switch.port(number)  # PoeError for a port that does not exist
        self._set(f"{port_key(number)}.Enabled", "yes" if enabled else "no")

    def set_keep_power(self, enabled: bool) -> None:
        self._set("KeepPowerOnRestart", "yes" if enabled else "no")

    def _set(self, name: str, value: str) -> None:
        refused = self.device.update_params([(f"{GROUP}.{name}", value)], Role.OPERATOR)
        if refused:
            raise PoeError(f"{name} cannot be set to {value!r}")

    # -- the physical world (control API later) ---------------------------------

    def plug(self, number: int, device: PoweredDevice) -> None:
        self.switch.plug(number, device)
        self._physical(f"PoE port {number}: {device.name} (class {device.poe_class}) connected")

    def unplug(self, number: int) -> PoweredDevice | None:
        device = self.switch.unplug(number)
        if device is not None:
            self._physical(f"PoE port {number}: {device.name} disconnected")
        return device

    def _physical(self, message: str) -> None:
        self.publish_params()
        self.device.logs.system_event(message, source="poe")
        if self.switch.budget_exceeded:
            self.device.logs.system_event("PoE power budget exceeded", source="poe")
        self.device.changed()

    # -- the recorder's restart --------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        self.switch.recorder_going_down()
        self.publish_params()

    def booted(self) -> None:
        self.switch.recorder_back()
        self.publish_params()

    # -- what is plugged where survives a restart of the simulator -----------------

    def to_state(self) -> Any:
        plugged = {}
        for port in self.switch.ports:
            if port.device is not None:
                d = port.device
                plugged[str(port.number)] = {
                    "class": d.poe_class, "draw": d.draw_w, "lldp": d.lldp_request_w, "name": d.name,
                    "model": d.model, "mac": d.mac, "link": d.link,
                }  # fmt: skip
        return {"plugged": plugged}

    def load_state(self, state: Any) -> None:
        plugged = state.get("plugged") if isinstance(state, dict) else None
        if not isinstance(plugged, dict):
            raise ValueError("poe: 'plugged' is missing")
        devices: dict[int, PoweredDevice] = {}
        try:
            for number, spec in plugged.items():
                self.switch.port(int(number))
                devices[int(number)] = PoweredDevice(
                    int(spec["class"]), float(spec["draw"]), None if spec["lldp"] is None else float(spec["lldp"]),
                    str(spec["name"]), str(spec["model"]), str(spec["mac"]), bool(spec["link"]),
                )  # fmt: skip
        except (PoeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"poe: a plugged device is not valid ({exc})") from exc
        for port in self.switch.ports:
            port.device, port.powered, port.reserved_w, port.over_budget = None, False, 0.0, False
        for number in sorted(devices):
            self.switch.port(number).device = devices[number]
        self.sync()


__all__ = ["CLASS_RESERVATION", "PoeError", "PoeSubsystem", "PoweredDevice", "watts"]
