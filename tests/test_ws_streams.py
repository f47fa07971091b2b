"""Events over WebSocket (issue 18): many subscribers, a slow one, the control API's stream faults
and journal, and streams closed by a restart, a power loss and the server stopping. Client:
tests/ws_client.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from axisim.pytest_plugin import device_spec
from axisim.simulated import SimulatedDevice
from cgi_handlers.event_stream import QUEUE_SIZE
from tests.conftest import digest_request
from tests.test_control import Control
from tests.ws_client import (
    EVERYTHING,
    PORT,
    READY,
    ROOT,
    TIMEOUT,
    W401,
    EventStream,
    control_api,
    count_of,
    message_of,
    stalled_client,
    streams,
)


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async with control_api() as api:
        yield api


# -- many subscribers, slow subscribers ------------------------------------------------------------


async def test_many_subscribers_all_get_every_event(control: Control) -> None:
    clients = [await EventStream.open(control[W401].url) for _ in range(20)]
    try:
        for client in clients:
            await client.configure([{"topicFilter": PORT}])
            await client.initial(count_of(control[W401], PORT))
        await control.event(W401, "io", "close_input", port=2)
        for client in clients:
            (notification,) = await client.until(PORT)
            assert message_of(notification)[1:] == ({"port": "1"}, {"state": "1"})
    finally:
        for client in clients:
            await client.close()


async def test_a_slow_subscriber_drops_and_never_holds_up_the_others(control: Control) -> None:
    device = control[W401]
    slow = await stalled_client(device.url, [{"topicFilter": PORT}])
    fast = await EventStream.open(device.url)
    try:
        await fast.configure([{"topicFilter": PORT}])
        await fast.initial(count_of(device, PORT))
        # the slow client reads nothing; the fast one gets every event, batch by batch. 6 MB of
        # messages: more than the kernel's send buffer (4 MB at most) takes for the slow one
        batches, size = 80, QUEUE_SIZE // 2
        for batch in range(batches):
            for _ in range(size // 2):
                device.event("io", "close_input", port=1)
                device.event("io", "open_input", port=1)
            assert len(await fast.until(PORT, size)) == size, batch
        sessions = await streams(control, W401)
        by_sent = sorted(sessions, key=lambda s: s["sent"])
        assert by_sent[-1]["sent"] == count_of(device, PORT) + batches * size and by_sent[-1]["dropped"] == 0
        assert by_sent[0]["dropped"] > 0 and by_sent[0]["open"]  # counted, visible, still connected
    finally:
        slow.close()
        await fast.close()


# -- stream faults through the control API, the journal --------------------------------------------


async def test_refused_upgrade_then_a_good_one_and_the_journal(control: Control) -> None:
    await control.add_fault(W401, kind="websocket", refuse=True, count=1)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await EventStream.open(control[W401].url)
    assert refused.value.status == 503
    stream = await EventStream.open(control[W401].url)  # count=1: the next one works
    await stream.configure([{"topicFilter": READY}])
    await stream.initial(1)
    await stream.close()
    (session,) = await streams(control, W401)
    assert session["kind"] == "websocket" and session["user"] == "root" and session["filters"] == [READY]
    assert session["sent"] == 1 and session["dropped"] == 0
    for _ in range(100):  # the server sees the close frame a moment after the client sent it
        if not session["open"]:
            break
        await asyncio.sleep(0.02)
        (session,) = await streams(control, W401)
    assert not session["open"] and session["reason"] == "closed by the client"


async def test_drop_after_closes_the_stream(control: Control) -> None:
    await control.add_fault(W401, kind="websocket", drop_after=2)
    stream = await EventStream.open(control[W401].url)
    try:
        await stream.configure(EVERYTHING)
        await stream.initial(2)
        closing = await stream.ws.receive(TIMEOUT)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1001
        (session,) = await streams(control, W401)
        assert session["sent"] == 2 and "fault" in session["reason"]
    finally:
        await stream.close()


async def test_delay_holds_each_message(control: Control) -> None:
    await control.add_fault(W401, kind="websocket", delay=0.2)
    stream = await EventStream.open(control[W401].url)
    try:
        started = time.monotonic()
        await stream.configure([{"topicFilter": READY}])
        assert message_of(await stream.notification())[0] == READY
        assert time.monotonic() - started >= 0.2  # the notification was held
    finally:
        await stream.close()


# -- restarts, power, shutdown ---------------------------------------------------------------------


async def test_restart_closes_the_stream_and_a_new_one_works(control: Control) -> None:
    device = control[W401]
    stream = await EventStream.open(device.url)
    try:
        await stream.configure([{"topicFilter": READY}])
        await stream.initial(1)
        async with aiohttp.ClientSession() as session:
            assert (await digest_request(session, "GET", device.url + "/axis-cgi/restart.cgi", ROOT)).status == 200
        closing = await stream.ws.receive(TIMEOUT)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1001, closing  # going away
        assert await device.wait_ready(10)
    finally:
        await stream.close()
    (session,) = await streams(control, W401)
    assert session["reason"] == "device restarted"
    again = await EventStream.open(device.url)
    await again.configure([{"topicFilter": READY}])
    assert message_of(await again.notification())[2] == {"ready": "1"}
    await again.close()


async def test_power_loss_closes_the_stream(control: Control) -> None:
    stream = await EventStream.open(control[W401].url)
    try:
        await stream.configure([{"topicFilter": READY}])
        await stream.initial(1)
        await control.event(W401, "power", "cable", connected=False)  # the W401 on PoE only: its power goes
        await control.event(W401, "power", "dc", connected=False)
        message = None
        for _ in range(50):  # power events first, then the close
            message = await stream.ws.receive(TIMEOUT)
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
        assert message is not None and message.type is aiohttp.WSMsgType.CLOSE and message.data == 1001
    finally:
        await stream.close()
    (session,) = await streams(control, W401)
    assert session["reason"] == "device powered off"


async def test_server_stop_closes_open_streams_quickly() -> None:
    simulated = SimulatedDevice(device_spec("W401"))
    await simulated.start()
    clients = [await EventStream.open(simulated.url) for _ in range(5)]
    try:
        for client in clients:
            await client.configure(EVERYTHING)
        started = time.monotonic()
        await simulated.stop()
        assert time.monotonic() - started < 1.5  # the close handshake, not the 2 s handler timeout
        for client in clients:
            for _ in range(200):  # the initial states, then the close
                message = await client.ws.receive(TIMEOUT)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert {s.reason for s in simulated.journal.streams()} == {"server shutting down"}
    finally:
        for client in clients:
            await client.close()


async def test_taking_the_device_off_the_network_ends_the_stream(control: Control) -> None:
    stream = await EventStream.open(control[W401].url)
    try:
        await stream.configure([{"topicFilter": READY}])
        await stream.initial(1)
        await control.ok("POST", f"/devices/{W401}/offline")  # the listeners close, the device runs on
        message = await stream.ws.receive(TIMEOUT)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    finally:
        await stream.close()
    (session,) = await streams(control, W401)
    assert not session["open"] and session["reason"] == "connection shut down"
