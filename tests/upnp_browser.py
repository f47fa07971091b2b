"""An SSDP browser made as Home Assistant's ssdp component makes it, with async-upnp-client.

Home Assistant (homeassistant/components/ssdp/scanner.py) runs one `SsdpListener` per source address
(an `ssdp:all` search on start, NOTIFY alive/byebye/update after), fetches each LOCATION through a
`DescriptionCache` and matches the description's fields (the Axis integration: `manufacturer` AXIS,
then presentationURL, serialNumber, friendlyName; events.md §6). As a script in the LAN namespace
(`python3 tests/upnp_browser.py SOURCE_IP SECONDS`) it prints {"ready": true}, then one JSON line per
callback: {"source": "search_changed"|"advertisement_alive"|"advertisement_byebye"|..., "udn", "dst",
"location", "description": the device fields or null}. Used by tests/test_discovery_upnp.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from async_upnp_client.aiohttp import AiohttpRequester
from async_upnp_client.const import SsdpSource
from async_upnp_client.description_cache import DescriptionCache
from async_upnp_client.ssdp_listener import SsdpDevice, SsdpListener

from tests.netns import JsonLines


async def _main(source_ip: str, seconds: float) -> None:
    cache = DescriptionCache(AiohttpRequester())

    async def seen(device: SsdpDevice, dst: str, source: SsdpSource) -> None:
        location = device.location
        description = None
        if source is not SsdpSource.ADVERTISEMENT_BYEBYE and location:
            description = await cache.async_get_description_dict(location)
        line = {"source": source.value, "udn": device.udn, "dst": dst, "location": location, "description": description}
        print(json.dumps(line), flush=True)

    listener = SsdpListener(async_callback=seen, source=(source_ip, 0))
    await listener.async_start()
    print(json.dumps({"ready": True}), flush=True)
    await listener.async_search()
    try:
        await asyncio.sleep(seconds)
    finally:
        await listener.async_stop()


class UpnpWatch(JsonLines):
    """The script running in the LAN namespace: `listed[UDN]` is the description Home Assistant holds
    for each device it sees now (a byebye removes it); `sources` every callback's source, in order."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__(process)
        self.listed: dict[str, dict[str, Any]] = {}
        self.sources: list[tuple[str, str]] = []  # (UDN, source)

    def take(self, message: dict[str, Any]) -> None:
        self.sources.append((message["udn"], message["source"]))
        if message["source"] == SsdpSource.ADVERTISEMENT_BYEBYE.value:
            self.listed.pop(message["udn"], None)
        elif message["description"]:
            self.listed[message["udn"]] = message["description"]


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], float(sys.argv[2])))
