"""Every command-line input has one parser here: bounded ports, counts, indexes, seconds and hosts.

argparse calls them as `type=`; a refusal is one line (`axisim: argument --port: ...`, see
`Parser.error`), never a traceback from deep inside a listener or `int()`.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import socket
import urllib.parse
from collections.abc import Callable
from typing import NoReturn

from .server import HTTPS_OFFSET

MAX_PORT = 65535
MAX_INDEX = (1 << 24) - 1  # identity indexes: the serial's last 24 bits, so larger ones repeat serials


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2); its subcommand
    parsers are of the same class (argparse makes them with type(self))."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        hint = f" (axisim {command} --help)" if command else " (axisim --help)"
        self.exit(2, f"axisim: {message.splitlines()[0] if message else 'bad arguments'}{hint}\n")


def _whole(text: str) -> int:
    """A plain decimal whole number (no `²`, no 5,000-digit numbers, no `1e3`)."""
    stripped = text.strip()
    digits = stripped.removeprefix("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(stripped)


def whole(low: int, high: int, what: str = "") -> Callable[[str], int]:
    """A whole number from `low` to `high`; `what` names it in the refusal."""

    def parse(text: str) -> int:
        try:
            value: int | None = _whole(text)
        except argparse.ArgumentTypeError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what or f'a whole number from {low} to {high}'}")
        return value

    return parse


port = whole(0, MAX_PORT, f"a TCP port (0-{MAX_PORT}; 0: any free port)")


def seconds(high: float) -> Callable[[str], float]:
    """A finite number of seconds from 0 to `high` (NaN and infinity refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text) if len(text) <= 32 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not 0 <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to {high:g}")
        return value

    return parse


def seed(text: str) -> str:
    """An identity seed: printable text, 1-256 characters (it is hashed into serials)."""
    if not 1 <= len(text) <= 256 or not text.isprintable() or not _encodable(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed (printable text, 1-256 characters)")
    return text


def _encodable(text: str) -> bool:
    """False for the surrogates that stand in for argv bytes that are not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def host(text: str) -> str:
    """An address to listen on: an IP address as is, a name (e.g. localhost) resolved to its
    first address (IPv4 preferred), since the device reports an address for itself."""
    name = text.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not name or len(name) > 253 or not name.isascii() or any(c.isspace() for c in name):
        raise argparse.ArgumentTypeError(f"{text!r} is not an address or host name")
    try:
        found = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        found = []
    addresses = [info[4][0] for info in found if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise argparse.ArgumentTypeError(f"cannot resolve host {text!r} to an address")
    ipv4 = [a for a in addresses if ":" not in a]
    return str(ipaddress.ip_address((ipv4 or addresses)[0]))


def default_https_port(http_port: int) -> int | None:
    """HTTPS beside HTTP: any free port when HTTP takes any, else HTTP + 363 (None past 65535)."""
    if http_port == 0:
        return 0
    https = http_port + HTTPS_OFFSET
    return https if https <= MAX_PORT else None


MAX_BYTES = 1 << 30


def byte_size(text: str) -> int:
    """A size in bytes, 1 to 1 GiB; `k`/`M` suffixes (1024-based) allowed: 512k, 8M."""
    units = {"k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20}
    stripped = text.strip()
    factor = units.get(stripped[-1:], 1)
    digits = stripped[:-1] if stripped[-1:] in units else stripped
    value = _whole(digits) * factor if digits.isascii() and digits.isdigit() and len(digits) <= 10 else 0
    if not 1 <= value <= MAX_BYTES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size from 1 byte to 1G (e.g. 8M, 512k, 65536)")
    return value


def device_url(text: str) -> str:
    """A device's base URL: http(s)://host[:port], no credentials, no query (paths are the recorder's)."""
    parsed = urllib.parse.urlsplit(text.strip())
    try:
        port_number = parsed.port
    except ValueError:
        port_number = -1
    if (
        parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.username or parsed.query
        or parsed.fragment or port_number == -1 or len(text) > 2048 or not text.isprintable()
    ):  # fmt: skip
        raise argparse.ArgumentTypeError(f"{text!r} is not a device URL (http://host[:port] or https://...)")
    return text.strip().rstrip("/")
