"""The I/O ports publish their changes on the device bus (issue 17, events.md §1.5 I/O)."""

from __future__ import annotations

from axisim.events import Event
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
