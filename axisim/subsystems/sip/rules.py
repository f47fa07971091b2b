"""The rules across SIP parameters that no single parameter type expresses.

Exactly one default account; ports apart; media encryption only over TLS; DTMF sequences
of 0-9, A-D, # and * only, each once; references between DTMF records that point
somewhere. param.cgi and the call service check changes against the same rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import params as sp

if TYPE_CHECKING:
    from param_tree import ParamStore

    from .records import SipRecords


def violations(params: ParamStore, proposed: dict[str, str], keys: dict[str, list[str]]) -> set[str]:
    """Names among `proposed` that break a rule, given the record keys once it applies."""

    def value(name: str, default: str = "") -> str:
        if name in proposed:
            return proposed[name]
        return params.value(name) if name in params else default

    def blame(*names: str) -> set[str]:
        return {n for n in names if n in proposed}

    bad: set[str] = set()
    codecs = f"{sp.GROUP}.AudioCodecs"
    if sp.parse_codecs(value(codecs)) is None:
        bad |= blame(codecs)
    port, tls_port = f"{sp.GROUP}.Port", f"{sp.GROUP}.TLSPort"
    if value(port) == value(tls_port):
        bad |= blame(port, tls_port)
    accounts, configs = keys[sp.ACCOUNT], keys[sp.DTMF_CONFIG]
    defaults = [sp.ACCOUNTS.param(k, "IsDefault") for k in accounts]
    made_default = [n for n in defaults if proposed.get(n) == "yes"]
    if len(made_default) > 1 or not any(value(n) == "yes" for n in defaults):
        bad |= blame(*defaults)  # there must be a default account, and only one
    config_ids = {value(sp.CONFIGS.param(k, "Id")) for k in configs}
    for key in accounts:
        names = {f: sp.ACCOUNTS.param(key, f) for f in ("MediaEncryption", "Transport", "SIPSEnabled")}
        tls = value(names["Transport"], "udp") == "tls" or value(names["SIPSEnabled"]) == "yes"
        if value(names["MediaEncryption"], "None") != "None" and not tls:
            bad |= blame(*names.values())  # "Media encryption (only with transport mode TLS)"
        reference = sp.ACCOUNTS.param(key, "DTMFConfigurationId")
        if value(reference) and value(reference) not in config_ids:
            bad |= blame(reference)
    event_ids = {value(sp.EVENTS.param(k, "Id")) for k in keys[sp.DTMF_EVENT]}
    sequences: dict[str, str] = {}
    for key in keys[sp.DTMF_TRIGGER]:
        sequence, event = sp.TRIGGERS.param(key, "Sequence"), sp.TRIGGERS.param(key, "EventId")
        if not sp.valid_sequence(value(sequence)) or value(sequence) in sequences:
            bad |= blame(sequence, sequences.get(value(sequence), ""))
        sequences.setdefault(value(sequence), sequence)
        if value(event) and value(event) not in event_ids:
            bad |= blame(event)
    trigger_ids = {value(sp.TRIGGERS.param(k, "Id")) for k in keys[sp.DTMF_TRIGGER]}
    for key in configs:
        listed = sp.CONFIGS.param(key, "TriggerIds")
        if any(t and t not in trigger_ids for t in value(listed).split(",")):
            bad |= blame(listed)
    return bad


def dangling(records: SipRecords) -> dict[str, str]:
    """References to DTMF records that were removed are dropped, not left pointing nowhere."""
    fixes: dict[str, str] = {}
    events, triggers = set(records.ids(sp.EVENTS)), set(records.ids(sp.TRIGGERS))
    configs = set(records.ids(sp.CONFIGS))
    for key in records.keys(sp.ACCOUNTS):
        if records.field(sp.ACCOUNTS, key, "DTMFConfigurationId") not in configs | {""}:
            fixes[sp.ACCOUNTS.param(key, "DTMFConfigurationId")] = ""
    for key in records.keys(sp.TRIGGERS):
        if records.field(sp.TRIGGERS, key, "EventId") not in events | {""}:
            fixes[sp.TRIGGERS.param(key, "EventId")] = ""
    for key in records.keys(sp.CONFIGS):
        listed = records.field(sp.CONFIGS, key, "TriggerIds").split(",")
        kept = [t for t in listed if t in triggers]
        if kept != [t for t in listed if t]:
            fixes[sp.CONFIGS.param(key, "TriggerIds")] = ",".join(kept)
    return fixes
