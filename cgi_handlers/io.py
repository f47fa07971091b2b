"""I/O port APIs (vapix-wire.md §5.3): `io/port.cgi`, `io/portmanagement.cgi`, `supervisedio.cgi`.

port.cgi numbers ports from 1, portmanagement from "0" (strings), supervisedio from 0
(integers). port.cgi answers `portN=<value>` lines, and an empty body for `action`; its
errors are not documented anywhere, so axisim answers 400 text/plain `Error: <reason>`
and changes nothing. The JSON APIs answer HTTP 200 with their own error codes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.subsystems.io import STATE_ALIASES, SUPERVISION_STATES, IoSubsystem, PortChange, Range
from axisim.subsystems.io.ports import CLOSED, PortError, parse_action
from param_tree import Role, whole_number

from .ajr import ajr_call
from .api_errors import ApiError
from .forms import read_form
from .replies import text_reply
from .request_context import require, subsystem_of
from .routing import Api, Route

PORT_MANAGEMENT_ERRORS = {
    1100: "Internal error",
    2100: "API version not supported",
    2101: "Invalid JSON",
    2102: "Method not supported",
    2103: "Required parameter missing",
    2104: "Invalid parameter value specified",
    2200: "State sequence already ongoing",
}
# supervisedio.cgi 2.0 codes, and the 1.0 code each replaces (the doc's two tables)
SUPERVISION_ERRORS = {
    1100: "Internal error",
    2100: "Unsupported API version",
    2101: "JSON input error",
    2102: "Invalid method",
    2103: "Mandatory parameter(s) missing",
    2200: "Unknown parameter supplied",
    2203: "Faulty parameter value",
    2204: "Invalid range",
    2205: "Invalid port parameter",
    2206: "Port not supervisable",
}
LEGACY_CODES = {
    1100: 101, 2100: 100, 2101: 200, 2102: 203, 2103: 102, 2200: 103, 2203: 300, 2204: 301, 2205: 302, 2206: 303,
}  # fmt: skip
SUPERVISION_ERRORS |= {LEGACY_CODES[code]: text for code, text in SUPERVISION_ERRORS.items()}
PORT_REASONS = {"port": 2205, "supervision": 2206, "range": 2204, "value": 2203, "direction": 2206}


def io_of(request: web.Request) -> IoSubsystem:
    io = subsystem_of(request, IoSubsystem)
    return io


# -- io/port.cgi ----------------------------------------------------------------------


def _numbers(io: IoSubsystem, value: str) -> list[int]:
    numbers = []
    for part in value.split(","):
        number = whole_number(part)
        if number is None:
            raise PortError(f"invalid port {part!r}", "port")
        io.port(number)
        numbers.append(number)
    return numbers


async def port_cgi(request: web.Request) -> web.Response:
    io = io_of(request)
    lines: list[str] = []
    actions: list[str] = []
    try:
        for name, value in await read_form(request):
            if name == "check":
                lines += [f"port{n}={1 if io.check(n) == CLOSED else 0}" for n in _numbers(io, value)]
            elif name == "checkactive":
                lines += [f"port{n}={'active' if io.port(n).active else 'inactive'}" for n in _numbers(io, value)]
            elif name == "checkdirection":
                lines += [f"port{n}={io.port(n).direction}" for n in _numbers(io, value)]
            elif name == "action":
                number, _ = parse_action(value)
                if io.port(number).direction != "output":
                    raise PortError(f"port {number} is not an output", "direction")
                actions.append(value)
            else:
                raise PortError(f"unsupported argument {name!r}")
        if not lines and not actions:
            raise PortError("nothing to do: check, checkactive, checkdirection or action")
    except PortError as exc:
        return text_reply(f"Error: {exc}\n", status=400)
    for action in actions:  # all validated first: a refused request changes nothing
        io.run_action(action)
    return text_reply("".join(f"{line}\n" for line in lines))


# -- io/portmanagement.cgi ---------------------------------------------------------------


def _port_item(io: IoSubsystem, index: int) -> dict[str, Any]:
    port = io.ports[index]
    item: dict[str, Any] = {"port": str(index), "state": port.circuit, "configurable": port.configurable}
    item |= {"usage": io.device.param(f"IOPort.I{index}.Usage"), "direction": port.direction, "name": port.name}
    item["normalState"] = port.normal
    return item


def _missing(element: str) -> ApiError:
    """2103 as a real device words it (HA issue 83148, vapix-wire.md §5.3)."""
    message = f"Required parameter missing: '{element}' not found"
    return ApiError(2103, message, {"details": {"missing_element": element}})


def _index(value: Any) -> int:
    number = whole_number(value) if isinstance(value, str) else None  # ports are strings here (§5.3)
    if number is None:
        raise ApiError(2104, extra={"details": {"port": str(value)}})
    return number


def _change(item: Any) -> tuple[PortChange | None, list[dict[str, str]]]:
    """One setPorts item as a change, and the properties refused for their type."""
    if not isinstance(item, dict) or "port" not in item:
        raise _missing("port")
    port = item["port"]
    number = whole_number(port) if isinstance(port, str) else None
    if number is None:
        return None, [{"port": str(port)}]
    fields = {"usage": "usage", "direction": "direction", "name": "name", "normalState": "normal_state"}
    fields["state"] = "state"
    values: dict[str, str] = {}
    bad = []
    for prop, attr in fields.items():
        if prop in item:
            if isinstance(item[prop], str):
                values[attr] = item[prop]
            else:
                bad.append({"port": port, "propertyName": prop})
    return PortChange(number, **values), bad


def _failure(details: dict[str, str]) -> dict[str, Any]:
    return {"code": 2104, "message": PORT_MANAGEMENT_ERRORS[2104], "details": details}


def _port_management(request: web.Request, document: dict[str, Any]) -> Any:
    io = io_of(request)
    method, params = document.get("method"), document.get("params")
    if method == "getSupportedVersions":
        return {"apiVersions": [_management_version(request)]}
    version = document.get("apiVersion")
    if not isinstance(version, str):
        raise _missing("apiVersion")
    if version.split(".")[0] != "1":
        raise ApiError(2100)
    if method == "getPorts":
        io.tick()
        data: dict[str, Any] = {"numberOfPorts": len(io.ports)}
        if io.ports:
            data["items"] = [_port_item(io, port.index) for port in io.ports]
        return data
    if method == "setPorts":
        require(request, Role.OPERATOR)
        if not isinstance(params, dict) or not isinstance(params.get("ports"), list):
            raise _missing("ports")
        parsed = [_change(item) for item in params["ports"]]
        changes = [change for change, _ in parsed if change is not None]
        failed = [f for change, bad in parsed for f in bad]
        touched, refused = io.set_ports(changes)
        for index, prop in refused:
            failed.append({"port": str(index)} | ({"propertyName": prop} if prop else {}))
        if failed:
            first, *rest = failed
            extra: dict[str, Any] = {"details": first}
            if rest:
                extra["errors"] = [_failure(details) for details in rest]
            raise ApiError(2104, extra=extra)
        return {"ports": [str(index) for index in touched]}
    if method == "setStateSequence":
        if not isinstance(params, dict) or "port" not in params or "sequence" not in params:
            missing = "port" if not isinstance(params, dict) or "port" not in params else "sequence"
            raise _missing(missing)
        index, sequence = _index(params["port"]), params["sequence"]
        if not isinstance(sequence, list) or not all(
            isinstance(s, dict) and isinstance(s.get("state"), str) and type(s.get("time")) is int for s in sequence
        ):
            raise ApiError(2104, extra={"details": {"port": str(index), "propertyName": "sequence"}})
        try:
            io.set_state_sequence(index, [(s["state"], s["time"]) for s in sequence])
        except PortError as exc:
            if exc.reason == "ongoing":
                raise ApiError(2200) from exc
            raise ApiError(2104, extra={"details": {"port": str(index)}}) from exc
        return {"port": str(index)}
    raise ApiError(2102)


def _management_version(request: web.Request) -> str:
    return PORT_MANAGEMENT.version


async def portmanagement_cgi(request: web.Request) -> web.Response:
    return await ajr_call(
        request, _management_version(request), PORT_MANAGEMENT_ERRORS, 2101,
        lambda document: _port_management(request, document),
    )  # fmt: skip


# -- supervisedio.cgi --------------------------------------------------------------------


def _requested(io: IoSubsystem, params: Any, *, all_ports: bool = False) -> list[int]:
    """The ports a params list names (`[{"port": 0}, ...]`), or every supervisable one."""
    if params is None or params == []:
        return [p.index for p in io.ports if all_ports or io.supervisable(p.index)]
    if not isinstance(params, list) or not all(isinstance(item, dict) for item in params):
        raise ApiError(2203)
    indexes = []
    for item in params:
        port = item.get("port")
        if type(port) is not int:
            raise ApiError(2103 if port is None else 2203)
        if not 0 <= port < len(io.ports):
            raise ApiError(2205)
        indexes.append(port)
    return indexes


def _ranges(value: Any) -> dict[str, Range]:
    if not isinstance(value, list):
        raise PortError("ranges is a list", "value")
    ranges = {}
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("state"), str):
            raise PortError("a range needs a state", "value")
        lower, upper = item.get("lowerlimit"), item.get("upperlimit")
        if type(lower) is not int or type(upper) is not int:
            raise PortError("limits are integers", "value")
        ranges[STATE_ALIASES.get(item["state"], item["state"])] = Range(lower, upper)
    return ranges


def _set_supervised(io: IoSubsystem, params: Any) -> dict[str, Any]:
    if not isinstance(params, list) or not params or not all(isinstance(item, dict) for item in params):
        raise ApiError(2103)
    results = []
    for item in params:
        if not isinstance(item.get("supervised"), bool):
            raise ApiError(2103 if "supervised" not in item else 2203)
        port = item.get("port")
        if port is not None and type(port) is not int:
            raise ApiError(2203)
        for index in [port] if port is not None else [p.index for p in io.ports if io.supervisable(p.index)]:
            code = 1
            try:
                if not 0 <= index < len(io.ports):
                    raise PortError(f"no port {index}", "port")
                ranges = _ranges(item["ranges"]) if "ranges" in item else None
                io.set_supervised(index, item["supervised"], ranges)
            except PortError as exc:
                code = PORT_REASONS[exc.reason]
            results.append({"port": index, "code": code, "message": "" if code == 1 else SUPERVISION_ERRORS[code]})
    return {"items": results}


def _supervision(request: web.Request, document: dict[str, Any]) -> Any:
    io = io_of(request)
    method, params = document.get("method"), document.get("params")
    if method == "getSupportedVersions":
        return {"apiVersions": ["1.0", "2.0"]}
    version = document.get("apiVersion")
    if not isinstance(version, str):
        raise ApiError(2103)
    if version.split(".")[0] not in ("1", "2"):
        raise ApiError(2100)
    io.tick()
    if method == "getNumberOfPorts":
        inputs = sum(p.direction == "input" for p in io.ports)
        return {"inputs": inputs, "outputs": len(io.ports) - inputs}
    if method == "isSupervisable":
        return {"items": [{"port": i, "input": io.supervisable(i), "output": False} for i in _requested(io, params)]}
    if method == "getSupervised":
        return {"items": [
            {"port": i, "supervised": io.ports[i].supervised, "supervisable": io.supervisable(i),
             "state": io.supervision_state(i), "level": io.level(i)}
            for i in _requested(io, params)
        ]}  # fmt: skip
    if method == "setSupervised":
        return _set_supervised(io, params)
    if method == "getSupervisedRanges":
        return {"items": [
            {"port": i, "ranges": [
                {"state": state, "lowerlimit": r.lower, "upperlimit": r.upper}
                for state, r in io.ranges.get(i, {}).items()
            ] if io.supervisable(i) else []}
            for i in _requested(io, params)
        ]}  # fmt: skip
    if method == "getSupportedStates":
        return {"items": [
            {"port": i, "states": [{"name": s} for s in SUPERVISION_STATES] if io.supervisable(i) else []}
            for i in _requested(io, params)
        ]}  # fmt: skip
    raise ApiError(2102)


def _supervision_legacy_aware(request: web.Request, document: dict[str, Any]) -> Any:
    """Version 1.x requests get the 1.0 table's three-digit codes."""
    legacy = str(document.get("apiVersion", "")).startswith("1.")
    try:
        data = _supervision(request, document)
    except ApiError as exc:
        if legacy:
            raise ApiError(LEGACY_CODES[exc.code]) from exc
        raise
    if legacy and isinstance(data, dict) and "items" in data:
        for item in data["items"]:
            if item.get("code", 1) != 1:
                item["code"] = LEGACY_CODES[item["code"]]
    return data


def _supervision_version(document: dict[str, Any]) -> str:
    return "1.0" if str(document.get("apiVersion", "")).startswith("1.") else "2.0"


async def supervisedio_cgi(request: web.Request) -> web.Response:
    return await ajr_call(
        request, "2.0", SUPERVISION_ERRORS, 2101,
        lambda document: _supervision_legacy_aware(request, document), answered=_supervision_version,
    )  # fmt: skip


ROUTES = [
    Route("/axis-cgi/io/port.cgi", port_cgi, Role.VIEWER, subsystem=IoSubsystem.name),
    Route("/axis-cgi/io/portmanagement.cgi", portmanagement_cgi, Role.VIEWER, ("POST",), IoSubsystem.name),
    Route("/axis-cgi/supervisedio.cgi", supervisedio_cgi, Role.OPERATOR, ("POST",), IoSubsystem.name),
]
PORT_MANAGEMENT = Api("io-port-management", "1.1", "IO Port Management", paths=("/axis-cgi/io/portmanagement.cgi",))
APIS = [
    PORT_MANAGEMENT,
    Api("supervised-io", "2.0", "Supervised IO", paths=("/axis-cgi/supervisedio.cgi",)),
]  # io/port.cgi: legacy, not listed

__all__ = ["ROUTES"]
