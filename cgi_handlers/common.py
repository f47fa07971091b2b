"""What every handler needs: the device of the request, forms, exact replies, Apache pages.

Forms are parsed from the raw query and from the body as
`application/x-www-form-urlencoded` whatever Content-Type says (the Home Assistant
client posts forms labelled `text/plain`, vapix-wire.md §0.3). Bytes that are not
UTF-8 are kept as surrogate escapes, so validation refuses them instead of failing,
and every reply builder writes them back as the bytes they were (`wire_bytes`): an
echo cannot fail. Request bodies come through one reader each: `read_body` (a body
that cannot be decoded is Apache's 400), `json_object` (the bounded JSON reader of
`axisim.jsonread`), `multipart_parts` (a broken part is MalformedBody, which each
API answers with its own error); JSON request parameters through `Params`.
"""

from __future__ import annotations

import codecs
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from axisim.auth import Outcome
from axisim.device import Actor, Device
from axisim.jsonread import read_json_object
from param_tree import Role, whole_number

DEVICE_KEY: web.AppKey[Device] = web.AppKey("device", Device)


def request_key(name: str, kind: type) -> Any:
    """A typed request-storage key where aiohttp has them (3.14+), a string before."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, kind) if factory else f"axisim.{name}"


ROLE_KEY = request_key("role", Role)
USER_KEY = request_key("user", str)
MAX_FORM_BYTES = 64 * 1024
MAX_JSON_BYTES = 1024 * 1024  # more than any request body read (read_body's limit is MAX_FORM_BYTES)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AccessDenied(Exception):
    """Raised by a handler whose action needs a higher role than the caller has."""

    def __init__(self, required: Role) -> None:
        super().__init__(required.name)
        self.required = required


class ApiError(Exception):
    """A request an API refuses with one of its numbered error codes (the handler formats it);
    `message` overrides the API's text for the code, `extra` adds keys to a JSON error."""

    def __init__(self, code: int, message: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.extra = extra or {}


def check_schema_version(form: list[tuple[str, str]], *, required: bool) -> None:
    """`schemaversion` of the XML APIs (nvr/poe, disk properties, network share): a major
    version other than 1 is error 40, a malformed one 20, a missing one 20 where required."""
    version = first(form, "schemaversion")
    if version is None:
        if required:
            raise ApiError(20)
        return
    major = whole_number(version.split(".", 1)[0])
    if major is None:
        raise ApiError(20)
    if major != 1:
        raise ApiError(40)


class BodyTooLarge(Exception):
    """A request body over the endpoint's limit (Apache answers 413)."""


class UnreadableBody(web.HTTPBadRequest):
    """A body whose framing breaks (a bad chunk size): Apache refuses it with 400 before any CGI
    runs, so this is an HTTP error, not an API's. (A Content-Encoding is never decoded, see
    axisim.connection: a compressed body reaches the handler as the bytes sent.)"""


class MalformedBody(ValueError):
    """A body that does not parse as its Content-Type says (a broken multipart part); each API
    answers it with its own error."""


# what aiohttp raises for a body it cannot read: broken multipart framing or headers, bad encodings
_READ_ERRORS = (ValueError, RuntimeError, TypeError, HttpProcessingError)


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    handler: Handler
    role: Role  # the least role the path requires before the handler runs
    methods: tuple[str, ...] = ("GET", "POST")
    subsystem: str | None = None  # served only by devices that have this subsystem (else Apache's 404)
    switch: str | None = None  # an API a device can be started without (Device.switched_off): then Apache's 404

    def served_by(self, device: Device) -> bool:
        """The device serves this route: it has the subsystem and was not started without the API."""
        return (self.subsystem is None or self.subsystem in device.subsystems) and (
            self.switch is None or self.switch not in device.switched_off
        )


@dataclass(frozen=True, slots=True)
class Api:
    """An apidiscovery entry (vapix-wire.md §5.1) that a handler module's routes implement, declared
    next to its ROUTES as `APIS = [...]`: a device advertises exactly the APIs it serves. Served means
    the device serves one of the module's routes under `paths` (all of them when empty: a route needs
    its subsystem) and, where `needs` names a variant fact of model.toml (`("raid", True)`), has it."""

    id: str
    version: str
    name: str
    status: str | None = "official"  # some real entries have no status key
    paths: tuple[str, ...] = ()  # path prefixes of the module's routes that implement it; () = every route
    needs: tuple[str, object] | None = None  # (variant fact, value) the device must have

    def implemented_by(self, route: Route) -> bool:
        return not self.paths or route.path.startswith(self.paths)

    def needs_met(self, facts: dict[str, Any]) -> bool:
        return self.needs is None or facts.get(self.needs[0]) == self.needs[1]


def device_of(request: web.Request) -> Device:
    return request.app[DEVICE_KEY]


def role_of(request: web.Request) -> Role:
    return request.get(ROLE_KEY, Role.ANONYMOUS)


def user_of(request: web.Request) -> str:
    return request.get(USER_KEY, "")


def actor_of(request: web.Request) -> Actor:
    """Who made the request, as the device's logs name them."""
    return Actor(user_of(request), request.remote or "-")


def require(request: web.Request, role: Role) -> None:
    if role_of(request) < role:
        raise AccessDenied(role)


# -- request bodies -------------------------------------------------------------


def _decode(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "surrogateescape")


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split(b"&"):
        if part:
            key, _, value = part.partition(b"=")
            pairs.append((_decode(key), _decode(value)))
    return pairs


async def read_body(request: web.Request, limit: int = MAX_FORM_BYTES) -> bytes:
    """The body, refusing (BodyTooLarge) anything over `limit` without reading it all, and
    (UnreadableBody, 400) a body whose framing breaks."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.content.iter_chunked(16384):
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
    except (RequestPayloadError, HttpProcessingError) as exc:
        _abandon(request)
        raise UnreadableBody() from exc
    return b"".join(chunks)


def _abandon(request: web.Request) -> None:
    """After an unreadable body: read no more of it (aiohttp would otherwise drain it after the
    reply and meet the same error again); the server closes the connection after its 400."""
    request.content.feed_eof()


@dataclass(slots=True)
class Part:
    """One part of a multipart body: its field name, file name, the first `keep` bytes of its
    content and its whole size."""

    name: str | None
    filename: str | None
    head: bytes
    size: int


class PartTooLarge(Exception):
    """A multipart part over its limit; `index` says which (an API may answer each differently)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


async def multipart_parts(
    request: web.Request, limits: Callable[[int], tuple[int, int]], wanted: Callable[[Part], bool] | None = None
) -> AsyncIterator[Part]:
    """The parts of a multipart/form-data body in order; `limits(i)` is (most bytes, bytes kept)
    of the i-th part read (PartTooLarge beyond it). A body that does not parse as multipart, or
    whose framing breaks, is MalformedBody / UnreadableBody: never a crash."""
    try:
        reader = await request.multipart()
        index = 0
        while True:
            part = await reader.next()
            if part is None:
                return
            if not isinstance(part, BodyPartReader):  # a nested multipart: no VAPIX upload sends one
                raise MalformedBody("nested multipart")
            limit, keep = limits(index)
            head, size = bytearray(), 0
            while chunk := await part.read_chunk(65536):
                size += len(chunk)
                if size > limit:
                    raise PartTooLarge(index)
                head += chunk[: max(0, keep - len(head))]
            yield Part(part.name, part.filename, bytes(head), size)
            index += 1
    except RequestPayloadError as exc:  # the body's framing breaks
        _abandon(request)
        raise UnreadableBody() from exc
    except (PartTooLarge, MalformedBody):
        raise
    except _READ_ERRORS as exc:  # framing, a part's headers (aiohttp's InvalidHeader), its encodings
        raise MalformedBody(str(exc)) from exc


@functools.lru_cache(maxsize=512)
def _query_form(raw: bytes) -> tuple[tuple[str, str], ...]:
    """Query strings repeat (every poll of a client, every device of a fleet): parse each once."""
    return tuple(parse_form(raw))


def query_text(request: web.Request) -> str:
    """The query string as sent (cheaper than yarl's parsed URL, which every request would pay for)."""
    return request.raw_path.partition("?")[2].partition("#")[0]


def raw_query(request: web.Request) -> bytes:
    return query_text(request).encode("latin-1", "replace")


async def read_form(request: web.Request) -> list[tuple[str, str]]:
    """Query and body form fields, query first, in order."""
    pairs = list(_query_form(raw_query(request)))
    if request.method == "POST" and request.can_read_body:
        pairs += parse_form(await read_body(request))
    return pairs


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON request body that must be an object; JsonError (a ValueError) otherwise: too deep,
    not UTF-8, NaN/Infinity (axisim.jsonread, the only JSON reader of request bodies)."""
    return read_json_object(raw, max_bytes=MAX_JSON_BYTES)


REQUIRED: Any = object()  # a Params default: the parameter must be given


@dataclass(frozen=True, slots=True)
class Params:
    """The `params` of a JSON request, read with types: a value of the wrong type is the API's
    `invalid` error and a required one that is absent its `missing` error, never a crash on a
    list or an object where a string was expected."""

    values: dict[str, Any]
    missing: int
    invalid: int

    @classmethod
    def of(cls, document: dict[str, Any], missing: int, invalid: int) -> Params:
        """`document["params"]`: absent (or null) is empty, anything but an object is `invalid`."""
        values = document.get("params")
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ApiError(invalid)
        return cls(values, missing, invalid)

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.values:
            if default is REQUIRED:
                raise ApiError(self.missing)
            return default
        return self.values[key]

    def text(self, key: str, default: Any = None, choices: tuple[str, ...] | None = None) -> Any:
        """A string (one of `choices` where given); `default` when absent (REQUIRED: the missing error)."""
        value = self._get(key, default)
        if key in self.values and (not isinstance(value, str) or (choices is not None and value not in choices)):
            raise ApiError(self.invalid)
        return value

    def flag(self, key: str, default: Any = None) -> Any:
        value = self._get(key, default)
        if key in self.values and not isinstance(value, bool):
            raise ApiError(self.invalid)
        return value

    def integer(self, key: str, default: Any = None) -> Any:
        """A JSON integer (not a bool, not a float, not a string of digits)."""
        value = self._get(key, default)
        if key in self.values and (type(value) is not int):
            raise ApiError(self.invalid)
        return value


async def ajr_call(
    request: web.Request,
    version: str,
    errors: dict[int, str],
    invalid_json: int,
    dispatch: Callable[[dict[str, Any]], Any],
    answered: Callable[[dict[str, Any]], str] | None = None,
) -> web.Response:
    """One AJR request (§0.2): parse the body, run `dispatch(document)`, and reply with the
    envelope, HTTP 200 for errors too; `version` is what the device answers with, unless
    `answered(document)` says otherwise (an API that serves two major versions)."""
    context: Any = None
    method: str | None = None
    try:
        try:
            if request.method != "POST":
                raise ValueError("AJR requests are POSTed")  # a GET carries no request document
            document = json_object(await read_body(request))
        except (BodyTooLarge, ValueError) as exc:
            raise ApiError(invalid_json) from exc
        if answered is not None:
            version = answered(document)
        context = document.get("context")
        method = document.get("method") if isinstance(document.get("method"), str) else None
        data = dispatch(document)
    except ApiError as exc:
        envelope = json_envelope(version, method, context, error=(exc.code, exc.message or errors[exc.code]))
        envelope["error"].update(exc.extra)
        return json_reply(envelope)
    return json_reply(json_envelope(version, method, context, data=data))


def first(pairs: list[tuple[str, str]], key: str) -> str | None:
    return next((value for name, value in pairs if name == key), None)


# -- replies --------------------------------------------------------------------


WIRE_ERRORS = "axisim.wire"


def _wire_error(exc: UnicodeError) -> tuple[bytes, int]:
    """Encoding errors of reply text: a surrogate escape (a request byte that was not UTF-8) goes
    back as the byte it was, as a device's C code echoes it; any other lone surrogate (a JSON
    `\\ud800`) as `?`."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for char in exc.object[exc.start : exc.end]:
        code = ord(char)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else b"?"
    return bytes(out), exc.end


codecs.register_error(WIRE_ERRORS, _wire_error)


def wire_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """Reply text as bytes; never fails (see _wire_error). Every reply builder goes through it."""
    return text.encode(encoding, WIRE_ERRORS)


def text_reply(body: str, *, status: int = 200, content_type: str = "text/plain") -> web.Response:
    """A reply whose Content-Type is exactly `content_type` (aiohttp would add a charset)."""
    return web.Response(body=wire_bytes(body), status=status, headers={"Content-Type": content_type})


def json_text(document: Any, *, indent: int | None = None, newline: bool = False) -> str:
    """Python-style JSON (`", "` and `": "`), as AXIS OS CGIs write it (vapix-wire.md §5.1 [REC]).
    `newline`: the body ends with "\\n", as every recorded reply of apidiscovery, basicdeviceinfo
    and firmwaremanagement does (rs4acap cassettes, 11 devices, AXIS OS 10.12-12.9); systemready's
    and network-settings' recorded replies end without one, and the other APIs have no recording."""
    return json.dumps(document, ensure_ascii=False, indent=indent) + ("\n" if newline else "")


def json_reply(
    document: dict[str, Any],
    *,
    content_type: str = "application/json",
    indent: int | None = None,
    newline: bool = False,
) -> web.Response:
    return text_reply(json_text(document, indent=indent, newline=newline), content_type=content_type)


def json_envelope(
    api_version: str, method: str | None, context: Any, *, data: Any = None, error: tuple[int, str] | None = None
) -> dict[str, Any]:
    """The AJR envelope: context echoed only when the request had one (§0.2)."""
    document: dict[str, Any] = {"apiVersion": api_version}
    if context is not None:
        document["context"] = context
    if method is not None:
        document["method"] = method
    if error is not None:
        document["error"] = {"code": error[0], "message": error[1]}
    else:
        document["data"] = data if data is not None else {}
    return document


APACHE_PAGES = {
    400: ("Bad Request", "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"),
    401: (
        "Unauthorized",
        "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you "
        "supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\n"
        "the credentials required.</p>\n",
    ),
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
