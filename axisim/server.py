"""Builds the aiohttp application of one device and binds its listener.

Request path: error pages -> authentication -> handler (DESIGN.md "Data flow").
Later middlewares (journal, faults, lifecycle gate) slot in before authentication.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from cgi_handlers import ROUTES
from cgi_handlers.common import (
    DEVICE_KEY,
    HTTPS_KEY,
    ROLE_KEY,
    USER_KEY,
    AccessDenied,
    BodyTooLarge,
    Handler,
    apache_page,
    unauthorized,
)
from param_tree import Role

from .auth import Outcome, authenticate
from .device import Device

LOG = logging.getLogger("axisim")
ROLES_KEY: web.AppKey[dict[str, Role]] = web.AppKey("roles", dict)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes the page Apache on a real device would send; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        status = exc.status if exc.status in (400, 401, 404, 405, 413) else None
        if status is None:
            raise
        return apache_page(status)
    except BodyTooLarge:
        return apache_page(413)
    except Exception:  # a simulator bug must not look like a device crash to the client
        LOG.exception("unhandled error on %s %s", request.method, request.path_qs)
        return web.Response(status=500, text="500 Internal Server Error\n")


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Digest/Basic per the device's policy; the route's least role; handler-raised AccessDenied."""
    match = request.match_info
    if match.http_exception is not None:
        raise match.http_exception
    device = request.app[DEVICE_KEY]
    required = request.app[ROLES_KEY].get(match.route.resource.canonical, Role.ADMIN)
    result = authenticate(
        request.headers.get("Authorization"),
        method=request.method,
        target=request.raw_path,
        schemes=device.schemes(request.app[HTTPS_KEY]),
        digest=device.digest,
        accounts=device.accounts,
    )
    if result.outcome is Outcome.BAD_REQUEST:
        return apache_page(400)
    if result.account is not None:
        request[ROLE_KEY] = result.account.role
        request[USER_KEY] = result.account.name
    else:
        request[ROLE_KEY] = device.anonymous_role
    if request[ROLE_KEY] < required:
        return unauthorized(request, result.outcome)
    try:
        return await handler(request)
    except AccessDenied:
        return unauthorized(request, result.outcome)


def build_app(device: Device, *, https: bool = False) -> web.Application:
    app = web.Application(middlewares=[error_pages, authentication], client_max_size=64 * 1024 * 1024)
    app[DEVICE_KEY] = device
    app[HTTPS_KEY] = https
    roles: dict[str, Role] = {}
    for route in ROUTES:
        for method in route.methods:
            app.router.add_route(method, route.path, route.handler)
        roles[route.path] = route.role
    app[ROLES_KEY] = roles
    return app


@dataclass
class RunningDevice:
    """A device with its bound listener."""

    device: Device
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_device(
    device: Device, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
) -> RunningDevice:
    """Bind the device on host:port (0 = a free port) inside the running event loop."""
    runner = web.AppRunner(build_app(device), access_log=LOG if access_log else None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    sockets = site._server.sockets if site._server else []
    bound = sockets[0].getsockname()[1] if sockets else port
    return RunningDevice(device, runner, host, bound)
