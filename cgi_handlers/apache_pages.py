"""Apache's stock error pages, as the web server of a real device sends them before (or instead
of) any CGI: 400, 401 with its challenges, 403 (a client blocked for brute force), 404, 405, 413, 503."""

from __future__ import annotations

from aiohttp import web

from axisim.auth import Outcome
from axisim.device import Device

from .request_context import device_of

APACHE_PAGES = {
    400: ("Bad Request", "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"),
    401: (
        "Unauthorized",
        "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you "
        "supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\n"
        "the credentials required.</p>\n",
    ),
    403: ("Forbidden", "<p>You don't have permission to access this resource.</p>\n"),  # Apache 2.4 (mod_evasive)
    404: ("Not Found", "<p>The requested URL was not found on this server.</p>\n"),
    405: ("Method Not Allowed", "<p>The requested method is not allowed for this URL.</p>\n"),
    503: (
        "Service Unavailable",
        "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\n"
        "problems. Please try again later.</p>\n",
    ),
    413: (
        "Request Entity Too Large",
        "The requested resource does not allow request data with the requested method or the amount of data provided"
        " in\nthe request exceeds the capacity limit.\n",
    ),
}
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    503: "Service Unavailable",
}


def apache_page(status: int, headers: list[tuple[str, str]] | None = None) -> web.Response:
    """Apache's stock error page (the 401 one is the 381 bytes real devices send, §4.1)."""
    title, body = APACHE_PAGES[status]
    page = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
        f"<title>{status} {REASONS[status]}</title>\n</head><body>\n<h1>{title}</h1>\n{body}</body></html>\n"
    )
    response = web.Response(body=page.encode("iso-8859-1"), status=status)
    response.headers["Content-Type"] = "text/html; charset=iso-8859-1"
    for name, value in headers or []:
        response.headers.add(name, value)
    return response


def challenge_headers(device: Device, https: bool, stale: bool = False) -> list[tuple[str, str]]:
    schemes = device.schemes(https)
    headers = []
    if schemes.digest:
        headers.append(("WWW-Authenticate", device.digest.challenge(stale=stale)))
    if schemes.basic:
        headers.append(("WWW-Authenticate", f'Basic realm="{device.identity.realm}"'))
    return headers


def unauthorized(request: web.Request, outcome: Outcome = Outcome.MISSING) -> web.Response:
    return apache_page(401, challenge_headers(device_of(request), request.secure, stale=outcome is Outcome.STALE))
