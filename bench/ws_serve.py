"""The server subprocess of benchmark 7: N devices (or N bare aiohttp WebSocket listeners) in one
process, each on its own free port, and a stimulus driver.

    python -m bench.ws_serve axisim --size 1000
    python -m bench.ws_serve bare --size 1000

Prints one JSON line (every listener's URL and credentials), then answers one JSON line per
command line on stdin, until stdin closes:

- `drive <seconds> <rate>`: every device emits `rate` events per second for `seconds`, spread
  evenly (axisim: virtual input 1 activated / deactivated, the call a stimulus makes; bare: the same
  `events:notify` text sent to the listener's clients); answers `{"emitted": n}`;
- `rss`: answers `{"rss": bytes, "streams": open WebSocket streams}` after a full collection.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .child import raise_file_limit, rss_bytes

HOST = "127.0.0.1"
TICK = 0.005  # seconds: the driver fires what is due every 5 ms
VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"


async def _drive(size: int, seconds: float, rate: float, fire: Callable[[int], None]) -> int:
    """`rate` events per device per second for `seconds`, device after device, evenly spread."""
    loop = asyncio.get_running_loop()
    total, interval = int(seconds * rate * size), 1.0 / (rate * size)
    started, fired = loop.time(), 0
    while fired < total:
        due = min(total, int((loop.time() - started) / interval) + 1)
        while fired < due:
            fire(fired % size)
            fired += 1
        await asyncio.sleep(TICK)
    return fired


class Bare:
    """N bare aiohttp apps with one WebSocket route each: accept, read the configure, answer it,
    then send what the driver gives (the baseline)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.clients: list[list[web.WebSocketResponse]] = [[] for _ in range(size)]
        self.runners: list[web.AppRunner] = []
        self.urls: list[str] = []
        self.flips = [False] * size
        self.pending: set[asyncio.Future[None]] = set()

    def _handler(self, index: int) -> Callable[[web.Request], Any]:
        async def stream(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await ws.send_str(json.dumps({"apiVersion": "1.0", "method": "events:configure", "data": {}}))
                    self.clients[index].append(ws)
            if ws in self.clients[index]:
                self.clients[index].remove(ws)
            return ws

        return stream

    async def start(self) -> None:
        for index in range(self.size):
            app = web.Application()
            app.router.add_get("/vapix/ws-data-stream", self._handler(index))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, HOST, 0)
            await site.start()
            self.runners.append(runner)
            self.urls.append(f"http://{HOST}:{site._server.sockets[0].getsockname()[1]}")  # type: ignore[union-attr]

    def fire(self, index: int) -> None:
        self.flips[index] = not self.flips[index]
        text = json.dumps(
            {"apiVersion": "1.0", "method": "events:notify", "params": {"notification": {
                "timestamp": int(time.time() * 1000), "topic": VIRTUAL_INPUT,
                "message": {"source": {"port": "1"}, "key": {}, "data": {"active": "1" if self.flips[index] else "0"}},
            }}}, separators=(",", ":"),
        )  # fmt: skip
        for ws in self.clients[index]:
            task = asyncio.ensure_future(ws.send_str(text))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    def streams(self) -> int:
        return sum(len(c) for c in self.clients)

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


class Devices:
    """N W401s started the way `axisim fleet` starts them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.fleet: Any = None
        self.urls: list[str] = []
        self.flips = [False] * size

    async def start(self) -> None:
        from axisim.fleet import Fleet
        from axisim.fleet_plan import Addressing, Group, make_plan

        plan = make_plan([Group("W401", self.size)], seed="bench", addressing=Addressing("ports", HOST, 0))
        self.fleet = Fleet.from_plan(plan)
        await self.fleet.start()
        gc.collect()
        gc.freeze()  # as `axisim fleet` does once its devices are up
        self.urls = [device.url for device in self.fleet.devices]
        self.inputs = [device.device.subsystems["virtualinput"] for device in self.fleet.devices]

    def fire(self, index: int) -> None:
        self.flips[index] = not self.flips[index]
        inputs = self.inputs[index]
        inputs.activate(1) if self.flips[index] else inputs.deactivate(1)

    def streams(self) -> int:
        from cgi_handlers.event_stream import hub_of

        return sum(len(hub_of(device.device).streams) for device in self.fleet.devices)

    async def stop(self) -> None:
        await self.fleet.stop()


async def main(kind: str, size: int) -> None:
    raise_file_limit(size * 16)
    server: Bare | Devices = Bare(size) if kind == "bare" else Devices(size)
    await server.start()
    print(json.dumps({"kind": kind, "urls": server.urls, "username": "root", "password": "pass"}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(sys.stdin.fileno(), "rb", 0))
    try:
        while line := (await reader.readline()).decode().split():
            if line[0] == "drive":
                emitted = await _drive(size, float(line[1]), float(line[2]), server.fire)
                answer: dict[str, Any] = {"emitted": emitted}
            else:
                answer = {"rss": rss_bytes(), "streams": server.streams()}
            print(json.dumps(answer), flush=True)
    finally:
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.ws_serve")
    parser.add_argument("kind", choices=["axisim", "bare"])
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.kind, args.size))
