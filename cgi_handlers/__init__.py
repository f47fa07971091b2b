"""HTTP adapters: parse the request, call the device, format the exact VAPIX reply.

No business logic here; each module is one endpoint family.
"""

from . import discovery, lifecycle, param, poe, reports, users
from .common import Route

ROUTES: list[Route] = [*param.ROUTES, *users.ROUTES, *discovery.ROUTES, *lifecycle.ROUTES, *reports.ROUTES, *poe.ROUTES]

__all__ = ["ROUTES", "Route"]
