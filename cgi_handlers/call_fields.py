"""The Call service's JSON shapes (`axcall:*`, vapix-wire.md §6.3): field tables and value conversion.

Each API structure field maps to a SIP parameter and a kind of value; `to_param` and
`from_param` convert between the API's JSON values and the parameters' text.

Choices where the API is silent (README): passwords are never shown back (null);
accounts are returned with both `UserId` (the API's table) and `Username` (its
recorded responses); settings the manual has and SIPConfiguration lacks are
`Attribute`s (GetSupportedSIPConfigurationAttributes lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axisim.subsystems.sip import params as sp

from .service_faults import INVALID, MISSING, ServiceFault


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


def invalid(what: str) -> ServiceFault:
    return ServiceFault(INVALID, f"Invalid data. {what}")


def to_param(value: Any, kind: str, what: str) -> str:
    """An API value as the parameter stores it; a value of the wrong type is invalid data."""
    if kind in ("bool", "notbool"):
        if not isinstance(value, bool):
            raise invalid(f"{what} must be true or false.")
        return "yes" if value != (kind == "notbool") else "no"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{what} must be an integer.")
        return str(value)
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v and "," not in v for v in value):
            raise invalid(f"{what} must be a list of identifiers.")
        return ",".join(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # the simple format cannot tell "6001" from 6001
    if not isinstance(value, str):
        raise invalid(f"{what} must be a string.")
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


def object_of(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise ServiceFault(MISSING, f"Missing data. {key} is required.")
    return value


def id_list(message: dict[str, Any], key: str) -> list[str] | None:
    """A list of ids (None or empty: all); a single id is taken as a list of one."""
    value = message.get(key)
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{key} must be a list of identifiers.")
    return value


def attribute_map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(a, dict) and isinstance(a.get("Name"), str) for a in value):
        raise invalid("Attribute must be a list of Name and Value pairs.")
    return {a["Name"]: a.get("Value") for a in value}


def attribute_value(text: Any, field: Field) -> Any:
    """Attribute values are strings; the field's own type is checked after."""
    if isinstance(text, bool | int):
        return text
    if not isinstance(text, str):
        raise invalid(f"Attribute {field.json} must have a Value.")
    if field.kind in ("bool", "notbool"):
        if text.lower() not in ("true", "false"):
            raise invalid(f"Attribute {field.json} must be true or false.")
        return text.lower() == "true"
    if field.kind == "int":
        try:
            return int(text)
        except ValueError as exc:
            raise invalid(f"Attribute {field.json} must be an integer.") from exc
    return text


def text_of(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if value is None or value == "":
        raise ServiceFault(MISSING, f"Missing data. {key} is required.")
    if not isinstance(value, str):
        raise invalid(f"{key} must be a string.")
    return value


def objects_of(message: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = message.get(key)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ServiceFault(MISSING, f"Missing data. {key} must list at least one item.")
    return value


def attribute_text(value: str, kind: str) -> str:
    shown = from_param(value, kind)
    return str(shown).lower() if isinstance(shown, bool) else str(shown)


def info(fields: tuple[Field, ...]) -> list[dict[str, str]]:
    kinds = {"bool": "bool", "notbool": "bool", "int": "int"}
    defaults = {s.name: s.default for s in (*sp.SETTINGS_LIST, *sp.ACCOUNT_FIELDS)}
    return [
        {"Name": f.json, "Type": kinds.get(f.kind, "string"), "Default": attribute_text(defaults[f.param], f.kind)}
        for f in fields
    ]


def codec_list(codecs: Any) -> list[dict[str, Any]]:
    return [{"Name": name, "SampleRate": rate} for name, rate in codecs]
