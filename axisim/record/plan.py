"""What `axisim record` asks a device: reads only, chosen from what its apidiscovery advertises.

A `Call` is one request. `READ_CALLS` is the table, per apidiscovery id, of the methods that only
read (vapix-wire.md §1-§6 and what axisim serves for each API in `cgi_handlers/`), plus
getSupportedVersions for every JSON API. `is_read_only` is the guard: a call whose operation name
does not match a read pattern is never sent (`Call.__post_init__` refuses to make one), so no table
mistake can write to the device. Some calls depend on an earlier reply (a disk's capabilities need
its id from `disks/list.cgi`): a `FollowUp` names the source call and the pattern whose matches fill
its template; the dry run prints it with the placeholder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

READ_PREFIXES = ("get", "Get", "list", "List", "check")
READ_NAMES = frozenset({"status", "systemready", "schemaversions", "getSupportedVersions"})
_IS = re.compile(r"is[A-Z]")  # isSupervisable


def is_read_only(operation: str) -> bool:
    """True for an operation name that only reads: get*, Get*, list*, check*, is<Upper>*, status,
    systemready, schemaversions. Everything else (set*, add, remove, configure*, activate*...) is not."""
    return operation in READ_NAMES or operation.startswith(READ_PREFIXES) or bool(_IS.match(operation))


class NotReadOnly(ValueError):
    """A call whose operation is not a read: the recorder never makes (or sends) one."""


JSON = "application/json"
SOAP = "application/soap+xml; charset=utf-8"
FORM = ""  # a GET with a query string: no body, no Content-Type


@dataclass(frozen=True, slots=True)
class Call:
    """One request: `operation` is the method (JSON), the command (axcall:Get...), the CGI's action
    or the CGI itself (disks/list.cgi -> list), and is what `is_read_only` checks."""

    api: str
    operation: str
    method: str
    path: str
    query: str = ""
    content_type: str = FORM
    body: str = ""

    def __post_init__(self) -> None:
        if not is_read_only(self.operation):
            raise NotReadOnly(f"{self.api}: {self.operation!r} is not a read-only operation; never sent")

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def describe(self) -> str:
        """`POST /axis-cgi/time.cgi getDateTimeInfo` (one line of the dry run and the progress)."""
        shown = self.target if self.method == "GET" else f"{self.target} {self.operation}"
        return f"{self.method} {shown}"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Calls made from an earlier reply: each distinct match of `pattern` (group 1) in the reply
    of the call `after` fills `{0}` in `template`'s query (or JSON body)."""

    after: Call
    pattern: str
    template: Call
    limit: int = 32  # at most this many calls from one reply

    def expand(self, body: bytes) -> list[Call]:
        text = body.decode("utf-8", "replace")
        found = list(dict.fromkeys(m.group(1) for m in re.finditer(self.pattern, text)))[: self.limit]
        return [_fill(self.template, value) for value in found if _safe(value)]

    def describe(self) -> str:
        return f"{self.template.describe()}   (for each match in the reply of {self.after.describe()})"


def _safe(value: str) -> bool:
    """A value taken from a reply goes into a query: plain identifiers only (no &, =, spaces)."""
    return bool(re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value))


def _fill(template: Call, value: str) -> Call:
    return Call(
        template.api, template.operation, template.method, template.path,
        template.query.replace("{0}", value), template.content_type, template.body.replace("{0}", value),
    )  # fmt: skip


# -- builders ----------------------------------------------------------------------------------


def json_call(api: str, path: str, method: str, version: str = "1.0", params: dict[str, object] | None = None) -> Call:
    """An AJR request as clients send it (vapix-wire.md §0.2): no context; getSupportedVersions
    without apiVersion."""
    document: dict[str, object] = {"method": method} if method == "getSupportedVersions" else {
        "apiVersion": version, "method": method,
    }  # fmt: skip
    if params is not None:
        document["params"] = params
    return Call(api, method, "POST", path, "", JSON, json.dumps(document, separators=(",", ":")))


def get_call(api: str, path: str, query: str = "", operation: str | None = None) -> Call:
    """A GET CGI; its operation is the `action=` value, else the CGI's name."""
    if operation is None:
        action = re.search(r"(?:^|&)action=([^&]*)", query)
        operation = action.group(1) if action else path.rsplit("/", 1)[-1].removesuffix(".cgi")
    return Call(api, operation, "GET", path, query)


def service_call(api: str, path: str, command: str) -> Call:
    """A `/vapix/<service>` JSON command (`{"axcall:GetSIPConfiguration": {}}`, vapix-wire.md §6.3)."""
    namespace, _, name = command.partition(":")
    return Call(api, name, "POST", path, "", JSON, json.dumps({f"{namespace}:{name}": {}}, separators=(",", ":")))


EVENT_INSTANCES = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    '<GetEventInstances xmlns="http://www.axis.com/vapix/ws/event1"/></s:Body></s:Envelope>'
)  # vapix-wire.md §5.8, as the axis library sends it

PARAM = "/axis-cgi/param.cgi"
DEFINITIONS = get_call("param-cgi", PARAM, "action=listdefinitions&listformat=xmlschema")
PROPERTIES_LIST = get_call("param-cgi", PARAM, "action=list&group=root.Properties")  # manners: order, newline
PROBE_GROUP = "root.AxisimRecordProbe"  # a group no device has: its reply is the firmware's error line
PROBE_LIST = get_call("param-cgi", PARAM, f"action=list&group={PROBE_GROUP}")
DISCOVERY_PATH = "/axis-cgi/apidiscovery.cgi"
API_LIST = json_call("api-discovery", DISCOVERY_PATH, "getApiList")
EVENTS = Call("events", "GetEventInstances", "POST", "/vapix/services", "", SOAP, EVENT_INSTANCES)
PWDGRP = get_call("user-management", "/axis-cgi/pwdgrp.cgi", "action=get")
USERGROUP = get_call("user-management", "/axis-cgi/usergroup.cgi", operation="get")
BASIC_INFO_PATH = "/axis-cgi/basicdeviceinfo.cgi"
SYSTEMREADY_PATH = "/axis-cgi/systemready.cgi"

# -- the table: apidiscovery id -> (JSON path or None, read methods; other calls) ---------------------


@dataclass(frozen=True, slots=True)
class ApiReads:
    """The reads of one API: JSON methods on `path` (getSupportedVersions added), each asked with the
    advertised apiVersion and with `<major>.0` (the `axis` library asks io-port-management with 1.0
    whatever discovery says; the replay matches the body), other calls, and calls made from replies."""

    path: str | None = None
    methods: tuple[str, ...] = ()
    calls: tuple[Call, ...] = ()
    follow: tuple[FollowUp, ...] = ()
    params: dict[str, dict[str, object]] = field(default_factory=dict)  # method -> its params

    def plan(self, api: str, version: str) -> tuple[list[Call], list[FollowUp]]:
        calls: list[Call] = []
        if self.path is not None:
            base = version.split(".")[0] + ".0"  # what clients ask when they do not use discovery's version
            for method in (*self.methods, "getSupportedVersions"):
                calls.append(json_call(api, self.path, method, version, self.params.get(method)))
                if base != version and method != "getSupportedVersions":
                    calls.append(json_call(api, self.path, method, base, self.params.get(method)))
        calls.extend(self.calls)
        return calls, list(self.follow)


DISKS = "/axis-cgi/disks/"
_DISK_LIST = get_call("disk-management", DISKS + "list.cgi", "diskid=all")
_POE = "/axis-cgi/nvr/poe/"
_POE_STATUSES = get_call("nvr-poe", _POE + "getportstatuses.cgi", "schemaversion=1")
_SHARE = DISKS + "networkshare/"
_DISK_ID = r'diskid="([^"]+)"'
_CAPABILITIES = get_call("disk-management", DISKS + "getcapabilities.cgi", "diskid={0}")
_ALERT_LEVELS = get_call("disk-properties", DISKS + "properties/getdiskalertlevels.cgi", "schemaversion=1&diskid={0}")
_PORT_MODE = get_call("nvr-poe", _POE + "getportmode.cgi", "schemaversion=1&port={0}")
_CALL = "/vapix/call"
SIP_COMMANDS = (
    "GetServiceCapabilities", "GetSIPConfiguration", "GetSupportedSIPConfigurationAttributes",
    "GetSupportedSIPAccountAttributes", "GetSupportedMediaEncryptionModes", "GetSIPAccounts",
    "GetSIPAccountStatuses", "GetDTMFEvents", "GetDTMFTriggers", "GetDTMFConfigurations", "GetCallStatuses",
    "GetSupportedAudioCodecs", "GetDefaultAudioCodecs", "GetAudioCodecs",
)  # fmt: skip
POWER_READS = (
    "getCapabilities", "getDelayedPowerDownMode", "getPowerStatus", "getPowerSavingMode", "getPowerConsumers",
    "getPowerProfiles", "getPowerConfigurations", "getActivePowerConfiguration", "getDynamicPowerMode",
    "getPowerHistory", "getPowerWarningOverlay", "getIoPortPower",
)  # fmt: skip

READ_CALLS: dict[str, ApiReads] = {
    "api-discovery": ApiReads(DISCOVERY_PATH),  # getApiList is the first call of every recording (API_LIST)
    "basic-device-info": ApiReads(BASIC_INFO_PATH, ("getAllProperties", "getAllUnrestrictedProperties")),
    "systemready": ApiReads(SYSTEMREADY_PATH, ("systemready",)),
    "param-cgi": ApiReads(calls=(DEFINITIONS, PROPERTIES_LIST, PROBE_LIST)),
    "user-management": ApiReads(calls=(PWDGRP, USERGROUP)),
    "fwmgr": ApiReads("/axis-cgi/firmwaremanagement.cgi", ("status",)),
    "time-service": ApiReads("/axis-cgi/time.cgi", ("getDateTimeInfo", "getAll")),
    "ntp": ApiReads("/axis-cgi/ntp.cgi", ("getNTPInfo",)),
    "network-settings": ApiReads("/axis-cgi/network_settings.cgi", ("getNetworkInfo",)),
    "raid": ApiReads(DISKS + "raid.cgi", ("getStatus", "getCapabilities")),
    "mqtt-client": ApiReads("/axis-cgi/mqtt/client.cgi", ("getClientStatus",)),
    "event-mqtt-bridge": ApiReads(
        "/axis-cgi/mqtt/event.cgi", ("getEventPublicationConfig", "getMqttSubscriptionConfig")
    ),
    "io-port-management": ApiReads("/axis-cgi/io/portmanagement.cgi", ("getPorts",)),
    "supervised-io": ApiReads(
        "/axis-cgi/supervisedio.cgi",
        ("getNumberOfPorts", "isSupervisable", "getSupervised", "getSupervisedRanges", "getSupportedStates"),
    ),
    "power-settings": ApiReads("/axis-cgi/power-settings.cgi", POWER_READS),
    "disk-management": ApiReads(
        calls=(_DISK_LIST, get_call("disk-management", DISKS + "gethealth.cgi")),
        follow=(FollowUp(_DISK_LIST, _DISK_ID, _CAPABILITIES),),
    ),
    "disk-properties": ApiReads(
        calls=(get_call("disk-properties", DISKS + "properties/schemaversions.cgi"),),
        follow=(FollowUp(_DISK_LIST, _DISK_ID, _ALERT_LEVELS),),
    ),
    "disk-network-share": ApiReads(
        calls=(
            get_call("disk-network-share", _SHARE + "schemaversions.cgi"),
            get_call("disk-network-share", _SHARE + "list.cgi", "schemaversion=1&shareid=all"),
        )
    ),
    "nvr-poe": ApiReads(
        calls=(
            get_call("nvr-poe", _POE + "schemaversions.cgi"),
            _POE_STATUSES,
            get_call("nvr-poe", _POE + "gettotalpowerlimit.cgi", "schemaversion=1"),
            get_call("nvr-poe", _POE + "getkeeppower.cgi", "schemaversion=1"),
        ),
        follow=(FollowUp(_POE_STATUSES, r"<Port>(\d+)</Port>", _PORT_MODE),),
    ),
    "audit-log": ApiReads(
        calls=(
            get_call("audit-log", "/axis-cgi/auditlog.cgi", "version=true", "getVersion"),
            get_call("audit-log", "/axis-cgi/auditlog.cgi", operation="getLog"),
        )
    ),
    "sip": ApiReads(calls=tuple(service_call("sip", _CALL, f"axcall:{c}") for c in SIP_COMMANDS)),
    "speakertest": ApiReads(calls=(service_call("speakertest", "/vapix/axast", "axast:GetSpeakerTestReport"),)),
    # real devices' APIs that axisim does not serve (vapix-wire.md §5.6, §5.9, §5.10)
    "light-control": ApiReads(
        "/axis-cgi/lightcontrol.cgi",
        ("getLightInformation", "getServiceCapabilities", "getLightSynchronizationDayNightMode"),
    ),
    "stream-profiles": ApiReads(
        "/axis-cgi/streamprofile.cgi", ("list",), params={"list": {"streamProfileName": []}}
    ),
    "view-area": ApiReads("/axis-cgi/viewarea/info.cgi", ("list",)),
}
# advertised APIs with nothing to read: each one's reason (README of the fixture)
NO_READS = {
    "mediaclip": "mediaclip.cgi has no read action (the clips are MediaClip parameters, in params.xml)",
    "event-streaming-over-websocket": "opening a WebSocket session is not a read; the events are events.xml",
}
ALWAYS = ("param-cgi", "basic-device-info", "systemready", "user-management")  # first, advertised or not


@dataclass(frozen=True, slots=True)
class Plan:
    calls: list[Call]
    follow: list[FollowUp]
    unknown: list[str]  # advertised ids with no known read (listed in the fixture's README)
    nothing: dict[str, str]  # advertised ids with nothing to read, and why

    def lines(self) -> list[str]:
        return [c.describe() for c in self.calls] + [f.describe() for f in self.follow]


def make_plan(advertised: list[tuple[str, str]]) -> Plan:
    """The calls for a device advertising `advertised` [(id, version)]: the API list first, then
    param.cgi, the event declarations, the accounts and every advertised API's reads; ids in order."""
    versions = dict(advertised)
    calls: list[Call] = [API_LIST] if "api-discovery" in versions else []
    follow: list[FollowUp] = []
    ids = list(dict.fromkeys([*ALWAYS, *(api for api, _ in advertised)]))
    unknown: list[str] = []
    nothing: dict[str, str] = {}
    for api in ids:
        reads = READ_CALLS.get(api)
        if reads is None:
            if api in NO_READS:
                nothing[api] = NO_READS[api]
            else:
                unknown.append(api)
            continue
        more, after = reads.plan(api, _request_version(versions.get(api, "1.0")))
        calls.extend(c for c in more if c not in calls)
        follow.extend(after)
        if api == "param-cgi":
            calls.append(EVENTS)
    if EVENTS not in calls:
        calls.append(EVENTS)
    return Plan(calls, follow, unknown, nothing)


def _request_version(advertised: str) -> str:
    """The apiVersion to ask with: the advertised one when it is `major.minor`, else 1.0."""
    return advertised if re.fullmatch(r"\d{1,3}\.\d{1,3}", advertised) else "1.0"
