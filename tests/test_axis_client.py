"""The public `axis` client library (axis==60, Home Assistant's) sets up against every model.

It runs its whole `vapix.initialize()` and `initialize_users()` over a real socket
with httpx's Digest authentication, as it does against a real device.
"""

from __future__ import annotations

import asyncio

import pytest
from axis.models.pwdgrp_cgi import SecondaryGroup

from axisim.device import AccountSpec, make_device
from tests.axis_lib import axis_library
from tests.conftest import MODELS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("model", MODELS)
async def test_axis_library_initializes(model: str) -> None:
    device = make_device(model)
    async with axis_library(device) as (axis, _):
        await axis.vapix.initialize()
        await axis.vapix.initialize_users()
        await axis.vapix.load_user_groups()
        vapix = axis.vapix
        assert vapix.serial_number == device.serial
        assert vapix.product_number == device.params.value("Brand.ProdNbr")
        assert vapix.firmware_version == device.params.value("Properties.Firmware.Version")
        assert vapix.product_type == device.params.value("Brand.ProdType")
        assert vapix.params.property_handler.initialized
        assert vapix.basic_device_info.initialized
        assert "root" in vapix.users
        assert vapix.users["root"].admin
        assert vapix.access_rights is SecondaryGroup.ADMIN_PTZ  # root is in every role group
        if model == "W401":  # ports come from io-port-management getPorts, one per IOPort group
            assert len(vapix.ports) == sum(1 for d in device.params.all() if d.name.endswith(".Direction"))


async def test_axis_library_with_a_viewer_account() -> None:
    device = make_device("S3016", accounts=[AccountSpec("root", "pass"), AccountSpec("watch", "pw", "viewer")])
    async with axis_library(device, "watch", "pw") as (axis, _):
        await axis.vapix.initialize()
        await axis.vapix.initialize_users()  # pwdgrp needs admin: the library treats 401 as "not allowed"
        await axis.vapix.load_user_groups()
        assert axis.vapix.serial_number == device.serial
        assert len(axis.vapix.users) == 0
        assert axis.vapix.access_rights is SecondaryGroup.VIEWER


async def test_axis_library_through_a_reboot() -> None:
    """While the device reboots the library sees a connection error (as with a real device), and
    the same client object works again once the device is back, with its new boot."""
    from axis.errors import RequestError

    from axisim.lifecycle import BootTimes

    device = make_device("S3008", boot_times=BootTimes(offline_seconds=0.5, booting_seconds=0.0))
    async with axis_library(device) as (axis, running):
        await axis.vapix.initialize()
        boot_id = device.boot_id
        await axis.vapix.request("get", "/axis-cgi/restart.cgi")
        await asyncio.sleep(0.1)
        with pytest.raises(RequestError, match="Connection error"):
            await axis.vapix.initialize()
        assert await running.wait_ready(10)
        await axis.vapix.initialize()
        assert axis.vapix.serial_number == device.serial
        assert device.boot_id != boot_id
