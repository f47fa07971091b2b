"""`axisim site`: the site's control API as a process of its own (a Kubernetes Deployment), over
shards it finds by URL: a StatefulSet's pods behind a headless Service, `http://axisim-{k}.axisim:8079`.

Each shard is polled at its `/healthz` with a bounded timeout. A shard is ready once it answers 200
as the shard it should be (`k/N`) of the site the others are in; it is then asked once for its
inventory, so serials route to it. The site's size is learned from the first shard that answers
(and again when a redeployed site answers with another size while no shard is ready).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import signal
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from ..fleet_plan import Shard
from .aggregate import HEALTH_TIMEOUT, Site, build_site_app

POLL_SECONDS = 2.0
INVENTORY_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=5)  # a shard of 50,000 rows is a few MB
PROBLEM_CHARS = 200


def shard_urls(template: str, count: int) -> list[str]:
    """The control URL of each shard: `{k}` in the template is the shard's number (0 to count-1)."""
    if count > 1 and "{k}" not in template:
        raise ValueError(f"--shard-url {template!r} has no {{k}}: every shard would be the same URL")
    urls = [template.replace("{k}", str(k)).rstrip("/") for k in range(count)]
    for url in urls:
        try:
            parsed = URL(url)
        except ValueError:
            parsed = URL()
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"--shard-url gives {url!r}: use http://HOST:PORT with {{k}} for the shard's number")
    return urls


@dataclass
class RemoteShard:
    """A shard the aggregator reaches over the network (the aggregator's ShardView)."""

    shard: Shard
    control: str
    ready: bool = False
    restarts: int = 0  # times it went from ready to not ready (a pod restarted, rescheduled, unreachable)
    problem: str = "not polled yet"

    def down(self, why: str) -> None:
        if self.ready:
            self.restarts += 1
        self.ready = False
        self.problem = why[:PROBLEM_CHARS]


async def _get_json(session: aiohttp.ClientSession, url: str, timeout: aiohttp.ClientTimeout) -> tuple[int, Any]:
    async with session.get(url, timeout=timeout) as reply:
        if reply.status != 200:
            return reply.status, None
        return reply.status, await reply.json(content_type=None)


async def check(site: Site, number: int, session: aiohttp.ClientSession) -> None:
    """Poll shard `number` once and update its readiness (and the site's size, its serials)."""
    view = site.shards[number]
    assert isinstance(view, RemoteShard)
    try:
        status, health = await _get_json(session, view.control + "/healthz", HEALTH_TIMEOUT)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        view.down(f"{view.control}/healthz: {exc.__class__.__name__} {exc}".strip())
        return
    if status != 200 or not isinstance(health, dict):
        view.down(f"{view.control}/healthz answered {status}")
        return
    served, size = health.get("shard"), health.get("site")
    if served != str(view.shard):
        view.down(f"it serves shard {served!r}, not {view.shard}: --shards and the shards' count differ")
        return
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        view.down(f"its /healthz names no site size ({size!r})")
        return
    if site.size != size:
        if site.size and any(s.ready for s in site.shards):
            view.down(f"it is in a site of {size} devices, the others in one of {site.size}")
            return
        site.size, site.serials = size, {}  # the first answer, or a site redeployed with another size
    if view.ready:
        return
    try:
        status, inventory = await _get_json(session, view.control + "/inventory.json", INVENTORY_TIMEOUT)
        rows = inventory["devices"] if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError, TypeError, KeyError) as exc:
        view.down(f"{view.control}/inventory.json: {exc.__class__.__name__} {exc}".strip())
        return
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "serial" in r for r in rows):
        view.down(f"{view.control}/inventory.json answered {status} without its devices")
        return
    site.learn(number, rows)
    view.ready, view.problem = True, ""


async def keep_polling(site: Site, number: int, session: aiohttp.ClientSession, interval: float) -> None:
    """Poll one shard every `interval` seconds until cancelled (each shard on its own, so a slow
    inventory holds up no other)."""
    while True:
        await check(site, number, session)
        await asyncio.sleep(interval)


def _report(message: str) -> None:
    print(f"axisim: {message}", file=sys.stderr, flush=True)


async def run_remote_site(args: argparse.Namespace) -> int:
    """Serve the control API of the site at `--shard-url` until SIGTERM or SIGINT."""
    try:
        urls = shard_urls(args.shard_url, args.shards)
    except ValueError as exc:
        _report(str(exc))
        return 2
    views = [RemoteShard(Shard(k, args.shards), url) for k, url in enumerate(urls)]
    site = Site(views, 0)
    runner = web.AppRunner(build_site_app(site), access_log=None)
    await runner.setup()
    try:
        where = web.TCPSite(runner, args.control_host, args.control_port)
        await where.start()
    except OSError as exc:
        await runner.cleanup()
        reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be had: {exc.strerror or exc}"
        _report(f"port {args.control_port} (the control API) {reason}; choose another with --control-port")
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    session = aiohttp.ClientSession()
    pollers = [asyncio.create_task(keep_polling(site, k, session, args.poll)) for k in range(len(views))]
    try:
        print(f"site:      {args.shards} shards at {args.shard_url}")
        print(f"control:   http://{args.control_host}:{where.port}/devices")
        print(f"page:      http://{args.control_host}:{where.port}/  (the site page: open it in a browser)")
        sys.stdout.flush()
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        for task in pollers:
            task.cancel()
        for task in pollers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await session.close()
        await runner.cleanup()
    return 0
