"""Request bodies, each through one reader: `read_body` (a body that cannot be decoded is
Apache's 400), `json_object` (the bounded JSON reader of `axisim.jsonread`), `multipart_parts`
(a broken part is MalformedBody, which each API answers with its own error)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from axisim.jsonread import read_json_object

from .request_context import request_key

MAX_FORM_BYTES = 64 * 1024
MAX_JSON_BYTES = 1024 * 1024  # more than any request body read (read_body's limit is MAX_FORM_BYTES)


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


BODY_KEY = request_key("body", bytes)


async def read_body(request: web.Request, limit: int = MAX_FORM_BYTES) -> bytes:
    """The body, refusing (BodyTooLarge) anything over `limit` without reading it all, and
    (UnreadableBody, 400) a body whose framing breaks. Read once: a second reader of the request
    (a recorded model's replay before its live handler) gets the same bytes."""
    kept = request.get(BODY_KEY)
    if kept is not None:
        if len(kept) > limit:
            raise BodyTooLarge
        return kept  # type: ignore[no-any-return]
    body = await _read(request, limit)
    request[BODY_KEY] = body
    return body


async def _read(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    content = request.content
    chunks: list[bytes] = []
    size = 0
    try:
        if content.is_eof():  # all of it came with the headers, as small bodies do: no read loop
            while not content.at_eof():
                chunks.append(content.read_nowait())
                size += len(chunks[-1])
            if size > limit:
                raise BodyTooLarge
            return b"".join(chunks)
        async for chunk in content.iter_chunked(16384):
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


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON request body that must be an object; JsonError (a ValueError) otherwise: too deep,
    not UTF-8, NaN/Infinity (axisim.jsonread, the only JSON reader of request bodies)."""
    return read_json_object(raw, max_bytes=MAX_JSON_BYTES)
