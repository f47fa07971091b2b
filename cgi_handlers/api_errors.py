"""The numbered errors of the VAPIX APIs: a handler raises ApiError and formats it as its API does."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request an API refuses with one of its numbered error codes (the handler formats it);
    `message` overrides the API's text for the code, `extra` adds keys to a JSON error."""

    def __init__(self, code: int, message: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.extra = extra or {}
