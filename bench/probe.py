"""Single requests from the benchmark process: check a reply before measuring it, and answer a
device's Digest challenge once so the load generator can replay the header (the device accepts a
replayed nc for the nonce's 300 s unless it is strict)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

from axisim.digest_client import authorization

from .servers import BenchError

TIMEOUT = aiohttp.ClientTimeout(total=30)
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """One request the load generator may send (the same shape for wrk and the aiohttp client)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    @property
    def uri(self) -> str:
        """Path and query: what a Digest header's `uri=` must repeat."""
        rest = self.url.split("://", 1)[1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes


async def fetch(session: aiohttp.ClientSession, target: Target) -> Reply:
    data = target.body.encode() if target.body is not None else None
    async with session.request(target.method, target.url, headers=target.headers, data=data) as response:
        return Reply(response.status, response.headers.copy(), await response.read())


async def challenge(session: aiohttp.ClientSession, target: Target) -> str:
    """The `WWW-Authenticate` of the 401 that `target` (sent without credentials) must get."""
    headers = {name: value for name, value in target.headers.items() if name.lower() != "authorization"}
    reply = await fetch(session, Target(target.method, target.url, headers, target.body))
    header = reply.headers.get("WWW-Authenticate", "")
    if reply.status != 401 or not header.startswith("Digest "):
        raise BenchError(f"{target.method} {target.url}: expected a 401 Digest challenge, got {reply.status}")
    return header


def with_digest(target: Target, challenge_header: str, user: str = "root", password: str = "pass") -> Target:
    """`target` with a precomputed Digest Authorization answering `challenge_header`."""
    header = authorization(challenge_header, user=user, password=password, method=target.method, uri=target.uri)
    return Target(target.method, target.url, {**target.headers, "Authorization": header}, target.body)


async def expect(session: aiohttp.ClientSession, target: Target, starts: bytes = b"", contains: bytes = b"") -> Reply:
    """Send `target` once; BenchError unless it is a 200 whose body starts with / contains what is given."""
    reply = await fetch(session, target)
    if reply.status != 200 or not reply.body.startswith(starts) or contains not in reply.body:
        raise BenchError(
            f"{target.method} {target.url}: expected 200 with {starts or contains!r}, "
            f"got {reply.status} {reply.body[:120]!r}"
        )
    return reply


def probe(work: Callable[[aiohttp.ClientSession], Awaitable[T]], limit: int = 64) -> T:
    """Run `work` with a fresh client session (at most `limit` connections) in its own event loop."""

    async def go() -> T:
        connector = aiohttp.TCPConnector(limit=limit)
        async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
            return await work(session)

    return asyncio.run(go())
