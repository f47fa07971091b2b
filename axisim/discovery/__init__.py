"""How simulated devices announce themselves on a LAN (events.md §6 Discovery): mDNS/Bonjour
(`mdns.py`, python-zeroconf). Top layer: the core knows nothing of the network."""

from .mdns import MdnsResponder, announced_services, join, leave

__all__ = ["MdnsResponder", "announced_services", "join", "leave"]
