"""Benchmark 4: a fleet of N mixed devices in one process: time to all listening, resident memory
per device, and whether every device then answers, against N bare aiohttp listeners started the
same way."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from .probe import Target, challenge, fetch, probe, with_digest
from .report import Row
from .servers import ServerProcess

INFO_PATH = "/axis-cgi/basicdeviceinfo.cgi"
INFO_BODY = '{"apiVersion":"1.0","method":"getAllProperties"}'
JSON = {"Content-Type": "application/json"}
CONCURRENCY = 64
START_TARGET_S = 10.0
MEMORY_TARGET_KB = 200.0


async def _answers(session: aiohttp.ClientSession, device: dict[str, Any], digest: bool) -> str | None:
    """None when the device answers getAllProperties with its own serial (the baseline: any 200);
    else what went wrong."""
    target = Target("POST", device["url"] + INFO_PATH, JSON, INFO_BODY)
    try:
        if digest:
            target = with_digest(target, await challenge(session, target), device["username"], device["password"])
        reply = await fetch(session, target)
        if reply.status != 200:
            return f"{device['url']}: {reply.status}"
        if digest and json.loads(reply.body)["data"]["propertyList"]["SerialNumber"] != device["serial"]:
            return f"{device['url']}: wrong SerialNumber in {reply.body[:200]!r}"
    except Exception as exc:  # any failure of one device is counted, not fatal
        return f"{device['url']}: {type(exc).__name__}: {exc}"
    return None


async def ask_all(
    session: aiohttp.ClientSession, devices: list[dict[str, Any]], digest: bool
) -> tuple[int, float, list[str]]:
    """Every device once, at most CONCURRENCY at a time: (answered, seconds, failures)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(device: dict[str, Any]) -> str | None:
        async with gate:
            return await _answers(session, device, digest)

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(device) for device in devices))
    failures = [outcome for outcome in outcomes if outcome is not None]
    return len(devices) - len(failures), time.perf_counter() - started, failures


def fleet_start(size: int, mix: str) -> list[Row]:
    """4: rows for start time, memory per device and answers, axisim next to bare aiohttp."""
    with ServerProcess("bench.fleetserve", "axisim", "--size", str(size), "--mix", mix, timeout=300) as process:
        fleet = process.info
        answered, asked_s, failures = probe(lambda s: ask_all(s, fleet["devices"], True), CONCURRENCY)
    with ServerProcess("bench.fleetserve", "bare", "--size", str(size), timeout=300) as process:
        bare = process.info
        bare_answered, bare_asked_s, bare_failures = probe(lambda s: ask_all(s, bare["devices"], False), CONCURRENCY)
    start_s, bare_start_s = float(fleet["start_s"]), float(bare["start_s"])
    kb, bare_kb = fleet["per_device_bytes"] / 1024, bare["per_device_bytes"] / 1024
    summary = {key: value for key, value in fleet.items() if key != "devices"}
    bare_summary = {key: value for key, value in bare.items() if key != "devices"}
    timing = Row(
        "4", f"fleet start, {size:,} devices ({mix})", f"{start_s:.2f} s", f"{bare_start_s:.2f} s",
        start_s / bare_start_s if bare_start_s else None, f"<= {START_TARGET_S:g} s", start_s <= START_TARGET_S,
        note=f"import {fleet['import_s']:.2f} s and model load {fleet['models_s']:.2f} s before that "
        f"(bare: import {bare['import_s']:.2f} s)",
        data={"axisim": summary, "baseline": bare_summary},
    )  # fmt: skip
    memory = Row(
        "4", "  resident memory per device", f"{kb:,.1f} KB", f"{bare_kb:,.1f} KB", kb / bare_kb if bare_kb else None,
        f"<= {MEMORY_TARGET_KB:g} KB", kb <= MEMORY_TARGET_KB,
        note=f"RSS {fleet['rss_before'] / 2**20:.1f} -> {fleet['rss_after'] / 2**20:.1f} MB "
        f"(bare {bare['rss_before'] / 2**20:.1f} -> {bare['rss_after'] / 2**20:.1f} MB)",
    )  # fmt: skip
    answers = Row(
        "4", "  every device answers basicdeviceinfo", f"{answered:,}/{size:,} in {asked_s:.2f} s",
        f"{bare_answered:,}/{size:,} in {bare_asked_s:.2f} s", asked_s / bare_asked_s if bare_asked_s else None,
        f"{size:,}/{size:,}", answered == size, errors=(size - answered) + (size - bare_answered),
        data={"axisim": {"answered": answered, "seconds": asked_s, "failures": failures[:20]},
              "baseline": {"answered": bare_answered, "seconds": bare_asked_s, "failures": bare_failures[:20]}},
    )  # fmt: skip
    if failures or bare_failures:
        answers.note = "first failures: " + "; ".join((failures + bare_failures)[:3])
    return [timing, memory, answers]
