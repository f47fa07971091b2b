"""Firmware quirks: named flags of a model's `[quirks]` table that change a wire form where
firmwares differ (fixtures/README.md, "Firmware quirks"; vapix-wire.md §0.1, §1.1).

A recorded model carries the forms its recording showed; a built-in model may set them too. The
defaults are axisim's own forms (AXIS OS 9.80-12.9), so a model without `[quirks]` is unchanged.
Only values here: the wire layer (`cgi_handlers/param.py`) and the server (`axisim/server.py`) apply them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

ERROR_STYLES = ("axis-os", "legacy")  # list error line without / with a final "!"
LIST_ORDERS = ("sorted", "definition")  # AXIS OS 9+ / 5.x


class QuirkError(ValueError):
    """A `[quirks]` table with an unknown name or a value the flag does not take."""


@dataclass(frozen=True, slots=True)
class Quirks:
    # param.cgi?action=list of a group the device lacks: "axis-os" `# Error: Error -1 getting param in
    # group '<g>'` [REC 8.x-12.9]; "legacy" the same with a final "!" [CLIENT: an old Ruby client's regex]
    param_error_style: str = "axis-os"
    # "sorted": case-insensitive, parameters before sub-groups [REC 9.x+]; "definition": the order of
    # params.xml, as 5.x firmware lists [REC P5512 5.51.7] (list and listdefinitions)
    param_list_order: str = "sorted"
    # a list (or error) body's last line ends with "\n" [REC]; false: lines separated, not terminated
    param_trailing_newline: bool = True
    # Content-Type of param.cgi's text replies: `text/plain` [REC trunnion 5.51, 9.80]
    param_content_type: str = "text/plain"
    # the Server header of every reply (ServerTokens Prod; e.g. "Apache/2.4.27 (Unix) OpenSSL/1.0.2k" [REC])
    server_header: str = "Apache"

    @classmethod
    def read(cls, table: Any) -> Quirks:
        """The flags of a `[quirks]` table; QuirkError names the bad one."""
        if table is None:
            return DEFAULT_QUIRKS
        if not isinstance(table, dict):
            raise QuirkError("[quirks] is a table")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise QuirkError(f"unknown quirk(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        _choice(table, "param_error_style", ERROR_STYLES)
        _choice(table, "param_list_order", LIST_ORDERS)
        if not isinstance(table.get("param_trailing_newline", True), bool):
            raise QuirkError("param_trailing_newline is true or false")
        for name in ("param_content_type", "server_header"):
            _header_value(table, name)
        return cls(**table) if table else DEFAULT_QUIRKS


def _choice(table: dict[str, Any], name: str, choices: tuple[str, ...]) -> None:
    if name in table and table[name] not in choices:
        raise QuirkError(f"{name} is one of {', '.join(repr(c) for c in choices)}")


def _header_value(table: dict[str, Any], name: str) -> None:
    """A header value: printable ASCII, 1-200 characters (no line break can reach the wire)."""
    if name not in table:
        return
    value = table[name]
    if not isinstance(value, str) or not 1 <= len(value) <= 200 or not value.isascii() or not value.isprintable():
        raise QuirkError(f"{name} is a header value: printable ASCII, 1-200 characters")


DEFAULT_QUIRKS = Quirks()
