"""The load generator every benchmark shares, so axisim and its baseline see the same load:
wrk for a single URL when it is installed, else a client in its own process: the C client of
bench/cclient.c (--client c, the default, built with the machine's compiler), or where it cannot be
built the raw Python client of bench/client.py (--client raw or aiohttp)."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, replace

from . import native
from .probe import Target
from .servers import ROOT, BenchError, ServerProcess

WRK_TIMEOUT = "5s"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True)
class LoadResult:
    generator: str  # "wrk" or "client"
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float | None
    p99_ms: float | None
    server_cpu_s: float | None = None  # CPU the server process used during the run
    client_cpu_s: float | None = None  # CPU the client process used (None for wrk)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_request_us(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6

    @property
    def client_bound(self) -> bool:
        """The client process needed at least as much CPU as the server it loaded: with a core
        each, the client set the pace, and a ratio against a faster server is compressed toward 1."""
        if self.client_cpu_s is None or self.server_cpu_s is None:
            return False
        return self.client_cpu_s >= self.server_cpu_s

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"rate": self.rate, "cpu_per_request_us": self.cpu_per_request_us}


class LoadGenerator:
    """N connections for a fixed duration against one URL (wrk) or a random mix of requests (client)."""

    def __init__(self, connections: int, duration: float, use_wrk: bool = True, engine: str = "c") -> None:
        self.connections = connections
        self.duration = duration
        self.wrk = shutil.which("wrk") if use_wrk else None
        self.fallback_reason: str | None = None  # why the C client was asked for and not used
        if engine == "c":
            self.fallback_reason = native.available()
            if self.fallback_reason:
                engine = "raw"
        self.engine = engine  # of the client: "c" (bench/cclient.c), "raw" or "aiohttp" (bench/client.py)

    @property
    def wrk_seconds(self) -> int:
        """wrk takes whole seconds."""
        return max(1, math.ceil(self.duration - 1e-9))

    def describe(self) -> str:
        client = f"{self.client_name()} ({self.connections} connections, {self.duration:g} s)"
        if self.fallback_reason:
            client += f" [the C client was not built: {self.fallback_reason}]"
        if not self.wrk:
            return client
        return f"{wrk_version(self.wrk)} for one URL ({self.connections} connections, {self.wrk_seconds} s); {client}"

    def client_name(self) -> str:
        kinds = {"c": "C client (bench/cclient.c)", "aiohttp": "aiohttp client", "raw": "raw asyncio HTTP/1.1 client"}
        kind = kinds[self.engine]
        return f"{kind} in its own process"

    def run(
        self, targets: list[Target], server: ServerProcess, *, seed: str = "bench", client: bool = False
    ) -> LoadResult:
        """Load `targets` served by `server`; wrk for a single GET unless `client` asks for the client process."""
        before = server.cpu_seconds()
        if self.wrk and not client and len(targets) == 1 and targets[0].method == "GET" and not targets[0].body:
            result = self._run_wrk(self.wrk, targets[0])
        else:
            result = self._run_client(targets, seed)
        after = server.cpu_seconds()
        return replace(result, server_cpu_s=after - before if before is not None and after is not None else None)

    def _run_wrk(self, wrk: str, target: Target) -> LoadResult:
        command = [wrk, "-t", "1", "-c", str(self.connections), "-d", f"{self.wrk_seconds}s", "--latency",
                   "--timeout", WRK_TIMEOUT]  # fmt: skip
        for name, value in target.headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(target.url)
        done = subprocess.run(command, capture_output=True, text=True, timeout=self.wrk_seconds + 60, check=False)
        if done.returncode != 0:
            raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return parse_wrk(done.stdout)

    def _run_client(self, targets: list[Target], seed: str) -> LoadResult:
        spec = {"targets": [asdict(t) for t in targets], "connections": self.connections,
                "duration": self.duration, "requests": None, "seed": seed, "engine": self.engine}  # fmt: skip
        if self.engine == "c":
            try:
                out = native.run(spec, timeout=self.duration + 120)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                raise BenchError(str(exc)) from exc
        else:
            done = subprocess.run(
                [sys.executable, "-m", "bench.client"], cwd=ROOT, input=json.dumps(spec), capture_output=True,
                text=True, timeout=self.duration + 120, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise BenchError(f"the load client failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
            out = json.loads(done.stdout)
        return LoadResult("client", out["requests"], out["seconds"], out["non2xx"], out["socket_errors"],
                          out["p50_ms"], out["p99_ms"], client_cpu_s=out["cpu_s"])  # fmt: skip


class Turns:
    """Two or more sides loaded in turn, `rounds` times each, every server up throughout: a slow
    spell of a shared machine (one run here moves 5-20 %) then falls on every side alike. Each side
    is reported by its median run (its latencies and CPU with it); errors are counted over all."""

    def __init__(self, load: LoadGenerator, rounds: int, seed: str) -> None:
        self.load, self.rounds, self.seed = load, max(1, rounds), seed
        self.runs: dict[str, list[LoadResult]] = {}

    def measure(self, sides: dict[str, tuple[list[Target], ServerProcess]]) -> dict[str, LoadResult]:
        for _ in range(self.rounds):
            for name, (targets, server) in sides.items():
                self.runs.setdefault(name, []).append(self.load.run(targets, server, seed=self.seed, client=True))
        return {name: sorted(runs, key=lambda run: run.rate)[len(runs) // 2] for name, runs in self.runs.items()}

    @property
    def errors(self) -> int:
        return sum(run.errors for runs in self.runs.values() for run in runs)

    def as_json(self) -> dict[str, list[dict[str, object]]]:
        """Every run of every side, for --json."""
        return {name: [run.as_dict() for run in runs] for name, runs in self.runs.items()}

    def ratios(self, numerator: str, denominator: str) -> str:
        """Each round's ratio, for the note: how far one run could have moved the figure."""
        pairs = zip(self.runs[numerator], self.runs[denominator], strict=True)
        return ", ".join(f"{a.rate / b.rate:.2f}" for a, b in pairs if b.rate)


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10, check=False)
    found = re.search(r"(\d+\.\d+(?:\.\d+)?)", done.stdout + done.stderr)
    return f"wrk {found.group(1)}" if found else "wrk"


def _milliseconds(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not found:
        raise BenchError(f"wrk printed a latency I cannot read: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Requests, duration, errors and the 50%/99% latencies of `wrk --latency` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    if not total:
        raise BenchError(f"wrk printed no request count:\n{output}")
    seconds = _milliseconds(total.group(2) + total.group(3)) / 1000
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    return LoadResult(
        "wrk", int(total.group(1)), seconds, int(non2xx.group(1)) if non2xx else 0,
        sum(int(n) for n in sockets.groups()) if sockets else 0,
        _milliseconds(p50.group(1)) if p50 else None, _milliseconds(p99.group(1)) if p99 else None,
    )  # fmt: skip


def cpu_note(axisim: LoadResult, baseline: LoadResult, names: tuple[str, str] = ("axisim", "baseline")) -> str:
    """Server CPU per request of both sides, and a warning where the fallback client, not the server,
    set the pace."""
    mine, theirs = axisim.cpu_per_request_us, baseline.cpu_per_request_us
    if mine is None or theirs is None:
        return ""
    note = f"server CPU per request: {names[0]} {mine:,.0f} µs, {names[1]} {theirs:,.0f} µs"
    if mine > 0:
        note += f" (ratio {theirs / mine:.2f})"
    bound = [side for side, result in zip(names, (axisim, baseline), strict=True) if result.client_bound]
    if bound:
        note += f"; client-bound on {' and '.join(bound)} (client CPU >= server CPU): req/s ratio compressed toward 1"
    return note
