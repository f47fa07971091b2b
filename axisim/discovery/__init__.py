"""How simulated devices announce themselves on a LAN (events.md §6 Discovery): mDNS/Bonjour
(`mdns.py`, python-zeroconf) and SSDP/UPnP (`ssdp.py`, asyncio UDP). Top layer: the core knows
nothing of the network. A device started with discovery on joins both responders of its process.

`mdns` (and python-zeroconf with it, 3.6 MB of a process) is imported when a device first joins:
most fleets announce nothing, yet every device leaves as it stops."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import ssdp
from .ssdp import SsdpResponder

if TYPE_CHECKING:
    from .mdns import MdnsResponder, Source, announced_services


def _mdns(load: bool = True) -> Any:
    """The mdns module; None when it is not loaded and `load` is false (then no device joined it)."""
    global _MDNS
    if _MDNS is None and load:
        _MDNS = importlib.import_module(".mdns", __name__)
    return _MDNS


_MDNS: Any = None


async def join(key: object, source: Source) -> None:
    """Announce the device `source()` runs (keyed by `key`) on every protocol its settings allow."""
    await _mdns().join(key, source)
    await ssdp.join(key, source)


async def leave(key: object) -> None:
    """Goodbye on every protocol; the last device to leave closes the responders."""
    await ssdp.leave(key)
    mdns = _mdns(load=False)
    if mdns is not None:
        await mdns.leave(key)


def __getattr__(name: str) -> Any:
    if name in ("MdnsResponder", "Source", "announced_services", "mdns"):
        module = _mdns()
        return module if name == "mdns" else getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MdnsResponder", "SsdpResponder", "announced_services", "join", "leave"]
