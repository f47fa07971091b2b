"""Discovery benchmark (issue 21): `--count` (1000) devices announced by one `axisim fleet --discovery`
process in one network namespace; a python-zeroconf browser in another (a veth pair between them,
tests/netns.py; root only). Prints the time from the fleet command to the browser having seen every
`_axis-video._tcp` instance (and when every device listened), and the fleet process's CPU while idle afterwards.

    python3 -m bench.discovery [--count 1000] [--idle 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from tests.netns import netns_pair, stop, unavailable

VIDEO = "_axis-video._tcp.local."


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


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(count: int, idle: float, timeout: float) -> int:
    reason = unavailable()
    if reason:
        print(f"discovery benchmark skipped: {reason}")
        return 0
    with netns_pair(os.getpid()) as pair:
        browser = await pair.spawn(pair.lan, sys.executable, "-m", "bench.discovery", "--browse", str(count),
                                   "--timeout", str(timeout))  # fmt: skip
        assert browser.stdout is not None
        await asyncio.wait_for(browser.stdout.readline(), 20)
        began = time.time()
        fleet = await pair.spawn(
            pair.site, sys.executable, "-m", "axisim", "fleet", "--count", str(count), "--models",
            "S3008,S3016,S4000,C1410MkII,W401", "--host", pair.site_ip, "--base-port", "20000", "--no-rtsp",
            "--discovery", "--quiet", "--control-host", pair.site_ip, "--inventory", f"/tmp/axisim-bench-{os.getpid()}",
        )  # fmt: skip
        try:
            assert fleet.stdout is not None
            listening = None
            while listening is None:
                line = await asyncio.wait_for(fleet.stdout.readline(), timeout)
                if not line:
                    print("the fleet stopped:", (await fleet.stderr.read()).decode()[-500:] if fleet.stderr else "")
                    return 1
                if line.startswith(b"fleet:"):
                    listening = time.time()
            result = json.loads(await asyncio.wait_for(browser.stdout.readline(), timeout + 5))
            if result["all_seen_at"] is None:
                print(f"the browser saw {result['seen']} of {count} within {timeout:g} s")
                return 1
            print(f"{count} devices: the browser in the other namespace saw every _axis-video instance "
                  f"{result['all_seen_at'] - began:.2f} s after the fleet command (all listening at "
                  f"{listening - began:.2f} s; devices announce as each starts)")  # fmt: skip
            await asyncio.sleep(3)  # the last announcements' repeats
            before, at = _cpu_seconds(fleet.pid), time.monotonic()
            await asyncio.sleep(idle)
            used = _cpu_seconds(fleet.pid) - before
            print(f"fleet process idle with discovery on: {100 * used / (time.monotonic() - at):.1f} % of one core "
                  f"over {idle:g} s")  # fmt: skip
        finally:
            await stop(fleet, interrupt=True)
            await stop(browser)
            for suffix in (".json", ".csv"):
                Path(f"/tmp/axisim-bench-{os.getpid()}{suffix}").unlink(missing_ok=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.discovery", description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--browse", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.browse is not None:
        asyncio.run(browse(args.browse, args.timeout))
        return 0
    return asyncio.run(run(args.count, args.idle, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
