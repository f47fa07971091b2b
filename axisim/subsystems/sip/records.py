"""The SIP parameters read as settings and records (accounts, DTMF events, triggers, configurations).

One view over the device's `SIP` parameters shared by the rules, the call engine and the
plugin, so each reads the state the same way; it changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import params as sp

if TYPE_CHECKING:
    from ..base import DeviceView


class SipRecords:
    def __init__(self, device: DeviceView) -> None:
        self._device = device

    def setting(self, name: str) -> str:
        return self._device.params.value(f"{sp.GROUP}.{name}")

    def enabled(self) -> bool:
        return self.setting("Enabled") == "yes"

    def keys(self, kind: sp.RecordKind) -> list[str]:
        """Instance keys (A0, A1, ...) of one record kind, in number order."""
        params = self._device.params
        template = params.model.templates[kind.template]
        return [f"{kind.letter}{n}" for n in sorted(params.instance_numbers(template))]

    def field(self, kind: sp.RecordKind, key: str, name: str) -> str:
        return self._device.params.value(kind.param(key, name))

    def key_of(self, kind: sp.RecordKind, record_id: str) -> str | None:
        return next((k for k in self.keys(kind) if self.field(kind, k, "Id") == record_id), None)

    def ids(self, kind: sp.RecordKind) -> list[str]:
        return [self.field(kind, k, "Id") for k in self.keys(kind)]

    def default_account(self) -> str | None:
        return next((k for k in self.keys(sp.ACCOUNTS) if self.field(sp.ACCOUNTS, k, "IsDefault") == "yes"), None)

    def next_key(self, kind: sp.RecordKind) -> str:
        """The key a new record of this kind gets."""
        params = self._device.params
        return params.next_instance(params.model.templates[kind.template])

    def new_id(self, kind: sp.RecordKind, taken: set[str]) -> str:
        return next(f"{kind.id_prefix}{n}" for n in range(len(taken) + 1) if f"{kind.id_prefix}{n}" not in taken)

    def keys_with(self, proposed: dict[str, str]) -> dict[str, list[str]]:
        """Record keys per kind, including groups a pending change creates."""
        found = {kind.group: self.keys(kind) for kind in sp.RECORD_KINDS}
        for name in proposed:
            for kind in sp.RECORD_KINDS:
                if name.startswith(f"{kind.group}.{kind.letter}"):
                    key = name[len(kind.group) + 1 :].split(".", 1)[0]
                    if key not in found[kind.group]:
                        found[kind.group].append(key)
        return found

    # -- accounts ----------------------------------------------------------------------

    def registered(self, key: str) -> bool:
        """Registered accounts have a registrar or public domain; the others are peer-to-peer."""
        return bool(self.field(sp.ACCOUNTS, key, "Registrar") or self.field(sp.ACCOUNTS, key, "PublicDomain"))

    def registrar(self, key: str) -> str:
        """Where a registered account registers ("" for peer-to-peer)."""
        if not self.registered(key):
            return ""
        return self.field(sp.ACCOUNTS, key, "Registrar") or self.field(sp.ACCOUNTS, key, "PublicDomain")

    def sip_uri(self, key: str) -> str:
        scheme = "sips" if self.field(sp.ACCOUNTS, key, "SIPSEnabled") == "yes" else "sip"
        if self.registered(key):
            domain = self.field(sp.ACCOUNTS, key, "PublicDomain") or self.field(sp.ACCOUNTS, key, "Registrar")
            return f"{scheme}:{self.field(sp.ACCOUNTS, key, 'UserId')}@{domain}"
        port = self.setting("TLSPort" if scheme == "sips" else "Port")
        return f"{scheme}:{self._device.param('Network.eth0.IPAddress') or '127.0.0.1'}:{port}"

    def dtmf_event_names(self) -> list[tuple[str, str]]:
        """(id, name) of every DTMF event: the values a tnsaxis:Call/DTMF source can take."""
        return [(self.field(sp.EVENTS, k, "Id"), self.field(sp.EVENTS, k, "Name")) for k in self.keys(sp.EVENTS)]
