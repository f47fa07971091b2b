"""The Device Configuration APIs (DCA) framework: `/config/rest/<api>/v<major>[beta|alpha]/...`
(developer.axis.com, VAPIX "Device Configuration APIs": REST API); `config_discover` lists them.

An API module describes its tree once and registers it; the framework does the REST mapping, the
envelope, the errors, the body, the roles and discovery. The whole interface:

    from .config_rest import Action, Call, ConfigApi, Collection, DcaError, Entity, Property, register

    register(ConfigApi("firewall", 1, "1.0.0", subsystem="firewall", root=Entity({
        "activated": Property(get=lambda call: ..., set=lambda call, value: ...),
        "conf": Entity({"setRules": Action(lambda call, data: ...)}),
    })))

- `Entity(children, set=None)`: GET answers the object of its gettable children (properties and
  entities, recursively; actions are left out); PATCH `{"data": {...}}` -> `set(call, data)`. The
  root entity is mapped to the API's root URL; a collection's `item` gives one per key.
- `Property(get, set)`: GET -> `get(call)`; PATCH `{"data": value}` -> `set(call, value)`.
- `Action(trigger)`: POST `{"data": ...}` -> `trigger(call, data)`; a result other than None is the
  reply's `data` (None: `{"status": "success"}` alone, as the firewall API's actions answer).
- `Collection(items, item, add, remove)`: GET -> `items(call)` (a list); `<key>` -> `item(call, key)`
  (a node, None: 404); POST `{"data": ...}` -> `add(call, data)` (201); DELETE `<key>` ->
  `remove(call, key)`.
- Every node has `role` (the least role to read it, walk through it or trigger it; Role.ADMIN unless
  said) and properties, entities and collections a `set_role` for PATCH, add and remove (None: the
  same): a caller below it gets the pipeline's 401 challenge, as every route does.
- A callback refuses with `DcaError(code, message, status=400)`; `DcaError.validation(text)` is
  the framework's own "wrong type / out of range" refusal; `want_bool`, `want_int`, `want_str`,
  `want_object`, `want_list` check a request value and raise it. `Call` carries the device, the
  actor (for the logs) and the role. Callbacks must leave the state untouched when they refuse.
- `ConfigApi(name, major, version, state="released", subsystem=None)`: the URL is
  `/config/rest/<name>/v<major>` (+ "beta"/"alpha" for those states); a device without the
  subsystem answers 404 for it and leaves it out of `/config/discover`.

Replies (documented): success `{"status": "success"}` (+ `"data"` for reads and actions with a
result), HTTP 200 (201 for an add); errors `{"status": "error", "error": {"code": n, "message": s}}`
with an HTTP error status. Codes: 1 "Resource not found" 404 [REC: a device's answer for an API it
lacks, `{"code":1,"message":"Resource not found: ..."}`]; the rest are GUESSes (README, "Choices
where the reference is silent"): 2 method not allowed 405 (incl. PUT, which AXIS OS 11.10 and
earlier used for sets), 3 invalid request 400 (not JSON, no `"data"`), 4 request too large 413,
5 "Validation error: ..." 400 (a value of the wrong type or out of range; code 5 with that text
prefix is what a device answered for a refused value, per a recorded cert-API session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from axisim.device import Actor, Device
from axisim.jsonread import JsonError
from param_tree import Role

from .bodies import BodyTooLarge, json_object, read_body
from .replay import replayed
from .replies import json_text, text_reply
from .request_context import AccessDenied, actor_of, device_of, role_of
from .routing import Route

MAX_BODY = 256 * 1024  # GUESS: the most a DCA request body may be (a firewall rule list is a few KB)
REST = "/config/rest/"


class DcaError(Exception):
    """A refusal in the framework's error envelope: code, message, HTTP status."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    @classmethod
    def validation(cls, detail: str) -> DcaError:
        return cls(5, f"Validation error: {detail}", 400)


def not_found(path: str) -> DcaError:
    return DcaError(1, f"Resource not found: {path}", 404)


@dataclass(frozen=True, slots=True)
class Call:
    """What a callback knows of its request."""

    device: Device
    actor: Actor
    role: Role


@dataclass(frozen=True, slots=True)
class Property:
    get: Callable[[Call], Any] | None = None
    set: Callable[[Call, Any], None] | None = None
    role: Role = Role.ADMIN
    set_role: Role | None = None  # the least role of a change; None: `role`


@dataclass(frozen=True, slots=True)
class Action:
    trigger: Callable[[Call, Any], Any]
    role: Role = Role.ADMIN


@dataclass(frozen=True, slots=True)
class Entity:
    children: dict[str, Node] = field(default_factory=dict)
    role: Role = Role.ADMIN
    set: Callable[[Call, Any], None] | None = None  # PATCH on the entity ("Set an entity")
    set_role: Role | None = None


@dataclass(frozen=True, slots=True)
class Collection:
    items: Callable[[Call], list[Any]]
    item: Callable[[Call, str], Node | None]
    add: Callable[[Call, Any], Any] | None = None
    remove: Callable[[Call, str], None] | None = None
    role: Role = Role.ADMIN
    set_role: Role | None = None  # the least role of an add or a remove; None: `role`


Node = Property | Action | Entity | Collection


@dataclass(frozen=True, slots=True)
class ConfigApi:
    name: str
    major: int
    version: str  # the full semantic version /config/discover shows
    root: Entity
    state: str = "released"  # released | beta | alpha
    subsystem: str | None = None  # served only by devices with this subsystem

    @property
    def segment(self) -> str:
        """The version segment of the URL: v1, v1beta, v2alpha."""
        return f"v{self.major}" + ("" if self.state == "released" else self.state)

    @property
    def rest_api(self) -> str:
        return f"{REST}{self.name}/{self.segment}"

    def served_by(self, device: Device) -> bool:
        return self.subsystem is None or self.subsystem in device.subsystems


_REGISTRY: dict[tuple[str, str], ConfigApi] = {}  # (name, URL version segment) -> API


def register(api: ConfigApi) -> ConfigApi:
    """Add an API (at import of its module; cgi_handlers imports every module)."""
    key = (api.name, api.segment)
    if key in _REGISTRY and _REGISTRY[key] is not api:
        raise ValueError(f"{api.name}/{api.segment} is registered twice")
    _REGISTRY[key] = api
    return api


def unregister(api: ConfigApi) -> None:
    """Take an API out again (tests that register their own)."""
    _REGISTRY.pop((api.name, api.segment), None)


def registered() -> list[ConfigApi]:
    return sorted(_REGISTRY.values(), key=lambda api: (api.name, api.major))


def paths(device: Device) -> list[str]:
    """Every URL of the APIs the device serves (entities, properties, actions; a collection's own
    URL, not its items'): what the fuzz test sends requests to."""
    found: list[str] = []
    pending: list[tuple[str, Node]] = [(api.rest_api, api.root) for api in registered() if api.served_by(device)]
    while pending:
        url, node = pending.pop()
        found.append(url)
        if isinstance(node, Entity):
            pending.extend((f"{url}/{name}", child) for name, child in node.children.items())
    return sorted(found)


# -- request values -------------------------------------------------------------------------------


def want_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise DcaError.validation(f"{name} must be a boolean")
    return value


def want_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a boolean, not 1.0) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DcaError.validation(f"{name} must be an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise DcaError.validation(f"{name} is out of range")
    return value


def want_str(value: Any, name: str, choices: tuple[str, ...] | None = None, max_length: int = 1024) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise DcaError.validation(f"{name} must be a string")
    if choices is not None and value not in choices:
        raise DcaError.validation(f"{name} must be one of {', '.join(choices)}")
    return value


def want_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DcaError.validation(f"{name} must be an object")
    return value


def want_list(value: Any, name: str, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise DcaError.validation(f"{name} must be an array")
    if len(value) > max_items:
        raise DcaError.validation(f"{name} has more than {max_items} items")
    return value


# -- replies ----------------------------------------------------------------------------------------

_NO_DATA = object()


def success(data: Any = _NO_DATA, status: int = 200) -> web.Response:
    document: dict[str, Any] = {"status": "success"}
    if data is not _NO_DATA:
        document["data"] = data
    return text_reply(json_text(document), status=status, content_type="application/json")


def failure(error: DcaError) -> web.Response:
    document = {"status": "error", "error": {"code": error.code, "message": error.message}}
    return text_reply(json_text(document), status=error.status, content_type="application/json")


# -- the REST mapping -------------------------------------------------------------------------------


def _allowed(call: Call, node: Node) -> None:
    if call.role < node.role:
        raise AccessDenied(node.role)


def _may_change(call: Call, node: Property | Entity | Collection) -> None:
    needed = node.role if node.set_role is None else node.set_role
    if call.role < needed:
        raise AccessDenied(needed)


def _value_of(call: Call, node: Node) -> Any:
    """GET of a node; _NO_DATA for what cannot be read (actions, write-only properties, what the
    caller's role may not read)."""
    if call.role < node.role:
        return _NO_DATA
    if isinstance(node, Property):
        return node.get(call) if node.get is not None else _NO_DATA
    if isinstance(node, Entity):
        values = {name: _value_of(call, child) for name, child in node.children.items()}
        return {name: value for name, value in values.items() if value is not _NO_DATA}
    if isinstance(node, Collection):
        return node.items(call)
    return _NO_DATA


def _walk(call: Call, api: ConfigApi, segments: list[str], path: str) -> Node:
    node: Node = api.root
    for segment in segments:
        _allowed(call, node)
        if isinstance(node, Entity) and segment in node.children:
            node = node.children[segment]
        elif isinstance(node, Collection) and segment:
            found = node.item(call, segment)
            if found is None:
                raise not_found(path)
            node = found
        else:
            raise not_found(path)
    _allowed(call, node)
    return node


async def _data(request: web.Request) -> Any:
    """The request's `{"data": ...}` value through the bounded JSON reader."""
    try:
        raw = await read_body(request, MAX_BODY)
    except BodyTooLarge:
        raise DcaError(4, "Request too large", 413) from None
    try:
        document = json_object(raw)
    except JsonError:
        raise DcaError(3, "Invalid request: the body is not a JSON object") from None
    if "data" not in document:
        raise DcaError(3, "Invalid request: no data")
    return document["data"]


def _method_not_allowed(method: str) -> DcaError:
    return DcaError(2, f"Method not allowed: {method}", 405)


async def _operate(
    request: web.Request, call: Call, node: Node, in_collection: Collection | None, key: str
) -> web.Response:
    method = request.method
    if method == "GET":
        value = _value_of(call, node)
        if value is _NO_DATA:
            raise _method_not_allowed(method)
        return success(value)
    if method == "PATCH" and isinstance(node, Property | Entity) and node.set is not None:
        _may_change(call, node)
        node.set(call, await _data(request))
        return success()
    if method == "POST" and isinstance(node, Action):
        result = node.trigger(call, await _data(request))
        return success() if result is None else success(result)
    if method == "POST" and isinstance(node, Collection) and node.add is not None:
        _may_change(call, node)
        result = node.add(call, await _data(request))
        return success(status=201) if result is None else success(result, status=201)
    if method == "DELETE" and in_collection is not None and in_collection.remove is not None:
        _may_change(call, in_collection)
        in_collection.remove(call, key)
        return success()
    raise _method_not_allowed(method)


def _segments(request: web.Request) -> list[str]:
    """The URL's segments after /config/rest/, each percent-decoded on its own, so that a collection
    key may hold any character ("a%2Fb" is one key)."""
    raw = request.raw_path.partition("?")[0]
    text = raw if raw.startswith(REST) else request.path  # a client that encoded the prefix too
    return [unquote(part) for part in text.removeprefix(REST).split("/")]


async def rest(request: web.Request) -> web.Response:
    """Every `/config/rest/...` request."""
    device = device_of(request)
    path = request.path
    call = Call(device, actor_of(request), role_of(request))
    try:
        name, segment, *segments = [*_segments(request), ""]
        api = _REGISTRY.get((name, segment))
        if api is None or not api.served_by(device):
            # a recorded model answers the APIs axisim does not serve there from its recording
            return await replayed(request) or failure(not_found(path))
        if segments and segments[-1] == "":  # the root's URL with a trailing slash (or none)
            segments.pop()
        parent = _walk(call, api, segments[:-1], path) if segments else None
        node = _walk(call, api, segments, path)
        in_collection = parent if isinstance(parent, Collection) else None
        return await _operate(request, call, node, in_collection, segments[-1] if segments else "")
    except DcaError as error:
        return failure(error)


ROUTES = [
    Route(REST + "{tail:.*}", rest, Role.VIEWER, ("GET", "PATCH", "POST", "PUT", "DELETE")),
]
