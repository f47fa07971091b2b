"""A raw RTSP client for the tests: requests written byte for byte, replies read as sent, RTP over
UDP or interleaved on the connection, Digest answered as the `axis` library (RFC 2069) or curl
(qop=auth) answers it. Every read is bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import struct
from dataclasses import dataclass, field

from axisim.auth import parse_digest_params
from axisim.digest_client import authorization

TIMEOUT = 5.0
STREAM = "/axis-media/media.amp?video=0&audio=0&event=on"


@dataclass
class Reply:
    status: int
    reason: str
    headers: dict[str, str]
    lines: list[str]  # the head's lines as sent
    body: bytes = b""
    raw: bytes = b""

    @property
    def session(self) -> str:
        return self.headers.get("session", "").partition(";")[0]


@dataclass
class Packet:
    marker: bool
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes
    version: int = 2
    extra: dict[str, int] = field(default_factory=dict)


def rtp(packet: bytes) -> Packet:
    first, second, seq, stamp, ssrc = struct.unpack("!BBHII", packet[:12])
    return Packet(bool(second & 0x80), second & 0x7F, seq, stamp, ssrc, packet[12:], first >> 6)


def rfc2069(challenge: str, user: str, password: str, method: str, uri: str) -> str:
    """The `axis` library's answer: no qop, nc or cnonce (events.md §3.2)."""
    params = parse_digest_params(challenge.partition(" ")[2])
    ha1 = hashlib.md5(f"{user}:{params['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{params['nonce']}:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{user}", realm="{params["realm"]}", algorithm="MD5", nonce="{params["nonce"]}", '
        f'uri="{uri}", response="{response}"'
    )


class RtspWire:
    """One connection. `request()` sends and reads the reply; interleaved frames read meanwhile are kept."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, base: str) -> None:
        self.reader = reader
        self.writer = writer
        self.base = base  # rtsp://host:port
        self.cseq = 0
        self.frames: list[tuple[int, bytes]] = []
        self.challenge = ""

    @classmethod
    async def open(cls, host: str, port: int) -> RtspWire:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
        return cls(reader, writer, f"rtsp://{host}:{port}")

    @property
    def url(self) -> str:
        return self.base + STREAM

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), TIMEOUT)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(
        self, method: str, url: str | None = None, headers: dict[str, str] | None = None, body: bytes = b"",
        auth: tuple[str, str] | None = None, style: str = "rfc2069", uri: str | None = None,
    ) -> Reply:  # fmt: skip
        """One request; with `auth`, the 401's challenge is answered and the request sent again (the
        digest `uri` is `uri`, else the request URL)."""
        url = url or self.url
        reply = await self._send(method, url, headers or {}, body)
        if reply.status != 401 or auth is None:
            return reply
        self.challenge = reply.headers["www-authenticate"]
        answer = (
            rfc2069(self.challenge, auth[0], auth[1], method, uri or url) if style == "rfc2069"
            else authorization(self.challenge, user=auth[0], password=auth[1], method=method, uri=uri or url)
        )  # fmt: skip
        return await self._send(method, url, {**(headers or {}), "Authorization": answer}, body)

    async def _send(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Reply:
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: axisim-tests"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.cseq += 1
        await self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return await self.read_reply()

    async def read_reply(self) -> Reply:
        """The next reply; interleaved frames before it are kept in `frames`."""
        while True:
            first = await asyncio.wait_for(self.reader.readexactly(1), TIMEOUT)
            if first == b"$":
                await self._frame()
                continue
            head = first + await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            break
        text = head.decode()
        lines = text.split("\r\n")[:-2]
        version, status, reason = lines[0].split(" ", 2)
        assert version == "RTSP/1.0", lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(": ")
            headers[name.lower()] = value
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT) if length else b""
        return Reply(int(status), reason, headers, lines, body, head + body)

    async def _frame(self) -> None:
        channel, size = struct.unpack("!BH", await asyncio.wait_for(self.reader.readexactly(3), TIMEOUT))
        self.frames.append((channel, await asyncio.wait_for(self.reader.readexactly(size), TIMEOUT)))

    async def next_frame(self) -> tuple[int, bytes]:
        """The next interleaved frame (one kept earlier first)."""
        if self.frames:
            return self.frames.pop(0)
        marker = await asyncio.wait_for(self.reader.readexactly(1), TIMEOUT)
        assert marker == b"$", marker
        await self._frame()
        return self.frames.pop(0)

    async def closed_by_peer(self) -> bool:
        """The device closed the connection (EOF within the timeout)."""
        try:
            rest = await asyncio.wait_for(self.reader.read(), TIMEOUT)
        except ConnectionError:
            return True
        return rest is not None


class UdpSink(asyncio.DatagramProtocol):
    """The client's RTP port: datagrams in a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)

    @classmethod
    async def open(cls, host: str = "127.0.0.1") -> tuple[UdpSink, int]:
        loop = asyncio.get_running_loop()
        transport, sink = await loop.create_datagram_endpoint(cls, local_addr=(host, 0))
        # the default receive buffer (208 KiB, about 92 small datagrams): the initial states (about
        # 95 on a W401) must arrive paced, as a client that sets no buffer size gets them
        return sink, transport.get_extra_info("sockname")[1]

    async def packet(self) -> Packet:
        return rtp(await asyncio.wait_for(self.queue.get(), TIMEOUT))

    async def document(self) -> tuple[list[Packet], bytes]:
        """The packets of the next whole document (up to the marker) and the document."""
        packets = [await self.packet()]
        while not packets[-1].marker:
            assert len(packets) < 64
            packets.append(await self.packet())
        return packets, b"".join(p.payload for p in packets)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
