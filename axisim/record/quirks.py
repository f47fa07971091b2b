"""Where the recorded firmware answers differently from axisim's defaults: the `[quirks]` flags of
model.toml (names and meanings in /work/record-format.md "Quirk flags"; the replay implements them).

Pure: reads the `Recording`, returns the flags that differ from the defaults (a flag equal to the
default is left out, so a recording of axisim itself has none).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import plan
from .recording import Recording

# axisim's behaviour when a flag is absent (axisim/connection.py SERVER_HEADER, cgi_handlers/param.py,
# param_tree/text_io.py error_getting)
DEFAULTS: dict[str, Any] = {
    "server_header": "Apache",
    "param_content_type": "text/plain",
    "param_definitions_content_type": "text/xml",
    "param_trailing_newline": True,
    "param_list_error": "# Error: Error -1 getting param in group '{group}'\n",
}


def detect(recording: Recording) -> dict[str, Any]:
    """The flags whose recorded value differs from axisim's default."""
    seen: dict[str, Any] = {}
    servers = Counter(
        e.reply.headers.get("Server", "") for e in recording.exchanges if e.reply.status and e.reply.failed is None
    )
    if servers:
        seen["server_header"] = servers.most_common(1)[0][0]
    brand = recording.reply(plan.BRAND_LIST)
    if brand is not None and brand.status == 200 and brand.body.startswith(b"root."):
        if "Content-Type" in brand.headers:
            seen["param_content_type"] = brand.headers["Content-Type"]
        seen["param_trailing_newline"] = brand.body.endswith(b"\n")
    definitions = recording.reply(plan.DEFINITIONS)
    if definitions is not None and definitions.status == 200 and "Content-Type" in definitions.headers:
        seen["param_definitions_content_type"] = definitions.headers["Content-Type"]
    probe = recording.reply(plan.PROBE_LIST)
    if probe is not None and probe.status == 200 and probe.body and not probe.body.startswith(b"root."):
        text = probe.body.decode("utf-8", "replace")
        seen["param_list_error"] = text.replace(plan.PROBE_GROUP, "{group}")
    return {name: value for name, value in seen.items() if value != DEFAULTS[name]}
