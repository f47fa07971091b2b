"""Bounded load on loopback: many clients over a fleet, every answer right, every request journaled.

Not a timing test (the benchmarks measure speed, bench/); it proves that concurrent Digest
clients across devices get their own device's answers and that nothing is lost under load.
"""

from __future__ import annotations

import asyncio
import random

import aiohttp

from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan, parse_mix
from tests.conftest import digest_request

DEVICES = 12
REQUESTS = 600  # bounded: the whole test sends exactly this many authenticated requests
CONCURRENCY = 24


async def test_concurrent_clients_over_a_fleet_get_their_devices_answers() -> None:
    groups = [Group(model, n) for model, n in parse_mix("S3008,S3016,S4000,C1410MkII,W401", DEVICES)]
    fleet = Fleet.from_plan(make_plan(groups, seed="load", addressing=Addressing("ports", "127.0.0.1", 0)))
    await fleet.start()
    try:
        rng = random.Random(7)
        picks = [rng.randrange(DEVICES) for _ in range(REQUESTS // 2)]  # each pick is a 401 + a 200
        limit = asyncio.Semaphore(CONCURRENCY)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        path = "/axis-cgi/param.cgi?action=list&group=root.Properties.System.SerialNumber"

        async def one(index: int) -> tuple[int, int, str]:
            device = fleet[index]
            async with limit:
                reply = await digest_request(session, "GET", device.url + path, device.credentials)
            return index, reply.status, reply.text

        async with aiohttp.ClientSession(connector=connector) as session:
            results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in picks)), timeout=60)
        for index, status, body in results:
            assert status == 200
            assert body == f"root.Properties.System.SerialNumber={fleet[index].serial}\n"
        for index, device in enumerate(fleet):
            sent = picks.count(index)
            assert device.journal.total == 2 * sent  # the challenge and the answer, none lost
            statuses = [e.status for e in device.journal.entries()]
            assert statuses.count(401) == sent and statuses.count(200) == sent
    finally:
        await fleet.stop()
