"""What a recording holds (each call and its reply) and what the recorder reads back out of it:
the parameter definitions, the API list, basicdeviceinfo's properties, the accounts, the challenge.

Pure: no network, no files. The anonymiser, the quirk detector and the writer read the same
`Recording`, so each reply is interpreted in one place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from param_tree import DefinitionsDocument, DefinitionsError, parse_definitions

from . import plan
from .client import Reply
from .plan import Call


@dataclass(frozen=True, slots=True)
class Exchange:
    call: Call
    reply: Reply


@dataclass
class Recording:
    url: str
    exchanges: list[Exchange] = field(default_factory=list)
    challenge: str = ""  # the device's first WWW-Authenticate
    started_at: str = ""  # ISO 8601 UTC

    def add(self, call: Call, reply: Reply) -> None:
        self.exchanges.append(Exchange(call, reply))

    def reply(self, call: Call) -> Reply | None:
        for exchange in self.exchanges:
            if exchange.call == call:
                return exchange.reply
        return None

    def ok_body(self, call: Call) -> bytes | None:
        """The body of a 200 reply to `call`, else None."""
        reply = self.reply(call)
        return reply.body if reply is not None and reply.status == 200 and reply.failed is None else None

    def bodies(self) -> list[bytes]:
        headers = [v.encode() for e in self.exchanges for v in e.reply.headers.values()]
        return [e.reply.body for e in self.exchanges] + headers

    # -- what the replies say ------------------------------------------------------------------

    def definitions(self) -> DefinitionsDocument | None:
        body = self.ok_body(plan.DEFINITIONS)
        if body is None:
            return None
        try:
            return parse_definitions(body)
        except DefinitionsError:
            return None

    def params(self) -> dict[str, str]:
        document = self.definitions()
        return {d.name: d.value for d in document.definitions} if document is not None else {}

    def apis(self) -> list[tuple[str, str]]:
        """(id, version) of every entry of the recorded getApiList."""
        document = _json(self.ok_body(plan.API_LIST))
        entries = document.get("data", {}).get("apiList", []) if isinstance(document.get("data"), dict) else []
        return [
            (str(e["id"]), str(e.get("version", "")))
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("id"), str)
        ]

    def device_properties(self) -> dict[str, str]:
        """basicdeviceinfo's getAllProperties (else getAllUnrestrictedProperties) propertyList."""
        for method in ("getAllProperties", "getAllUnrestrictedProperties"):
            for exchange in self.exchanges:
                if exchange.call.api == "basic-device-info" and exchange.call.operation == method:
                    data = _json(exchange.reply.body).get("data")
                    found = data.get("propertyList") if isinstance(data, dict) else None
                    if isinstance(found, dict):
                        return {str(k): str(v) for k, v in found.items()}
        return {}

    def account_names(self) -> list[str]:
        """Account names from pwdgrp.cgi?action=get (`digusers`, else the role groups) and the
        first line of usergroup.cgi (the recording account), in the order found."""
        names: list[str] = []
        groups = _pwdgrp_groups(self.ok_body(plan.PWDGRP) or b"")
        for group in ("digusers",) if "digusers" in groups else ("admin", "operator", "viewer", "ptz"):
            names.extend(groups.get(group, []))
        whoami = (self.ok_body(plan.USERGROUP) or b"").decode("utf-8", "replace").splitlines()
        if whoami and whoami[0].strip():
            names.append(whoami[0].strip())
        return list(dict.fromkeys(names))

    def firmware(self) -> str:
        document = self.definitions()
        found = self.params().get("Properties.Firmware.Version") or self.device_properties().get("Version")
        return found or (document.firmware if document is not None else "")


def _json(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


_GROUP_LINE = re.compile(r'^\s*([A-Za-z0-9_-]+)="([^"]*)"\s*$')


def _pwdgrp_groups(body: bytes) -> dict[str, list[str]]:
    """`admin="root,joe"` lines (vapix-wire.md §4.4) as {group: [names]}."""
    groups: dict[str, list[str]] = {}
    for line in body.decode("utf-8", "replace").splitlines():
        found = _GROUP_LINE.match(line)
        if found:
            groups[found.group(1)] = [n.strip() for n in found.group(2).split(",") if n.strip()]
    return groups
