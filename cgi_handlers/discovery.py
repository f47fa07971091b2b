"""Discovery JSON APIs: apidiscovery.cgi, basicdeviceinfo.cgi, systemready.cgi (vapix-wire.md §5.1, 5.2, 5.4).

All answer HTTP 200 with an AJR envelope, errors included (§0.2); `context` is
echoed only when the request carried one.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from types import ModuleType
from typing import Any

from aiohttp import web

from axisim.device import Device
from param_tree import Role, whole_number

from .bodies import BodyTooLarge, json_object, read_body
from .replies import bytes_reply, json_envelope, json_reply, json_text, wire_bytes
from .request_context import AccessDenied, device_of, role_of
from .routing import Api, Route

# what this module's routes implement (APIS at the bottom); versions as AXIS OS 12 devices report them (§5.1)
API_DISCOVERY = Api("api-discovery", "1.1", "API Discovery Service", paths=("/axis-cgi/apidiscovery.cgi",))
BASIC_DEVICE_INFO = Api(
    "basic-device-info", "1.3", "Basic Device Information", paths=("/axis-cgi/basicdeviceinfo.cgi",)
)
SYSTEMREADY = Api("systemready", "1.5", "Systemready", paths=("/axis-cgi/systemready.cgi",))
DOC_LINK = "https://www.axis.com/partner_pages/vapix_library/#/"

# basicdeviceinfo property -> parameter, in the key order real devices reply with
# (vapix-wire.md §5.2 [REC]: the unrestricted reply of 10.12-12.9).
UNRESTRICTED_PROPERTIES = {
    "ProdNbr": "Brand.ProdNbr",
    "HardwareID": "Properties.System.HardwareID",
    "ProdFullName": "Brand.ProdFullName",
    "Version": "Properties.Firmware.Version",
    "ProdType": "Brand.ProdType",
    "Brand": "Brand.Brand",
    "WebURL": "Brand.WebURL",
    "ProdVariant": "Brand.ProdVariant",
    "SerialNumber": "Properties.System.SerialNumber",
    "ProdShortName": "Brand.ProdShortName",
    "BuildDate": "Properties.Firmware.BuildDate",
}
# getAllProperties' key order on all 11 recorded devices, AXIS OS 10.12-12.9 (rs4acap cassettes
# basic_device_info_get_all_properties, vapix-wire.md §5.2): the unrestricted order with Architecture
# first and SocSerialNumber, Soc after ProdType
ALL_PROPERTY_ORDER = (
    "Architecture", "ProdNbr", "HardwareID", "ProdFullName", "Version", "ProdType", "SocSerialNumber", "Soc",
    "Brand", "WebURL", "ProdVariant", "SerialNumber", "ProdShortName", "BuildDate",
)  # fmt: skip
RESTRICTED_PROPERTIES = {"Architecture": "Properties.System.Architecture", "Soc": "Properties.System.Soc"}


def unrestricted_properties(device: Device) -> dict[str, str]:
    """Read by every poll of a VMS: remembered until the device's parameters change (a copy each
    time, so that no caller can change what is remembered)."""
    return dict(device.params.memo(("basicdeviceinfo", "unrestricted"), lambda: _unrestricted(device)))


def all_properties(device: Device) -> dict[str, str]:
    return dict(device.params.memo(("basicdeviceinfo", "all"), lambda: _all(device)))


def _unrestricted(device: Device) -> dict[str, str]:
    return {key: device.param(name) for key, name in UNRESTRICTED_PROPERTIES.items()}


def _all(device: Device) -> dict[str, str]:
    found = _unrestricted(device)
    found.update({key: device.param(name) for key, name in RESTRICTED_PROPERTIES.items()})
    found["SocSerialNumber"] = device.identity.soc_serial  # the identity: fixed for the device's life
    return {key: found[key] for key in ALL_PROPERTY_ORDER}


# apidiscovery / basicdeviceinfo error family (vapix-wire.md §0.2)
ERRORS = {
    1000: "Invalid parameter value specified",
    2002: "HTTP request type not supported. Only POST is supported",
    2003: "Requested API version is not supported",
    2004: "Method not supported",
    4000: "Invalid JSON",
    4002: "Required parameter missing or invalid",
}


class JsonRequestError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or ERRORS.get(code, "Internal error")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request object, or JsonRequestError(2002/4000) as the device answers."""
    if request.method != "POST":
        raise JsonRequestError(2002)
    try:
        return json_object(await read_body(request))
    except (ValueError, BodyTooLarge) as exc:
        raise JsonRequestError(4000) from exc


def method_of(document: dict[str, Any]) -> str:
    method = document.get("method")
    if not isinstance(method, str):
        raise JsonRequestError(4002)
    return method


def check_version(document: dict[str, Any], supported_major: str = "1") -> None:
    version = document.get("apiVersion")
    if not isinstance(version, str) or not version:
        raise JsonRequestError(4002)
    if version.split(".")[0] != supported_major:
        raise JsonRequestError(2003)


def _context(document: dict[str, Any]) -> Any:
    return document.get("context")


def _string_param(params: Any, key: str) -> str | None:
    value = params.get(key) if isinstance(params, dict) else None
    return value if isinstance(value, str) else None


# -- apidiscovery ---------------------------------------------------------------


def _discovery_reply(method: str | None, version: str | None, context: Any, **body: Any) -> web.Response:
    return json_reply(_discovery_document(method, version, context, **body), newline=True)


def _discovery_document(method: str | None, version: str | None, context: Any, **body: Any) -> dict[str, Any]:
    # real key order: method, apiVersion, data (§5.1 [REC])
    document: dict[str, Any] = {}
    if method is not None:
        document["method"] = method
    if version is not None:
        document["apiVersion"] = version
    if context is not None:
        document["context"] = context
    document.update(body)
    return document


def advertised(device: Device, modules: list[ModuleType] | None = None) -> list[Api]:
    """What this device's apidiscovery lists: the APIs of the routes it serves (a route needs its
    subsystem, an API may need a variant fact), as the handler modules declare them in `APIS`."""
    if modules is None:
        from . import HANDLER_MODULES  # the package imports this module while it collects them

        modules = HANDLER_MODULES
    facts = device.variant.facts
    found: list[Api] = []
    for module in modules:
        served = [r for r in module.ROUTES if r.served_by(device)]
        for api in getattr(module, "APIS", ()):
            if api.needs_met(facts) and any(api.implemented_by(route) for route in served):
                found.append(api)
    return found


async def apidiscovery_cgi(request: web.Request) -> web.Response:
    device = device_of(request)
    version = API_DISCOVERY.version
    document: dict[str, Any] = {}
    try:
        document = await read_json(request)
        method = method_of(document)
        if method == "getSupportedVersions":
            return _discovery_reply(method, None, _context(document), data={"apiVersions": [version]})
        if method != "getApiList":
            raise JsonRequestError(2004)
        check_version(document)
        params = document.get("params", {})
        id_glob = _string_param(params, "id") or "*"
        version_glob = _string_param(params, "version") or "*"
        advertised = _advertised_entries(device)
        context = _context(document)
        if id_glob == version_glob == "*" and context is None:  # what a VMS asks on every connection
            return bytes_reply(advertised.whole_list(version))
        entries = [
            entry
            for api, entry in advertised.entries
            if (id_glob == "*" or fnmatchcase(api.id, id_glob))
            and (version_glob == "*" or fnmatchcase(api.version, version_glob))
        ]  # "*" matches every string: the usual request skips fnmatch
        return _discovery_reply(method, version, context, data={"apiList": entries})
    except JsonRequestError as exc:
        method = document.get("method") if isinstance(document.get("method"), str) else None
        error = {"code": exc.code, "message": exc.message}
        return _discovery_reply(method, version, _context(document), error=error)


class _Advertised:
    """The apidiscovery entries of a set of APIs, and the bytes of its whole-list reply (getApiList
    without filters or context, which VMSs ask on every connection: its JSON took a third of the
    request), shared by every device that advertises the same APIs."""

    __slots__ = ("_whole", "entries")

    def __init__(self, apis: tuple[Api, ...]) -> None:
        self.entries = [(api, _api_entry(api)) for api in apis]
        self._whole: dict[str, bytes] = {}  # by apiVersion

    def whole_list(self, version: str) -> bytes:
        found = self._whole.get(version)
        if found is None:
            document = _discovery_document("getApiList", version, None, data={"apiList": [e for _, e in self.entries]})
            found = self._whole[version] = wire_bytes(json_text(document, newline=True))
        return found


def _advertised_entries(device: Device) -> _Advertised:
    """`advertised` with each API's entry, once per device: what a device serves is fixed when it
    is made (its subsystems, switched-off APIs and variant), and VMSs ask for it on every
    connection. Kept in the parameter store's memo, so it goes with the device; the list itself
    is shared by every device that advertises the same APIs (a fleet holds a handful of them).
    The entries are shared: replies only serialise them."""
    return device.params.memo(("apidiscovery", "entries"), lambda: _shared_entries(tuple(advertised(device))))


_SHARED_ENTRIES: dict[tuple[Api, ...], _Advertised] = {}


def _shared_entries(apis: tuple[Api, ...]) -> _Advertised:
    found = _SHARED_ENTRIES.get(apis)
    if found is None:
        found = _SHARED_ENTRIES[apis] = _Advertised(apis)
    return found


def _api_entry(api: Api) -> dict[str, str]:
    entry = {"id": api.id, "version": api.version, "name": api.name, "docLink": DOC_LINK}
    if api.status:
        entry["status"] = api.status
    return entry


# -- basicdeviceinfo ------------------------------------------------------------


async def basicdeviceinfo_cgi(request: web.Request) -> web.Response:
    device = device_of(request)
    version = BASIC_DEVICE_INFO.version
    document: dict[str, Any] = {}
    if request.method == "POST" and request.content_length == 0 and role_of(request) < Role.VIEWER:
        # curl --digest probes with an empty POST and sends its credentials only after a 401:
        # an empty request asks for nothing anonymous, so challenge it (README's curl example)
        raise AccessDenied(Role.VIEWER)
    try:
        document = await read_json(request)
        method = method_of(document)
        if method == "getSupportedVersions":
            return _bdi_reply(json_envelope(version, None, _context(document), data={"apiVersions": [version]}))
        if method not in ("getAllProperties", "getAllUnrestrictedProperties", "getProperties"):
            raise JsonRequestError(2004, f"JSON semantic error: Unknown method '{method}'")
        check_version(document)
        if method == "getAllUnrestrictedProperties":
            properties = unrestricted_properties(device)
        else:
            if role_of(request) < Role.VIEWER:
                raise AccessDenied(Role.VIEWER)
            if method == "getAllProperties" and _context(document) is None:  # every VMS poll: the bytes remembered
                return bytes_reply(device.params.memo(("basicdeviceinfo", "all", "reply"), lambda: _all_reply(device)))
            properties = all_properties(device)
            if method == "getProperties":
                properties = _pick(properties, document.get("params"))
        return _bdi_reply(json_envelope(version, None, _context(document), data={"propertyList": properties}))
    except JsonRequestError as exc:
        return _bdi_reply(json_envelope(version, None, _context(document), error=(exc.code, exc.message)))


def _bdi_reply(document: dict[str, Any]) -> web.Response:
    return json_reply(document, newline=True)  # every recorded reply ends with a newline (§5.2 [REC])


def _all_reply(device: Device) -> bytes:
    """getAllProperties' reply without context, as `_bdi_reply` writes it."""
    document = json_envelope(BASIC_DEVICE_INFO.version, None, None, data={"propertyList": all_properties(device)})
    return wire_bytes(json_text(document, newline=True))


def _pick(properties: dict[str, str], params: Any) -> dict[str, str]:
    wanted = params.get("propertyList") if isinstance(params, dict) else None
    if not isinstance(wanted, list) or not wanted or not all(isinstance(w, str) for w in wanted):
        raise JsonRequestError(4002)
    for name in wanted:
        if name not in properties:
            raise JsonRequestError(1000, f"Property not supported: {name}")
    return {name: properties[name] for name in wanted}


# -- systemready ----------------------------------------------------------------

MAX_READY_WAIT = 60


async def systemready_cgi(request: web.Request) -> web.Response:
    device = device_of(request)
    version = SYSTEMREADY.version
    document: dict[str, Any] = {}
    try:
        document = await read_json(request)
    except JsonRequestError:
        return json_reply({"apiVersion": version, "error": {"code": 1000, "message": "Invalid JSON input"}})
    method = document.get("method")
    context = _context(document)
    if method == "getSupportedVersions":
        return json_reply(json_envelope(version, method, context, data={"apiVersions": [version]}))
    if method != "systemready":
        return json_reply(json_envelope(version, None, context, error=(1000, "Invalid method")))
    params = document.get("params")
    timeout = params.get("timeout") if isinstance(params, dict) else None
    seconds = whole_number(timeout)  # a number or a string of digits; anything else is ignored
    if seconds is not None:
        # "wait up to that long for readiness" (§5.4); bounded so a client cannot park a request
        await device.lifecycle.wait_ready(min(seconds, MAX_READY_WAIT))
    data = {
        "systemready": "yes" if device.lifecycle.is_ready else "no",
        "needsetup": "yes" if device.needs_setup else "no",
        "uptime": str(device.uptime),
        "bootid": device.boot_id,
        "passphrasepolicy": "none",
    }
    return json_reply(json_envelope(version, method, context, data=data))


# -- applications ---------------------------------------------------------------


async def applications_list_cgi(request: web.Request) -> web.Response:
    """No ACAP applications are installed on a simulated device."""
    return web.Response(body=b'<reply result="ok">\n</reply>\n', headers={"Content-Type": "text/xml"})


ROUTES = [
    Route("/axis-cgi/apidiscovery.cgi", apidiscovery_cgi, Role.ANONYMOUS),
    Route("/axis-cgi/basicdeviceinfo.cgi", basicdeviceinfo_cgi, Role.ANONYMOUS),
    Route("/axis-cgi/systemready.cgi", systemready_cgi, Role.ANONYMOUS),
    Route("/axis-cgi/applications/list.cgi", applications_list_cgi, Role.VIEWER),
]
APIS = [API_DISCOVERY, BASIC_DEVICE_INFO, SYSTEMREADY]  # applications/list.cgi: no apidiscovery entry of its own
