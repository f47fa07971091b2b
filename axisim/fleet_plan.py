"""What a fleet is made of, before anything starts: groups of devices, addresses, identities.

From the command line (`--count 100 --models S3008:3,W401`) or a fleet file (`axisim/fleet_file.py`).

Indexes run over the whole fleet, so serials are unique (one identity stride per OUI)
and the same seed gives the same fleet on every run.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from pathlib import Path

from param_tree import whole_number

from .accounts import AccountError
from .device import DEFAULT_ACCOUNT, AccountSpec, identity_for, initial_accounts
from .lifecycle import BootTimes
from .model import ModelError, load_model
from .rtsp import RTSP_OFFSET, RTSP_PORT, rtsp_block_problem
from .server import HTTPS_OFFSET
from .simulated import DeviceSpec

MAX_DEVICES = 65_000  # in one process: ports on one address; loopback addresses run out much later
MAX_SITE = 1_000_000  # in a site cut into shards (identity indexes repeat only after 2**24)
MAX_SHARDS = 4096
FIRST_LOOPBACK = "127.0.1.1"
ROLES = ("admin", "operator", "viewer")
MAX_SECONDS = 3600.0  # boot and ready times (NaN and infinity are refused too)
RTSP_AUTO_MAX = 100  # fleets up to this size serve RTSP unless told not to; larger ones where told


class FleetError(ValueError):
    """A fleet description that cannot be started; the message says what to change."""


@dataclass(frozen=True)
class Options:
    """What every device of a group shares (a fleet's defaults, a group's overrides)."""

    accounts: tuple[AccountSpec, ...] = (DEFAULT_ACCOUNT,)
    https: bool = False
    strict_nc: bool = False
    boot_time: float = 0.0
    ready_time: float = 0.0
    rtsp: bool | None = None  # the RTSP event stream; None: on in fleets of up to RTSP_AUTO_MAX devices
    websocket_events: bool = True  # False: devices without the WebSocket event stream
    discovery: bool = False  # True: announced over mDNS (axisim/discovery/); off by default

    def spec(
        self, model: str, variant: str | None, *, seed: str | None, index: int, host: str, port: int,
        https_port: int = 0, rtsp_ports: tuple[int, ...] = (),
    ) -> DeviceSpec:
        """One device with these options (its HTTPS listener on `https_port` when enabled, its RTSP
        listener on the first of `rtsp_ports` that binds: none when empty)."""
        return DeviceSpec(
            model=model, variant=variant, accounts=self.accounts, seed=seed, index=index, host=host, port=port,
            https_port=https_port if self.https else None, rtsp_ports=rtsp_ports, strict_nc=self.strict_nc,
            boot_times=BootTimes(self.boot_time, self.ready_time), websocket_events=self.websocket_events,
            discovery=self.discovery,
        )  # fmt: skip


@dataclass(frozen=True)
class Group:
    model: str
    count: int
    variant: str | None = None
    options: Options = Options()


@dataclass(frozen=True)
class Addressing:
    """Where each device listens. HTTPS ports are fixed by the plan, so the same fleet has the same
    ports on every run: ports mode puts them in a block of their own (by default right after the
    HTTP ports), loopback mode uses one port beside the HTTP one (by default +363: 8080 -> 8443)."""

    mode: str = "ports"  # "ports" | "loopback" | "interface" (addresses of a real interface, README "Discovery")
    host: str = "127.0.0.1"
    base_port: int = 20000
    first_address: str = FIRST_LOOPBACK
    https_port: int | None = None  # ports: the first device's HTTPS port; loopback: every device's
    rtsp_port: int | None = None  # ports: the first device's RTSP port; loopback: every device's
    interface: str = ""  # interface mode: where the addresses live (added by fleet_addresses.py)

    def rtsp_ports(self, index: int, size: int) -> tuple[int, ...]:
        """Where the device at `index` serves RTSP: ports mode, a block after the HTTPS one
        (base_port + 2 x size + index); loopback, 554 on its own address, else base_port + 474."""
        if self.mode == "ports":
            first = self.rtsp_port
            if first is None:
                first = self.base_port + 2 * size if self.base_port else 0
            return (first + index if first else 0,)
        if self.rtsp_port is not None:
            return (self.rtsp_port,)
        remapped = self.base_port + RTSP_OFFSET
        return (RTSP_PORT, remapped if remapped <= 65535 else 0)

    def https_base(self, size: int) -> int:
        """The first (ports) or every (loopback) device's HTTPS port; 0: any free port."""
        if self.https_port is not None:
            return self.https_port
        if self.base_port == 0:
            return 0
        return self.base_port + (size if self.mode == "ports" else HTTPS_OFFSET)

    def place(self, index: int, size: int = 1) -> tuple[str, int, int]:
        """Address, HTTP port and HTTPS port of the device at `index` of a fleet of `size`."""
        https = self.https_base(size)
        if self.mode == "ports":
            return self.host, self.base_port + index if self.base_port else 0, https + index if https else 0
        if self.mode == "interface":
            return host_address(self.first_address, index), self.base_port, https
        return loopback_address(self.first_address, index), self.base_port, https


@dataclass(frozen=True)
class Shard:
    """Shard `index` (0-based, as a StatefulSet's pod ordinal) of `count`: a contiguous run of the
    site's global indexes. Identity, addresses and state directories are functions of the global
    index, so the shards of a site together hold exactly the devices one process would."""

    index: int = 0
    count: int = 1

    def span(self, size: int) -> range:
        """The global indexes this shard owns in a site of `size` devices (sizes differ by one at most)."""
        return range(self.index * size // self.count, (self.index + 1) * size // self.count)

    def owner(self, index: int, size: int) -> int:
        """The shard that owns global `index` in a site of `size`: the last K whose span starts at
        or before it (K * size // count <= index)."""
        return ((index + 1) * self.count - 1) // size

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`K/N`: shard K (0 to N-1) of N."""
    index, sep, count = text.strip().partition("/")
    k, n = whole_number(index, high=MAX_SHARDS - 1), whole_number(count, high=MAX_SHARDS)
    if not sep or k is None or n is None or not k < n:
        raise FleetError(f"shard {text!r}: use K/N with 0 <= K < N <= {MAX_SHARDS} (K counts from 0)")
    return Shard(k, n)


@dataclass(frozen=True)
class FleetPlan:
    groups: tuple[Group, ...]
    seed: str = "axisim"
    addressing: Addressing = Addressing()
    state_dir: Path | None = None
    shard: Shard = Shard()

    @property
    def size(self) -> int:
        """Devices in the whole site (every shard)."""
        return sum(g.count for g in self.groups)

    @property
    def span(self) -> range:
        """The global indexes this process serves."""
        return self.shard.span(self.size)

    def rtsp_on(self, group: Group) -> bool:
        """A group's RTSP as set, else on in a fleet of up to RTSP_AUTO_MAX devices."""
        return group.options.rtsp if group.options.rtsp is not None else self.size <= RTSP_AUTO_MAX

    def devices(self) -> list[DeviceSpec]:
        """One spec per device of this shard, in fleet order (groups in the order given)."""
        specs = []
        span = self.span
        start = 0  # the group's first global index
        for group in self.groups:
            rtsp = self.rtsp_on(group)
            for index in range(max(start, span.start), min(start + group.count, span.stop)):
                host, port, https_port = self.addressing.place(index, self.size)
                rtsp_ports = self.addressing.rtsp_ports(index, self.size) if rtsp else ()
                specs.append(
                    group.options.spec(
                        group.model, group.variant, seed=self.seed, index=index, host=host, port=port,
                        https_port=https_port, rtsp_ports=rtsp_ports,
                    )
                )  # fmt: skip
            start += group.count
        if self.state_dir is not None:
            specs = [replace(s, state_dir=self.state_dir / _serial_of(s)) for s in specs]
        return specs


def _serial_of(spec: DeviceSpec) -> str:
    return identity_for(spec.model, spec.seed, spec.index).serial


def loopback_address(first: str, index: int) -> str:
    """The index-th usable address from `first` in 127/8, skipping .0 and .255."""
    try:
        start = ipaddress.IPv4Address(first)
    except ValueError:
        raise FleetError(f"first_address {first!r} is not an IPv4 address") from None
    if not start.is_loopback or int(start) % 256 in (0, 255):
        raise FleetError(f"first_address {first} is not a loopback host address (127.x.y.1-254)")
    offset = int(start) - int(ipaddress.IPv4Address("127.0.0.0"))
    base_slot = offset - 2 * (offset // 256) - 1  # usable slots before `first` (.1-.254 per /24)
    slot = base_slot + index
    address = ipaddress.IPv4Address(int(ipaddress.IPv4Address("127.0.0.0")) + (slot // 254) * 256 + slot % 254 + 1)
    if not address.is_loopback:
        raise FleetError("the fleet runs out of loopback addresses (127.255.255.254)")
    return str(address)


def host_address(first: str, index: int) -> str:
    """The index-th address from `first` that ends in neither .0 nor .255 (interface addressing)."""
    try:
        start = ipaddress.IPv4Address(first)
    except ValueError:
        raise FleetError(f"first address {first!r} is not an IPv4 address") from None
    if start.is_loopback or start.is_multicast or start.is_unspecified or int(start) % 256 in (0, 255):
        raise FleetError(f"first address {first} is not a host address of a LAN")
    base = int(start) - 2 * (int(start) // 256) - 1
    slot = base + index
    try:
        return str(ipaddress.IPv4Address((slot // 254) * 256 + slot % 254 + 1))
    except ipaddress.AddressValueError:
        raise FleetError("the fleet runs out of IPv4 addresses") from None


# -- parsing ----------------------------------------------------------------------------------


def parse_account(text: str) -> AccountSpec:
    """`NAME:PASSWORD[:ROLE]`, ROLE admin|operator|viewer with an optional +ptz."""
    name, sep, rest = text.partition(":")
    password, _, role = rest.partition(":")
    role = role or "admin"
    if not sep or not name or not password or role.removesuffix("+ptz") not in ROLES:
        raise FleetError(f"account {text!r}: use NAME:PASSWORD[:ROLE], ROLE admin|operator|viewer[+ptz]")
    return AccountSpec(name, password, role)


def parse_mix(text: str, count: int) -> list[tuple[str, int]]:
    """`S3008:3,W401` with 10 devices -> [("S3008", 8), ("W401", 2)] (weights, largest remainder)."""
    weights: list[tuple[str, int]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, weight = item.partition(":")
        try:
            value = int(weight) if weight else 1
        except ValueError:
            raise FleetError(f"model mix {item!r}: the weight after ':' is a whole number") from None
        if value < 1:
            raise FleetError(f"model mix {item!r}: weights are 1 or more")
        weights.append((name, value))
    if not weights:
        raise FleetError("name at least one model")
    total = sum(w for _, w in weights)
    shares = [(name, count * w // total, count * w % total) for name, w in weights]
    left = count - sum(n for _, n, _ in shares)
    bonus = {i for i, _ in sorted(enumerate(shares), key=lambda p: (-p[1][2], p[0]))[:left]}
    return [(name, n + (1 if i in bonus else 0)) for i, (name, n, _) in enumerate(shares)]


def _check_https_ports(addressing: Addressing, size: int) -> None:
    """The HTTPS ports fit below 65536 and clear the HTTP ones."""
    first = addressing.https_base(size)
    if not first:
        return
    last = first + (size - 1 if addressing.mode == "ports" else 0)
    if last > 65535:
        raise FleetError(
            f"the HTTPS ports ({first} to {last}) run past 65535; lower the base port or set the "
            "first HTTPS port (--https-base-port; https_port in a fleet file)"
        )
    base = addressing.base_port
    http_last = base + (size - 1 if addressing.mode == "ports" else 0)
    if base and first <= http_last and base <= last:
        raise FleetError(
            f"the HTTPS ports ({first} to {last}) overlap the HTTP ports ({base} to {http_last}); "
            "choose another first HTTPS port (--https-base-port; https_port in a fleet file)"
        )


def make_plan(
    groups: list[Group], *, seed: str = "axisim", addressing: Addressing = Addressing(), state_dir: Path | None = None,
    shard: Shard = Shard(),
) -> FleetPlan:
    """Check a fleet before anything starts: models, variants, size, shard, addresses, ports."""
    checked = []
    for group in groups:
        try:
            model = load_model(group.model)
            variant = model.variant(group.variant).name
            initial_accounts(group.options.accounts)
        except ModelError as exc:
            raise FleetError(str(exc)) from exc
        except AccountError as exc:
            raise FleetError(f"{group.model} accounts: {exc}") from exc
        checked.append(replace(group, model=model.id, variant=variant))
    plan = FleetPlan(tuple(checked), seed, addressing, state_dir, shard)
    if plan.size == 0:
        raise FleetError("the fleet has no devices")
    if plan.size > MAX_SITE:
        raise FleetError(f"a site has at most {MAX_SITE} devices")
    if shard.count > plan.size:
        raise FleetError(f"{shard.count} shards for {plan.size} devices: every shard needs one at least")
    if len(plan.span) > MAX_DEVICES:
        raise FleetError(
            f"one process holds at most {MAX_DEVICES} devices; cut the site of {plan.size} into shards "
            f"(--shard K/N, --workers N)"
        )
    try:
        ipaddress.ip_address(addressing.host)
    except ValueError:
        raise FleetError(f"host {addressing.host!r} is not an IP address") from None
    if not 0 <= addressing.base_port <= 65535 or not 0 <= (addressing.https_port or 0) <= 65535:
        raise FleetError("ports are 0-65535 (0: any free port)")
    if addressing.mode == "ports" and addressing.base_port and addressing.base_port + plan.size - 1 > 65535:
        raise FleetError(
            f"{plan.size} devices from port {addressing.base_port} run past 65535; "
            "lower base_port or use loopback addressing"
        )
    if any(g.options.https for g in plan.groups):
        _check_https_ports(addressing, plan.size)
    if any(plan.rtsp_on(g) for g in plan.groups):
        problem = addressing.mode == "ports" and rtsp_block_problem(
            addressing.rtsp_ports(0, plan.size)[0], plan.size,
            {"HTTP": addressing.base_port, "HTTPS": addressing.https_base(plan.size)},
        )  # fmt: skip
        if problem:
            raise FleetError(problem)
    if addressing.mode == "loopback":
        if addressing.base_port == 0:
            raise FleetError("loopback addressing needs a fixed port (each device listens on it at its own address)")
        loopback_address(addressing.first_address, plan.size - 1)  # raises when they run out
    if addressing.mode == "interface":
        if addressing.base_port == 0 or not addressing.interface:
            raise FleetError("interface addressing needs an interface and a fixed port (each address listens on it)")
        host_address(addressing.first_address, plan.size - 1)
    return plan
