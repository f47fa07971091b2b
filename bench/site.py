"""Benchmarks 10 and 11: a site beyond one process (issue 22).

10: the mixed workload of benchmark 5 over a site run as `--workers 2` against the same site as
    `--workers 1` (same devices, same requests, same client): the speed-up of a second core.
11: the largest site: `--site-size` devices (loopback addressing) across enough workers for the
    open-file limit; time until every device listens, resident memory per device (every process
    of the site), and a sample of devices each answering `basicdeviceinfo` with its own serial.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
from pathlib import Path

import aiohttp

from .fleet_start import CONCURRENCY
from .loadgen import LoadGenerator, Turns
from .mixed import CALLS, device_targets
from .probe import expect, probe
from .report import Row, rate
from .servers import ServerProcess

SAMPLE = 500  # devices checked in the largest site
FILES_PER_WORKER_SPARE = 512


class SiteProcess(ServerProcess):
    """bench.siteserve, with its CPU counted over the whole tree (the site's parent and workers)."""

    def cpu_seconds(self) -> float | None:
        if self.process is None:
            return None
        from .siteserve import descendants

        total = 0.0
        for pid in descendants(self.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def _site(size: int, mix: str, workers: int, *, loopback: bool = False, timeout: float = 180.0) -> SiteProcess:
    args = ["--size", str(size), "--mix", mix, "--workers", str(workers)] + (["--loopback"] if loopback else [])
    return SiteProcess("bench.siteserve", *args, timeout=timeout)


def workers_speedup(load: LoadGenerator, size: int, mix: str, workers: int = 2, rounds: int = 3) -> list[Row]:
    """10: the same mixed requests on N workers and on one, both sites up at once and loaded in turn
    (`rounds` each, medians): the idle site costs nothing measurable, and a slow spell of the
    machine falls on both."""
    with _site(size, mix, 1) as single, _site(size, mix, workers) as many_site:
        sides = {}
        for name, site in (("one", single), ("workers", many_site)):
            sides[name] = (probe(lambda s, site=site: device_targets(s, site.info["devices"]), CONCURRENCY), site)
        turns = Turns(load, rounds, "mixed")
        medians = turns.measure(sides)
    one, many = medians["one"], medians["workers"]
    return [Row(
        "10", f"mixed workload, {size:,} devices, --workers {workers} vs 1 ({os.cpu_count()} cores)",
        rate(many.rate), rate(one.rate), many.rate / one.rate if one.rate else None,
        target=">= 1.7 with 2 workers on 2 cores", met=(many.rate / one.rate >= 1.7) if one.rate else None,
        errors=turns.errors, client_bound=many.client_bound,
        note=f"median of {turns.rounds} rounds in turn (ratios {turns.ratios('workers', 'one')}); server CPU per "
        f"request: {many.cpu_per_request_us or 0:.0f} µs ({workers} workers) vs {one.cpu_per_request_us or 0:.0f} µs "
        f"(1); p99 {many.p99_ms or 0:.1f} vs {one.p99_ms or 0:.1f} ms",
        data={"workers": many.as_dict(), "one": one.as_dict(),
              "rounds": turns.as_json()},
    )]  # fmt: skip


def largest_site(size: int, mix: str) -> list[Row]:
    """11: `size` devices in loopback mode over as many workers as the open-file limit needs."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per_worker = max(1000, (hard if hard != resource.RLIM_INFINITY else 1 << 20) - FILES_PER_WORKER_SPARE)
    workers = max(os.cpu_count() or 1, -(-size // per_worker))
    with _site(size, mix, workers, loopback=True, timeout=1800.0) as site:
        info = site.info
        sample = random.Random("site").sample(info["devices"], min(SAMPLE, len(info["devices"])))

        async def check(session: aiohttp.ClientSession) -> int:
            from .mixed import plain
            from .probe import challenge, with_digest

            gate = asyncio.Semaphore(CONCURRENCY)
            call = CALLS[1]  # basicdeviceinfo getAllProperties

            async def one(device: dict) -> None:
                async with gate:
                    target = plain(device["url"], call)
                    nonce = await challenge(session, target)
                    signed = with_digest(target, nonce, device["username"], device["password"])
                    await expect(session, signed, b"{", f'"SerialNumber": "{device["serial"]}"'.encode())

            await asyncio.gather(*(one(d) for d in sample))
            return len(sample)

        checked = probe(check, CONCURRENCY)
    per_device = info["per_device_bytes"]
    gib = info["rss"] / 2**30
    return [
        Row("11", f"largest site: {size:,} devices, {workers} workers, loopback", f"{info['start_s']:.1f} s",
            target="100,000 in 24 GiB", met=info["rss"] <= 24 * 2**30 if size >= 100_000 else None,
            note=f"{gib:.1f} GiB resident over {len(info['pids'])} processes, {per_device / 1024:.1f} KB per device; "
            f"{checked} sampled devices answered basicdeviceinfo with their own serial",
            data={k: v for k, v in info.items() if k != "devices"}),
    ]  # fmt: skip
