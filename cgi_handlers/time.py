"""`POST /axis-cgi/time.cgi` (`id=time-service`, vapix-wire.md §5.5): date, time and time zone.

JSON (AJR), HTTP 200 for errors too. getDateTimeInfo, getAll (plus the IANA names),
getSupportedVersions for viewers; setDateTime (UTC, `YYYY-MM-DDThh:mm:ssZ`), setTimeZone (IANA),
setPosixTimeZone (POSIX and the DST flag) and resetTimeZone (1.1) for administrators. A set method
echoes its params. The firmware of every model (AXIS OS 12) has the API at 1.1; none has the
legacy `date.cgi` (gone long before AXIS OS 12), so it is not served. The state is the `time`
subsystem's (`axisim/subsystems/time`), the same one `Time.POSIXTimeZone` in param.cgi changes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from axisim.subsystems.time import DateTimeInfo, TimeError, TimeSubsystem
from axisim.timezone import iana_names, iso_local
from param_tree import Role

from .ajr import REQUIRED, Params, ajr_call, require_version
from .api_errors import ApiError
from .replies import json_envelope, json_reply
from .request_context import actor_of, require, subsystem_of
from .routing import Api, Route

VERSION = "1.1"
SUPPORTED = ["1.0", "1.1"]  # [GUESS: the versions getSupportedVersions lists on AXIS OS 12]
# §5.5's codes; the texts are not documented [GUESS]
ERRORS = {
    1000: "Internal error",
    2000: "Only HTTP POST is supported",
    2001: "Request body too large",
    3000: "Invalid JSON",
    4000: "Method does not exist",
    4001: "Version not supported",
    4002: "Authorization failed",
    4003: "Missing parameters",
    4004: "Invalid parameters",
}
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _info(info: DateTimeInfo) -> dict[str, Any]:
    """getDateTimeInfo's `data` (§5.5). The simulated DHCP server offers no time zone [GUESS: "" then]."""
    return {
        "dateTime": _utc(info.utc),
        "localDateTime": iso_local(info.local),
        "maxYearSupported": info.max_year,
        "timeZone": info.iana or "",
        "posixTimeZone": info.posix,
        "dstEnabled": info.dst_enabled,
        "dhcpTimeZone": "",
        "dhcpTimeZoneUtilized": False,
    }


def _date_time(params: Params) -> datetime:
    text = params.text("dateTime", REQUIRED)
    if not DATE_TIME.fullmatch(text):
        raise ApiError(4004)
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:  # 2026-02-30T25:00:00Z
        raise ApiError(4004) from exc


def _dispatch(request: web.Request, document: dict[str, Any]) -> Any:
    method = document.get("method")
    if method == "getSupportedVersions":
        return {"apiVersions": SUPPORTED}
    require_version(document, SUPPORTED, missing=4003, unsupported=4001)
    params = Params.of(document, missing=4003, invalid=4004)
    service = subsystem_of(request, TimeSubsystem)
    if method == "getDateTimeInfo":
        return _info(service.info())
    if method == "getAll":
        return {**_info(service.info()), "timeZones": iana_names()}
    if method not in ("setDateTime", "setTimeZone", "setPosixTimeZone", "resetTimeZone"):
        raise ApiError(4000)
    require(request, Role.ADMIN)
    actor = actor_of(request)
    try:
        if method == "setDateTime":
            moment = _date_time(params)
            service.set_date_time(moment, actor)
            return {"dateTime": _utc(moment)}
        if method == "setTimeZone":
            name = params.text("timeZone", REQUIRED)
            service.set_iana(name, actor)
            return {"timeZone": name}
        if method == "setPosixTimeZone":
            text, dst = params.text("posixTimeZone", REQUIRED), params.flag("enableDst", True)
            service.set_posix(text, dst, actor)
            return {"posixTimeZone": text, "dstEnabled": dst}
        if document["apiVersion"] == "1.0":
            raise ApiError(4000)  # resetTimeZone came with 1.1
        service.reset_zone(actor)
        return {"status": "success"}
    except TimeError as exc:
        raise ApiError(4004) from exc


async def time_cgi(request: web.Request) -> web.Response:
    if request.method != "POST":
        return json_reply(json_envelope(VERSION, None, None, error=(2000, ERRORS[2000])))
    return await ajr_call(request, VERSION, ERRORS, 3000, lambda document: _dispatch(request, document))


ROUTES = [Route("/axis-cgi/time.cgi", time_cgi, Role.VIEWER, ("GET", "POST"), TimeSubsystem.name)]
TIME_SERVICE = Api("time-service", VERSION, "Time API")
APIS = [TIME_SERVICE]
