"""The `axis` library's own RTSP client (what Home Assistant's axis integration runs when the device
does not list the WebSocket API, events.md §0.2) against a W401 on its own 127.0.x.y:554: it
dials 554 and puts no port in its URL (§3.1), so the device must own 554 on its address. Inputs
closed through the control API and an event emitted there arrive decoded, in order."""

from __future__ import annotations

import asyncio
import errno
import random
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from axis.device import AxisDevice
from axis.models.configuration import Configuration
from axis.models.event import Event, EventOperation, EventTopic
from axis.rtsp import RTSP_PORT, Signal

from axisim.control.http import start_control
from axisim.fleet import Fleet
from axisim.fleet_plan import FleetError
from axisim.simulated import DeviceSpec

pytestmark = pytest.mark.integration


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll `condition` every 20 ms, at most `seconds` (bounded in count and time)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


@pytest.fixture
async def w401_on_554() -> AsyncIterator[tuple[Fleet, str]]:
    """A one-device fleet (with its control API): a W401 on 127.0.x.y, RTSP on 554 there."""
    fleet: Fleet | None = None
    for _ in range(5):  # another run may hold an address: try a few
        host = f"127.0.{random.randint(100, 250)}.{random.randint(2, 253)}"
        fleet = Fleet([DeviceSpec(model="W401", host=host, port=0, rtsp_ports=(RTSP_PORT,))])
        try:
            await fleet.start()
            break
        except FleetError as exc:
            cause = exc.__cause__
            if isinstance(cause, OSError) and cause.errno == errno.EACCES:
                pytest.skip(f"port {RTSP_PORT} cannot be bound here (not root, unprivileged port start above it)")
            fleet = None
    assert fleet is not None, "no free 127.0.x.y:554 in five tries"
    runner, port = await start_control(fleet, "127.0.0.1", 0)
    try:
        yield fleet, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await fleet.stop()


async def test_home_assistant_rtsp_path_decodes_io_events_in_order(w401_on_554: tuple[Fleet, str]) -> None:
    fleet, control = w401_on_554
    device = fleet[0]
    host = device.spec.host
    assert (
        device.rtsp_port == RTSP_PORT
        and device.rtsp_url == f"rtsp://{host}/axis-media/media.amp?video=0&audio=0&event=on"
    )
    signals: list[Signal] = []
    initialized: list[Event] = []
    changed: list[Event] = []
    async with httpx.AsyncClient() as session, httpx.AsyncClient(base_url=control) as api_control:
        # as homeassistant/components/axis/hub sets it up: status callback, events on, entity loader
        # subscribed to Initialized events, then the stream started
        api = AxisDevice(Configuration(session, host, port=device.port, username="root", password="pass"))
        api.stream.connection_status_callback.append(signals.append)
        api.enable_events()
        api.event.subscribe(initialized.append, operation_filter=EventOperation.INITIALIZED)
        api.event.subscribe(changed.append, operation_filter=EventOperation.CHANGED)
        api.stream.start()
        try:
            assert await wait_until(lambda: Signal.PLAYING in signals), signals
            # the current state of every input and the relay first (events.md §0.5): HA's entities
            assert await wait_until(
                lambda: len({e.id for e in initialized if e.topic_base is EventTopic.PORT_INPUT}) >= 8
            )
            ports = {e.id for e in initialized if e.topic_base is EventTopic.PORT_INPUT}
            assert {str(n) for n in range(8)} <= ports
            assert not any(e.is_tripped for e in initialized if e.topic_base is EventTopic.PORT_INPUT)
            relay = [e for e in initialized if e.topic_base is EventTopic.RELAY]
            assert relay and relay[0].state == "inactive"

            serial = device.serial
            for name, port in (("close_input", 1), ("close_input", 2), ("open_input", 1)):
                answer = await api_control.post(f"/devices/{serial}/events/io/{name}", json={"port": port})
                assert answer.status_code == 200, answer.text
            emitted = await api_control.post(
                f"/devices/{serial}/events",
                json={
                    "topic": "tns1:Device/Trigger/Relay",
                    "source": {"RelayToken": "8"},
                    "data": {"LogicalState": "active"},
                },
            )
            assert emitted.status_code == 200, emitted.text

            def seen() -> list[tuple[str, str, bool]]:
                return [(e.topic_base.name, e.id, e.is_tripped) for e in changed]

            expected = [
                ("PORT_INPUT", "0", True),
                ("PORT_INPUT", "1", True),
                ("PORT_INPUT", "0", False),
                ("RELAY", "8", True),
            ]
            assert await wait_until(lambda: len(seen()) >= len(expected)), seen()
            assert seen() == expected  # in order, nothing lost, nothing extra
        finally:
            api.stream.stop()
        assert await wait_until(lambda: any(s.reason == "teardown" for s in device.journal.streams()))
    streams = [s.to_json() for s in device.journal.streams()]
    assert [(s["kind"], s["user"], s["dropped"]) for s in streams] == [("rtsp", "root", 0)]
