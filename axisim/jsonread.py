"""The one reader of JSON a client sends (VAPIX JSON APIs, the control API).

Python's `json` alone would take a client's 2,000-deep nesting down with a
RecursionError (or accept it and fail later, when a reply echoes it), read UTF-16
and UTF-32 bodies, and accept `NaN`, `Infinity` and `1e999`, which are not JSON and
which no device parser takes. This reader refuses all of those with JsonError, a
ValueError, so a caller answers them with its API's "invalid JSON" error. No HTTP
here: the core may use it too.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32  # arrays and objects inside each other; VAPIX requests nest four or five deep
MAX_BYTES = 2 * 1024 * 1024


class JsonError(ValueError):
    """Not a JSON document this reader accepts."""


def _refuse_constant(name: str) -> Any:
    raise JsonError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonError(f"{text} is out of range")
    return number


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)


def _check_depth(document: Any, limit: int) -> None:
    """Raise JsonError when arrays/objects nest deeper than `limit` (no recursion)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            raise JsonError(f"nested deeper than {limit}")
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def read_json(raw: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """The document in `raw` (UTF-8 JSON text); JsonError for anything else."""
    if len(raw) > max_bytes:
        raise JsonError(f"larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        document = _DECODER.decode(text)
    except RecursionError:
        raise JsonError(f"nested deeper than {max_depth}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the int() digit limit
        raise JsonError(str(exc)) from None
    if text.count("{") + text.count("[") > max_depth:  # else no nesting can be deeper (the usual)
        _check_depth(document, max_depth)
    return document


def read_json_object(raw: bytes | str, **limits: int) -> dict[str, Any]:
    """A document that must be an object (every VAPIX JSON request is); JsonError otherwise."""
    document = read_json(raw, **limits)
    if not isinstance(document, dict):
        raise JsonError("not a JSON object")
    return document
