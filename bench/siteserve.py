"""A site subprocess for benchmarks 10 and 11: `axisim fleet --workers N` as a user starts it.

    python -m bench.siteserve --size 100 --mix S3008,W401 --workers 2 [--loopback]

Prints one JSON line (start time, every process's resident memory, the devices from the site's
inventory), then serves until stdin closes, and stops the site (SIGTERM: the workers go with it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .child import announce_and_wait

HOST = "127.0.0.1"


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc/<pid>/task/*/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue += [int(child) for child in task.read_text(encoding="ascii").split()]
            except OSError:
                continue
    return found


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants (VmRSS; shared pages counted in each)."""
    total = 0
    for member in descendants(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text(encoding="ascii").splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--mix", required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--loopback", action="store_true")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-site-")
    control = free_port()
    addressing = ["--loopback", "--base-port", str(free_port())] if args.loopback else ["--base-port", "0"]
    command = [
        sys.executable, "-m", "axisim", "fleet", "--count", str(args.size), "--models", args.mix,
        "--seed", "bench", *addressing, "--no-rtsp", "--workers", str(args.workers), "--control-port", str(control),
        "--quiet", "--inventory", str(Path(scratch) / "inventory"),
    ]  # fmt: skip
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=None, stdin=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if not line:
            sys.exit(f"the site did not start (status {process.wait()})")
        if line.startswith("control:"):
            break
    ready = time.perf_counter()
    rss = tree_rss(process.pid)
    inventory: dict[str, Any] = json.loads(
        await asyncio.to_thread(_get, f"http://{HOST}:{control}/inventory.json")
    )  # fmt: skip
    devices = [
        {"url": d["url"], "username": d["username"], "password": d["password"], "serial": d["serial"],
         "model": d["model"]}
        for d in inventory["devices"]
    ]  # fmt: skip
    try:
        await announce_and_wait({
            "kind": "site", "size": args.size, "workers": args.workers, "start_s": ready - began, "rss": rss,
            "per_device_bytes": rss / args.size, "pids": descendants(process.pid), "devices": devices,
        })  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _get(url: str) -> str:
    from urllib.request import urlopen

    with urlopen(url, timeout=120) as reply:
        return reply.read().decode("utf-8")


if __name__ == "__main__":
    asyncio.run(main())
