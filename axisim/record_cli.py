"""`axisim record`: its command-line options (bounded types from cli_args) and the run (axisim/record/)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_args import byte_size, device_url, seconds, whole
from .record import Options, record
from .record.client import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT_S
from .record.run import DEFAULT_MAX_CALLS


def add_parser(commands: Any) -> None:
    """`axisim record URL --user U --password P --out DIR` (README "Record a device")."""
    record_ = commands.add_parser(
        "record", help="record a device's read-only answers into a fixture folder (README \"Record a device\")",
        description="Read a device (never write to it) and write an anonymised fixture folder that "
        "`axisim serve` can serve: params.xml, model.toml, events.xml, replies/, README.md.",
    )  # fmt: skip
    record_.add_argument("url", type=device_url, help="the device, e.g. http://192.168.0.90 or https://cam.local:8443")
    record_.add_argument("--user", required=True, help="an account of the device (an administrator reads the most)")
    record_.add_argument("--password", required=True, help="its password")
    record_.add_argument("--out", default=".", help="folder to write the fixture folder in, default .")
    record_.add_argument("--model-id", help="the fixture's model id (default: the product name, e.g. M3106LVEMkII)")
    record_.add_argument(
        "--dry-run", action="store_true", help="print the calls it would make (reads the API list only)"
    )  # fmt: skip
    record_.add_argument(
        "--keep-identity", action="store_true",
        help="do not anonymise: keep the real serial, MAC, addresses, names and secrets (a warning says so)",
    )  # fmt: skip
    record_.add_argument("--force", action="store_true", help="replace the fixture folder if it exists")
    record_.add_argument(
        "--timeout", type=seconds(600), default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
        help=f"per-request timeout, default {DEFAULT_TIMEOUT_S:g}",
    )  # fmt: skip
    record_.add_argument(
        "--max-body", type=byte_size, default=DEFAULT_MAX_BODY, metavar="BYTES",
        help=f"largest reply body kept (a larger one is a failed call), default {DEFAULT_MAX_BODY}",
    )  # fmt: skip
    record_.add_argument(
        "--max-calls", type=whole(1, 10000), default=DEFAULT_MAX_CALLS, metavar="N",
        help=f"stop after this many calls, default {DEFAULT_MAX_CALLS}",
    )  # fmt: skip
    record_.add_argument("--insecure", action="store_true", help="accept the device's self-signed HTTPS certificate")


async def run(args: argparse.Namespace) -> int:
    options = Options(
        url=args.url, user=args.user, password=args.password, out=Path(args.out), model_id=args.model_id,
        dry_run=args.dry_run, keep_identity=args.keep_identity, force=args.force, timeout=args.timeout,
        max_body=args.max_body, max_calls=args.max_calls, verify_tls=not args.insecure,
    )  # fmt: skip
    return await record(options)
