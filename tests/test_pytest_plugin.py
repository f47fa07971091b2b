"""The pytest plugin as a client-library author uses it: fixtures from the `pytest11` entry point.

The first test is the README's example, word for word: the `axis` library (Home Assistant's)
against a simulated S3008, with a fault injected through the Python control API.
"""

from __future__ import annotations

import textwrap

import aiohttp
import httpx
import pytest
from axis.device import AxisDevice
from axis.errors import AxisException
from axis.models.configuration import Configuration

from axisim.simulated import SimulatedDevice
from tests.conftest import connection_refused

pytest_plugins = ["pytester"]


# -- README: "Testing a client library with the pytest plugin" ---------------------------------
async def test_axis_library_reads_the_recorder(axisim_device):
    async with httpx.AsyncClient() as session:
        config = Configuration(
            session, axisim_device.identity.ip, port=axisim_device.port,
            username=axisim_device.username, password=axisim_device.password,
        )  # fmt: skip
        axis = AxisDevice(config)
        await axis.vapix.initialize()
        assert axis.vapix.serial_number == axisim_device.serial
        assert axis.vapix.product_number == "S3008"

        axisim_device.add_fault(path="/axis-cgi/param.cgi", status=503)  # the recorder falls ill
        with pytest.raises(AxisException, match="503"):
            await axis.vapix.params.brand_handler.update()
# -- end of the README example ------------------------------------------------------------------


async def test_default_device_is_an_s3008_with_root_pass(axisim_device: SimulatedDevice) -> None:
    assert axisim_device.device.model.id == "S3008"
    assert axisim_device.credentials == ("root", "pass")
    assert axisim_device.url == f"http://127.0.0.1:{axisim_device.port}"
    assert axisim_device.identity.serial == axisim_device.serial
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{axisim_device.url}/axis-cgi/param.cgi?action=list") as response,
    ):
        assert response.status == 401  # a real socket, Digest required
        assert f'realm="{axisim_device.identity.realm}"' in response.headers["WWW-Authenticate"]


@pytest.mark.axisim(model="W401", accounts=["admin:secret:admin", "guard:watch:viewer"])
async def test_marker_chooses_model_and_accounts(axisim_device: SimulatedDevice) -> None:
    assert axisim_device.device.model.id == "W401"
    assert axisim_device.credentials == ("admin", "secret")
    assert sorted(axisim_device.device.accounts.members_all()) == ["admin", "guard"]
    result = axisim_device.event("io", "close_input", port=1)
    assert result == {"port": 1, "state": axisim_device.device.subsystems["io"].check(1)}


@pytest.mark.parametrize("axisim_device", ["S3016", {"model": "S3008", "variant": "8TB"}], indirect=True)
async def test_indirect_parametrization(axisim_device: SimulatedDevice) -> None:
    assert axisim_device.device.model.id in ("S3016", "S3008")
    if axisim_device.device.model.id == "S3008":
        assert axisim_device.device.variant.name == "8TB"


async def test_factory_starts_several_devices_and_stops_them(axisim_device_factory) -> None:
    first = await axisim_device_factory("S3008")
    second = await axisim_device_factory("C1410MkII", index=1)
    assert first.serial != second.serial and first.port != second.port
    await second.go_offline()
    assert await connection_refused(second.url)
    await second.go_online()
    assert not await connection_refused(second.url)


async def test_fleet_factory_serves_devices_and_the_control_api(axisim_fleet_factory) -> None:
    fleet = await axisim_fleet_factory("S3008:2,W401", count=3)
    assert [d.device.model.id for d in fleet] == ["S3008", "S3008", "W401"]
    io = fleet[2].device.subsystems["io"]
    before = io.check(2)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fleet.control_url}/devices") as response:
            listed = (await response.json())["devices"]
        assert [row["serial"] for row in listed] == [d.serial for d in fleet]
        async with session.post(f"{fleet.control_url}/devices/2/events/io/close_input", json={"port": 2}) as response:
            assert response.status == 200
            assert (await response.json())["result"] == {"port": 2, "state": io.check(2)}
    assert io.check(2) != before  # the input's circuit closed: it is active now


def test_plugin_is_registered_by_its_entry_point(pytester: pytest.Pytester) -> None:
    """A project with no conftest gets the fixtures just by having axisim installed."""
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makepyfile(
        textwrap.dedent(
            """
            import aiohttp

            async def test_device(axisim_device):
                async with aiohttp.ClientSession() as session:
                    async with session.get(axisim_device.url + "/axis-cgi/param.cgi") as response:
                        assert response.status == 401
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_devices_stop_when_the_test_ends(pytester: pytest.Pytester) -> None:
    """The next test finds the previous test's device gone: its port refuses connections."""
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makepyfile(
        textwrap.dedent(
            """
            import socket
            SEEN = []

            async def test_first(axisim_device_factory):
                device = await axisim_device_factory("W401")
                SEEN.append(device.port)

            def test_second():
                with socket.socket() as probe:
                    assert probe.connect_ex(("127.0.0.1", SEEN[0])) != 0
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
