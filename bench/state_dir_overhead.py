"""What saving after every change costs: param.cgi updates with and without --state-dir.

Runs both devices in this process, under the same client (httpx with Digest, one
connection, sequential requests), and prints requests per second and the ratio.
Usage: python3 bench/state_dir_overhead.py [updates]   (default 300, at most 5000)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time

import httpx

from axisim.device import make_device
from axisim.persistence import StateDir
from axisim.server import start_device


async def rate(state_dir: str | None, updates: int) -> float:
    device = make_device("S3008")
    if state_dir:
        StateDir(state_dir).attach(device)
    running = await start_device(device, "127.0.0.1", 0, https_port=None)
    try:
        async with httpx.AsyncClient(auth=httpx.DigestAuth("root", "pass"), timeout=10) as client:
            url = f"{running.url}/axis-cgi/param.cgi"
            await client.get(url, params={"action": "list", "group": "Brand"})  # settle the Digest nonce
            start = time.perf_counter()
            for number in range(updates):
                response = await client.get(url, params={"action": "update", "Network.UPnP.FriendlyName": f"v{number}"})
                assert response.text == "OK", response.text
            return updates / (time.perf_counter() - start)
    finally:
        await running.stop()


async def main() -> None:
    updates = min(int(sys.argv[1]) if len(sys.argv) > 1 else 300, 5000)
    memory = await rate(None, updates)
    with tempfile.TemporaryDirectory() as folder:
        saved = await rate(folder, updates)
    print(f"updates:                 {updates}")
    print(f"in memory:               {memory:8.0f} updates/s")
    print(f"with --state-dir:        {saved:8.0f} updates/s (each saved with fsync before the reply)")
    print(f"ratio state-dir/memory:  {saved / memory:8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
