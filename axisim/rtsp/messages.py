"""RTSP/1.0 messages: a bounded request reader and the replies as Axis devices write them.

Bounds: a request head of at most `MAX_HEAD` bytes and `MAX_HEADERS` header lines, a body of at
most `MAX_BODY` bytes; what breaks them, or does not parse, is a `BadRequest` the connection answers
(400, 413, 505) before closing. Interleaved binary frames from the client (`$`, channel, length:
RTCP over TCP, RFC 2326 §10.12) are skipped between requests.

Replies follow the forms the `axis` library's line parser needs (events.md §3.4): `Name: value`
with one space, no header that names another (the client classifies lines by substring), and
head and body in one write (one TCP read is one response to it).
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_HEAD = 8192
MAX_HEADERS = 64
MAX_BODY = 65536
MAX_FRAME = 65535 + 4  # an interleaved frame: `$`, channel, 16-bit length
SERVER = "GStreamer RTSP server"  # what the device's RTSP server calls itself [REC-like, events.md §3.3]

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Large",
    451: "Parameter Not Understood",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


@dataclass(slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names; a repeated header: the last
    body: bytes = b""

    @property
    def cseq(self) -> str | None:
        return self.headers.get("cseq")


class BadRequest(Exception):
    """A request the device answers with `status` and then closes the connection."""

    def __init__(self, status: int, why: str, cseq: str | None = None) -> None:
        super().__init__(why)
        self.status = status
        self.cseq = cseq


def _cseq(value: str | None) -> str | None:
    """A CSeq worth echoing: digits only (it goes back into a header line)."""
    if value is None:
        return None
    value = value.strip()
    return value if value.isascii() and value.isdigit() and len(value) <= 10 else None


def parse_head(head: bytes) -> tuple[Request, int]:
    """The request line and headers; the body length it announces. BadRequest when malformed."""
    text = head.decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").split("\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if not sep or not name or any(c.isspace() for c in name) or not name.isascii():
            raise BadRequest(400, f"malformed header line {line[:40]!r}", _cseq(headers.get("cseq")))
        headers[name] = value.strip()
        if len(headers) > MAX_HEADERS:
            raise BadRequest(400, "too many headers", _cseq(headers.get("cseq")))
    cseq = _cseq(headers.get("cseq"))
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise BadRequest(400, "malformed request line", cseq)
    method, url, version = parts
    if not version.startswith("RTSP/"):
        raise BadRequest(400, "not an RTSP request", cseq)
    if version != "RTSP/1.0":
        raise BadRequest(505, f"version {version[:16]}", cseq)
    if not method.isascii() or not method.replace("_", "").isalpha() or not method.isupper():
        raise BadRequest(400, "malformed method", cseq)
    if cseq is None:
        raise BadRequest(400, "no CSeq")
    headers["cseq"] = cseq
    length_text = headers.get("content-length", "0")
    if not length_text.isascii() or not length_text.isdigit() or len(length_text) > 9:
        raise BadRequest(400, "malformed Content-Length", cseq)
    length = int(length_text)
    if length > MAX_BODY:
        raise BadRequest(413, "body too large", cseq)
    return Request(method, url, headers), length


class Reader:
    """Bytes in, whole requests out; skips interleaved frames; raises BadRequest on a bound."""

    __slots__ = ("_buffer", "_pending")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pending: tuple[Request, int] | None = None  # a head whose body is still arriving

    def feed(self, data: bytes) -> list[Request]:
        self._buffer += data
        requests: list[Request] = []
        while True:
            request = self._next()
            if request is None:
                return requests
            requests.append(request)

    def _next(self) -> Request | None:
        buffer = self._buffer
        if self._pending is None:
            while buffer[:1] == b"$":  # a binary frame from the client (RTCP): not ours to read
                if len(buffer) < 4:
                    return None
                size = 4 + int.from_bytes(buffer[2:4], "big")
                if len(buffer) < size:
                    return None
                del buffer[:size]
            while buffer[:2] == b"\r\n" or buffer[:1] == b"\n":  # blank lines between requests
                del buffer[: 2 if buffer[:1] == b"\r" else 1]
            end, gap = buffer.find(b"\r\n\r\n", 0, MAX_HEAD + 4), 4
            if end < 0:
                end, gap = buffer.find(b"\n\n", 0, MAX_HEAD + 2), 2
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise BadRequest(400, "request head too large")
                return None
            if end > MAX_HEAD:
                raise BadRequest(400, "request head too large")
            head = bytes(buffer[:end])
            del buffer[: end + gap]
            self._pending = parse_head(head)
        request, length = self._pending
        if len(buffer) < length:
            return None
        request.body = bytes(buffer[:length])
        del buffer[:length]
        self._pending = None
        return request


def reply(status: int, cseq: str | None, headers: Sequence[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    """One response, head and body together (events.md §3.3 order: CSeq first, Server and Date last)."""
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}"]
    if cseq is not None:
        lines.append(f"CSeq: {cseq}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append(f"Server: {SERVER}")
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
