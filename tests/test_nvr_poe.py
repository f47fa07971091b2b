"""`/axis-cgi/nvr/poe/*.cgi` (vapix-wire.md §6.1; the VAPIX NVR PoE page's tables).

The API and the `PoE` parameters are one state: a change through one is seen through the other.
"""

from __future__ import annotations

import pytest
from lxml import etree

from axisim.subsystems.poe import PoweredDevice
from tests.conftest import DeviceClient, DeviceClientFactory

HEAD = (
    '<?xml version="1.0" encoding="utf-8" ?>\n<PoeResponse SchemaVersion="1.2" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/nvr/Poe1.xsd">\n'
)


def general_error(code: int, text: str) -> str:
    return (
        f"{HEAD}    <GeneralError>\n        <ErrorCode>{code}</ErrorCode>\n"
        f"        <Description>{text}</Description>\n    </GeneralError>\n</PoeResponse>\n"
    )


async def xml(client: DeviceClient, path: str, **kwargs: object) -> etree._Element:
    response = await client.get(f"/axis-cgi/nvr/poe/{path}", **kwargs)  # type: ignore[arg-type]
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/xml"
    text = await response.text()
    assert text.startswith(HEAD)
    return etree.fromstring(text.encode())


async def test_port_statuses_match_the_parameters(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    poe = client.device.subsystems["poe"]
    poe.plug(1, PoweredDevice(2, 3.4, 6.1, model="AXIS P3265", mac="B8:A4:4F:00:00:01"))  # type: ignore[attr-defined]
    poe.plug(2, PoweredDevice(3, 7.5, None, model="AXIS Q1656", mac="B8:A4:4F:00:00:02"))  # type: ignore[attr-defined]
    root = await xml(client, "getportstatuses.cgi?schemaversion=1")
    statuses = root.findall("GetPortStatusesSuccess/PortStatus")
    assert len(statuses) == 8
    first = {child.tag: child.text or "" for child in statuses[0]}
    assert list(first) == [
        "Port", "StatusCode", "Description", "Extra", "ClassPowerLimit", "PoeClass", "AllocatedPower",
        "PowerConsumption", "PseClassLimit", "RequestedPower",
    ]  # fmt: skip  -- the documented order
    assert first == {
        "Port": "1", "StatusCode": "1", "Description": "Connected - PoE",
        "Extra": "0x01: 802.3af-compliant device detected", "ClassPowerLimit": "7.0", "PoeClass": "2",
        "AllocatedPower": "6.1", "PowerConsumption": "3.4", "PseClassLimit": "3", "RequestedPower": "6.1",
    }  # fmt: skip
    second = {child.tag: child.text or "" for child in statuses[1]}
    assert (second["AllocatedPower"], second["RequestedPower"], second["ClassPowerLimit"]) == ("15.5", "", "15.4")
    empty = {child.tag: child.text or "" for child in statuses[2]}
    assert (empty["StatusCode"], empty["Description"], empty["PoeClass"]) == ("0", "Not connected", "")
    listed = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE.AllocatedPower,PoE.P1.Status")
    assert listed == "PoE.AllocatedPower=21.6\nPoE.P1.Status=Connected - PoE\n"


async def test_set_port_mode_is_seen_in_the_parameters_and_back(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016")
    root = await xml(client, "setportmode.cgi?schemaversion=1&port=2&enabled=no")
    assert root[0].tag == "GeneralSuccess" and len(root) == 1
    assert await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE.P1.Enabled") == "PoE.P1.Enabled=no\n"
    root = await xml(client, "getportmode.cgi?schemaversion=1&port=2")
    assert root.findtext("GetPortModeSuccess/Enabled") == "no"
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&PoE.P1.Enabled=yes") == "OK"
    root = await xml(client, "getportmode.cgi?schemaversion=1&port=2")
    assert root.findtext("GetPortModeSuccess/Enabled") == "yes"
    status = (await xml(client, "getportstatuses.cgi"))[0][1]
    assert status.findtext("StatusCode") == "0"


async def test_keep_power_and_total_limit(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008", variant="8TB")
    assert (await xml(client, "gettotalpowerlimit.cgi?schemaversion=1")).findtext(
        "GetTotalPowerLimitSuccess/Limit"
    ) == "60"
    assert (await xml(client, "getkeeppower.cgi?schemaversion=1")).findtext("GetKeepPowerSuccess/Enabled") == "no"
    await xml(client, "setkeeppower.cgi?schemaversion=1&enabled=yes")
    assert (await xml(client, "getkeeppower.cgi")).findtext("GetKeepPowerSuccess/Enabled") == "yes"
    listed = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE.KeepPowerOnRestart")
    assert listed == "PoE.KeepPowerOnRestart=yes\n"


async def test_schema_versions(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    root = await xml(client, "schemaversions.cgi")
    assert root.findtext("SchemaVersionsSuccess/SchemaVersion/VersionNumber") == "1.2"
    assert root.findtext("SchemaVersionsSuccess/SchemaVersion/Deprecated") == "false"


@pytest.mark.parametrize(
    "path, code, text",
    [
        ("getportmode.cgi?schemaversion=1&port=9", 20, "Invalid request."),
        ("getportmode.cgi?schemaversion=1&port=0", 20, "Invalid request."),
        ("getportmode.cgi?schemaversion=1", 20, "Invalid request."),
        ("getportmode.cgi?schemaversion=1&port=one", 20, "Invalid request."),
        ("setportmode.cgi?schemaversion=1&port=2&enabled=maybe", 20, "Invalid request."),
        ("setportmode.cgi?schemaversion=1&port=2", 20, "Invalid request."),
        ("setkeeppower.cgi?schemaversion=1&enabled=on", 20, "Invalid request."),
        ("getportstatuses.cgi?schemaversion=2", 40, "Specified version not supported."),
        ("setportmode.cgi?schemaversion=3&port=2&enabled=no", 40, "Specified version not supported."),
        ("getkeeppower.cgi?schemaversion=x", 20, "Invalid request."),
    ],
)
async def test_bad_requests_get_general_error_and_change_nothing(
    device_client: DeviceClientFactory, path: str, code: int, text: str
) -> None:
    client = await device_client("S3008")
    before = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE")
    response = await client.get(f"/axis-cgi/nvr/poe/{path}")
    assert response.status == 200
    assert await response.text() == general_error(code, text)
    assert await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE") == before


async def test_operators_only_and_no_poe_on_the_s4000(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppw&grp=users&sgrp=operator:viewer")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=eve&pwd=evepw&grp=users&sgrp=viewer")
    assert (await client.get("/axis-cgi/nvr/poe/getportstatuses.cgi", auth=("op", "oppw"))).status == 200
    assert (await client.get("/axis-cgi/nvr/poe/getportstatuses.cgi", auth=("eve", "evepw"))).status == 401
    s4000 = await device_client("S4000")
    assert (await s4000.get("/axis-cgi/nvr/poe/getportstatuses.cgi")).status == 404
