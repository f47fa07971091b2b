"""A WebSocket event stream client written the way a real client is (events.md §2): token from
wssession.cgi (Digest), upgrade with `&wssession=`, `events:configure`, then `events:notify`; a
stalled client for the slow-subscriber tests; a W401 and a C1410 Mk II with the control API.
Shared by test_ws_events.py (the wire) and test_ws_streams.py (many, slow, faulted, closed streams).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from axisim.simulated import SimulatedDevice
from tests.conftest import digest_request
from tests.test_control import SPEAKER_AND_KIT, Control, controlled

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


@contextlib.asynccontextmanager
async def control_api() -> AsyncIterator[Control]:
    """A W401 (index 0) and a C1410 Mk II (index 1) on free ports, with the control API; open
    streams end with the fleet, they do not hold it up."""
    async with controlled(*SPEAKER_AND_KIT) as running:
        yield running


async def streams(control: Control, device: int) -> list[dict[str, Any]]:
    return (await control.ok("GET", f"/devices/{device}/journal/streams"))["streams"]
