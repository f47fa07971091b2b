"""Firewall rules: read from a client's values, checked, matched against a connection, and written
back (VAPIX "Firewall configuration service", data types Rule, Filter, Limit, IPRange, NetworkPort,
PortRange, MAC, PktType, Policy).

Pure: no clock, no parameters. A refused value raises FirewallError with the API's code (100
invalid IP address, 101 invalid IP address range, 103 invalid request, 104 invalid port range) or
code None when the value does not fit its data type (the framework's own validation error).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

POLICIES = ("DROP", "ACCEPT")
RULE_TYPES = ("FILTER", "LIMIT")
PORT_TYPES = ("TCP", "UDP", "BOTH")
PKT_TYPES = ("UNICAST", "BROADCAST", "MULTICAST")
LIMIT_UNITS = ("NEWCONNECTIONS", "PACKETS")
LIMIT_PERIODS = ("SECOND", "MINUTE", "HOUR", "DAY")  # GUESS: the doc's LimitPeriod enum is garbled; examples use these
MAX_RULES = 128  # GUESS: the API gives no limit
MAC = re.compile(r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}")
# the members of each network layer: "For each rule, only one option from layer 2, 3, or 4 is allowed"
LAYERS = (("mac", "pktType"), ("ip", "ipRange"), ("tcpPort", "udpPort", "port", "portRange"))
MEMBERS = frozenset({"ruleType", "filter", "limit", *(m for layer in LAYERS for m in layer)})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FirewallError(ValueError):
    """A refused request; `code` is the API's custom error code, None for a data type violation."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _type_error(what: str) -> FirewallError:
    return FirewallError(None, what)


def _enum(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _type_error(f"{name} must be one of {', '.join(choices)}")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(f"{name} must be an integer")
    if not low <= value <= high:
        raise _type_error(f"{name} must be between {low} and {high}")
    return value


def _object(value: Any, name: str, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(f"{name} must be an object")
    unknown = set(value) - set(fields)
    if unknown:
        raise _type_error(f"{name} has no field {sorted(unknown)[0]}")
    return value


def _port(value: Any, name: str) -> int:
    return _int(value, name, 1, 65535)  # the data type Port


def policy(value: Any, name: str = "defaultPolicy") -> str:
    return _enum(value, name, POLICIES)


def _network(text: Any) -> Network:
    """An IPv4/IPv6 address or network (host bits allowed, as in the doc's 192.168.1.0/20)."""
    if not isinstance(text, str) or len(text) > 64 or text != text.strip():
        raise FirewallError(100, "Invalid IP address")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise FirewallError(100, "Invalid IP address") from None


def _address(text: Any) -> Address:
    if not isinstance(text, str) or len(text) > 64:
        raise FirewallError(100, "Invalid IP address")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise FirewallError(100, "Invalid IP address") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule as the client gave it (`given`, its members written back as read) and what it matches."""

    given: tuple[tuple[str, Any], ...]  # the members, in the API's order, None when absent
    rule_type: str
    network: Network | None  # ip
    span: tuple[Address, Address] | None  # ipRange, both ends included
    ports: tuple[str, int, int] | None  # (TCP | UDP | BOTH, first, last) of tcpPort/udpPort/port/portRange
    l2: bool  # a MAC address or a link-layer packet type other than unicast: never a simulated TCP client
    policy: str | None  # FILTER: DROP | ACCEPT

    def to_dict(self) -> dict[str, Any]:
        """The rule as a GET shows it: every member, null when not set (ipRange only when set, and
        `filter` or `limit` after the rule's type) [DOC example "List all firewall rules"]."""
        shown = dict(self.given)
        out: dict[str, Any] = {"ruleType": self.rule_type, "ip": shown.get("ip")}
        if shown.get("ipRange") is not None:
            out["ipRange"] = shown["ipRange"]
        for member in ("mac", "tcpPort", "udpPort", "port", "portRange", "pktType"):
            out[member] = shown.get(member)
        kind = "filter" if self.rule_type == "FILTER" else "limit"
        out[kind] = shown.get(kind)
        return out

    def matches(self, address: Address, protocol: str, port: int) -> bool:
        """Whether an inbound connection from `address` to local `protocol` `port` is this rule's."""
        if self.l2:
            return False
        if self.network is not None and (address.version != self.network.version or address not in self.network):
            return False
        if self.span is not None:
            low, high = self.span
            if address.version != low.version or not low <= address <= high:  # type: ignore[operator]
                return False
        if self.ports is not None:
            kind, first, last = self.ports
            if kind not in (protocol, "BOTH") or not first <= port <= last:
                return False
        return True


def read_rule(value: Any, index: int) -> Rule:
    """A rule from a client's JSON value; FirewallError when it does not fit."""
    name = f"rules[{index}]"
    if not isinstance(value, dict):
        raise _type_error(f"{name} must be an object")
    unknown = set(value) - MEMBERS
    if unknown:
        raise _type_error(f"{name} has no member {sorted(unknown)[0]}")
    rule_type = _enum(value.get("ruleType"), f"{name}.ruleType", RULE_TYPES)
    present = {k: v for k, v in value.items() if v is not None}  # nullable members may be null or left out
    for layer in LAYERS:
        if sum(member in present for member in layer) > 1:
            raise FirewallError(103, "Invalid request.")
    network = _network(present["ip"]) if "ip" in present else None
    span = _span(present["ipRange"], name) if "ipRange" in present else None
    ports = _ports(present, name)
    l2 = "mac" in present or present.get("pktType", "UNICAST") != "UNICAST"
    if "mac" in present and (not isinstance(present["mac"], str) or not MAC.fullmatch(present["mac"])):
        raise _type_error(f"{name}.mac is not a MAC address")
    if "pktType" in present:
        _enum(present["pktType"], f"{name}.pktType", PKT_TYPES)
    rule_policy = None
    if rule_type == "FILTER":
        if "limit" in present or "filter" not in present:
            raise FirewallError(103, "Invalid request.")
        rule_policy = policy(
            _object(present["filter"], f"{name}.filter", ("policy",)).get("policy"), f"{name}.filter.policy"
        )
    else:
        if "filter" in present or "limit" not in present:
            raise FirewallError(103, "Invalid request.")
        _limit(present["limit"], f"{name}.limit")
    given = tuple((member, present.get(member)) for member in sorted(MEMBERS))
    return Rule(given, rule_type, network, span, ports, l2, rule_policy)


def _span(value: Any, name: str) -> tuple[Address, Address]:
    _object(value, f"{name}.ipRange", ("start", "end"))
    low, high = _address(value.get("start")), _address(value.get("end"))
    if low.version != high.version or low > high:  # type: ignore[operator]
        raise FirewallError(101, "Invalid IP address range.")
    return low, high


def _ports(present: dict[str, Any], name: str) -> tuple[str, int, int] | None:
    if "tcpPort" in present:
        number = _port(present["tcpPort"], f"{name}.tcpPort")
        return "TCP", number, number
    if "udpPort" in present:
        number = _port(present["udpPort"], f"{name}.udpPort")
        return "UDP", number, number
    if "port" in present:
        port = _object(present["port"], f"{name}.port", ("portType", "portNum"))
        kind = _enum(port.get("portType"), f"{name}.port.portType", PORT_TYPES)
        number = _port(port.get("portNum"), f"{name}.port.portNum")
        return kind, number, number
    if "portRange" in present:
        span = _object(present["portRange"], f"{name}.portRange", ("portType", "start", "end"))
        kind = _enum(span.get("portType"), f"{name}.portRange.portType", PORT_TYPES)
        first, last = (
            _port(span.get("start"), f"{name}.portRange.start"),
            _port(span.get("end"), f"{name}.portRange.end"),
        )
        if first > last:
            raise FirewallError(104, "Invalid port range.")
        return kind, first, last
    return None


def _limit(value: Any, name: str) -> None:
    limit = _object(value, name, ("amount", "burst", "period", "unit"))
    _int(limit.get("amount"), f"{name}.amount", 1, 65535)
    _int(limit.get("burst"), f"{name}.burst", 1, 65535)
    _enum(limit.get("period"), f"{name}.period", LIMIT_PERIODS)
    _enum(limit.get("unit"), f"{name}.unit", LIMIT_UNITS)


def read_rules(value: Any) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise _type_error("rules must be an array")
    if len(value) > MAX_RULES:
        raise FirewallError(103, "Invalid request.")
    return tuple(read_rule(item, index) for index, item in enumerate(value))


def client_address(text: str) -> Address | None:
    """A connection's peer address (an IPv4-mapped IPv6 address as the IPv4 one); None if not one."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def verdict(rules: tuple[Rule, ...], default: str, address: Address, protocol: str, port: int) -> bool:
    """True when the connection is accepted: the first matching FILTER rule decides, else the
    default policy. LIMIT rules are kept and shown but not enforced (GUESS: no rate is simulated)."""
    for rule in rules:
        if rule.policy is not None and rule.matches(address, protocol, port):
            return rule.policy == "ACCEPT"
    return default == "ACCEPT"
