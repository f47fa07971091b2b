"""Bad input gets the device's error, never a 500, and leaves the state as it was."""

from __future__ import annotations

import pytest

from tests.conftest import DeviceClientFactory

PARAM = "/axis-cgi/param.cgi"


def snapshot(device) -> tuple:
    params = device.params
    return (dict(params.changes()["values"]), len(params.all()), sorted(device.accounts.accounts))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "action=",
        "action=explode",
        "action=list&group=",
        "action=list&group=%FF%FE",
        "action=list&group=root..Brand",
        "action=list&group=,,,",
        "action=update&Network.HostName=" + "a" * 64,
        "action=update&Network.HostName=bad%0Aname",
        "action=update&Network.HostName=%FF",
        "action=update&Network.HTTP.AuthenticationPolicy=none",
        "action=update&HTTPS.Port=70000",
        "action=update&HTTPS.Port=abc",
        "action=update&Network.SSH.Enabled=true",
        "action=update&root.Properties.System.SerialNumber=ACCC8E000000",
        "action=update&&&=&==",
        "action=add&template=nosuch&group=MediaClip",
        "action=add&template=mediaclip&group=Network",
        "action=remove&group=Network",
        "action=remove",
        "action=list&group=%",
        "action=list&group=%zz",
        "action=listdefinitions&listformat=xmlschema&group=nosuch",
    ],
)
async def test_malformed_param_requests(device_client: DeviceClientFactory, query: str) -> None:
    client = await device_client("S3008")
    before = snapshot(client.device)
    response = await client.get(f"{PARAM}?{query}")
    assert response.status == 200, await response.text()
    body = await response.text()
    assert body.startswith("# Error: ") or body.startswith("# Request failed: ") or body.startswith("<?xml"), body
    assert snapshot(client.device) == before


async def test_oversize_body_is_413_and_changes_nothing(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    before = snapshot(client.device)
    body = b"action=update&Network.SSH.Enabled=yes&pad=" + b"x" * (1024 * 1024)
    response = await client.post(PARAM, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 413
    assert b"<title>413 Request Entity Too Large</title>" in await response.read()
    assert snapshot(client.device) == before


async def test_non_utf8_body(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    before = snapshot(client.device)
    body = await client.text(
        "POST", PARAM, data=b"action=update&Network.HostName=caf\xe9", headers={"Content-Type": "text/plain"}
    )
    assert body == "# Error: Error setting 'root.Network.HostName' to 'caf\ufffd'!\n"
    assert snapshot(client.device) == before


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_unsupported_methods(device_client: DeviceClientFactory, method: str) -> None:
    client = await device_client("S3008")
    response = await client.client.request(method, f"{PARAM}?action=list")
    assert response.status == 405


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b"\xff\xfe",
        b'{"apiVersion": 1, "method": 2}',
        b'{"apiVersion": "x.y", "method": "getApiList"}',
        b"{" * 10000,
    ],
)
async def test_json_apis_never_fail_hard(device_client: DeviceClientFactory, body: bytes) -> None:
    client = await device_client("S3008")
    for path in ("/axis-cgi/apidiscovery.cgi", "/axis-cgi/basicdeviceinfo.cgi", "/axis-cgi/systemready.cgi"):
        response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status == 200, path
        assert "error" in await response.json(), path


async def test_pwdgrp_garbage_changes_nothing(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    before = snapshot(client.device)
    for query in ("action=add", "action=add&user=&pwd=x&sgrp=viewer", "action=add&user=x&pwd=x&sgrp=king",
                  "action=update&user=ghost&pwd=x", "action=remove", "action=add&user=%FF&pwd=x&sgrp=viewer",
                  "action=update&user=root&sgrp=viewer"):  # fmt: skip
        response = await client.get(f"/axis-cgi/pwdgrp.cgi?{query}")
        assert response.status == 200
        assert b"Error: " in await response.read(), query
    assert snapshot(client.device) == before
