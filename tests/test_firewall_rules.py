"""The firewall's rules and test mode without the wire (VAPIX "Firewall configuration service": data
types Rule, IPRange, NetworkPort, PortRange, Filter, Limit; setRules, confirmRules,
clearPendingRules; the custom error codes 100, 101, 103, 104). The wire tests are in test_firewall.py."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from axisim.subsystems.firewall.rules import FirewallError, read_rules, verdict
from axisim.subsystems.firewall.state import Firewall, Ruleset


def drop(**members: Any) -> dict[str, Any]:
    return {"ruleType": "FILTER", **members, "filter": {"policy": "DROP"}}


def passes(rules: list[dict[str, Any]], client: str, port: int = 80, default: str = "ACCEPT") -> bool:
    return verdict(read_rules(rules), default, ipaddress.ip_address(client), "TCP", port)


def test_first_matching_filter_decides() -> None:
    rules = [
        {"ruleType": "FILTER", "ip": "10.0.0.5", "filter": {"policy": "ACCEPT"}},
        drop(ip="10.0.0.0/8"),  # host bits allowed, as the doc's 192.168.1.0/20
        drop(ipRange={"start": "192.168.2.10", "end": "192.168.2.128"}, tcpPort=80),
        drop(portRange={"portType": "BOTH", "start": 8000, "end": 8100}),
        drop(ip="2001:db8::/32", port={"portType": "TCP", "portNum": 443}),
        {"ruleType": "LIMIT", "pktType": "MULTICAST", "limit": {"amount": 1, "period": "SECOND",
                                                              "unit": "NEWCONNECTIONS", "burst": 1}},
    ]  # fmt: skip
    assert passes(rules, "10.0.0.5") and not passes(rules, "10.1.2.3")
    assert not passes(rules, "192.168.2.10") and passes(rules, "192.168.2.10", 443) and passes(rules, "192.168.2.129")
    assert not passes(rules, "127.0.0.1", 8050) and passes(rules, "127.0.0.1", 8101)
    assert not passes(rules, "2001:db8::1", 443) and passes(rules, "2001:db8::1", 80)
    assert not passes([], "127.0.0.1", default="DROP")
    assert passes([drop(udpPort=80), drop(mac="00:1B:63:84:45:E6")], "127.0.0.1")  # neither is a TCP client


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        (drop(ip="999.1.1.1"), 100),
        (drop(ip="127.0.0.1/33"), 100),
        (drop(ip=" 127.0.0.1"), 100),
        (drop(ipRange={"start": "10.0.0.9", "end": "10.0.0.1"}), 101),
        (drop(ipRange={"start": "10.0.0.1", "end": "::1"}), 101),
        (drop(ip="10.0.0.1", ipRange={"start": "10.0.0.1", "end": "10.0.0.2"}), 103),  # two layer-3 options
        (drop(tcpPort=80, udpPort=81), 103),
        ({"ruleType": "FILTER", "ip": "10.0.0.1"}, 103),  # a filter rule without its filter
        ({"ruleType": "LIMIT", "filter": {"policy": "DROP"}}, 103),
        (drop(portRange={"portType": "TCP", "start": 90, "end": 80}), 104),
        (drop(tcpPort=0), None),
        (drop(tcpPort=65536), None),
        (drop(tcpPort=True), None),
        (drop(port={"portType": "SCTP", "portNum": 80}), None),
        ({"ruleType": "FILTER", "filter": {"policy": "REJECT"}}, None),
        ({"ruleType": "BLOCK", "filter": {"policy": "DROP"}}, None),
        (drop(mac="00:1B:63:84:45"), None),
        (drop(colour="red"), None),
    ],
)
def test_refused_rules(rule: dict[str, Any], code: int | None) -> None:
    with pytest.raises(FirewallError) as refused:
        read_rules([rule])
    assert refused.value.code == code


def test_a_test_rolls_back_unless_confirmed() -> None:
    firewall, old, new = Firewall(), Ruleset(), Ruleset(read_rules([drop(ip="127.0.0.1")]), "ACCEPT")
    with pytest.raises(FirewallError) as refused:
        firewall.set_rules(new, 30, 0.0)  # a test while the firewall is off: 103
    assert refused.value.code == 103 and firewall.active == old
    firewall.set_activated(True)
    firewall.set_rules(new, 30, 100.0)
    assert firewall.active == new and firewall.pending == new and firewall.time_left(110.0) == 20
    assert not firewall.expire(129.9) and firewall.expire(130.0)
    assert firewall.active == old and firewall.pending == new and firewall.time_left(131.0) == 0
    firewall.confirm()  # after the timeout: the pending rules become active
    assert firewall.active == new and firewall.pending is None
    firewall.set_rules(old, 10, 200.0)
    firewall.confirm()  # during the test: kept
    assert firewall.active == old and firewall.pending is None and not firewall.expire(1e9)
    firewall.set_rules(new, 10, 300.0)
    firewall.clear_pending()
    assert firewall.active == old and firewall.pending is None and not firewall.testing
