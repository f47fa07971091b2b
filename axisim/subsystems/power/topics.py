"""The W401 power and network-link topics (events.md §1.5, §7 proposals).

`Network/Lost` is one topic for the whole device: the power package (the Ethernet cable)
owns its declaration and the WLAN subsystem adds `wlan0` through `network_lost_decl`, so a
device never declares the topic twice."""

from __future__ import annotations

from collections.abc import Iterable

from ...events import Item, TopicDecl

POWER_SUPPLY_FAILURE = "tns1:Device/tnsaxis:HardwareFailure/PowerSupplyFailure"
NETWORK_LOST = "tns1:Device/tnsaxis:Network/Lost"
DC_INPUT = 0  # the `power` source value of the DC input [GUESS: no recording names the values]
ETH0, WLAN0 = "eth0", "wlan0"

POWER_SUPPLY_FAILURE_DECL = TopicDecl(
    POWER_SUPPLY_FAILURE, True, (Item("power", "xsd:int", values=((str(DC_INPUT), None),)),),
    (Item("power_critical", key=True),),
)  # fmt: skip


def network_lost_decl(interfaces: Iterable[str]) -> TopicDecl:
    """Network/Lost for the device's interfaces (eth0, and wlan0 on a device with WLAN)."""
    source = (Item("interface", "xsd:string", values=tuple((name, None) for name in interfaces)),)
    return TopicDecl(NETWORK_LOST, True, source, (Item("lost", key=True),), nice="Network lost")


def interfaces_of(subsystems: Iterable[str]) -> tuple[str, ...]:
    """The interfaces a device with these subsystems reports in Network/Lost."""
    names = set(subsystems)
    return (*((ETH0,) if "power" in names else ()), *((WLAN0,) if "wlan" in names else ()))
