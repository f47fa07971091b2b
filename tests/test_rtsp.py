"""The RTSP metadata event stream through the wire, with a raw RTSP client (tests/rtsp_wire.py):
each method, UDP and TCP-interleaved transport, Digest as the `axis` library and curl answer it,
authentication failures and bad input. Wire format: events.md §3 (3.2 requests, 3.3 replies,
3.4 what the parser needs, 3.5 RTP, 3.6 documents) and §0.5 (initial state)."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from axisim.events import Event
from axisim.lifecycle import RestartKind, State
from axisim.rtsp.rtp import MAX_PACKET, RtpStream
from axisim.simulated import SimulatedDevice
from param_tree import Role

from .rtsp_wire import STREAM, RtspWire, UdpSink, rtp

ROOT = ("root", "pass")
PORT = "tns1:Device/tnsaxis:IO/Port"
RELAY = "tns1:Device/Trigger/Relay"
NS = {"tt": "http://www.onvif.org/ver10/schema", "wsnt": "http://docs.oasis-open.org/wsn/b-2"}
CHALLENGE = re.compile(r'^Digest realm="AXIS_[0-9A-F]{12}", nonce="[^"]+", stale=(FALSE|TRUE)$')


def parse(document: bytes) -> dict[str, Any]:
    """The fields of one metadata document, checking its layout (events.md §3.6)."""
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<tt:MetadataStream ')
    assert document.endswith(b"</tt:MetadataStream>\n")
    root = ET.fromstring(document)
    notes = root.findall("tt:Event/wsnt:NotificationMessage", NS)
    assert len(notes) == 1  # two crash the axis library
    topic = notes[0].find("wsnt:Topic", NS)
    message = notes[0].find("wsnt:Message/tt:Message", NS)
    assert topic is not None and message is not None
    assert message.find("tt:Key", NS) is not None
    return {
        "topic": topic.text,
        "dialect": topic.get("Dialect"),
        "op": message.get("PropertyOperation"),
        "time": message.get("UtcTime"),
        "source": {i.get("Name"): i.get("Value") for i in message.find("tt:Source", NS) or ()},
        "data": {i.get("Name"): i.get("Value") for i in message.find("tt:Data", NS) or ()},
    }


@pytest.fixture
async def w401(axisim_device_factory: Any) -> SimulatedDevice:
    return await axisim_device_factory("W401", rtsp=True)


async def open_wire(device: SimulatedDevice) -> RtspWire:
    assert device.rtsp_port
    return await RtspWire.open("127.0.0.1", device.rtsp_port)


async def describe(wire: RtspWire, **kwargs: Any) -> str:
    """DESCRIBE answered; the SETUP URL from the SDP (the first a=control after m=application)."""
    reply = await wire.request("DESCRIBE", headers={"Accept": "application/sdp"}, auth=ROOT, **kwargs)
    assert reply.status == 200, reply.lines
    sdp = reply.body.decode().split("\r\n")
    return next(
        line.split(":", 1)[1]
        for line in sdp[sdp.index("m=application 0 RTP/AVP 98") :]
        if line.startswith("a=control:")
    )


async def test_udp_session_sends_current_states_then_changes(w401: SimulatedDevice) -> None:
    """OPTIONS, DESCRIBE, SETUP over UDP, PLAY, keep-alive, TEARDOWN as the axis library sends them
    (events.md §3.2; RFC 2069 Digest with the presentation URL as uri, also on SETUP)."""
    wire = await open_wire(w401)
    sink, client_port = await UdpSink.open()
    try:
        options = await wire.request("OPTIONS")  # no auth needed
        assert options.status == 200 and options.lines[1] == "CSeq: 0"
        assert "DESCRIBE" in options.headers["public"] and "GET_PARAMETER" in options.headers["public"]

        first = await wire.request("DESCRIBE", headers={"Accept": "application/sdp"})
        assert first.status == 401 and CHALLENGE.match(first.headers["www-authenticate"])  # §3.4
        control = await describe(wire)
        assert control == f"{wire.base}/axis-media/media.amp/stream=0?video=0&audio=0&event=on"

        transport = f"RTP/AVP;unicast;client_port={client_port}-{client_port + 1}"
        setup = await wire.request("SETUP", control, {"Transport": transport}, auth=ROOT, uri=wire.url)
        assert setup.status == 200, setup.lines
        assert re.fullmatch(r"[0-9A-F]+;timeout=60", setup.headers["session"])
        assert setup.headers["transport"].startswith(f"RTP/AVP;unicast;client_port={client_port}-{client_port + 1};")
        ssrc = int(re.search(r"ssrc=([0-9A-F]{8})", setup.headers["transport"]).group(1), 16)

        states = [e for e in w401.device.event_states()]
        play = await wire.request("PLAY", headers={"Session": setup.session}, auth=ROOT)
        assert play.status == 200 and play.headers["range"] == "npt=now-"
        assert play.headers["rtp-info"].startswith(f"url={control};seq=")

        seen = []
        for _ in states:  # every property instance first, Initialized (§0.5)
            packets, document = await sink.document()
            assert all(p.version == 2 and p.payload_type == 98 and p.ssrc == ssrc for p in packets)
            seen.append(parse(document))
        assert {(s["topic"], tuple(s["source"].items())) for s in seen} == {
            (e.topic, tuple(e.source.items())) for e in states
        }
        assert all(s["op"] == "Initialized" for s in seen)
        assert all(s["dialect"] == "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple" for s in seen)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", seen[0]["time"])

        published: list[Event] = []
        listener = w401.subscribe(published.append)
        w401.event("io", "close_input", port=2)
        listener.cancel()
        changes = [parse((await sink.document())[1]) for _ in published]  # each event, in order
        assert [(c["topic"], c["source"], c["data"]) for c in changes] == [
            (e.topic, e.source, e.data) for e in published
        ]
        assert {"topic": PORT, "op": "Changed", "source": {"port": "1"}, "data": {"state": "1"}}.items() <= next(
            c for c in changes if c["topic"] == PORT
        ).items()

        keep = await wire.request("OPTIONS", headers={"Session": setup.session})  # the library's keep-alive
        assert keep.status == 200 and keep.headers["session"] == f"{setup.session};timeout=60"
        get = await wire.request("GET_PARAMETER", headers={"Session": setup.session})
        assert get.status == 200 and get.headers["session"].startswith(setup.session)
        put = await wire.request("SET_PARAMETER", headers={"Session": setup.session}, auth=ROOT)
        assert put.status == 200

        down = await wire.request("TEARDOWN", headers={"Session": setup.session}, auth=ROOT)
        assert down.status == 200
        assert (await wire.request("PLAY", headers={"Session": setup.session}, auth=ROOT)).status == 454
    finally:
        sink.close()
        await wire.close()
    streams = w401.journal.streams()
    assert [(s.kind, s.user, s.reason) for s in streams] == [("rtsp", "root", "teardown")]
    assert streams[0].messages_sent == len(states) + len(changes)


async def test_tcp_interleaved_with_curl_style_digest_and_topic_filter(w401: SimulatedDevice) -> None:
    """RTP/AVP/TCP interleaved (events.md §3.1 "support both"), qop=auth Digest on the request URL,
    and an `eventtopic` filter in the onvif:/axis: spelling."""
    wire = await open_wire(w401)
    try:
        url = wire.url + "&eventtopic=onvif:Device/axis:IO/Port//."
        reply = await wire.request("DESCRIBE", url, auth=ROOT, style="curl")
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/sdp"
        assert reply.headers["content-base"] == f"{wire.base}/axis-media/media.amp/"
        control = f"{wire.base}/axis-media/media.amp/stream=0?{url.partition('?')[2]}"
        setup = await wire.request(
            "SETUP", control, {"Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"}, auth=ROOT, style="curl"
        )
        assert setup.status == 200 and setup.headers["transport"].startswith("RTP/AVP/TCP;unicast;interleaved=2-3;")
        play = await wire.request("PLAY", url, {"Session": setup.session}, auth=ROOT, style="curl")
        assert play.status == 200
        ports = []
        for _ in range(9):  # IO/Port only: the relay's Trigger/Relay is filtered out
            channel, packet = await wire.next_frame()
            assert channel == 2 and rtp(packet).marker
            ports.append(parse(rtp(packet).payload))
        assert {p["topic"] for p in ports} == {PORT}
        w401.event("io", "close_input", port=1)
        channel, packet = await wire.next_frame()
        assert parse(rtp(packet).payload)["source"] == {"port": "0"}
        keep = await wire.request("GET_PARAMETER", url, {"Session": setup.session})  # replies between frames
        assert keep.status == 200
    finally:
        await wire.close()


def test_long_documents_are_split_at_1400_bytes_with_the_marker_on_the_last() -> None:
    """events.md §3.5: consecutive sequence numbers, one timestamp, marker only on the last packet."""
    stream = RtpStream()
    packets = [rtp(p) for p in stream.packets(b"x" * 3000, 1.5)]
    assert [len(p.payload) for p in packets] == [1388, 1388, 224]
    assert all(len(p.payload) + 12 <= MAX_PACKET for p in packets)
    assert [p.marker for p in packets] == [False, False, True]
    assert len({p.timestamp for p in packets}) == 1 and len({p.ssrc for p in packets}) == 1
    assert [(p.seq - packets[0].seq) % 65536 for p in packets] == [0, 1, 2]


async def test_authentication_failures(w401: SimulatedDevice) -> None:
    wire = await open_wire(w401)
    try:
        assert (await wire.request("DESCRIBE", auth=("root", "wrong"))).status == 401
        assert (await wire.request("DESCRIBE", auth=("nobody", "pass"))).status == 401
        basic = await wire.request("DESCRIBE", headers={"Authorization": "Basic cm9vdDpwYXNz"})
        assert basic.status == 401  # Digest only under the default policy
        other = await wire.request("DESCRIBE", auth=ROOT, uri="rtsp://127.0.0.1/axis-cgi/param.cgi")
        assert other.status == 400  # the digest names another resource (Apache's answer too)
        garbage = await wire.request("DESCRIBE", headers={"Authorization": "Digest ,,,=="})
        assert garbage.status == 401
        assert (await wire.request("DESCRIBE", auth=ROOT)).status == 200  # the connection still serves
        assert (await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"})).status == 401
    finally:
        await wire.close()
    assert w401.journal.streams() == []


async def test_basic_policy_and_viewer_account(axisim_device_factory: Any) -> None:
    device = await axisim_device_factory("W401", rtsp=True, accounts=["root:pass:admin", "view:er:viewer"])
    assert device.device.update_params([("Network.HTTP.AuthenticationPolicy", "basic")], Role.ADMIN) == []
    wire = await open_wire(device)
    try:
        challenge = await wire.request("DESCRIBE")
        assert challenge.status == 401 and challenge.headers["www-authenticate"].startswith('Basic realm="AXIS_')
        viewer = await wire.request("DESCRIBE", headers={"Authorization": "Basic dmlldzplcg=="})  # view:er
        assert viewer.status == 200
    finally:
        await wire.close()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"HELLO\r\n\r\n", 400),
        (b"DESCRIBE rtsp://h/axis-media/media.amp RTSP/1.0\r\n\r\n", 400),  # no CSeq
        (b"DESCRIBE rtsp://h/ RTSP/2.0\r\nCSeq: 1\r\n\r\n", 505),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 400),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n" + b"".join(b"X%d: y\r\n" % i for i in range(80)) + b"\r\n", 400),
        (b"SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n", 413),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -4\r\n\r\n", 400),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nbad header\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ],
)
async def test_bad_requests_get_a_status_and_the_device_serves_on(
    w401: SimulatedDevice, raw: bytes, status: int
) -> None:
    wire = await open_wire(w401)
    try:
        await wire.send_raw(raw)
        reply = await wire.read_reply()
        assert reply.status == status
        assert await wire.closed_by_peer()
    finally:
        await wire.close()
    again = await open_wire(w401)
    try:
        assert (await again.request("OPTIONS")).status == 200
    finally:
        await again.close()


async def test_wrong_requests_on_a_good_connection(w401: SimulatedDevice) -> None:
    wire = await open_wire(w401)
    try:
        host = wire.base
        assert (await wire.request("FLY", "*")).status == 501
        assert (await wire.request("ANNOUNCE", auth=ROOT)).status == 405
        assert (await wire.request("DESCRIBE", f"{host}/axis-media/media.amp?video=1", auth=ROOT)).status == 404
        assert (await wire.request("DESCRIBE", f"{host}/onvif-media/media.amp", auth=ROOT)).status == 404
        assert (await wire.request("DESCRIBE", "/axis-media/media.amp", auth=ROOT)).status == 400  # not absolute
        assert (await wire.request("DESCRIBE", f"{host}/\u00e9", auth=ROOT)).status == 400
        assert (await wire.request("DESCRIBE", f"{host}/{'a' * 3000}", auth=ROOT)).status == 414
        assert (await wire.request("PLAY", headers={"Session": "NOPE"}, auth=ROOT)).status == 454
        multicast = {"Transport": "RTP/AVP;multicast;port=5000-5001"}
        assert (await wire.request("SETUP", headers=multicast, auth=ROOT)).status == 461
        assert (
            await wire.request("SETUP", headers={"Transport": "RTP/AVP;unicast;client_port=0-1"}, auth=ROOT)
        ).status == 461
        bad_filter = wire.url + "&eventtopic=" + ",".join(["a"] * 40)
        assert (await wire.request("SETUP", bad_filter, {"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)).status == 400
        setup = await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
        assert setup.status == 200
        again = await wire.request(
            "SETUP", headers={"Transport": "RTP/AVP/TCP;unicast", "Session": setup.session}, auth=ROOT
        )
        assert again.status == 459
        assert (
            await wire.request("GET_PARAMETER", headers={"Session": setup.session}, body=b"position\r\n")
        ).status == 451
        assert (await wire.request("OPTIONS")).status == 200
    finally:
        await wire.close()


async def test_session_timeout_closes_the_session(w401: SimulatedDevice) -> None:
    """A client that stops its keep-alives loses the session (Session: <id>;timeout=<s>, §3.3)."""
    assert w401.running is not None and w401.running.rtsp is not None
    w401.running.rtsp.session_timeout = 0.5
    wire = await open_wire(w401)
    try:
        setup = await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
        assert setup.headers["session"].endswith(";timeout=0.5")
        assert await wire.closed_by_peer()
    finally:
        await wire.close()
    assert [s.reason for s in w401.journal.streams()] == ["session timeout"]


async def test_stream_faults_and_journal_through_the_control_api(axisim_fleet_factory: Any) -> None:
    """Control API stream faults of kind rtsp: refuse the SETUP, drop after N messages; the journal's
    stream sessions (GET .../journal/streams)."""
    import aiohttp

    fleet = await axisim_fleet_factory("W401", count=1, rtsp=True)
    device = fleet[0]
    base = f"{fleet.control_url}/devices/{device.serial}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fleet.control_url}/devices") as listing:
            assert (await listing.json())["devices"][0]["rtsp_port"] == device.rtsp_port
        async with http.post(f"{base}/faults", json={"kind": "rtsp", "refuse": True, "count": 1}) as added:
            assert added.status in (200, 201)
        wire = await open_wire(device)
        try:
            refused = await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
            assert refused.status == 503 and await wire.closed_by_peer()
        finally:
            await wire.close()
        async with http.post(f"{base}/faults", json={"kind": "rtsp", "drop_after": 2, "count": 1}):
            pass
        wire = await open_wire(device)
        try:
            setup = await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
            assert (await wire.request("PLAY", headers={"Session": setup.session}, auth=ROOT)).status == 200
            assert len([await wire.next_frame() for _ in range(2)]) == 2
            assert await wire.closed_by_peer()
        finally:
            await wire.close()
        async with http.get(f"{base}/journal/streams") as answer:
            streams = (await answer.json())["streams"]
    assert [(s["kind"], s["user"], s["sent"], s["open"]) for s in streams] == [("rtsp", "root", 2, False)]
    assert streams[0]["reason"] == "dropped after 2 messages (fault)"


async def test_restart_closes_sessions_and_the_device_serves_again(w401: SimulatedDevice) -> None:
    wire = await open_wire(w401)
    try:
        setup = await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
        assert setup.status == 200
        w401.device.restart(RestartKind.REBOOT)
        assert await wire.closed_by_peer()
    finally:
        await wire.close()
    assert await w401.wait_ready(10)
    assert [s.reason for s in w401.journal.streams()] == ["device restarting"]
    again = await open_wire(w401)
    try:
        assert (await again.request("DESCRIBE", auth=ROOT)).status == 200
    finally:
        await again.close()


async def test_inventory_lists_the_rtsp_port(w401: SimulatedDevice, axisim_device_factory: Any) -> None:
    assert w401.inventory()["rtsp_port"] == w401.rtsp_port != 0
    assert w401.rtsp_url == f"rtsp://127.0.0.1:{w401.rtsp_port}{STREAM}"
    plain = await axisim_device_factory("S3008")
    assert plain.inventory()["rtsp_port"] is None and plain.rtsp_url is None


async def test_power_off_closes_sessions_and_the_listener(w401: SimulatedDevice) -> None:
    wire = await open_wire(w401)
    try:
        setup = await wire.request("SETUP", headers={"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
        assert setup.status == 200
        w401.device.power_off("test")
        assert await wire.closed_by_peer()
    finally:
        await wire.close()
    assert [s.reason for s in w401.journal.streams()] == ["device powered off"]
    with pytest.raises(OSError):
        await open_wire(w401)


async def test_a_client_that_cannot_succeed_is_closed_not_served_forever(w401: SimulatedDevice) -> None:
    """The axis library re-sends a refused request at once (events.md §3.2: a 401 makes it answer
    again); wrong credentials 16 times in a row close the connection instead of a busy loop."""
    wire = await open_wire(w401)
    try:
        for _ in range(15):
            assert (await wire.request("DESCRIBE", auth=("root", "wrong"))).status == 401
        await wire.request("DESCRIBE", auth=("root", "wrong"))
        assert await wire.closed_by_peer()
    finally:
        await wire.close()


async def test_booting_device_refuses_and_closes(axisim_device_factory: Any) -> None:
    device = await axisim_device_factory("W401", rtsp=True, ready_time=30.0)
    device.device.restart(RestartKind.REBOOT)
    for _ in range(250):  # until the listener is back, booting (bounded: 5 s)
        if device.device.lifecycle.state is State.BOOTING and device.running.rtsp.listening:
            break
        await asyncio.sleep(0.02)
    wire = await open_wire(device)
    try:
        assert (await wire.request("OPTIONS")).status == 200
        assert (await wire.request("DESCRIBE", auth=ROOT)).status == 503
        assert await wire.closed_by_peer()
    finally:
        await wire.close()


async def test_pause_stops_events_and_play_starts_again_with_the_states(w401: SimulatedDevice) -> None:
    wire = await open_wire(w401)
    try:
        url = wire.url + "&eventtopic=onvif:Device/Trigger/Relay"  # one instance: the relay
        setup = await wire.request("SETUP", url, {"Transport": "RTP/AVP/TCP;unicast"}, auth=ROOT)
        session = {"Session": setup.session}
        assert (await wire.request("PLAY", url, session, auth=ROOT)).status == 200
        assert parse(rtp((await wire.next_frame())[1]).payload)["op"] == "Initialized"
        assert (await wire.request("PAUSE", url, session, auth=ROOT)).status == 200
        w401.emit(RELAY, {"RelayToken": "8"}, {"LogicalState": "active"})  # not sent while paused
        assert (await wire.request("PLAY", url, session, auth=ROOT)).status == 200
        again = parse(rtp((await wire.next_frame())[1]).payload)
        assert (again["topic"], again["op"]) == (RELAY, "Initialized")
        w401.emit(RELAY, {"RelayToken": "8"}, {"LogicalState": "active"})
        changed = parse(rtp((await wire.next_frame())[1]).payload)
        assert (changed["op"], changed["data"]) == ("Changed", {"LogicalState": "active"})
        assert wire.frames == []
    finally:
        await wire.close()
    assert w401.journal.streams()[0].messages_sent == 3


async def test_mangled_requests_never_crash_the_server(w401: SimulatedDevice, caplog: pytest.LogCaptureFixture) -> None:
    """Bounded fuzzing from a fixed seed: valid requests cut, spliced and sprinkled with bytes each get
    an RTSP status line or a closed connection, and nothing is logged as an error."""
    import random

    good = [
        f"SETUP rtsp://h/axis-media/media.amp/stream=0?event=on RTSP/1.0\r\nCSeq: 3\r\nTransport: {t}\r\n\r\n".encode()
        for t in ("RTP/AVP;unicast;client_port=9-10", "RTP/AVP/TCP;unicast;interleaved=0-1", "x;;=,=;")
    ] + [
        b"DESCRIBE rtsp://h/axis-media/media.amp?video=0&event=on RTSP/1.0\r\nCSeq: 1\r\n"
        b"Authorization: Digest a=b\r\n\r\n",
        b"PLAY rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nSession: ;;;\r\nContent-Length: 3\r\n\r\nabc",
        b"$\x00\x00\x04abcdOPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n",
    ]
    rng = random.Random(18)
    for _ in range(60):  # bounded: 60 connections
        data = bytearray(rng.choice(good))
        for _ in range(rng.randint(1, 6)):
            spot = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                data[spot] = rng.randrange(256)
            elif action == 1:
                del data[spot : spot + rng.randint(1, 8)]
            else:
                data[spot:spot] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        wire = await open_wire(w401)
        try:
            await wire.send_raw(bytes(data) + b"\r\n\r\n")
            wire.writer.write_eof()
            answer = await asyncio.wait_for(wire.reader.read(), 5)
            assert answer == b"" or answer.startswith((b"RTSP/1.0 ", b"$")), answer[:80]
        finally:
            await wire.close()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    again = await open_wire(w401)
    try:
        assert (await again.request("OPTIONS")).status == 200
    finally:
        await again.close()
