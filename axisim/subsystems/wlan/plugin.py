"""WLAN of the W401: the wireless settings, the radio's surroundings, and cable first (issue 7).

Manual, "WLAN": "The device is currently connected via ethernet cable. The device will
switch to the wireless connection when you disconnect the ethernet cable", and
"Configure custom network" joins a network that does not broadcast its SSID or is
configured ahead of time. Parameters (the M1065-LW's real `Network.Wireless` shape,
param-trees.md §5.3): `Network.Wireless.ESSID`, security in `W0` (WPA-PSK:
`Passphrase` or hex `Key`) or `W1` (WPA-Enterprise), neither = an open network, and the
wireless interface's IPv4/IPv6 in `Network.Interface.I1.Link.*`. axisim adds
`Network.Wireless.Hidden` (join by name; a hidden network is found only so),
`Network.Interface.I1.Manual.*` (static addresses when `BootProto=none`) and the
published `Network.Wireless.Status.*`, `Network.Interface.I1.Active.*` and
`Network.Status.ActiveInterface` (wired | wireless | none).

`Network.InterfaceSelectMode` auto uses the cable while it is connected, else the
wireless network. With neither link the device is unreachable (connections drop) while
it keeps running. The networks in range are the simulated world, set through the
Python API (`add_network`, `remove_network`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from param_tree import ParamDef, ParamType, SecurityLevel

from ...events import WLAN0, Event, TopicDecl, interfaces_of, network_lost_decl
from ..base import PUBLISHED, Subsystem, param_def
from ..stimuli import stimulus

if TYPE_CHECKING:
    from ..base import DeviceView

WIRELESS = "Network.Wireless"
LINK = "Network.Interface.I1.Link"
MANUAL = "Network.Interface.I1.Manual"
ACTIVE = "Network.Interface.I1.Active"
SELECT = "Network.InterfaceSelectMode"
WATCHED = (f"{WIRELESS}.", "Network.Interface.I1.", SELECT)  # settings the link depends on
ACTIVE_INTERFACE = "Network.Status.ActiveInterface"
ADMIN_RW = SecurityLevel.parse("7766")  # as the rest of Network.Wireless
VIEWER_R = SecurityLevel.parse("7717")
YES_NO = ParamType("bool", true_word="yes", false_word="no")
SECURITIES = ("none", "wpa-psk", "wpa-enterprise")
PASSPHRASE_LENGTH = (8, 63)  # IEEE 802.11i passphrase; a PSK key is 64 hex digits


class WlanError(ValueError):
    """A simulated network that cannot exist (bad SSID, security or addresses)."""


@dataclass(slots=True)
class Network:
    """A wireless network in range of the device."""

    ssid: str
    security: str = "wpa-psk"  # none | wpa-psk | wpa-enterprise
    passphrase: str = ""
    hidden: bool = False  # does not broadcast its SSID
    signal: int = -55  # dBm
    channel: int = 6
    ipv4_subnet: str = "192.168.50.0/24"  # what its DHCP server hands out
    ipv6_prefix: str = "fd00:50::/64"  # what its router advertises

    def check(self) -> None:
        if not 1 <= len(self.ssid.encode()) <= 32:
            raise WlanError("an SSID is 1-32 bytes")
        if self.security not in SECURITIES:
            raise WlanError(f"security is one of {', '.join(SECURITIES)}")
        if self.security == "wpa-psk" and not PASSPHRASE_LENGTH[0] <= len(self.passphrase) <= PASSPHRASE_LENGTH[1]:
            raise WlanError("a WPA passphrase is 8-63 characters")
        try:
            ipaddress.IPv4Network(self.ipv4_subnet)
            ipaddress.IPv6Network(self.ipv6_prefix)
        except ValueError as exc:
            raise WlanError(str(exc)) from exc


MANUAL_ADDRESSES = {
    f"{MANUAL}.IPAddress": ipaddress.IPv4Address,
    f"{MANUAL}.SubnetMask": ipaddress.IPv4Address,
    f"{MANUAL}.DefaultRouter": ipaddress.IPv4Address,
    f"{MANUAL}.IPv6Address": ipaddress.IPv6Address,
}


def _is_address(text: str, family: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> bool:
    try:
        family(text)
    except ValueError:
        return False
    return True


def _is_hex_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


class WlanSubsystem(Subsystem):
    name = "wlan"

    # -- physical stimuli (the control API's events) --------------------------------------------

    @stimulus(
        "a wireless network comes into range", ssid=str, security=(str, None), passphrase=(str, None),
        hidden=(bool, None), signal=(int, None), channel=(int, None),
    )  # fmt: skip
    def physical_add_network(self, ssid: str, **options: Any) -> dict[str, Any]:
        self.add_network(ssid, **{k: v for k, v in options.items() if v is not None})
        return {"ssid": ssid, "state": self.state()}

    @stimulus("a wireless network goes out of range", ssid=str)
    def physical_remove_network(self, ssid: str) -> dict[str, Any]:
        self.remove_network(ssid)
        return {}

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        ip = ParamType("string", maxlen=64)  # checked in refused(): empty, or an address of the right family
        return [
            param_def(f"{WIRELESS}.Hidden", "no", YES_NO, ADMIN_RW),
            param_def(f"{MANUAL}.IPAddress", "", ip, ADMIN_RW),
            param_def(f"{MANUAL}.SubnetMask", "", ip, ADMIN_RW),
            param_def(f"{MANUAL}.DefaultRouter", "", ip, ADMIN_RW),
            param_def(f"{MANUAL}.IPv6Address", "", ParamType("string", maxlen=64), ADMIN_RW),
            param_def(f"{WIRELESS}.Status.State", "disabled", PUBLISHED, VIEWER_R),
            param_def(f"{WIRELESS}.Status.SignalStrength", "", PUBLISHED, VIEWER_R),
            param_def(f"{WIRELESS}.Status.Channel", "", PUBLISHED, VIEWER_R),
            param_def(f"{ACTIVE}.IPAddress", "", PUBLISHED, VIEWER_R),
            param_def(f"{ACTIVE}.SubnetMask", "", PUBLISHED, VIEWER_R),
            param_def(f"{ACTIVE}.IPv6Address", "", PUBLISHED, VIEWER_R),
            param_def(ACTIVE_INTERFACE, "wired", PUBLISHED, VIEWER_R),
        ]

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.networks: dict[str, Network] = {}  # in range, by SSID
        self.publish_params()

    # -- settings ------------------------------------------------------------------

    def _param(self, name: str) -> str:
        return self.device.param(name)

    def security(self) -> str:
        if self._param(f"{WIRELESS}.W0.Enabled") == "yes":
            return "wpa-psk"
        if self._param(f"{WIRELESS}.W1.Enabled") == "yes":
            return "wpa-enterprise"
        return "none"

    def refused(self, proposed: dict[str, str]) -> set[str]:
        """One security method at a time; a passphrase of 8-63 characters; a key of 64 hex digits."""
        refused: set[str] = set()

        def after(name: str) -> str:
            return proposed.get(name, self._param(name))

        w0, w1 = f"{WIRELESS}.W0.Enabled", f"{WIRELESS}.W1.Enabled"
        if after(w0) == "yes" and after(w1) == "yes":
            refused |= {w0, w1} & proposed.keys()
        phrase = proposed.get(f"{WIRELESS}.W0.Passphrase")
        if phrase and not PASSPHRASE_LENGTH[0] <= len(phrase) <= PASSPHRASE_LENGTH[1]:
            refused.add(f"{WIRELESS}.W0.Passphrase")
        key = proposed.get(f"{WIRELESS}.W0.Key")
        if key and not _is_hex_key(key):
            refused.add(f"{WIRELESS}.W0.Key")
        if len(proposed.get(f"{WIRELESS}.ESSID", "").encode()) > 32:
            refused.add(f"{WIRELESS}.ESSID")  # an SSID is at most 32 bytes, whatever the characters
        for name, family in MANUAL_ADDRESSES.items():
            if proposed.get(name) and not _is_address(proposed[name], family):
                refused.add(name)
        return refused

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(n.startswith(WATCHED) for n in applied):
            self.publish_params()

    def world_changed(self, source: str) -> None:
        self.publish_params()

    # -- the radio's surroundings (Python API) ----------------------------------------

    def add_network(self, ssid: str, **options: Any) -> Network:
        """A network comes into range (or changes): security, passphrase, hidden, signal, channel..."""
        network = Network(ssid, **options)
        network.check()
        self.networks[ssid] = network
        self._physical(f"Wireless network {ssid!r} in range")
        return network

    def remove_network(self, ssid: str) -> None:
        if self.networks.pop(ssid, None) is not None:
            self._physical(f"Wireless network {ssid!r} out of range")

    def visible(self) -> list[Network]:
        """What a scan lists: networks that broadcast their SSID, strongest first."""
        return sorted((n for n in self.networks.values() if not n.hidden), key=lambda n: -n.signal)

    def _physical(self, message: str) -> None:
        self.device.logs.system_event(message, source="wlan")
        self.publish_params()
        self.device.changed()

    # -- what follows: association, addresses, the active interface -------------------

    @property
    def cable(self) -> bool:
        power = self.device.subsystems.get("power")
        return bool(getattr(power, "cable", True))

    def state(self) -> str:
        """disabled | searching | authentication failed | standby (cable in use) | connected."""
        ssid = self._param(f"{WIRELESS}.ESSID")
        if not ssid or self._param(SELECT) == "wired":
            return "disabled"
        network = self.networks.get(ssid)
        if network is None or (network.hidden and self._param(f"{WIRELESS}.Hidden") != "yes"):
            return "searching"
        if not self._authenticates(network):
            return "authentication failed"
        return "standby" if self.cable and self._param(SELECT) == "auto" else "connected"

    def _authenticates(self, network: Network) -> bool:
        security = self.security()
        if security != network.security:
            return False
        if security == "wpa-psk":
            phrase = self._param(f"{WIRELESS}.W0.Passphrase")
            if self._param(f"{WIRELESS}.W0.GenerationMethod") == "psk-hex":
                return self._param(f"{WIRELESS}.W0.Key").lower() == _psk_key(network).lower()
            return phrase == network.passphrase
        return True  # open, or enterprise (no RADIUS server is simulated)

    def active_interface(self) -> str:
        mode = self._param(SELECT) or "auto"
        if self.cable and mode in ("auto", "wired"):
            return "wired"
        return "wireless" if self.state() == "connected" else "none"

    def addresses(self, network: Network) -> dict[str, str]:
        """IPv4 (DHCP from the network, or the manual address) and IPv6 (manual, or SLAAC from the prefix)."""
        found = {"IPAddress": "", "SubnetMask": "", "IPv6Address": ""}
        if self._param(f"{LINK}.IPv4Enabled") != "no":
            if self._param(f"{LINK}.BootProto") == "none":
                found["IPAddress"] = self._param(f"{MANUAL}.IPAddress")
                found["SubnetMask"] = self._param(f"{MANUAL}.SubnetMask")
            else:
                subnet = ipaddress.IPv4Network(network.ipv4_subnet)
                found["IPAddress"] = str(subnet.network_address + min(100, subnet.num_addresses - 2))
                found["SubnetMask"] = str(subnet.netmask)
        if self._param(f"{LINK}.IPv6Enabled") == "yes":
            manual = self._param(f"{MANUAL}.IPv6Address")
            if manual:
                found["IPv6Address"] = manual
            elif self._param(f"{LINK}.AcceptRA") != "no":
                found["IPv6Address"] = str(_slaac(ipaddress.IPv6Network(network.ipv6_prefix), self.device.identity.mac))
        return found

    def publish_params(self) -> None:
        state = self.state()
        network = self.networks.get(self._param(f"{WIRELESS}.ESSID"))
        associated = network is not None and state in ("standby", "connected")
        addresses = self.addresses(network) if network is not None and state == "connected" else {}
        values = {
            f"{WIRELESS}.Status.State": state,
            f"{WIRELESS}.Status.SignalStrength": str(network.signal) if associated and network else "",
            f"{WIRELESS}.Status.Channel": str(network.channel) if associated and network else "",
            ACTIVE_INTERFACE: self.active_interface(),
        }
        values |= {f"{ACTIVE}.{key}": addresses.get(key, "") for key in ("IPAddress", "SubnetMask", "IPv6Address")}
        self.device.params.set_base(values)
        self.device.link_up = values[ACTIVE_INTERFACE] != "none"
        lost = state not in ("standby", "connected")  # not associated with its network
        if lost != getattr(self, "_lost", lost):
            self.publish(self._lost_decl(), {"interface": WLAN0}, {"lost": lost})
        self._lost = lost

    # -- events (the device bus): Network/Lost for wlan0, one declaration with eth0 ----------------

    def _lost_decl(self) -> TopicDecl:
        return network_lost_decl(interfaces_of({self.name, *self.device.subsystems}))

    def topics(self) -> list[TopicDecl]:
        return [] if "power" in self.device.subsystems else [self._lost_decl()]  # power declares it then

    def states(self) -> list[Event]:
        lost = self.state() not in ("standby", "connected")
        return [self.state_of(self._lost_decl(), {"interface": WLAN0}, {"lost": lost})]

    # -- the networks in range survive a restart of the simulator ----------------------

    def to_state(self) -> Any:
        return {"networks": [asdict(n) for n in self.networks.values()]}

    def load_state(self, state: Any) -> None:
        found = state.get("networks") if isinstance(state, dict) else None
        if not isinstance(found, list):
            raise ValueError("wlan: 'networks' is missing")
        networks = {}
        try:
            for spec in found:
                network = Network(**spec)
                network.check()
                networks[network.ssid] = network
        except (TypeError, WlanError) as exc:
            raise ValueError(f"wlan: a network is not valid ({exc})") from exc
        self.networks = networks
        self.publish_params()


def _psk_key(network: Network) -> str:
    """The 256-bit PSK a passphrase gives (IEEE 802.11i PBKDF2), as the hex `Key` holds it."""
    return hashlib.pbkdf2_hmac("sha1", network.passphrase.encode(), network.ssid.encode(), 4096, 32).hex()


def _slaac(prefix: ipaddress.IPv6Network, mac: str) -> ipaddress.IPv6Address:
    """The modified EUI-64 address the interface forms from a router's /64 prefix."""
    octets = bytearray(int(part, 16) for part in mac.split(":"))
    octets[0] ^= 0x02
    interface_id = bytes(octets[:3]) + b"\xff\xfe" + bytes(octets[3:])
    return prefix.network_address + int.from_bytes(interface_id, "big")


__all__ = ["Network", "WlanError", "WlanSubsystem"]
