"""The site's control API when its shards run in worker processes (`fleet --workers N`) or pods.

It answers as one fleet's control API does (README "Control API"): `/devices` and the inventory
merged from every shard in site order, `/devices/<serial or index>/...` passed to the shard that
owns the device (streams such as the event feed included), `POST /reset` fanned out to every
shard, and `/healthz` ready (200) only when every shard is (503 otherwise, saying which is not).
Indexes are routed by arithmetic (a shard owns a contiguous run of them); serials by the table
read from the shards' inventories when they started.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from param_tree import whole_number

from ..control import page
from ..control.listing import ListingError, Query, merge_summaries
from ..control.origin import same_origin
from ..fleet import inventory_csv, inventory_json
from ..fleet_plan import Shard

MAX_BODY = 2 * 1024 * 1024
UPSTREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5, sock_read=None)
HEALTH_TIMEOUT = aiohttp.ClientTimeout(total=5)  # a shard's /healthz: a hung shard is not ready
PASSED_HEADERS = ("Content-Type", "Cache-Control")
GONE_CHECK = 1.0  # seconds of a silent stream between looks at whether its reader has gone


class ShardView(Protocol):
    """What the aggregator needs of a shard: where its control API is, and whether it is up.
    A worker process (workers.py) or a shard found by URL (remote.py: `axisim site`)."""

    shard: Shard
    control: str
    ready: bool
    restarts: int
    problem: str  # why it is not ready ("" when it is)


class Site:
    """The shards of one site and the table of serials to shards. `size` is 0 until known (an
    `axisim site` learns it from the first shard that answers)."""

    def __init__(self, shards: Sequence[ShardView], size: int) -> None:
        self.shards = list(shards)
        self.size = size
        self.serials: dict[str, int] = {}
        self.session: aiohttp.ClientSession | None = None

    def owner(self, key: str) -> int | None:
        index = whole_number(key, high=self.size - 1) if self.size > 0 else None
        if index is not None:
            return Shard(0, len(self.shards)).owner(index, self.size)
        return self.serials.get(key.upper())

    def learn(self, number: int, rows: list[dict[str, Any]]) -> None:
        """The serials of shard `number`'s inventory rows route to it."""
        for row in rows:
            self.serials[str(row["serial"]).upper()] = number

    async def fetch_json(
        self, shard: ShardView, path: str, timeout: aiohttp.ClientTimeout | None = None
    ) -> Any:  # fmt: skip
        assert self.session is not None
        async with self.session.get(shard.control + path, timeout=timeout or UPSTREAM_TIMEOUT) as reply:
            reply.raise_for_status()
            return await reply.json()

    async def inventory(self) -> list[dict[str, Any]]:
        """Every shard's inventory, in site order; refreshes the serial table."""
        parts = await asyncio.gather(*(self.fetch_json(s, "/inventory.json") for s in self.shards))
        rows: list[dict[str, Any]] = []
        for number, part in enumerate(parts):
            self.learn(number, part["devices"])
            rows.extend(part["devices"])
        return rows


SITE_KEY: web.AppKey[Site] = web.AppKey("site", Site)
STOPPING_KEY: web.AppKey[asyncio.Event] = web.AppKey("stopping", asyncio.Event)


def _reply(document: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(document, indent=1) + "\n", content_type="application/json")


def _shard_state(view: ShardView) -> dict[str, Any]:
    state = {"shard": str(view.shard), "control": view.control, "ready": view.ready, "restarts": view.restarts}
    return state | ({"problem": view.problem} if view.problem and not view.ready else {})


async def healthz(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    shards = [_shard_state(s) for s in site.shards]
    ready = all(s.ready for s in site.shards)
    if ready:  # each worker's own readiness too (it answers only once its devices listen)
        try:
            await asyncio.gather(*(site.fetch_json(s, "/healthz", HEALTH_TIMEOUT) for s in site.shards))
        except (aiohttp.ClientError, TimeoutError):
            ready = False
    return _reply({"ready": ready, "site": site.size, "shards": shards}, 200 if ready else 503)


async def list_devices(request: web.Request) -> web.Response:
    """The shards' lists in site order; a page of them (`?offset=&limit=`, filtered by `?q=&status=&faulted=`,
    axisim/control/listing.py) asks each shard how many it keeps, then only the shards the page spans."""
    site = request.app[SITE_KEY]
    try:
        query = Query.parse(request.query)
    except ListingError as exc:
        return _reply({"error": str(exc)}, 400)

    async def ask(shard: ShardView, offset: int, limit: int | None) -> Any:
        return await site.fetch_json(shard, "/devices?" + urlencode(query.to_params(offset, limit)))

    if query.limit is None and query.offset == 0:  # everything that matches: one round
        parts = await asyncio.gather(*(ask(s, 0, None) for s in site.shards))
        rows = [row for part in parts for row in part["devices"]]
        return _reply({"devices": rows, "total": len(rows), "offset": 0, **merge_summaries(parts)})
    counts = await asyncio.gather(*(ask(s, 0, 0) for s in site.shards))
    totals = [int(part["total"]) for part in counts]
    window = query.window(sum(totals))
    wanted: list[Any] = []
    start = 0
    for shard, total in zip(site.shards, totals, strict=True):  # the part of the window each shard holds
        low, high = max(window.start, start), min(window.stop, start + total)
        if low < high:
            wanted.append(ask(shard, low - start, high - low))
        start += total
    pages = await asyncio.gather(*wanted)
    rows = [row for part in pages for row in part["devices"]]
    return _reply({"devices": rows, "total": sum(totals), "offset": window.start, **merge_summaries(counts)})


async def get_inventory_json(request: web.Request) -> web.Response:
    rows = await request.app[SITE_KEY].inventory()
    return web.Response(text=inventory_json(rows), content_type="application/json")


async def get_inventory_csv(request: web.Request) -> web.Response:
    rows = await request.app[SITE_KEY].inventory()
    return web.Response(text=inventory_csv(rows), content_type="text/csv")


async def reset_site(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    assert site.session is not None

    async def one(view: ShardView) -> Any:
        async with site.session.post(view.control + "/reset") as reply:  # type: ignore[union-attr]
            return await reply.json()

    replies = await asyncio.gather(*(one(s) for s in site.shards))
    return _reply({"shards": len(replies), "replies": replies})


async def _copy(request: web.Request, upstream: aiohttp.ClientResponse, reply: web.StreamResponse) -> None:
    """The shard's reply as it comes, until it ends, the reader leaves (looked at every GONE_CHECK
    seconds of silence: a feed whose page was closed must not hold the shard's feed until its next
    heartbeat) or the site stops."""
    stopping = request.app[STOPPING_KEY]
    while not stopping.is_set():
        try:
            chunk = await asyncio.wait_for(upstream.content.readany(), GONE_CHECK)
        except TimeoutError:
            if request.transport is None or request.transport.is_closing():
                return
            continue
        try:
            if not chunk:
                await reply.write_eof()
                return
            await reply.write(chunk)
        except ConnectionError:  # the reader went away mid-write
            return


async def to_owner(request: web.Request) -> web.StreamResponse:
    """Pass a device's request to the shard that serves it, and its reply back as it comes."""
    site = request.app[SITE_KEY]
    key = request.match_info["device"]
    number = site.owner(key)
    if number is None and site.size == 0:
        return _reply({"error": "no shard has answered yet, so the site is not known; try again shortly"}, 503)
    if number is None:
        return _reply({"error": f"no device {key!r}; name one by serial or index (GET /devices lists them)"}, 404)
    view = site.shards[number]
    if not view.ready:
        why = f" ({view.problem})" if view.problem else ""
        return _reply({"error": f"shard {view.shard} (device {key}) is not ready{why}; try again shortly"}, 503)
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _reply({"error": f"the body is larger than {MAX_BODY} bytes"}, 413)
    headers = {k: v for k, v in request.headers.items() if k in ("Content-Type", "Accept")}
    assert site.session is not None
    try:
        async with site.session.request(
            request.method, view.control + request.rel_url.path_qs, data=body or None, headers=headers
        ) as upstream:
            reply = web.StreamResponse(status=upstream.status)
            for name in PASSED_HEADERS:
                if name in upstream.headers:
                    reply.headers[name] = upstream.headers[name]
            await reply.prepare(request)
            await _copy(request, upstream, reply)
            return reply
    except (aiohttp.ClientConnectionError, TimeoutError):
        return _reply({"error": f"shard {view.shard} (device {key}) did not answer; it may be restarting"}, 503)


async def summary(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    return _reply({"site": site.size, "shards": [_shard_state(s) for s in site.shards], "devices": "/devices"})


@web.middleware
async def shard_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """A shard that does not answer (restarting, gone) is a 503 that says so, never a 500."""
    try:
        return await handler(request)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return _reply({"error": f"a shard did not answer ({exc.__class__.__name__}); it may be restarting"}, 503)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _reply({"error": exc.reason}, exc.status)
        raise


def build_site_app(site: Site) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[same_origin, shard_errors])
    app[SITE_KEY] = site

    async def session(app: web.Application) -> Any:
        site.session = aiohttp.ClientSession(timeout=UPSTREAM_TIMEOUT)
        yield
        await site.session.close()

    app.cleanup_ctx.append(session)
    app[STOPPING_KEY] = asyncio.Event()

    async def stopping(app: web.Application) -> None:  # streams passed on (event feeds) end with the site
        app[STOPPING_KEY].set()

    app.on_shutdown.append(stopping)
    app.add_routes([
        *page.routes(summary),  # the site page for a browser (axisim/control/page.py), this summary for others
        web.get("/healthz", healthz),
        web.get("/devices", list_devices),
        web.get("/inventory.json", get_inventory_json),
        web.get("/inventory.csv", get_inventory_csv),
        web.post("/reset", reset_site),
        web.route("*", "/devices/{device}", to_owner),
        web.route("*", "/devices/{device}/{tail:.*}", to_owner),
    ])  # fmt: skip
    return app
