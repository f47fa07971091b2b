"""Events over WebSocket (issue 18), through the wire with an aiohttp WebSocket client written the way
a real client is (events.md §2): token from wssession.cgi (Digest), upgrade with `&wssession=`,
`events:configure`, then `events:notify`. Stimuli through the control API and the Python API.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest

from axisim.control.http import start_control
from axisim.digest_client import authorization
from axisim.events import EventBus, Item, TopicDecl, topic_matches
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.pytest_plugin import device_spec
from axisim.simulated import SimulatedDevice
from cgi_handlers.event_stream import QUEUE_SIZE
from tests.conftest import digest_request
from tests.test_cli import Served
from tests.test_control import Control

W401, C1410 = 0, 1  # fleet indexes
ROOT = ("root", "pass")
PORT = "tns1:Device/tnsaxis:IO/Port"
READY = "tns1:Device/tnsaxis:Status/SystemReady"
MICROPHONE = "tns1:Device/tnsaxis:Microphone/Switch"
SPEAKER_TEST = "tns1:Device/tnsaxis:SpeakerTest/TestResult"
EVERYTHING = [{"topicFilter": "//."}]  # what the axis library sends (§2.3)
TIMEOUT = 5.0
STREAM = "/vapix/ws-data-stream"


class EventStream:
    """One WebSocket event stream client (events.md §2.1-2.4)."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session, self.ws = session, ws

    @classmethod
    async def open(cls, url: str, auth: tuple[str, str] | None = ROOT, *, token: str | None = None) -> EventStream:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            if token is None and auth is not None:
                reply = await digest_request(session, "GET", url + "/axis-cgi/wssession.cgi", auth)
                assert reply.status == 200, reply
                token = reply.text.strip()  # the whole body, stripped, as axis 74 reads it (§2.1)
            query = "sources=events" + (f"&wssession={token}" if token else "")
            ws = await session.ws_connect(url.replace("http", "ws", 1) + f"/vapix/ws-data-stream?{query}")
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def configure(self, filters: list[dict[str, str]], context: str = "axis-py") -> dict[str, Any]:
        await self.ws.send_json(
            {"apiVersion": "1.0", "context": context, "method": "events:configure",
             "params": {"eventFilterList": filters}}
        )  # fmt: skip
        return await self.next()

    async def next(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        message = await self.ws.receive(timeout)
        assert message.type is aiohttp.WSMsgType.TEXT, message  # a binary frame would abort axis 74 (§2.3)
        return message.json()

    async def notification(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        message = await self.next(timeout)
        assert message["method"] == "events:notify", message
        return message["params"]["notification"]

    async def until(self, topic: str, count: int = 1, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """The next `count` notifications of `topic` (others skipped), within `timeout` seconds."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        for _ in range(100_000):
            if len(found) == count:
                break
            notification = await self.notification(max(0.01, deadline - time.monotonic()))
            if notification["topic"] == topic:
                found.append(notification)
        return found

    async def initial(self, count: int) -> list[dict[str, Any]]:
        return [await self.notification() for _ in range(count)]

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


async def stalled_client(url: str, filters: list[dict[str, str]]) -> asyncio.StreamWriter:
    """A client that upgrades, configures, then never reads again (a small receive buffer, so the
    device's writes back up quickly): what a hung VMS looks like to the device."""
    host, port = url.removeprefix("http://").split(":")
    async with aiohttp.ClientSession() as session:
        token = (await digest_request(session, "GET", url + "/axis-cgi/wssession.cgi", ROOT)).text.strip()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /vapix/ws-data-stream?sources=events&wssession={token} HTTP/1.1\r\nHost: {host}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = json.dumps({"apiVersion": "1.0", "method": "events:configure", "params": {"eventFilterList": filters}})
    data, mask = payload.encode(), os.urandom(4)
    assert len(data) < 65536
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    length = bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
    writer.write(b"\x81" + length + mask + masked)  # one masked text frame (RFC 6455)
    await writer.drain()
    return writer


def count_of(device: SimulatedDevice, *topics: str) -> int:
    """How many property instances of these topics the device has (the initial messages due, §0.5)."""
    return sum(1 for event in device.device.event_states() if event.topic in topics)


def message_of(notification: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
    return notification["topic"], notification["message"]["source"], notification["message"]["data"]


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    plan = make_plan([Group("W401", 1), Group("C1410MkII", 1)], addressing=Addressing("ports", "127.0.0.1", 0))
    fleet = Fleet.from_plan(plan)
    await fleet.start()
    runner = None
    try:
        runner, port = await start_control(fleet, "127.0.0.1", 0)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            yield Control(fleet, f"http://127.0.0.1:{port}", session)
    finally:
        if runner is not None:
            await runner.cleanup()
        started = time.monotonic()
        await fleet.stop()  # open streams end with it, they do not hold it up
        assert time.monotonic() - started < 5


async def streams(control: Control, device: int) -> list[dict[str, Any]]:
    return (await control.ok("GET", f"/devices/{device}/journal/streams"))["streams"]


# -- the bus's one topic matcher -------------------------------------------------------------------


def test_one_matcher_for_every_filter_form() -> None:
    assert topic_matches("//.", PORT) and topic_matches("tns1:Device//.", PORT)
    assert topic_matches("tns1:Device/tnsaxis:IO//.", PORT) and topic_matches(PORT, PORT)
    assert not topic_matches("tns1:Device/tnsaxis:IO//.", READY)
    assert topic_matches(f"{READY}|{PORT}", PORT) and topic_matches("*/Port", PORT)
    seen: list[str] = []
    bus = EventBus(type("Clock", (), {"wall": lambda self: 0.0})())
    bus.subscribe(lambda event: seen.append(event.topic), ["//."])
    bus.publish(TopicDecl(PORT, True, (Item("port", "xsd:int"),), (Item("state", key=True),)), {"port": 0}, {})
    assert seen == [PORT]  # a `//.` subscriber of the bus gets every topic


# -- token, upgrade, authentication (§2.1, §2.2) ---------------------------------------------------


async def test_configure_reply_then_initial_states_then_changes(control: Control) -> None:
    device = control[W401]
    stream = await EventStream.open(device.url)
    try:
        # §2.3: the reply echoes the context and is the first frame after the configure
        assert await stream.configure([{"topicFilter": READY}, {"topicFilter": PORT}]) == {
            "apiVersion": "1.0", "context": "axis-py", "method": "events:configure", "data": {}
        }  # fmt: skip
        # §0.5: one message per property instance with its current state, right after the reply
        initial = await stream.initial(count_of(device, READY, PORT))
        states = {(t, tuple(s.items())): d for t, s, d in map(message_of, initial)}
        assert len(states) == len(initial) == 10  # ready, and the W401's nine I/O ports
        assert states[(READY, ())] == {"ready": "1"}
        assert states[(PORT, (("port", "0"),))] == {"state": "0"}
        assert states[(PORT, (("port", "1"),))] == {"state": "0"}
        await control.event(W401, "io", "close_input", port=1)
        (notification,) = await stream.until(PORT)
        # §2.4 verbatim shape: integer ms timestamp, topic, source/key/data string maps
        assert set(notification) == {"timestamp", "topic", "message"}
        assert isinstance(notification["timestamp"], int)
        assert abs(notification["timestamp"] / 1000 - time.time()) < 60
        assert notification["message"] == {"source": {"port": "0"}, "key": {}, "data": {"state": "1"}}
    finally:
        await stream.close()


async def test_token_is_single_use_and_needs_a_login(control: Control) -> None:
    url = control[W401].url
    async with aiohttp.ClientSession() as session:
        reply = await digest_request(session, "GET", url + "/axis-cgi/wssession.cgi")  # no credentials
        assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Digest")
        reply = await digest_request(session, "GET", url + "/axis-cgi/wssession.cgi", ROOT)
        token = reply.text.strip()
        assert reply.status == 200 and token.isdigit() and reply.headers["Content-Type"].startswith("text/plain")
        stream = await EventStream.open(url, None, token=token)
        await stream.close()
        for bad in (token, "1234", ""):  # spent, unknown, empty (§2.2: 401 with a Digest challenge)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await EventStream.open(url, None, token=bad or None)
            assert refused.value.status == 401
            assert refused.value.headers is not None and "Digest" in refused.value.headers["WWW-Authenticate"]


async def test_digest_on_the_upgrade_itself(control: Control) -> None:
    """§2.2: a client without a token authenticates the upgrade request with Digest."""
    url = control[W401].url.replace("http", "ws", 1) + "/vapix/ws-data-stream?sources=events"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.headers is not None
        challenge = refused.value.headers["WWW-Authenticate"]
        header = authorization(challenge, user="root", password="pass", method="GET",
                               uri="/vapix/ws-data-stream?sources=events")  # fmt: skip
        async with session.ws_connect(url, headers={"Authorization": header}) as ws:
            stream = EventStream(session, ws)
            assert "data" in await stream.configure([{"topicFilter": READY}])
            assert message_of(await stream.notification())[2] == {"ready": "1"}


async def test_plain_get_and_other_sources_are_400(control: Control) -> None:
    url = control[W401].url
    async with aiohttp.ClientSession() as session:
        reply = await digest_request(session, "GET", url + "/vapix/ws-data-stream?sources=events", ROOT)
        assert reply.status == 400  # not a WebSocket upgrade
        token = (await digest_request(session, "GET", url + "/axis-cgi/wssession.cgi", ROOT)).text.strip()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url.replace("http", "ws", 1) + f"{STREAM}?sources=video&wssession={token}")
        assert refused.value.status == 400


# -- stimuli on the W401 and the C1410 Mk II ------------------------------------------------------


async def test_w401_inputs_arrive_in_order(control: Control) -> None:
    stream = await EventStream.open(control[W401].url)
    try:
        await stream.configure([{"topicFilter": "onvif:Device/axis:IO/Port"}])  # the RTSP/MQTT spelling works too
        await stream.initial(count_of(control[W401], PORT))
        for port in (1, 2, 1):
            await control.event(W401, "io", "close_input", port=port)
            await control.event(W401, "io", "open_input", port=port)
        got = [(n["message"]["source"]["port"], n["message"]["data"]["state"]) for n in await stream.until(PORT, 6)]
        assert got == [("0", "1"), ("0", "0"), ("1", "1"), ("1", "0"), ("0", "1"), ("0", "0")]
    finally:
        await stream.close()


async def test_c1410_microphone_and_speaker_test(control: Control) -> None:
    device = control[C1410]
    stream = await EventStream.open(device.url)
    try:
        await stream.configure([{"topicFilter": MICROPHONE}, {"topicFilter": SPEAKER_TEST}])
        (initial,) = await stream.initial(1)  # the switch is a property; the test result a pulse
        assert message_of(initial) == (MICROPHONE, {"switch": "0"}, {"state": "1"})
        await control.event(C1410, "audio", "microphone_switch", on=False)
        (changed,) = await stream.until(MICROPHONE)
        assert message_of(changed)[2] == {"state": "0"}
        device.emit(SPEAKER_TEST, {"DeviceUUID": "abc"}, {"SpeakerTestStatus": "OK"})
        (pulse,) = await stream.until(SPEAKER_TEST)
        assert message_of(pulse) == (SPEAKER_TEST, {"DeviceUUID": "abc"}, {"SpeakerTestStatus": "OK"})
    finally:
        await stream.close()


# -- filters (§2.3) --------------------------------------------------------------------------------


async def test_content_filter_duplicate_entries_and_reconfigure(control: Control) -> None:
    stream = await EventStream.open(control[W401].url)
    try:
        second_port = 'boolean(//SimpleItem[@Name="port" and @Value="1"])'
        await stream.configure([{"topicFilter": PORT, "contentFilter": second_port}])
        (initial,) = await stream.initial(1)
        assert message_of(initial)[1] == {"port": "1"}
        await control.event(W401, "io", "close_input", port=1)  # port "0": filtered out
        await control.event(W401, "io", "close_input", port=2)
        assert message_of(await stream.notification())[1:] == ({"port": "1"}, {"state": "1"})
        # two entries matching one event: two subscriptions, two messages
        await stream.configure([{"topicFilter": READY}, {"topicFilter": "tns1:Device//."}])
        assert [message_of(n)[0] for n in await stream.initial(2)] == [READY, READY]
        devices = sum(1 for e in control[W401].device.event_states() if e.topic.startswith("tns1:Device/"))
        await stream.initial(devices - 1)  # the rest of tns1:Device, through the second entry
        await stream.configure([])  # nothing at all
        await control.event(W401, "io", "open_input", port=1)
        await stream.configure([{"topicFilter": PORT, "contentFilter": second_port}])
        # the next frame is this configure's initial state: nothing arrived in between
        assert message_of(await stream.notification())[1] == {"port": "1"}
    finally:
        await stream.close()


@pytest.mark.parametrize(
    ("frame", "code", "method"),
    [
        ("{not json", 2101, None),
        ("[1, 2]", 2101, None),
        ('{"apiVersion": "1.0", "method": "events:subscribe", "params": {}}', 2102, "events:subscribe"),
        ('{"apiVersion": "1.0", "params": {}}', 2103, None),
        ('{"apiVersion": "1.0", "method": "events:configure"}', 2103, "events:configure"),
        ('{"apiVersion": "2.0", "method": "events:configure", "params": {"eventFilterList": []}}', 2100,
         "events:configure"),
        ('{"apiVersion": "1.0", "method": "events:configure", "params": {"eventFilterList": "//."}}', 2104,
         "events:configure"),
        ('{"apiVersion": "1.0", "method": "events:configure", "params": {"eventFilterList": '
         '[{"topicFilter": "//.", "contentFilter": "port == 1"}]}}', 2104, "events:configure"),
        ("x" * 70_000, 2107, None),
    ],
)
async def test_bad_input_gets_the_error_reply_and_the_stream_goes_on(
    control: Control, frame: str, code: int, method: str | None
) -> None:
    stream = await EventStream.open(control[W401].url)
    try:
        await stream.ws.send_str(frame)
        reply = await stream.next()
        assert reply["error"]["code"] == code and reply["apiVersion"] == "1.0", reply  # §2.3 error envelope
        assert reply.get("method") == method and "data" not in reply
        await stream.ws.send_bytes(b"\xff\xfe")  # binary garbage: invalid JSON too, never a crash
        assert (await stream.next())["error"]["code"] == 2101
        assert "data" in await stream.configure([{"topicFilter": READY}], context="again")
        assert message_of(await stream.notification())[0] == READY
    finally:
        await stream.close()


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
        await stream.configure([{"topicFilter": READY}])  # the reply is not held, the event is
        started = time.monotonic()
        assert message_of(await stream.notification())[0] == READY
        assert time.monotonic() - started >= 0.2
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


# -- the off switch ------------------------------------------------------------------------------


async def test_a_device_without_the_websocket_api(axisim_device_factory: Any) -> None:
    device = await axisim_device_factory("W401", websocket_events=False)
    async with aiohttp.ClientSession() as session:
        for path in ("/axis-cgi/wssession.cgi", "/vapix/ws-data-stream?sources=events"):
            reply = await digest_request(session, "GET", device.url + path, ROOT)
            assert reply.status == 404, path
        reply = await digest_request(
            session, "POST", device.url + "/axis-cgi/apidiscovery.cgi", ROOT,
            json={"apiVersion": "1.0", "method": "getApiList"},
        )  # fmt: skip
        ids = {api["id"] for api in reply.json()["data"]["apiList"]}
        assert "event-streaming-over-websocket" not in ids and "io-port-management" in ids
    served = await axisim_device_factory("W401")
    async with aiohttp.ClientSession() as session:
        reply = await digest_request(
            session, "POST", served.url + "/axis-cgi/apidiscovery.cgi", ROOT,
            json={"apiVersion": "1.0", "method": "getApiList"},
        )  # fmt: skip
        listed = {api["id"]: api["version"] for api in reply.json()["data"]["apiList"]}
        assert listed["event-streaming-over-websocket"] == "1.0"  # §0.2: real devices list 1.0


def test_serve_without_the_websocket_api() -> None:
    """`axisim serve --no-websocket-events`: what a client's RTSP fallback is tested against (§0.2)."""
    served = Served("--model", "W401", "--no-https", "--no-websocket-events")
    try:
        url = served.banner["url"]
        auth = httpx.DigestAuth("root", "pass")
        assert httpx.get(url + "/axis-cgi/wssession.cgi", auth=auth, timeout=10).status_code == 404
        listed = httpx.post(url + "/axis-cgi/apidiscovery.cgi", auth=auth, timeout=10,
                            json={"apiVersion": "1.0", "method": "getApiList"}).json()["data"]["apiList"]  # fmt: skip
        assert "event-streaming-over-websocket" not in {api["id"] for api in listed} and listed
    finally:
        served.stop()
