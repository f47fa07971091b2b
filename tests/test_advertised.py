"""What a device advertises is what it serves, on every model (issue 17).

Written from the wire, independently of the handlers' `APIS` declarations: a table of probes (one
minimal valid request per apidiscovery id and what its answer must show), a table of the API each
route belongs to, and a table of what each `Properties.*` parameter stands for. (a) every API that
apidiscovery lists answers its probe; (b) every route a model serves belongs to a listed API, or is a
legacy CGI real devices serve unlisted; (c) every `Properties.*` parameter is accounted for, and
those that say a feature is there point at a listed API or a served path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from cgi_handlers import ROUTES
from cgi_handlers.network_settings import NETWORK_SETTINGS

from .conftest import MODELS, DeviceClient, DeviceClientFactory

DISCOVERY = "/axis-cgi/apidiscovery.cgi"
Check = Callable[[str, str], bool]  # (reply body, advertised version) -> the answer is the API's


def json_version(body: str, version: str) -> bool:
    """A JSON API's answer to getSupportedVersions (or any call) in the advertised version."""
    reply = json.loads(body)
    return version in reply.get("data", {}).get("apiVersions", []) or reply.get("apiVersion") == version


def contains(*texts: str) -> Check:
    return lambda body, version: all(text.format(version=version) in body for text in texts)


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    check: Check
    options: dict[str, Any] = field(default_factory=dict)


def ajr(path: str, method: str = "getSupportedVersions", api_version: str = "1.0") -> Probe:
    return Probe("POST", path, json_version, {"json": {"apiVersion": api_version, "method": method}})


# apidiscovery id -> one minimal valid request and what its answer must show
PROBES: dict[str, Probe] = {
    "api-discovery": ajr(DISCOVERY),
    "basic-device-info": ajr("/axis-cgi/basicdeviceinfo.cgi"),
    "systemready": ajr("/axis-cgi/systemready.cgi", "systemready"),
    "param-cgi": Probe("GET", "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr", contains("Brand.ProdNbr=")),
    "user-management": Probe("GET", "/axis-cgi/pwdgrp.cgi?action=get", contains("admin=")),
    "fwmgr": ajr("/axis-cgi/firmwaremanagement.cgi", "status"),
    "nvr-poe": Probe("GET", "/axis-cgi/nvr/poe/schemaversions.cgi", contains("<VersionNumber>{version}<")),
    "disk-management": Probe("GET", "/axis-cgi/disks/list.cgi?diskid=all", contains("<disks numberofdisks=")),
    "disk-properties": Probe("GET", "/axis-cgi/disks/properties/schemaversions.cgi", contains(">{version}<")),
    "disk-network-share": Probe(
        "GET", "/axis-cgi/disks/networkshare/schemaversions.cgi", contains("<VersionNumber>{version}<")
    ),
    "raid": ajr("/axis-cgi/disks/raid.cgi"),
    "audit-log": Probe("GET", "/axis-cgi/auditlog.cgi?version=true", contains("{version}.")),
    "io-port-management": ajr("/axis-cgi/io/portmanagement.cgi"),
    "supervised-io": ajr("/axis-cgi/supervisedio.cgi", api_version="2.0"),
    "power-settings": ajr("/axis-cgi/power-settings.cgi"),
    "network-settings": ajr("/axis-cgi/network_settings.cgi", "getNetworkInfo", NETWORK_SETTINGS.version),
    "time-service": ajr("/axis-cgi/time.cgi", "getDateTimeInfo", "1.1"),
    "ntp": ajr("/axis-cgi/ntp.cgi", "getNTPInfo", "1.5"),
    "mediaclip": Probe("GET", "/axis-cgi/stopclip.cgi", contains("OK")),
    "sip": Probe("POST", "/vapix/call", contains('"Capabilities"'), {"data": '{"axcall:GetServiceCapabilities": {}}'}),
    "mqtt-client": ajr("/axis-cgi/mqtt/client.cgi"),
    "event-mqtt-bridge": ajr("/axis-cgi/mqtt/event.cgi"),
    "speakertest": Probe(
        "POST", "/vapix/axast", contains('"SpeakerTestReport"'), {"data": '{"axast:GetSpeakerTestReport": {}}'}
    ),
    # events.md §2.1: a session token, the bare digits (the upgrade itself: tests/test_ws_events.py)
    "event-streaming-over-websocket": Probe("GET", "/axis-cgi/wssession.cgi", lambda body, _: body.strip().isdigit()),
}

# route path (or a prefix ending in "/") -> the apidiscovery id it implements; None: a legacy CGI
# real devices serve without an apidiscovery entry (vapix-wire.md §1-3, 5.3; the web interface)
ROUTE_APIS: dict[str, str | None] = {
    "/axis-cgi/apidiscovery.cgi": "api-discovery",
    "/axis-cgi/basicdeviceinfo.cgi": "basic-device-info",
    "/axis-cgi/systemready.cgi": "systemready",
    "/axis-cgi/applications/list.cgi": None,
    "/axis-cgi/param.cgi": "param-cgi",
    "/axis-cgi/admin/param.cgi": "param-cgi",
    "/axis-cgi/operator/param.cgi": "param-cgi",
    "/axis-cgi/view/param.cgi": "param-cgi",
    "/axis-cgi/pwdgrp.cgi": "user-management",
    "/axis-cgi/usergroup.cgi": "user-management",
    "/axis-cgi/firmwaremanagement.cgi": "fwmgr",
    "/axis-cgi/restart.cgi": None,
    "/axis-cgi/admin/restart.cgi": None,
    "/axis-cgi/factorydefault.cgi": None,
    "/axis-cgi/hardfactorydefault.cgi": None,
    "/axis-cgi/nvr/poe/": "nvr-poe",
    "/axis-cgi/disks/list.cgi": "disk-management",
    "/axis-cgi/disks/getcapabilities.cgi": "disk-management",
    "/axis-cgi/disks/gethealth.cgi": "disk-management",
    "/axis-cgi/disks/format.cgi": "disk-management",
    "/axis-cgi/disks/checkdisk.cgi": "disk-management",
    "/axis-cgi/disks/repair.cgi": "disk-management",
    "/axis-cgi/disks/mount.cgi": "disk-management",
    "/axis-cgi/disks/job.cgi": "disk-management",
    "/axis-cgi/disks/lock.cgi": "disk-management",
    "/axis-cgi/disks/properties/": "disk-properties",
    "/axis-cgi/disks/networkshare/": "disk-network-share",
    "/axis-cgi/disks/raid.cgi": "raid",
    "/axis-cgi/serverreport.cgi": None,
    "/axis-cgi/debug/debug.tgz": None,
    "/axis-cgi/systemlog.cgi": None,
    "/axis-cgi/admin/systemlog.cgi": None,
    "/axis-cgi/accesslog.cgi": None,
    "/axis-cgi/admin/accesslog.cgi": None,
    "/axis-cgi/auditlog.cgi": "audit-log",
    "/axis-cgi/io/port.cgi": None,
    "/axis-cgi/io/portmanagement.cgi": "io-port-management",
    "/axis-cgi/supervisedio.cgi": "supervised-io",
    "/axis-cgi/power-settings.cgi": "power-settings",
    "/axis-cgi/network_settings.cgi": "network-settings",
    "/axis-cgi/time.cgi": "time-service",
    "/axis-cgi/ntp.cgi": "ntp",
    "/axis-cgi/mediaclip.cgi": "mediaclip",
    "/axis-cgi/playclip.cgi": "mediaclip",
    "/axis-cgi/stopclip.cgi": "mediaclip",
    "/vapix/call": "sip",
    "/vapix/axast": "speakertest",
    "/axis-cgi/wssession.cgi": "event-streaming-over-websocket",
    "/vapix/ws-data-stream": "event-streaming-over-websocket",
    "/axis-cgi/mqtt/client.cgi": "mqtt-client",
    "/axis-cgi/mqtt/event.cgi": "event-mqtt-bridge",
    "/vapix/services": None,  # SOAP web services (event1): no apidiscovery id on real firmware
    "/axis-cgi/virtualinput/": None,  # virtual input API: no apidiscovery id (Properties.VirtualInput says it)
    # the Device Configuration APIs: listed by /config/discover, never by getApiList (a recorded 12.x device)
    "/config/rest/{tail:.*}": None,
    "/config/discover{tail:.*}": None,
    "/axis-cgi/io/virtualinput.cgi": None,  # the manual trigger
    "/": None,
    "/index.html": None,
}

FACT = "fact"  # a hardware or identity fact, not an API
# Properties.* parameter (or group prefix) -> the apidiscovery id, served path or FACT it stands for
PROPERTIES: dict[str, str] = {
    "Properties.System.": FACT,
    "Properties.Firmware.": FACT,
    "Properties.RTC.RTC": FACT,  # a battery-backed clock
    "Properties.Serial.Serial": FACT,
    "Properties.HTTPS.HTTPS": FACT,  # the HTTPS listener, not an API
    "Properties.RemoteService.RemoteService": FACT,  # "no" on every model
    "Properties.API.HTTP.": "param-cgi",  # VAPIX version 3 CGIs; AdminPath: the web root's redirect
    "Properties.API.Browser.RootPwdSetValue": "user-management",
    "Properties.API.Browser.UserGroup": "user-management",
    "Properties.API.Metadata.Metadata": FACT,  # "no": nothing streams metadata
    "Properties.API.Metadata.Version": FACT,  # kept beside Metadata=no: the axis library reads it
    "Properties.ApiDiscovery.ApiDiscovery": "api-discovery",
    "Properties.FirmwareManagement.Version": "fwmgr",
    "Properties.EmbeddedDevelopment.": "/axis-cgi/applications/list.cgi",
    "Properties.LocalStorage.DiskEncryption": "disk-properties",
    "Properties.LocalStorage.FailOverRecording": FACT,  # "no"
    "Properties.LocalStorage.SDCard": FACT,  # "no"
    "Properties.LocalStorage.": "disk-management",  # LocalStorage, DiskHealth, AutoRepair, RequiredFileSystem
    "Properties.NetworkShare.": "disk-network-share",
    "Properties.Audio.Audio": "mediaclip",  # the media clip API's identification (vapix-wire.md §6.4)
    "Properties.Audio.Source.A0.Output": "mediaclip",
    "Properties.Audio.Source.A0.Input": "speakertest",  # the microphone the speaker test listens with
    "Properties.Audio.InputType": "speakertest",
    "Properties.AudioClip.": "mediaclip",
    "Properties.API.SIP.": "sip",
    "Properties.SRTP.": "sip",  # the calls' media encryption
    "Properties.API.SpeakerTest.": "speakertest",
    "Properties.SupervisedIO.": "supervised-io",
    "Properties.VirtualInput.VirtualInput": "/axis-cgi/virtualinput/activate.cgi",
    "Properties.IO.ManualTriggerNbr": "/axis-cgi/io/virtualinput.cgi",  # the manual trigger's port number
}


def _route_api(path: str) -> str | None:
    for prefix, api in ROUTE_APIS.items():
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return api
    raise AssertionError(f"{path}: add it to ROUTE_APIS (its apidiscovery id, or None for a legacy CGI)")


def _property_meaning(name: str) -> str:
    matches = [key for key in PROPERTIES if name == key or (key.endswith(".") and name.startswith(key))]
    assert matches, f"{name}: add it to PROPERTIES (what it advertises) or leave it out of the fixture"
    return PROPERTIES[max(matches, key=len)]


async def _api_list(client: DeviceClient) -> dict[str, str]:
    response = await client.post(DISCOVERY, json={"apiVersion": "1.0", "method": "getApiList"}, auth=None)
    assert response.status == 200
    return {api["id"]: api["version"] for api in (await response.json(content_type=None))["data"]["apiList"]}


async def _answers(client: DeviceClient, path: str) -> bool:
    """The path is served: anything but Apache's 404 to a bare GET (an API's own error, a 405 counts)."""
    response = await client.get(path)
    body = await response.text()
    return not (response.status == 404 and "<title>404 Not Found</title>" in body)


def test_every_route_is_in_the_table() -> None:
    for route in ROUTES:
        _route_api(route.path)


@pytest.mark.parametrize("model", MODELS)
async def test_every_advertised_api_answers(device_client: DeviceClientFactory, model: str) -> None:
    client = await device_client(model)
    advertised = await _api_list(client)
    assert advertised, model
    for api, version in advertised.items():
        assert api in PROBES, f"{model} advertises {api}, which no probe knows"
        probe = PROBES[api]
        response = await client.request(probe.method, probe.path, **probe.options)
        body = await response.text()
        assert response.status == 200, (model, api, response.status, body[:200])
        assert probe.check(body, version), (model, api, version, body[:300])


@pytest.mark.parametrize("model", MODELS)
async def test_every_served_api_is_advertised(device_client: DeviceClientFactory, model: str) -> None:
    client = await device_client(model)
    advertised = await _api_list(client)
    served: set[str] = set()
    for path in sorted({route.path for route in ROUTES}):
        api = _route_api(path)
        if api is not None and await _answers(client, path):
            served.add(api)
            assert api in advertised, f"{model} serves {path} ({api}) but does not advertise {api}"
    assert served == set(advertised), (model, sorted(set(advertised) - served))


@pytest.mark.parametrize("model", MODELS)
async def test_every_property_flag_is_served(device_client: DeviceClientFactory, model: str) -> None:
    client = await device_client(model)
    advertised = await _api_list(client)
    listing = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=Properties")
    for line in listing.splitlines():
        name, _, value = line.removeprefix("root.").partition("=")
        meaning = _property_meaning(name)
        if meaning == FACT or value == "no":
            continue
        if meaning.startswith("/"):
            assert await _answers(client, meaning), f"{model}: {name}={value} but {meaning} is not served"
        else:
            assert meaning in advertised, f"{model}: {name}={value} but {meaning} is not advertised"
