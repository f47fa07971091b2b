"""The SIP subsystem's parameters: settings, accounts and DTMF, as param.cgi shows them.

Real AXIS OS keeps SIP out of param.cgi (vapix-wire.md §6.3: no `root.Sip` group in
any dump); axisim adds a `SIP` group so one state is visible and settable both ways,
through param.cgi and through the call service (`/vapix/call`). Defaults and limits
are the manual's (C1410 Mk II, "SIP" and "Set up direct SIP (P2P)") and the call
service's (CallingTimeout 60 s, at most 600 s). Accounts and the three DTMF record
types are dynamic groups, one per call-service record, each carrying its `Id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from param_tree import ParamDef, ParamType, SecurityLevel, Template

from ..base import PUBLISHED, param_def

GROUP = "SIP"
ACCOUNT = "SIP.Account"
DTMF_EVENT = "SIP.DTMFEvent"
DTMF_TRIGGER = "SIP.DTMFTrigger"
DTMF_CONFIG = "SIP.DTMFConfiguration"
DEFAULT_ACCOUNT_ID = "peer-to-peer"  # call service: "A default account with identifier peer-to-peer"
MAX_RECORDS = 100  # call service: "an upper limit of maximum 100 entities per type"
PROXY_SLOTS = 3

SETTINGS = SecurityLevel.parse("7746")  # operators read, administrators write
SECRET = SecurityLevel.parse("7766")
RECORD = SecurityLevel.parse("6646")  # administrators create and delete records
RECORD_SECRET = SecurityLevel.parse("6666")
STATUS = SecurityLevel.parse("7747")
RECORD_STATUS = SecurityLevel.parse("6647")  # published by the device, goes with its record

BOOL = ParamType("bool")
TEXT = ParamType("string", maxlen=255)
ID = ParamType("string", maxlen=64, flags=frozenset({"readonly"}))
PORT = ParamType("int", min=1024, max=65535)  # manual: "A port number must be between 1024 and 65535"
PASSWORD = ParamType("password", maxlen=255)


def _int(low: int, high: int) -> ParamType:
    return ParamType("int", min=low, max=high)


def _enum(*values: str) -> ParamType:
    return ParamType("enum", entries=tuple((v, None) for v in values))


# Codecs the speaker offers for SIP calls (name, sample rate), default priority first.
SUPPORTED_CODECS = (("opus", 48000), ("G.722", 16000), ("L16", 16000), ("PCMU", 8000), ("PCMA", 8000))
DEFAULT_CODECS = ",".join(f"{name}/{rate}" for name, rate in SUPPORTED_CODECS)
AUDIO_DIRECTIONS = ("sendrecv", "sendonly", "recvonly")
TRANSPORTS = ("udp", "tcp", "tls")
MEDIA_ENCRYPTION = ("None", "SRTPBestEffort", "SRTPMandatory")
TLS_VERSIONS = ("auto", "1.2", "1.3")


@dataclass(frozen=True, slots=True)
class Setting:
    name: str  # parameter under SIP.
    default: str
    type: ParamType
    security: SecurityLevel = SETTINGS


SETTINGS_LIST = (
    Setting("Enabled", "no", BOOL),  # "For security reasons, SIP is disabled by default"
    Setting("AllowIncomingCalls", "no", BOOL),
    Setting("CallingTimeout", "60", _int(1, 600)),  # seconds until an unanswered call ends
    Setting("IncomingCallDuration", "600", _int(1, 600)),  # manual: max 10 min
    Setting("MaxCallDuration", "3600", _int(0, 3600)),  # "End calls after": max 60 min; 0 = infinite
    Setting("Port", "5060", PORT),
    Setting("TLSPort", "5061", PORT),
    Setting("RTPStartPort", "4000", PORT),
    Setting("ICEEnabled", "no", BOOL),
    Setting("STUNEnabled", "no", BOOL),
    Setting("STUNServer", "", TEXT),
    Setting("TURNEnabled", "no", BOOL),
    Setting("TURNServer", "", TEXT),
    Setting("TURNUsername", "", TEXT),
    Setting("TURNPassword", "", PASSWORD, SECRET),
    Setting("AudioCodecs", DEFAULT_CODECS, ParamType("string", maxlen=255)),
    Setting("AudioDirection", "sendrecv", _enum(*AUDIO_DIRECTIONS)),
    Setting("UDPToTCPSwitching", "yes", BOOL),
    Setting("AllowViaRewrite", "no", BOOL),
    Setting("AllowContactRewrite", "no", BOOL),
    Setting("RegisterInterval", "3600", _int(30, 86400)),
    Setting("DTMFPayloadType", "101", _int(96, 127)),  # the dynamic RTP payload types
    Setting("MaxRetransmissions", "5", _int(1, 20)),
    Setting("FailbackSeconds", "300", _int(1, 86400)),
)

ACCOUNT_FIELDS = (
    Setting("Id", "", ID, RECORD),
    Setting("Enabled", "yes", BOOL, RECORD),  # "Active"
    Setting("IsDefault", "no", BOOL, RECORD),
    Setting("AutoAnswer", "yes", BOOL, RECORD),  # the manual's setup unchecks it: on by default
    Setting("PrioritizeIPv6", "no", BOOL, RECORD),
    Setting("Name", "", ParamType("string", maxlen=64), RECORD),
    Setting("UserId", "", TEXT, RECORD),
    Setting("PublicDomain", "", TEXT, RECORD),  # the manual's "Domain"
    Setting("Password", "", PASSWORD, RECORD_SECRET),
    Setting("AuthenticationId", "", TEXT, RECORD),
    Setting("CallerId", "", TEXT, RECORD),
    Setting("Registrar", "", TEXT, RECORD),
    Setting("SecondaryRegistrar", "", TEXT, RECORD),
    Setting("SecondaryPublicDomain", "", TEXT, RECORD),
    Setting("Transport", "udp", _enum(*TRANSPORTS), RECORD),
    Setting("TLSVersion", "auto", _enum(*TLS_VERSIONS), RECORD),
    Setting("MediaEncryption", "None", _enum(*MEDIA_ENCRYPTION), RECORD),
    Setting("VerifyServerCertificate", "no", BOOL, RECORD),
    Setting("SIPSEnabled", "no", BOOL, RECORD),
    Setting("DTMFConfigurationId", "", ParamType("string", maxlen=64), RECORD),
    Setting("Status", "", PUBLISHED, RECORD_STATUS),  # registration status, published
    *(
        Setting(f"Proxy.P{slot}.{item}", "", PASSWORD if item == "Password" else TEXT, RECORD)
        for slot in range(PROXY_SLOTS)
        for item in ("Server", "Username", "Password")
    ),
)
EVENT_FIELDS = (Setting("Id", "", ID, RECORD), Setting("Name", "", ParamType("string", maxlen=64), RECORD))
TRIGGER_FIELDS = (
    Setting("Id", "", ID, RECORD),
    Setting("Sequence", "", ParamType("string", maxlen=64), RECORD),
    Setting("EventId", "", ParamType("string", maxlen=64), RECORD),
)
CONFIG_FIELDS = (
    Setting("Id", "", ID, RECORD),
    Setting("Name", "", ParamType("string", maxlen=64), RECORD),
    Setting("TriggerIds", "", TEXT, RECORD),  # comma-separated DTMFTrigger ids
    Setting("RFC2833", "yes", BOOL, RECORD),  # DTMF in RTP
    Setting("RFC2976", "yes", BOOL, RECORD),  # DTMF as SIP INFO
)


@dataclass(frozen=True, slots=True)
class RecordKind:
    """One call-service record type kept as a dynamic parameter group."""

    template: str
    group: str
    letter: str
    fields: tuple[Setting, ...]
    id_prefix: str  # generated ids: sip_account_0, dtmf_event_0, ...

    def param(self, key: str, field: str) -> str:
        return f"{self.group}.{key}.{field}"


ACCOUNTS = RecordKind("sipaccount", ACCOUNT, "A", ACCOUNT_FIELDS, "sip_account_")
EVENTS = RecordKind("dtmfevent", DTMF_EVENT, "E", EVENT_FIELDS, "dtmf_event_")
TRIGGERS = RecordKind("dtmftrigger", DTMF_TRIGGER, "T", TRIGGER_FIELDS, "dtmf_trigger_")
CONFIGS = RecordKind("dtmfconfiguration", DTMF_CONFIG, "C", CONFIG_FIELDS, "dtmf_configuration_")
RECORD_KINDS = (ACCOUNTS, EVENTS, TRIGGERS, CONFIGS)


def _def(name: str, setting: Setting, value: str | None = None) -> ParamDef:
    return param_def(name, setting.default if value is None else value, setting.type, setting.security)


def definitions(facts: dict[str, Any]) -> list[ParamDef]:
    defaults = {
        "Port": str(facts.get("sip_port", 5060)),
        "TLSPort": str(facts.get("sip_tls_port", 5061)),
        "RTPStartPort": str(facts.get("rtp_start_port", 4000)),
    }
    defs = [_def(f"{GROUP}.{s.name}", s, defaults.get(s.name)) for s in SETTINGS_LIST]
    count = ParamType("int", flags=frozenset({"readonly"}))
    defs += [ParamDef(f"{k.group}.MaxGroups", str(MAX_RECORDS), count, STATUS, "Max groups") for k in RECORD_KINDS]
    # the automatically created peer-to-peer account, the default one
    first = {"Id": DEFAULT_ACCOUNT_ID, "IsDefault": "yes", "Name": "Peer to peer", "UserId": DEFAULT_ACCOUNT_ID}
    defs += [_def(ACCOUNTS.param("A0", s.name), s, first.get(s.name)) for s in ACCOUNT_FIELDS]
    return defs


def templates(facts: dict[str, Any]) -> list[Template]:
    return [
        Template(
            kind.template,
            kind.group,
            kind.letter,
            f"{kind.group}.MaxGroups",
            tuple(_def(s.name, s) for s in kind.fields),
        )
        for kind in RECORD_KINDS
    ]


# -- value rules that one parameter type cannot express -------------------------------

DTMF_CHARACTERS = frozenset("0123456789ABCD#*")  # manual: "0-9, A-D, #, and *"


def valid_sequence(sequence: str) -> bool:
    return 0 < len(sequence) <= 64 and all(c in DTMF_CHARACTERS for c in sequence)


def parse_codecs(value: str) -> list[tuple[str, int]] | None:
    """`opus/48000,PCMU/8000` as (name, rate) pairs; None unless at least one, all supported,
    none twice (manual: "select at least one audio codec")."""
    codecs: list[tuple[str, int]] = []
    for part in value.split(","):
        name, _, rate = part.strip().partition("/")
        match = next((c for c in SUPPORTED_CODECS if c[0].lower() == name.lower() and str(c[1]) == rate), None)
        if match is None or match in codecs:
            return None
        codecs.append(match)
    return codecs or None
