"""A hostile client's requests (issue 16 D1-D6, D15) get each API's own error, never a 500, and
change nothing; JSON replies end as the recorded ones do (vapix-wire.md §2.2, §5.1, §5.2, §5.4)."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from axisim.control.http import build_control_app
from axisim.digest_client import authorization
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.jsonread import JsonError, read_json
from axisim.lifecycle import State
from param_tree import whole_number
from tests.conftest import DeviceClient, DeviceClientFactory

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 2000 + b"]" * 2000
DEEP_OBJECT = b'{"a":' * 2000 + b"1" + b"}" * 2000
MULTIPART = {"Content-Type": "multipart/form-data; boundary=B"}
GARBAGE_PART = b"--B\r\nGarbage\r\n\r\nx\r\n--B--\r\n"
FIRMWARE = "/axis-cgi/firmwaremanagement.cgi"
HUGE = "9" * 5000
SUPERSCRIPT_TWO = "%C2%B2"  # "²": str.isdigit() says yes, int() says no


def error_code(body: bytes) -> Any:
    return json.loads(body)["error"]["code"]


# -- the readers themselves -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [DEEP, DEEP_OBJECT, b"[" * 40 + b"]" * 40, b"NaN", b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1e999}',
     b"\xff", b'\xff\xfe{\x00}\x00', b'{"a": 1' + b"1" * 5000 + b"}", b"{", b""],
)  # fmt: skip
def test_json_reader_refuses_with_a_value_error(raw: bytes) -> None:
    with pytest.raises(JsonError):
        read_json(raw)


def test_json_reader_takes_what_vapix_sends() -> None:
    document = {"apiVersion": "1.0", "method": "setPorts", "params": {"ports": [{"port": "0", "state": "open"}]}}
    assert read_json(json.dumps(document).encode()) == document
    assert read_json(b'{"a": [1.5, -2, null, true, "\\u00e9"]}') == {"a": [1.5, -2, None, True, "é"]}


@pytest.mark.parametrize(
    "value, options, expected",
    [("12", {}, 12), ("0007", {}, 7), ("²", {}, None), ("١٢", {}, None), (HUGE, {}, None), ("1" * 21, {}, None),
     ("-3", {}, None), ("-3", {"signed": True}, -3), ("+3", {"signed": True}, None), (" 3", {}, None),
     ("3\n", {}, None), ("", {}, None), (None, {}, None), (True, {}, None), (5, {}, 5), (5.0, {}, None),
     ("9", {"high": 8}, None), ("0", {"low": 1}, None), ([], {}, None)],
)  # fmt: skip
def test_whole_number(value: Any, options: dict[str, Any], expected: int | None) -> None:
    assert whole_number(value, **options) == expected


# -- D1: deep nesting, NaN, bytes that are not UTF-8, on every JSON endpoint -------------------------

# (model, path, role needed, the API's "invalid JSON" answer as a predicate on the parsed reply)
JSON_ENDPOINTS = [
    ("S3008", "/axis-cgi/apidiscovery.cgi", lambda r: r["error"]["code"] == 4000),
    ("S3008", "/axis-cgi/basicdeviceinfo.cgi", lambda r: r["error"]["code"] == 4000),
    ("S3008", "/axis-cgi/systemready.cgi", lambda r: r["error"] == {"code": 1000, "message": "Invalid JSON input"}),
    ("S3008", FIRMWARE, lambda r: r["error"]["code"] == 400),
    ("S3016", "/axis-cgi/disks/raid.cgi", lambda r: r["error"]["code"] == 2101),
    ("W401", "/axis-cgi/io/portmanagement.cgi", lambda r: r["error"]["code"] == 2101),
    ("W401", "/axis-cgi/supervisedio.cgi", lambda r: r["error"]["code"] == 2101),
    ("W401", "/axis-cgi/power-settings.cgi", lambda r: r["error"]["code"] == 4002),
    ("C1410MkII", "/vapix/call", lambda r: "Fault" in r),
    ("C1410MkII", "/vapix/axast", lambda r: "Fault" in r),
]
BAD_JSON = [DEEP, DEEP_OBJECT, b'{"apiVersion": "1.0", "method": "getApiList", "context": NaN}',
            b'{"apiVersion": "1.0", "method": "status", "context": 1e999}', b'{"method": "\xff"}',
            '{"method": "status"}'.encode("utf-16")]  # fmt: skip


@pytest.mark.parametrize("model, path, refused", JSON_ENDPOINTS, ids=[p for _, p, _ in JSON_ENDPOINTS])
@pytest.mark.parametrize("body", BAD_JSON, ids=["deep-array", "deep-object", "NaN", "1e999", "not-utf8", "utf16"])
async def test_bad_json_is_the_apis_invalid_json_error(
    device_client: DeviceClientFactory, model: str, path: str, refused: Any, body: bytes
) -> None:
    client = await device_client(model)
    response = await client.post(path, data=body, headers=JSON)
    assert response.status in (200, 400), await response.text()  # /vapix services answer 400 with a fault
    assert refused(json.loads(await response.read()))
    assert client.device.lifecycle.state is State.READY


async def test_a_lone_surrogate_in_an_echoed_context_cannot_break_the_reply(device_client: DeviceClientFactory) -> None:
    # JSON may carry "\ud800", which is no character: the echo writes "?" instead of failing
    client = await device_client("S3008")
    body = b'{"apiVersion": "1.0", "context": "a\\ud800b", "method": "getApiList"}'
    response = await client.client.post("/axis-cgi/apidiscovery.cgi", data=body, headers=JSON)
    assert response.status == 200
    assert json.loads(await response.read())["context"] == "a?b"


@pytest.fixture
async def control(aiohttp_client: Any) -> TestClient:
    """The control API of a fleet that is not listening: enough for everything refused before a device acts."""
    fleet = Fleet.from_plan(make_plan([Group("S3008", 1)], addressing=Addressing(base_port=0)))
    return await aiohttp_client(build_control_app(fleet))


@pytest.mark.parametrize("body", BAD_JSON[:5], ids=["deep-array", "deep-object", "NaN", "1e999", "not-utf8"])
async def test_control_api_refuses_bad_json_with_400(control: TestClient, body: bytes) -> None:
    for path in ("/devices/0/faults", "/devices/0/events/poe/plug"):
        response = await control.post(path, data=body)
        assert response.status == 400, await response.text()
        assert "not a JSON object" in (await response.json())["error"]


@pytest.mark.parametrize(
    "method, path, status",
    [("GET", f"/devices/0/journal?limit={SUPERSCRIPT_TWO}", 400), ("GET", f"/devices/0/journal?limit={HUGE}", 400),
     ("GET", f"/devices/{SUPERSCRIPT_TWO}", 404), ("GET", f"/devices/{HUGE}", 404),
     ("DELETE", f"/devices/0/faults/{SUPERSCRIPT_TWO}", 404), ("DELETE", f"/devices/0/faults/{HUGE}", 404)],
)  # fmt: skip
async def test_control_api_numbers(control: TestClient, method: str, path: str, status: int) -> None:
    response = await control.request(method, path)
    assert response.status == status, await response.text()
    assert "error" in await response.json()


# -- D2: numbers that str.isdigit() takes and int() refuses, and 5,000-digit ones --------------------

JSON_TIMEOUT = b'{"apiVersion": "1.0", "method": "systemready", "params": {"timeout": "\\u00b2"}}'
NUMBER_CASES = [
    # (model, method, path, body, status, what the body holds)
    ("S3008", "POST", "/axis-cgi/systemready.cgi", JSON_TIMEOUT, 200, b'"systemready": "yes"'),
    ("W401", "GET", f"/axis-cgi/io/port.cgi?check={SUPERSCRIPT_TWO}", None, 400, b"Error: invalid port"),
    ("W401", "GET", f"/axis-cgi/io/port.cgi?check={HUGE}", None, 400, b"Error: invalid port"),
    ("W401", "GET", f"/axis-cgi/io/port.cgi?action={HUGE}:/", None, 400, b"Error: malformed action"),
    ("W401", "GET", f"/axis-cgi/io/port.cgi?action=1:/{HUGE}%5C", None, 400, b"Error: malformed action"),
    ("C1410MkII", "GET", f"/axis-cgi/playclip.cgi?clip={SUPERSCRIPT_TWO}", None, 400, b"Invalid clip"),
    ("C1410MkII", "GET", f"/axis-cgi/playclip.cgi?clip=25&volume={HUGE}", None, 400, b"Invalid volume"),
    ("S3008", "GET", f"/axis-cgi/nvr/poe/getportmode.cgi?schemaversion={SUPERSCRIPT_TWO}&port=1", None, 200,
     b"<ErrorCode>20</ErrorCode>"),
    ("S3008", "GET", f"/axis-cgi/nvr/poe/getportmode.cgi?port={HUGE}", None, 200, b"<ErrorCode>20</ErrorCode>"),
    ("S3008", "GET", f"/axis-cgi/disks/properties/getdiskalertlevels.cgi?schemaversion={SUPERSCRIPT_TWO}", None, 200,
     b"<ErrorCode>20</ErrorCode>"),
    ("C1410MkII", "GET", f"/axis-cgi/disks/networkshare/list.cgi?schemaversion={SUPERSCRIPT_TWO}&shareid=all", None,
     200, b"<ErrorCode>20</ErrorCode>"),
    ("C1410MkII", "GET", f"/axis-cgi/disks/networkshare/job.cgi?schemaversion=1&jobid={SUPERSCRIPT_TWO}", None, 200,
     b"<ErrorCode>20</ErrorCode>"),
    ("S3008", "GET", f"/axis-cgi/disks/job.cgi?jobid={SUPERSCRIPT_TWO}&diskid=x", None, 200, b"No such job"),
    ("S4000", "GET", f"/axis-cgi/auditlog.cgi?tail={SUPERSCRIPT_TWO}", None, 200, b""),
    ("S3008", "GET", f"/axis-cgi/param.cgi?action=update&HTTPS.Port={HUGE}", None, 200, b"# Error: Error setting"),
    ("S3008", "GET", f"/axis-cgi/param.cgi?action=update&HTTPS.Port={SUPERSCRIPT_TWO}", None, 200,
     b"# Error: Error setting"),
]  # fmt: skip


@pytest.mark.parametrize("model, method, path, body, status, expected", NUMBER_CASES, ids=lambda v: str(v)[:50])
async def test_malformed_numbers_get_the_apis_error(
    device_client: DeviceClientFactory,
    model: str,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    expected: bytes,
) -> None:
    client = await device_client(model)
    before = client.device.params.changes()
    response = await client.request(method, path, data=body)
    reply = await response.read()
    assert response.status == status, reply[:300]
    assert expected in reply, reply[:300]
    assert client.device.params.changes() == before


# -- D3: JSON parameters of the wrong type ---------------------------------------------------------


@pytest.mark.parametrize("mode", [[], {}, 1, None, True, "warm"])
@pytest.mark.parametrize("method", ["factoryDefault", "upgrade"])
async def test_firmware_mode_of_the_wrong_type_is_400(
    device_client: DeviceClientFactory, method: str, mode: Any
) -> None:
    # §2.2: 400 "Message could not be parsed or contains unknown parameters or values"; the device stays up
    client = await device_client("S3008")
    document = {"apiVersion": "1.0", "method": method, "params": {"factoryDefaultMode": mode}}
    response = await client.post(FIRMWARE, data=json.dumps(document).encode(), headers=JSON)
    assert response.status == 200
    assert error_code(await response.read()) == 400
    assert client.device.lifecycle.state is State.READY


@pytest.mark.parametrize("params", [[], "soft", 1, [{"factoryDefaultMode": "soft"}]])
async def test_firmware_params_that_are_not_an_object_are_400(device_client: DeviceClientFactory, params: Any) -> None:
    client = await device_client("S3008")
    document = {"apiVersion": "1.0", "method": "factoryDefault", "params": params}
    response = await client.post(FIRMWARE, data=json.dumps(document).encode(), headers=JSON)
    assert error_code(await response.read()) == 400
    assert client.device.lifecycle.state is State.READY


@pytest.mark.parametrize(
    "model, path, document, code",
    [("S3016", "/axis-cgi/disks/raid.cgi", {"method": "recreateRaidOnAllComponents", "params": []}, 2104),
     ("S3016", "/axis-cgi/disks/raid.cgi",
      {"method": "recreateRaidOnAllComponents", "params": {"raidLevel": []}}, 2104),
     ("S3016", "/axis-cgi/disks/raid.cgi", {"method": "recreateRaidOnAllComponents", "params": {}}, 2103),
     ("W401", "/axis-cgi/power-settings.cgi", {"method": "setDelayedPowerDownMode", "params": "x"}, 4002),
     ("W401", "/axis-cgi/power-settings.cgi",
      {"method": "setDelayedPowerDownMode", "params": {"delayedPowerDownMode": [], "delayTime": 600}}, 4002),
     ("W401", "/axis-cgi/power-settings.cgi",
      {"method": "setDelayedPowerDownMode", "params": {"delayedPowerDownMode": True, "delayTime": {}}}, 4002)],
)  # fmt: skip
async def test_json_params_of_the_wrong_type_are_the_apis_error(
    device_client: DeviceClientFactory, model: str, path: str, document: dict[str, Any], code: int
) -> None:
    client = await device_client(model)
    before = client.device.params.changes()
    response = await client.post(path, data=json.dumps({"apiVersion": "1.0", **document}).encode(), headers=JSON)
    assert response.status == 200
    assert error_code(await response.read()) == code
    assert client.device.params.changes() == before


# -- D4: a multipart part with a malformed header --------------------------------------------------


async def test_firmware_upload_with_a_malformed_part_is_400(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    response = await client.post(FIRMWARE, data=GARBAGE_PART, headers=MULTIPART)
    assert response.status == 200
    assert error_code(await response.read()) == 400
    assert client.device.lifecycle.state is State.READY


async def test_media_clip_upload_with_a_malformed_part_is_refused(device_client: DeviceClientFactory) -> None:
    # §6.4: a refused request is 400 text/plain "400 Bad Request" and the reason
    client = await device_client("C1410MkII")
    before = client.device.params.changes()
    response = await client.post("/axis-cgi/mediaclip.cgi?action=upload&media=audio", data=GARBAGE_PART,
                                 headers=MULTIPART)  # fmt: skip
    assert response.status == 400
    assert await response.read() == b"400 Bad Request\r\nInvalid request\r\n"
    assert client.device.params.changes() == before


# -- D5: a byte that is not UTF-8, echoed into a reply ---------------------------------------------


@pytest.mark.parametrize(
    "model, path, status, echoed",
    [("S3008", "/axis-cgi/disks/lock.cgi?action=lock&diskid=%FF", 200, b'diskid="\xff" result="ERROR"'),
     ("C1410MkII", "/axis-cgi/mediaclip.cgi?action=%FF", 400, b"400 Bad Request\r\nInvalid action: \xff\r\n"),
     ("C1410MkII", "/vapix/call?format=simple&action=%FF", 400, b'FaultReason="The+action+%FF+is+not+supported."')],
)  # fmt: skip
async def test_non_utf8_bytes_are_echoed_as_sent(
    device_client: DeviceClientFactory, model: str, path: str, status: int, echoed: bytes
) -> None:
    # a device's C code echoes the byte it got; axisim writes back the very byte
    client = await device_client(model)
    response = await client.get(path)
    assert response.status == status
    assert echoed in await response.read()


# -- D6: a body with a Content-Encoding ------------------------------------------------------------


async def _authorized_post(client: DeviceClient, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Digest-authenticated POST: the challenge from a GET, so the body is sent once."""
    challenge = await client.client.get(path)
    await challenge.read()
    header = authorization(challenge.headers["WWW-Authenticate"], user="root", password="pass", method="POST",
                           uri=path)  # fmt: skip
    response = await client.client.post(path, data=body, headers=headers | {"Authorization": header})
    return response.status, await response.read()


@pytest.mark.parametrize("encoding", ["deflate", "gzip", "br"])
async def test_a_compressed_form_is_not_a_form(
    device_client: DeviceClientFactory, encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    # issue 16 D6: Apache inflates no request body by default, so param.cgi reads the compressed
    # bytes, finds no action, and changes nothing; no 500, nothing logged as a crash
    client = await device_client("S3008")
    before = client.device.params.changes()
    form = b"action=update&Network.SSH.Enabled=yes" * 4
    headers = {"Content-Encoding": encoding}
    status, body = await _authorized_post(client, "/axis-cgi/param.cgi", zlib.compress(form), headers)
    assert (status, body) == (200, b"# Request failed: Unknown action ''\n")
    assert client.device.params.changes() == before
    await asyncio.sleep(0.05)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- D15: a refused update changes nothing ---------------------------------------------------------


async def test_refused_duplicate_refuses_the_whole_update(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    body = await client.text("GET", "/axis-cgi/param.cgi?action=update&Network.SSH.Enabled=yes&Network.SSH.Enabled=NaN")
    assert body == "# Error: Error setting 'root.Network.SSH.Enabled' to 'NaN'!\n"
    assert client.device.param("Network.SSH.Enabled") == "no"


async def test_valid_duplicates_take_the_last_value(device_client: DeviceClientFactory) -> None:
    # §1.2 is silent on repeats: the pairs apply in request order, so the last one holds
    client = await device_client("S3008")
    query = "action=update&Network.SSH.Enabled=yes&Network.SSH.Enabled=no&Network.FTP.Enabled=yes"
    assert await client.text("GET", f"/axis-cgi/param.cgi?{query}") == "OK"
    assert client.device.param("Network.SSH.Enabled") == "no"
    assert client.device.param("Network.FTP.Enabled") == "yes"


async def test_one_refused_value_leaves_every_other_untouched(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    before = client.device.params.changes()
    body = await client.text("GET", "/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes&HTTPS.Port=%C2%B2")
    assert body == "# Error: Error setting 'root.HTTPS.Port' to '\u00b2'!\n"
    assert client.device.params.changes() == before


# -- wire details: trailing newlines and key order as recorded ----------------------------------------


@pytest.mark.parametrize(
    "path, document, newline",
    [("/axis-cgi/apidiscovery.cgi", {"apiVersion": "1.0", "method": "getApiList"}, True),
     ("/axis-cgi/apidiscovery.cgi", {"method": "getSupportedVersions"}, True),
     ("/axis-cgi/apidiscovery.cgi", {"apiVersion": "1.0", "method": "nope"}, True),
     ("/axis-cgi/basicdeviceinfo.cgi", {"apiVersion": "1.0", "method": "getAllProperties"}, True),
     ("/axis-cgi/basicdeviceinfo.cgi", {"apiVersion": "1.0", "method": "getAllUnrestrictedProperties"}, True),
     ("/axis-cgi/basicdeviceinfo.cgi", {"apiVersion": "1.0", "method": "nope"}, True),
     (FIRMWARE, {"apiVersion": "1.0", "method": "status"}, True),
     (FIRMWARE, {"apiVersion": "1.0", "method": "nope"}, True),
     ("/axis-cgi/systemready.cgi", {"apiVersion": "1", "method": "systemready"}, False)],
)  # fmt: skip
async def test_json_replies_end_as_recorded(
    device_client: DeviceClientFactory, path: str, document: dict[str, Any], newline: bool
) -> None:
    # rs4acap cassettes (AXIS OS 10.12-12.9): apidiscovery, basicdeviceinfo and firmwaremanagement
    # replies end with "\n"; systemready's do not (vapix-wire.md §2.2, §5.1, §5.2, §5.4)
    client = await device_client("S3016")
    response = await client.post(path, data=json.dumps(document).encode(), headers=JSON)
    body = await response.read()
    assert body.endswith(b"}\n") if newline else body.endswith(b"}")
    json.loads(body)


async def test_all_properties_in_the_recorded_order(device_client: DeviceClientFactory) -> None:
    # the same order on all 11 recorded devices, AXIS OS 10.12-12.9 (rs4acap basic_device_info_get_all_properties)
    client = await device_client("C1410MkII")
    response = await client.post("/axis-cgi/basicdeviceinfo.cgi", data=b'{"apiVersion": "1.0", "method": '
                                 b'"getAllProperties"}', headers=JSON)  # fmt: skip
    properties = json.loads(await response.read())["data"]["propertyList"]
    assert list(properties) == [
        "Architecture", "ProdNbr", "HardwareID", "ProdFullName", "Version", "ProdType", "SocSerialNumber", "Soc",
        "Brand", "WebURL", "ProdVariant", "SerialNumber", "ProdShortName", "BuildDate",
    ]  # fmt: skip
