"""Benchmark 5: a VMS-like mix of requests spread over a fleet (each request a random device and a
random call, Digest as root), against as many bare aiohttp listeners answering the same paths.

Always the fallback client (aiohttp unless --client raw): wrk cannot spread requests over many
ports without a Lua script."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

import aiohttp

from .fleet_start import CONCURRENCY
from .loadgen import LoadGenerator, LoadResult, Turns, cpu_note
from .probe import Target, challenge, expect, probe, with_digest
from .report import Row, rate
from .servers import ServerProcess

JSON = {"Content-Type": "application/json"}


class Call(NamedTuple):
    method: str
    path: str
    body: str | None
    starts: bytes  # what a good reply starts with
    contains: bytes  # ... and contains


CALLS = (
    Call("GET", "/axis-cgi/param.cgi?action=list&group=root.Brand", None, b"root.Brand.Brand=", b""),
    Call("POST", "/axis-cgi/basicdeviceinfo.cgi", '{"apiVersion":"1.0","method":"getAllProperties"}', b"{",
         b'"SerialNumber"'),
    Call("POST", "/axis-cgi/apidiscovery.cgi", '{"apiVersion":"1.0","method":"getApiList"}', b"{", b'"apiList"'),
    Call("GET", "/axis-cgi/param.cgi?action=list&group=root.Network", None, b"root.Network.", b""),
    Call("POST", "/axis-cgi/systemready.cgi", '{"apiVersion":"1.2","method":"systemready"}', b"{",
         b'"systemready": "yes"'),
)  # fmt: skip


def plain(url: str, call: Call) -> Target:
    return Target(call.method, url + call.path, JSON if call.body is not None else {}, call.body)


async def device_targets(session: aiohttp.ClientSession, devices: list[dict[str, Any]]) -> list[Target]:
    """Every call on every device with its precomputed Digest header, each checked once."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(device: dict[str, Any]) -> list[Target]:
        async with gate:
            nonce = await challenge(session, plain(device["url"], CALLS[0]))
            targets = []
            for call in CALLS:
                target = with_digest(plain(device["url"], call), nonce, device["username"], device["password"])
                await expect(session, target, call.starts, call.contains)
                targets.append(target)
            return targets

    return [target for targets in await asyncio.gather(*(one(d) for d in devices)) for target in targets]


def retargeted(targets: list[Target], listeners: list[dict[str, Any]]) -> list[Target]:
    """The same requests (headers and bodies included) sent elsewhere: device i's -> listener i."""
    urls = [listener["url"] for listener in listeners]
    assert len(targets) == len(urls) * len(CALLS)
    return [Target(t.method, urls[i // len(CALLS)] + t.uri, t.headers, t.body) for i, t in enumerate(targets)]


def mixed(load: LoadGenerator, size: int, mix: str, rounds: int = 3) -> list[Row]:
    """5: throughput and latency of the mix on axisim and the same requests on bare listeners, both
    up at once and loaded in turn (`rounds` each, medians)."""
    with (
        ServerProcess("bench.fleetserve", "axisim", "--size", str(size), "--mix", mix, timeout=120) as fleet,
        ServerProcess("bench.fleetserve", "bare", "--size", str(size), timeout=120) as bare,
    ):
        targets = probe(lambda s: device_targets(s, fleet.info["devices"]), CONCURRENCY)
        same = retargeted(targets, bare.info["devices"])
        probe(lambda s: asyncio.gather(*(expect(s, t) for t in same[: len(CALLS)])))
        turns = Turns(load, rounds, "mixed")
        medians = turns.measure({"axisim": (targets, fleet), "baseline": (same, bare)})
    measured, base = medians["axisim"], medians["baseline"]
    errors = turns.errors
    throughput = Row(
        "5", f"mixed workload, {size:,} devices ({len(CALLS)} calls, Digest)", rate(measured.rate), rate(base.rate),
        measured.rate / base.rate if base.rate else None, errors=errors,
        client_bound=measured.client_bound or base.client_bound,
        data={"axisim": measured.as_dict(), "baseline": base.as_dict(),
              "rounds": turns.as_json()},
    )  # fmt: skip
    latency = Row("5", "  latency p50 / p99", latencies(measured), latencies(base))
    notes = [f"median of {turns.rounds} rounds in turn (ratios {turns.ratios('axisim', 'baseline')})",
             cpu_note(measured, base)]  # fmt: skip
    if errors:
        notes.append(f"errors over all rounds: {errors:,}")
    throughput.note = "; ".join(note for note in notes if note)
    return [throughput, latency]


def latencies(result: LoadResult) -> str:
    if result.p50_ms is None or result.p99_ms is None:
        return "-"
    return f"{result.p50_ms:.1f} / {result.p99_ms:.1f} ms"
