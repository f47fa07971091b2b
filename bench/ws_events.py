"""Benchmark 7: events over WebSocket at fleet scale (issue 18).

`--fleet-size` (1000) W401s in one server process (bench/ws_serve.py), one WebSocket subscriber
each, set up as the `axis` library does it (wssession.cgi token with Digest, upgrade, configure:
here the virtual input topic with a content filter on port 1). The server's driver then makes
every device emit one event per second (virtual input 1 on and off, the call a control-API
stimulus makes) for a bounded time. Measured in this process (the client): delivered/expected,
p50/p99 latency from the stimulus (the notification's millisecond timestamp, taken when the
device publishes) to the client; from /proc: server CPU per event. Then 10,000 more subscriptions
(10 per device, Digest on the upgrade, one property filter) sit idle: server RSS per subscription.

Baseline, same run, same client: as many bare aiohttp apps with one WebSocket route each, the
same `events:notify` text (a fresh timestamp) sent to each app's clients by the same driver.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp

from axisim.digest_client import authorization

from .child import raise_file_limit
from .report import Row
from .servers import BenchError, ServerProcess

IDLE = 10_000  # idle subscriptions for the memory figure
RATE = 1.0  # events per device per second
MIN_SECONDS = 5.0
TARGET_P99_MS = 50.0
TARGET_IDLE_KB = 20.0
CONCURRENCY = 100  # connections set up at a time
STREAM = "/vapix/ws-data-stream?sources=events"
PORT_ONE = 'boolean(//SimpleItem[@Name="port" and @Value="1"])'
SUBSCRIBE = [{"topicFilter": "tns1:Device/tnsaxis:IO/VirtualInput", "contentFilter": PORT_ONE}]
IDLE_FILTER = [{"topicFilter": "tns1:Device/tnsaxis:Status/SystemReady"}]


def _configure(filters: list[dict[str, str]]) -> str:
    return json.dumps({"apiVersion": "1.0", "context": "bench", "method": "events:configure",
                       "params": {"eventFilterList": filters}})  # fmt: skip


class Client:
    """The subscribers of one run, and what they received."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.axisim = info["kind"] == "axisim"
        self.latencies: list[float] = []
        self.errors = 0
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.readers: list[asyncio.Task[None]] = []
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True), timeout=aiohttp.ClientTimeout(total=60)
        )

    async def _token(self, url: str) -> str:
        async with self.session.get(url + "/axis-cgi/wssession.cgi") as first:
            challenge = first.headers.get("WWW-Authenticate", "")
        header = authorization(challenge, user=self.info["username"], password=self.info["password"], method="GET",
                               uri="/axis-cgi/wssession.cgi")  # fmt: skip
        async with self.session.get(url + "/axis-cgi/wssession.cgi", headers={"Authorization": header}) as reply:
            if reply.status != 200:
                raise BenchError(f"wssession.cgi answered {reply.status}")
            return (await reply.text()).strip()

    async def _digest(self, url: str) -> dict[str, str]:
        """A Digest header for the upgrade itself, replayed by every idle subscription of a device."""
        try:
            await self.session.ws_connect(url.replace("http", "ws", 1) + STREAM)
        except aiohttp.WSServerHandshakeError as refused:
            challenge = (refused.headers or {}).get("WWW-Authenticate", "")
            user, password = self.info["username"], self.info["password"]
            return {"Authorization": authorization(challenge, user=user, password=password, method="GET", uri=STREAM)}
        raise BenchError("the upgrade was served without authentication")

    async def subscribe(self, url: str, filters: list[dict[str, str]], headers: dict[str, str] | None,
                        initial: int, read: bool) -> None:  # fmt: skip
        target = url.replace("http", "ws", 1) + STREAM
        if self.axisim and headers is None:
            target += f"&wssession={await self._token(url)}"
        ws = await self.session.ws_connect(target, headers=headers or {}, max_msg_size=0)
        await ws.send_str(_configure(filters))
        for _ in range(1 + (initial if self.axisim else 0)):  # the reply, then the initial states
            message = await ws.receive(30)
            if message.type is not aiohttp.WSMsgType.TEXT or "error" in message.json():
                raise BenchError(f"configure failed: {message}")
        self.sockets.append(ws)
        if read:
            self.readers.append(asyncio.get_running_loop().create_task(self._read(ws)))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                received = time.time() * 1000
                notification = json.loads(message.data)["params"]["notification"]
                self.latencies.append(received - notification["timestamp"])
            else:
                self.errors += 1

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await self.session.close()


async def _bounded(jobs: list[Any]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(job: Any) -> None:
        async with gate:
            await job

    await asyncio.gather(*(run(job) for job in jobs))


def _ask(server: ServerProcess, command: str, timeout: float = 120.0) -> dict[str, Any]:
    process = server.process
    assert process is not None and process.stdin is not None and process.stdout is not None
    process.stdin.write(command + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise BenchError(f"the server died during {command!r}")
    return dict(json.loads(line))


async def _run(server: ServerProcess, seconds: float) -> dict[str, Any]:
    client = Client(server.info)
    urls = server.info["urls"]
    try:
        await _bounded([client.subscribe(url, SUBSCRIBE, None, 1, True) for url in urls])
        cpu_before = server.cpu_seconds() or 0.0
        emitted = (await asyncio.to_thread(_ask, server, f"drive {seconds} {RATE}"))["emitted"]
        for _ in range(200):  # up to 2 s for the last ones in flight
            if len(client.latencies) >= emitted:
                break
            await asyncio.sleep(0.01)
        cpu = (server.cpu_seconds() or 0.0) - cpu_before
        latencies = sorted(client.latencies)
        before = await asyncio.to_thread(_ask, server, "rss")
        headers = {url: await client._digest(url) for url in urls} if client.axisim else {}
        per_device = IDLE // len(urls)
        await _bounded([client.subscribe(url, IDLE_FILTER, headers.get(url), 1, False)
                        for url in urls for _ in range(per_device)])  # fmt: skip
        after = await asyncio.to_thread(_ask, server, "rss")
        return {
            "emitted": emitted, "delivered": len(latencies), "errors": client.errors,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
            "cpu_per_event": cpu / max(1, len(latencies)),
            "idle": after["streams"] - before["streams"],
            "idle_bytes": (after["rss"] - before["rss"]) / max(1, after["streams"] - before["streams"]),
        }  # fmt: skip
    finally:
        await client.close()


def _measure(kind: str, size: int, seconds: float) -> dict[str, Any]:
    with ServerProcess("bench.ws_serve", kind, "--size", str(size), timeout=180) as server:
        return asyncio.run(_run(server, seconds))


def ws_events(size: int, duration: float) -> list[Row]:
    raise_file_limit(size + IDLE + 1024)
    seconds = max(MIN_SECONDS, duration)
    ours = _measure("axisim", size, seconds)
    base = _measure("bare", size, seconds)
    lost = ours["emitted"] - ours["delivered"]
    errors = ours["errors"] + base["errors"]
    return [
        Row(
            "7", f"{size:,} devices x 1 WebSocket subscriber, 1 event/s each, {seconds:g} s: delivered",
            f"{ours['delivered']:,}/{ours['emitted']:,}", f"{base['delivered']:,}/{base['emitted']:,}",
            ours["delivered"] / max(1, ours["emitted"]), "nothing lost", lost == 0, errors=errors,
            note="stimulus: virtual input 1 on/off in the server process; subscribers: token, upgrade, "
            "configure with a topic and content filter, in the bench process",
        ),
        Row(
            "7", "  latency stimulus -> client, p50", f"{ours['p50']:.1f} ms", f"{base['p50']:.1f} ms",
            ours["p50"] / base["p50"] if base["p50"] else None,
        ),
        Row(
            "7", "  latency stimulus -> client, p99", f"{ours['p99']:.1f} ms", f"{base['p99']:.1f} ms",
            ours["p99"] / base["p99"] if base["p99"] else None, f"< {TARGET_P99_MS:g} ms",
            ours["p99"] < TARGET_P99_MS,
            note="latency: the client's clock minus the notification's millisecond timestamp (0-1 ms truncation)",
        ),
        Row(
            "7", "  server CPU per event delivered", f"{ours['cpu_per_event'] * 1e6:.0f} µs",
            f"{base['cpu_per_event'] * 1e6:.0f} µs", ours["cpu_per_event"] / max(1e-12, base["cpu_per_event"]),
        ),
        Row(
            "7", f"  memory per idle subscription ({ours['idle']:,} open)", f"{ours['idle_bytes'] / 1024:.1f} KB",
            f"{base['idle_bytes'] / 1024:.1f} KB", ours["idle_bytes"] / max(1.0, base["idle_bytes"]),
            f"< {TARGET_IDLE_KB:g} KB", ours["idle_bytes"] / 1024 < TARGET_IDLE_KB,
            note="server RSS after 10 more subscriptions per device (Digest on the upgrade, SystemReady), "
            "divided by their number",
        ),
    ]  # fmt: skip
