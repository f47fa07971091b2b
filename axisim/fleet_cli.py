"""`axisim fleet`: start a site of simulated devices, print and write its inventory,
and serve the control API beside it."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import os
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from . import fleet_addresses
from .cli_args import HTTPS_OFFSET, host, port, seconds, seed, whole
from .control.http import start_control
from .device import AccountSpec
from .fleet import Fleet
from .fleet_file import load_fleet_file
from .fleet_plan import (
    MAX_SECONDS,
    MAX_SITE,
    RTSP_AUTO_MAX,
    Addressing,
    FleetError,
    FleetPlan,
    Group,
    Options,
    Shard,
    make_plan,
    parse_mix,
    parse_shard,
)
from .model import ModelError, add_fixtures_dir
from .rtsp import RTSP_OFFSET, RtspListenError
from .server import ListenError
from .site.run import run_site

DEFAULT_CONTROL_PORT = 8079
DEFAULT_INVENTORY = "axisim-inventory"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    fleet = commands.add_parser("fleet", help="start many simulated devices in one process")
    fleet.add_argument("--file", type=Path, help="fleet file (TOML): models, variants, counts, accounts, options")
    fleet.add_argument(
        "--count", type=whole(1, MAX_SITE), default=10,
        help="how many devices in the site, default 10 (without --file)",
    )  # fmt: skip
    fleet.add_argument(
        "--workers", type=whole(1, 256), nargs="?", const=os.cpu_count() or 1, metavar="N",
        help="run the site as N worker processes (one shard each, --workers alone: one per core, "
        f"{os.cpu_count() or 1} here) behind one control API; a worker that dies is restarted",
    )  # fmt: skip
    fleet.add_argument(
        "--shard", metavar="K/N",
        help="serve shard K (0 to N-1) of the site cut into N: a contiguous run of its devices, the same identities, "
        "addresses and state as in one process (default: $AXISIM_SHARD, or $AXISIM_SHARD_INDEX of "
        "$AXISIM_SHARD_COUNT, else the whole site)",
    )  # fmt: skip
    fleet.add_argument(
        "--models", default="S3008", metavar="MIX",
        help="model mix, e.g. S3008:3,S3016,W401 (weights), default S3008",
    )  # fmt: skip
    add_fixtures_option(fleet)
    fleet.add_argument("--seed", type=seed, default="axisim", help="identity seed: the same seed, the same fleet")
    fleet.add_argument("--loopback", action="store_true", help="each device on its own 127.0.x.y, same port")
    fleet.add_argument(
        "--interface", metavar="IFACE",
        help="each device on its own address of IFACE from --first-address, same port (added when permitted)",
    )  # fmt: skip
    fleet.add_argument("--first-address", type=host, metavar="ADDRESS", help="the first device's address (--interface)")
    fleet.add_argument(
        "--host", type=host, default="127.0.0.1", help="address of every device (ports mode), default 127.0.0.1"
    )  # fmt: skip
    fleet.add_argument(
        "--base-port", type=port, help="first device's port (ports mode, default 20000) or every device's port "
        "(--loopback, default 8080)",
    )  # fmt: skip
    fleet.add_argument("--https", action="store_true", help="an HTTPS listener per device too")
    fleet.add_argument(
        "--https-base-port", type=port, metavar="PORT",
        help="first device's HTTPS port (ports mode, default: right after the HTTP ports, --base-port + count) "
        f"or every device's (--loopback, default --base-port + {HTTPS_OFFSET})",
    )  # fmt: skip
    rtsp = fleet.add_mutually_exclusive_group()
    rtsp.add_argument(
        "--rtsp", action="store_true", default=None,
        help=f"serve the RTSP event stream on every device (default: in fleets of up to {RTSP_AUTO_MAX} devices)",
    )  # fmt: skip
    rtsp.add_argument("--no-rtsp", dest="rtsp", action="store_false", help="serve no RTSP event stream")
    fleet.add_argument(
        "--rtsp-port", type=port, metavar="PORT",
        help="first device's RTSP port (ports mode, default: after the HTTPS block, --base-port + 2 x count) or "
        f"every device's (--loopback, default 554 where it can be bound, else --base-port + {RTSP_OFFSET})",
    )  # fmt: skip
    fleet.add_argument(
        "--no-websocket-events", dest="websocket_events", action="store_false",
        help="devices without the WebSocket event stream (apidiscovery leaves it out: clients take RTSP)",
    )  # fmt: skip
    fleet.add_argument(
        "--discovery", action="store_true", help="announce every device over mDNS/Bonjour (README \"Discovery\")"
    )  # fmt: skip
    fleet.add_argument("--user", default="root", help="first account's name, default root")
    fleet.add_argument("--password", default="pass", help="first account's password, default pass")
    fleet.add_argument(
        "--boot-time", type=seconds(MAX_SECONDS), default=0.0, help="seconds offline during a restart, default 0"
    )  # fmt: skip
    fleet.add_argument(
        "--ready-time", type=seconds(MAX_SECONDS), default=0.0, help="seconds booting after it, default 0"
    )  # fmt: skip
    fleet.add_argument("--state-dir", type=Path, help="keep each device's state in STATE_DIR/<serial>")
    fleet.add_argument(
        "--control-host", type=host, default="127.0.0.1", help="control API address, default 127.0.0.1"
    )  # fmt: skip
    fleet.add_argument(
        "--control-port", type=port, default=DEFAULT_CONTROL_PORT,
        help=f"control API port, default {DEFAULT_CONTROL_PORT} (0: any free port)",
    )  # fmt: skip
    fleet.add_argument(
        "--inventory", type=Path, metavar="STEM",
        help=f"write STEM.json and STEM.csv (default: STATE_DIR/inventory or ./{DEFAULT_INVENTORY})",
    )  # fmt: skip
    fleet.add_argument("--quiet", action="store_true", help="print a summary, not every device")


def shard_from(args: argparse.Namespace, environ: dict[str, str] | os._Environ[str] = os.environ) -> Shard:
    """--shard, else AXISIM_SHARD (`K/N`), else AXISIM_SHARD_INDEX and AXISIM_SHARD_COUNT (a
    StatefulSet's pod ordinal and its replicas), else the whole site."""
    if args.shard is not None:
        return parse_shard(args.shard)
    if environ.get("AXISIM_SHARD"):
        return parse_shard(environ["AXISIM_SHARD"])
    index, count = environ.get("AXISIM_SHARD_INDEX"), environ.get("AXISIM_SHARD_COUNT")
    if index is not None or count is not None:
        if index is None or count is None:
            raise FleetError("set both AXISIM_SHARD_INDEX and AXISIM_SHARD_COUNT (or AXISIM_SHARD=K/N)")
        return parse_shard(f"{index}/{count}")
    return Shard()


def add_fixtures_option(parser: argparse.ArgumentParser) -> None:
    """`--fixtures-dir DIR` (repeatable): model folders of your own beside the built-in models."""
    parser.add_argument(
        "--fixtures-dir", action="append", default=[], metavar="DIR",
        help="also take models from the folders in DIR (e.g. recorded with `axisim record`; repeatable; "
        "searched before $AXISIM_FIXTURES and the built-in models, whose ids they may not take)",
    )  # fmt: skip


def use_fixtures_dirs(args: argparse.Namespace) -> None:
    """Add the --fixtures-dir folders to the process's model sources (FleetError when one is not a folder)."""
    try:
        for folder in getattr(args, "fixtures_dir", None) or ():
            add_fixtures_dir(folder)
    except ModelError as exc:
        raise FleetError(str(exc)) from exc


def plan_from_args(args: argparse.Namespace) -> FleetPlan:
    use_fixtures_dirs(args)
    shard = shard_from(args)
    if args.file is not None:
        plan = load_fleet_file(args.file, shard)
        if args.rtsp is None and args.rtsp_port is None and args.websocket_events and not args.discovery:
            if shard == plan.shard:
                return plan
            return make_plan(
                list(plan.groups), seed=plan.seed, addressing=plan.addressing, state_dir=plan.state_dir, shard=shard
            )  # fmt: skip
        groups = [
            replace(g, options=replace(
                g.options, rtsp=g.options.rtsp if args.rtsp is None else args.rtsp,
                websocket_events=g.options.websocket_events and args.websocket_events,
                discovery=g.options.discovery or args.discovery,
            ))
            for g in plan.groups
        ]  # fmt: skip
        addressing = plan.addressing
        if args.rtsp_port is not None:
            addressing = replace(addressing, rtsp_port=args.rtsp_port)
        return make_plan(groups, seed=plan.seed, addressing=addressing, state_dir=plan.state_dir, shard=shard)
    if not 1 <= args.count <= MAX_SITE:
        raise FleetError(f"--count is 1 to {MAX_SITE}")
    if not (0 <= args.boot_time <= MAX_SECONDS and 0 <= args.ready_time <= MAX_SECONDS):
        raise FleetError(f"boot and ready times are seconds, 0 to {MAX_SECONDS:g}")
    options = Options(
        accounts=(AccountSpec(args.user, args.password, "admin+ptz"),),
        https=args.https,
        boot_time=args.boot_time,
        ready_time=args.ready_time,
        rtsp=args.rtsp,
        websocket_events=args.websocket_events,
        discovery=args.discovery,
    )
    groups = [Group(model, count, None, options) for model, count in parse_mix(args.models, args.count) if count]
    if args.interface:
        if args.loopback or not args.first_address:
            raise FleetError("--interface takes --first-address (and not --loopback)")
        base = 8080 if args.base_port is None else args.base_port
        addressing = Addressing(
            "interface", base_port=base, first_address=args.first_address, https_port=args.https_base_port,
            rtsp_port=args.rtsp_port, interface=args.interface,
        )  # fmt: skip
    elif args.loopback:
        base = 8080 if args.base_port is None else args.base_port
        addressing = Addressing(
            "loopback", base_port=base, https_port=args.https_base_port, rtsp_port=args.rtsp_port
        )  # fmt: skip
    else:
        base = 20000 if args.base_port is None else args.base_port
        addressing = Addressing("ports", args.host, base, https_port=args.https_base_port, rtsp_port=args.rtsp_port)
    return make_plan(groups, seed=args.seed, addressing=addressing, state_dir=args.state_dir, shard=shard)


def _progress(done: int, total: int) -> None:
    if total >= 50:
        print(f"\rstarting devices: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def _print_inventory(fleet: Fleet, quiet: bool) -> None:
    if quiet:
        return
    print(f"{'#':>5} {'model':<10} {'serial':<13} {'url':<28} {'https':<6} {'rtsp':<6} credentials")
    for row in fleet.inventory():
        https = row["https_port"] or "-"
        rtsp = row["rtsp_port"] or "-"
        print(
            f"{row['index']:>5} {row['model']:<10} {row['serial']:<13} {row['url']:<28} {https!s:<6} {rtsp!s:<6} "
            f"{row['username']}/{row['password']}"
        )


def _listen_hint(exc: ListenError, from_file: bool) -> str:
    """What to change when a device's port cannot be had."""
    if from_file:
        return "; change https_port in the fleet file" if exc.https else "; change base_port in the fleet file"
    return "; choose others with --https-base-port" if exc.https else "; choose others with --base-port"


async def run(args: argparse.Namespace) -> int:
    if args.workers is not None:
        return await _run_workers(args)
    try:
        plan = plan_from_args(args)
        gc.collect()  # the garbage of imports and parsing, while the heap is small (see gc.freeze below)
        fleet = Fleet.from_plan(plan)
        ports = {
            p for d in fleet if d.spec.host in (args.control_host, "0.0.0.0")
            for p in (d.spec.port, d.spec.https_port, *d.spec.rtsp_ports[:1])
        }  # fmt: skip
        if args.control_port and args.control_port in ports:
            raise FleetError(f"--control-port {args.control_port} is a device's port; choose another")
        added = _provide_addresses(plan, fleet)
        began = time.perf_counter()
        try:
            await fleet.start(_progress)
        except BaseException:
            fleet_addresses.remove(added, plan.addressing.interface)
            raise
    except FleetError as exc:
        cause = exc.__cause__
        hint = _listen_hint(cause, args.file is not None) if isinstance(cause, ListenError) else ""
        if isinstance(cause, RtspListenError):
            hint = (
                "; change rtsp_port in the fleet file (or rtsp = false)" if args.file is not None
                else "; choose others with --rtsp-port (or --no-rtsp)"
            )  # fmt: skip
        print(f"axisim: {exc}{hint}", file=sys.stderr)
        return 1 if hint else 2
    elapsed = time.perf_counter() - began
    # the devices live as long as the process: keep them out of the collector's full passes (over
    # 1,000 W401s one took ~370 ms, stalling every request and event stream: bench 7's p99). Building
    # and starting them leaves no garbage (the fleet pauses the collector meanwhile), so no full
    # collection first: over 10,000 devices one takes about a second
    gc.freeze()
    try:
        runner, control_port = await start_control(fleet, args.control_host, args.control_port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            message = f"port {args.control_port} (the control API) is in use; choose another with --control-port"
        else:
            message = f"the control API cannot listen on {args.control_host}:{args.control_port}: {exc.strerror or exc}"
        print(f"axisim: {message}", file=sys.stderr)
        await fleet.stop()
        return 1
    fleet.control_url = f"http://{args.control_host}:{control_port}"
    # shards of one site sharing a folder or state directory each write their own inventory
    part = "" if plan.shard.count == 1 else f"-shard-{plan.shard.index}-of-{plan.shard.count}"
    stem = args.inventory or (plan.state_dir / f"inventory{part}" if plan.state_dir else Path(DEFAULT_INVENTORY + part))
    try:
        json_path, csv_path = fleet.write_inventory(stem)
    except OSError as exc:
        print(f"axisim: cannot write the inventory {stem}: {exc.strerror or exc}", file=sys.stderr)
        json_path = csv_path = None
    _print_inventory(fleet, args.quiet)
    counts = Counter(d.spec.model for d in fleet)
    models = ", ".join(f"{n} {model}" for model, n in counts.items())
    print(f"fleet:     {len(fleet)} devices ({models}), seed {plan.seed!r}, started in {elapsed:.2f} s")
    if plan.shard.count > 1:
        span = plan.span
        print(f"shard:     {plan.shard} of a site of {plan.size}: indexes {span.start} to {span.stop - 1}")
    if json_path and csv_path:
        print(f"inventory: {json_path} and {csv_path}")
    if plan.state_dir:
        print(f"state:     {plan.state_dir}/<serial>")
    print(f"control:   {fleet.control_url}/devices")
    print(f"page:      {fleet.control_url}/  (the site page: open it in a browser)")
    sys.stdout.flush()
    if added:
        print(f"addresses: {len(added)} added to {plan.addressing.interface}, removed when the fleet stops")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await fleet.stop()
        fleet_addresses.remove(added, plan.addressing.interface)
    return 0


def site_plan(args: argparse.Namespace) -> FleetPlan:
    """The site `--workers N` runs, checked as N shards: one process holds at most MAX_DEVICES devices,
    a site of N shards up to N times that (checking it as one process refused 100,000 on 6 workers)."""
    return plan_from_args(argparse.Namespace(**{**vars(args), "shard": f"0/{args.workers}"}))


async def _run_workers(args: argparse.Namespace) -> int:
    """The site as worker processes (axisim/site/): checked here first, so a bad site fails once."""
    if args.shard is not None:
        print("axisim: --workers runs every shard of the site; leave out --shard", file=sys.stderr)
        return 2
    try:
        plan = site_plan(args)
    except FleetError as exc:
        print(f"axisim: {exc}", file=sys.stderr)
        return 2
    stem = args.inventory or (plan.state_dir / "inventory" if plan.state_dir else Path(DEFAULT_INVENTORY))
    return await run_site(args, plan, args.workers, stem)


def _provide_addresses(plan: FleetPlan, fleet: Fleet) -> list[str]:
    """Interface addressing: add the addresses the interface lacks, or say exactly what to run."""
    addressing = plan.addressing
    if addressing.mode != "interface":
        return []
    if not fleet_addresses.interface_exists(addressing.interface):
        raise FleetError(f"there is no network interface {addressing.interface!r}")
    have = fleet_addresses.present(addressing.interface)
    missing = [d.spec.host for d in fleet if d.spec.host not in have]
    added, problem = fleet_addresses.add(missing, addressing.interface) if missing else ([], None)
    if problem is not None:
        fleet_addresses.remove(added, addressing.interface)
        commands = "\n".join(fleet_addresses.add_commands(missing, addressing.interface))
        raise FleetError(f"{len(missing)} addresses are not on {addressing.interface} ({problem}); run:\n{commands}")
    return added
