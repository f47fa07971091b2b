"""`axisim fleet --workers N`: the site cut into N shards, each an `axisim fleet --shard K/N`
process of its own (one core each), started, watched and restarted by the parent.

A worker is told its shard and a control port of its own choosing (0); it prints its control URL
once every device listens, which is when the parent counts it as started. A worker that exits
while the site runs is reported on stderr and started again with the same arguments, so it
comes back with the same devices and, with --state-dir, the same state; the others keep serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..fleet_plan import Shard

START_TIMEOUT = 900.0  # seconds for a worker's devices to listen (a shard of 50,000 takes a few minutes)
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # after the 1st, 2nd... exit in a row
STEADY = 60.0  # a worker up this long has its restart delay start over
# options the parent decides for every worker (values taken), and its own flags
MANAGED_VALUES = {"--workers", "--shard", "--control-port", "--control-host", "--inventory"}
MANAGED_FLAGS = {"--quiet", "--workers"}
PR_SET_PDEATHSIG = 1


def worker_argv(argv: list[str]) -> list[str]:
    """The user's `fleet` arguments without those the parent sets for each worker."""
    kept: list[str] = []
    skip = False
    for index, token in enumerate(argv):
        if skip:
            skip = False
            continue
        name = token.split("=", 1)[0]
        if name in MANAGED_VALUES and "=" not in token:
            following = argv[index + 1] if index + 1 < len(argv) else ""
            # --workers takes an optional count: skip the next token only when it is one
            skip = name != "--workers" or following.isdigit()
            continue
        if name in MANAGED_VALUES or name in MANAGED_FLAGS:
            continue
        kept.append(token)
    return kept


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies, so no shard outlives its site."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Worker:
    """One shard's process."""

    shard: Shard
    argv: list[str]  # the `fleet` arguments, without the managed ones
    inventory: Path  # the stem the worker writes its own inventory to
    process: asyncio.subprocess.Process | None = None
    control: str = ""  # http://127.0.0.1:<port> once started
    ready: bool = False
    restarts: int = 0
    problem: str = ""  # the aggregator's ShardView: why it is not ready (keep_running reports it)
    exits: list[int] = field(default_factory=list)  # return codes of past exits, latest last
    started_at: float = 0.0
    _drain: asyncio.Task[None] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "axisim", "fleet", *self.argv, "--shard", str(self.shard),
            "--control-host", "127.0.0.1", "--control-port", "0", "--inventory", str(self.inventory), "--quiet",
        ]  # fmt: skip

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the process and wait for its control URL (RuntimeError with its last words if it
        exits or says nothing in time)."""
        self.ready = False
        self.process = await asyncio.create_subprocess_exec(
            *self.command(), stdout=asyncio.subprocess.PIPE, stderr=None, preexec_fn=_die_with_parent
        )  # fmt: skip
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = await asyncio.wait_for(self.process.stdout.readline(), max(remaining, 0.01))
            except TimeoutError:
                await self.stop()
                raise RuntimeError(f"worker {self.shard} did not start within {timeout:g} s") from None
            if not line:
                code = await self.process.wait()
                raise RuntimeError(f"worker {self.shard} exited with status {code} while starting")
            text = line.decode("utf-8", "replace")
            if text.startswith("control:"):
                self.control = text.split()[1].removesuffix("/devices")
                break
        self.started_at = time.monotonic()
        self.ready, self.problem = True, ""
        self._drain = asyncio.create_task(self._drain_stdout())

    async def _drain_stdout(self) -> None:
        """Read what the worker prints after starting, so its pipe never fills."""
        assert self.process is not None and self.process.stdout is not None
        while await self.process.stdout.readline():
            pass

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        process = self.process
        self.ready = False
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self._drain is not None:
            self._drain.cancel()

    async def keep_running(self, report: Callable[[str], None]) -> None:
        """Restart the worker whenever it exits, until cancelled."""
        while True:
            assert self.process is not None
            code = await self.process.wait()
            self.ready = False
            self.problem = f"exited with status {code}; restarting"
            self.exits.append(code)
            in_a_row = 0 if time.monotonic() - self.started_at > STEADY else min(self.restarts, len(RESTART_DELAYS) - 1)
            delay = RESTART_DELAYS[in_a_row]
            report(f"worker {self.shard} (pid {self.process.pid}) exited with status {code}; restarting in {delay:g} s")
            await asyncio.sleep(delay)
            self.restarts += 1
            try:
                await self.start()
            except RuntimeError as exc:
                report(f"{exc}; trying again")
                continue
            report(f"worker {self.shard} is back (pid {self.process.pid}, control {self.control})")
