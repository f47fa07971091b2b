"""apidiscovery, basicdeviceinfo, systemready (vapix-wire.md §0.2, §5.1, §5.2, §5.4)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import MODELS, DeviceClientFactory

BDI = "/axis-cgi/basicdeviceinfo.cgi"
DISCOVERY = "/axis-cgi/apidiscovery.cgi"


async def post_json(client, path: str, document, auth=("root", "pass")) -> dict:
    response = await client.post(
        path, data=json.dumps(document).encode(), headers={"Content-Type": "application/json"}, auth=auth
    )
    assert response.status == 200
    return json.loads(await response.read())


@pytest.mark.parametrize("model", MODELS)
async def test_all_properties_has_the_fourteen(device_client: DeviceClientFactory, model: str) -> None:
    client = await device_client(model)
    reply = await post_json(client, BDI, {"apiVersion": "1.0", "context": "Axis library", "method": "getAllProperties"})
    assert list(reply) == ["apiVersion", "context", "data"]
    properties = reply["data"]["propertyList"]
    assert list(properties) == [  # the order of all 11 recorded devices, AXIS OS 10.12-12.9 (§5.2, issue 16)
        "Architecture", "ProdNbr", "HardwareID", "ProdFullName", "Version", "ProdType", "SocSerialNumber", "Soc",
        "Brand", "WebURL", "ProdVariant", "SerialNumber", "ProdShortName", "BuildDate",
    ]  # fmt: skip
    device = client.device
    assert properties["SerialNumber"] == device.serial
    assert properties["Version"] == device.params.value("Properties.Firmware.Version")
    assert properties["ProdFullName"] == device.params.value("Brand.ProdFullName")


async def test_unrestricted_properties_anonymous_exact_shape(device_client: DeviceClientFactory) -> None:
    # §5.2 [REC] AXIS OS 12.9: no method and no context key when none was sent; Python-style separators
    client = await device_client("S3016")
    response = await client.client.post(BDI, json={"apiVersion": "1.0", "method": "getAllUnrestrictedProperties"})
    assert response.headers["Content-Type"] == "application/json"
    body = await response.text()
    reply = json.loads(body)
    assert list(reply) == ["apiVersion", "data"] and reply["apiVersion"] == "1.3"
    assert list(reply["data"]["propertyList"]) == [
        "ProdNbr", "HardwareID", "ProdFullName", "Version", "ProdType", "Brand", "WebURL", "ProdVariant",
        "SerialNumber", "ProdShortName", "BuildDate",
    ]  # fmt: skip
    assert body.startswith('{"apiVersion": "1.3", "data": {"propertyList": {"ProdNbr": "S3016", "HardwareID": ')


async def test_get_properties_subset_and_unknown(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    reply = await post_json(
        client, BDI, {"apiVersion": "1.0", "method": "getProperties", "params": {"propertyList": ["ProdNbr", "Soc"]}}
    )
    assert list(reply["data"]["propertyList"]) == ["ProdNbr", "Soc"]
    reply = await post_json(
        client, BDI, {"apiVersion": "1.0", "method": "getProperties", "params": {"propertyList": ["Nope"]}}
    )
    assert reply["error"] == {"code": 1000, "message": "Property not supported: Nope"}


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"apiVersion": "2.0", "method": "getAllProperties"}, 2003),
        ({"apiVersion": "1.0", "method": "getEverything"}, 2004),
        ({"method": "getAllProperties"}, 4002),
        ({"apiVersion": "1.0"}, 4002),
        ({"apiVersion": "1.0", "method": "getProperties", "params": {"propertyList": "ProdNbr"}}, 4002),
        (["not", "an", "object"], 4000),
    ],
)
async def test_bdi_errors(device_client: DeviceClientFactory, document, code: int) -> None:
    client = await device_client("S3008")
    reply = await post_json(client, BDI, document)
    assert reply["error"]["code"] == code and "data" not in reply


async def test_invalid_json_and_get_method(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    response = await client.client.post(DISCOVERY, data=b"{not json", headers={"Content-Type": "application/json"})
    assert (await response.json())["error"]["code"] == 4000
    response = await client.client.get(DISCOVERY)
    assert (await response.json())["error"]["code"] == 2002


async def test_api_list_exact_shape(device_client: DeviceClientFactory) -> None:
    # §5.1 [REC]: key order method, apiVersion, data; context echoed only when sent
    client = await device_client("S3008")
    response = await client.client.post(DISCOVERY, json={"apiVersion": "1.0", "method": "getApiList"})
    body = await response.text()
    assert body.startswith('{"method": "getApiList", "apiVersion": "1.1", "data": {"apiList": [{"id": ')
    apis = json.loads(body)["data"]["apiList"]
    ids = {api["id"] for api in apis}
    assert {"api-discovery", "basic-device-info", "param-cgi", "systemready"} <= ids
    assert all(list(api)[:4] == ["id", "version", "name", "docLink"] for api in apis)
    reply = await post_json(
        client, DISCOVERY, {"apiVersion": "1.0", "context": "c1", "method": "getApiList", "params": {"id": "basic-*"}}
    )
    assert reply["context"] == "c1" and [a["id"] for a in reply["data"]["apiList"]] == ["basic-device-info"]
    reply = await post_json(
        client, DISCOVERY, {"apiVersion": "1.0", "method": "getApiList", "params": {"id": "nosuch"}}
    )
    assert reply["data"] == {"apiList": []}


async def test_supported_versions(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    reply = await post_json(client, DISCOVERY, {"method": "getSupportedVersions"})
    assert reply == {"method": "getSupportedVersions", "data": {"apiVersions": ["1.1"]}}
    reply = await post_json(client, BDI, {"method": "getSupportedVersions"})
    assert reply["data"] == {"apiVersions": ["1.3"]}


async def test_systemready_shape(device_client: DeviceClientFactory) -> None:
    # §5.4 [REC] 12.9: string values, uptime and bootid, major-only apiVersion accepted
    client = await device_client("S4000")
    reply = await post_json(
        client, "/axis-cgi/systemready.cgi", {"apiVersion": "1", "method": "systemready"}, auth=None
    )
    assert list(reply) == ["apiVersion", "method", "data"]
    data = reply["data"]
    assert data["systemready"] == "yes" and data["needsetup"] == "no"
    assert data["uptime"].isdigit() and data["bootid"] == client.device.boot_id
    reply = await post_json(
        client, "/axis-cgi/systemready.cgi", {"apiVersion": "1", "context": "x", "method": "systemready"}
    )
    assert reply["context"] == "x"
