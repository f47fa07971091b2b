"""The recorders' PoE switch: ports, a power budget and the allocation rules of the manuals.

S3008 manual, "Allocate power": "The recorder reserves a certain amount of power for
each port. The total reserved power cannot exceed the total power budget. A port
will not be powered up if the recorder tries to reserve more power than what is
available." Reservations are by PoE class (class 1 4 W, 2 7 W, 3 15.5 W, 4 30 W, the
manuals' examples) or, for a device that speaks LLDP, what the device requests
(its maximum draw plus the worst-case cable loss, the S3008 table). Consumption
is what the powered devices actually draw. No HTTP and no parameters here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# watts a port reserves per PoE class (manuals' examples); class 0 (unclassified) is
# 802.3af's default, the class 3 amount
CLASS_RESERVATION = {0: 15.5, 1: 4.0, 2: 7.0, 3: 15.5, 4: 30.0}
# the class's power limit at the PSE, as getportstatuses reports it (ClassPowerLimit)
CLASS_POWER_LIMIT = {0: 15.4, 1: 4.0, 2: 7.0, 3: 15.4, 4: 30.0}


class PoeError(ValueError):
    """A request the switch refuses (a port that does not exist, a value out of range)."""


@dataclass
class PoweredDevice:
    """A simulated camera or other PD on a port."""

    poe_class: int
    draw_w: float  # what it actually consumes when powered
    lldp_request_w: float | None = None  # None: it does not speak LLDP (LLDP Send Max PoE off)
    name: str = ""
    model: str = "AXIS camera"
    mac: str = ""
    link: bool = True  # whether its network link comes up

    def __post_init__(self) -> None:
        if self.poe_class not in CLASS_RESERVATION:
            raise PoeError(f"PoE class {self.poe_class} does not exist (0-4)")
        if not 0 <= self.draw_w <= 100:
            raise PoeError("a powered device draws 0-100 W")
        if self.lldp_request_w is not None and not 0 < self.lldp_request_w <= 100:
            raise PoeError("an LLDP request is 0-100 W")
        if not self.name:
            self.name = f"{self.model} {self.mac}".strip()  # "device name and MAC address"


@dataclass
class Port:
    number: int  # 1-based, as printed on the recorder and used by nvr/poe
    enabled: bool = True
    power_only: bool = False  # S3016 "Power only": PoE on, network off
    device: PoweredDevice | None = None
    powered: bool = False
    reserved_w: float = 0.0
    over_budget: bool = False  # a device waits for power the budget cannot give

    @property
    def consumption_w(self) -> float:
        return self.device.draw_w if self.powered and self.device else 0.0

    @property
    def link_up(self) -> bool:
        return bool(self.device and self.device.link and self.powered and not self.power_only)


@dataclass
class PoeSwitch:
    port_count: int
    budget_w: float
    max_class: int  # the highest class a port supplies (S3008 3, S3016 4)
    lldp: bool = True  # allocation by LLDP (S3008, firmware 10.2+); otherwise by class only
    ports: list[Port] = field(default_factory=list)
    keep_power: bool = False
    restarting: bool = False  # the recorder is rebooting

    def __post_init__(self) -> None:
        if not self.ports:
            self.ports = [Port(n) for n in range(1, self.port_count + 1)]

    def port(self, number: int) -> Port:
        if not 1 <= number <= self.port_count:
            raise PoeError(f"port {number} does not exist (1-{self.port_count})")
        return self.ports[number - 1]

    # -- what a port asks for --------------------------------------------------

    def effective_class(self, device: PoweredDevice) -> int:
        """A device of a higher class than the port supplies is classified at the port's limit."""
        return min(device.poe_class, self.max_class) if device.poe_class else 0

    def reservation(self, device: PoweredDevice) -> float:
        """LLDP: what the device requests (capped at the port's class); otherwise its class amount."""
        by_class = CLASS_RESERVATION[self.effective_class(device)]
        cap = CLASS_RESERVATION[self.max_class]
        if self.lldp and device.lldp_request_w is not None:
            return min(device.lldp_request_w, cap)
        return min(by_class, cap)

    # -- totals ----------------------------------------------------------------

    @property
    def allocated_w(self) -> float:
        return round(sum(p.reserved_w for p in self.ports), 2)

    @property
    def consumption_w(self) -> float:
        return round(sum(p.consumption_w for p in self.ports), 2)

    @property
    def budget_exceeded(self) -> bool:
        """The recorder's fault (red status LED and buzzer): a device waits for power."""
        return any(p.over_budget for p in self.ports)

    # -- changes ---------------------------------------------------------------

    def plug(self, number: int, device: PoweredDevice) -> Port:
        port = self.port(number)
        if port.device is not None:
            raise PoeError(f"port {number} already has a device; unplug it first")
        port.device = device
        self.evaluate()
        return port

    def unplug(self, number: int) -> PoweredDevice | None:
        port = self.port(number)
        device = port.device
        port.device = None
        self._cut(port)
        self.evaluate()
        return device

    def set_enabled(self, number: int, enabled: bool) -> None:
        port = self.port(number)
        port.enabled = enabled
        if not enabled:
            self._cut(port)
        self.evaluate()

    def set_power_only(self, number: int, power_only: bool) -> None:
        self.port(number).power_only = power_only

    def _cut(self, port: Port) -> None:
        port.powered, port.reserved_w, port.over_budget = False, 0.0, False

    def evaluate(self) -> None:
        """Power, in port order, every waiting device whose reservation fits what is left.

        Powered ports keep their power: a new device never takes it from another."""
        if self.restarting and not self.keep_power:
            return
        for port in self.ports:
            if port.powered:
                continue
            if port.device is None or not port.enabled:
                port.over_budget = False
                continue
            need = self.reservation(port.device)
            if self.allocated_w + need <= self.budget_w + 1e-9:
                port.powered, port.reserved_w, port.over_budget = True, need, False
            else:
                port.over_budget = True

    # -- the recorder's own restart ---------------------------------------------

    def recorder_going_down(self) -> None:
        """Without keep-power the PoE outputs drop for the reboot."""
        self.restarting = True
        if not self.keep_power:
            for port in self.ports:
                self._cut(port)

    def recorder_back(self) -> None:
        self.restarting = False
        self.evaluate()

