"""`axisim serve | fleet | site | compose | record | models`: start a simulated device or a fleet, serve a
sharded site's control API or write its compose file, record a real device into a fixture, list what can
be simulated."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any

from . import discovery, fleet_cli, notify, record_cli, site_cli
from .accounts import AccountError
from .cli_args import HTTPS_OFFSET, MAX_INDEX, Parser, default_https_port, host, port, seconds, seed, whole
from .device import DEFAULT_ACCOUNT, AccountSpec, make_device
from .fleet import raise_file_limit
from .fleet_plan import MAX_SECONDS, FleetError
from .lifecycle import DEFAULT_BOOTING_SECONDS, DEFAULT_OFFLINE_SECONDS, BootTimes
from .model import ModelError, add_fixture, builtin_ids, load_model, model_folder, model_ids, normalised
from .persistence import StateDir, StateError
from .rtsp import RTSP_OFFSET, RTSP_PORT, RtspListenError, default_ports
from .server import ListenError, start_device
from .tls import Certificate, CertificateError


def _account(text: str) -> AccountSpec:
    name, sep, rest = text.partition(":")
    password, _, role = rest.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError("use NAME:PASSWORD[:ROLE], ROLE admin|operator|viewer[+ptz]")
    return AccountSpec(name, password, role or "admin")


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="axisim", description="Simulated Axis devices that speak VAPIX.")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start one simulated device")
    serve.add_argument("--model", help="model to simulate (see `axisim models`), default S3008 (or --fixture's)")
    serve.add_argument(
        "--fixture", metavar="DIR", help="serve the model in folder DIR (params.xml, model.toml: e.g. one "
        "`axisim record` wrote); --model may then be left out",
    )  # fmt: skip
    fleet_cli.add_fixtures_option(serve)
    serve.add_argument("--variant", help="model variant, e.g. 4TB (default: the model's first)")
    serve.add_argument(
        "--host", type=host, default="127.0.0.1", help="address or host name to listen on, default 127.0.0.1"
    )  # fmt: skip
    serve.add_argument("--port", type=port, default=8080, help="HTTP port, default 8080 (0 = any free port)")
    serve.add_argument("--user", default="root", help="first account's name, default root")
    serve.add_argument("--password", default="pass", help="first account's password, default pass")
    serve.add_argument(
        "--account", action="append", type=_account, default=[], metavar="NAME:PASSWORD[:ROLE]",
        help="another account (repeatable); ROLE admin|operator|viewer[+ptz]",
    )  # fmt: skip
    serve.add_argument("--no-account", action="store_true", help="start with no account: the device needs setup")
    serve.add_argument(
        "--seed", type=seed, help="identity seed (same seed and index, same serial), default axisim-<MODEL>; "
        "a fleet's device i of seed X is serve --seed X --index i",
    )  # fmt: skip
    serve.add_argument(
        "--index", type=whole(0, MAX_INDEX), default=0, help=f"identity index within the seed, 0-{MAX_INDEX}"
    )  # fmt: skip
    serve.add_argument("--strict-nonce", action="store_true", help="refuse replayed Digest nonce counts")
    serve.add_argument(
        "--no-websocket-events", action="store_true",
        help="serve no WebSocket event stream and leave it out of apidiscovery (clients fall back to RTSP)",
    )  # fmt: skip
    serve.add_argument(
        "--https-port", type=port,
        help=f"HTTPS port, default --port + {HTTPS_OFFSET} (8080 -> 8443), any free port when --port is 0",
    )  # fmt: skip
    serve.add_argument("--no-https", action="store_true", help="serve HTTP only")
    serve.add_argument(
        "--rtsp-port", type=port, metavar="PORT",
        help=f"RTSP event stream port, default {RTSP_PORT} where it can be bound (root, or a lowered "
        f"net.ipv4.ip_unprivileged_port_start), else --port + {RTSP_OFFSET} (8080 -> 8554)",
    )  # fmt: skip
    serve.add_argument("--no-rtsp", action="store_true", help="serve no RTSP event stream")
    serve.add_argument("--cert", help="PEM certificate for HTTPS (default: a self-signed one)")
    serve.add_argument("--key", help="PEM private key for --cert")
    serve.add_argument(
        "--state-dir", help="keep everything the device is told in this directory, across restarts"
    )  # fmt: skip
    serve.add_argument(
        "--boot-time", type=seconds(MAX_SECONDS), default=DEFAULT_OFFLINE_SECONDS, metavar="SECONDS",
        help=f"how long a restart keeps the device offline, default {DEFAULT_OFFLINE_SECONDS:g}",
    )  # fmt: skip
    serve.add_argument(
        "--ready-time", type=seconds(MAX_SECONDS), default=DEFAULT_BOOTING_SECONDS, metavar="SECONDS",
        help=f"how long it then boots before systemready says yes, default {DEFAULT_BOOTING_SECONDS:g}",
    )  # fmt: skip
    serve.add_argument(
        "--discovery", action="store_true", help="announce the device over mDNS/Bonjour (README \"Discovery\")"
    )  # fmt: skip
    serve.add_argument("--verbose", action="store_true", help="log every request")
    fleet_cli.add_parser(commands)
    site_cli.add_parsers(commands)
    record_cli.add_parser(commands)
    commands.add_parser("models", help="list models and variants")
    fleet_cli.add_fixtures_option(commands.choices["models"])
    return top


def list_models(args: argparse.Namespace) -> int:
    try:
        fleet_cli.use_fixtures_dirs(args)
        builtin = builtin_ids()
        for model_id in model_ids():
            model = load_model(model_id)
            variants = ", ".join(model.variants)
            kind = "recorded, " if model.recorded else ""
            where = "" if model_id in builtin else f"  ({kind}{model_folder(model_id)})"
            print(
                f"{model_id:<10} {model.param('Brand.ProdFullName'):<42} firmware {model.firmware:<10} "
                f"variants: {variants}{where}"
            )
    except (ModelError, FleetError) as exc:
        print(f"axisim: {exc}", file=sys.stderr)
        return 2
    return 0


def _model_of(args: argparse.Namespace) -> str:
    """--model, or the model --fixture names (its folder joins the model sources); --fixtures-dir folders too."""
    fleet_cli.use_fixtures_dirs(args)
    if args.fixture is None:
        return args.model or "S3008"
    fixture_id = add_fixture(args.fixture)
    if args.model is not None and normalised(args.model) != normalised(fixture_id):
        raise ModelError(f"--model {args.model} is not the model of --fixture {args.fixture} ({fixture_id})")
    return fixture_id


def _certificate(args: argparse.Namespace) -> Certificate | None:
    if not args.cert and not args.key:
        return None
    if not (args.cert and args.key):
        raise ValueError("--cert and --key go together")
    try:
        with open(args.cert, "rb") as cert, open(args.key, "rb") as key:
            return Certificate(cert.read(), key.read())
    except OSError as exc:
        raise ValueError(f"cannot read {exc.filename}: {exc.strerror}") from exc


def _https_port(args: argparse.Namespace) -> int | None:
    """--https-port, or the HTTP port + 363 (8080 -> 8443) so that devices beside each other never collide."""
    if args.no_https:
        return None
    if args.https_port is not None:
        if args.https_port == args.port != 0:
            raise ValueError(f"--https-port {args.https_port} is the --port too; choose another")
        return args.https_port
    chosen = default_https_port(args.port)
    if chosen is None:
        raise ValueError(
            f"--port {args.port} leaves no room for HTTPS (--port + {HTTPS_OFFSET} is past 65535); "
            "choose one with --https-port (or --no-https)"
        )
    return chosen


def _rtsp_ports(args: argparse.Namespace) -> tuple[int, ...]:
    """--rtsp-port alone, or 554 then the HTTP port + 474; none with --no-rtsp."""
    if args.no_rtsp:
        return ()
    if args.rtsp_port is not None:
        if args.rtsp_port == args.port != 0:
            raise ValueError(f"--rtsp-port {args.rtsp_port} is the --port too; choose another")
        return (args.rtsp_port,)
    return default_ports(args.port)


def _listen_failure(exc: ListenError) -> str:
    """`port 8443 is in use; choose another with --https-port (or --no-https)`."""
    option = "--https-port" if exc.https else "--port"
    if exc.in_use:
        return f"{exc.describe()}; choose another with {option}" + (" (or --no-https)" if exc.https else "")
    return f"{exc.describe()}; check --host and {option}"


async def serve(args: argparse.Namespace) -> int:
    accounts = [] if args.no_account else [AccountSpec(args.user, args.password, DEFAULT_ACCOUNT.role), *args.account]
    state = StateDir(args.state_dir) if args.state_dir else None
    try:
        ip = args.host if args.host not in ("0.0.0.0", "::") else "192.168.0.90"
        ipaddress.ip_address(ip)
        if args.boot_time < 0 or args.ready_time < 0:
            raise ValueError("boot and ready times are seconds, zero or more")
        device = make_device(
            _model_of(args), variant=args.variant, accounts=accounts, seed=args.seed, index=args.index, ip=ip,
            strict_nc=args.strict_nonce, boot_times=BootTimes(args.boot_time, args.ready_time),
            switched_off=("websocket-events",) if args.no_websocket_events else (),
        )  # fmt: skip
        notify.install(device)  # action rules' HTTP notifications leave through aiohttp
        certificate = _certificate(args)
        https_port = _https_port(args)
        rtsp_ports = _rtsp_ports(args)
        restored = state.load_into(device) if state else False  # reads only: a failed start leaves it as it was
    except (ModelError, FleetError, AccountError, ValueError, StateError) as exc:
        print(f"axisim: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(FleetError):  # every idle client holds a file: take what the system allows
        raise_file_limit(2)
    try:
        running = await start_device(
            device, args.host, args.port, https_port=https_port, certificate=certificate, state=state,
            access_log=args.verbose, rtsp_ports=rtsp_ports,
        )  # fmt: skip
    except CertificateError as exc:
        print(f"axisim: {exc}", file=sys.stderr)
        return 2
    except RtspListenError as exc:
        print(f"axisim: {exc.describe()}; choose another with --rtsp-port (or --no-rtsp)", file=sys.stderr)
        return 1
    except ListenError as exc:
        print(f"axisim: {_listen_failure(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"axisim: cannot listen on {args.host}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if state:
        try:
            state.start_saving(device)  # listening now: the state directory is written from here on
        except StateError as exc:
            await running.stop()
            print(f"axisim: {exc}", file=sys.stderr)
            return 2
    recorded = device.model.recording
    print(f"model:    {device.param('Brand.ProdFullName')} ({device.variant.name})")
    if recorded is not None:
        print(f"recorded: {recorded.folder} ({len(recorded.replies)} replies)")
    print(f"firmware: {device.firmware.active}")
    print(f"serial:   {device.serial}")
    print(f"url:      {running.url}")
    if running.https_url:
        print(f"https:    {running.https_url}")
    if running.rtsp is not None and running.rtsp.listening:
        print(f"rtsp:     {running.rtsp.url()}")
    elif running.rtsp is not None:
        print("rtsp:     off (Network.RTSP.Enabled=no)")
    if state:
        print(f"state:    {state.path} ({'restored' if restored else 'new'})")
    names = device.accounts.members_all()
    if restored:
        print(f"accounts: {', '.join(names) or 'none'} (from the state directory)")
    elif accounts:
        print("accounts: " + ", ".join(f"{a.name}/{a.password} ({a.role})" for a in accounts))
    if not names:
        print("accounts: none; create the first administrator with pwdgrp.cgi?action=add")
    member = object()  # the device's key in the responders (a RunningDevice does not hash)
    if args.discovery:
        await discovery.join(member, lambda: running)
        announced = discovery.announced_services(running)
        if announced is not None:
            print(f"mdns:     {announced.name} on {announced.host} ({', '.join(announced.types)})")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await discovery.leave(member)
        await running.stop()
    return 0


async def until_terminated(main: Coroutine[Any, Any, int]) -> int:
    """Run `main`; SIGTERM (systemd, docker stop, kill) ends it as Ctrl-C does: its finally blocks run, so
    every device says goodbye (mDNS TTL 0, SSDP byebye) and stops before the process exits (status 0)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on this loop/thread
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await main
    except asyncio.CancelledError:
        if not terminated:
            raise
        return 0
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra and args.command != "compose":  # compose passes the fleet options on to every shard
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    args.fleet_options = extra
    args.argv = list(sys.argv[1:] if argv is None else argv)[1:]  # after the command: `fleet --workers` passes them on
    if args.command == "models":
        return list_models(args)
    if args.command == "compose":
        return site_cli.compose(args, top)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    try:
        runs = {"fleet": fleet_cli.run, "site": site_cli.site, "serve": serve, "record": record_cli.run}
        return asyncio.run(until_terminated(runs[args.command](args)))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
