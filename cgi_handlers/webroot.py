"""The web root: `/` redirects to the device's web interface, `/index.html` answers a small page
naming the device.

A real device (AXIS OS 9.80+) reports `Properties.API.HTTP.AdminPath=/index.html`
(vapix-wire.md §"Properties" table) and sends a browser at `/` there; the page itself is
reachable without credentials (the web application then logs in through VAPIX), so both
are anonymous here. The simulator has no web application: its page says what the device is
and where its APIs are.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from param_tree import Role

from .request_context import device_of
from .routing import Api, Route

ADMIN_PATH = "Properties.API.HTTP.AdminPath"
INDEX = "/index.html"


def _moved(location: str) -> web.Response:
    """Apache's 302 page (a `Redirect` of the web root)."""
    target = escape(location, quote=True)
    page = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>302 Found</title>\n'
        f'</head><body>\n<h1>Found</h1>\n<p>The document has moved <a href="{target}">here</a>.</p>\n</body></html>\n'
    )
    response = web.Response(status=302, body=page.encode("iso-8859-1", "xmlcharrefreplace"))
    response.headers["Location"] = location
    response.headers["Content-Type"] = "text/html; charset=iso-8859-1"
    return response


async def root(request: web.Request) -> web.StreamResponse:
    admin = device_of(request).param(ADMIN_PATH, INDEX)
    if admin.startswith("/") and not admin.startswith("//") and admin != "/":
        return _moved(admin)
    return await index(request)


async def index(request: web.Request) -> web.StreamResponse:
    device = device_of(request)
    name = escape(device.param("Brand.ProdFullName", device.model.id))
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{name}</title>\n</head><body>\n<h1>{name}</h1>\n"
        f"<p>Serial number: {escape(device.serial)}<br>\nAXIS OS {escape(device.firmware.active)}</p>\n"
        "<p>A device simulated by axisim: its web interface is not simulated, its VAPIX APIs are, e.g.\n"
        '<a href="/axis-cgi/basicdeviceinfo.cgi">/axis-cgi/basicdeviceinfo.cgi</a> (POST, JSON) and\n'
        '<a href="/axis-cgi/param.cgi?action=list">/axis-cgi/param.cgi</a>.</p>\n</body></html>\n'
    )
    return web.Response(body=page.encode(), content_type="text/html", charset="utf-8")


ROUTES = [
    Route("/", root, Role.ANONYMOUS, methods=("GET", "HEAD")),
    Route(INDEX, index, Role.ANONYMOUS, methods=("GET", "HEAD")),
]
APIS: list[Api] = []  # the web interface has no apidiscovery entry
