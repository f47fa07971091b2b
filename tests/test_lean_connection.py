"""A device's connections are LeanConnections (axisim/lean_connection.py): the same bytes on the wire
as aiohttp's own handler (DeviceProtocol, `AXISIM_HTTP=aiohttp`), and a connection handed over to
aiohttp's handler when a request needs it (a WebSocket upgrade, a request the parser refuses) after
plain requests on the same connection.

Each comparison sends the same requests over two connections to one device, one made while the
lean path is on and one while it is off, and compares the replies with the Date and nonce values
masked (vapix-wire.md §2 Digest challenges, §4.1 the Server header, §4.2 Apache's error pages).
Raw sockets, so nothing between the test and the wire hides a byte.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import struct
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from axisim import device_runner, lean_connection
from axisim.connection import DeviceProtocol
from axisim.device import make_device
from axisim.device_runner import DeviceRunner
from axisim.digest_client import authorization
from axisim.lean_connection import LeanConnection
from axisim.pipeline import WIRING_KEY
from axisim.server import RunningDevice, start_device
from cgi_handlers.request_context import DEVICE_KEY

TIMEOUT = 10.0
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
BASICDEVICEINFO = b'{"apiVersion":"1.0","method":"getAllProperties"}'


@pytest.fixture
async def served() -> AsyncIterator[RunningDevice]:
    running = await start_device(make_device("S3008"), "127.0.0.1", 0, https_port=None)
    try:
        yield running
    finally:
        await running.stop()


class Wire:
    """One raw connection: write bytes, read whole HTTP replies (Content-Length or chunked)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Wire:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, head_only: bool = False) -> bytes:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        lowered = head.lower()
        if head_only or head.startswith((b"HTTP/1.1 101", b"HTTP/1.1 100", b"HTTP/1.1 304")):
            return head
        if b"transfer-encoding: chunked" in lowered:
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await asyncio.wait_for(self.reader.readexactly(size + 2), TIMEOUT)
                body += chunk[:-2]
                if size == 0:
                    return head + body
        found = re.search(rb"\r\ncontent-length: *(\d+)", lowered)
        length = int(found.group(1)) if found else 0
        return head + await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)

    async def closed(self) -> bool:
        """True when the server closes the connection (within the timeout) without sending more."""
        try:
            return await asyncio.wait_for(self.reader.read(1), TIMEOUT) == b""
        except ConnectionError:
            return True

    def close(self) -> None:
        self.writer.close()


async def connect(port: int, lean: bool, monkeypatch: pytest.MonkeyPatch) -> Wire:
    """A connection made while the lean path is on (or off); the switch is read as it is accepted."""
    monkeypatch.setattr(device_runner, "LEAN", lean)
    wire = await Wire.open(port)
    await wire.send(b"GET /axis-cgi/systemready.cgi HTTP/1.1\r\nHost: device\r\nContent-Length: 0\r\n\r\n")
    await wire.reply()  # accepted and answered before the switch moves again
    return wire


def masked(reply: bytes) -> bytes:
    reply = re.sub(rb"Date: [^\r]+", b"Date: -", reply)
    return re.sub(rb'nonce="[^"]*"', b'nonce="-"', reply)


def request(method: str, path: str, body: bytes = b"", headers: str = "", version: str = "1.1") -> bytes:
    head = f"{method} {path} HTTP/{version}\r\nHost: device\r\n{headers}"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def signed(challenge: bytes, method: str, path: str) -> str:
    header = re.search(rb"WWW-Authenticate: (Digest [^\r]+)", challenge)
    assert header is not None, challenge
    answer = authorization(header.group(1).decode(), user="root", password="pass", method=method, uri=path)
    return f"Authorization: {answer}\r\n"


async def conversation(wire: Wire) -> list[bytes]:
    """The requests of a VMS client and some odd ones, one after another on one connection."""
    replies = []
    await wire.send(request("GET", "/axis-cgi/param.cgi?action=list&group=root.Brand"))
    challenge = await wire.reply()
    replies.append(challenge)
    calls = [
        ("GET", "/axis-cgi/param.cgi?action=list&group=root.Brand", b"", ""),
        ("POST", "/axis-cgi/basicdeviceinfo.cgi", BASICDEVICEINFO, "Content-Type: application/json\r\n"),
        ("HEAD", "/axis-cgi/param.cgi?action=list&group=root.Brand", b"", ""),
        ("POST", "/axis-cgi/param.cgi", b"action=list&group=root.Network.HostName", f"Content-Type: {FORM}\r\n"),
        ("GET", "/axis-cgi/no-such.cgi", b"", ""),
        ("DELETE", "/axis-cgi/param.cgi", b"", ""),
        ("POST", "/axis-cgi/basicdeviceinfo.cgi", b'{"apiVersion":"1.0","method":"nope"}', f"Content-Type: {JSON}\r\n"),
        ("POST", "/axis-cgi/basicdeviceinfo.cgi", b"{not json", "Content-Type: application/json\r\n"),
    ]  # fmt: skip
    for method, path, body, headers in calls:
        await wire.send(request(method, path, body, headers + signed(challenge, method, path)))
        replies.append(await wire.reply(head_only=method == "HEAD"))
    form = b"action=list&group=root.Brand.ProdShortName"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form)
    await wire.send(
        b"POST /axis-cgi/param.cgi HTTP/1.1\r\nHost: device\r\nTransfer-Encoding: chunked\r\n"
        + signed(challenge, "POST", "/axis-cgi/param.cgi").encode() + b"\r\n" + chunked
    )  # fmt: skip
    replies.append(await wire.reply())
    await wire.send(
        request("POST", "/axis-cgi/basicdeviceinfo.cgi", b"",
                "Expect: 100-continue\r\n" + signed(challenge, "POST", "/axis-cgi/basicdeviceinfo.cgi")).replace(
            b"Content-Length: 0", b"Content-Length: %d" % len(BASICDEVICEINFO))
    )  # fmt: skip
    replies.append(await wire.reply())  # 100 Continue
    await wire.send(BASICDEVICEINFO)
    replies.append(await wire.reply())
    return [masked(reply) for reply in replies]


async def test_a_conversation_reads_the_same_on_both_paths(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digest challenge and answers, JSON and form APIs, HEAD, 404, 405, API errors, a chunked body
    and Expect: 100-continue: byte for byte what aiohttp's handler sends (Date and nonce masked)."""
    lean, plain = await connect(served.port, True, monkeypatch), await connect(served.port, False, monkeypatch)
    try:
        assert [type(c) for c in served.runner.server.connections].count(LeanConnection) == 1
        mine, theirs = await conversation(lean), await conversation(plain)
    finally:
        lean.close()
        plain.close()
    assert mine == theirs
    assert [reply.split(b" ", 2)[1] for reply in mine] == [
        b"401", b"200", b"200", b"405", b"200", b"404", b"405", b"200", b"200", b"200", b"100", b"200"
    ]  # fmt: skip  (param.cgi is routed for GET and POST: HEAD and DELETE get 405 with Allow)
    assert all(b"\r\nServer: Apache\r\n" in reply for reply in mine if not reply.startswith(b"HTTP/1.1 100"))


async def test_pipelined_requests_are_answered_in_order(served: RunningDevice, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three requests in one write (HTTP/1.1 pipelining): three replies, in order, as aiohttp's."""
    batch = b"".join(
        request("POST", "/axis-cgi/systemready.cgi", b'{"apiVersion":"1.2","method":"systemready","context":"%d"}' % n,
                "Content-Type: application/json\r\n")
        for n in range(3)
    )  # fmt: skip
    replies: dict[bool, list[bytes]] = {}
    for lean in (True, False):
        wire = await connect(served.port, lean, monkeypatch)
        await wire.send(batch)
        replies[lean] = [masked(await wire.reply()) for _ in range(3)]
        wire.close()
    assert replies[True] == replies[False]
    assert [json.loads(reply.split(b"\r\n\r\n", 1)[1])["context"] for reply in replies[True]] == ["0", "1", "2"]


async def test_http_1_0_and_connection_close_end_the_connection(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    for closing in (request("GET", "/axis-cgi/systemready.cgi", version="1.0"),
                    request("GET", "/axis-cgi/systemready.cgi", headers="Connection: close\r\n")):  # fmt: skip
        seen = []
        for lean in (True, False):
            monkeypatch.setattr(device_runner, "LEAN", lean)
            wire = await Wire.open(served.port)
            await wire.send(closing)
            seen.append(masked(await wire.reply()))
            assert await wire.closed()
            wire.close()
        assert seen[0] == seen[1]


def ws_frame(text: str) -> bytes:
    """One masked client text frame (RFC 6455 §5.2); the mask is zero, which changes no byte."""
    payload = text.encode()
    assert len(payload) < 126
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + b"\0\0\0\0" + payload


async def read_frame(wire: Wire) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(wire.reader.readexactly(2), TIMEOUT)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await wire.reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await wire.reader.readexactly(8))
    return first & 0x0F, await asyncio.wait_for(wire.reader.readexactly(length), TIMEOUT)


def upgrade(path: str, extra: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: device\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode()  # fmt: skip


async def test_a_websocket_upgrade_after_plain_requests_is_handed_to_aiohttp(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event WebSocket (events.md §2) on a connection that served plain requests first, as
    aiohttp's client does when it reuses a pooled connection: the 401 to the first upgrade, then
    the signed upgrade, a 101 and a configured event stream; the connection is DeviceProtocol's."""
    path = "/vapix/ws-data-stream?sources=events"
    wire = await connect(served.port, True, monkeypatch)
    try:
        await wire.send(upgrade(path))
        challenge = await wire.reply()
        assert challenge.startswith(b"HTTP/1.1 401"), challenge
        await wire.send(request("GET", "/axis-cgi/systemready.cgi"))  # the declined upgrade left the connection usable
        assert (await wire.reply()).startswith(b"HTTP/1.1 200")
        await wire.send(upgrade(path, signed(challenge, "GET", path)))
        switched = await wire.reply()
        assert switched.startswith(b"HTTP/1.1 101"), switched
        configure = {"apiVersion": "1.0", "method": "events:configure",
                     "params": {"eventFilterList": [{"topicFilter": "tns1:Device/tnsaxis:IO/Port"}]}}  # fmt: skip
        await wire.send(ws_frame(json.dumps(configure, separators=(",", ":"))))
        opcode, payload = await read_frame(wire)
        assert opcode == 1 and json.loads(payload)["method"] == "events:configure"
        kinds = [type(connection) for connection in served.runner.server.connections]
        assert DeviceProtocol in kinds and LeanConnection not in kinds
    finally:
        wire.close()


async def test_a_plain_request_and_an_upgrade_in_one_write(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain request pipelined with an upgrade: the first is answered, then the upgrade's 401."""
    wire = await connect(served.port, True, monkeypatch)
    try:
        await wire.send(request("GET", "/axis-cgi/systemready.cgi") + upgrade("/vapix/ws-data-stream?sources=events"))
        assert (await wire.reply()).startswith(b"HTTP/1.1 200")
        assert (await wire.reply()).startswith(b"HTTP/1.1 401")
    finally:
        wire.close()


async def test_a_malformed_request_after_good_ones_gets_apaches_400_on_both_paths(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vapix-wire.md §4.2: Apache's 400 page, then the connection closes; handed to aiohttp's handler."""
    seen = []
    for lean in (True, False):
        wire = await connect(served.port, lean, monkeypatch)
        await wire.send(b"GET /axis-cgi/systemready.cgi HTTP/1.1\r\nHost: device\r\nBad Header\r\n\r\n")
        seen.append(masked(await wire.reply()))
        assert await wire.closed()
        wire.close()
    assert seen[0] == seen[1]
    assert seen[0].startswith(b"HTTP/1.0 400 Bad Request") and b"<title>400 Bad Request</title>" in seen[0]


async def test_a_body_the_handler_does_not_read_is_drained_before_the_next_request(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body still arriving after its request was refused (401: no handler read it) is read past,
    so the next request on the connection is the one answered."""
    wire = await connect(served.port, True, monkeypatch)
    try:
        body = b"x" * 200_000
        head = b"POST /axis-cgi/param.cgi HTTP/1.1\r\nHost: device\r\nContent-Length: %d\r\n\r\n" % len(body)
        await wire.send(head + body[:1000])
        assert (await wire.reply()).startswith(b"HTTP/1.1 401")
        await wire.send(body[1000:] + request("GET", "/axis-cgi/systemready.cgi"))
        assert (await wire.reply()).startswith(b"HTTP/1.1 200")
    finally:
        wire.close()


async def test_stopping_the_device_ends_a_request_that_hangs(served: RunningDevice) -> None:
    """A request held by a hang fault does not keep the device from stopping (the runner's
    shutdown timeout, then the request is cancelled)."""
    served.runner.app[WIRING_KEY].faults.add({"path": "/axis-cgi/systemready.cgi", "hang": True})
    wire = await Wire.open(served.port)
    await wire.send(request("GET", "/axis-cgi/systemready.cgi"))
    await asyncio.sleep(0.2)
    await asyncio.wait_for(served.stop(), 10)
    assert await wire.closed()
    wire.close()


def test_axisim_http_aiohttp_serves_every_connection_with_aiohttps_handler() -> None:
    """The switch README names: read once, at import, in the process that serves."""
    probe = "import axisim.device_runner as d; print(d.LEAN)"
    for value, lean in (("aiohttp", "False"), ("AIOHTTP ", "False"), ("lean", "True"), ("", "True")):
        done = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "AXISIM_HTTP": value},
                              capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
        assert done.stdout.strip() == lean, (value, done.stdout, done.stderr)


async def test_a_lean_connection_that_cannot_be_made_is_served_by_aiohttp_and_said(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncio drops a connection whose protocol cannot be made without a word; the device says why
    and serves it with aiohttp's handler instead."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("no lean connection today")

    monkeypatch.setattr(device_runner, "LeanConnection", broken)
    wire = await Wire.open(served.port)
    try:
        await wire.send(request("GET", "/axis-cgi/systemready.cgi"))
        assert (await wire.reply()).startswith(b"HTTP/1.1 200")
    finally:
        wire.close()
    assert [type(c) for c in served.runner.server.connections] == [DeviceProtocol]
    assert "no lean connection today" in caplog.text


async def test_plain_replies_are_aiohttps_bytes_for_every_kind_of_response(monkeypatch: pytest.MonkeyPatch) -> None:
    """lean_connection.plain_reply writes what aiohttp's prepare/write_eof would, for the replies it
    takes (bodies with and without a Content-Type, empty ones, forced closes, a custom reason, a
    preset Date, HTTP/1.0 with and without keep-alive) and leaves the rest (HEAD, 204, 304,
    chunked, a Content-Length of the handler's) to aiohttp: the same bytes either way."""
    replies = {
        "/text": lambda: web.Response(text="hello"),
        "/octets": lambda: web.Response(body=b"\x00\x01"),
        "/empty": lambda: web.Response(),
        "/closing": lambda: closing(web.Response(text="bye")),
        "/reason": lambda: web.Response(status=599, reason="Odd", text="x"),
        "/dated": lambda: web.Response(text="d", headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"}),
        "/nocontent": lambda: web.Response(status=204),
        "/notmodified": lambda: web.Response(status=304),
        "/chunked": lambda: chunked(web.Response(text="c" * 10)),
        "/length": lambda: web.Response(body=b"abc", headers={"Content-Length": "3"}),
    }

    def closing(response: web.Response) -> web.Response:
        response.force_close()
        return response

    def chunked(response: web.Response) -> web.Response:
        response.enable_chunked_encoding()
        return response

    async def handler(request: web.Request) -> web.StreamResponse:
        return replies[request.path]()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    app[DEVICE_KEY] = make_device("S3008")  # a device's listener: lean connections
    runner = DeviceRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    taken = []
    real = lean_connection.plain_reply

    def counting(request: web.BaseRequest, response: web.StreamResponse) -> bytes | None:
        reply = real(request, response)
        taken.append(reply is not None)
        return reply

    monkeypatch.setattr(lean_connection, "plain_reply", counting)
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for path in replies:
            for method, version, extra in (("GET", "1.1", ""), ("HEAD", "1.1", ""), ("GET", "1.0", ""),
                                           ("GET", "1.0", "Connection: keep-alive\r\n"),
                                           ("POST", "1.1", "Connection: close\r\n")):  # fmt: skip
                if path == "/chunked" and version == "1.0":
                    continue  # aiohttp refuses to prepare it (a handler's bug): no reply on either path
                seen = []
                for lean in (True, False):
                    monkeypatch.setattr(device_runner, "LEAN", lean)
                    wire = await Wire.open(port)
                    await wire.send(request(method, path, b"", extra, version))
                    seen.append(masked(await wire.reply(head_only=method == "HEAD" or "chunked" in path)))
                    wire.close()
                assert seen[0] == seen[1], (method, version, extra, path)
    finally:
        await runner.cleanup()
    assert taken.count(True) == 24 and taken.count(False) == 24, taken  # 6 plain paths x 4 requests; HEADs and the rest


async def test_requests_cut_anywhere_read_the_same_on_both_paths(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream of requests (signed and not, bodies, pipelined) cut at random points into separate
    writes: lean and aiohttp's handler read it the same and answer byte for byte alike. Seeded and
    bounded: 12 streams of 4-7 requests."""
    import random

    probe = await Wire.open(served.port)
    await probe.send(request("GET", "/axis-cgi/param.cgi?action=list&group=root.Brand"))
    challenge = await probe.reply()
    probe.close()
    pool = [
        request("POST", "/axis-cgi/systemready.cgi", b'{"apiVersion":"1.2","method":"systemready"}',
                f"Content-Type: {JSON}\r\n"),
        request("GET", "/axis-cgi/param.cgi?action=list&group=root.Brand",
                headers=signed(challenge, "GET", "/axis-cgi/param.cgi?action=list&group=root.Brand")),
        request("POST", "/axis-cgi/basicdeviceinfo.cgi", BASICDEVICEINFO,
                f"Content-Type: {JSON}\r\n" + signed(challenge, "POST", "/axis-cgi/basicdeviceinfo.cgi")),
        request("GET", "/axis-cgi/param.cgi?action=list&group=root.Network"),  # 401
        request("GET", "/axis-cgi/nothing-here.cgi"),
    ]  # fmt: skip
    chooser = random.Random(2026)
    for _ in range(12):
        stream = b"".join(chooser.choice(pool) for _ in range(chooser.randint(4, 7)))
        cuts = sorted(chooser.sample(range(1, len(stream)), chooser.randint(1, 6)))
        pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        count = stream.count(b" HTTP/1.1\r\n")
        seen = []
        for lean in (True, False):
            wire = await connect(served.port, lean, monkeypatch)
            for piece in pieces:
                await wire.send(piece)
                await asyncio.sleep(0.002)  # each piece its own read on the server
            seen.append([masked(await wire.reply()) for _ in range(count)])
            wire.close()
        assert seen[0] == seen[1]


async def test_the_keep_alive_timeout_follows_the_first_request_not_the_header_clock() -> None:
    """A connection's header clock (20 s on a device; 3 s here) runs from its start; once its first
    request is answered the keep-alive timeout (5 s; 0.3 s here) governs, and the idle connection
    closes then, not when the header clock would have run out."""
    running = await start_device(
        make_device("S3008"), "127.0.0.1", 0, https_port=None, keepalive_timeout=0.3, header_timeout=3.0
    )
    try:
        wire = await Wire.open(running.port)
        await wire.send(request("GET", "/axis-cgi/systemready.cgi"))
        await wire.reply()
        answered = asyncio.get_running_loop().time()
        assert await wire.closed()
        assert asyncio.get_running_loop().time() - answered < 2.0
        wire.close()
    finally:
        await running.stop()


async def both_paths(
    port: int, monkeypatch: pytest.MonkeyPatch, *writes: bytes, pause: float = 0.05, pauses: tuple[float, ...] = ()
) -> list[bytes]:
    """What each path sends back for the same writes (with a pause after each: `pauses`, else
    `pause`), read until it closes or goes quiet for 1.5 s, status lines only."""
    seen = []
    for lean in (True, False):
        monkeypatch.setattr(device_runner, "LEAN", lean)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for number, data in enumerate(writes):
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(pauses[number] if pauses else pause)
        received = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 1.5)
            except (TimeoutError, ConnectionError):
                break
            if not chunk:
                break
            received += chunk
        writer.close()
        seen.append(b"\n".join(re.findall(rb"HTTP/1\.[01] \d{3}[^\r]*", received)))
    return seen


async def test_an_upgrade_aiohttp_does_not_switch_for_is_an_ordinary_request(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`Upgrade: h2c` is answered as a plain request, and a body still arriving behind it is read
    by the connection that parsed it (found by a hostile test: it was handed over with the body
    half read, a 500 and a traceback)."""
    served.runner.app[WIRING_KEY].faults.add({"path": "/axis-cgi/basicdeviceinfo.cgi", "latency_ms": 500})
    ready = b'{"apiVersion":"1.2","method":"systemready"}'
    seen = await both_paths(
        served.port, monkeypatch,
        request("POST", "/axis-cgi/basicdeviceinfo.cgi", BASICDEVICEINFO),  # held 0.5 s: the next two queue
        request("GET", "/axis-cgi/systemready.cgi", headers="Connection: Upgrade\r\nUpgrade: h2c\r\n"),
        request("POST", "/axis-cgi/systemready.cgi", ready)[:-10], ready[-10:], pauses=(0.05, 0.05, 1.0, 0.05),
    )  # fmt: skip
    assert seen[0] == seen[1] == b"HTTP/1.1 401 Unauthorized\nHTTP/1.1 200 OK\nHTTP/1.1 200 OK"
    assert "Traceback" not in caplog.text and "ERROR" not in caplog.text


async def test_a_websocket_upgrade_with_a_body_goes_over_once_its_body_is_in(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    head = upgrade("/vapix/ws-data-stream?sources=events", "Content-Length: 5\r\n")
    seen = await both_paths(served.port, monkeypatch, head, b"hello", pause=0.3)
    assert seen[0] == seen[1] == b"HTTP/1.1 401 Unauthorized"
    assert "Traceback" not in caplog.text


async def test_a_closing_request_with_an_unread_body_still_gets_its_reply(
    served: RunningDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connection: close (or HTTP/1.0) and a large body no handler reads (401): the body is drained
    before the close, so the reply is not lost to a reset (found by a hostile test)."""
    body = b"x" * 400_000
    for version, extra in (("1.1", "Connection: close\r\n"), ("1.0", "")):
        head = f"POST /axis-cgi/param.cgi HTTP/{version}\r\nHost: device\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
        seen = await both_paths(served.port, monkeypatch, head.encode() + body[:200_000], body[200_000:])
        assert seen[0] == seen[1] == f"HTTP/{version} 401 Unauthorized".encode()


async def test_a_handler_that_fails_gets_aiohttps_500_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not reachable through the pipeline (it answers every failure itself): a raising handler, and
    one returning no response, get aiohttp's replies on the lean path too."""

    async def raising(_request: web.Request) -> web.Response:
        raise ValueError("a simulator bug")

    async def nothing(_request: web.Request) -> web.Response:
        return None  # type: ignore[return-value]

    app = web.Application()
    app.router.add_get("/raise", raising)
    app.router.add_get("/none", nothing)
    app[DEVICE_KEY] = make_device("S3008")
    runner = DeviceRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for path, extra in (("/raise", ""), ("/raise", "Accept: text/html\r\n"), ("/none", "")):
            seen = []
            for lean in (True, False):
                monkeypatch.setattr(device_runner, "LEAN", lean)
                wire = await Wire.open(port)
                await wire.send(request("GET", path, headers=extra))
                seen.append(masked(await wire.reply()))
                wire.close()
            if path == "/none":  # aiohttp's own handler sends its own Server header here; the lean path the device's
                assert seen[0].endswith(b"\r\n\r\n500: Internal Server Error") and b"Server: Apache" in seen[0]
                assert seen[1].endswith(b"\r\n\r\n500: Internal Server Error")
            else:
                assert seen[0] == seen[1] and seen[0].startswith(b"HTTP/1.1 500"), (path, extra, seen)
    finally:
        await runner.cleanup()


async def test_the_access_log_of_serve_verbose_has_the_same_line_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`axisim serve -v` logs each request through aiohttp's AccessLogger: one line per request,
    the same on the lean path (which then writes every reply through aiohttp's own path)."""
    caplog.set_level(logging.INFO, logger="axisim")
    running = await start_device(make_device("S3008"), "127.0.0.1", 0, https_port=None, access_log=True)
    lines = []
    try:
        for lean in (True, False):
            caplog.clear()
            monkeypatch.setattr(device_runner, "LEAN", lean)
            wire = await Wire.open(running.port)
            await wire.send(request("GET", "/axis-cgi/param.cgi?action=list&group=root.Brand"))
            await wire.reply()
            wire.close()
            logged = [r.getMessage() for r in caplog.records if "GET /axis-cgi/param.cgi" in r.getMessage()]
            assert len(logged) == 1, logged
            lines.append(re.sub(r"\[[^\]]*\]|\d+\.\d+", "-", logged[0]))  # the time and the duration differ
    finally:
        await running.stop()
    assert lines[0] == lines[1] and '" 401 ' in lines[0], lines
