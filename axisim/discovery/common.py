"""What both responders (mdns.py, ssdp.py) name: how a responder reaches a served device, and the
wildcard hosts a device may listen on (then it announces the host's own addresses)."""

from __future__ import annotations

from collections.abc import Callable

from ..server import RunningDevice

WILDCARDS = ("0.0.0.0", "::", "")

Source = Callable[[], RunningDevice | None]  # the device's listeners now (None: not served)
