"""What every server subprocess shares: announce itself on stdout, then stay up until told to go.

The parent reads one JSON line (where to reach the server) and closes our stdin when done;
a signal works too, so a killed benchmark run never leaves listeners behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import signal
import sys
from typing import Any


def rss_bytes() -> int:
    """Resident memory of this process after a full collection (what the kernel really holds)."""
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def raise_file_limit(needed: int) -> None:
    """A thousand listeners need more open files than the usual soft limit of 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def announce_and_wait(info: dict[str, Any]) -> None:
    """Print `info` as one JSON line, then return when stdin closes or SIGTERM/SIGINT arrives."""
    print(json.dumps(info), flush=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, done.set)
    descriptor = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(descriptor, 4096)
        except OSError:
            data = b""
        if not data:
            done.set()

    loop.add_reader(descriptor, readable)
    try:
        await done.wait()
    finally:
        loop.remove_reader(descriptor)
