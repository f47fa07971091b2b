"""The Python load generator (where neither wrk nor the C client of bench/cclient.c is used), run
as its own process so it never shares an event loop with a server: N workers, each one keep-alive
request at a time, for a fixed duration or a fixed number of requests.

    python -m bench.client < spec.json > result.json

spec: {"targets": [{"method", "url", "headers", "body"}...], "connections": 16, "duration": 3.0,
"requests": null, "seed": "bench", "engine": "aiohttp"}; each request picks a target at random
(seeded per worker). Engines: "aiohttp" (a ClientSession) and "raw" (pre-encoded requests on
asyncio protocols: about three times less client CPU per request, so a fast server, not the
client, sets the pace)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Prepared:
    """A target parsed (and, for the raw engine, encoded) once, so the client spends its time on requests."""

    method: str
    url: URL
    headers: dict[str, str]
    body: bytes | None
    address: tuple[str, int]
    raw: bytes  # the whole HTTP/1.1 request


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0
    remaining: int | None = None  # a fixed request count, shared by the workers


def prepare(target: dict[str, Any]) -> Prepared:
    body = target["body"].encode() if target.get("body") is not None else None
    parts = urlsplit(target["url"])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = dict(target.get("headers") or {})
    lines = [f"{target['method']} {uri} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    return Prepared(target["method"], URL(target["url"], encoded=True), headers, body, (host, port), raw)


Sender = Callable[[Prepared], Awaitable[int]]  # one request, its reply's status


class RawConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: write a request, parse the reply (Content-Length or chunked)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    async def exchange(self, request: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            status = self._parse()
        except ValueError as exc:
            self.reusable = False
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(exc)
            return
        if status is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def _parse(self) -> int | None:
        """The status of a complete reply (removed from the buffer), None while it is incomplete."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).decode("latin-1").lower().split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
        start = end + 4
        if "content-length" in fields:
            stop = start + int(fields["content-length"])
        elif fields.get("transfer-encoding", "").strip() == "chunked":
            found = self._chunked_end(start)
            if found is None:
                return None
            stop = found
        else:
            raise ValueError("a reply without Content-Length or chunked encoding")
        if len(self.buffer) < stop:
            return None
        del self.buffer[:stop]
        if fields.get("connection", "").strip() == "close":
            self.reusable = False
        return status

    def _chunked_end(self, position: int) -> int | None:
        while True:
            line_end = self.buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[position:line_end]).split(b";")[0], 16)
            position = line_end + 2 + size + 2
            if size == 0:
                return position if len(self.buffer) >= position else None
            if len(self.buffer) < position:
                return None


class RawPool:
    """Idle connections per address, shared by the workers (as aiohttp's connector pools them)."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, int], list[RawConnection]] = {}

    async def send(self, target: Prepared) -> int:
        idle = self.idle.setdefault(target.address, [])
        if idle:
            connection = idle.pop()
        else:
            loop = asyncio.get_running_loop()
            _, connection = await loop.create_connection(RawConnection, *target.address)
        try:
            status = await connection.exchange(target.raw)  # no timer per request: see load()
        except BaseException:
            connection.reusable = False
            raise
        finally:
            if not connection.reusable and connection.transport is not None:
                connection.transport.close()
        if connection.reusable:
            idle.append(connection)
        return status

    def close(self) -> None:
        for connections in self.idle.values():
            for connection in connections:
                if connection.transport is not None:
                    connection.transport.close()


async def worker(send: Sender, targets: list[Prepared], rng: random.Random, deadline: float, tally: Tally) -> None:
    """Requests back to back until the deadline (or the shared count runs out)."""
    clock = time.perf_counter
    while clock() < deadline:
        if tally.remaining is not None:
            if tally.remaining <= 0:
                return
            tally.remaining -= 1
        target = targets[rng.randrange(len(targets))] if len(targets) > 1 else targets[0]
        started = clock()
        try:
            status = await send(target)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
            tally.socket_errors += 1
            continue
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        tally.latencies.append(clock() - started)


def percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def load(spec: dict[str, Any], send: Sender, targets: list[Prepared]) -> dict[str, Any]:
    connections = int(spec.get("connections", 16))
    requests = spec.get("requests")
    duration = float(spec.get("duration", 3.0)) if requests is None else float(spec.get("duration", 600.0))
    tally = Tally(remaining=int(requests) if requests is not None else None)
    seed = spec.get("seed", "bench")
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + duration
    workers = [
        asyncio.create_task(worker(send, targets, random.Random(f"{seed}:{number}"), deadline, tally))
        for number in range(connections)
    ]
    _, hung = await asyncio.wait(workers, timeout=duration + REQUEST_TIMEOUT)
    for task in hung:  # a request still unanswered REQUEST_TIMEOUT after the end: an error
        task.cancel()
        tally.socket_errors += 1
    await asyncio.gather(*workers, return_exceptions=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    ordered = sorted(tally.latencies)
    p50, p99 = percentile(ordered, 0.50), percentile(ordered, 0.99)
    return {
        "requests": sum(tally.statuses.values()),
        "seconds": seconds,
        "non2xx": sum(count for status, count in tally.statuses.items() if not 200 <= status < 300),
        "socket_errors": tally.socket_errors,
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "p50_ms": p50 * 1000 if p50 is not None else None,
        "p99_ms": p99 * 1000 if p99 is not None else None,
        "cpu_s": cpu,
    }


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    targets = [prepare(target) for target in spec["targets"]]
    if spec.get("engine", "aiohttp") == "raw":
        pool = RawPool()
        try:
            return await load(spec, pool.send, targets)
        finally:
            pool.close()
    connector = aiohttp.TCPConnector(limit=int(spec.get("connections", 16)), limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:

        async def send(target: Prepared) -> int:
            async with session.request(target.method, target.url, headers=target.headers, data=target.body) as reply:
                await reply.read()
                return reply.status

        return await load(spec, send, targets)


def main() -> None:
    spec = json.load(sys.stdin)
    print(json.dumps(asyncio.run(run(spec))), flush=True)


if __name__ == "__main__":
    main()
