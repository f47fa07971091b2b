"""What a handler module declares: its `ROUTES` (path, handler, least role, methods, subsystem)
and its `APIS` (the apidiscovery entries those routes implement)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from param_tree import Role

if TYPE_CHECKING:
    from axisim.device import Device

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    handler: Handler
    role: Role  # the least role the path requires before the handler runs
    methods: tuple[str, ...] = ("GET", "POST")
    subsystem: str | None = None  # served only by devices that have this subsystem (else Apache's 404)
    switch: str | None = None  # an API a device can be started without (Device.switched_off): then Apache's 404

    def served_by(self, device: Device) -> bool:
        """The device serves this route: it has the subsystem and was not started without the API."""
        return (self.subsystem is None or self.subsystem in device.subsystems) and (
            self.switch is None or self.switch not in device.switched_off
        )


@dataclass(frozen=True, slots=True)
class Api:
    """An apidiscovery entry (vapix-wire.md §5.1) that a handler module's routes implement, declared
    next to its ROUTES as `APIS = [...]`: a device advertises exactly the APIs it serves. Served means
    the device serves one of the module's routes under `paths` (all of them when empty: a route needs
    its subsystem) and, where `needs` names a variant fact of model.toml (`("raid", True)`), has it."""

    id: str
    version: str
    name: str
    status: str | None = "official"  # some real entries have no status key
    paths: tuple[str, ...] = ()  # path prefixes of the module's routes that implement it; () = every route
    needs: tuple[str, object] | None = None  # (variant fact, value) the device must have

    def implemented_by(self, route: Route) -> bool:
        return not self.paths or route.path.startswith(self.paths)

    def needs_met(self, facts: dict[str, Any]) -> bool:
        return self.needs is None or facts.get(self.needs[0]) == self.needs[1]
