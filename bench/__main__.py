"""`python3 -m bench`: run the benchmarks, each next to its baseline under the same load generator,
and print one table. Exit 0 even when a target is missed (it is a measurement); 1 when something
broke (a server did not start, a reply was wrong, errors under load)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .discovery import discovery
from .events import events
from .fleet_start import fleet_start
from .loadgen import LoadGenerator
from .mixed import mixed
from .mqtt import mqtt_fleet
from .report import Row, table
from .servers import BenchError
from .single import brand_anonymous, digest_vs_anonymous, full_list
from .site import largest_site, workers_speedup
from .ws_events import ws_events

MIX = "S3008,S3016,S4000,C1410MkII,W401"


@dataclass(frozen=True)
class Settings:
    load: LoadGenerator
    fleet_size: int
    mixed_size: int
    mix: str
    duration: float = 3.0
    site_size: int = 10_000
    rounds: int = 3  # benchmarks 5 and 10: measurements in turn per side


BENCHMARKS: dict[int, tuple[str, Callable[[Settings], list[Row]]]] = {
    1: ("param.cgi list root.Brand (anonymous)", lambda s: brand_anonymous(s.load)),
    2: ("param.cgi full list, largest model (Digest)", lambda s: full_list(s.load)),
    3: ("Digest vs anonymous", lambda s: digest_vs_anonymous(s.load)),
    4: ("fleet start", lambda s: fleet_start(s.fleet_size, s.mix)),
    5: ("mixed workload over a fleet", lambda s: mixed(s.load, s.mixed_size, s.mix, rounds=s.rounds)),
    6: ("device event bus", events),
    7: ("events over WebSocket, fleet", lambda s: ws_events(s.fleet_size, s.duration)),
    8: ("MQTT: a fleet publishing to one broker", lambda s: mqtt_fleet(s.fleet_size)),
    9: ("discovery: a fleet announced over mDNS (root: two network namespaces)",
        lambda s: discovery(s.fleet_size, max(s.duration, 5.0))),
    10: ("a site on 2 workers against 1", lambda s: workers_speedup(s.load, s.mixed_size, s.mix, rounds=s.rounds)),
    11: ("the largest site across workers", lambda s: largest_site(s.site_size, s.mix)),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__)
    parser.add_argument("--only", help="comma list of benchmark numbers, e.g. 1,3 (default: all)")
    parser.add_argument("--duration", type=float, help="seconds per measurement (default 3, 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="1 s per measurement, 1 round (fleet sizes unchanged)")
    parser.add_argument("--rounds", type=int, help="5 and 10: each side measured in turn, medians (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--fleet-size", type=int, default=1000, help="devices in benchmark 4 (default 1000)")
    parser.add_argument("--mixed-size", type=int, default=100, help="devices in benchmark 5 (default 100)")
    parser.add_argument("--site-size", type=int, default=10_000,
                        help="devices in benchmark 11 (default 10000; 100000 for the issue's target: ~12 GB, minutes)")
    parser.add_argument("--mix", default=MIX, help=f"fleet models, as `axisim fleet --mix` (default {MIX})")
    parser.add_argument("--no-wrk", action="store_true", help="use the client process even if wrk is installed")
    parser.add_argument("--client", choices=["c", "raw", "aiohttp"], default="c",
                        help="client where wrk is not used (and for the mixes of 5 and 10): the C client "
                        "(default; raw where it cannot be built), raw asyncio (about 40 µs of CPU per request), "
                        "or an aiohttp ClientSession (about three times that: client-bound)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    try:
        args.only = sorted({int(n) for n in args.only.split(",") if n.strip()}) if args.only else sorted(BENCHMARKS)
    except ValueError:
        parser.error("--only takes numbers, e.g. --only 1,3")
    if not args.only or any(n not in BENCHMARKS for n in args.only):
        parser.error(f"--only: benchmarks are {', '.join(map(str, BENCHMARKS))}")
    if args.duration is None:
        args.duration = 1.0 if args.quick else 3.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    sizes = (args.fleet_size, args.mixed_size, args.site_size)
    if not 0 < args.duration <= 600 or min(args.connections, args.rounds, *sizes) < 1:
        parser.error("--duration (0-600 s), --connections, --rounds and the sizes must be positive")
    return args


def _terminated(number: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + number)  # unwinds the with-blocks, which stop the server processes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    load = LoadGenerator(args.connections, args.duration, use_wrk=not args.no_wrk, engine=args.client)
    settings = Settings(load, args.fleet_size, args.mixed_size, args.mix, args.duration, args.site_size, args.rounds)
    print(f"load generator: {load.describe()}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    for number in args.only:
        name, run = BENCHMARKS[number]
        print(f"[{time.perf_counter() - started:5.1f} s] running {number}: {name}", file=sys.stderr, flush=True)
        try:
            rows += run(settings)
        except BenchError as exc:
            rows.append(Row(str(number), name, failed=str(exc).strip()))
        except Exception as exc:  # a broken benchmark must not hide the others' results
            traceback.print_exc()
            rows.append(Row(str(number), name, failed=f"{type(exc).__name__}: {exc}"))
    total = time.perf_counter() - started
    print(table(rows))
    print(f"total: {total:.1f} s")
    if args.json:
        results = {"load_generator": load.describe(), "options": {k: str(v) for k, v in vars(args).items()},
                   "total_s": total, "results": [row.as_json() for row in rows]}  # fmt: skip
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 1 if any(row.broken for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
