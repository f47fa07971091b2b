"""Form fields, parsed from the raw query and from the body as
`application/x-www-form-urlencoded` whatever Content-Type says (the Home Assistant client posts
forms labelled `text/plain`, vapix-wire.md §0.3). Bytes that are not UTF-8 are kept as
surrogate escapes, so validation refuses them instead of failing (and `replies.wire_bytes`
writes them back as the bytes they were)."""

from __future__ import annotations

import functools
from urllib.parse import unquote_to_bytes

from aiohttp import web

from param_tree import whole_number

from .api_errors import ApiError
from .bodies import read_body


def _decode(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "surrogateescape")


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split(b"&"):
        if part:
            key, _, value = part.partition(b"=")
            pairs.append((_decode(key), _decode(value)))
    return pairs


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


def first(pairs: list[tuple[str, str]], key: str) -> str | None:
    for name, value in pairs:  # a loop, not next(generator): read on every request
        if name == key:
            return value
    return None


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
