"""The control API's events and streams (issue 18), through the wire: the event log, the live feed
(Server-Sent Events), emitting a declared event, stream faults, the stream hooks the WebSocket and
RTSP streams call, the journal of stream sessions, and `SimulatedDevice.wait_for_event`.

A W401 and a C1410 Mk II run on free loopback ports with the control API on its own listener.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import yarl

from axisim.control.emit import EmitError
from axisim.control.faults import FaultError, Faults, parse_fault
from axisim.control.http import start_control
from axisim.control.journal import STREAM_CAPACITY, Journal
from axisim.control.stream_hooks import ControlStreamHooks
from axisim.events import Event
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.simulated import SimulatedDevice
from cgi_handlers.streams import NO_FAULTS, StreamFaults, stream_hooks
from tests.test_control import SPEAKER_AND_KIT, Control, controlled, param, refused

W401, C1410 = 0, 1  # fleet indexes
PORT = "tns1:Device/tnsaxis:IO/Port"
READY = "tns1:Device/tnsaxis:Status/SystemReady"
CALL_STATE = "tnsaxis:Call/State"  # the speaker declares it only while SIP is enabled
MICROPHONE = "tns1:Device/tnsaxis:Microphone/Switch"
SPEAKER_TEST = "tns1:Device/tnsaxis:SpeakerTest/TestResult"
POWER = "tns1:Device/tnsaxis:HardwareFailure/PowerSupplyFailure"


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async with controlled(*SPEAKER_AND_KIT) as running:  # open feeds do not hold up the control API
        yield running


def subscribers(device: SimulatedDevice) -> int:
    return len(device.device.bus._subscriptions)  # the bus's own count: what a feed left behind


async def log(control: Control, device: int, query: str = "") -> dict[str, Any]:
    return await control.ok("GET", f"/devices/{device}/events/log{query}")


# -- the event log -------------------------------------------------------------------------------


async def test_event_log_shows_a_stimulus_event_and_the_old_path_is_the_same(control: Control) -> None:
    await control.event(W401, "io", "close_input", port=1)
    document = await log(control, W401)
    assert document["serial"] == control[W401].serial
    ports = [e for e in document["events"] if e["topic"] == PORT]
    assert ports[-1]["source"] == {"port": "0"} and ports[-1]["data"] == {"state": "1"}
    assert ports[-1]["property"] is True and ports[-1]["key"] == "state" and ports[-1]["publisher"] == "io"
    assert document["total"] == len(document["events"]) >= 2  # SystemReady at boot, the port
    assert await control.ok("GET", f"/devices/{W401}/journal/events") == document


async def test_event_log_topic_filter_and_limit(control: Control) -> None:
    await control.event(W401, "io", "close_input", port=1)
    await control.event(W401, "io", "open_input", port=1)
    only_ports = await log(control, W401, f"?topic={PORT}")
    assert [e["data"]["state"] for e in only_ports["events"]] == ["1", "0"]
    subtree = await log(control, W401, "?topic=tns1:Device/tnsaxis:IO//.")
    assert {e["topic"] for e in subtree["events"]} == {PORT}
    both = await log(control, W401, f"?topic={PORT}&topic={READY}&limit=1")
    assert [e["data"] for e in both["events"]] == [{"state": "0"}]
    globbed = await log(control, W401, "?topic=*/Port")
    assert [e["topic"] for e in globbed["events"]] == [PORT, PORT]
    assert (await log(control, W401, "?limit=0"))["events"] == []
    status, document = await control.get(f"/devices/{W401}/events/log?limit=many")
    assert status == 400
    refused(document)


# -- the live feed -------------------------------------------------------------------------------


async def next_data(response: aiohttp.ClientResponse, timeout: float = 5.0) -> dict[str, Any]:
    """The next `data:` line of a Server-Sent Events reply, as JSON (comment lines skipped)."""

    async def read() -> dict[str, Any]:
        while True:
            line = await response.content.readline()
            assert line, "the feed ended"
            if line.startswith(b"data: "):
                return json.loads(line[6:])

    return await asyncio.wait_for(read(), timeout)


async def test_feed_streams_a_stimulus_event(control: Control) -> None:
    base = f"{control.base}/devices/{W401}"
    async with control.session.get(f"{base}/events/feed", params={"topic": PORT}) as feed:
        assert feed.status == 200
        assert feed.headers["Content-Type"].startswith("text/event-stream")
        assert (await feed.content.readline()).startswith(b": events of")
        await control.event(W401, "io", "close_input", port=1)  # the feed subscribed before its headers
        await control.event(W401, "power", "ignition", on=False)  # another topic: filtered out
        await control.event(W401, "io", "open_input", port=1)
        first, second = await next_data(feed), await next_data(feed)
    assert (first["topic"], first["source"], first["data"]) == (PORT, {"port": "0"}, {"state": "1"})
    assert (second["topic"], second["data"]) == (PORT, {"state": "0"})
    assert first["time"].endswith("Z") and first["property"] is True


async def test_feed_heartbeats_and_unsubscribes_when_the_reader_goes(control: Control) -> None:
    device = control[W401]
    before = subscribers(device)
    url = f"{control.base}/devices/{W401}/events/feed?heartbeat=0.05"
    async with control.session.get(url) as feed:
        await feed.content.readline()  # the opening comment
        assert subscribers(device) == before + 1
        lines = [await asyncio.wait_for(feed.content.readline(), 5) for _ in range(4)]
        assert b": heartbeat\n" in lines
    for _ in range(100):  # the server notices at its next heartbeat
        if subscribers(device) == before:
            break
        await asyncio.sleep(0.05)
    assert subscribers(device) == before


async def test_feed_without_heartbeats_also_notices_the_reader_going(control: Control) -> None:
    device = control[W401]
    before = subscribers(device)
    async with control.session.get(f"{control.base}/devices/{W401}/events/feed") as feed:
        await feed.content.readline()
        assert subscribers(device) == before + 1
    for _ in range(60):
        if subscribers(device) == before:
            break
        await asyncio.sleep(0.05)
    assert subscribers(device) == before


async def test_feed_follows_the_device_across_a_reset(control: Control) -> None:
    async with control.session.get(f"{control.base}/devices/{W401}/events/feed?topic={PORT}") as feed:
        await feed.content.readline()
        old = control[W401].device
        await control.ok("POST", f"/devices/{W401}/reset")
        assert control[W401].device is not old
        await control.event(W401, "io", "close_input", port=2)  # the factory-new device's port
        event = await next_data(feed)
    assert (event["source"], event["data"]) == ({"port": "1"}, {"state": "1"})


@pytest.mark.parametrize("query", ["?heartbeat=0", "?heartbeat=soon", "?heartbeat=nan", "?heartbeat=1e9"])
async def test_feed_bad_heartbeat_is_400(control: Control, query: str) -> None:
    status, document = await control.get(f"/devices/{W401}/events/feed{query}")
    assert status == 400
    refused(document)


async def test_feed_of_unknown_device_is_404(control: Control) -> None:
    status, document = await control.get("/devices/ACCC00000000/events/feed")
    assert status == 404
    refused(document)


# -- emitting a declared event -------------------------------------------------------------------


async def test_emitted_event_reaches_subscribers_the_feed_and_the_log(control: Control) -> None:
    device = control[W401]
    seen: list[Event] = []
    subscription = device.device.bus.subscribe(seen.append, [POWER])
    body = {"topic": POWER, "source": {"power": 0}, "data": {"power_critical": True}}
    try:
        async with control.session.get(f"{control.base}/devices/{W401}/events/feed?topic={POWER}") as feed:
            await feed.content.readline()
            document = await control.ok("POST", f"/devices/{W401}/events", body)
            fed = await next_data(feed)
    finally:
        subscription.cancel()
    assert document["serial"] == device.serial
    event = document["event"]
    assert (event["topic"], event["source"], event["data"]) == (POWER, {"power": "0"}, {"power_critical": "1"})
    assert (event["property"], event["key"], event["publisher"]) == (True, "power_critical", "control")
    assert fed == event
    assert [(e.topic, e.source, e.data, e.stateful) for e in seen] == [
        (POWER, {"power": "0"}, {"power_critical": "1"}, True)
    ]
    assert (await log(control, W401, f"?topic={POWER}"))["events"] == [event]


async def test_emit_a_pulse_with_some_of_its_data(control: Control) -> None:
    body = {"topic": "tnsaxis:Storage/Alert", "source": {"disk_id": "SD_DISK"}, "data": {"alert": True}}
    event = (await control.ok("POST", f"/devices/{C1410}/events", body))["event"]
    assert (event["property"], event["key"], event["data"]) == (True, "alert", {"alert": "1"})
    body = {"topic": SPEAKER_TEST, "source": {"DeviceUUID": "x"}}  # a pulse: its data may be left out
    event = (await control.ok("POST", f"/devices/{C1410}/events", body))["event"]
    assert (event["property"], event["key"], event["data"]) == (False, None, {})


async def test_emit_does_not_change_the_device_state(control: Control) -> None:
    body = {"topic": PORT, "source": {"port": 0}, "data": {"state": "1"}}
    await control.ok("POST", f"/devices/{W401}/events", body)
    states = [e for e in control[W401].device.event_states() if e.topic == PORT and e.source == {"port": "0"}]
    assert [e.data for e in states] == [{"state": "0"}]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"topic": CALL_STATE, "source": {"Source": "x"}, "data": {"CallState": "Idle"}}, "declares no topic"),
        ({"topic": "tns1:Device/Nothing"}, "declares no topic"),
        ({"topic": PORT, "source": {"port": 0, "pin": 3}, "data": {"state": "1"}}, "not pin"),
        ({"topic": PORT, "source": {"port": 0}, "data": {"state": "1", "level": "2"}}, "not level"),
        ({"topic": PORT, "data": {"state": "1"}}, "needs port"),
        ({"topic": PORT, "source": {"port": 0}}, "needs state"),
        ({"topic": PORT, "source": {"port": [0]}, "data": {"state": "1"}}, "string, number"),
        ({"topic": PORT, "source": "0", "data": {"state": "1"}}, "JSON object"),
        ({"topic": 7}, "topic is a string"),
        ({}, "topic is a string"),
        ({"topic": PORT, "source": {"port": 0}, "data": {"state": "1"}, "when": "now"}, "not when"),
    ],
)
async def test_emitting_what_the_model_does_not_declare_is_400(control: Control, body: Any, words: str) -> None:
    device = control[W401]
    seen: list[Event] = []
    subscription = device.device.bus.subscribe(seen.append)
    try:
        status, document = await control.post(f"/devices/{W401}/events", body)
    finally:
        subscription.cancel()
    assert status == 400, document
    refused(document)
    assert words in document["error"]
    assert seen == []


def test_emit_error_lists_the_declared_topics() -> None:
    from axisim.control.emit import declared_event
    from axisim.device import make_device

    device = make_device("W401")
    with pytest.raises(EmitError, match=r"W401 declares no topic .*tns1:Device/tnsaxis:IO/Port"):
        declared_event(device, "tnsaxis:Call/State")


async def test_emit_on_the_python_api(control: Control) -> None:
    device = control[C1410]
    async with device.expect_event(MICROPHONE, data={"state": True}) as seen:
        returned = device.emit(MICROPHONE, {"switch": 0}, {"state": True})
    assert seen.event == returned and returned.publisher == "control" and returned.source == {"switch": "0"}
    with pytest.raises(EmitError):
        device.emit(PORT, {"port": 0}, {"state": "1"})  # the speaker has no I/O port
    with pytest.raises(EmitError, match="declares no topic"):
        device.emit(CALL_STATE, {"Source": "NetworkSpeaker"}, {"CallState": "Calling"})


# -- stream faults -------------------------------------------------------------------------------


async def test_stream_faults_are_added_listed_and_removed(control: Control) -> None:
    refuse = await control.add_fault(W401, kind="websocket", refuse=True, count=1)
    assert refuse == {"id": refuse["id"], "kind": "websocket", "refuse": True, "count": 1, "hits": 0}
    slow = await control.add_fault(W401, kind="rtsp", drop_after=3, delay=0.25)
    assert slow == {"id": slow["id"], "kind": "rtsp", "drop_after": 3, "delay": 0.25, "hits": 0}
    assert await control.faults(W401) == [refuse, slow]
    assert await param(control[W401], "Brand.ProdNbr") == "W401"  # a stream fault leaves requests alone
    assert (await control.journal(W401))["entries"][-1]["status"] == 200
    await control.ok("DELETE", f"/devices/{W401}/faults/{slow['id']}")
    assert await control.faults(W401) == [refuse]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "http", "refuse": True},
        {"kind": "websocket"},  # no effect
        {"kind": "websocket", "refuse": "yes"},
        {"kind": "websocket", "drop_after": -1},
        {"kind": "websocket", "drop_after": 1.5},
        {"kind": "websocket", "drop_after": True},
        {"kind": "rtsp", "delay": "1"},
        {"kind": "rtsp", "delay": -0.5},
        {"kind": "rtsp", "delay": 601},
        {"kind": "rtsp", "refuse": True, "count": 0},
        {"kind": "rtsp", "refuse": True, "path": "/axis-media/*"},
        {"kind": "websocket", "status": 503},
        {"refuse": True},  # a stream field without a kind
        {"drop_after": 2, "status": 500},
    ],
)
async def test_bad_stream_faults_are_400_and_add_nothing(control: Control, body: Any) -> None:
    status, document = await control.post(f"/devices/{W401}/faults", body)
    assert status == 400, document
    refused(document)
    assert await control.faults(W401) == []


def test_parse_stream_fault_messages() -> None:
    with pytest.raises(FaultError, match="kind is one of websocket, rtsp, mqtt"):
        parse_fault(1, {"kind": "ftp", "refuse": True})
    with pytest.raises(FaultError, match="an mqtt fault takes only kind"):
        parse_fault(1, {"kind": "mqtt", "refuse": True})
    with pytest.raises(FaultError, match="stream fault fields"):
        parse_fault(1, {"delay": 1})
    fault = parse_fault(1, {"kind": "websocket", "delay": 2})
    assert (fault.kind, fault.delay_s, fault.refuse, fault.drop_after) == ("websocket", 2.0, False, None)
    assert parse_fault(2, {"kind": "rtsp", "drop_after": 0}).drop_after == 0


# -- the stream hooks (cgi_handlers/streams.py) --------------------------------------------------


def test_hooks_give_the_faults_of_each_kind_and_spend_their_count() -> None:
    faults = Faults()
    hooks = ControlStreamHooks(Journal(), faults)
    assert hooks.faults("websocket") is NO_FAULTS
    faults.add({"kind": "websocket", "refuse": True, "count": 1})
    faults.add({"kind": "websocket", "drop_after": 5, "delay": 0.5})
    faults.add({"kind": "websocket", "drop_after": 2, "delay": 0.25})
    faults.add({"kind": "rtsp", "delay": 1})
    assert hooks.faults("websocket") == StreamFaults(refuse=True, drop_after=2, delay=0.75)
    assert hooks.faults("websocket") == StreamFaults(refuse=False, drop_after=2, delay=0.75)  # refused once
    assert hooks.faults("rtsp") == StreamFaults(delay=1.0)
    assert [f.hits for f in faults.all()] == [2, 2, 1]
    assert faults.plan("/vapix/ws-data-stream", "sources=events") is None  # not a request fault
    faults.clear()
    assert hooks.faults("rtsp") is NO_FAULTS


def test_hooks_record_sessions_in_the_journal() -> None:
    journal = Journal()
    hooks = ControlStreamHooks(journal, Faults())
    session = hooks.opened("websocket", "127.0.0.1", "root")
    session.configured(["tns1:Device/tnsaxis:IO//."])
    session.sent()
    session.sent(3)
    session.dropped(2)
    [record] = journal.streams()
    assert record.to_json()["open"] is True and record.to_json()["closed"] is None
    session.closed("client closed")
    session.closed("server stopped")  # the first reason stands
    document = record.to_json()
    assert {k: document[k] for k in ("id", "kind", "client", "user", "filters", "sent", "dropped", "open")} == {
        "id": 1, "kind": "websocket", "client": "127.0.0.1", "user": "root",
        "filters": ["tns1:Device/tnsaxis:IO//."], "sent": 4, "dropped": 2, "open": False,
    }  # fmt: skip
    assert document["reason"] == "client closed" and document["opened"] <= document["closed"]


def test_stream_sessions_are_bounded() -> None:
    journal = Journal()
    for n in range(STREAM_CAPACITY + 5):
        journal.open_stream("rtsp", f"127.0.0.{n % 200}", "")
    kept = journal.streams()
    assert len(kept) == STREAM_CAPACITY and journal.streams_total == STREAM_CAPACITY + 5
    assert kept[0].id == 6 and [r.id for r in journal.streams(2)] == [STREAM_CAPACITY + 4, STREAM_CAPACITY + 5]
    journal.clear()
    assert journal.streams() == [] and journal.streams_total == 0


async def test_running_device_has_the_hooks_of_its_journal_and_faults(control: Control) -> None:
    device = control[W401]
    await control.add_fault(W401, kind="rtsp", refuse=True, count=1)
    hooks = stream_hooks(device.running.runner.app)  # type: ignore[union-attr]
    assert hooks.faults("rtsp") == StreamFaults(refuse=True)
    assert await control.faults(W401) == []  # its count is spent
    session = hooks.opened("rtsp", "127.0.0.5", "viewer")
    session.configured(["onvif:Device/axis:IO/Port//."])
    session.sent(7)
    session.closed("teardown")
    document = await control.ok("GET", f"/devices/{W401}/journal/streams")
    assert document["serial"] == device.serial and document["total"] == 1
    [stream] = document["streams"]
    assert (stream["kind"], stream["client"], stream["user"], stream["sent"], stream["reason"]) == (
        "rtsp", "127.0.0.5", "viewer", 7, "teardown"
    )  # fmt: skip
    assert (await control.journal(W401))["streams"] == document["streams"]
    await control.ok("POST", f"/devices/{W401}/reset")  # the journal and faults outlive the device
    assert stream_hooks(device.running.runner.app).faults("rtsp") is NO_FAULTS  # type: ignore[union-attr]
    assert (await control.ok("GET", f"/devices/{W401}/journal/streams?limit=0"))["streams"] == []
    await control.ok("DELETE", f"/devices/{W401}/journal")
    assert (await control.ok("GET", f"/devices/{W401}/journal/streams"))["total"] == 0


# -- awaiting an event (the pytest plugin's helper) ----------------------------------------------


async def test_wait_for_event_sees_an_event_published_at_once(control: Control) -> None:
    device = control[W401]
    waiter = device.wait_for_event(PORT, source={"port": 0}, data={"state": True}, timeout=2.0)
    device.event("io", "close_input", port=1)  # publishes before the next await
    event = await waiter
    assert (event.topic, event.source, event.data) == (PORT, {"port": "0"}, {"state": "1"})


async def test_wait_for_event_skips_events_that_do_not_match(control: Control) -> None:
    device = control[W401]
    waiter = device.wait_for_event(PORT, data={"state": "0"}, timeout=2.0)
    device.event("io", "close_input", port=1)
    device.event("io", "open_input", port=1)
    assert (await waiter).data == {"state": "0"}
    assert [e.data for e in waiter.seen] == [{"state": "1"}]


async def test_wait_for_event_times_out_naming_what_came(control: Control) -> None:
    device = control[W401]
    before = subscribers(device)
    waiter = device.wait_for_event(PORT, source={"port": "1"}, timeout=0.1)
    device.event("io", "close_input", port=1)
    with pytest.raises(TimeoutError, match=r"no event tns1:Device/tnsaxis:IO/Port .*'port': '0'"):
        await waiter
    assert subscribers(device) == before


async def test_expect_event_waits_at_the_end_of_the_block(control: Control) -> None:
    device = control[W401]
    async with device.expect_event("tns1:Device/tnsaxis:IO//.", data={"state": "1"}, timeout=2.0) as seen:
        await control.event(W401, "io", "close_input", port=1)  # through the control API
    assert seen.event is not None and seen.event.source == {"port": "0"}
    with pytest.raises(TimeoutError):
        async with device.expect_event(PORT, timeout=0.05):
            pass


async def test_wait_for_event_spans_a_reset(control: Control) -> None:
    device = control[W401]
    waiter = device.wait_for_event(PORT, source={"port": 1}, timeout=5.0)
    await device.reset()
    device.event("io", "close_input", port=2)
    assert (await waiter).publisher == "io"


async def test_an_open_feed_ends_when_the_control_api_stops() -> None:
    fleet = Fleet.from_plan(make_plan([Group("W401", 1)], addressing=Addressing("ports", "127.0.0.1", 0)))
    await fleet.start()
    try:
        runner, port = await start_control(fleet, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}/devices/0/events/feed"
        async with aiohttp.ClientSession() as session, session.get(url) as feed:
            await feed.content.readline()
            started = time.monotonic()
            await runner.cleanup()
            assert time.monotonic() - started < 5
            assert await asyncio.wait_for(feed.content.read(), 5) == b"\n"  # the opening comment's end
        assert subscribers(fleet[0]) == 1  # the journal's alone
    finally:
        await fleet.stop()


async def test_a_full_feed_counts_what_it_drops_and_still_closes() -> None:
    from axisim.control.feed import Feed

    feed = Feed(size=2)
    events = [Event(PORT, {"port": str(n)}, {"state": "1"}, 0.0, True, "state") for n in range(5)]
    for event in events:
        feed.offer(event)
    assert (feed.queue.qsize(), feed.dropped) == (2, 3)
    feed.close()
    assert [feed.queue.get_nowait() for _ in range(2)] == [events[1], None]


@pytest.mark.axisim(model="W401")
async def test_the_plugin_device_awaits_an_event(axisim_device: SimulatedDevice) -> None:
    async with axisim_device.expect_event(PORT, source={"port": 0}, data={"state": "1"}, timeout=2.0) as seen:
        axisim_device.event("io", "close_input", port=1)
    assert seen.event is not None and seen.event.data == {"state": "1"}
    waiter = axisim_device.wait_for_event(PORT, data={"state": "0"}, timeout=2.0)
    axisim_device.event("io", "open_input", port=1)
    assert (await waiter).source == {"port": "0"}


async def test_feed_under_hostile_names_and_queries(control: Control) -> None:
    """The feed is a stream that never completes, so the control API fuzz (tests/test_fuzz.py) leaves it
    to this: each hostile value as the device, the heartbeat and the topic gets a 4xx or a feed, never a 500."""
    from tests.fuzz_corpus import HOSTILE_QUERY_VALUES

    targets = [
        target
        for value in HOSTILE_QUERY_VALUES
        for target in (
            f"/devices/{value}/events/feed", f"/devices/0/events/feed?heartbeat={value}",
            f"/devices/0/events/feed?topic={value}&heartbeat=1", f"/devices/0/events/feed?limit={value}&heartbeat=1",
        )
    ]  # fmt: skip
    for target in targets:
        url = yarl.URL(control.base + target, encoded=True)
        async with control.session.get(url) as reply:
            assert reply.status in (200, 400, 404), (target, reply.status)
            if reply.status == 200:
                assert (await asyncio.wait_for(reply.content.readline(), 5)).startswith(b": events of")
    for _ in range(60):
        if subscribers(control[0]) == 1:
            break
        await asyncio.sleep(0.05)
    assert subscribers(control[0]) == 1  # every feed ended with its reader
