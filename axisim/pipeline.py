"""The request pipeline of one device's aiohttp application, and the application itself.

Request path: journal and faults -> error pages -> lifecycle gate -> firewall -> brute-force block
-> authentication -> connection policy (HTTP/HTTPS per role) -> handler (DESIGN.md "Data flow").
A recorded model's unrouted requests go to its recording (`cgi_handlers/replay.py`) before the 404.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import warnings
from dataclasses import dataclass

from aiohttp import web

from cgi_handlers import ON_SHUTDOWN, ROUTES
from cgi_handlers.apache_pages import APACHE_PAGES, apache_page, unauthorized
from cgi_handlers.bodies import BodyTooLarge, UnreadableBody
from cgi_handlers.forms import query_text
from cgi_handlers.replay import (
    REPLAY_FIRST,
    REPLAY_KEY,
    answer,
    live_then_replay,
    lookup,
    note_missed,
    replay_first,
)
from cgi_handlers.request_context import DEVICE_KEY, ROLE_KEY, USER_KEY, AccessDenied
from cgi_handlers.routing import Handler
from param_tree import Role

from .access_policy import denied
from .auth import NO_CREDENTIALS, Outcome, authenticate
from .connection import CLIENT_BODY_FAULTS, admitted, one_line
from .control.faults import Faults
from .control.journal import DROPPED, Entry, Journal
from .control.stream_hooks import STREAM_HOOKS_KEY, ControlStreamHooks
from .device import Device
from .lifecycle import State

# a body that cannot be read: read_body's refusal (it stops reading) or aiohttp's own error
UNREADABLE_BODY = (UnreadableBody, *CLIENT_BODY_FAULTS)
LOG = logging.getLogger("axisim")
BOOT_PATHS = frozenset({"/axis-cgi/systemready.cgi"})  # what answers while the device boots


@dataclass(slots=True)
class Wiring:
    """What the request pipeline needs of one device's application, found with one lookup."""

    device: Device
    journal: Journal
    faults: Faults
    methods: dict[str, frozenset[str]]  # route path -> the methods it answers (for 405s)


WIRING_KEY: web.AppKey[Wiring] = web.AppKey("wiring", Wiring)


@functools.cache
def piped(handler: Handler, role: Role) -> Handler:
    """A route's handler behind the device's request pipeline.

    journal -> faults -> error pages -> lifecycle gate -> firewall -> brute-force block -> authentication
    -> handler (DESIGN.md "Data flow"), as plain calls around each route rather than aiohttp
    middlewares: aiohttp pays for its middleware chain on every request, and `param.cgi`
    is asked thousands of times a second. Unrouted paths go through it too (a catch-all
    route), so 404s and 405s are journaled and faulted like the rest. One wrapper per route
    and role, shared by every device of a fleet (the device comes from the application)."""

    async def pipeline(request: web.Request) -> web.StreamResponse:
        wiring = request.app[WIRING_KEY]
        arrived = time.time()
        started = time.perf_counter()
        status = DROPPED
        try:
            if wiring.faults:
                response = await _faulted(request, handler, wiring, role)
            else:
                response = await _answer(request, handler, wiring, role)
            transport = request.transport
            if transport is not None and not transport.is_closing():
                status = response.status
            return response
        finally:
            replay = request.get(REPLAY_KEY)  # a recorded model's replay: answered from it, or matched nothing
            supported = handler is not _unrouted if replay is None else replay.entry is not None
            wiring.journal.record(
                Entry(
                    arrived, request.remote or "-", request.method, request.raw_path, request.get(USER_KEY, ""),
                    status, (time.perf_counter() - started) * 1000.0, supported, replay is not None and supported,
                ),
                None if replay is None or supported else {"nearest": replay.nearest},
            )  # fmt: skip

    return pipeline


async def _unrouted(request: web.Request) -> web.StreamResponse:
    """No route for this method and path: 405 when the path exists, 404 otherwise."""
    allowed = request.app[WIRING_KEY].methods.get(request.path)
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, sorted(allowed))
    raise web.HTTPNotFound()


async def _recorded(request: web.Request) -> web.StreamResponse:
    """The catch-all route of a recorded model (`_answer` sends it to `_replayed`)."""
    return await _unrouted(request)


async def _replayed(request: web.Request, device: Device) -> web.StreamResponse:
    """A recorded model's request that no live route serves: the recorded reply, behind the role the
    recording gives it; else the 404 (or 405), and the journal lists it with the nearest recorded one.
    On a path the recording knows, authentication comes first, as Apache's does before the CGI runs
    (curl --digest probes a POST with an empty body and sends its credentials after the 401)."""
    entry = await lookup(request, note_miss=False)
    if entry is not None:
        return await _authenticated(request, functools.partial(answer, entry=entry), device, entry.role)
    recording = device.model.recording
    least = recording.replies.least_role(request.path) if recording is not None else None
    if least is None or least is Role.ANONYMOUS:
        await note_missed(request)
        return await _unrouted(request)
    return await _authenticated(request, _missed, device, least)


async def _missed(request: web.Request) -> web.StreamResponse:
    """An authenticated request the recording has nothing for: the journal's nearest, then the 404."""
    await note_missed(request)
    return await _unrouted(request)


async def _faulted(request: web.Request, handler: Handler, wiring: Wiring, role: Role) -> web.StreamResponse:
    """The injected faults: latency, then a fixed reply, a dropped connection or a hang."""
    plan = wiring.faults.plan(request.path, query_text(request))
    if plan is None:
        return await _answer(request, handler, wiring, role)
    if plan.delay:
        await asyncio.sleep(plan.delay)
    fault = plan.final
    if fault is None:
        return await _answer(request, handler, wiring, role)
    if fault.hang:  # until the fault is removed, then as usual
        if fault.released is None:
            fault.released = asyncio.Event()
        await fault.released.wait()
        return await _answer(request, handler, wiring, role)
    if fault.drop:
        if request.transport is not None:
            request.transport.abort()
        return apache_page(503)  # never sent
    status = fault.status or 200
    if fault.body is None:
        return apache_page(status) if status in APACHE_PAGES else web.Response(status=status, text="")
    return web.Response(status=status, body=fault.body.encode(), headers={"Content-Type": fault.content_type})


async def _answer(request: web.Request, handler: Handler, wiring: Wiring, role: Role) -> web.StreamResponse:
    """Error pages around the gate, the brute-force block and authentication: every failure becomes
    the page Apache on a real device would send; never a traceback."""
    try:
        device = wiring.device
        state = device.lifecycle.state
        if state is not State.READY or not device.link_up:
            refused = _gate(request, device, state)
            if refused is not None:
                return refused
        if device.packet_filter is not None and _dropped(request, device):
            return apache_page(403)  # never sent: the firewall dropped the connection
        if device.brute_force.holding and _blocked(request, device):
            return apache_page(403)
        if handler is _unrouted:
            return await _unrouted(request)
        if handler is _recorded:
            return await _replayed(request, device)
        return await _authenticated(request, handler, wiring.device, role)
    except UNREADABLE_BODY as exc:  # a malformed body (bad chunks): the client's fault
        LOG.info("%s %s %s: bad request body (%s)", request.remote or "-", request.method, request.path, one_line(exc))
        refused = apache_page(400)
        refused.force_close()  # what is left of the body cannot be told from a next request
        return refused
    except web.HTTPException as exc:
        if exc.status not in APACHE_PAGES:
            raise
        allow = exc.headers.get("Allow")
        return apache_page(exc.status, [("Allow", allow)] if allow is not None else None)
    except BodyTooLarge:
        return apache_page(413)
    except ConnectionError as exc:  # the client went away mid-request (a cancellation passes through as is)
        LOG.info("%s %s %s: client disconnected (%s)", request.remote or "-", request.method, request.path, exc)
        return apache_page(400)  # never sent
    except Exception:  # a simulator bug must not look like a device crash to the client
        LOG.exception("unhandled error on %s %s", request.method, request.path_qs)
        return web.Response(status=500, text="500 Internal Server Error\n")


def _gate(request: web.Request, device: Device, state: State) -> web.StreamResponse | None:
    """Offline, off or without a network link: the connection drops, as a rebooting box's would.
    Booting: only systemready answers."""
    if state in (State.OFFLINE, State.OFF) or not device.link_up:
        if request.transport is not None:
            request.transport.abort()
        return apache_page(503)
    if state is State.BOOTING and request.path not in BOOT_PATHS:
        return apache_page(503)
    return None


def _dropped(request: web.Request, device: Device) -> bool:
    """The firewall (axisim/subsystems/firewall): a request on a connection its active rules now
    drop (they changed since the connection was accepted) gets no answer; the connection goes, as
    a real firewall's DROP leaves the client waiting. Asked only while the firewall is activated."""
    transport = request.transport
    if transport is None or admitted(device, transport):
        return False
    transport.abort()
    return True


def _blocked(request: web.Request, device: Device) -> bool:
    """Brute-force blocking (`System.PreventDoSAttack`, axisim/dos_guard.py): a blocked client address
    gets Apache's 403 before authentication, whatever it asks (unrouted paths too) and with whatever
    credentials, and each such request restarts its block, as mod_evasive does. Asked only while
    some address is blocked; `_authenticated` tells the guard of each failure that counts."""
    return device.brute_force.refuses(request.remote or "-", request.path)


async def _authenticated(request: web.Request, handler: Handler, device: Device, required: Role) -> web.StreamResponse:
    """Digest/Basic per the device's policy; the route's least role; the role's connection policy
    (HTTP/HTTPS, 403); handler-raised AccessDenied.

    Failed authentications go to the access log with the client, the user name and why."""
    header = request.headers.get("Authorization")
    if header is None:  # the common anonymous case, without the parser
        result = NO_CREDENTIALS
    else:
        result = authenticate(
            header,
            method=request.method,
            target=request.raw_path,
            schemes=device.schemes(request.secure),
            digest=device.digest,
            accounts=device.accounts,
        )
    if result.outcome in (Outcome.INVALID, Outcome.BAD_REQUEST):
        device.logs.failed_login(result.username, request.remote or "-", result.reason, request.path)
        device.brute_force.failed(request.remote or "-", request.path)
    if result.outcome is Outcome.BAD_REQUEST:
        return apache_page(400)
    if result.account is not None:
        granted = request[ROLE_KEY] = result.account.role
        request[USER_KEY] = result.account.name
        device.logs.successful_login(result.account.name, request.remote or "-")
    else:
        granted = request[ROLE_KEY] = device.anonymous_role
    try:
        if granted < required:
            raise AccessDenied(required)
        if required > Role.ANONYMOUS and not device.allows(granted, request.secure):
            # System.BoaGroupPolicy: this role may not use this scheme (axisim/access_policy.py)
            denied(device.logs, result.username, request.remote or "-", request.path, request.secure)
            return apache_page(403)
        return await handler(request)
    except AccessDenied:
        if result.account is not None:  # an account without the role: an authorization failure
            device.logs.failed_login(result.username, request.remote or "-", "authorization failure", request.path)
        return unauthorized(request, result.outcome)


# one router per set of served routes, shared by every device that serves that set: a router of
# ~65 routes cost ~55 KB, half a device's memory in a fleet (routes and their handlers hold no device)
_ROUTERS: dict[tuple[int | bool, ...], tuple[web.UrlDispatcher, dict[str, frozenset[str]]]] = {}
# which routes a device serves follows from its subsystems and switched-off APIs (Route.served_by):
# worked out once per combination, not per device of a fleet
_SERVED: dict[tuple[tuple[str, ...], frozenset[str]], tuple[int, ...]] = {}
# (a recorded model's router also answers from its recording: keyed apart)


def _router_for(device: Device) -> tuple[web.UrlDispatcher, dict[str, frozenset[str]]]:
    key = (tuple(device.subsystems), device.switched_off)
    served = _SERVED.get(key)
    if served is None:
        served = _SERVED[key] = tuple(number for number, route in enumerate(ROUTES) if route.served_by(device))
    recorded = device.model.recorded
    found = _ROUTERS.get((*served, recorded))
    if found is None:
        router = web.UrlDispatcher()
        methods: dict[str, set[str]] = {}
        for number in served:  # e.g. nvr/poe is left out on a recorder without a PoE switch, an API switched off
            route = ROUTES[number]
            handler = route.handler
            if recorded:
                handler = _replay_first(handler) if route.path in REPLAY_FIRST else _live_then_replay(handler)
            for method in route.methods:
                router.add_route(method, route.path, piped(handler, route.role))
                methods.setdefault(route.path, set()).add(method)
        router.add_route("*", "/{unrouted:.*}", piped(_recorded if recorded else _unrouted, Role.ADMIN))
        found = _ROUTERS[(*served, recorded)] = (router, {path: frozenset(names) for path, names in methods.items()})
    return found


@functools.cache
def _replay_first(handler: Handler) -> Handler:
    """One wrapper per handler (so `piped`'s cache keeps one pipeline per route and role)."""
    return replay_first(handler)


@functools.cache
def _live_then_replay(handler: Handler) -> Handler:
    return live_then_replay(handler)


def build_app(device: Device, journal: Journal | None = None, faults: Faults | None = None) -> web.Application:
    """One application per device; its HTTP and HTTPS listeners share it, and so its state.
    The journal and faults belong to the simulator, so they outlive a reset's new device.
    The router is shared with the devices that serve the same routes (`_router_for`)."""
    router, methods = _router_for(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp deprecates passing a router, not sharing one
        app = web.Application(client_max_size=64 * 1024 * 1024, router=router)
    app[DEVICE_KEY] = device
    app[WIRING_KEY] = Wiring(
        device, journal if journal is not None else Journal(), faults if faults is not None else Faults(), methods
    )
    app[STREAM_HOOKS_KEY] = ControlStreamHooks(app[WIRING_KEY].journal, app[WIRING_KEY].faults)
    app.on_shutdown.extend(ON_SHUTDOWN)  # open streams close before the connections are shut
    return app
