"""Fleet subprocesses for benchmarks 4 and 5: N simulated devices, or N bare aiohttp listeners
(or N plain asyncio listeners, the floor of bench/where.py), in one process, each on its own free port.

    python -m bench.fleetserve axisim --size 1000 --mix S3008,S3016,S4000,C1410MkII,W401
    python -m bench.fleetserve bare --size 1000

Prints one JSON line (timings, resident memory, every device's URL and credentials), then
serves until stdin closes, so the parent's client can check every device."""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports, so their cost can be reported

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402

from aiohttp import web  # noqa: E402

from .child import announce_and_wait, raise_file_limit, rss_bytes  # noqa: E402

HOST = "127.0.0.1"
SPARE_FILES = 512
BARE_BODY = b"OK\n"


async def axisim_fleet(size: int, mix: str) -> None:
    """Start a mixed fleet the way `axisim fleet` does, measuring time and memory per device."""
    from axisim.fleet import Fleet
    from axisim.fleet_plan import Addressing, Group, make_plan, parse_mix
    from axisim.model import load_model

    imported = time.perf_counter()
    counts = parse_mix(mix, size)
    for model, _count in counts:
        load_model(model)
    loaded = time.perf_counter()
    rss_before = rss_bytes()  # models loaded: what every device shares is not counted per device
    begun = time.perf_counter()
    plan = make_plan(
        [Group(model, count) for model, count in counts], seed="bench", addressing=Addressing("ports", HOST, 0)
    )
    fleet = Fleet.from_plan(plan)
    built = time.perf_counter()
    await fleet.start()
    gc.freeze()  # as `axisim fleet` does once its devices listen
    ready = time.perf_counter()
    rss_after = rss_bytes()
    devices = [
        {"url": d.url, "username": d.username, "password": d.password, "serial": d.serial, "model": d.spec.model}
        for d in fleet.devices
    ]
    try:
        await announce_and_wait(
            {
                "kind": "axisim", "size": size, "import_s": imported - STARTED, "models_s": loaded - imported,
                "build_s": built - begun, "start_s": ready - begun, "rss_before": rss_before, "rss_after": rss_after,
                "per_device_bytes": (rss_after - rss_before) / size, "devices": devices,
            }
        )  # fmt: skip
    finally:
        await fleet.stop()


async def bare_fleet(size: int) -> None:
    """The baseline: N aiohttp apps, one AppRunner and TCPSite each, one route for every path."""

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=BARE_BODY, content_type="text/plain")

    raise_file_limit(size + SPARE_FILES)
    imported = time.perf_counter()
    rss_before = rss_bytes()
    begun = time.perf_counter()
    runners: list[web.AppRunner] = []
    try:
        for _ in range(size):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, HOST, 0).start()
        ready = time.perf_counter()
        rss_after = rss_bytes()
        devices = [
            {"url": f"http://{HOST}:{runner.addresses[0][1]}", "serial": f"BARE{index:08d}"}
            for index, runner in enumerate(runners)
        ]
        await announce_and_wait(
            {
                "kind": "bare", "size": size, "import_s": imported - STARTED, "models_s": 0.0, "build_s": 0.0,
                "start_s": ready - begun, "rss_before": rss_before, "rss_after": rss_after,
                "per_device_bytes": (rss_after - rss_before) / size, "devices": devices,
            }
        )  # fmt: skip
    finally:
        for runner in runners:
            await runner.cleanup()


class _FloorConnection(asyncio.Protocol):
    """The least an HTTP/1.1 keep-alive server can do per request: find the head's end and the
    Content-Length, skip the body, write a fixed reply. No framework: a floor, not a server."""

    REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nServer: floor\r\n\r\n"
             + BARE_BODY)  # fmt: skip

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            found = head.find(b"\r\ncontent-length:")
            length = int(head[found + 17 :].split(b"\r\n", 1)[0]) if found >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(self.REPLY)


async def floor_fleet(size: int) -> None:
    """N plain asyncio listeners answering every request with a fixed reply (bench/where.py): what
    the socket and the event loop cost per request, under any HTTP framework."""
    raise_file_limit(size + SPARE_FILES)
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_FloorConnection, HOST, 0) for _ in range(size)]
    try:
        devices = [{"url": f"http://{HOST}:{server.sockets[0].getsockname()[1]}", "serial": f"FLOOR{index:08d}"}
                   for index, server in enumerate(servers)]  # fmt: skip
        await announce_and_wait({"kind": "floor", "size": size, "devices": devices})
    finally:
        for server in servers:
            server.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleetserve")
    parser.add_argument("kind", choices=["axisim", "bare", "floor"])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--mix", default="S3008,S3016,S4000,C1410MkII,W401")
    parser.add_argument("--without", default="", help="comma list of parts switched off (bench/where.py)")
    args = parser.parse_args()
    if args.without:
        from .where import switch_off

        switch_off(args.without.split(","))
    fleets = {"axisim": lambda: axisim_fleet(args.size, args.mix), "bare": lambda: bare_fleet(args.size),
              "floor": lambda: floor_fleet(args.size)}  # fmt: skip
    asyncio.run(fleets[args.kind]())


if __name__ == "__main__":
    main()
