"""How simulated devices announce themselves on a LAN (events.md §6 Discovery): mDNS/Bonjour
(`mdns.py`, python-zeroconf) and SSDP/UPnP (`ssdp.py`, asyncio UDP). Top layer: the core knows
nothing of the network. A device started with discovery on joins both responders of its process."""

from . import mdns, ssdp
from .mdns import MdnsResponder, Source, announced_services
from .ssdp import SsdpResponder


async def join(key: object, source: Source) -> None:
    """Announce the device `source()` runs (keyed by `key`) on every protocol its settings allow."""
    await mdns.join(key, source)
    await ssdp.join(key, source)


async def leave(key: object) -> None:
    """Goodbye on every protocol; the last device to leave closes the responders."""
    await ssdp.leave(key)
    await mdns.leave(key)


__all__ = ["MdnsResponder", "SsdpResponder", "announced_services", "join", "leave"]
