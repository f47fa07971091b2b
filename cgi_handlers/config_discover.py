"""`/config/discover`, `/apis`, `/apis/<id>`, `/apis/<id>/v<major>` (VAPIX "Device Configuration
APIs": Discovery): the APIs `config_rest` serves to this device, as plain JSON documents without the
success envelope [DOC examples]; the documents they link (doc.md, model.json, openapi.json) are not
served (GUESS: 404). Errors in the framework's envelope (`config_rest.failure`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.device import Device
from param_tree import Role

from .config_rest import ConfigApi, DcaError, failure, not_found, registered
from .replies import json_text, text_reply
from .request_context import device_of
from .routing import Route

FRAMEWORK_VERSION = "1.0.0"  # /config/discover's framework_version [DOC example]
DISCOVER = "/config/discover"


def _entry(api: ConfigApi) -> dict[str, str]:
    where = f"{DISCOVER}/apis/{api.name}/v{api.major}"
    return {
        "doc": f"{where}/doc.md",
        "doc_html": f"/config/web-ui/cu-doc.html?md-doc-loc={where}/doc.md",
        "model": f"{where}/model.json",
        "rest_api": api.rest_api,
        "rest_openapi": f"{where}/openapi.json",
        "rest_ui": f"/config/web-ui/swagger-ui/?url={where}/openapi.json",
        "state": api.state,
        "version": api.version,
    }


def _apis(device: Device) -> dict[str, dict[str, dict[str, str]]]:
    found: dict[str, dict[str, dict[str, str]]] = {}
    for api in registered():
        if api.served_by(device):
            found.setdefault(api.name, {})[f"v{api.major}"] = _entry(api)
    return found


async def discover(request: web.Request) -> web.Response:
    """Every `/config/discover...` request."""
    path = request.path
    apis = _apis(device_of(request))
    parts = [p for p in path.removeprefix(DISCOVER).split("/") if p]
    try:
        if request.method != "GET":
            raise DcaError(2, f"Method not allowed: {request.method}", 405)
        if not parts:
            return _bare({"framework_version": FRAMEWORK_VERSION, "apis": apis})
        if parts[0] != "apis" or len(parts) > 3:
            raise not_found(path)
        if len(parts) == 1:
            return _bare(apis)
        versions = apis.get(parts[1])
        if versions is None or (len(parts) == 3 and parts[2] not in versions):
            raise not_found(path)
        return _bare({parts[1]: versions} if len(parts) == 2 else versions[parts[2]])
    except DcaError as error:
        return failure(error)


def _bare(document: dict[str, Any]) -> web.Response:
    """Discovery documents are plain JSON, without the success envelope [DOC examples]."""
    return text_reply(json_text(document), content_type="application/json")


ROUTES = [Route(DISCOVER + "{tail:.*}", discover, Role.VIEWER, ("GET", "POST", "PATCH", "PUT", "DELETE"))]
