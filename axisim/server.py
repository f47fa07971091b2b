"""Builds the aiohttp application of one device and binds its listener.

Request path: journal and faults -> error pages -> lifecycle gate -> authentication
-> handler (DESIGN.md "Data flow").
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import ssl
import time
from dataclasses import dataclass, field

from aiohttp import web

from cgi_handlers import ROUTES
from cgi_handlers.common import (
    APACHE_PAGES,
    DEVICE_KEY,
    ROLE_KEY,
    USER_KEY,
    AccessDenied,
    BodyTooLarge,
    Handler,
    UnreadableBody,
    apache_page,
    query_text,
    unauthorized,
)
from param_tree import Role

from .auth import NO_CREDENTIALS, Outcome, authenticate
from .connection import (
    CLIENT_BODY_FAULTS,
    HEADER_TIMEOUT,
    KEEPALIVE_TIMEOUT,
    DeviceRunner,
    one_line,
    quiet_accept_errors,
)
from .control.faults import Faults
from .control.journal import DROPPED, Entry, Journal
from .control.stream_hooks import STREAM_HOOKS_KEY, ControlStreamHooks
from .device import Device
from .lifecycle import State
from .mqtt_link import MqttLink
from .persistence import StateDir
from .tls import Certificate, CertificateError, self_signed, server_context

# a body that cannot be read: read_body's refusal (it stops reading) or aiohttp's own error
UNREADABLE_BODY = (UnreadableBody, *CLIENT_BODY_FAULTS)
LOG = logging.getLogger("axisim")
BOOT_PATHS = frozenset({"/axis-cgi/systemready.cgi"})  # what answers while the device boots
HTTPS_OFFSET = 363  # a device's default HTTPS port follows its HTTP port (8080 -> 8443), so neighbours never collide


@dataclass(slots=True)
class Wiring:
    """What the request pipeline needs of one device's application, found with one lookup."""

    device: Device
    journal: Journal
    faults: Faults
    methods: dict[str, set[str]]  # route path -> the methods it answers (for 405s)


WIRING_KEY: web.AppKey[Wiring] = web.AppKey("wiring", Wiring)


@functools.cache
def piped(handler: Handler, role: Role) -> Handler:
    """A route's handler behind the device's request pipeline.

    journal -> faults -> error pages -> lifecycle gate -> authentication -> handler
    (DESIGN.md "Data flow"), as plain calls around each route rather than aiohttp
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
            wiring.journal.record(
                Entry(
                    arrived, request.remote or "-", request.method, request.raw_path, request.get(USER_KEY, ""),
                    status, (time.perf_counter() - started) * 1000.0, handler is not _unrouted,
                )
            )  # fmt: skip

    return pipeline


async def _unrouted(request: web.Request) -> web.StreamResponse:
    """No route for this method and path: 405 when the path exists, 404 otherwise."""
    allowed = request.app[WIRING_KEY].methods.get(request.path)
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, sorted(allowed))
    raise web.HTTPNotFound()


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
    """Error pages around the gate and authentication: every failure becomes the page Apache
    on a real device would send; never a traceback."""
    try:
        device = wiring.device
        state = device.lifecycle.state
        if state is not State.READY or not device.link_up:
            refused = _gate(request, device, state)
            if refused is not None:
                return refused
        if handler is _unrouted:
            return await _unrouted(request)
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


async def _authenticated(request: web.Request, handler: Handler, device: Device, required: Role) -> web.StreamResponse:
    """Digest/Basic per the device's policy; the route's least role; handler-raised AccessDenied.

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
        return await handler(request)
    except AccessDenied:
        if result.account is not None:  # an account without the role: an authorization failure
            device.logs.failed_login(result.username, request.remote or "-", "authorization failure", request.path)
        return unauthorized(request, result.outcome)


def build_app(device: Device, journal: Journal | None = None, faults: Faults | None = None) -> web.Application:
    """One application per device; its HTTP and HTTPS listeners share it, and so its state.
    The journal and faults belong to the simulator, so they outlive a reset's new device."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[DEVICE_KEY] = device
    wiring = Wiring(
        device, journal if journal is not None else Journal(), faults if faults is not None else Faults(), {}
    )
    for route in ROUTES:
        if route.subsystem is not None and route.subsystem not in device.subsystems:
            continue  # e.g. nvr/poe on a recorder without a PoE switch
        for method in route.methods:
            app.router.add_route(method, route.path, piped(route.handler, route.role))
            wiring.methods.setdefault(route.path, set()).add(method)
    app.router.add_route("*", "/{unrouted:.*}", piped(_unrouted, Role.ADMIN))
    app[WIRING_KEY] = wiring
    app[STREAM_HOOKS_KEY] = ControlStreamHooks(wiring.journal, wiring.faults)
    return app


class ListenError(OSError):
    """A listener that could not bind: which one (HTTP or HTTPS), where, and why."""

    def __init__(self, cause: OSError, host: str, port: int, https: bool) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.host, self.port, self.https = host, port, https

    @property
    def in_use(self) -> bool:
        return self.errno == errno.EADDRINUSE

    def describe(self) -> str:
        """`port 8443 is in use` or `cannot listen on 10.0.0.9:80: Permission denied`."""
        if self.in_use:
            return f"port {self.port} is in use" if self.port else "no free port"
        where = f"[{self.host}]" if ":" in self.host else self.host
        return f"cannot listen on {where}:{self.port}: {self.strerror}"


class Certificates:
    """The HTTPS certificate: supplied (kept as is) or self-signed, renewed by a factory
    default (manuals: "all certificates are deleted") and kept in the state directory."""

    def __init__(self, device: Device, supplied: Certificate | None, state: StateDir | None) -> None:
        self.device = device
        self.supplied = supplied
        self.state = state
        self._current = supplied or (state.certificate() if state else None)
        self._context: ssl.SSLContext | None = None  # built once per certificate, reused by every reboot
        if self._current is None:
            self.renew()

    @property
    def current(self) -> Certificate:
        assert self._current is not None
        return self._current

    @property
    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = server_context(self.current)
        return self._context

    def renew(self) -> None:
        if self.supplied is not None:
            return
        self._current = self_signed(self.device.hostname, self.device.identity.ip)
        self._context = None
        if self.state is not None:
            self.state.save_certificate(self._current)


@dataclass
class RunningDevice:
    """A device with its HTTP and (unless turned off) HTTPS listeners, which its reboots close and reopen."""

    device: Device
    runner: web.AppRunner
    host: str
    port: int
    https_port: int | None = None
    certificates: Certificates | None = None
    reachable: bool = True  # False: the control API took it off the network (listeners closed)
    mqtt: MqttLink | None = None  # the device's MQTT connection (axisim/mqtt_link.py), if it has a client
    _sites: list[web.TCPSite] = field(default_factory=list)
    _cycle_task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host_text}:{self.port}"

    @property
    def https_url(self) -> str | None:
        return None if self.https_port is None else f"https://{self._host_text}:{self.https_port}"

    @property
    def _host_text(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    async def _bind(self) -> None:
        """Both listeners or neither; ListenError names the one that failed."""
        http = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        try:
            await http.start()
        except OSError as exc:
            raise ListenError(exc, self.host, self.port, https=False) from exc
        self.port = http.port
        self._sites = [http]
        if self.https_port is not None and self.certificates is not None:
            https = web.TCPSite(
                self.runner, self.host, self.https_port, ssl_context=self.certificates.context, reuse_address=True
            )
            try:
                await https.start()
            except OSError as exc:
                await http.stop()
                self._sites = []
                raise ListenError(exc, self.host, self.https_port, https=True) from exc
            self.https_port = https.port
            self._sites.append(https)
        ports = {"System.BoaPort": str(self.port)}
        if self.https_port is not None:
            ports["HTTPS.Port"] = str(self.https_port)  # the parameters report the real ports
        self.device.params.set_base({k: v for k, v in ports.items() if k in self.device.params})

    async def _unbind(self) -> None:
        for site in self._sites:
            await site.stop()
        self._sites = []
        if self.runner.server is not None:
            await self.runner.server.shutdown(timeout=2)  # keep-alive connections close too

    def _schedule_cycle(self) -> None:
        self._cycle_task = asyncio.get_running_loop().create_task(self._cycle())

    def _schedule_power(self, on: bool) -> None:
        """Power lost: a running boot stops and the listeners go down; power back: the device
        boots once the listeners are down (a brief glitch is a full power cycle)."""
        previous = self._cycle_task

        async def run() -> None:
            if previous is not None and not previous.done():
                if not on:
                    previous.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await previous
            await (self._come_back() if on else self._unbind())

        self._cycle_task = asyncio.get_running_loop().create_task(run())

    async def _cycle(self) -> None:
        """Offline for the boot time, back with a new boot id, ready after the booting time."""
        await self._unbind()
        await self._come_back()

    async def _come_back(self) -> None:
        times = self.device.lifecycle.times
        await asyncio.sleep(times.offline_seconds)
        self.device.boot()
        while self.reachable:
            try:
                await self._bind()
                break
            except OSError:  # the port is briefly taken by someone else: keep trying, as a device would
                LOG.warning("%s: port busy while coming back, retrying", self.device.serial)
                await asyncio.sleep(0.5)
        await asyncio.sleep(times.booting_seconds)
        self.device.ready()

    async def set_reachable(self, reachable: bool) -> None:
        """Off the network (connections refused, the device runs on) or back on it."""
        if reachable == self.reachable:
            return
        self.reachable = reachable
        if not reachable:
            await self._unbind()
        elif not self._sites and self.device.lifecycle.state in (State.READY, State.BOOTING):
            await self._bind()  # otherwise the running restart or the next power-on binds

    async def wait_ready(self, timeout: float = 30.0) -> bool:
        """Wait until a running restart cycle has finished."""
        task = self._cycle_task
        if task is None or task.done():
            return self.device.lifecycle.is_ready
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout)
        return self.device.lifecycle.is_ready

    async def stop(self) -> None:
        if self._cycle_task is not None:
            self._cycle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cycle_task
        self.device.lifecycle.cycle = None
        self.device.lifecycle.power = None
        if self.mqtt is not None:
            await self.mqtt.close()
        await self.runner.cleanup()


async def start_device(
    device: Device,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    https_port: int | None = 0,
    certificate: Certificate | None = None,
    state: StateDir | None = None,
    access_log: bool = False,
    journal: Journal | None = None,
    faults: Faults | None = None,
    keepalive_timeout: float = KEEPALIVE_TIMEOUT,
    header_timeout: float = HEADER_TIMEOUT,
) -> RunningDevice:
    """Bind the device on host:port and host:https_port (0 = a free port, None = no HTTPS)
    inside the running event loop. Idle connections close after `keepalive_timeout` seconds;
    request headers are due within `header_timeout` seconds (Apache's defaults).
    ListenError when a port cannot be had."""
    quiet_accept_errors()
    app = build_app(device, journal, faults)
    runner = DeviceRunner(
        app, access_log=LOG if access_log else None, shutdown_timeout=2, keepalive_timeout=keepalive_timeout,
        header_timeout=header_timeout,
    )  # fmt: skip
    await runner.setup()
    certificates = Certificates(device, certificate, state) if https_port is not None else None
    running = RunningDevice(device, runner, host, port, https_port, certificates)
    try:
        await running._bind()
    except (OSError, CertificateError):
        await runner.cleanup()
        raise
    if certificates is not None:
        device.on_factory_default.append(lambda _kind: certificates.renew())
    device.lifecycle.cycle = running._schedule_cycle
    device.lifecycle.power = running._schedule_power
    running.mqtt = MqttLink.attach(device, faults)
    return running
