"""`POST /axis-cgi/ntp.cgi` (`id=ntp`): the NTP client's settings and synchronisation status.

vapix-wire.md §5.1 lists `ntp` 1.5 on AXIS OS 12.9 and §5.5 the parameters behind it
(`Time.SyncSource`, `Time.ObtainFromDHCP`, `Time.NTP.Server`); the manuals' "Date and time" page
lets one choose NTP servers from DHCP or one or two manual servers and shows whether the device
is in sync. [GUESS: the reply's shape] `getNTPInfo` answers `{"client": {...}}` with the fields of
the device-configuration NTP client (`enabled`, `serversSource` "DHCP"|"static",
`staticServers`, `advertisedServers`, `servers`, `synced`, `timeOffset`, `timeToNextSync`);
`setNTPClientConfiguration` takes `enabled`, `serversSource` and `staticServers` (each optional)
and answers `{}`. Errors as the Time API's (§5.5). Viewers read, administrators set.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.subsystems.time import NtpStatus, TimeError, TimeSubsystem
from param_tree import Role

from .ajr import Params, ajr_call, require_version
from .api_errors import ApiError
from .replies import json_envelope, json_reply
from .request_context import actor_of, require, subsystem_of
from .routing import Api, Route
from .time import ERRORS

VERSION = "1.5"  # [GUESS: what AXIS OS 12.6 lists; 12.9 lists 1.5]
SUPPORTED = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"]
POLL_S = 1024  # [GUESS: the time to the next poll, ntpd's default maximum poll interval]


def _client(status: NtpStatus) -> dict[str, Any]:
    return {
        "enabled": status.enabled,
        "serversSource": status.source,
        "staticServers": list(status.static),
        "advertisedServers": list(status.advertised),
        "servers": list(status.servers),
        "synced": status.synced,
        "timeOffset": 0,  # simulated: the device clock is the reference
        "timeToNextSync": POLL_S if status.synced else 0,
    }


def _servers(params: Params) -> list[str] | None:
    value = params.values.get("staticServers")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ApiError(4004)
    return value


def _dispatch(request: web.Request, document: dict[str, Any]) -> Any:
    method = document.get("method")
    if method == "getSupportedVersions":
        return {"apiVersions": SUPPORTED}
    require_version(document, SUPPORTED, missing=4003, unsupported=4001)
    params = Params.of(document, missing=4003, invalid=4004)
    service = subsystem_of(request, TimeSubsystem)
    if method == "getNTPInfo":
        return {"client": _client(service.ntp())}
    if method != "setNTPClientConfiguration":
        raise ApiError(4000)
    require(request, Role.ADMIN)
    enabled = params.flag("enabled")
    source = params.text("serversSource", None, ("DHCP", "static"))
    servers = _servers(params)
    if enabled is None and source is None and servers is None:
        raise ApiError(4003)
    try:
        service.set_ntp(enabled, source, servers, actor_of(request))
    except TimeError as exc:
        raise ApiError(4004) from exc
    return {}


async def ntp_cgi(request: web.Request) -> web.Response:
    if request.method != "POST":
        return json_reply(json_envelope(VERSION, None, None, error=(2000, ERRORS[2000])))
    return await ajr_call(request, VERSION, ERRORS, 3000, lambda document: _dispatch(request, document))


ROUTES = [Route("/axis-cgi/ntp.cgi", ntp_cgi, Role.VIEWER, ("GET", "POST"), TimeSubsystem.name)]
NTP = Api("ntp", VERSION, "NTP")
APIS = [NTP]
