"""Exact replies: the Content-Type as given, JSON written as AXIS OS writes it, the AJR envelope.

Every reply builder writes request bytes that were not UTF-8 (kept as surrogate escapes by
`forms`) back as the bytes they were (`wire_bytes`): an echo cannot fail."""

from __future__ import annotations

import codecs
import json
from typing import Any

from aiohttp import web

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


def bytes_reply(body: bytes, *, content_type: str = "application/json") -> web.Response:
    """`text_reply` of a body already made into bytes (a reply remembered between requests)."""
    return web.Response(body=body, headers={"Content-Type": content_type})


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
