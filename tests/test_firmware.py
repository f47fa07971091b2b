"""firmwaremanagement.cgi (vapix-wire.md §2.2): status, upgrade, rollback, reboot, factory default, errors."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from axisim.device import Device, make_device
from axisim.firmware import ImageError, read_image
from axisim.persistence import StateDir
from tests.conftest import DeviceClient, DeviceClientFactory

URL = "/axis-cgi/firmwaremanagement.cgi"


def image(model: str, version: str) -> bytes:
    return f"AXISIM-FIRMWARE model={model} version={version}\n".encode() + bytes(range(256)) * 64


def upgrade_form(content: bytes, filename: str = "firmware.bin", params: dict[str, Any] | None = None) -> Any:
    form = aiohttp.FormData()
    request = {"apiVersion": "1.0", "context": "up", "method": "upgrade", "params": params or {}}
    form.add_field("data", json.dumps(request), content_type="application/json")
    form.add_field("firmwareImage", content, filename=filename, content_type="application/octet-stream")
    return form


async def call(client: DeviceClient, method: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(URL, json={"apiVersion": "1.0", "method": method, **extra})
    assert response.status == 200  # errors too (§2.2)
    return await response.json()


async def test_status_of_a_device_never_upgraded(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    reply = await call(client, "status", context="abc")
    assert reply["apiVersion"] == "1.8" and reply["context"] == "abc" and reply["method"] == "status"
    assert reply["data"]["activeFirmwareVersion"] == "12.6.94"
    assert reply["data"]["activeFirmwarePart"].isdigit()
    assert "inactiveFirmwareVersion" not in reply["data"]  # only once there is an inactive image


async def test_upgrade_then_rollback(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016")
    response = await client.post(URL, data=upgrade_form(image("S3016", "12.7.1")))
    assert await response.json() == {
        "apiVersion": "1.8", "context": "up", "method": "upgrade", "data": {"firmwareVersion": "12.7.1"},
    }  # fmt: skip
    # the device rebooted into the new version: every report of the version agrees
    status = (await call(client, "status"))["data"]
    assert status["activeFirmwareVersion"] == "12.7.1"
    assert status["inactiveFirmwareVersion"] == "12.6.94"
    assert status["isCommited"] is True and "lastUpgradeAt" in status
    listed = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=Properties.Firmware.Version")
    assert listed == "Properties.Firmware.Version=12.7.1\n"
    info = await client.post(
        "/axis-cgi/basicdeviceinfo.cgi", json={"apiVersion": "1.0", "method": "getAllUnrestrictedProperties"}
    )
    assert (await info.json())["data"]["propertyList"]["Version"] == "12.7.1"
    # settings survive a standard upgrade
    assert not client.device.needs_setup
    assert (await call(client, "rollback")) == {"apiVersion": "1.8", "method": "rollback", "data": {}}
    status = (await call(client, "status"))["data"]
    assert status == {"activeFirmwareVersion": "12.6.94", "activeFirmwarePart": status["activeFirmwarePart"]}
    again = await call(client, "rollback")
    assert again["error"] == {"code": 404, "message": "No old firmware exists."}


async def test_image_for_another_model_is_refused_with_421(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    boot_id = client.device.boot_id
    response = await client.post(URL, data=upgrade_form(image("S3016", "12.7.1")))
    # §2.2 [REC]: the reply is indented by two spaces and ends with a newline (rs4acap cassettes, issue 16)
    assert await response.text() == (
        '{\n  "apiVersion": "1.8",\n  "context": "up",\n  "method": "upgrade",\n  "error": {\n'
        '    "code": 421,\n    "message": "Firmware image does not match this device."\n  }\n}\n'
    )
    assert client.device.boot_id == boot_id  # no reboot
    assert client.device.firmware.active == "12.6.94"


@pytest.mark.parametrize(
    "content, filename",
    [
        (b"", "firmware.bin"),  # empty
        (b"\x00\x01garbage" * 100, "firmware.bin"),  # not an image at all
        (b"AXISIM-FIRMWARE model=S3008 version=twelve\n", "firmware.bin"),  # no version
        (b"random", "S3008_12.bin"),  # a name that does not carry a version
    ],
)
async def test_malformed_images_are_refused_like_a_bogus_image(
    device_client: DeviceClientFactory, content: bytes, filename: str
) -> None:
    client = await device_client("S3008")
    response = await client.post(URL, data=upgrade_form(content, filename))
    assert (await response.json())["error"]["code"] == 421
    assert client.device.firmware.active == "12.6.94"


async def test_image_named_like_an_axis_file_is_accepted(device_client: DeviceClientFactory) -> None:
    client = await device_client("C1410MkII")
    response = await client.post(URL, data=upgrade_form(b"\x7fELF binary", "C1410_Mk_II_12_8_3.bin"))
    assert (await response.json())["data"] == {"firmwareVersion": "12.8.3"}
    assert client.device.firmware.active == "12.8.3"


async def test_downgrade_needs_a_hard_factory_default(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    response = await client.post(URL, data=upgrade_form(image("S3008", "11.11.1")))
    assert (await response.json())["error"] == {
        "code": 409, "message": "Downgrade is only allowed if factoryDefault=hard is set.",
    }  # fmt: skip
    hard = {"factoryDefaultMode": "hard"}
    response = await client.post(URL, data=upgrade_form(image("S3008", "11.11.1"), params=hard))
    assert (await response.json())["data"] == {"firmwareVersion": "11.11.1"}
    assert client.device.firmware.active == "11.11.1"
    assert client.device.needs_setup
    # an upgrade with factory default cannot be rolled back (manuals, Maintenance)
    assert client.device.firmware.inactive is None


async def test_reboot_and_factory_default_methods(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    boot_id = client.device.boot_id
    reply = await call(client, "reboot", context="r")
    assert reply == {"apiVersion": "1.8", "context": "r", "method": "reboot", "data": {}}
    assert client.device.boot_id != boot_id
    await client.text("GET", "/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes&Network.BootProto=none")
    reply = await call(client, "factoryDefault", params={"factoryDefaultMode": "soft"})
    assert reply["data"] == {}
    assert client.device.params.value("Network.FTP.Enabled") != "yes"
    assert client.device.params.value("Network.BootProto") == "none"  # kept by a soft reset


async def test_hard_factory_default_method(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/param.cgi?action=update&Network.BootProto=none")
    reply = await call(client, "factoryDefault", params={"factoryDefaultMode": "hard"})
    assert reply["data"] == {}
    assert client.device.params.value("Network.BootProto") == "dhcp"
    assert client.device.needs_setup


@pytest.mark.parametrize(
    "body, code",
    [
        ({"apiVersion": "1.0", "method": "explode"}, 405),
        ({"apiVersion": "2.0", "method": "status"}, 417),
        ({"method": "status"}, 400),
        ({"apiVersion": "1.0", "method": "factoryDefault", "params": {"factoryDefaultMode": "medium"}}, 400),
        ({"apiVersion": "1.0", "method": "upgrade", "params": {}}, 400),  # no image part
        ({"apiVersion": "1.0", "method": "status", "params": "x"}, 400),
    ],
)
async def test_errors(device_client: DeviceClientFactory, body: dict[str, Any], code: int) -> None:
    client = await device_client("S3008")
    boot_id = client.device.boot_id
    response = await client.post(URL, json=body)
    assert response.status == 200
    reply = await response.json()
    assert reply["error"]["code"] == code
    assert client.device.boot_id == boot_id and not client.device.needs_setup


async def test_unparsable_bodies_and_get(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    for response in (
        await client.post(URL, data=b"{not json"),
        await client.post(URL, data=b"[1, 2]"),
        await client.get(URL),
    ):
        assert response.status == 200
        assert (await response.json())["error"] == {
            "code": 400, "message": "Message could not be parsed or contains unknown parameters or values.",
        }  # fmt: skip


async def test_supported_versions_and_access(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    reply = await client.post(URL, json={"method": "getSupportedVersions"})
    expected = {"apiVersion": "1.8", "method": "getSupportedVersions", "data": {"apiVersions": ["1.8"]}}
    assert await reply.json() == expected
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppass&grp=users&sgrp=operator:viewer")
    denied = await client.post(URL, json={"apiVersion": "1.0", "method": "reboot"}, auth=("op", "oppass"))
    assert denied.status == 401  # the web server refuses before the API answers


def test_read_image_forms() -> None:
    numbers = ("C1410 Mk II", "C1410MkII")
    assert read_image("C1410_Mk_II_12_7_1.bin", b"", numbers).version == "12.7.1"
    assert read_image("x.bin", b"AXISIM-FIRMWARE model=C1410MkII version=12.7.1.2\n", numbers).version == "12.7.1.2"
    with pytest.raises(ImageError):
        read_image("S3008_12_7_1.bin", b"", numbers)


def test_upgraded_firmware_survives_a_simulator_restart(tmp_path: Any) -> None:
    first: Device = make_device("S3008")
    StateDir(tmp_path).attach(first)
    first.upgrade(read_image("S3008_12_7_1.bin", b"", ("S3008",)), "none")
    again = make_device("S3008")
    assert StateDir(tmp_path).attach(again)
    assert again.firmware.active == "12.7.1" and again.firmware.inactive == "12.6.94"
    assert again.param("Properties.Firmware.Version") == "12.7.1"


async def test_basicdeviceinfo_read_before_an_upgrade_shows_the_new_version_after(
    device_client: DeviceClientFactory,
) -> None:
    # §5.2: the properties are remembered per parameter state; an upgrade changes the version
    client = await device_client("S3016")
    bdi = "/axis-cgi/basicdeviceinfo.cgi"

    async def versions() -> tuple[str, str]:
        found = []
        for method in ("getAllUnrestrictedProperties", "getAllProperties"):
            reply = await client.post(bdi, json={"apiVersion": "1.0", "method": method})
            found.append((await reply.json())["data"]["propertyList"]["Version"])
        return found[0], found[1]

    assert await versions() == ("12.6.94", "12.6.94")
    response = await client.post(URL, data=upgrade_form(image("S3016", "12.7.1")))
    assert (await response.json())["data"] == {"firmwareVersion": "12.7.1"}
    assert await versions() == ("12.7.1", "12.7.1")
    assert (await call(client, "rollback"))["data"] == {}
    assert await versions() == ("12.6.94", "12.6.94")
