"""HTTP adapters: parse the request, call the device, format the exact VAPIX reply.

No business logic here; each module is one endpoint family.
"""

from . import (
    discovery,
    disks,
    io,
    lifecycle,
    mediaclip,
    networkshare,
    param,
    poe,
    power,
    raid,
    reports,
    users,
    vapix_services,
    webroot,
)
from .common import Route

ROUTES: list[Route] = [
    *param.ROUTES, *users.ROUTES, *discovery.ROUTES, *lifecycle.ROUTES, *reports.ROUTES, *poe.ROUTES,
    *disks.ROUTES, *raid.ROUTES, *networkshare.ROUTES, *vapix_services.ROUTES, *mediaclip.ROUTES,
    *io.ROUTES, *power.ROUTES, *webroot.ROUTES,
]  # fmt: skip

__all__ = ["ROUTES", "Route"]
