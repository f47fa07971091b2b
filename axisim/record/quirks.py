"""Where the recorded firmware answers differently from axisim's defaults: the `[quirks]` flags of
model.toml (/work/record-format.md "Quirk flags"; the serving side reads them with axisim's own
`Quirks`, which refuses a name it does not know, so only its five flags are written).

Pure: reads the `Recording`, returns the flags that differ from the defaults (a flag equal to the
default is left out, so a recording of axisim itself has none) and notes for what the flags cannot
say (an error line in neither known style), which go to the fixture's README.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from param_tree import sort_key

from . import plan
from .recording import Recording

# axisim's forms when a flag is absent (axisim/connection.py SERVER_HEADER, cgi_handlers/param.py,
# param_tree/text_io.py error_getting)
DEFAULTS: dict[str, Any] = {
    "server_header": "Apache",
    "param_content_type": "text/plain",
    "param_trailing_newline": True,
    "param_error_style": "axis-os",
    "param_list_order": "sorted",
}
ERROR_LINE = f"# Error: Error -1 getting param in group '{plan.PROBE_GROUP}'"  # "axis-os"; "legacy" adds "!"


def detect(recording: Recording) -> tuple[dict[str, Any], list[str]]:
    """The flags whose recorded value differs from axisim's default, and notes for the README."""
    seen: dict[str, Any] = {}
    notes: list[str] = []
    servers = Counter(
        e.reply.headers["Server"] for e in recording.exchanges if e.reply.failed is None and "Server" in e.reply.headers
    )
    if servers:
        seen["server_header"] = servers.most_common(1)[0][0]
    listed = recording.reply(plan.PROPERTIES_LIST)
    if listed is not None and listed.status == 200 and listed.body.startswith(b"root."):
        if "Content-Type" in listed.headers:
            seen["param_content_type"] = listed.headers["Content-Type"]
        seen["param_trailing_newline"] = listed.body.endswith(b"\n")
        order = _list_order(listed.body, [d.name for d in _definitions(recording)])
        if order:
            seen["param_list_order"] = order
    probe = recording.reply(plan.PROBE_LIST)
    if probe is not None and probe.status == 200 and probe.body and not probe.body.startswith(b"root."):
        line = probe.body.decode("utf-8", "replace").rstrip("\r\n")
        styles = {ERROR_LINE: "axis-os", ERROR_LINE + "!": "legacy"}
        if line in styles:
            seen["param_error_style"] = styles[line]
        else:
            shown = line.replace(plan.PROBE_GROUP, "<group>")
            notes.append(f"param.cgi answers a missing group with `{shown}`, in neither style axisim knows")
    return {name: value for name, value in seen.items() if value != DEFAULTS[name]}, notes


def _definitions(recording: Recording) -> list[Any]:
    document = recording.definitions()
    return list(document.definitions) if document is not None else []


def _list_order(body: bytes, definition_order: list[str]) -> str | None:
    """"sorted" when the list is in param_tree's sort order, "definition" when it is in params.xml's
    order and that differs, None when it is neither (or both cannot be told apart)."""
    names = [
        line.split("=", 1)[0].removeprefix("root.")
        for line in body.decode("utf-8", "replace").splitlines()
        if "=" in line and line.startswith("root.")
    ]
    if len(names) < 2:
        return None
    if names == sorted(names, key=lambda n: sort_key(tuple(n.split(".")))):
        return "sorted"
    listed = set(names)
    if names == [n for n in definition_order if n in listed]:
        return "definition"
    return None
