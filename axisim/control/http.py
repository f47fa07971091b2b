"""The control API: JSON over HTTP on its own listener, never on a device's port.

The same operations as the Python API (SimulatedDevice, Fleet): list and read devices,
faults, offline/online, physical events, the device's events (log, live feed, emit), the
request journal and stream sessions, brute-force blocks (list, lift), the device clock (read,
advance, set), reset. Devices are named
by serial (any case) or by their index in the fleet. Errors are `{"error": "..."}` with
400 (bad request), 404 (no such device, fault or route) or 405.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from param_tree import whole_number

from ..connection import KEEPALIVE_TIMEOUT
from ..device_runner import DeviceRunner
from ..fleet import Fleet
from ..jsonread import JsonError, read_json_object
from ..simulated import SimulatedDevice
from ..subsystems.rules import ACTION_RUN
from . import feed, page
from .emit import EmitError
from .events import EventError
from .faults import FaultError
from .journal import event_json
from .listing import ListingError, Query, status_of, summary
from .origin import same_origin
from .rules import RuleError

FLEET_KEY: web.AppKey[Fleet] = web.AppKey("fleet", Fleet)
MAX_BODY = 2 * 1024 * 1024


def _reply(document: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(document, indent=1) + "\n", content_type="application/json"
    )  # fmt: skip


def _error(status: int, message: str) -> web.Response:
    return _reply({"error": message}, status)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except _Refused as exc:
        return _error(exc.status, str(exc))
    except (FaultError, EventError, EmitError) as exc:
        return _error(400, str(exc))
    except RuleError as exc:
        return _error(404 if exc.missing else 400, str(exc))
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _error(exc.status, exc.reason)
        raise


def _device(request: web.Request) -> SimulatedDevice:
    key = request.match_info["device"]
    found = request.app[FLEET_KEY].get(key)
    if found is None:
        raise _Refused(404, f"no device {key!r}; name one by serial or index (GET /devices lists them)")
    return found


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _Refused(413, f"the body is larger than {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise _Refused(413, f"the body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        return read_json_object(raw, max_bytes=MAX_BODY)
    except JsonError as exc:
        raise _Refused(400, f"the body is not a JSON object ({exc})") from None


def _limit(request: web.Request) -> int | None:
    text = request.query.get("limit")
    if text is None:
        return None
    limit = whole_number(text)
    if limit is None:
        raise _Refused(400, "limit is a whole number")
    return limit


# -- the fleet ------------------------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    fleet = request.app[FLEET_KEY]
    return _reply({"devices": len(fleet), "api": sorted({r.resource.canonical for r in request.app.router.routes()})})


def _row(device: SimulatedDevice, status: str, faults: int) -> dict[str, Any]:
    return {
        **device.inventory(), "state": device.device.lifecycle.state.value, "reachable": device.reachable,
        "status": status, "faults": faults, "requests": device.journal.total,
    }  # fmt: skip


def _searched(device: SimulatedDevice, status: str, faults: int) -> dict[str, Any]:
    """What a search looks at (listing.py), without building the whole row."""
    core = device.device
    return {
        "index": device.spec.index, "model": core.model.id, "variant": core.variant.name, "serial": device.serial,
        "mac": device.identity.mac, "hostname": core.hostname, "address": device.spec.ip,
        "http_port": device.running.port if device.running else device.spec.port, "status": status, "faults": faults,
    }  # fmt: skip


async def list_devices(request: web.Request) -> web.Response:
    """Every device, or one page of those a filter keeps (`?q=&status=&faulted=&offset=&limit=`,
    axisim/control/listing.py), with `total` (how many match) and the fleet's counts by status."""
    try:
        query = Query.parse(request.query)
    except ListingError as exc:
        raise _Refused(400, str(exc)) from None
    statuses: list[str] = []
    faulted = 0
    kept: list[tuple[SimulatedDevice, str, int]] = []
    for device in request.app[FLEET_KEY]:
        status = status_of(device.device.lifecycle.state.value, device.reachable)
        faults = len(device.faults.all())
        statuses.append(status)
        faulted += faults > 0
        if not query.filters or query.matches(_searched(device, status, faults) if query.terms else
                                              {"status": status, "faults": faults}):  # fmt: skip
            kept.append((device, status, faults))
    window = query.window(len(kept))
    rows = [_row(*kept[position]) for position in window]
    return _reply({"devices": rows, "total": len(kept), "offset": window.start, **summary(statuses, faulted)})


async def inventory_json(request: web.Request) -> web.Response:
    return web.Response(text=request.app[FLEET_KEY].inventory_json(), content_type="application/json")


async def inventory_csv(request: web.Request) -> web.Response:
    return web.Response(text=request.app[FLEET_KEY].inventory_csv(), content_type="text/csv")


async def reset_fleet(request: web.Request) -> web.Response:
    fleet = request.app[FLEET_KEY]
    await fleet.reset()
    return _reply({"reset": len(fleet)})


# -- one device -----------------------------------------------------------------------------------


async def device_state(request: web.Request) -> web.Response:
    return _reply(_device(request).state())


async def reset_device(request: web.Request) -> web.Response:
    device = _device(request)
    await device.reset()
    return _reply(device.state())


async def go_offline(request: web.Request) -> web.Response:
    device = _device(request)
    await device.go_offline()
    return _reply({"serial": device.serial, "reachable": device.reachable})


async def go_online(request: web.Request) -> web.Response:
    device = _device(request)
    await device.go_online()
    return _reply({"serial": device.serial, "reachable": device.reachable})


async def list_faults(request: web.Request) -> web.Response:
    return _reply({"faults": [f.to_json() for f in _device(request).faults.all()]})


async def add_fault(request: web.Request) -> web.Response:
    device = _device(request)
    fault = device.add_fault(**await _body(request))
    return _reply(fault.to_json(), 201)


async def remove_fault(request: web.Request) -> web.Response:
    device = _device(request)
    text = request.match_info["fault"]
    number = whole_number(text)
    if number is None or not device.remove_fault(number):
        raise _Refused(404, f"device {device.serial} has no fault {text}")
    return _reply({"removed": number})


async def clear_faults(request: web.Request) -> web.Response:
    device = _device(request)
    count = len(device.faults.all())
    device.clear_faults()
    return _reply({"removed": count})


async def list_events(request: web.Request) -> web.Response:
    return _reply({"events": _device(request).events()})


async def run_event(request: web.Request) -> web.Response:
    device = _device(request)
    arguments = await _body(request)
    result = device.event(request.match_info["subsystem"], request.match_info["event"], **arguments)
    return _reply({"serial": device.serial, "result": result})


async def journal(request: web.Request) -> web.Response:
    """The requests (the newest `?limit=`; `?since=<total>`: only those after a reply's `total`,
    what a page polling the journal has not seen), the unsupported paths and the stream sessions."""
    device = _device(request)
    limit = _limit(request)
    text = request.query.get("since")
    if text is None:
        entries = device.journal.entries(limit)
    else:
        seen = whole_number(text)
        if seen is None:
            raise _Refused(400, "since is a whole number (the total of an earlier reply)")
        entries = device.journal.entries_after(seen, limit)
    return _reply({
        "serial": device.serial,
        "total": device.journal.total,
        "entries": [e.to_json() for e in entries],
        "unsupported": [u.to_json() for u in device.journal.unsupported()],
        "streams": [s.to_json() for s in device.journal.streams(limit)],
    })  # fmt: skip


def _topics(request: web.Request) -> tuple[str, ...]:
    """`?topic=` filters (repeatable): exact topics, `a/b//.` subtrees or globs."""
    return tuple(t for t in request.query.getall("topic", []) if t)


async def event_log(request: web.Request) -> web.Response:
    """The device's events, newest last (what its event streams, rules and MQTT would see);
    `?topic=` keeps those of a filter, `?rule=` the actions one rule ran (axisim:Rules/ActionRun of
    that rule), `?limit=` the newest. Also at .../journal/events."""
    device = _device(request)
    limit = _limit(request)
    topics = _topics(request)
    text = request.query.get("rule")
    if text is None:
        events = device.journal.events(limit, topics)
    else:
        rule = whole_number(text)
        if rule is None:
            raise _Refused(400, "rule is a rule id (a whole number)")
        kept = [e for e in device.journal.events(None, topics or (ACTION_RUN.topic,))
                if e.topic == ACTION_RUN.topic and e.source.get("rule") == str(rule)]  # fmt: skip
        events = kept[-limit:] if limit else ([] if limit == 0 else kept)
    return _reply({
        "serial": device.serial,
        "total": device.journal.events_total,
        "events": [event_json(e) for e in events],
    })  # fmt: skip


async def event_feed(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `data: <event json>` per event from now on (axisim/control/feed.py)."""
    device = _device(request)
    text = request.query.get("heartbeat")
    heartbeat = feed.HEARTBEAT
    if text is not None:
        low, high = feed.HEARTBEAT_RANGE
        try:
            heartbeat = float(text)
        except ValueError:
            heartbeat = -1.0
        if not low <= heartbeat <= high:
            raise _Refused(400, f"heartbeat is a number of seconds from {low:g} to {high:g}")
    return await feed.serve(request, device, list(_topics(request)), heartbeat)


async def emit_event(request: web.Request) -> web.Response:
    """Publish a declared event: {"topic", "source": {...}, "data": {...}} (axisim/control/emit.py)."""
    device = _device(request)
    body = await _body(request)
    unknown = sorted(set(body) - {"topic", "source", "data"})
    if unknown:
        raise _Refused(400, f"an event is topic, source and data, not {', '.join(unknown)}")
    event = device.emit(body.get("topic"), body.get("source"), body.get("data"))
    return _reply({"serial": device.serial, "event": event_json(event)})


def _rule_number(request: web.Request) -> int:
    text = request.match_info["rule"]
    number = whole_number(text)
    if number is None:
        raise _Refused(404, f"no rule {text!r}; rules have whole-number ids (GET .../rules lists them)")
    return number


async def list_rules(request: web.Request) -> web.Response:
    """The device's action rules with their action configurations and whether each is active."""
    device = _device(request)
    return _reply({"serial": device.serial, "rules": device.rules()})


async def one_rule(request: web.Request) -> web.Response:
    device = _device(request)
    number = _rule_number(request)
    found = next((r for r in device.rules() if r["id"] == number), None)
    if found is None:
        raise _Refused(404, f"device {device.serial} has no rule {number}")
    return _reply({**found, "runs": device.rule_runs(number)})


async def fire_rule(request: web.Request) -> web.Response:
    """Publish the rule's start event: {"source": {...}, "data": {...}} optional (axisim/control/rules.py)."""
    device = _device(request)
    number = _rule_number(request)
    body = await _body(request)
    unknown = sorted(set(body) - {"source", "data"})
    if unknown:
        raise _Refused(400, f"a fire takes source and data, not {', '.join(unknown)}")
    fired = device.fire_rule(number, body.get("source"), body.get("data"))
    rule = next(r for r in device.rules() if r["id"] == number)
    return _reply({"serial": device.serial, "events": [event_json(e) for e in fired], "rule": rule})


async def rule_runs(request: web.Request) -> web.Response:
    device = _device(request)
    number = _rule_number(request)
    return _reply({"serial": device.serial, "rule": number, "runs": device.rule_runs(number)})


async def journal_streams(request: web.Request) -> web.Response:
    """The device's event stream sessions (WebSocket, RTSP), oldest first."""
    device = _device(request)
    limit = _limit(request)
    return _reply({
        "serial": device.serial,
        "total": device.journal.streams_total,
        "streams": [s.to_json() for s in device.journal.streams(limit)],
    })  # fmt: skip


async def unsupported(request: web.Request) -> web.Response:
    device = _device(request)
    return _reply({"serial": device.serial, "unsupported": [u.to_json() for u in device.journal.unsupported()]})


async def clear_journal(request: web.Request) -> web.Response:
    device = _device(request)
    device.journal.clear()
    return _reply({"serial": device.serial, "total": 0})


async def list_blocks(request: web.Request) -> web.Response:
    """The client addresses the device blocks for brute force (System.PreventDoSAttack)."""
    device = _device(request)
    return _reply({"serial": device.serial, "blocks": device.blocks()})


async def clear_blocks(request: web.Request) -> web.Response:
    """Lift every block, or the one of `/blocks/<address>` (404 when that address is not blocked)."""
    device = _device(request)
    address = request.match_info.get("address")
    lifted = device.clear_blocks(address)
    if address is not None and not lifted:
        raise _Refused(404, f"device {device.serial} does not block {address}")
    return _reply({"serial": device.serial, "lifted": lifted})


async def parameters(request: web.Request) -> web.Response:
    """The device's parameters as an administrator lists them (read-only; `?group=` one group)."""
    device = _device(request)
    group = request.query.get("group", "")
    if len(group) > 200:
        raise _Refused(400, "group is at most 200 characters")
    return _reply({"serial": device.serial, "params": device.parameters(group)})


async def get_clock(request: web.Request) -> web.Response:
    """The device's wall time, time zone and uptime."""
    return _reply(_device(request).clock())


async def shift_clock(request: web.Request) -> web.Response:
    """`{"advance": seconds}` (time passes: timers move too) or `{"set": "2030-01-01T00:00:00Z"}`
    (the date jumps, backwards too; uptime and timers stay)."""
    device = _device(request)
    body = await _body(request)
    if set(body) not in ({"advance"}, {"set"}):
        raise _Refused(400, 'give {"advance": seconds} or {"set": "<ISO 8601 time with zone>"}')
    try:
        if "advance" in body:
            return _reply(device.advance_clock(body["advance"]))
        if not isinstance(body["set"], str):
            raise ValueError("set takes an ISO 8601 string")
        return _reply(device.set_clock(body["set"]))
    except (ValueError, OverflowError, OSError) as exc:
        raise _Refused(400, f"clock: {exc}") from exc


async def healthz(request: web.Request) -> web.Response:
    """Readiness for an orchestrator (Kubernetes, `--workers`): the control API answers only once
    every device of the process listens; the states say how many are ready, booting or offline."""
    fleet = request.app[FLEET_KEY]
    states: dict[str, int] = {}
    for device in fleet:
        state = device.device.lifecycle.state.name.lower()
        states[state] = states.get(state, 0) + 1
    plan = fleet.plan
    shard = str(plan.shard) if plan is not None else "0/1"
    site = plan.size if plan is not None else len(fleet)
    return _reply({"ready": True, "devices": len(fleet), "site": site, "shard": shard, "states": states})


def build_control_app(fleet: Fleet) -> web.Application:
    app = web.Application(middlewares=[same_origin, json_errors], client_max_size=MAX_BODY)
    app[FLEET_KEY] = fleet
    feed.install(app)
    one = "/devices/{device}"
    app.add_routes([
        *page.routes(index),  # the site page for a browser, this index for other clients
        web.get("/healthz", healthz),
        web.get("/devices", list_devices),
        web.get("/inventory.json", inventory_json),
        web.get("/inventory.csv", inventory_csv),
        web.post("/reset", reset_fleet),
        web.get(one, device_state),
        web.post(f"{one}/reset", reset_device),
        web.post(f"{one}/offline", go_offline),
        web.post(f"{one}/online", go_online),
        web.get(f"{one}/faults", list_faults),
        web.post(f"{one}/faults", add_fault),
        web.delete(f"{one}/faults", clear_faults),
        web.delete(f"{one}/faults/{{fault}}", remove_fault),
        web.get(f"{one}/events", list_events),
        web.post(f"{one}/events", emit_event),
        web.get(f"{one}/events/log", event_log),
        web.get(f"{one}/events/feed", event_feed),
        web.post(f"{one}/events/{{subsystem}}/{{event}}", run_event),
        web.get(f"{one}/rules", list_rules),
        web.get(f"{one}/rules/{{rule}}", one_rule),
        web.post(f"{one}/rules/{{rule}}/fire", fire_rule),
        web.get(f"{one}/rules/{{rule}}/runs", rule_runs),
        web.get(f"{one}/journal", journal),
        web.get(f"{one}/journal/unsupported", unsupported),
        web.get(f"{one}/journal/events", event_log),
        web.get(f"{one}/journal/streams", journal_streams),
        web.delete(f"{one}/journal", clear_journal),
        web.get(f"{one}/params", parameters),
        web.get(f"{one}/clock", get_clock),
        web.post(f"{one}/clock", shift_clock),
        web.get(f"{one}/blocks", list_blocks),
        web.delete(f"{one}/blocks", clear_blocks),
        web.delete(f"{one}/blocks/{{address}}", clear_blocks),
    ])  # fmt: skip
    return app


async def start_control(fleet: Fleet, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
    """Start the control API; returns its runner (cleanup() stops it) and its port."""
    runner = DeviceRunner(
        build_control_app(fleet), access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT, server_header="axisim"
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    return runner, site.port
