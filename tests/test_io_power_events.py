"""The I/O ports publish their changes on the device bus (issue 17, events.md §1.5 I/O)."""

from __future__ import annotations

from axisim.control.events import apply
from axisim.device import Device, make_device
from axisim.events import Event
from param_tree import Role
from tests.conftest import DeviceClient, DeviceClientFactory
from tests.test_io import RELAY, act, io_of, w401


def _watch(dc: DeviceClient) -> list[Event]:
    seen: list[Event] = []
    dc.device.bus.subscribe(seen.append, ["tns1:Device//."])
    return seen


async def test_close_input_publishes_port_and_digital_input(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    seen = _watch(dc)
    io_of(dc.device).physical_close_input(1)
    topics = {(e.topic, tuple(e.source.items())) for e in seen}
    assert ("tns1:Device/tnsaxis:IO/Port", (("port", "0"),)) in topics
    assert ("tns1:Device/Trigger/DigitalInput", (("InputToken", "0"),)) in topics
    assert all(e.stateful for e in seen)


async def test_relay_through_port_cgi_publishes_relay(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    seen = _watch(dc)
    await act(dc, f"{RELAY}:/")
    relays = [e for e in seen if e.topic == "tns1:Device/Trigger/Relay"]
    assert relays and relays[-1].source == {"RelayToken": str(RELAY - 1)}
    assert relays[-1].value in {"active", "inactive"}


async def test_declared_equals_published_and_states_cover(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    seen = _watch(dc)
    io = io_of(dc.device)
    io.physical_close_input(1)
    io.physical_cut_input(1)
    io.physical_repair_input(1)
    await act(dc, f"{RELAY}:/")
    declared = {d.topic for d in io.topics()}
    assert {e.topic for e in seen} <= declared
    assert {d.topic for d in io.topics() if d.stateful} <= {e.topic for e in io.states()}


# -- PoE (S3008/S3016): tns1:Device/tnsaxis:HardwareFailure/PoEFailure --------------------------------

POE_FAILURE = "tns1:Device/tnsaxis:HardwareFailure/PoEFailure"


def _failures(seen: list[Event]) -> list[tuple[str, str, str]]:
    return [(e.source["port"], e.data["disruption"], e.data["reasonstr"]) for e in seen if e.topic == POE_FAILURE]


async def test_poe_budget_denial_and_its_end_are_port_faults(device_client: DeviceClientFactory) -> None:
    dc = await device_client("S3008")  # 65 W: four class 3 devices reserve 62 W, the fifth waits
    seen = _watch(dc)
    for port in range(1, 6):
        apply(dc.device, "poe", "plug", {"port": port, "class": 3})
    assert _failures(seen) == [("5", "1", "Power budget exceeded"), ("-1", "1", "Power budget exceeded")]
    assert all(e.stateful and e.key == "disruption" for e in seen if e.topic == POE_FAILURE)
    apply(dc.device, "poe", "unplug", {"port": 5})
    assert _failures(seen)[2:] == [("5", "0", ""), ("-1", "0", "")]
    poe = dc.device.subsystems["poe"]
    assert {e.topic for e in seen} <= {d.topic for d in poe.topics()}
    states = {e.source["port"]: e.value for e in poe.states()}
    assert set(states) == {"-1", *map(str, range(1, 9))} and set(states.values()) == {"0"}


async def test_poe_setportmode_that_ends_a_denial_clears_the_fault(device_client: DeviceClientFactory) -> None:
    dc = await device_client("S3008")
    for port in range(1, 6):
        apply(dc.device, "poe", "plug", {"port": port, "class": 3})
    seen = _watch(dc)
    response = await dc.get("/axis-cgi/nvr/poe/setportmode.cgi?schemaversion=1&port=5&enabled=no")
    assert response.status == 200
    assert _failures(seen) == [("5", "0", ""), ("-1", "0", "")]
    response = await dc.get("/axis-cgi/nvr/poe/setportmode.cgi?schemaversion=1&port=5&enabled=yes")
    assert _failures(seen)[2:] == [("5", "1", "Power budget exceeded"), ("-1", "1", "Power budget exceeded")]


async def test_poe_plug_within_budget_publishes_nothing(device_client: DeviceClientFactory) -> None:
    dc = await device_client("S3016")
    seen = _watch(dc)
    apply(dc.device, "poe", "plug", {"port": 1})
    apply(dc.device, "poe", "unplug", {"port": 1})
    assert _failures(seen) == []


# -- W401 power and WLAN: PowerSupplyFailure, Network/Lost (eth0 from power, wlan0 from wlan) ------

LOST = "tns1:Device/tnsaxis:Network/Lost"
SUPPLY = "tns1:Device/tnsaxis:HardwareFailure/PowerSupplyFailure"


def _device_events(device: Device) -> list[Event]:
    seen: list[Event] = []
    device.bus.subscribe(seen.append, [LOST, SUPPLY])
    return seen


def _pairs(seen: list[Event]) -> list[tuple[str, str, str]]:
    return [(e.topic.rsplit("/", 1)[-1], next(iter(e.source.values())), e.value or "") for e in seen]


def test_power_dc_and_cable_publish_supply_failure_and_eth0_lost() -> None:
    device = make_device("W401")
    seen = _device_events(device)
    apply(device, "power", "dc", {"connected": False})  # it runs on PoE
    apply(device, "power", "cable", {"connected": False, "poe": True})  # no power at all: it goes off
    apply(device, "power", "dc", {"connected": True})
    apply(device, "power", "cable", {"connected": True})
    assert _pairs(seen) == [
        ("PowerSupplyFailure", "0", "1"), ("Lost", "eth0", "1"), ("PowerSupplyFailure", "0", "0"),
        ("Lost", "eth0", "0"),
    ]
    assert all(e.stateful for e in seen)


def test_ignition_publishes_power_ignition() -> None:
    # GUESS (README reference gaps): no source names an ignition event; axisim publishes
    # tns1:Device/tnsaxis:Power/Ignition as a property, state 1 while the ignition is on
    device = make_device("W401")
    seen: list[Event] = []
    device.bus.subscribe(seen.append)
    apply(device, "power", "ignition", {"on": False})
    apply(device, "power", "ignition", {"on": True})
    ignition = [e for e in seen if e.topic == "tns1:Device/tnsaxis:Power/Ignition"]
    assert [(e.data["state"], e.stateful) for e in ignition] == [("0", True), ("1", True)]
    assert [e for e in seen if e.publisher == "io"] == []


def test_wlan_association_is_network_lost_for_wlan0() -> None:
    device = make_device("W401")
    wlan_params = "Network.Wireless"
    changes = [(f"{wlan_params}.ESSID", "Depot"), (f"{wlan_params}.W0.Enabled", "yes"),
               (f"{wlan_params}.W0.Passphrase", "correct horse")]  # fmt: skip
    assert device.update_params(changes, Role.ADMIN) == []
    seen = _device_events(device)
    apply(device, "wlan", "add_network", {"ssid": "Depot", "passphrase": "correct horse"})
    apply(device, "wlan", "remove_network", {"ssid": "Depot"})
    assert _pairs(seen) == [("Lost", "wlan0", "0"), ("Lost", "wlan0", "1")]


def test_w401_declares_network_lost_once_and_states_cover_every_property() -> None:
    device = make_device("W401")
    decls = [d for s in device.subsystems.values() for d in s.topics()]
    topics = [d.topic for d in decls]
    assert len(topics) == len(set(topics))
    lost = next(d for d in decls if d.topic == LOST)
    assert [v for v, _ in lost.source[0].values] == ["eth0", "wlan0"]
    states = {(e.topic, tuple(e.source.values())) for s in device.subsystems.values() for e in s.states()}
    assert {(LOST, ("eth0",)), (LOST, ("wlan0",)), (SUPPLY, ("0",))} <= states
    assert {d.topic for d in decls if d.stateful} <= {t for t, _ in states}


async def test_relay_pulse_ends_on_the_device_clock_with_an_event(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    seen = _watch(dc)
    assert await dc.text("GET", "/axis-cgi/io/port.cgi?action=9%3A%2F10000%5C") == ""  # 9:/10000\
    dc.device.clock.advance(10.0)
    relays = [(e.source["RelayToken"], e.value) for e in seen if e.topic == "tns1:Device/Trigger/Relay"]
    assert relays == [("8", "active"), ("8", "inactive")]


# -- the paths that change I/O state without a stimulus's own test (events.md §1.5 I/O) ---------------


async def test_open_and_short_inputs_and_supervision_publish_their_states(device_client: DeviceClientFactory) -> None:
    from tests.test_io import DOC_RANGES, sio

    dc = await w401(device_client)
    io = io_of(dc.device)
    io.physical_close_input(1)
    seen = _watch(dc)
    io.physical_open_input(1)  # active -> inactive
    ports = [(e.source, e.data) for e in seen if e.topic == "tns1:Device/tnsaxis:IO/Port"]
    assert ports == [({"port": "0"}, {"state": "0"})]
    reply = await sio(dc, "setSupervised", [{"port": 0, "supervised": True, "ranges": DOC_RANGES}])
    assert "error" not in reply
    seen.clear()
    io.physical_short_input(1)  # a supervised input's short: tampering, the contact not active
    supervised = [e for e in seen if e.topic == "tns1:Device/tnsaxis:IO/SupervisedPort"]
    assert supervised and supervised[-1].source == {"port": "0"}
    assert (supervised[-1].value, supervised[-1].data["tampered"]) == ("shorted", "1")
    assert not [e for e in seen if e.topic == "tns1:Device/tnsaxis:IO/Port"]


async def test_set_ports_and_state_sequences_publish_output_and_relay(device_client: DeviceClientFactory) -> None:
    from tests.test_io import outputs_to, sequence, set_ports

    dc = await w401(device_client)
    await outputs_to(dc, 2)
    seen = _watch(dc)
    assert "error" not in await set_ports(dc, {"port": "1", "state": "closed"})
    outputs = [(e.source, e.value) for e in seen if e.topic == "tns1:Device/tnsaxis:IO/OutputPort"]
    assert outputs == [({"port": "1"}, "1")]
    seen.clear()
    assert "error" not in await set_ports(dc, {"port": "1", "state": "open"})
    assert "error" not in await sequence(dc, "8", ("closed", 1000), ("open", 0))  # the relay, pulsed
    dc.device.clock.advance(1.5)
    relay = [e.value for e in seen if e.topic == "tns1:Device/Trigger/Relay" and e.source == {"RelayToken": "8"}]
    assert relay == ["active", "inactive"]  # every output is a Trigger/Relay; token 8 is port 9, the relay
    assert [e.value for e in seen if e.topic == "tns1:Device/tnsaxis:IO/OutputPort" and e.source == {"port": "1"}] == [
        "0"
    ]
