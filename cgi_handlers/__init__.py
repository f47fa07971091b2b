"""HTTP adapters: parse the request, call the device, format the exact VAPIX reply.

No business logic here; each module is one endpoint family and declares its `ROUTES`
(a route names the subsystem a device must have to serve it). Nothing lists the modules:
every module of this package with `ROUTES` is served, so a new API is a new module.
"""

import importlib
import pkgutil
from types import ModuleType

from .routing import Route


def _handler_modules() -> list[ModuleType]:
    found = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return [module for module in found if isinstance(getattr(module, "ROUTES", None), list)]


HANDLER_MODULES = _handler_modules()
ROUTES: list[Route] = [route for module in HANDLER_MODULES for route in module.ROUTES]
# what a module must do when its device's application shuts down (e.g. close its open streams)
ON_SHUTDOWN = [hook for module in HANDLER_MODULES for hook in getattr(module, "ON_SHUTDOWN", ())]

__all__ = ["HANDLER_MODULES", "ON_SHUTDOWN", "ROUTES", "Route"]
