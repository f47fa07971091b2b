"""The wired interface's network configuration as the parameters hold it, and what follows from it.

Pure: no device, no HTTP. `read(param, lease, mac, link, extras)` gives a `NetworkInfo` (the
settings and the addresses in use); `published(info)` the read-only mirrors (`Network.eth0.*`,
`Network.Routing.*`, `Network.Resolver.*`, `Network.ZeroConf.*`, the volatile host name);
`static_ipv4` and the address checks are the one place the address rules live, for param.cgi and
network_settings.cgi alike.

A simulated device keeps listening where it was started: that address is its DHCP lease (`Lease`),
in use while `Network.BootProto=dhcp`. The simulated DHCP server offers an address and a router,
never a host name or name servers, so the static host name and resolver are the ones in use
(network-settings API: DHCP values are used "in the event that a DHCP server provides" them).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from param_tree.checks import DOMAIN_NAME

from ... import ipv4 as ipv4_math

# the address helpers are pure and read the same few addresses again and again (a device built,
# each request of the network settings API): their results are kept, ipaddress is slow
CACHED = 1024
BOOT_PROTO = "Network.BootProto"  # dhcp | none
IP_ADDRESS = "Network.IPAddress"
SUBNET_MASK = "Network.SubnetMask"
BROADCAST = "Network.Broadcast"
DEFAULT_ROUTER = "Network.DefaultRouter"
ZEROCONF = "Network.ZeroConf.Enabled"
ZEROCONF_FALLBACK = "Network.ZeroConf.Fallback"
IPV6_ENABLED = "Network.IPv6.Enabled"
IPV6_ADDRESSES = "Network.IPv6.IPAddress"
IPV6_ROUTER = "Network.IPv6.DefaultRouter"
IPV6_DHCP = "Network.IPv6.DHCPv6"
HOSTNAME = "Network.HostName"
HOSTNAME_DHCP = "Network.VolatileHostName.ObtainFromDHCP"
DNS_SERVERS = ("Network.DNSServer1", "Network.DNSServer2")
RESOLVER_DHCP = "Network.Resolver.ObtainFromDHCP"
DOMAIN = "Network.DomainName"
TCP_ECN = "Network.tcpECN"
MEDIA = "Network.Media"
DOT1X = "Network.Interface.I0.dot1x"

IPV4_NAMES = (IP_ADDRESS, SUBNET_MASK, BROADCAST)
NO_SERVER = "0.0.0.0"  # an unset Network.DNSServerN
IPV6_STATIC_PREFIX = 64  # Network.IPv6.IPAddress holds addresses without a length [GUESS: a /64]
MAX_STATIC_IPV4 = 1  # one Network.IPAddress
MAX_NAME_SERVERS = len(DNS_SERVERS)
MAX_SEARCH_DOMAINS = 6  # the API document's example device
TCP_ECN_MODES = {"0": "disabled", "1": "acceptAndInitiate", "2": "acceptOnly"}  # Linux net.ipv4.tcp_ecn


class SettingRefused(ValueError):
    """A network setting the device refuses; `what` names the field (the API maps it to its sub-code)."""

    def __init__(self, what: str, why: str = "") -> None:
        super().__init__(why or what)
        self.what = what


@dataclass(frozen=True, slots=True)
class Lease:
    """What the simulated DHCP server hands out: the address the device listens on."""

    address: str
    netmask: str
    gateway: str


@dataclass(frozen=True, slots=True)
class Address:
    address: str
    prefix: int
    origin: str  # static | dhcp | linkLocal
    scope: str  # link | site | global
    broadcast: str | None = None


@dataclass(frozen=True, slots=True)
class Extras:
    """Settings the API has and no parameter holds (kept in the subsystem's saved state)."""

    search_domains: tuple[str, ...] = ()
    static_dhcp_fallback: bool = False
    dhcp_static_routes: bool = False
    http_proxy: str = ""  # the global proxies: stored, used by nothing (the manuals: applied at restart)
    https_proxy: str = ""
    no_proxy: str = ""


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """eth0 and the system-wide settings, as getNetworkInfo reports them (Python values)."""

    mac: str
    link: bool
    tcp_ecn: str
    media: str
    hostname: str
    static_hostname: str
    use_dhcp_hostname: bool
    use_dhcp_resolver: bool
    name_servers: tuple[str, ...]
    search_domains: tuple[str, ...]
    domain_name: str
    ipv4_mode: str  # static | dhcp
    link_local_mode: str  # off | on | fallback
    ipv4: tuple[Address, ...]
    static_ipv4: Address
    default_router: str
    static_default_router: str
    static_dhcp_fallback: bool
    dhcp_static_routes: bool
    ipv6_enabled: bool
    ipv6_mode: str
    ipv6: tuple[Address, ...]
    static_ipv6: tuple[Address, ...]
    ipv6_default_router: str
    proxies: tuple[str, str, str]  # http, https, no proxy
    dot1x_enabled: bool
    dot1x_status: str
    dot1x_identity: str
    eapol_version: str


# -- address rules -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=CACHED)
def prefix_of(mask: str) -> int | None:
    """The prefix length of a contiguous IPv4 netmask (1-32), None for anything else."""
    try:
        bits = int(ipaddress.IPv4Address(mask))
    except ValueError:
        return None
    length = bin(bits).count("1")
    return length if length and bits == ((1 << 32) - 1) ^ ((1 << (32 - length)) - 1) else None


@functools.lru_cache(maxsize=CACHED)
def mask_of(prefix: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


@functools.lru_cache(maxsize=CACHED)
def broadcast_of(address: str, prefix: int) -> str:
    value = ipv4_math.parse(address)
    if value is None or not 0 <= prefix <= 32:
        return str(ipaddress.IPv4Interface(f"{address}/{prefix}").network.broadcast_address)  # its ValueError
    return ipv4_math.text(ipv4_math.broadcast(value, prefix))


@functools.lru_cache(maxsize=CACHED)
def _ipv4(value: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        return None


def static_ipv4(address: str, prefix: int, broadcast: str | None = None) -> Address:
    """A static IPv4 configuration, checked: a host address (not unspecified, multicast, reserved or
    the limited broadcast; loopback is allowed, it is where simulated devices listen), a prefix of
    1-32, not the network or broadcast address of its subnet (prefixes up to /30), and a broadcast,
    when given, that is the subnet's. SettingRefused("address" | "prefixLength" | "broadcast" |
    "combination")."""
    host = _ipv4(address)
    if host is None or host.is_unspecified or host.is_multicast or host.is_reserved or host.packed == b"\xff" * 4:
        raise SettingRefused("address", f"{address!r} is not an IPv4 host address")
    if not 1 <= prefix <= 32:
        raise SettingRefused("prefixLength", f"{prefix} is not a prefix length (1-32)")
    if broadcast is not None and _ipv4(broadcast) is None:
        raise SettingRefused("broadcast", f"{broadcast!r} is not an IPv4 address")
    network = ipaddress.IPv4Interface(f"{address}/{prefix}").network
    if prefix <= 30 and host in (network.network_address, network.broadcast_address):
        raise SettingRefused("combination", f"{address} is the network or broadcast address of /{prefix}")
    if broadcast is not None and broadcast != str(network.broadcast_address):
        raise SettingRefused("combination", f"{broadcast} is not the broadcast address of {network}")
    return Address(address, prefix, "static", "global", str(network.broadcast_address))


def router_ok(value: str) -> bool:
    """A default router: an IPv4 unicast address, or 0.0.0.0 / empty for none."""
    router = _ipv4(value) if value else ipaddress.IPv4Address(0)
    return router is not None and not (router.is_multicast or router.is_reserved or router.packed == b"\xff" * 4)


def name_server_ok(value: str) -> bool:
    """A name server: an IPv4 or IPv6 unicast address."""
    try:
        server = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (server.is_multicast or server.is_unspecified)


def ipv6_static_ok(value: str) -> bool:
    """A static IPv6 address: IPv6, unicast, not link-local (that one is derived from the MAC)."""
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return not (address.is_multicast or address.is_unspecified or address.is_link_local)


def domain_ok(value: str) -> bool:
    """A search domain or domain name: the DNS name rule param_tree/checks.py keeps for Network.DomainName."""
    return bool(DOMAIN_NAME.fullmatch(value))


# every manual, Network > Global proxies: "http(s)://host:port", "http(s)://user@host:port",
# "http(s)://user:pass@host:port"
_PROXY = re.compile(
    r"https?://(?:(?P<user>[^:@/\s]+)(?::(?P<password>[^@/\s]*))?@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:@/\[\]\s]+):(?P<port>[0-9]{1,5})"
)


def proxy_ok(value: str) -> bool:
    """A global proxy in the manuals' formats (empty: none), its host a DNS name or an IP address."""
    if not value:
        return True
    match = _PROXY.fullmatch(value)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        return False
    host = match["host"].strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return match["host"][0] != "[" and domain_ok(host)
    return True


def no_proxy_ok(value: str) -> bool:
    """The manuals' "No proxy": empty, or comma-separated IP addresses, networks in CIDR form, domain
    names and `.domain` for all its subdomains; no wildcards (the API document)."""
    for item in (part.strip() for part in value.split(",") if value):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            if not domain_ok(item[1:] if item.startswith(".") else item):
                return False
    return True


def obscured(proxy: str) -> str:
    """A proxy as getNetworkInfo shows it: "sensitive information such as passwords will be obscured"."""
    match = _PROXY.fullmatch(proxy)
    if match is None or match["password"] is None:
        return proxy
    start, end = match.span("password")
    return proxy[:start] + "******" + proxy[end:]


def split_list(value: str) -> tuple[str, ...]:
    """An ipList parameter's items (comma or space separated)."""
    return tuple(part for part in value.replace(",", " ").split() if part)


# -- derived addresses -------------------------------------------------------------------------


def ipv6_link_local(mac: str) -> str:
    """fe80::/64 with the modified EUI-64 interface identifier of the MAC (RFC 4291 appendix A)."""
    octets = bytearray(bytes.fromhex(mac.replace(":", "")))
    octets[0] ^= 0x02
    identifier = bytes(octets[:3]) + b"\xff\xfe" + bytes(octets[3:])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + b"\x00" * 6 + identifier))


def ipv4_link_local(mac: str) -> str:
    """A stable 169.254/16 address from the MAC, in RFC 3927's usable range 169.254.1.0-169.254.254.255."""
    digest = hashlib.sha256(mac.lower().encode()).digest()
    return f"169.254.{1 + digest[0] % 254}.{digest[1]}"


@functools.lru_cache(maxsize=CACHED)
def _scope_v6(address: str) -> str:
    return "site" if ipaddress.IPv6Address(address) in ipaddress.IPv6Network("fc00::/7") else "global"


# -- reading -----------------------------------------------------------------------------------


def read(param: Callable[[str, str], str], lease: Lease, mac: str, link: bool, extras: Extras) -> NetworkInfo:
    """The configuration the parameters hold and the addresses in use that follow from it."""
    yes = lambda name, default="no": param(name, default) == "yes"  # noqa: E731
    static_prefix = prefix_of(param(SUBNET_MASK, "255.255.255.0")) or 24
    static_address = param(IP_ADDRESS, lease.address)
    if ipv4_math.parse(static_address) is None:  # a device started on an IPv6 address has it as its identity's address
        static_address = "0.0.0.0"
    static = Address(static_address, static_prefix, "static", "global", broadcast_of(static_address, static_prefix))
    mode = "static" if param(BOOT_PROTO, "dhcp") == "none" else "dhcp"
    primary: Address | None = None
    if mode == "static":
        primary, router = static, param(DEFAULT_ROUTER, "")
    elif ipv4_math.parse(lease.address) is not None:  # started on an IPv6 address: no IPv4 lease
        prefix = prefix_of(lease.netmask) or 24
        primary = Address(lease.address, prefix, "dhcp", "global", broadcast_of(lease.address, prefix))
        router = lease.gateway
    else:
        router = ""
    link_local_mode = "off" if not yes(ZEROCONF) else ("fallback" if yes(ZEROCONF_FALLBACK, "yes") else "on")
    ipv4 = [primary] if primary else []
    if link_local_mode == "on":  # "fallback" assigns one only when DHCP or static fails, which never happens here
        ipv4.append(Address(ipv4_link_local(mac), 16, "linkLocal", "link"))
    static_v6 = tuple(
        Address(a, IPV6_STATIC_PREFIX, "static", _scope_v6(a))
        for a in split_list(param(IPV6_ADDRESSES, ""))
        if ipv6_static_ok(a)
    )
    ipv6_enabled = yes(IPV6_ENABLED)
    ipv6 = (Address(ipv6_link_local(mac), 64, "linkLocal", "link"), *static_v6) if ipv6_enabled else ()
    servers = tuple(s for s in (param(name, NO_SERVER) for name in DNS_SERVERS) if s and s != NO_SERVER)
    hostname = param(HOSTNAME, "")
    return NetworkInfo(
        mac=mac.lower(), link=link, tcp_ecn=TCP_ECN_MODES.get(param(TCP_ECN, "1"), "acceptAndInitiate"),
        media=param(MEDIA, "auto"), hostname=hostname, static_hostname=hostname,
        use_dhcp_hostname=yes(HOSTNAME_DHCP, "yes"), use_dhcp_resolver=yes(RESOLVER_DHCP, "yes"),
        name_servers=servers, search_domains=extras.search_domains, domain_name=param(DOMAIN, ""),
        ipv4_mode=mode, link_local_mode=link_local_mode, ipv4=tuple(ipv4), static_ipv4=static,
        default_router=router, static_default_router=param(DEFAULT_ROUTER, ""),
        static_dhcp_fallback=extras.static_dhcp_fallback, dhcp_static_routes=extras.dhcp_static_routes,
        ipv6_enabled=ipv6_enabled, ipv6_mode="static" if param(IPV6_DHCP, "auto") == "off" else "dhcp",
        proxies=(extras.http_proxy, extras.https_proxy, extras.no_proxy), ipv6=ipv6, static_ipv6=static_v6,
        ipv6_default_router=param(IPV6_ROUTER, "") if ipv6_enabled else "",
        dot1x_enabled=yes(f"{DOT1X}.Enabled"), dot1x_status=param(f"{DOT1X}.Status", "Stopped"),
        dot1x_identity=param(f"{DOT1X}.EAPTLS.Identity", ""),
        eapol_version="EAPoLv" + param(f"{DOT1X}.EAPOLVersion", "1"),
    )  # fmt: skip


def published(info: NetworkInfo) -> dict[str, str]:
    """The read-only parameters that report what is in use (the device drops those it lacks)."""
    primary = next((a for a in info.ipv4 if a.origin != "linkLocal"), None)
    link_local = next((a for a in info.ipv4 if a.origin == "linkLocal"), None)
    in_use = {  # none on a device started on an IPv6 address, with DHCP: its identity's values stay
        "Network.eth0.IPAddress": primary.address,
        "Network.eth0.SubnetMask": mask_of(primary.prefix),
        "Network.eth0.Broadcast": primary.broadcast or broadcast_of(primary.address, primary.prefix),
    } if primary else {}
    return {
        **in_use,
        "Network.eth0.IPv6.IPAddresses": " ".join(a.address for a in info.ipv6),
        "Network.Routing.DefaultRouter": info.default_router,
        "Network.Routing.IPv6.DefaultRouter": info.ipv6_default_router,
        "Network.ZeroConf.IPAddress": link_local.address if link_local else "",
        "Network.ZeroConf.SubnetMask": mask_of(16) if link_local else "",
        "Network.VolatileHostName.HostName": info.hostname,
        "Network.Resolver.NameServer1": info.name_servers[0] if info.name_servers else "",
        "Network.Resolver.NameServer2": info.name_servers[1] if len(info.name_servers) > 1 else "",
        "Network.Resolver.NameServerList": " ".join(info.name_servers),
        "Network.Resolver.Search": " ".join(info.search_domains),
    }
