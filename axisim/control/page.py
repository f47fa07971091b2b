"""The site page: a browser's view of the control API, served by the control listener itself.

`GET /` answers a browser (an `Accept` naming text/html, not JSON) with `page_assets/index.html`,
and every other client with the control API's JSON index as before; `GET /page/page.js` and
`/page/page.css` are the script and the style sheet. Three files shipped in the package (package
data), no build step, nothing fetched from elsewhere: the page works offline. Everything it shows
and does goes through the control API's own routes (relative URLs, so it works behind a proxy's
path prefix too), which is why the same three routes serve it on a fleet's control API and on a
site's (`fleet --workers`, `axisim site`: axisim/site/aggregate.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources

from aiohttp import web

ASSETS = {"page.js": "text/javascript", "page.css": "text/css"}
INDEX = "index.html"
HEADERS = {
    # the page runs its own script and style sheet and talks to this listener only; data from the
    # devices is only ever text (page.js puts it in with textContent)
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@cache
def asset(name: str) -> bytes:
    """One file of the page, read once (from a source tree, an install or a zipped wheel)."""
    return (resources.files(__package__) / "page_assets" / name).read_bytes()


def wants_page(request: web.Request) -> bool:
    """A browser navigating asks for HTML; curl (`*/*`), client libraries and the page's own
    requests (`application/json`) get JSON."""
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept


def front(json_index: Handler) -> Handler:
    """`GET /`: the page for a browser, `json_index` for everyone else."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if wants_page(request):
            return web.Response(body=asset(INDEX), content_type="text/html", charset="utf-8", headers=HEADERS)
        return await json_index(request)

    return handler


async def serve_asset(request: web.Request) -> web.Response:
    """`GET /page/<name>`: the page's script or style sheet (404 for any other name)."""
    name = request.match_info["name"]
    kind = ASSETS.get(name)
    if kind is None:
        raise web.HTTPNotFound(reason=f"the page has no file {name!r}")
    return web.Response(body=asset(name), content_type=kind, charset="utf-8", headers=HEADERS)


def routes(json_index: Handler) -> list[web.RouteDef]:
    """The page's routes, `json_index` answering `GET /` for clients that are not browsers."""
    return [web.get("/", front(json_index)), web.get("/page/{name}", serve_asset)]
