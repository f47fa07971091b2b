"""The JSON messages of the WebSocket event stream (events.md §2.3, §2.4): the `events:configure`
request as the device reads it, its reply and error replies, and `events:notify`.

Text frames, compact JSON. Values stay strings (§0.4); the timestamp is integer milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from axisim.events import Event
from axisim.jsonread import JsonError, read_json_object

from .event_filters import EventFilter, FilterError, parse_filters

API_VERSION = "1.0"
CONFIGURE = "events:configure"
NOTIFY = "events:notify"
MAX_REQUEST = 64 * 1024  # a larger frame is answered 2107
ERRORS = {  # events.md §2.3 [DOC]
    1100: "Internal Error",
    2100: "API version not supported",
    2101: "Invalid JSON",
    2102: "Method not supported",
    2103: "Required parameter missing",
    2104: "Invalid parameter value",
    2105: "Authorization failed",
    2106: "Authentication failed",
    2107: "Request too large",
}


class StreamRequestError(Exception):
    """A client message the device answers with an error reply (and then goes on streaming)."""

    def __init__(self, code: int, method: str | None = None, context: Any = None) -> None:
        super().__init__(ERRORS[code])
        self.code, self.method, self.context = code, method, context


@dataclass(frozen=True, slots=True)
class Configure:
    """A valid `events:configure`: its filters and the context to echo."""

    filters: list[EventFilter]
    context: Any = None


def read_configure(frame: str | bytes) -> Configure:
    """The one request the stream takes; StreamRequestError for everything else."""
    if len(frame) > MAX_REQUEST:
        raise StreamRequestError(2107)
    try:
        document = read_json_object(frame)
    except (JsonError, ValueError, UnicodeError):
        raise StreamRequestError(2101) from None
    context = document.get("context")
    method = document.get("method")
    shown = method if isinstance(method, str) else None
    if method is None:
        raise StreamRequestError(2103, None, context)
    if method != CONFIGURE:
        raise StreamRequestError(2102, shown, context)
    version = document.get("apiVersion")
    if version is None:
        raise StreamRequestError(2103, shown, context)
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise StreamRequestError(2100, shown, context)
    params = document.get("params")
    if not isinstance(params, dict) or "eventFilterList" not in params:
        raise StreamRequestError(2103, shown, context)
    try:
        return Configure(parse_filters(params["eventFilterList"]), context)
    except FilterError:
        raise StreamRequestError(2104, shown, context) from None


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def configure_reply(context: Any) -> str:
    """`{"apiVersion":"1.0","context":...,"method":"events:configure","data":{}}` (context echoed if sent)."""
    document: dict[str, Any] = {"apiVersion": API_VERSION}
    if context is not None:
        document["context"] = context
    document.update(method=CONFIGURE, data={})
    return _text(document)


def error_reply(error: StreamRequestError) -> str:
    document: dict[str, Any] = {"apiVersion": API_VERSION}
    if error.context is not None:
        document["context"] = error.context
    if error.method is not None:
        document["method"] = error.method
    document["error"] = {"code": error.code, "message": ERRORS[error.code]}
    return _text(document)


def notify(event: Event) -> str:
    """One `events:notify` (§2.4): topic in the declaration spelling, source/key/data string maps."""
    return _text(
        {
            "apiVersion": API_VERSION,
            "method": NOTIFY,
            "params": {
                "notification": {
                    "timestamp": int(event.time * 1000),
                    "topic": event.topic,
                    "message": {"source": event.source, "key": {}, "data": event.data},
                }
            },
        }
    )
