"""Where benchmark 5's time goes: the server's CPU per request of the mixed workload with parts of
axisim switched off in the server process, then each call alone against the bare baseline.

    python3 -m bench.where [--duration 3] [--repeat 3] [--size 100] [--connections 16] [--client c]

Switches (bench/fleetserve.py --without, measurement only: the replies stay right, nothing is
checked): `digest` answers every Authorization header naming a known user as that user, without
parsing or hashing; `journal` records nothing; `lean` serves every connection with aiohttp's own
handler (DeviceProtocol) instead of the lean connection (axisim/lean_connection.py). The
difference to the full server is what that part costs per request in the server (caches and
all), which timing it in isolation understates 2-3x.
The floor is plain asyncio listeners answering a fixed reply without any HTTP framework: what the
sockets and the event loop cost, so bare aiohttp minus the floor is aiohttp's own share.
Every server runs at once and they are measured in turns, `--repeat` rounds, medians shown: on a
shared machine one run moves 5-20 %, and a slow spell then falls on every variant alike.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
from typing import Any

SWITCHES = ("digest", "journal", "lean")


def switch_off(names: list[str]) -> None:
    """Replace the named parts of axisim in this (server) process with the cheapest stand-in."""
    unknown = set(names) - set(SWITCHES)
    if unknown:
        raise SystemExit(f"unknown --without {sorted(unknown)}; known: {', '.join(SWITCHES)}")
    if "digest" in names:
        import axisim.pipeline
        from axisim.auth import NO_CREDENTIALS, AuthResult, Outcome

        def trusting(authorization: str | None, *, accounts: Any, **_: Any) -> AuthResult:
            name = (authorization or "").partition('username="')[2].partition('"')[0]
            account = accounts.get(name)
            return AuthResult(Outcome.OK, account=account, username=name) if account else NO_CREDENTIALS

        axisim.pipeline.authenticate = trusting  # type: ignore[assignment]
    if "journal" in names:
        from axisim.control.journal import Journal

        Journal.record = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    if "lean" in names:
        import axisim.device_runner

        axisim.device_runner.LEAN = False


def main(argv: list[str] | None = None) -> int:
    from .loadgen import LoadGenerator, Turns
    from .mixed import CALLS, device_targets, retargeted
    from .probe import probe
    from .servers import ServerProcess

    parser = argparse.ArgumentParser(prog="python3 -m bench.where", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over every variant; medians shown (default 3)")
    parser.add_argument("--size", type=int, default=100, help="devices (default 100, as benchmark 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--client", choices=["c", "raw", "aiohttp"], default="c")
    parser.add_argument("--mix", default="S3008,S3016,S4000,C1410MkII,W401")
    args = parser.parse_args(argv)
    load = LoadGenerator(args.connections, args.duration, use_wrk=False, engine=args.client)
    print(f"load generator: {load.describe()}; {args.repeat} rounds, medians", flush=True)

    variants = ["", "lean", "digest", "journal", "digest,journal"]
    with contextlib.ExitStack() as running:  # every server up at once, measured in turns (Turns)
        servers: dict[str, ServerProcess] = {}
        for without in variants:
            switches = ["--without", without] if without else []
            command = ["axisim", "--size", str(args.size), "--mix", args.mix, *switches]
            servers[without] = running.enter_context(ServerProcess("bench.fleetserve", *command, timeout=120))
        servers["bare"] = running.enter_context(ServerProcess("bench.fleetserve", "bare", "--size", str(args.size)))
        servers["floor"] = running.enter_context(ServerProcess("bench.fleetserve", "floor", "--size", str(args.size)))
        targets = {without: probe(lambda s, w=without: device_targets(s, servers[w].info["devices"]))
                   for without in variants}  # fmt: skip
        for plain in ("bare", "floor"):
            targets[plain] = retargeted(targets[""], servers[plain].info["devices"])
        sides = {f"mix {name}": (targets[name], server) for name, server in servers.items()}
        for number in range(len(CALLS)):
            for name in ("", "bare"):
                sides[f"call {number} {name}"] = (targets[name][number :: len(CALLS)], servers[name])
        turns = Turns(load, args.repeat, "where")
        turns.measure(sides)
    if turns.errors:
        raise SystemExit(f"{turns.errors} errors under load: the figures would not mean anything")

    def cpu(side: str) -> list[float]:
        return [run.cpu_per_request_us or 0.0 for run in turns.runs[side]]

    mixed = {name: cpu(f"mix {name}") for name in servers}
    full = statistics.median(mixed[""])
    print(f"\nmixed workload, {args.size} devices        server CPU per request (median)   vs axisim")
    for name, values in mixed.items():
        labels = {"bare": "bare aiohttp (baseline)", "floor": "plain asyncio, no framework (floor)", "": "axisim"}
        label = labels.get(name, f"axisim without {name}")
        median, runs = statistics.median(values), ", ".join(f"{value:.0f}" for value in values)
        print(f"{label:36s} {median:8.1f} µs   {median - full:+7.1f} µs   (runs {runs})")
    print("\neach call alone                                     axisim µs   bare µs   ratio")
    for number, call in enumerate(CALLS):
        mine, bare = statistics.median(cpu(f"call {number} ")), statistics.median(cpu(f"call {number} bare"))
        print(f"{call.path[:50]:50s}  {mine:8.1f}  {bare:8.1f}   {bare / mine if mine else 0:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
