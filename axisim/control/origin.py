"""Cross-site requests to the control API are refused.

The control API has no credentials (it is a test tool on loopback), so any web page open in the
user's browser could otherwise reset the site, fault its devices or take them offline: a browser
sends a form POST or a `fetch` to another origin without asking first, only hiding the reply. It
marks such requests, though: `Origin` names the page's origin and `Sec-Fetch-Site` says
`cross-site` (Fetch Metadata). A request that changes something is refused (403) when either
says it comes from another origin; curl, scripts and the site page itself (same origin) send
neither mark, or a matching one. Reading stays open: the browser hides cross-origin replies.
One middleware for the fleet's control API and the site's (axisim/site/aggregate.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def cross_site(request: web.Request) -> str | None:
    """Why the request comes from a page of another origin, or None."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    if fetch_site == "cross-site":
        return "Sec-Fetch-Site: cross-site"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if origin == "null":  # a sandboxed frame, a file:// page, a redirect across origins
        return "Origin: null"
    return None if _same_host(origin, request.host) else f"Origin: {origin}"


def _same_host(origin: str, host: str) -> bool:
    """`origin` (scheme://host[:port]) names the host and port the request was sent to."""
    try:
        parts = urlsplit(origin)
        wanted = urlsplit(f"//{host}")
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        host_port = wanted.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range, a malformed address
        return False
    return bool(parts.hostname) and parts.hostname == wanted.hostname and origin_port == host_port


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in SAFE_METHODS:
        why = cross_site(request)
        if why is not None:
            message = f"refused: a request from another site's page ({why}); use curl, a script or the site page"
            body = json.dumps({"error": message}, indent=1) + "\n"  # as the control API's other errors
            return web.Response(status=403, text=body, content_type="application/json")
    return await handler(request)
