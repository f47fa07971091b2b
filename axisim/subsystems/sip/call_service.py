"""The Call service API's commands (`axcall:*`, vapix-wire.md §6.3) over the SIP parameters.

Protocol-neutral: a command takes the request message as a dict and returns the
response message as a dict (the JSON shapes of the API); the handler turns HTTP,
JSON or the simple key-value format into these. Every Set either applies all of
its data or none of it, raising ServiceFault with the API's fault triple.

Choices where the API is silent (README): passwords are never shown back (null);
accounts are returned with both `UserId` (the API's table) and `Username` (its
recorded responses); settings the manual has and SIPConfiguration lacks are
`Attribute`s (GetSupportedSIPConfigurationAttributes lists them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axisim.clock import iso
from param_tree import Role, UpdateError

from ..service_faults import FAILURE, INVALID, MISSING, NOT_FOUND, NOT_SUPPORTED, UNKNOWN_ACTION, ServiceFault
from . import params as sp
from .calls import Call

if TYPE_CHECKING:
    from axisim.device import Actor, Device

    from .calls import CallLimits


@dataclass(frozen=True, slots=True)
class Field:
    json: str  # key in the API's structure
    param: str  # parameter under SIP. or under the record's group
    kind: str  # str | bool | int | nullable (str, shown null when empty) | secret (never shown)


CONFIG = (
    Field("SIPEnabled", "Enabled", "bool"),
    Field("AllowIncomingCalls", "AllowIncomingCalls", "bool"),
    Field("SIPPort", "Port", "int"),
    Field("SIPTLSPort", "TLSPort", "int"),
    Field("RTPStartPort", "RTPStartPort", "int"),
    Field("CallingTimeout", "CallingTimeout", "int"),
    Field("ICEEnabled", "ICEEnabled", "bool"),
    Field("STUNEnabled", "STUNEnabled", "bool"),
    Field("TURNEnabled", "TURNEnabled", "bool"),
)
CONFIG_ATTRIBUTES = (
    Field("IncomingCallDuration", "IncomingCallDuration", "int"),
    Field("MaxCallDuration", "MaxCallDuration", "int"),
    Field("DisableTCPSwitch", "UDPToTCPSwitching", "notbool"),
    Field("RegistrationInterval", "RegisterInterval", "int"),
    Field("AllowViaRewrite", "AllowViaRewrite", "bool"),
    Field("AllowContactRewrite", "AllowContactRewrite", "bool"),
    Field("DTMFPayloadType", "DTMFPayloadType", "int"),
    Field("MaxRetransmissions", "MaxRetransmissions", "int"),
    Field("FailbackSeconds", "FailbackSeconds", "int"),
    Field("AudioDirection", "AudioDirection", "str"),
)
# Features the service has but the speaker does not offer: accepted only switched off.
UNSUPPORTED_SWITCHES = ("ApplyUserAuthentication", "ApplyAllowedURIs", "ApplyAccessList")

ACCOUNT = (
    Field("Id", "Id", "str"),
    Field("Enabled", "Enabled", "bool"),
    Field("Name", "Name", "str"),
    Field("UserId", "UserId", "str"),
    Field("Username", "UserId", "str"),
    Field("Password", "Password", "secret"),
    Field("Registrar", "Registrar", "nullable"),
    Field("PublicDomain", "PublicDomain", "nullable"),
    Field("SecondaryRegistrar", "SecondaryRegistrar", "str"),
    Field("SecondaryPublicDomain", "SecondaryPublicDomain", "str"),
    Field("CallerId", "CallerId", "str"),
    Field("AuthenticationId", "AuthenticationId", "str"),
    Field("IsDefault", "IsDefault", "bool"),
    Field("SIPSEnabled", "SIPSEnabled", "bool"),
    Field("Transport", "Transport", "lower"),
    Field("PrioritizeIPv6", "PrioritizeIPv6", "bool"),
    Field("DTMFConfigurationId", "DTMFConfigurationId", "str"),
    Field("MediaEncryption", "MediaEncryption", "str"),
    Field("VerifyServerCertificate", "VerifyServerCertificate", "bool"),
)
ACCOUNT_ATTRIBUTES = (Field("AutoAnswer", "AutoAnswer", "bool"), Field("TLSVersion", "TLSVersion", "str"))
EVENT = (Field("Id", "Id", "str"), Field("Name", "Name", "str"))
TRIGGER = (Field("Id", "Id", "str"), Field("DTMFSequence", "Sequence", "str"), Field("DTMFEventId", "EventId", "str"))
DTMF_CONFIG = (
    Field("Id", "Id", "str"),
    Field("Name", "Name", "str"),
    Field("DTMFTriggerId", "TriggerIds", "list"),
    Field("RFC2833", "RFC2833", "bool"),
    Field("RFC2976", "RFC2976", "bool"),
)


@dataclass(frozen=True, slots=True)
class RecordApi:
    """One record type's Get/Set/Remove commands (SIPAccount, DTMFEvent, ...)."""

    kind: sp.RecordKind
    struct: str  # SIPAccount
    id_key: str  # SIPAccountId
    fields: tuple[Field, ...]
    required: tuple[str, ...]  # keys a new record needs


RECORDS = {
    "SIPAccount": RecordApi(sp.ACCOUNTS, "SIPAccount", "SIPAccountId", ACCOUNT, ("UserId",)),
    "DTMFEvent": RecordApi(sp.EVENTS, "DTMFEvent", "DTMFEventId", EVENT, ("Name",)),
    "DTMFTrigger": RecordApi(sp.TRIGGERS, "DTMFTrigger", "DTMFTriggerId", TRIGGER, ("DTMFSequence", "DTMFEventId")),
    "DTMFConfiguration": RecordApi(sp.CONFIGS, "DTMFConfiguration", "DTMFConfigurationId", DTMF_CONFIG, ("Name",)),
}


def _invalid(what: str) -> ServiceFault:
    return ServiceFault(INVALID, f"Invalid data. {what}")


def to_param(value: Any, kind: str, what: str) -> str:
    """An API value as the parameter stores it; a value of the wrong type is invalid data."""
    if kind in ("bool", "notbool"):
        if not isinstance(value, bool):
            raise _invalid(f"{what} must be true or false.")
        return "yes" if value != (kind == "notbool") else "no"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(f"{what} must be an integer.")
        return str(value)
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v and "," not in v for v in value):
            raise _invalid(f"{what} must be a list of identifiers.")
        return ",".join(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # the simple format cannot tell "6001" from 6001
    if not isinstance(value, str):
        raise _invalid(f"{what} must be a string.")
    return value.lower() if kind == "lower" else value


def from_param(value: str, kind: str) -> Any:
    if kind == "bool":
        return value == "yes"
    if kind == "notbool":
        return value != "yes"
    if kind == "int":
        return int(value)
    if kind == "list":
        return [v for v in value.split(",") if v]
    if kind == "secret":
        return None
    if kind == "nullable":
        return value or None
    return value


def _object(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise ServiceFault(MISSING, f"Missing data. {key} is required.")
    return value


def _id_list(message: dict[str, Any], key: str) -> list[str] | None:
    """A list of ids (None or empty: all); a single id is taken as a list of one."""
    value = message.get(key)
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(f"{key} must be a list of identifiers.")
    return value


def _attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(a, dict) and isinstance(a.get("Name"), str) for a in value):
        raise _invalid("Attribute must be a list of Name and Value pairs.")
    return {a["Name"]: a.get("Value") for a in value}


def _attribute_value(text: Any, field: Field) -> Any:
    """Attribute values are strings; the field's own type is checked after."""
    if isinstance(text, bool | int):
        return text
    if not isinstance(text, str):
        raise _invalid(f"Attribute {field.json} must have a Value.")
    if field.kind in ("bool", "notbool"):
        if text.lower() not in ("true", "false"):
            raise _invalid(f"Attribute {field.json} must be true or false.")
        return text.lower() == "true"
    if field.kind == "int":
        try:
            return int(text)
        except ValueError as exc:
            raise _invalid(f"Attribute {field.json} must be an integer.") from exc
    return text


class CallService:
    """The `axcall:` commands; mixed into SipSubsystem, which supplies the state."""

    device: Device

    if TYPE_CHECKING:  # supplied by SipSubsystem

        def setting(self, name: str) -> str: ...
        def keys(self, kind: sp.RecordKind) -> list[str]: ...
        def field(self, kind: sp.RecordKind, key: str, name: str) -> str: ...
        def key_of(self, kind: sp.RecordKind, record_id: str) -> str | None: ...
        def ids(self, kind: sp.RecordKind) -> list[str]: ...
        def _keys_with(self, proposed: dict[str, str]) -> dict[str, list[str]]: ...
        def _violations(self, proposed: dict[str, str], keys: dict[str, list[str]]) -> set[str]: ...
        def _new_id(self, kind: sp.RecordKind, taken: set[str]) -> str: ...
        def registration(self, key: str) -> tuple[int, str]: ...
        def sip_uri(self, key: str) -> str: ...
        def registered(self, key: str) -> bool: ...
        def call(self, to: str, account_id: str | None = None) -> str: ...
        def terminate(self, call_id: str) -> None: ...
        def call_status(self, call_id: str) -> Call: ...
        def tick(self) -> None: ...
        def limits(self, call: Call | None = None) -> CallLimits: ...

        calls: dict[str, Call]

    def command(self, name: str, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        """Run `axcall:<name>`; ServiceFault when it is refused (nothing changed then)."""
        handler = self._commands().get(name)
        if handler is None:
            raise ServiceFault(UNKNOWN_ACTION, f"The action axcall:{name} is not supported.")
        params = self.device.params
        before = params.changes()
        try:
            return handler(message, actor)
        except ServiceFault:
            if params.changes() != before:  # a plural Set refused half-way: undo the first half
                params.restore(before)
                self.device.settings_changed(None)
                self.device.changed()
            raise

    def _commands(self) -> dict[str, Callable[[dict[str, Any], Actor], dict[str, Any]]]:
        commands: dict[str, Callable[[dict[str, Any], Actor], dict[str, Any]]] = {
            "GetServiceCapabilities": lambda m, a: {"Capabilities": self.capabilities()},
            "GetSIPConfiguration": lambda m, a: {"SIPConfiguration": self.configuration()},
            "SetSIPConfiguration": self._set_configuration,
            "GetSupportedSIPConfigurationAttributes": lambda m, a: {"AttributeInfo": _info(CONFIG_ATTRIBUTES)},
            "GetSupportedSIPAccountAttributes": lambda m, a: {"AttributeInfo": _info(ACCOUNT_ATTRIBUTES)},
            "GetSupportedMediaEncryptionModes": lambda m, a: {"MediaEncryption": list(sp.MEDIA_ENCRYPTION)},
            "GetSIPAccountStatus": lambda m, a: {"SIPAccountStatus": self._status(self._one(m, RECORDS["SIPAccount"]))},
            "GetSIPAccountStatuses": lambda m, a: {
                "SIPAccountStatus": [self._status(k) for k in self._many(m, RECORDS["SIPAccount"])]
            },
            "Call": self._call,
            "TerminateCall": self._terminate,
            "GetCallStatus": lambda m, a: {"CallStatus": self.call_struct(self.call_status(_text(m, "CallId")))},
            "GetCallStatuses": self._call_statuses,
            "GetSupportedAudioCodecs": lambda m, a: {"AudioCodec": _codecs(sp.SUPPORTED_CODECS)},
            "GetDefaultAudioCodecs": lambda m, a: {"AudioCodec": _codecs(sp.SUPPORTED_CODECS)},
            "GetAudioCodecs": lambda m, a: {"AudioCodec": _codecs(sp.parse_codecs(self.setting("AudioCodecs")) or [])},
            "SetAudioCodecs": self._set_codecs,
        }
        for struct, api in RECORDS.items():
            commands[f"Get{struct}"] = lambda m, a, api=api: {api.struct: self.record(api, self._one(m, api))}
            commands[f"Get{struct}s"] = lambda m, a, api=api: {
                api.struct: [self.record(api, k) for k in self._many(m, api)]
            }
            commands[f"Set{struct}"] = lambda m, a, api=api: {
                api.id_key: self.set_record(api, _object(m, api.struct), a)
            }
            commands[f"Set{struct}s"] = lambda m, a, api=api: {
                api.id_key: [self.set_record(api, item, a) for item in _objects(m, api.struct)]
            }
            commands[f"Remove{struct}"] = lambda m, a, api=api: self.remove_records(api, [_text(m, api.id_key)], a)
            commands[f"Remove{struct}s"] = lambda m, a, api=api: self.remove_records(
                api, _id_list(m, api.id_key) or [], a
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
                {"Name": f.json, "Value": _attribute_text(value(f.param), f.kind)} for f in CONFIG_ATTRIBUTES
            ],
        }

    def _set_configuration(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        config = _object(message, "SIPConfiguration")
        keep = message.get("KeepCurrent")
        if keep is not None and not isinstance(keep, bool):
            raise _invalid("KeepCurrent must be true or false.")
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
        attributes = _attributes(config.get("Attribute"))
        for f in CONFIG_ATTRIBUTES:
            if f.json in attributes:
                value = _attribute_value(attributes[f.json], f)
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
                raise _invalid("STUNServers must be a list of Server entries.")
            changes[f"{sp.GROUP}.STUNServer"] = ",".join(s["Server"] for s in stun)
        turn = config.get("TURNServers")
        if turn is not None:
            if not isinstance(turn, list) or len(turn) > 1 or not all(isinstance(t, dict) for t in turn):
                raise _invalid("TURNServers must be a list of at most one TURN server.")
            entry = turn[0] if turn else {"Server": "", "Username": "", "Password": ""}
            for key, name in (("Server", "TURNServer"), ("Username", "TURNUsername"), ("Password", "TURNPassword")):
                if entry.get(key) is not None:  # a password left null is kept
                    changes[f"{sp.GROUP}.{name}"] = to_param(entry[key], "str", f"TURNServers {key}")
        return changes

    # -- records: accounts and DTMF ---------------------------------------------------

    def _one(self, message: dict[str, Any], api: RecordApi) -> str:
        record_id = _text(message, api.id_key)
        key = self.key_of(api.kind, record_id)
        if key is None:
            raise ServiceFault(NOT_FOUND, f"Not found. There is no {api.struct} with the supplied {api.id_key}.")
        return key

    def _many(self, message: dict[str, Any], api: RecordApi) -> list[str]:
        wanted = _id_list(message, api.id_key)
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
                {"Name": f.json, "Value": _attribute_text(self.field(api.kind, key, f.param), f.kind)}
                for f in ACCOUNT_ATTRIBUTES
            ]
        return found

    def set_record(self, api: RecordApi, data: dict[str, Any], actor: Actor) -> str:
        """Update the record `Id` names, or create one (with that Id, or a new one)."""
        record_id = data.get("Id", data.get(api.id_key))
        if record_id is not None and (not isinstance(record_id, str) or len(record_id) > 64):
            raise _invalid("Id must be a string of at most 64 characters.")
        key = self.key_of(api.kind, record_id) if record_id else None
        new = key is None
        if new:
            missing = [r for r in api.required if data.get(r) is None and not (r == "UserId" and data.get("Username"))]
            if missing:
                raise ServiceFault(MISSING, f"Missing data. {', '.join(missing)} is required.")
            key = self.device.params.next_instance(self.device.params.model.templates[api.kind.template])
        changes: dict[str, str] = {}
        for f in api.fields:
            if f.json != "Id" and data.get(f.json) is not None:
                changes[api.kind.param(key, f.param)] = to_param(data[f.json], f.kind, f.json)
        if api.kind is sp.ACCOUNTS:
            changes.update(self._account_extras(key, data))
        if new:
            record_id = record_id or self._new_id(api.kind, set(self.ids(api.kind)))
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
                raise _invalid(f"SIPProxies must be a list of at most {sp.PROXY_SLOTS} proxies.")
            for slot in range(sp.PROXY_SLOTS):
                entry = proxies[slot] if slot < len(proxies) else {"Server": "", "Username": "", "Password": ""}
                if slot < len(proxies) and not isinstance(entry.get("Server"), str):
                    raise _invalid("Every SIP proxy needs a Server.")
                for item in ("Server", "Username", "Password"):
                    if entry.get(item) is not None:
                        changes[sp.ACCOUNTS.param(key, f"Proxy.P{slot}.{item}")] = to_param(entry[item], "str", item)
        attributes = _attributes(data.get("Attribute"))
        for f in ACCOUNT_ATTRIBUTES:
            if f.json in attributes:
                changes[sp.ACCOUNTS.param(key, f.param)] = to_param(
                    _attribute_value(attributes[f.json], f), f.kind, f.json
                )
        return changes

    def remove_records(self, api: RecordApi, record_ids: list[str], actor: Actor) -> dict[str, Any]:
        """Unknown ids are ignored (the API's rule); the default account stays."""
        groups = [f"{api.kind.group}.{k}" for k in self.keys(api.kind) if self.field(api.kind, k, "Id") in record_ids]
        if not groups:
            return {}
        try:
            self.device.remove_groups(groups, Role.ADMIN, actor)
        except UpdateError as exc:
            raise ServiceFault(FAILURE, f"Operation failed. {exc}.") from exc
        return {}

    def _apply(self, changes: dict[str, str], actor: Actor, new: tuple[sp.RecordKind, str] | None = None) -> None:
        """Check every change (types, limits, the rules across parameters), then apply all."""
        params = self.device.params
        for name, value in changes.items():
            definition = params.definition(name)
            if definition is None and new is not None:
                kind, key = new
                relative = name[len(kind.group) + len(key) + 2 :]
                template = params.model.templates[kind.template]
                definition = next((d for d in template.params if d.name == relative), None)
            if definition is None or not definition.type.accepts(value):
                raise _invalid(f"{name.removeprefix(sp.GROUP + '.')} cannot be {value!r}.")
        bad = sorted(self._violations(changes, self._keys_with(changes)))
        if bad:
            raise _invalid(
                f"{', '.join(n.removeprefix(sp.GROUP + '.') for n in bad)} breaks a rule of the SIP settings."
            )
        if new is not None:
            kind, key = new
            try:
                added = self.device.add_group(kind.template, kind.group, Role.ADMIN, actor=actor)
            except UpdateError as exc:
                raise ServiceFault(FAILURE, f"Operation failed. {exc}.") from exc
            assert added == key
            id_name = kind.param(key, "Id")
            params.set_values({id_name: changes[id_name]})
        updates = [(n, v) for n, v in changes.items() if params.definition(n).type.writable]  # all but Id
        refused = self.device.update_params(updates, Role.ADMIN, actor)
        if refused:  # checked above: only a bug gets here
            raise ServiceFault(FAILURE, f"Operation failed. {refused[0][0]} was refused.")

    # -- account status, calls, codecs ------------------------------------------------

    def _status(self, key: str) -> dict[str, Any]:
        code, text = self.registration(key)
        registered = self.registered(key)
        return {
            "SIPAccountId": self.field(sp.ACCOUNTS, key, "Id"),
            "SIPURI": self.sip_uri(key),
            "IsDefault": self.field(sp.ACCOUNTS, key, "IsDefault") == "yes",
            "RegURI": (self.field(sp.ACCOUNTS, key, "Registrar") or self.field(sp.ACCOUNTS, key, "PublicDomain"))
            if registered
            else "",
            "Status": code,
            "StatusText": text,
        }

    def _call(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        account = message.get("SIPAccountId")
        if account is not None and not isinstance(account, str):
            raise _invalid("SIPAccountId must be a string.")
        call_id = self.call(_text(message, "To"), account or None)
        self.device.logs.configuration(actor.who, actor.client, f"SIP call {call_id} to {message['To']}")
        return {"CallId": call_id}

    def _terminate(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        self.terminate(_text(message, "CallId"))
        return {}

    def _call_statuses(self, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
        self.tick()
        wanted = _id_list(message, "CallId")
        calls = [c for c in self.calls.values() if wanted is None or c.id in wanted]
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
                raise _invalid(f"{codec.get('Name')!r} at {rate} Hz is not a supported audio codec.")
            names.append(f"{match[0]}/{match[1]}")
        self._apply({f"{sp.GROUP}.AudioCodecs": ",".join(names)}, actor)
        return {}


def _text(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if value is None or value == "":
        raise ServiceFault(MISSING, f"Missing data. {key} is required.")
    if not isinstance(value, str):
        raise _invalid(f"{key} must be a string.")
    return value


def _objects(message: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = message.get(key)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ServiceFault(MISSING, f"Missing data. {key} must list at least one item.")
    return value


def _attribute_text(value: str, kind: str) -> str:
    shown = from_param(value, kind)
    return str(shown).lower() if isinstance(shown, bool) else str(shown)


def _info(fields: tuple[Field, ...]) -> list[dict[str, str]]:
    kinds = {"bool": "bool", "notbool": "bool", "int": "int"}
    defaults = {s.name: s.default for s in (*sp.SETTINGS_LIST, *sp.ACCOUNT_FIELDS)}
    return [
        {"Name": f.json, "Type": kinds.get(f.kind, "string"), "Default": _attribute_text(defaults[f.param], f.kind)}
        for f in fields
    ]


def _codecs(codecs: Any) -> list[dict[str, Any]]:
    return [{"Name": name, "SampleRate": rate} for name, rate in codecs]
