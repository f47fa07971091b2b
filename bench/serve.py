"""Server subprocesses for benchmarks 1-3: one simulated device, every model, or a bare handler.

    python -m bench.serve axisim --model S3016 [--anonymous]
    python -m bench.serve models                       (one device per model, to find the largest)
    python -m bench.serve bare --body-file F --path /axis-cgi/param.cgi [--content-type text/plain]

Each prints one JSON line with its URL(s) and serves until stdin closes."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from .child import announce_and_wait

HOST = "127.0.0.1"


async def serve_axisim(model: str, anonymous: bool) -> None:
    """One device, HTTP only, instant boot: the server the VMS under test would talk to."""
    from axisim.device import make_device
    from axisim.lifecycle import BootTimes
    from axisim.server import start_device

    device = make_device(model, boot_times=BootTimes(0.0, 0.0))
    if anonymous:
        device.params.set_values({"System.BoaProtViewer": "anonymous"})
    running = await start_device(device, HOST, 0, https_port=None)
    try:
        await announce_and_wait({"url": running.url, "model": model, "serial": device.serial})
    finally:
        await running.stop()


async def serve_models() -> None:
    """A device of every model, so the parent can ask each for its full parameter list."""
    from axisim.device import make_device
    from axisim.lifecycle import BootTimes
    from axisim.model import model_ids
    from axisim.server import start_device

    running = [
        await start_device(make_device(model, boot_times=BootTimes(0.0, 0.0)), HOST, 0, https_port=None)
        for model in model_ids()
    ]
    try:
        await announce_and_wait({"urls": {r.device.model.id: r.url for r in running}})
    finally:
        for one in running:
            await one.stop()


async def serve_bare(body: bytes, path: str, content_type: str) -> None:
    """The baseline: aiohttp with one route returning fixed bytes, no middleware, no access log."""
    headers = {"Content-Type": content_type}

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await announce_and_wait({"url": f"http://{HOST}:{port}"})
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=["axisim", "models", "bare"])
    parser.add_argument("--model", default="S3016")
    parser.add_argument("--anonymous", action="store_true", help="allow anonymous viewing (System.BoaProtViewer)")
    parser.add_argument("--body-file", type=Path)
    parser.add_argument("--path", default="/{tail:.*}")
    parser.add_argument("--content-type", default="text/plain")
    args = parser.parse_args()
    if args.kind == "axisim":
        asyncio.run(serve_axisim(args.model, args.anonymous))
    elif args.kind == "models":
        asyncio.run(serve_models())
    else:
        body = args.body_file.read_bytes() if args.body_file else b"OK\n"
        asyncio.run(serve_bare(body, args.path, args.content_type))


if __name__ == "__main__":
    main()
