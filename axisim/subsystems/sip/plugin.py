"""The speaker's SIP side: settings, accounts, DTMF and simulated calls (C1410 Mk II manual, "SIP").

State lives in the `SIP` parameters (sip_params.py), so param.cgi, the call service
(`/vapix/call`, call_service.py), factory default and persistence all see one state.
This module keeps the rules across parameters (exactly one default account, which
the call service also names when a call names none; the peer-to-peer account goes
only when another is default; DTMF sequences of 0-9, A-D, # and * only, each once;
media encryption only over TLS), registration status, and the calls themselves,
timed by the device's clock.

The far end of the network is the Python API: `set_remote()` (what a called party
does), `incoming_call()`, `answer()`, `remote_hangup()`, `receive_dtmf()` and
`set_registration()` (what the registrar answers).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer, iso
from param_tree import ParamDef, Template

from ..base import DeviceEvent, EventLog, Subsystem
from ..service_faults import FAILURE, INVALID, NOT_FOUND, ServiceFault
from ..stimuli import stimulus
from . import params as sp
from .call_service import CallService
from .calls import ACTIVE, CALLING, Call, CallLimits, Outcome, RemoteParty

if TYPE_CHECKING:
    from axisim.device import Device
    from axisim.lifecycle import RestartKind

VMS_CALL = "VMS_CALL"
VMS_TIMEOUT = 30.0  # VMSCallConfiguration.Timeout default
KEPT_CALLS = 50  # terminated calls GetCallStatus still answers for
REASON_PHRASES = {
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    500: "Server Internal Error",
    503: "Service Unavailable",
}


class SipSubsystem(CallService, Subsystem):
    name = "sip"

    # -- physical stimuli (the control API's events) --------------------------------------------

    @stimulus("a SIP user agent calls the device", from_=(str, "sip:caller@192.168.0.20"), account=(str, None))
    def physical_incoming_call(self, from_: str, account: str | None) -> dict[str, Any]:
        return {"call_id": self.incoming_call(from_, account)}

    @stimulus("the far end hangs up a call", call_id=str)
    def physical_remote_hangup(self, call_id: str) -> dict[str, Any]:
        self.remote_hangup(call_id)
        return {}

    @stimulus("the far end of an active call sends DTMF", call_id=str, sequence=str, method=(str, "rtp"))
    def physical_dtmf(self, call_id: str, sequence: str, method: str) -> dict[str, Any]:
        return {"event": self.receive_dtmf(call_id, sequence, method)}

    @stimulus("what the registrar answers an account", account=str, code=(int, 200), text=(str, None))
    def physical_registration(self, account: str, code: int, text: str | None) -> dict[str, Any]:
        self.set_registration(account, code, text)
        return {}

    @stimulus(
        "how called parties answer the device's calls", outcome=str, after=(float, 2.0), uri=(str, "*"),
        hangs_up_after=(float, None),
    )  # fmt: skip
    def physical_remote(self, outcome: str, after: float, uri: str, hangs_up_after: float | None) -> dict[str, Any]:
        self.set_remote(outcome, after, uri, hangs_up_after)
        return {}

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        return sp.definitions(facts)

    @classmethod
    def templates(cls, facts: dict[str, Any]) -> list[Template]:
        return sp.templates(facts)

    def __init__(self, device: Device) -> None:
        super().__init__(device)
        self.calls: dict[str, Call] = {}
        self.call_count = 0
        self.remotes: dict[str, RemoteParty] = {}  # by remote URI; "*" for any other
        self.registrations: dict[str, tuple[int, str]] = {}  # account id -> registrar's answer
        self.events: EventLog = EventLog()
        self._timer = DeadlineTimer(device.clock, self.tick)
        device.clock.on_advance.append(self.tick)
        self._normalize(None)

    # -- reading the parameters ------------------------------------------------------

    def setting(self, name: str) -> str:
        return self.device.params.value(f"{sp.GROUP}.{name}")

    def enabled(self) -> bool:
        return self.setting("Enabled") == "yes"

    def keys(self, kind: sp.RecordKind) -> list[str]:
        """Instance keys (A0, A1, ...) of one record kind, in number order."""
        template = self.device.params.model.templates[kind.template]
        return [f"{kind.letter}{n}" for n in sorted(self.device.params.instance_numbers(template))]

    def field(self, kind: sp.RecordKind, key: str, name: str) -> str:
        return self.device.params.value(kind.param(key, name))

    def key_of(self, kind: sp.RecordKind, record_id: str) -> str | None:
        return next((k for k in self.keys(kind) if self.field(kind, k, "Id") == record_id), None)

    def ids(self, kind: sp.RecordKind) -> list[str]:
        return [self.field(kind, k, "Id") for k in self.keys(kind)]

    def default_account(self) -> str | None:
        return next((k for k in self.keys(sp.ACCOUNTS) if self.field(sp.ACCOUNTS, k, "IsDefault") == "yes"), None)

    # -- rules across parameters (param.cgi and the call service) -------------------------

    def refused(self, proposed: dict[str, str]) -> set[str]:
        if not any(name.startswith(f"{sp.GROUP}.") for name in proposed):
            return set()
        return self._violations(proposed, self._keys_with(proposed))

    def _keys_with(self, proposed: dict[str, str]) -> dict[str, list[str]]:
        """Record keys per kind, including groups a pending change creates."""
        found = {kind.group: self.keys(kind) for kind in sp.RECORD_KINDS}
        for name in proposed:
            for kind in sp.RECORD_KINDS:
                if name.startswith(f"{kind.group}.{kind.letter}"):
                    key = name[len(kind.group) + 1 :].split(".", 1)[0]
                    if key not in found[kind.group]:
                        found[kind.group].append(key)
        return found

    def _violations(self, proposed: dict[str, str], keys: dict[str, list[str]]) -> set[str]:
        params = self.device.params

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

    def removal_refused(self, groups: list[str]) -> str | None:
        default = self.default_account()
        if default and f"{sp.ACCOUNT}.{default}" in groups:
            return "The default SIP account cannot be removed; make another account default first"
        return None

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(name.startswith(f"{sp.GROUP}.") for name in applied):
            self._normalize(applied)

    def _normalize(self, applied: dict[str, str] | None) -> None:
        """What the device does after a change: ids for new records, one default account,
        SIPS over TLS, registration status; calls end when SIP is turned off."""
        params = self.device.params
        fixes: dict[str, str] = {}
        for kind in sp.RECORD_KINDS:
            taken = set(self.ids(kind))
            for key in self.keys(kind):
                if not self.field(kind, key, "Id"):
                    fixes[kind.param(key, "Id")] = new_id = self._new_id(kind, taken)
                    taken.add(new_id)
        accounts = self.keys(sp.ACCOUNTS)
        chosen = [k for k in accounts if (applied or {}).get(sp.ACCOUNTS.param(k, "IsDefault")) == "yes"]
        defaults = [k for k in accounts if self.field(sp.ACCOUNTS, k, "IsDefault") == "yes"]
        keep = chosen[-1:] or defaults[:1] or accounts[:1]
        for key in accounts:
            wanted = "yes" if key in keep else "no"
            if self.field(sp.ACCOUNTS, key, "IsDefault") != wanted:
                fixes[sp.ACCOUNTS.param(key, "IsDefault")] = wanted
            if (
                self.field(sp.ACCOUNTS, key, "SIPSEnabled") == "yes"
                and self.field(sp.ACCOUNTS, key, "Transport") != "tls"
            ):
                fixes[sp.ACCOUNTS.param(key, "Transport")] = "tls"  # "SIPS uses the TLS transport mode"
        fixes.update(self._dangling())
        if fixes:
            params.set_values(fixes)
        self.publish()
        gone = {call.account_id for call in self.calls.values()} - set(self.ids(sp.ACCOUNTS)) - {""}
        for call in self.ongoing():
            if (not self.enabled() and call.remote_uri != VMS_CALL) or call.account_id in gone:
                self._end(call, "Terminated")
        if fixes and applied is not None:
            self.device.changed()
        self._arm()

    def _dangling(self) -> dict[str, str]:
        """References to DTMF records that were removed are dropped, not left pointing nowhere."""
        fixes: dict[str, str] = {}
        events, triggers, configs = set(self.ids(sp.EVENTS)), set(self.ids(sp.TRIGGERS)), set(self.ids(sp.CONFIGS))
        for key in self.keys(sp.ACCOUNTS):
            if self.field(sp.ACCOUNTS, key, "DTMFConfigurationId") not in configs | {""}:
                fixes[sp.ACCOUNTS.param(key, "DTMFConfigurationId")] = ""
        for key in self.keys(sp.TRIGGERS):
            if self.field(sp.TRIGGERS, key, "EventId") not in events | {""}:
                fixes[sp.TRIGGERS.param(key, "EventId")] = ""
        for key in self.keys(sp.CONFIGS):
            listed = self.field(sp.CONFIGS, key, "TriggerIds").split(",")
            kept = [t for t in listed if t in triggers]
            if kept != [t for t in listed if t]:
                fixes[sp.CONFIGS.param(key, "TriggerIds")] = ",".join(kept)
        return fixes

    def _new_id(self, kind: sp.RecordKind, taken: set[str]) -> str:
        return next(f"{kind.id_prefix}{n}" for n in range(len(taken) + 1) if f"{kind.id_prefix}{n}" not in taken)

    # -- registration ------------------------------------------------------------------

    def registered(self, key: str) -> bool:
        """Registered accounts have a registrar or public domain; the others are peer-to-peer."""
        return bool(self.field(sp.ACCOUNTS, key, "Registrar") or self.field(sp.ACCOUNTS, key, "PublicDomain"))

    def registration(self, key: str) -> tuple[int, str]:
        """(SIP status code, reason phrase) as GetSIPAccountStatus reports it."""
        if not self.enabled():
            return 0, "SIP disabled"
        if self.field(sp.ACCOUNTS, key, "Enabled") != "yes":
            return 0, "Account disabled"
        if not self.registered(key):
            return 0, "Does not register"
        return self.registrations.get(self.field(sp.ACCOUNTS, key, "Id"), (200, "OK"))

    def set_registration(self, account_id: str, code: int = 200, text: str | None = None) -> None:
        """What the registrar answers this account (200 registers; 401, 403, 404, 408, 503 ...)."""
        if self.key_of(sp.ACCOUNTS, account_id) is None:
            raise KeyError(f"no SIP account {account_id!r}")
        if not 100 <= code <= 699:
            raise ValueError(f"{code} is not a SIP status code")
        self.registrations[account_id] = (code, text or REASON_PHRASES.get(code, "Error"))
        self.device.logs.system_event(f"SIP account {account_id}: registrar answers {code}", source="sip")
        self.publish()
        self.device.changed()

    def publish(self) -> None:
        values = {}
        for key in self.keys(sp.ACCOUNTS):
            code, text = self.registration(key)
            values[sp.ACCOUNTS.param(key, "Status")] = (
                "Registered" if code == 200 else (f"{code} {text}" if code else text)
            )
        self.device.params.set_base(values)  # a status, not a setting: not saved, not reset

    def sip_uri(self, key: str) -> str:
        scheme = "sips" if self.field(sp.ACCOUNTS, key, "SIPSEnabled") == "yes" else "sip"
        if self.registered(key):
            domain = self.field(sp.ACCOUNTS, key, "PublicDomain") or self.field(sp.ACCOUNTS, key, "Registrar")
            return f"{scheme}:{self.field(sp.ACCOUNTS, key, 'UserId')}@{domain}"
        port = self.setting("TLSPort" if scheme == "sips" else "Port")
        return f"{scheme}:{self.device.param('Network.eth0.IPAddress') or '127.0.0.1'}:{port}"

    # -- calls -------------------------------------------------------------------------

    def limits(self, call: Call | None = None) -> CallLimits:
        """The settings that end this call; MaxCallDuration "has no effect on VMS calls"."""
        vms = call is not None and call.remote_uri == VMS_CALL
        timeout = VMS_TIMEOUT if vms else float(self.setting("CallingTimeout"))
        max_active = None if vms else float(self.setting("MaxCallDuration")) or None
        return CallLimits(timeout, max_active, float(self.setting("IncomingCallDuration")))

    def ongoing(self) -> list[Call]:
        return [c for c in self.calls.values() if c.ongoing]

    def set_remote(
        self, outcome: Outcome | str, after: float = 2.0, uri: str = "*", hangs_up_after: float | None = None
    ) -> None:
        """How the party at `uri` (any party: "*") answers the speaker's calls."""
        if after < 0 or (hangs_up_after is not None and hangs_up_after < 0):
            raise ValueError("times cannot be negative")
        self.remotes[uri] = RemoteParty(Outcome(outcome), after, hangs_up_after)
        self.device.changed()

    def call(self, to: str, account_id: str | None = None) -> str:
        """axcall:Call: ring `to` from the account (the default one when none is named)."""
        if to != VMS_CALL and not to.lower().startswith(("sip:", "sips:")):
            raise ServiceFault(INVALID, "The recipient is not a SIP URI or VMS_CALL.")
        key = self._calling_account(account_id)
        if to != VMS_CALL and not self.enabled():
            raise ServiceFault(FAILURE, "Failed to initiate the call. SIP is disabled.")
        if key is not None and self.field(sp.ACCOUNTS, key, "Enabled") != "yes":
            raise ServiceFault(FAILURE, "Failed to initiate the call. The SIP account is not active.")
        if key is not None and self.registered(key) and self.registration(key)[0] != 200:
            raise ServiceFault(FAILURE, "Failed to initiate the call. The SIP account is not registered.")
        if self.ongoing():
            raise ServiceFault(FAILURE, "Failed to initiate the call. A call is already in progress.")
        remote = self.remotes.get(to) or self.remotes.get("*") or RemoteParty()
        if to == VMS_CALL and to not in self.remotes:
            remote = RemoteParty(Outcome.NO_ANSWER)  # a VMS answers by streaming audio: the control API's job
        call = self._new_call("Outgoing", key, to, remote)
        self._event(call, "Initiated")
        self._arm()
        return call.id

    def _calling_account(self, account_id: str | None) -> str | None:
        if account_id:
            key = self.key_of(sp.ACCOUNTS, account_id)
            if key is None:
                raise ServiceFault(NOT_FOUND, "Not found. There is no SIP account with the supplied SIPAccountId.")
            return key
        return self.default_account()

    def _new_call(self, direction: str, key: str | None, remote_uri: str, remote: RemoteParty) -> Call:
        clock = self.device.clock
        self.call_count += 1
        wall = clock.wall()
        tag = hashlib.sha256(f"{self.device.serial}:{self.call_count}:{wall}".encode()).hexdigest()[:22]
        prefix = "Out" if direction == "Outgoing" else "In"
        account_id = self.field(sp.ACCOUNTS, key, "Id") if key else ""
        device_uri = self.sip_uri(key) if key else ""
        codecs = sp.parse_codecs(self.setting("AudioCodecs")) or []
        call = Call(
            id=f"{prefix}-{self.call_count - 1}-{wall:.6f}-{tag}",
            direction=direction,
            account_id=account_id,
            device_uri=device_uri,
            remote_uri=remote_uri,
            started=clock.now(),
            start_wall=wall,
            remote=remote,
            codec=f"{codecs[0][0]}/{codecs[0][1]}" if codecs else "",
        )
        self.calls[call.id] = call
        finished = [c.id for c in self.calls.values() if not c.ongoing]
        for old in finished[: max(0, len(finished) - KEPT_CALLS)]:
            del self.calls[old]
        return call

    def terminate(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or not call.ongoing:
            raise ServiceFault(NOT_FOUND, "Not found. There is no ongoing call with the supplied CallId.")
        self._end(call, "Terminated")

    def call_status(self, call_id: str) -> Call:
        self.tick()
        call = self.calls.get(call_id)
        if call is None:
            raise ServiceFault(NOT_FOUND, "Not found. There is no call with the supplied CallId.")
        return call

    def incoming_call(self, remote_uri: str, account_id: str | None = None) -> str:
        """A SIP user agent calls the speaker; returns the call id (the call may be refused at once)."""
        self.tick()
        key = self._calling_account(account_id)
        call = self._new_call("Incoming", key, remote_uri, RemoteParty(Outcome.NO_ANSWER))
        allowed = self.enabled() and self.setting("AllowIncomingCalls") == "yes"
        if not allowed or key is None or self.field(sp.ACCOUNTS, key, "Enabled") != "yes":
            self._end(call, "Denied")  # Idle -> Terminated: AllowIncomingCalls is off
        elif len(self.ongoing()) > 1:
            self._end(call, "Busy")
        elif self.field(sp.ACCOUNTS, key, "AutoAnswer") == "yes":
            self.answer(call.id)  # Idle -> Active, no ringing (the API's incoming-call events)
        else:
            self._event(call, "Initiated")  # rings until answered, CallingTimeout or the caller gives up
        self._arm()
        return call.id

    def answer(self, call_id: str) -> None:
        """Someone (or a rule) at the speaker answers a ringing incoming call."""
        call = self.call_status(call_id)
        if call.direction != "Incoming" or call.state != CALLING:
            raise ValueError(f"call {call_id} is not ringing")
        call.answer(self.device.clock.now(), "AcceptedByDevice")
        self._event(call, "AcceptedByDevice")
        self._arm()

    def remote_hangup(self, call_id: str) -> None:
        call = self.call_status(call_id)
        if not call.ongoing:
            raise ValueError(f"call {call_id} has ended")
        self._end(call, "Terminated")

    def receive_dtmf(self, call_id: str, sequence: str, method: str = "rtp") -> str | None:
        """DTMF from the far end of an active call ("rtp": RFC 2833, "info": SIP INFO, RFC 2976).
        Returns the DTMFEvent id the sequence triggers (recorded as a tnsaxis:Call/DTMF event)."""
        call = self.call_status(call_id)
        if call.state != ACTIVE:
            raise ValueError(f"call {call_id} is not active")
        if not sp.valid_sequence(sequence):
            raise ValueError("DTMF sequences are made of 0-9, A-D, # and *")
        if method not in ("rtp", "info"):
            raise ValueError("method is 'rtp' (RFC 2833) or 'info' (RFC 2976)")
        call.dtmf.append(sequence)
        key = self.key_of(sp.ACCOUNTS, call.account_id)
        config = self.key_of(sp.CONFIGS, self.field(sp.ACCOUNTS, key, "DTMFConfigurationId")) if key else None
        if config is None or self.field(sp.CONFIGS, config, "RFC2833" if method == "rtp" else "RFC2976") != "yes":
            return None  # no configuration, or the protocol is off: the device does not listen
        for trigger_id in self.field(sp.CONFIGS, config, "TriggerIds").split(","):
            trigger = self.key_of(sp.TRIGGERS, trigger_id) if trigger_id else None
            if trigger and self.field(sp.TRIGGERS, trigger, "Sequence") == sequence:
                event_id = self.field(sp.TRIGGERS, trigger, "EventId")
                event = self.key_of(sp.EVENTS, event_id)
                name = self.field(sp.EVENTS, event, "Name") if event else ""
                data = {"DTMFEventId": event_id, "Name": name, "CallId": call.id}
                self.events.append(DeviceEvent(iso(self.device.clock.wall()), "tnsaxis:Call/DTMF", data))
                self.device.logs.system_event(
                    f"DTMF {sequence} on call {call.id}: event {event_id} ({name})", source="sip"
                )
                return event_id
        return None

    def _end(self, call: Call, reason: str) -> None:
        clock = self.device.clock
        call.end(clock.now(), clock.wall(), reason)
        self._event(call, reason)
        self._arm()

    def _event(self, call: Call, reason: str) -> None:
        stamp = iso(self.device.clock.wall())
        change = {"Reason": reason, "CallId": call.id, "RemoteURI": call.remote_uri, "DeviceURI": call.device_uri}
        self.events.append(DeviceEvent(stamp, "tnsaxis:Call/StateChange", change))
        state = call.state if call.state in (CALLING, ACTIVE) else "Idle"
        self.events.append(DeviceEvent(stamp, "tnsaxis:Call/State", {"CallState": state}))
        self.device.logs.system_event(
            f"SIP call {call.id} {call.direction.lower()} {call.remote_uri}: {reason}", source="sip"
        )

    def tick(self) -> None:
        now = self.device.clock.now()
        offset = self.device.clock.wall() - now
        for call in self.ongoing():
            while call.step(now, offset, self.limits(call)):
                self._event(call, call.reason)
        self._arm()

    def _arm(self) -> None:
        deadlines = [c.next_deadline(self.limits(c)) for c in self.ongoing()]
        self._timer.arm(min((d for d in deadlines if d is not None), default=None))

    # -- restarts and persistence -------------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        for call in self.ongoing():
            self._end(call, "Terminated")

    def booted(self) -> None:
        self._normalize(None)

    def to_state(self) -> Any:
        return {
            "registrations": {k: [code, text] for k, (code, text) in self.registrations.items()},
            "remotes": {
                uri: {"outcome": r.outcome.value, "after": r.after, "hangs_up_after": r.hangs_up_after}
                for uri, r in self.remotes.items()
            },
        }

    def load_state(self, state: Any) -> None:
        if state is None:
            return
        try:
            registrations = {str(k): (int(v[0]), str(v[1])) for k, v in state["registrations"].items()}
            remotes = {
                str(uri): RemoteParty(Outcome(r["outcome"]), float(r["after"]), _optional_float(r["hangs_up_after"]))
                for uri, r in state["remotes"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ValueError(f"sip: {exc!r}") from exc
        self.registrations, self.remotes = registrations, remotes
        self._normalize(None)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
