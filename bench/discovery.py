"""Benchmark 9, discovery (issue 21): `--count` (1000) devices announced by one `axisim fleet --discovery`
process in one network namespace; a python-zeroconf browser in another (a veth pair between them,
tests/netns.py; needs root, skipped with the reason otherwise). Measured: the time from the command
to the browser having seen every `_axis-video._tcp` instance, and the process's CPU while idle
afterwards. Baseline, same run and namespaces: one process registering as many plain python-zeroconf
`ServiceInfo`s (same type, name shape, TXT, addresses) on one `Zeroconf` instance.

    python3 -m bench.discovery [--count 1000] [--idle 10]     # or: python3 -m bench --only 9
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from tests.netns import NetnsPair, netns_pair, stop, unavailable

from .report import Row
from .servers import BenchError

VIDEO = "_axis-video._tcp.local."
BASE_PORT = 20000
SETTLE_S = 3.0  # the last announcements' repeats, before the idle CPU is measured


async def browse(count: int, timeout: float) -> None:
    """In the LAN namespace: print the wall time at which `count` instances had been seen."""
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

    seen: set[str] = set()
    done = asyncio.Event()

    def changed(zeroconf: object, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added:
            seen.add(name)
            if len(seen) >= count:
                done.set()

    zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
    browser = AsyncServiceBrowser(zc.zeroconf, [VIDEO], handlers=[changed])
    print(json.dumps({"ready": True}), flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout)
        print(json.dumps({"all_seen_at": time.time(), "seen": len(seen)}), flush=True)
    except TimeoutError:
        print(json.dumps({"all_seen_at": None, "seen": len(seen)}), flush=True)
    finally:
        await browser.async_cancel()
        await zc.async_close()


async def plain(count: int, address: str) -> None:
    """The baseline, in the site namespace: `count` plain ServiceInfos registered at once on one
    AsyncZeroconf, as axisim's responder registers its devices (cooperating responders: no probing)."""
    import ipaddress

    from zeroconf import IPVersion
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

    zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
    infos = []
    for i in range(count):
        mac = f"ACCC8E{i:06X}"
        infos.append(AsyncServiceInfo(
            VIDEO, f"AXIS W401 - {mac}.{VIDEO}", port=BASE_PORT + i, properties={"macaddress": mac},
            server=f"axis-{mac.lower()}.local.", addresses=[ipaddress.ip_address(address).packed,
            ipaddress.ip_address(f"169.254.{1 + i // 256 % 254}.{i % 256}").packed],
        ))  # fmt: skip
    tasks = await asyncio.gather(*(zc.async_register_service(info, cooperating_responders=True) for info in infos))
    print("registered", flush=True)
    await asyncio.gather(*tasks)
    try:
        await asyncio.Event().wait()
    finally:
        await zc.async_close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(pair: NetnsPair, count: int, idle: float, timeout: float, args: list[str], ready: bytes) -> dict:
    """Start the browser, then `args` in the site namespace: seconds to all seen, to the `ready` line,
    and the announcer's idle CPU (% of one core)."""
    browser = await pair.spawn(pair.lan, sys.executable, "-m", "bench.discovery", "--browse", str(count),
                               "--timeout", str(timeout))  # fmt: skip
    announcer = None
    try:
        assert browser.stdout is not None
        await asyncio.wait_for(browser.stdout.readline(), 20)
        began = time.time()
        announcer = await pair.spawn(pair.site, *args)
        assert announcer.stdout is not None
        while True:
            line = await asyncio.wait_for(announcer.stdout.readline(), timeout)
            if not line:
                stderr = (await announcer.stderr.read()).decode()[-500:] if announcer.stderr else ""
                raise BenchError(f"the announcing process stopped: {stderr}")
            if line.startswith(ready):
                break
        ready_s = time.time() - began
        result = json.loads(await asyncio.wait_for(browser.stdout.readline(), timeout + 5))
        if result["all_seen_at"] is None:
            raise BenchError(f"the browser saw {result['seen']} of {count} within {timeout:g} s")
        await asyncio.sleep(SETTLE_S)
        before, at = _cpu_seconds(announcer.pid), time.monotonic()
        await asyncio.sleep(idle)
        cpu = 100 * (_cpu_seconds(announcer.pid) - before) / (time.monotonic() - at)
        return {"seen_s": result["all_seen_at"] - began, "ready_s": ready_s, "idle_cpu_pct": cpu}
    finally:
        if announcer is not None:
            await stop(announcer, interrupt=True)
        await stop(browser)


async def measure(count: int, idle: float, timeout: float) -> tuple[dict, dict]:
    """(axisim, baseline) in one pair of namespaces."""
    inventory = f"/tmp/axisim-bench-{os.getpid()}"
    with netns_pair(os.getpid()) as pair:
        try:
            fleet = await _measure(pair, count, idle, timeout, [
                sys.executable, "-m", "axisim", "fleet", "--count", str(count), "--models",
                "S3008,S3016,S4000,C1410MkII,W401", "--host", pair.site_ip, "--base-port", str(BASE_PORT), "--no-rtsp",
                "--discovery", "--quiet", "--control-host", pair.site_ip, "--inventory", inventory,
            ], b"fleet:")  # fmt: skip
        finally:
            for suffix in (".json", ".csv"):
                Path(inventory + suffix).unlink(missing_ok=True)
        baseline = await _measure(pair, count, idle, timeout, [
            sys.executable, "-m", "bench.discovery", "--plain", str(count), "--address", pair.site_ip,
        ], b"registered")  # fmt: skip
    return fleet, baseline


def discovery(count: int, idle: float, timeout: float = 180.0) -> list[Row]:
    """Row 9: time to all seen, and idle CPU, axisim next to plain python-zeroconf."""
    name = f"discovery: {count:,} devices seen across namespaces"
    reason = unavailable()
    if reason:
        return [Row("9", name, "skipped", note=f"skipped: {reason} (needs root and iproute2: two namespaces)")]
    fleet, plain_ = asyncio.run(measure(count, idle, timeout))
    return [
        Row("9", name, f"{fleet['seen_s']:.2f} s", f"{plain_['seen_s']:.2f} s", fleet["seen_s"] / plain_["seen_s"],
            note=f"from the command to a zeroconf browser in the other namespace having every _axis-video "
            f"instance; the fleet had every device listening at {fleet['ready_s']:.2f} s (each announces as it "
            f"starts: the last was seen {fleet['seen_s'] - fleet['ready_s']:.2f} s after that); baseline: one "
            f"process registering {count:,} plain ServiceInfos at once on one Zeroconf",
            data={"axisim": fleet, "baseline": plain_}),
        Row("9", "  announcing process idle CPU", f"{fleet['idle_cpu_pct']:.1f} %", f"{plain_['idle_cpu_pct']:.1f} %",
            note=f"% of one core over {idle:g} s, {SETTLE_S:g} s after all were seen; axisim's is the whole fleet "
            "process (its idle listeners and the responder's sweep)"),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.discovery", description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--browse", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plain", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.browse is not None:
        asyncio.run(browse(args.browse, args.timeout))
        return 0
    if args.plain is not None:
        with contextlib.suppress(KeyboardInterrupt):  # the benchmark stops it with SIGINT
            asyncio.run(plain(args.plain, args.address))
        return 0
    from .report import table

    rows = discovery(args.count, args.idle, args.timeout)
    print(table(rows))
    return 1 if any(row.broken for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
