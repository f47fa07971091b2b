"""Who a simulated device is: serial, MAC, hostname, address, realm.

Serial = MAC without colons, upper case, under an Axis OUI; hostname
`axis-<serial lower>`; Digest realm `AXIS_<serial>` (DESIGN.md "Identity").
Derived from a seed and an index, so a fleet is the same fleet on every run.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass

from . import ipv4

AXIS_OUIS = ("00408C", "ACCC8E", "B8A44F", "E82725")
_STRIDE = 0x9E3779  # odd, so index -> suffix is a bijection modulo 2**24


@dataclass(frozen=True, slots=True)
class Identity:
    serial: str
    ip: str = "127.0.0.1"
    prefix_len: int = 24
    gateway: str = ""

    def __post_init__(self) -> None:
        if len(self.serial) != 12 or any(c not in "0123456789ABCDEF" for c in self.serial):
            raise ValueError(f"serial must be 12 upper-case hex digits, got {self.serial!r}")
        if self.serial[:6] not in AXIS_OUIS:
            raise ValueError(f"serial {self.serial} does not start with an Axis OUI {AXIS_OUIS}")

    @classmethod
    def derive(cls, oui: str, index: int = 0, seed: str = "axisim", ip: str = "127.0.0.1") -> Identity:
        base = int.from_bytes(hashlib.sha256(f"{seed}:{oui}".encode()).digest()[:3], "big")
        suffix = (base + index * _STRIDE) % (1 << 24)
        return cls(serial=f"{oui}{suffix:06X}", ip=ip)

    @property
    def mac(self) -> str:
        return ":".join(self.serial[i : i + 2] for i in range(0, 12, 2))

    @property
    def hostname(self) -> str:
        return f"axis-{self.serial.lower()}"

    @property
    def realm(self) -> str:
        return f"AXIS_{self.serial}"

    @property
    def soc_serial(self) -> str:
        """A stable per-device SoC serial (real devices report one in basicdeviceinfo)."""
        digest = hashlib.sha256(f"soc:{self.serial}".encode()).hexdigest().upper()
        return f"{digest[:8]}-{digest[8:16]}"

    def placeholders(self) -> dict[str, str]:
        """Values for the `{name}` templates of a model's [identity] table."""
        netmask, broadcast, first = _subnet(self.ip, self.prefix_len)
        return {
            "serial": self.serial,
            "serial_lower": self.serial.lower(),
            "mac": self.mac,
            "hostname": self.hostname,
            "ip": self.ip,
            "netmask": netmask,
            "broadcast": broadcast,
            "gateway": self.gateway or first,
        }


@functools.lru_cache(maxsize=1024)
def _subnet(ip: str, prefix_len: int) -> tuple[str, str, str]:
    """Netmask, broadcast and first host ("" where there are too many to list) of the subnet of `ip`:
    a device asks twice as it is built (its parameters, its network lease) and devices of a port
    fleet share one address. IPv4 by integers (axisim/ipv4.py: ipaddress took 36 µs of it)."""
    address = ipv4.parse(ip)
    if address is not None and 0 <= prefix_len <= 32:
        first = ipv4.text(ipv4.first_host(address, prefix_len)) if prefix_len >= 16 else ""
        return ipv4.text(ipv4.mask(prefix_len)), ipv4.text(ipv4.broadcast(address, prefix_len)), first
    network = ipaddress.ip_interface(f"{ip}/{prefix_len}").network  # IPv6 (or an error)
    first_v6 = next(iter(network.hosts()), None) if network.num_addresses <= 2**16 else None  # not a list of 254
    return str(network.netmask), str(network.broadcast_address), str(first_v6) if first_v6 is not None else ""
