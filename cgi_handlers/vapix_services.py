"""What `/vapix/call` and `/vapix/axast` share (vapix-wire.md §6.3): reading a command, shaping a reply.

Two request styles, one meaning: JSON `{"axcall:<Command>": {...}}` posted as the
body, or the simplified key-value format `?format=simple&action=axcall:<Command>&
Key_Sub=value` where underscores mark levels and numbers list indexes. Replies
mirror the request's style: the response object as JSON, or one `key=value` per
line (strings quoted and URL-encoded, `true`/`false`, `null`, empty lists left out).
A refused request is HTTP 400 with the fault (Fault, FaultCode, FaultSubCode,
FaultReason, FaultMsg), as the API's example shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from aiohttp import web

from axisim.device import Actor
from axisim.jsonread import MAX_DEPTH
from axisim.subsystems.service_faults import ServiceRefused
from param_tree import whole_number

from .apache_pages import apache_page
from .bodies import BodyTooLarge, json_object, read_body
from .forms import read_form
from .replies import WIRE_ERRORS, text_reply
from .request_context import actor_of
from .service_faults import MISSING, UNKNOWN_ACTION, ServiceFault, fault_of

_SAFE = ":/@[]"  # kept as is in simple-format strings (the API's examples show sip:6001@host)


class _Malformed(Exception):
    """A request neither style can read."""


def _leaf(text: str) -> Any:
    """A simple-format request value: quoted strings stay strings, the rest is typed."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    number = whole_number(text, signed=True)
    return text if number is None else number


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`SIPAccount_UserId=6001&SIPAccountId_0=a` -> {"SIPAccount": {"UserId": 6001}, "SIPAccountId": ["a"]}."""
    root: dict[str, Any] = {}
    for key, raw in pairs:
        parts = key.split("_")
        if not all(parts) or len(parts) > MAX_DEPTH:  # as deep as the JSON reader takes
            raise _Malformed(key)
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise _Malformed(key)
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise _Malformed(key)
        node[parts[-1]] = _leaf(raw)
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    indexes = {whole_number(key): key for key in converted}
    if converted and None not in indexes and len(indexes) == len(converted):
        return [converted[indexes[index]] for index in sorted(indexes)]  # type: ignore[type-var]
    return converted


def flatten(value: Any, prefix: str = "") -> list[str]:
    """The simple-format lines of a response object."""
    if isinstance(value, dict):
        return [line for key, item in value.items() for line in flatten(item, f"{prefix}_{key}" if prefix else key)]
    if isinstance(value, list):
        return [line for index, item in enumerate(value) for line in flatten(item, f"{prefix}_{index}")]
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, int):
        text = str(value)
    else:
        text = f'"{quote_plus(str(value), safe=_SAFE, errors=WIRE_ERRORS)}"'
    return [f"{prefix}={text}"]


async def _read(request: web.Request, namespace: str) -> tuple[str, dict[str, Any], bool]:
    """(command, request message, simple format?) of a request."""
    form = await read_form(request) if request.rel_url.query.get("format") == "simple" else None
    if form is not None:
        action = next((value for key, value in form if key == "action"), "")
        message = unflatten([(k, v) for k, v in form if k not in ("format", "action")])
        if not action.startswith(f"{namespace}:"):
            raise ServiceFault(UNKNOWN_ACTION, f"The action {action} is not supported.")
        return action[len(namespace) + 1 :], message, True
    if request.method != "POST":
        raise _Malformed("a JSON request is a POST")
    try:
        document = json_object(await read_body(request))
    except ValueError as exc:
        raise _Malformed("not JSON") from exc
    if len(document) != 1:
        raise _Malformed("not one command")
    ((command, message),) = document.items()
    if not command.startswith(f"{namespace}:"):
        raise ServiceFault(UNKNOWN_ACTION, f"The action {command} is not supported.")
    if not isinstance(message, dict):
        raise ServiceFault(MISSING, f"Missing data. The {command} request must be an object.")
    return command[len(namespace) + 1 :], message, False


def _reply(document: dict[str, Any], simple: bool, status: int = 200) -> web.Response:
    if simple:
        lines = flatten(document)
        return text_reply("".join(f"{line}\n" for line in lines), status=status)
    return text_reply(json.dumps(document), status=status, content_type="application/json")


def _fault(fault: ServiceFault, simple: bool) -> web.Response:
    document = {
        "Fault": fault.fault,
        "FaultCode": fault.code,
        "FaultSubCode": fault.subcode,
        "FaultReason": fault.reason,
        "FaultMsg": None,
    }
    return _reply(document, simple, status=400)


Runner = Callable[[web.Request, str, dict[str, Any], Actor], dict[str, Any]]


def service(namespace: str, run: Runner) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        simple = request.rel_url.query.get("format") == "simple"
        try:
            command, message, simple = await _read(request, namespace)
            return _reply(run(request, command, message, actor_of(request)), simple)
        except ServiceFault as fault:
            return _fault(fault, simple)
        except ServiceRefused as refused:
            return _fault(fault_of(refused), simple)
        except _Malformed:
            return _fault(ServiceFault(MISSING, "Missing data. The request could not be read."), simple)
        except BodyTooLarge:
            return apache_page(413)

    return handler
