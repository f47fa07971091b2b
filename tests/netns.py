"""Two network namespaces joined by a veth pair, made and removed by a test (root only).

The simulator runs in `site` (10.213.<n>.1/24) and the clients in `lan` (10.213.<n>.2/24), as a VMS
on another machine of the same LAN; both have a multicast route, so mDNS and SSDP cross the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SITE_IP_FORMAT = "10.213.{}.1"
LAN_IP_FORMAT = "10.213.{}.2"
SITE_MODELS = "S3008,S3016,S4000,C1410MkII,W401"  # every model: each kind of announcement
SITE_COUNT = 5
BASE_PORT = 20000
SITE_PORTS = [BASE_PORT + i for i in range(SITE_COUNT)]
CONTROL_PORT = 8079
CURL = ("curl", "-s", "--max-time", "5")
DIGEST = (*CURL, "--digest", "-u", "root:pass")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class NetnsPair:
    def __init__(self, tag: int) -> None:
        self.tag = tag % 250
        self.site, self.lan = f"axsim{tag}s", f"axsim{tag}l"
        self.site_ip, self.lan_ip = SITE_IP_FORMAT.format(self.tag), LAN_IP_FORMAT.format(self.tag)

    def create(self) -> None:
        _ip("netns", "add", self.site)
        _ip("netns", "add", self.lan)
        _ip("link", "add", f"v{self.tag}s", "netns", self.site, "type", "veth", "peer", "name", f"v{self.tag}l",
            "netns", self.lan)  # fmt: skip
        for ns, dev, ip in ((self.site, f"v{self.tag}s", self.site_ip), (self.lan, f"v{self.tag}l", self.lan_ip)):
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)

    def remove(self) -> None:
        for ns in (self.site, self.lan):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)  # the veth pair goes too

    @staticmethod
    def exec_args(ns: str, *args: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *args]

    async def spawn(self, ns: str, *args: str) -> asyncio.subprocess.Process:
        env = {**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONUNBUFFERED": "1"}
        return await asyncio.create_subprocess_exec(
            *self.exec_args(ns, *args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    async def run(self, ns: str, *args: str, timeout: float = 15.0) -> str:
        process = await self.spawn(ns, *args)
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
        return out.decode()


def unavailable() -> str | None:
    """Why the namespace tests cannot run here (None: they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = NetnsPair(os.getpid() + 7)
    try:
        _ip("netns", "add", probe.site)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"ip netns add is not permitted here: {getattr(exc, 'stderr', b'') or exc}"
    finally:
        probe.remove()
    return None


async def spawn_site(
    pair: NetnsPair, inventory: Path, *extra: str, discovery: bool = True
) -> asyncio.subprocess.Process:
    """A mixed fleet, one device of each model, with discovery on (unless told not) in the site namespace
    (boot time 1 s), on SITE_PORTS of the site address, its control API on CONTROL_PORT."""
    return await pair.spawn(
        pair.site, sys.executable, "-m", "axisim", "fleet", "--models", SITE_MODELS, "--count", str(SITE_COUNT),
        "--host", pair.site_ip, "--base-port", str(BASE_PORT), "--no-rtsp", *(["--discovery"] if discovery else []),
        "--boot-time", "1", "--control-host", pair.site_ip, "--control-port", str(CONTROL_PORT), "--inventory",
        str(inventory), "--quiet", *extra,
    )  # fmt: skip


async def until_ok(pair: NetnsPair, url: str, tries: int = 40) -> bool:
    """GET `url` with Digest from the LAN until the device answers OK (bounded: it may still be booting)."""
    for _ in range(tries):
        if (await pair.run(pair.lan, *DIGEST, url)).strip() == "OK":
            return True
        await asyncio.sleep(0.25)
    return False


async def enable_upnp(pair: NetnsPair, ports: list[int]) -> None:
    """Network.UPnP.Enabled=yes through param.cgi from the LAN (off by factory default, events.md §6)."""
    for port in ports:
        url = f"http://{pair.site_ip}:{port}/axis-cgi/param.cgi?action=update&Network.UPnP.Enabled=yes"
        assert await until_ok(pair, url), url


async def site_devices(pair: NetnsPair, inventory: Path) -> dict[str, dict[str, Any]]:
    """MAC -> what a browser should list: the inventory's address and port, the model the device reports."""
    for _ in range(40):  # bounded: the inventory is written once every device listens
        if inventory.exists():
            break
        await asyncio.sleep(0.25)
    devices = json.loads(inventory.read_text())["devices"]
    expected = {}
    for row in devices:
        url = f"{row['url']}/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
        product = (await pair.run(pair.lan, *DIGEST, url)).strip().split("=", 1)[1]
        expected[row["serial"]] = {"address": row["address"], "port": row["http_port"], "product": product}
    return expected


class JsonLines:
    """A browser script's output (one JSON line per change it sees) read as far as a test needs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    def take(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def view(self) -> Any:
        """What `until`'s predicate is given."""
        return self

    async def until(self, predicate: Any, timeout: float = 15.0) -> bool:
        """Read lines until `predicate(self.view())` holds; False when `timeout` passes or the script ends."""
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while not predicate(self.view()):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                line = await asyncio.wait_for(self.process.stdout.readline(), left)
            except TimeoutError:
                return False
            if not line:
                return False
            self.take(json.loads(line))
        return True

    async def ready(self) -> JsonLines:
        """Wait for the script's {"ready": true} (bounded)."""
        assert self.process.stdout is not None
        assert json.loads(await asyncio.wait_for(self.process.stdout.readline(), 15)) == {"ready": True}
        return self


class Watch(JsonLines):
    """tests/mdns_browser.py running in the LAN namespace: what it lists now (name -> Home Assistant's view)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__(process)
        self.seen: dict[str, dict[str, Any]] = {}

    def view(self) -> dict[str, dict[str, Any]]:
        return self.seen

    def take(self, message: dict[str, Any]) -> None:
        if message.get("change") == "added":
            self.seen[message["name"]] = message["view"]
        elif message.get("change") == "removed":
            self.seen.pop(message["name"], None)


async def watch_mdns(pair: NetnsPair, seconds: float = 60) -> Watch:
    watch = Watch(await pair.spawn(pair.lan, sys.executable, "tests/mdns_browser.py", str(seconds)))
    await watch.ready()
    return watch


@contextlib.contextmanager
def netns_pair(tag: int) -> Iterator[NetnsPair]:
    pair = NetnsPair(tag)
    pair.remove()  # a previous run killed half-way
    try:
        pair.create()
        yield pair
    finally:
        pair.remove()


async def stop(process: asyncio.subprocess.Process, interrupt: bool = False) -> None:
    """`interrupt`: SIGINT first (Ctrl-C: the fleet says goodbye and removes what it added), 10 s
    to exit; then SIGTERM, then SIGKILL after 5 s."""
    if interrupt and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
