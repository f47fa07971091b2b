"""What a handler knows of its request beyond the request: the device it is for, and who asked
(the role and user the authentication step stored on it)."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web

from axisim.device import Actor, Device
from axisim.subsystems.base import Subsystem
from param_tree import Role

DEVICE_KEY: web.AppKey[Device] = web.AppKey("device", Device)


def request_key(name: str, kind: type) -> Any:
    """A typed request-storage key where aiohttp has them (3.14+), a string before."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, kind) if factory else f"axisim.{name}"


ROLE_KEY = request_key("role", Role)
USER_KEY = request_key("user", str)


class AccessDenied(Exception):
    """Raised by a handler whose action needs a higher role than the caller has."""

    def __init__(self, required: Role) -> None:
        super().__init__(required.name)
        self.required = required


def device_of(request: web.Request) -> Device:
    return request.app[DEVICE_KEY]


S = TypeVar("S", bound=Subsystem)


def subsystem_of(request: web.Request, kind: type[S]) -> S:
    """The device's subsystem of that class: its routes are served only where the device has it."""
    subsystem = device_of(request).subsystems[kind.name]
    assert isinstance(subsystem, kind)
    return subsystem


def role_of(request: web.Request) -> Role:
    return request.get(ROLE_KEY, Role.ANONYMOUS)


def user_of(request: web.Request) -> str:
    return request.get(USER_KEY, "")


def actor_of(request: web.Request) -> Actor:
    """Who made the request, as the device's logs name them."""
    return Actor(user_of(request), request.remote or "-")


def require(request: web.Request, role: Role) -> None:
    if role_of(request) < role:
        raise AccessDenied(role)
