"""AJR requests (vapix-wire.md §0.2): the JSON document's `params` read with types (`Params`)
the apiVersion check (`require_version`) and one call from body to envelope (`ajr_call`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .api_errors import ApiError
from .bodies import BodyTooLarge, json_object, read_body
from .replies import json_envelope, json_reply

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


def require_version(document: dict[str, Any], supported: list[str], *, missing: int, unsupported: int) -> None:
    """The request names an apiVersion the API serves: ApiError `missing` without one, `unsupported`
    for any other value (a number, a version not listed)."""
    version = document.get("apiVersion")
    if version is None:
        raise ApiError(missing)
    if not isinstance(version, str) or version not in supported:
        raise ApiError(unsupported)


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
