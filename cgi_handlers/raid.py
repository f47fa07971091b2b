"""`POST /axis-cgi/disks/raid.cgi`: VAPIX RAID management (S3016, S4000; vapix-wire.md §6.2).

JSON, HTTP 200 for errors too. getStatus, getCapabilities and getSupportedVersions
are for operators, recreateRaidOnAllComponents for administrators. Error messages
as the documentation's examples write them (no trailing period). Models whose
storage is not a RAID (S3008, the speaker) have no such path: Apache's 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.subsystems.storage import StorageSubsystem
from axisim.subsystems.storage.media import StorageError
from param_tree import Role

from .ajr import REQUIRED, Params, ajr_call
from .apache_pages import apache_page
from .api_errors import ApiError
from .disks import storage_of
from .request_context import actor_of, require
from .routing import Api, Route

API_VERSION = "1.0"
ERRORS = {
    1100: "Internal error",
    1200: "Generic RAID error",
    1201: "RAID level not supported",
    1202: "Component device error",
    2101: "Invalid JSON",
    2102: "Method not supported",
    2103: "Required parameter missing",
    2104: "Invalid parameter value specified",
}
REASON_CODES = {"level": 1201, "component": 1202, "mounted": 1200, "busy": 1200}
GB = 10**9


def status_data(storage: StorageSubsystem) -> dict[str, Any]:
    components = []
    for bay, drive in enumerate(storage.drives):
        if drive is None or drive.failed:  # md drops a broken drive: it is no longer detected in the array
            components.append({"componentStatus": "missing", "componentId": str(bay),
                               "serialNumber": drive.serial if drive else "unknown",
                               "capacity": drive.capacity // GB if drive else 0})  # fmt: skip
            continue
        components.append({"componentStatus": "spare" if drive.syncing else "connected", "componentId": str(bay),
                           "serialNumber": drive.serial, "capacity": drive.capacity // GB})  # fmt: skip
    raid = {
        "status": storage.raid_status(),
        "syncProgress": storage.sync_progress(),
        "syncTimeRemaining": storage.sync_time_remaining(),
        "raidLevel": storage.level,
        "components": components,
    }
    return {"raids": [raid]}


async def raid_cgi(request: web.Request) -> web.Response:
    storage = storage_of(request)
    if storage.medium.as_raid() is None:
        return apache_page(404)
    storage.tick()
    return await ajr_call(request, API_VERSION, ERRORS, 2101, lambda document: _dispatch(request, storage, document))


def _dispatch(request: web.Request, storage: StorageSubsystem, document: dict[str, Any]) -> dict[str, Any]:
    method = document.get("method")
    if method == "getSupportedVersions":
        return {"apiVersions": [API_VERSION]}
    version = document.get("apiVersion")
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise ApiError(2104)
    if method == "getStatus":
        return status_data(storage)
    if method == "getCapabilities":
        return {"raidLevels": list(storage.medium.levels)}
    if method == "recreateRaidOnAllComponents":
        require(request, Role.ADMIN)
        level = Params.of(document, missing=2103, invalid=2104).text("raidLevel", REQUIRED)
        try:
            storage.recreate_raid(level, actor_of(request))
        except StorageError as exc:
            raise ApiError(REASON_CODES.get(exc.reason, 1200)) from exc
        return {}
    raise ApiError(2102)


ROUTES = [Route("/axis-cgi/disks/raid.cgi", raid_cgi, Role.OPERATOR, subsystem=StorageSubsystem.name)]
APIS = [Api("raid", "1.0", "RAID Management", needs=("raid", True))]  # the VAPIX RAID page lists 1.0 only
