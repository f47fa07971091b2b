"""`axisim site` (the control API of a site whose shards run elsewhere, e.g. a StatefulSet's pods)
and `axisim compose` (a docker compose file for a sharded site)."""

from __future__ import annotations

import argparse
import sys

from . import fleet_cli
from .cli_args import host, port, seconds, whole
from .fleet_plan import MAX_SHARDS, MAX_SITE, FleetError
from .site.compose import compose_yaml, refused_option
from .site.remote import POLL_SECONDS, run_remote_site

DEFAULT_IMAGE = "axisim:latest"


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    site = commands.add_parser(
        "site", help="serve the control API of a site whose shards run as `fleet --shard K/N` elsewhere (pods)"
    )  # fmt: skip
    site.add_argument("--shards", type=whole(1, MAX_SHARDS), required=True, help="how many shards the site has")
    site.add_argument(
        "--shard-url", required=True, metavar="TEMPLATE",
        help="each shard's control API, {k} its number (0 to N-1), e.g. http://axisim-{k}.axisim:8079",
    )  # fmt: skip
    site.add_argument(
        "--control-host", type=host, default="127.0.0.1", help="address of this control API, default 127.0.0.1"
    )  # fmt: skip
    site.add_argument(
        "--control-port", type=port, default=fleet_cli.DEFAULT_CONTROL_PORT,
        help=f"port of this control API, default {fleet_cli.DEFAULT_CONTROL_PORT} (0: any free port)",
    )  # fmt: skip
    site.add_argument(
        "--poll", type=seconds(60), default=POLL_SECONDS, metavar="SECONDS",
        help=f"how often each shard's /healthz is read, default {POLL_SECONDS:g}",
    )  # fmt: skip
    compose = commands.add_parser(
        "compose", help="print a docker compose file for a site of --count devices in --shards containers",
        description="Print a docker compose file: one service per shard and the site's control API. "
        "Other options are fleet options (e.g. --models, --seed, --https), given to every shard.",
    )  # fmt: skip
    compose.add_argument("--count", type=whole(1, MAX_SITE), required=True, help="how many devices in the site")
    compose.add_argument("--shards", type=whole(1, MAX_SHARDS), required=True, help="how many shard containers")
    compose.add_argument("--image", default=DEFAULT_IMAGE, help=f"the axisim image, default {DEFAULT_IMAGE}")
    compose.add_argument(
        "--control-port", type=port, default=fleet_cli.DEFAULT_CONTROL_PORT,
        help=f"the host port of the site's control API, default {fleet_cli.DEFAULT_CONTROL_PORT}",
    )  # fmt: skip


def compose(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Check the site as `fleet` would (options, size, shards), then print the compose file."""
    options: list[str] = list(args.fleet_options)
    refused = refused_option(options)
    if refused is not None:
        print(f"axisim: compose sets {refused} itself or cannot carry it into a container; leave it out",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.control_port == 0:
        print("axisim: compose publishes the control API on a fixed host port: give --control-port", file=sys.stderr)
        return 2
    fleet = parser.parse_args(["fleet", "--count", str(args.count), *options])  # exits 2 on a bad option
    fleet.shard = f"0/{args.shards}"
    try:
        fleet_cli.plan_from_args(fleet)
    except FleetError as exc:
        print(f"axisim: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(compose_yaml(args.count, args.shards, options, args.image, args.control_port))
    return 0


async def site(args: argparse.Namespace) -> int:
    return await run_remote_site(args)
