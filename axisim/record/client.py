"""The recorder's HTTP side: one aiohttp ClientSession, Digest or Basic as the device asks, bounded.

Every request is sent as its `Call` says, with the request-target exactly as planned (the Digest
`uri` hashes it). After the first challenge the client answers preemptively (Digest with a rising
nonce count, or Basic), so most calls are one request; a 401 on a known nonce (stale) is answered
once more with the new challenge. Each reply keeps the status, the headers that matter, the body
bytes exactly (up to `max_body`) and the elapsed time; a timeout, a connection error, an oversized
body or a status >= 500 is a failed reply, never an exception.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass

import aiohttp
import yarl

from ..auth import parse_digest_params
from ..digest_client import authorization
from .plan import Call, is_read_only

KEPT_HEADERS = ("Content-Type", "Server", "WWW-Authenticate", "Content-Disposition")
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # a listdefinitions of a big camera is ~1.5 MB
USER_AGENT = "axisim-record"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int  # 0: no reply (timeout, connection error)
    headers: dict[str, str]  # KEPT_HEADERS present in the reply
    body: bytes
    elapsed_ms: float
    failed: str | None = None  # why the call failed (timeout, connection error, status >= 500, too large)
    authenticated: bool = True  # False: answered without credentials (an anonymous request)


class RecordingClient:
    """`async with RecordingClient(url, user, password) as client: reply = await client.send(call)`."""

    def __init__(
        self, base_url: str, user: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S,
        max_body: int = DEFAULT_MAX_BODY, verify_tls: bool = True,
    ) -> None:  # fmt: skip
        self.base = yarl.URL(base_url.rstrip("/"))
        self.user, self.password = user, password
        self.timeout, self.max_body = timeout, max_body
        self.ssl: bool | None = None if verify_tls else False
        self.challenge = ""  # the first WWW-Authenticate the device sent (kept for the fixture)
        self._digest: dict[str, str] | None = None
        self._digest_header = ""
        self._basic = False
        self._nc = 0
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0  # requests on the wire (401 challenges included)

    async def __aenter__(self) -> RecordingClient:
        self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}, auto_decompress=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _url(self, call: Call) -> yarl.URL:
        return yarl.URL(str(self.base) + call.target, encoded=True)

    def _authorization(self, call: Call) -> str | None:
        if self._basic:
            return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if self._digest is None:
            return None
        self._nc += 1
        return authorization(
            self._digest_header, user=self.user, password=self.password, method=call.method,
            uri=self._url(call).raw_path_qs, nc=self._nc,
        )  # fmt: skip

    def _learn(self, challenges: list[str]) -> bool:
        """Take the Digest (MD5) challenge, else Basic; False when neither is offered."""
        for header in challenges:
            scheme, _, rest = header.partition(" ")
            if scheme.lower() == "digest" and parse_digest_params(rest).get("algorithm", "MD5").upper() == "MD5":
                self._digest, self._digest_header, self._nc = parse_digest_params(rest), "Digest " + rest, 0
                self._basic = False
                return True
        if any(h.partition(" ")[0].lower() == "basic" for h in challenges):
            self._basic, self._digest = True, None
            return True
        return False

    def _scheme(self) -> str | None:
        """What the next request answers with: "basic", the Digest nonce, or None (nothing yet)."""
        if self._basic:
            return "basic"
        return self._digest.get("nonce") if self._digest is not None else None

    def _answerable(self, used: str | None, challenges: list[str]) -> bool:
        """A 401 worth one more try: the first challenge, or a new nonce (the old one went stale).
        The same nonce refused again means the credentials are wrong: no retry."""
        if used is None or (used != "basic" and _nonce(challenges) not in (None, used)):
            return self._learn(challenges)
        return False

    async def send(self, call: Call) -> Reply:
        """The device's answer to `call`; a read-only call only (checked again here)."""
        if not is_read_only(call.operation):  # a Call cannot be made otherwise; kept as the last guard
            raise ValueError(f"refusing to send {call.operation!r}: not read-only")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                used = self._scheme()
                status, headers, body, challenges = await self._request(call)
                if status == 401 and self._answerable(used, challenges):
                    self.challenge = self.challenge or challenges[0]
                    started = time.perf_counter()
                    status, headers, body, challenges = await self._request(call)
        except TimeoutError:
            return Reply(0, {}, b"", _ms(started), "timeout")
        except _TooLarge:
            return Reply(0, {}, b"", _ms(started), f"body larger than {self.max_body} bytes")
        except (aiohttp.ClientError, OSError) as exc:
            return Reply(0, {}, b"", _ms(started), f"connection error: {type(exc).__name__}")
        failed = f"HTTP {status}" if status >= 500 else None
        return Reply(status, headers, body, _ms(started), failed, self._scheme() is not None)

    async def _request(self, call: Call) -> tuple[int, dict[str, str], bytes, list[str]]:
        assert self._session is not None, "use `async with RecordingClient(...)`"
        headers: dict[str, str] = {}
        if call.content_type:
            headers["Content-Type"] = call.content_type
        login = self._authorization(call)
        if login:
            headers["Authorization"] = login
        data = call.body.encode() if call.body else None
        self.sent += 1
        async with self._session.request(
            call.method, self._url(call), headers=headers, data=data, ssl=self.ssl, allow_redirects=False
        ) as response:
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > self.max_body:
                    raise _TooLarge
            kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
            return response.status, kept, bytes(body), response.headers.getall("WWW-Authenticate", [])


class _TooLarge(Exception):
    pass


def _nonce(challenges: list[str]) -> str | None:
    for header in challenges:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() == "digest":
            return parse_digest_params(rest).get("nonce")
    return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
