"""A served device and the public `axis` library (Home Assistant's client) pointed at it.

One place for the setup every library test repeats: start the device on a free 127.0.0.1 port,
open an httpx client, build the library's `AxisDevice` with an account, stop the device after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from axis.device import AxisDevice
from axis.models.configuration import Configuration

from axisim.device import Device
from axisim.server import RunningDevice, start_device


@asynccontextmanager
async def axis_library(
    device: Device, username: str = "root", password: str = "pass"
) -> AsyncIterator[tuple[AxisDevice, RunningDevice]]:
    """The library's device object for `device`, served until the block ends."""
    running = await start_device(device, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as session:
            config = Configuration(session, "127.0.0.1", port=running.port, username=username, password=password)
            yield AxisDevice(config), running
    finally:
        await running.stop()
