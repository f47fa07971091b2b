"""restart.cgi, factorydefault.cgi, hardfactorydefault.cgi and firmwaremanagement.cgi (vapix-wire.md §2).

The legacy CGIs reply the HTML of §2.1 and then the device goes through its
reboot cycle. firmwaremanagement.cgi answers HTTP 200 with a JSON body for
success and failure alike (§2.2); its replies are indented by two spaces as the
recorded 421 reply is.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.firmware import MAX_IMAGE_BYTES, Firmware, Image, ImageError, read_image
from axisim.lifecycle import RestartKind
from param_tree import Role

from .ajr import Params
from .api_errors import ApiError
from .bodies import MAX_FORM_BYTES, BodyTooLarge, MalformedBody, PartTooLarge, json_object, multipart_parts, read_body
from .replies import json_envelope, json_text, text_reply
from .request_context import actor_of, device_of
from .routing import Api, Route

IMAGE_HEAD_BYTES = 4096  # enough for the image header; the rest is counted, not kept

# §2.1 [CLIENT]: the page each CGI answers before the device goes down
MESSAGE_PAGES = {
    RestartKind.REBOOT: "restartMessage",
    RestartKind.SOFT: "factoryMessage",
    RestartKind.HARD: "factoryMessage2",
}
HTML_TYPE = "text/html;charset=UTF-8"


def _status(firmware: Firmware) -> dict[str, Any]:
    """firmwaremanagement's status reply (§2.2), keys in the device's order."""
    data: dict[str, Any] = {"activeFirmwareVersion": firmware.active, "activeFirmwarePart": firmware.part}
    if firmware.inactive is not None:
        data["inactiveFirmwareVersion"] = firmware.inactive
        data["isCommited"] = True  # sic, one t; upgrades commit at boot (no automatic rollback)
        if firmware.last_upgrade_at:
            data["lastUpgradeAt"] = firmware.last_upgrade_at
    return data


def restart_page(kind: RestartKind, address: str) -> str:
    return (
        "<html>\n  <head>\n"
        f'    <meta http-equiv="refresh" content="0;URL=/admin/{MESSAGE_PAGES[kind]}.shtml?server={address}">\n'
        "  </head>\n  <body>\n  </body>\n</html>\n"
    )


def _legacy(kind: RestartKind) -> Any:
    async def handler(request: web.Request) -> web.Response:
        device = device_of(request)
        page = restart_page(kind, device.identity.ip)
        device.restart(kind, actor_of(request))  # goes offline once this reply has been sent
        return text_reply(page, content_type=HTML_TYPE)

    return handler


# -- firmwaremanagement.cgi ----------------------------------------------------------

# general and per-method error texts (§2.2; 405 and 409 as recorded on AXIS OS 12, the rest from the docs)
ERRORS = {
    400: "Message could not be parsed or contains unknown parameters or values.",
    404: "No old firmware exists.",
    405: "Unknown method in request.",
    409: "Downgrade is only allowed if factoryDefault=hard is set.",
    415: "Upgrade failed due to invalid image.",
    417: "API version not compatible.",
    421: "Firmware image does not match this device.",
    500: "Unexpected internal error.",
}
IMAGE_ERRORS = {"mismatch": 421, "downgrade": 409}
FACTORY_MODES = {"soft": RestartKind.SOFT, "hard": RestartKind.HARD}
UPGRADE_MODES = ("none", "soft", "hard")


def _reply(version: str, method: str | None, context: Any, data: Any = None, code: int | None = None) -> web.Response:
    error = (code, ERRORS[code]) if code is not None else None
    document = json_envelope(version, method, context, data=data, error=error)
    return text_reply(json_text(document, indent=2, newline=True), content_type="application/json")  # §2.2 [REC]


async def _read_upgrade(request: web.Request) -> tuple[dict[str, Any], tuple[str | None, bytes] | None]:
    """multipart/form-data: the first part is the JSON request, the second the image, whatever
    their names (clients use json/file, data/firmwareImage, data/fileData). Only the head of
    the image is kept; the rest is read and counted, not stored. A body that is not multipart
    as it says is error 400 (§2.2: "Message could not be parsed")."""
    parts: list[tuple[str | None, bytes]] = []
    try:
        async for part in multipart_parts(request, _upgrade_limits):
            parts.append((part.filename, part.head))
            if len(parts) == 2:
                break
    except PartTooLarge as exc:
        raise ApiError(400 if exc.index == 0 else 415) from exc
    except MalformedBody as exc:
        raise ApiError(400) from exc
    if not parts:
        raise ApiError(400)
    return _parse_json(parts[0][1]), (parts[1] if len(parts) > 1 else None)


def _upgrade_limits(index: int) -> tuple[int, int]:
    """(most bytes, bytes kept) of the JSON part and of the image part."""
    return (MAX_FORM_BYTES, MAX_FORM_BYTES) if index == 0 else (MAX_IMAGE_BYTES, IMAGE_HEAD_BYTES)


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        return json_object(raw)
    except ValueError as exc:
        raise ApiError(400) from exc


async def firmwaremanagement_cgi(request: web.Request) -> web.Response:
    version = FWMGR.version
    document: dict[str, Any] = {}
    image: tuple[str | None, bytes] | None = None
    try:
        if request.method != "POST":
            raise ApiError(400)
        if request.content_type.startswith("multipart/"):
            document, image = await _read_upgrade(request)
        else:
            document = _parse_json(await read_body(request))
    except ApiError as exc:
        return _reply(version, document.get("method") if document else None, None, code=exc.code)
    except (BodyTooLarge, ValueError):  # a broken multipart body
        return _reply(version, None, None, code=400)
    method, context = document.get("method"), document.get("context")
    shown = method if isinstance(method, str) else None
    try:
        data = _dispatch(request, document, image)
    except ApiError as exc:
        return _reply(version, shown, context, code=exc.code)
    if shown == "getSupportedVersions":
        return _reply(version, shown, context, data={"apiVersions": [version]})
    return _reply(version, shown, context, data=data)


def _dispatch(request: web.Request, document: dict[str, Any], image: tuple[str | None, bytes] | None) -> Any:
    device = device_of(request)
    method = document.get("method")
    if method == "getSupportedVersions":
        return None
    api_version = document.get("apiVersion")
    if not isinstance(api_version, str) or not api_version:
        raise ApiError(400)
    if api_version.split(".")[0] != "1":
        raise ApiError(417)
    params = Params.of(document, missing=400, invalid=400)
    actor = actor_of(request)
    firmware = device.firmware
    if method == "status":
        return _status(firmware)
    if method == "reboot":
        device.restart(RestartKind.REBOOT, actor)
        return {}
    if method == "factoryDefault":
        mode = params.text("factoryDefaultMode", "soft", choices=tuple(FACTORY_MODES))
        device.restart(FACTORY_MODES[mode], actor)
        return {}
    if method == "upgrade":
        mode = params.text("factoryDefaultMode", "none", choices=UPGRADE_MODES)
        if image is None:
            raise ApiError(400)
        try:
            accepted: Image = read_image(image[0], image[1], (device.param("Brand.ProdNbr"), device.model.id))
            device.upgrade(accepted, mode, actor)
        except ImageError as exc:
            raise ApiError(IMAGE_ERRORS[exc.kind]) from exc
        return {"firmwareVersion": accepted.version}
    if method == "rollback":
        if not device.rollback(actor):
            raise ApiError(404)
        return {}
    if method == "commit":
        return {"firmwareVersion": firmware.active}
    if method == "purge":
        device.purge_firmware(actor)
        return {}
    if method == "stopAuto":  # no automatic rollback is ever pending: upgrades commit at boot
        return {}
    raise ApiError(405)


ROUTES = [
    Route("/axis-cgi/restart.cgi", _legacy(RestartKind.REBOOT), Role.ADMIN),
    Route("/axis-cgi/admin/restart.cgi", _legacy(RestartKind.REBOOT), Role.ADMIN),
    Route("/axis-cgi/factorydefault.cgi", _legacy(RestartKind.SOFT), Role.ADMIN),
    Route("/axis-cgi/hardfactorydefault.cgi", _legacy(RestartKind.HARD), Role.ADMIN),
    Route("/axis-cgi/firmwaremanagement.cgi", firmwaremanagement_cgi, Role.ADMIN),
]
FWMGR = Api("fwmgr", "1.8", "Firmware Management", paths=("/axis-cgi/firmwaremanagement.cgi",))  # not the legacy CGIs
APIS = [FWMGR]
