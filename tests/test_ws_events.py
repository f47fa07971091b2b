"""Events over WebSocket (issue 18) through the wire, with the client of tests/ws_client.py: the
topic matcher, token and upgrade authentication (events.md §2.1, §2.2), configure and notify
(§2.3, §2.4) with initial states (§0.5), stimuli on a W401 and a C1410 Mk II, filters, bad input,
and a device served without the WebSocket API.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from axisim.digest_client import authorization
from axisim.events import EventBus, Item, TopicDecl, topic_matches
from tests.conftest import digest_request
from tests.test_cli import Served
from tests.test_control import Control
from tests.ws_client import (
    C1410,
    MICROPHONE,
    PORT,
    READY,
    ROOT,
    SPEAKER_TEST,
    STREAM,
    W401,
    EventStream,
    control_api,
    count_of,
    message_of,
)


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async with control_api() as api:
        yield api


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
        (
            '{"apiVersion": "2.0", "method": "events:configure", "params": {"eventFilterList": []}}',
            2100,
            "events:configure",
        ),
        (
            '{"apiVersion": "1.0", "method": "events:configure", "params": {"eventFilterList": "//."}}',
            2104,
            "events:configure",
        ),
        (
            '{"apiVersion": "1.0", "method": "events:configure", "params": {"eventFilterList": '
            '[{"topicFilter": "//.", "contentFilter": "port == 1"}]}}',
            2104,
            "events:configure",
        ),
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


async def test_a_rules_action_runs_never_reach_a_client(control: Control) -> None:
    """`axisim:Rules/ActionRun` is the simulator's own record of a rule's action (the control API's
    event log shows it); a client subscribed to everything (`//.`, §2.3) gets the rule's effect (the
    relay) but never that topic, which no device declares (§1.5)."""
    from tests.test_control import text_of
    from tests.test_rules import VIRTUAL_INPUT, add_action, add_rule, event, items

    w401 = control[W401]
    action = await add_action(w401, "com.axis.action.unlimited.io.toggle", port="8", state="active")
    await add_rule(w401, "Relay", action, start=event("StartEvent", VIRTUAL_INPUT, items(port="1", active="1")))
    stream = await EventStream.open(w401.url)
    try:
        await stream.configure([{"topicFilter": "//."}])  # everything, as the axis library asks (§2.3)
        await stream.initial(len(w401.device.event_states()))
        await text_of(w401.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=1")
        await text_of(w401.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=1")
        seen: list[tuple[str, dict[str, str]]] = []
        for _ in range(50):  # until the relay is back to inactive
            notification = await stream.notification()
            seen.append((notification["topic"], notification["message"]["data"]))
            if seen[-1] == ("tns1:Device/Trigger/Relay", {"LogicalState": "inactive"}):
                break
        assert ("tns1:Device/Trigger/Relay", {"LogicalState": "active"}) in seen
        assert not [topic for topic, _ in seen if topic.startswith("axisim:")]
    finally:
        await stream.close()
    log = await control.ok("GET", f"/devices/{W401}/events/log?topic=axisim:Rules/ActionRun")
    assert log["events"], "the control API still shows the action runs"


async def test_a_fleet_group_without_the_websocket_api(tmp_path: Path) -> None:
    """`websocket_events = false` in a fleet file (here for the W401 group) and `axisim fleet
    --no-websocket-events`: those devices neither serve nor advertise the stream (events.md §0.2:
    the axis library then takes RTSP); the others keep it."""
    from axisim.cli import parser
    from axisim.fleet import Fleet
    from axisim.fleet_cli import plan_from_args
    from axisim.fleet_file import load_fleet_file

    site = tmp_path / "site.toml"
    site.write_text(
        'host = "127.0.0.1"\nbase_port = 0\n[[group]]\nmodel = "W401"\ncount = 1\nwebsocket_events = false\n'
        '[[group]]\nmodel = "C1410MkII"\ncount = 1\n',
        encoding="utf-8",
    )
    plan = load_fleet_file(site)
    assert [d.websocket_events for d in plan.devices()] == [False, True]
    fleet = Fleet.from_plan(plan)
    await fleet.start()
    try:
        async with aiohttp.ClientSession() as session:
            for device, served in zip(fleet.devices, (False, True), strict=True):
                reply = await digest_request(session, "GET", device.url + "/axis-cgi/wssession.cgi", ROOT)
                assert (reply.status == 200) is served, reply.status
                body = json.dumps({"apiVersion": "1.0", "method": "getApiList"})
                listed = await digest_request(session, "POST", device.url + "/axis-cgi/apidiscovery.cgi", ROOT,
                                              data=body)  # fmt: skip
                ids = {api["id"] for api in json.loads(listed.text)["data"]["apiList"]}
                assert ("event-streaming-over-websocket" in ids) is served
    finally:
        await fleet.stop()
    args = parser().parse_args(["fleet", "--count", "2", "--models", "W401", "--no-websocket-events"])
    assert {d.websocket_events for d in plan_from_args(args).devices()} == {False}
    args = parser().parse_args(["fleet", "--file", str(site), "--no-websocket-events"])
    assert {d.websocket_events for d in plan_from_args(args).devices()} == {False}
