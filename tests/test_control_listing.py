"""What the site page (issue 24) asks of the control API, over HTTP: the device list in pages with a
filter and the site's counts, the journal's new requests only (`?since=`), the parameters, and the
page itself at `/` for a browser (JSON for every other client) — on one fleet's control API and on a
site of two shards behind the aggregator (axisim/site/aggregate.py), whose pages span the shards.
The browser itself drives the page in tests/test_site_page.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from axisim.control.http import start_control
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, Shard, make_plan
from axisim.site.aggregate import Site, build_site_app
from tests.conftest import digest_request

GROUPS = [Group("S3008", 3), Group("W401", 3)]  # indexes 0-2 S3008, 3-5 W401
TIMEOUT = aiohttp.ClientTimeout(total=10)
ROOT = ("root", "pass")


@dataclass
class Api:
    base: str
    session: aiohttp.ClientSession
    fleets: list[Fleet]

    async def get(self, path: str, accept: str = "application/json") -> tuple[int, Any, aiohttp.ClientResponse]:
        async with self.session.get(self.base + path, headers={"Accept": accept}) as reply:
            body = await reply.json() if reply.content_type == "application/json" else await reply.text()
            return reply.status, body, reply

    async def ok(self, path: str) -> Any:
        status, body, _ = await self.get(path)
        assert status == 200, (path, status, body)
        return body

    def device(self, index: int) -> Any:
        return next(d for fleet in self.fleets for d in fleet if d.spec.index == index)


@contextlib.asynccontextmanager
async def fleet_api() -> AsyncIterator[Api]:
    """Six devices in one process with its control API."""
    fleet = Fleet.from_plan(make_plan(GROUPS, addressing=Addressing("ports", "127.0.0.1", 0)))
    await fleet.start()
    runner = None
    try:
        runner, port = await start_control(fleet)
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            yield Api(f"http://127.0.0.1:{port}", session, [fleet])
    finally:
        if runner is not None:
            await runner.cleanup()
        await fleet.stop()


@dataclass
class ShardAt:
    """A shard in this process, as the aggregator sees a worker (its ShardView)."""

    shard: Shard
    control: str
    ready: bool = True
    restarts: int = 0
    problem: str = ""


@contextlib.asynccontextmanager
async def site_api() -> AsyncIterator[Api]:
    """The same six devices as two shards (0-2, 3-5), each with its control API, behind the site's."""
    fleets: list[Fleet] = []
    runners: list[web.AppRunner] = []
    views: list[ShardAt] = []
    try:
        for index in range(2):
            plan = make_plan(GROUPS, addressing=Addressing("ports", "127.0.0.1", 0), shard=Shard(index, 2))
            fleet = Fleet.from_plan(plan)
            fleets.append(fleet)
            await fleet.start()
            runner, port = await start_control(fleet)
            runners.append(runner)
            views.append(ShardAt(Shard(index, 2), f"http://127.0.0.1:{port}"))
        site = Site(views, 6)
        runner = web.AppRunner(build_site_app(site), access_log=None)
        await runner.setup()
        runners.append(runner)
        where = web.TCPSite(runner, "127.0.0.1", 0)
        await where.start()
        await site.inventory()  # the serials route to their shards, as `fleet --workers` learns them
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            yield Api(f"http://127.0.0.1:{where.port}", session, fleets)
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        for fleet in fleets:
            await fleet.stop()


@pytest.fixture(params=["fleet", "site"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    async with (fleet_api() if request.param == "fleet" else site_api()) as running:
        yield running


def indexes(document: dict[str, Any]) -> list[int]:
    return [row["index"] for row in document["devices"]]


async def test_a_page_of_devices_with_the_total_and_the_site_counts(api: Api) -> None:
    everything = await api.ok("/devices")
    assert indexes(everything) == [0, 1, 2, 3, 4, 5] and everything["total"] == 6
    assert everything["statuses"] == {"ready": 6, "booting": 0, "offline": 0} and everything["faulted"] == 0
    assert all(row["status"] == "ready" and row["requests"] == 0 for row in everything["devices"])
    across = await api.ok("/devices?offset=2&limit=3")  # on the site: the last of shard 0, two of shard 1
    assert indexes(across) == [2, 3, 4] and across["total"] == 6 and across["offset"] == 2
    assert across["devices"] == everything["devices"][2:5]
    counts = await api.ok("/devices?limit=0")
    assert counts["devices"] == [] and counts["total"] == 6 and counts["statuses"]["ready"] == 6
    past = await api.ok("/devices?offset=40&limit=10")
    assert past["devices"] == [] and past["total"] == 6


async def test_search_status_and_fault_filters_keep_what_they_say(api: Api) -> None:
    w401 = await api.ok("/devices?q=w401")
    assert indexes(w401) == [3, 4, 5] and w401["total"] == 3
    second = await api.ok("/devices?q=w401&offset=1&limit=1")
    assert indexes(second) == [4] and second["total"] == 3
    serial = w401["devices"][1]["serial"]
    assert indexes(await api.ok(f"/devices?q={serial.lower()}")) == [4]
    assert indexes(await api.ok("/devices?q=S3008%20%232")) == [2]  # every word: the model and "#<index>"
    port = w401["devices"][2]["http_port"]
    assert indexes(await api.ok(f"/devices?q=127.0.0.1:{port}")) == [5]

    await api.device(1).go_offline()
    api.device(4).add_fault(path="/axis-cgi/param.cgi", status=503)
    offline = await api.ok("/devices?status=offline")
    assert indexes(offline) == [1] and offline["devices"][0]["status"] == "offline"
    assert offline["statuses"] == {"ready": 5, "booting": 0, "offline": 1} and offline["faulted"] == 1
    assert indexes(await api.ok("/devices?status=ready&q=s3008")) == [0, 2]
    faulted = await api.ok("/devices?faulted=true")
    assert indexes(faulted) == [4] and faulted["devices"][0]["faults"] == 1
    assert indexes(await api.ok("/devices?faulted=false&status=ready")) == [0, 2, 3, 5]


@pytest.mark.parametrize(
    "query",
    ["status=sideways", "faulted=maybe", "offset=-1", "offset=x", "limit=1.5", "q=" + "x" * 201, "q=a+b+c+d+e+f+g+h+i"],
)
async def test_a_listing_it_cannot_use_is_400_with_a_reason(api: Api, query: str) -> None:
    status, body, _ = await api.get(f"/devices?{query}")
    assert status == 400 and set(body) == {"error"} and body["error"], body


async def test_the_journal_since_a_total_holds_only_the_newer_requests(api: Api) -> None:
    url = api.device(4).url
    async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
        for _ in range(3):
            reply = await digest_request(client, "GET", url + "/axis-cgi/param.cgi?action=list&group=Brand", ROOT)
            assert reply.status == 200
        seen = (await api.ok("/devices/4/journal"))["total"]
        assert (await api.ok(f"/devices/4/journal?since={seen}"))["entries"] == []
        newest = "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
        await digest_request(client, "GET", url + newest, ROOT)  # 401, then 200
    newer = await api.ok(f"/devices/4/journal?since={seen}")
    assert newer["total"] == seen + 2
    assert [(e["path"], e["status"], e["user"]) for e in newer["entries"]] == [(newest, 401, ""), (newest, 200, "root")]
    cleared = await api.ok("/devices/4/journal?since=100000")  # past the total (a cleared journal): all kept
    assert len(cleared["entries"]) == newer["total"]
    assert len((await api.ok("/devices/4/journal?since=0&limit=1"))["entries"]) == 1
    status, body, _ = await api.get("/devices/4/journal?since=x")
    assert status == 400 and "since" in body["error"]


async def test_the_parameters_are_what_an_administrator_lists(api: Api) -> None:
    device = api.device(3)
    listed = await api.ok(f"/devices/{device.serial}/params")
    async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
        reply = await digest_request(client, "GET", device.url + "/axis-cgi/param.cgi?action=list", ROOT)
    pairs = (line.split("=", 1) for line in reply.body.decode().splitlines() if "=" in line)
    lines = {name.removeprefix("root."): value for name, value in pairs}  # a list of every group says root.
    assert listed["serial"] == device.serial and listed["params"] == lines  # every name and value, in list order
    assert list(listed["params"]) == list(lines)
    group = (await api.ok(f"/devices/{device.serial}/params?group=network.eth0"))["params"]
    assert group and all(name.startswith("Network.eth0.") for name in group)
    assert group == {k: v for k, v in lines.items() if k.startswith("Network.eth0.")}


async def test_a_browser_gets_the_page_and_every_other_client_json(api: Api) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what Chromium sends
    status, page, reply = await api.get("/", accept=browser)
    assert status == 200 and reply.content_type == "text/html"
    assert '<script type="module" src="page/page.js">' in page and 'href="page/page.css"' in page
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    for accept in ("*/*", "application/json"):
        status, index, _ = await api.get("/", accept=accept)
        assert status == 200 and isinstance(index, dict), index  # the control API's (or the site's) JSON index
    status, script, reply = await api.get("/page/page.js", accept="*/*")
    assert status == 200 and reply.content_type == "text/javascript" and "textContent" in script
    status, style, reply = await api.get("/page/page.css", accept="*/*")
    assert status == 200 and reply.content_type == "text/css" and "@media" in style
    status, body, _ = await api.get("/page/secrets.txt")
    assert status == 404 and set(body) == {"error"}
