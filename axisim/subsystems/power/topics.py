"""The W401 power topics (events.md §1.5, §7 proposals). `Network/Lost` is one topic for the
whole device, built in axisim/events.py (`network_lost_decl`): power reports eth0 (the cable),
wlan reports wlan0, and the device never declares it twice."""

from __future__ import annotations

from ...events import ETH0, NETWORK_LOST, WLAN0, Item, TopicDecl, interfaces_of, network_lost_decl

POWER_SUPPLY_FAILURE = "tns1:Device/tnsaxis:HardwareFailure/PowerSupplyFailure"
DC_INPUT = 0  # the `power` source value of the DC input [GUESS: no recording names the values]

POWER_SUPPLY_FAILURE_DECL = TopicDecl(
    POWER_SUPPLY_FAILURE, True, (Item("power", "xsd:int", values=((str(DC_INPUT), None),)),),
    (Item("power_critical", key=True),),
)  # fmt: skip

# The ignition pin on the power connector [GUESS: no recording or document names an ignition
# event; chosen in the AXIS style of IO/Port, listed in the README's reference gaps]
IGNITION = "tns1:Device/tnsaxis:Power/Ignition"
IGNITION_DECL = TopicDecl(IGNITION, True, (), (Item("state", key=True, nice="On"),), nice="Ignition")

__all__ = [
    "DC_INPUT",
    "ETH0",
    "IGNITION",
    "IGNITION_DECL",
    "NETWORK_LOST",
    "POWER_SUPPLY_FAILURE",
    "POWER_SUPPLY_FAILURE_DECL",
    "WLAN0",
    "interfaces_of",
    "network_lost_decl",
]
