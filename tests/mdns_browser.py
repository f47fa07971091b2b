"""A Bonjour browser that reads an announcement as Home Assistant's Axis integration does.

Home Assistant (homeassistant/components/axis/config_flow.py, `async_step_zeroconf`, and the zeroconf
component's info conversion) takes the first address that is not link-local as the host, the SRV
port, `properties["macaddress"]` formatted as aa:bb:cc:dd:ee:ff as the MAC, the instance label as
the name, and aborts a MAC outside the Axis OUIs (events.md §6). Used in-process by tests/test_mdns.py
and as a script (`python3 tests/mdns_browser.py SECONDS`, one JSON line per change) inside a
network namespace by tests/test_discovery_netns.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import sys
import time
from typing import Any

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

TYPES = ["_axis-video._tcp.local.", "_axis-nvr._tcp.local.", "_axis-audiosite._tcp.local."]
AXIS_OUI = {"00:40:8c", "ac:cc:8e", "b8:a4:4f", "e8:27:25"}


def ha_view(info: AsyncServiceInfo) -> dict[str, Any]:
    """What Home Assistant's Axis config flow keeps of one announcement, and whether it accepts it."""
    addresses = [ipaddress.ip_address(a) for a in info.parsed_addresses(IPVersion.V4Only)]
    host = next((a for a in addresses if not a.is_link_local and not a.is_unspecified), None)
    raw = (info.properties or {}).get(b"macaddress") or b""
    mac = ":".join(raw.decode().lower()[i : i + 2] for i in range(0, 12, 2))
    accepted = host is not None and mac[:8] in AXIS_OUI
    return {
        "type": info.type, "name": info.name.split(".", 1)[0], "host": str(host) if host else None, "port": info.port,
        "mac": mac, "server": info.server, "addresses": [str(a) for a in addresses], "accepted": accepted,
        "addresses6": info.parsed_addresses(IPVersion.V6Only),  # AAAA records (not read by the view above)
    }  # fmt: skip


class Browser:
    """Every Axis service seen on the network now: name -> Home Assistant's view of it."""

    def __init__(self) -> None:
        self.zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
        self.seen: dict[str, dict[str, Any]] = {}
        self.changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._browser = AsyncServiceBrowser(self.zeroconf.zeroconf, TYPES, handlers=[self._changed])

    def _changed(self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            self.seen.pop(name, None)
            self.changes.put_nowait(("removed", name))
            return
        task = asyncio.get_running_loop().create_task(self._resolve(service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if await info.async_request(self.zeroconf.zeroconf, 3000):
            self.seen[name] = ha_view(info)
            self.changes.put_nowait(("added", name))

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Until `predicate(self.seen)` holds (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changes.get(), left)
            except TimeoutError:
                return bool(predicate(self.seen))
        return True

    async def close(self) -> None:
        await self._browser.async_cancel()
        for task in list(self._tasks):
            task.cancel()
        await self.zeroconf.async_close()


async def _main(seconds: float) -> None:
    browser = Browser()
    deadline = time.monotonic() + seconds
    print(json.dumps({"ready": True}), flush=True)
    try:
        while (left := deadline - time.monotonic()) > 0:
            try:
                change, name = await asyncio.wait_for(browser.changes.get(), left)
            except TimeoutError:
                break
            print(json.dumps({"change": change, "name": name, "view": browser.seen.get(name)}), flush=True)
    finally:
        await browser.close()


if __name__ == "__main__":
    asyncio.run(_main(float(sys.argv[1])))
