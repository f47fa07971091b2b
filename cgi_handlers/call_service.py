"""`/vapix/call`: the Call service API's commands (`axcall:*`, vapix-wire.md §6.3) over the SIP subsystem.

A command takes the request message as a dict and returns the response message as a
dict (the JSON shapes of the API, call_fields.py); vapix_services.py turns HTTP, JSON or
the simple key-value format into these. Every Set either applies all of its data or none
of it; a refusal is a ServiceFault with the API's fault triple (the subsystem's
ServiceRefused mapped by service_faults.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from axisim.clock import iso
from axisim.device import Actor
from axisim.subsystems.service_faults import ServiceRefused
from axisim.subsystems.sip import SipSubsystem
from axisim.subsystems.sip import params as sp
from axisim.subsystems.sip.calls import Call
from param_tree import Role

from .call_fields import (
    ACCOUNT_ATTRIBUTES,
    CONFIG,
    CONFIG_ATTRIBUTES,
    RECORDS,
    UNSUPPORTED_SWITCHES,
    RecordApi,
    attribute_map,
    attribute_text,
    attribute_value,
    codec_list,
    from_param,
    id_list,
    info,
    invalid,
    object_of,
    objects_of,
    text_of,
    to_param,
)
from .request_context import require, subsystem_of
from .routing import Api, Route
from .service_faults import MISSING, NOT_FOUND, NOT_SUPPORTED, UNKNOWN_ACTION, ServiceFault, fault_of
from .vapix_services import service


class CallService:
    """The `axcall:` commands over one device's SIP subsystem."""

    def __init__(self, sip: SipSubsystem) -> None:
        self.sip = sip
        self.device = sip.device
        records = sip.records
        self.setting, self.keys, self.field, self.key_of = records.setting, records.keys, records.field, records.key_of

    def command(self, name: str, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        """Run `axcall:<name>`; ServiceFault when it is refused (nothing changed then)."""
        handler = self._commands().get(name)
        if handler is None:
            raise ServiceFault(UNKNOWN_ACTION, f"The action axcall:{name} is not supported.")
        try:
            with self.sip.all_or_nothing():  # a plural Set refused half-way: the first half is undone
                return handler(message, actor)
        except ServiceRefused as refused:
            raise fault_of(refused) from refused

    def _commands(self) -> dict[str, Callable[[dict[str, Any], Actor], dict[str, Any]]]:
        commands: dict[str, Callable[[dict[str, Any], Actor], dict[str, Any]]] = {
            "GetServiceCapabilities": lambda m, a: {"Capabilities": self.capabilities()},
            "GetSIPConfiguration": lambda m, a: {"SIPConfiguration": self.configuration()},
            "SetSIPConfiguration": self._set_configuration,
            "GetSupportedSIPConfigurationAttributes": lambda m, a: {"AttributeInfo": info(CONFIG_ATTRIBUTES)},
            "GetSupportedSIPAccountAttributes": lambda m, a: {"AttributeInfo": info(ACCOUNT_ATTRIBUTES)},
            "GetSupportedMediaEncryptionModes": lambda m, a: {"MediaEncryption": list(sp.MEDIA_ENCRYPTION)},
            "GetSIPAccountStatus": lambda m, a: {"SIPAccountStatus": self._status(self._one(m, RECORDS["SIPAccount"]))},
            "GetSIPAccountStatuses": lambda m, a: {
                "SIPAccountStatus": [self._status(k) for k in self._many(m, RECORDS["SIPAccount"])]
            },
            "Call": self._call,
            "TerminateCall": self._terminate,
            "GetCallStatus": lambda m, a: {
                "CallStatus": self.call_struct(self.sip.engine.call_status(text_of(m, "CallId")))
            },
            "GetCallStatuses": self._call_statuses,
            "GetSupportedAudioCodecs": lambda m, a: {"AudioCodec": codec_list(sp.SUPPORTED_CODECS)},
            "GetDefaultAudioCodecs": lambda m, a: {"AudioCodec": codec_list(sp.SUPPORTED_CODECS)},
            "GetAudioCodecs": lambda m, a: {
                "AudioCodec": codec_list(sp.parse_codecs(self.setting("AudioCodecs")) or [])
            },
            "SetAudioCodecs": self._set_codecs,
        }
        for struct, api in RECORDS.items():
            commands[f"Get{struct}"] = lambda m, a, api=api: {api.struct: self.record(api, self._one(m, api))}
            commands[f"Get{struct}s"] = lambda m, a, api=api: {
                api.struct: [self.record(api, k) for k in self._many(m, api)]
            }
            commands[f"Set{struct}"] = lambda m, a, api=api: {
                api.id_key: self.set_record(api, object_of(m, api.struct), a)
            }
            commands[f"Set{struct}s"] = lambda m, a, api=api: {
                api.id_key: [self.set_record(api, item, a) for item in objects_of(m, api.struct)]
            }
            commands[f"Remove{struct}"] = lambda m, a, api=api: self.remove_records(api, [text_of(m, api.id_key)], a)
            commands[f"Remove{struct}s"] = lambda m, a, api=api: self.remove_records(
                api, id_list(m, api.id_key) or [], a
            )
        return commands

    # -- service capabilities and configuration ---------------------------------------

    def capabilities(self) -> dict[str, bool]:
        return {
            "SIP": True,
            "DTMF": True,
            "AudioCodec": True,
            "MediaEncryption": True,
            "Certificate": False,
            "Attribute": True,
        }

    def configuration(self) -> dict[str, Any]:
        value = self.setting
        stun = [{"Server": s} for s in value("STUNServer").split(",") if s]
        turn = [{"Server": value("TURNServer"), "Username": value("TURNUsername"), "Password": None}]
        return {
            **{f.json: from_param(value(f.param), f.kind) for f in CONFIG},
            "STUNServers": stun,
            "TURNServers": turn if value("TURNServer") else [],
            "ApplyUserAuthentication": False,
            "AllowedUsers": [],
            "ApplyAllowedURIs": False,
            "AllowedURIs": [],
            "Attribute": [
                {"Name": f.json, "Value": attribute_text(value(f.param), f.kind)} for f in CONFIG_ATTRIBUTES
            ],
        }

    def _set_configuration(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        config = object_of(message, "SIPConfiguration")
        keep = message.get("KeepCurrent")
        if keep is not None and not isinstance(keep, bool):
            raise invalid("KeepCurrent must be true or false.")
        changes: dict[str, str] = {}
        if keep is False:  # fields not sent go back to their defaults
            changes = {f"{sp.GROUP}.{s.name}": s.default for s in sp.SETTINGS_LIST}
            for name in ("Port", "TLSPort", "RTPStartPort"):
                changes[f"{sp.GROUP}.{name}"] = self.device.model.param(f"{sp.GROUP}.{name}")
        for f in CONFIG:
            if config.get(f.json) is not None:
                changes[f"{sp.GROUP}.{f.param}"] = to_param(config[f.json], f.kind, f.json)
        for switch in UNSUPPORTED_SWITCHES:
            if config.get(switch) is True:
                raise ServiceFault(NOT_SUPPORTED, f"Action not supported. {switch} is not supported by this device.")
        changes.update(self._servers(config))
        attributes = attribute_map(config.get("Attribute"))
        for f in CONFIG_ATTRIBUTES:
            if f.json in attributes:
                value = attribute_value(attributes[f.json], f)
                changes[f"{sp.GROUP}.{f.param}"] = to_param(value, f.kind, f.json)
        self._apply(changes, actor)
        return {}

    def _servers(self, config: dict[str, Any]) -> dict[str, str]:
        changes: dict[str, str] = {}
        stun = config.get("STUNServers")
        if stun is not None:
            if not isinstance(stun, list) or not all(
                isinstance(s, dict) and isinstance(s.get("Server"), str) for s in stun
            ):
                raise invalid("STUNServers must be a list of Server entries.")
            changes[f"{sp.GROUP}.STUNServer"] = ",".join(s["Server"] for s in stun)
        turn = config.get("TURNServers")
        if turn is not None:
            if not isinstance(turn, list) or len(turn) > 1 or not all(isinstance(t, dict) for t in turn):
                raise invalid("TURNServers must be a list of at most one TURN server.")
            entry = turn[0] if turn else {"Server": "", "Username": "", "Password": ""}
            for key, name in (("Server", "TURNServer"), ("Username", "TURNUsername"), ("Password", "TURNPassword")):
                if entry.get(key) is not None:  # a password left null is kept
                    changes[f"{sp.GROUP}.{name}"] = to_param(entry[key], "str", f"TURNServers {key}")
        return changes

    # -- records: accounts and DTMF ---------------------------------------------------

    def _one(self, message: dict[str, Any], api: RecordApi) -> str:
        record_id = text_of(message, api.id_key)
        key = self.key_of(api.kind, record_id)
        if key is None:
            raise ServiceFault(NOT_FOUND, f"Not found. There is no {api.struct} with the supplied {api.id_key}.")
        return key

    def _many(self, message: dict[str, Any], api: RecordApi) -> list[str]:
        wanted = id_list(message, api.id_key)
        keys = self.keys(api.kind)
        if wanted is None:
            return keys
        return [k for k in keys if self.field(api.kind, k, "Id") in wanted]

    def record(self, api: RecordApi, key: str) -> dict[str, Any]:
        found = {f.json: from_param(self.field(api.kind, key, f.param), f.kind) for f in api.fields}
        if api.kind is sp.ACCOUNTS:
            proxies = []
            for slot in range(sp.PROXY_SLOTS):
                server = self.field(api.kind, key, f"Proxy.P{slot}.Server")
                if server:
                    username = self.field(api.kind, key, f"Proxy.P{slot}.Username")
                    proxies.append({"Server": server, "Username": username, "Password": None})
            found["SIPProxies"] = proxies
            found["Attribute"] = [
                {"Name": f.json, "Value": attribute_text(self.field(api.kind, key, f.param), f.kind)}
                for f in ACCOUNT_ATTRIBUTES
            ]
        return found

    def set_record(self, api: RecordApi, data: dict[str, Any], actor: Actor) -> str:
        """Update the record `Id` names, or create one (with that Id, or a new one)."""
        record_id = data.get("Id", data.get(api.id_key))
        if record_id is not None and (not isinstance(record_id, str) or len(record_id) > 64):
            raise invalid("Id must be a string of at most 64 characters.")
        key = self.key_of(api.kind, record_id) if record_id else None
        new = key is None
        if new:
            missing = [r for r in api.required if data.get(r) is None and not (r == "UserId" and data.get("Username"))]
            if missing:
                raise ServiceFault(MISSING, f"Missing data. {', '.join(missing)} is required.")
            key = self.sip.records.next_key(api.kind)
        changes: dict[str, str] = {}
        for f in api.fields:
            if f.json != "Id" and data.get(f.json) is not None:
                changes[api.kind.param(key, f.param)] = to_param(data[f.json], f.kind, f.json)
        if api.kind is sp.ACCOUNTS:
            changes.update(self._account_extras(key, data))
        if new:
            record_id = record_id or self.sip.records.new_id(api.kind, set(self.sip.records.ids(api.kind)))
            changes[api.kind.param(key, "Id")] = record_id
        self._apply(changes, actor, new=(api.kind, key) if new else None)
        return record_id

    def _account_extras(self, key: str, data: dict[str, Any]) -> dict[str, str]:
        changes: dict[str, str] = {}
        proxies = data.get("SIPProxies")
        if proxies is not None:
            if (
                not isinstance(proxies, list)
                or len(proxies) > sp.PROXY_SLOTS
                or not all(isinstance(p, dict) for p in proxies)
            ):
                raise invalid(f"SIPProxies must be a list of at most {sp.PROXY_SLOTS} proxies.")
            for slot in range(sp.PROXY_SLOTS):
                entry = proxies[slot] if slot < len(proxies) else {"Server": "", "Username": "", "Password": ""}
                if slot < len(proxies) and not isinstance(entry.get("Server"), str):
                    raise invalid("Every SIP proxy needs a Server.")
                for item in ("Server", "Username", "Password"):
                    if entry.get(item) is not None:
                        changes[sp.ACCOUNTS.param(key, f"Proxy.P{slot}.{item}")] = to_param(entry[item], "str", item)
        attributes = attribute_map(data.get("Attribute"))
        for f in ACCOUNT_ATTRIBUTES:
            if f.json in attributes:
                changes[sp.ACCOUNTS.param(key, f.param)] = to_param(
                    attribute_value(attributes[f.json], f), f.kind, f.json
                )
        return changes

    def remove_records(self, api: RecordApi, record_ids: list[str], actor: Actor) -> dict[str, Any]:
        """Unknown ids are ignored (the API's rule); the default account stays."""
        self.sip.remove_records(api.kind, record_ids, actor)
        return {}

    def _apply(self, changes: dict[str, str], actor: Actor, new: tuple[sp.RecordKind, str] | None = None) -> None:
        self.sip.apply_changes(changes, actor, new)

    # -- account status, calls, codecs ------------------------------------------------

    def _status(self, key: str) -> dict[str, Any]:
        status = self.sip.account_status(key)
        return {
            "SIPAccountId": status.account_id,
            "SIPURI": status.sip_uri,
            "IsDefault": status.is_default,
            "RegURI": status.registrar,
            "Status": status.code,
            "StatusText": status.text,
        }

    def _call(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        account = message.get("SIPAccountId")
        if account is not None and not isinstance(account, str):
            raise invalid("SIPAccountId must be a string.")
        call_id = self.sip.engine.call(text_of(message, "To"), account or None)
        self.device.logs.configuration(actor.who, actor.client, f"SIP call {call_id} to {message['To']}")
        return {"CallId": call_id}

    def _terminate(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        self.sip.engine.terminate(text_of(message, "CallId"))
        return {}

    def _call_statuses(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        self.sip.engine.tick()
        wanted = id_list(message, "CallId")
        calls = [c for c in self.sip.calls.values() if wanted is None or c.id in wanted]
        return {"CallStatus": [self.call_struct(c) for c in calls]}

    def call_struct(self, call: Call) -> dict[str, Any]:
        found: dict[str, Any] = {
            "CallId": call.id,
            "Source": "0",
            "CallState": call.state,
            "CallStateReason": call.reason,
            "StartTime": iso(call.start_wall),
            "Direction": call.direction,
            "DeviceURI": call.device_uri,
            "RemoteURI": call.remote_uri,
            "CallType": "VMS" if call.remote_uri == "VMS_CALL" else "SIP",
            "AudioCodec": call.codec,
            "SIPAccountId": call.account_id,
        }
        if call.stop_wall is not None:
            found["StopTime"] = iso(call.stop_wall)
        return found

    def _set_codecs(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        listed = message.get("AudioCodec")
        if not isinstance(listed, list) or not listed or not all(isinstance(c, dict) for c in listed):
            raise ServiceFault(MISSING, "Missing data. AudioCodec must list at least one codec.")
        names = []
        for codec in listed:
            rate = codec.get("SampleRate")
            match = next(
                (c for c in sp.SUPPORTED_CODECS if c[0] == codec.get("Name") and (rate is None or rate == c[1])), None
            )
            if match is None:
                raise invalid(f"{codec.get('Name')!r} at {rate} Hz is not a supported audio codec.")
            names.append(f"{match[0]}/{match[1]}")
        self._apply({f"{sp.GROUP}.AudioCodecs": ",".join(names)}, actor)
        return {}


def command(sip: SipSubsystem, name: str, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Run `axcall:<name>` on this SIP subsystem (the Python API's way, and the handler's)."""
    return CallService(sip).command(name, message, actor)


CALL_ROLES = {  # Get* and calls for operators, changes for administrators
    "Call": Role.OPERATOR,
    "TerminateCall": Role.OPERATOR,
}


def _call_role(command: str) -> Role:
    if command in CALL_ROLES:
        return CALL_ROLES[command]
    return Role.OPERATOR if command.startswith("Get") else Role.ADMIN


def _run(request: web.Request, name: str, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
    require(request, _call_role(name))
    sip = subsystem_of(request, SipSubsystem)
    return command(sip, name, message, actor)


ROUTES = [Route("/vapix/call", service("axcall", _run), Role.OPERATOR, subsystem=SipSubsystem.name)]
APIS = [Api("sip", "2.2", "Call service API")]  # id, version and name as the D4200-VE (AXIS OS 12.9) lists them
