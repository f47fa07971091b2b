"""The speaker's calls: the call table, how far ends answer, the timing of every call.

There is no SIP stack: a call's far end is a `RemoteParty` behaviour set through the
Python API, and time is the device's SimClock (calls.py holds one call's state
machine). The engine refuses what the call service refuses (`ServiceRefused`, no wire
codes) and publishes each transition on the device bus: a `tnsaxis:Call/StateChange`
pulse, `tnsaxis:Call/State` when the device's call state changes, `tnsaxis:Call/DTMF`
when a configured sequence arrives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from axisim.clock import DeadlineTimer
from axisim.events import TopicDecl

from ..service_faults import RefusalKind, ServiceRefused
from . import params as sp
from . import topics
from .calls import ACTIVE, CALLING, Call, CallLimits, Outcome, RemoteParty

if TYPE_CHECKING:
    from ..base import DeviceView
    from .records import SipRecords

VMS_CALL = "VMS_CALL"
VMS_TIMEOUT = 30.0  # VMSCallConfiguration.Timeout default
KEPT_CALLS = 50  # terminated calls GetCallStatus still answers for

Publish = Callable[[TopicDecl, dict[str, object], dict[str, object]], None]


class CallEngine:
    def __init__(
        self, device: DeviceView, records: SipRecords, registration: Callable[[str], tuple[int, str]], publish: Publish
    ) -> None:
        self._device = device
        self._records = records
        self._registration = registration
        self._publish = publish
        self.calls: dict[str, Call] = {}
        self.count = 0
        self.remotes: dict[str, RemoteParty] = {}  # by remote URI; "*" for any other
        self.state = topics.IDLE  # the device's call state, as tnsaxis:Call/State tells it
        self._timer = DeadlineTimer(device.clock, self.tick)
        device.clock.on_advance.append(self.tick)

    # -- settings that time calls -----------------------------------------------------------

    def limits(self, call: Call | None = None) -> CallLimits:
        """The settings that end this call; MaxCallDuration "has no effect on VMS calls"."""
        setting = self._records.setting
        vms = call is not None and call.remote_uri == VMS_CALL
        timeout = VMS_TIMEOUT if vms else float(setting("CallingTimeout"))
        max_active = None if vms else float(setting("MaxCallDuration")) or None
        return CallLimits(timeout, max_active, float(setting("IncomingCallDuration")))

    def ongoing(self) -> list[Call]:
        return [c for c in self.calls.values() if c.ongoing]

    def set_remote(
        self, outcome: Outcome | str, after: float = 2.0, uri: str = "*", hangs_up_after: float | None = None
    ) -> None:
        """How the party at `uri` (any party: "*") answers the speaker's calls."""
        if after < 0 or (hangs_up_after is not None and hangs_up_after < 0):
            raise ValueError("times cannot be negative")
        self.remotes[uri] = RemoteParty(Outcome(outcome), after, hangs_up_after)

    # -- the call service's side ------------------------------------------------------------

    def call(self, to: str, account_id: str | None = None) -> str:
        """Ring `to` from the account (the default one when none is named); the call's id."""
        records = self._records
        if to != VMS_CALL and not to.lower().startswith(("sip:", "sips:")):
            raise ServiceRefused(RefusalKind.INVALID, "The recipient is not a SIP URI or VMS_CALL.")
        key = self.calling_account(account_id)
        failed = "Failed to initiate the call."
        if to != VMS_CALL and not records.enabled():
            raise ServiceRefused(RefusalKind.FAILED, f"{failed} SIP is disabled.")
        if key is not None and records.field(sp.ACCOUNTS, key, "Enabled") != "yes":
            raise ServiceRefused(RefusalKind.FAILED, f"{failed} The SIP account is not active.")
        if key is not None and records.registered(key) and self._registration(key)[0] != 200:
            raise ServiceRefused(RefusalKind.FAILED, f"{failed} The SIP account is not registered.")
        if self.ongoing():
            raise ServiceRefused(RefusalKind.FAILED, f"{failed} A call is already in progress.")
        remote = self.remotes.get(to) or self.remotes.get("*") or RemoteParty()
        if to == VMS_CALL and to not in self.remotes:
            remote = RemoteParty(Outcome.NO_ANSWER)  # a VMS answers by streaming audio: the control API's job
        call = self._new_call("Outgoing", key, to, remote)
        self._changed(call, "Initiated")
        self.arm()
        return call.id

    def calling_account(self, account_id: str | None) -> str | None:
        """The account key a call uses: the one named, or the default."""
        if account_id:
            key = self._records.key_of(sp.ACCOUNTS, account_id)
            if key is None:
                raise ServiceRefused(
                    RefusalKind.NOT_FOUND, "Not found. There is no SIP account with the supplied SIPAccountId."
                )
            return key
        return self._records.default_account()

    def terminate(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or not call.ongoing:
            raise ServiceRefused(RefusalKind.NOT_FOUND, "Not found. There is no ongoing call with the supplied CallId.")
        self.end(call, "Terminated")

    def call_status(self, call_id: str) -> Call:
        self.tick()
        call = self.calls.get(call_id)
        if call is None:
            raise ServiceRefused(RefusalKind.NOT_FOUND, "Not found. There is no call with the supplied CallId.")
        return call

    # -- the far end's side -----------------------------------------------------------------

    def incoming_call(self, remote_uri: str, account_id: str | None = None) -> str:
        """A SIP user agent calls the speaker; returns the call id (the call may be refused at once)."""
        self.tick()
        records = self._records
        key = self.calling_account(account_id)
        call = self._new_call("Incoming", key, remote_uri, RemoteParty(Outcome.NO_ANSWER))
        allowed = records.enabled() and records.setting("AllowIncomingCalls") == "yes"
        if not allowed or key is None or records.field(sp.ACCOUNTS, key, "Enabled") != "yes":
            self.end(call, "Denied")  # Idle -> Terminated: AllowIncomingCalls is off
        elif len(self.ongoing()) > 1:
            self.end(call, "Busy")
        elif records.field(sp.ACCOUNTS, key, "AutoAnswer") == "yes":
            self.answer(call.id)  # Idle -> Active, no ringing (the API's incoming-call events)
        else:
            self._changed(call, "Initiated")  # rings until answered, CallingTimeout or the caller gives up
        self.arm()
        return call.id

    def answer(self, call_id: str) -> None:
        """Someone (or a rule) at the speaker answers a ringing incoming call."""
        call = self.call_status(call_id)
        if call.direction != "Incoming" or call.state != CALLING:
            raise ValueError(f"call {call_id} is not ringing")
        call.answer(self._device.clock.now(), "AcceptedByDevice")
        self._changed(call, "AcceptedByDevice")
        self.arm()

    def remote_hangup(self, call_id: str) -> None:
        call = self.call_status(call_id)
        if not call.ongoing:
            raise ValueError(f"call {call_id} has ended")
        self.end(call, "Terminated")

    def receive_dtmf(self, call_id: str, sequence: str, method: str = "rtp") -> str | None:
        """DTMF from the far end of an active call ("rtp": RFC 2833, "info": SIP INFO, RFC 2976).
        Returns the DTMFEvent id the sequence triggers (published as a tnsaxis:Call/DTMF event)."""
        call = self.call_status(call_id)
        if call.state != ACTIVE:
            raise ValueError(f"call {call_id} is not active")
        if not sp.valid_sequence(sequence):
            raise ValueError("DTMF sequences are made of 0-9, A-D, # and *")
        if method not in ("rtp", "info"):
            raise ValueError("method is 'rtp' (RFC 2833) or 'info' (RFC 2976)")
        call.dtmf.append(sequence)
        records = self._records
        key = records.key_of(sp.ACCOUNTS, call.account_id)
        config = records.key_of(sp.CONFIGS, records.field(sp.ACCOUNTS, key, "DTMFConfigurationId")) if key else None
        if config is None or records.field(sp.CONFIGS, config, "RFC2833" if method == "rtp" else "RFC2976") != "yes":
            return None  # no configuration, or the protocol is off: the device does not listen
        for trigger_id in records.field(sp.CONFIGS, config, "TriggerIds").split(","):
            trigger = records.key_of(sp.TRIGGERS, trigger_id) if trigger_id else None
            if trigger and records.field(sp.TRIGGERS, trigger, "Sequence") == sequence:
                event_id = records.field(sp.TRIGGERS, trigger, "EventId")
                event = records.key_of(sp.EVENTS, event_id)
                name = records.field(sp.EVENTS, event, "Name") if event else ""
                self._publish(topics.CALL_DTMF, {"DTMFEventId": event_id}, {"CallId": call.id})
                self._device.logs.system_event(
                    f"DTMF {sequence} on call {call.id}: event {event_id} ({name})", source="sip"
                )
                return event_id
        return None

    # -- transitions ----------------------------------------------------------------------

    def _new_call(self, direction: str, key: str | None, remote_uri: str, remote: RemoteParty) -> Call:
        clock, records = self._device.clock, self._records
        self.count += 1
        wall = clock.wall()
        tag = hashlib.sha256(f"{self._device.serial}:{self.count}:{wall}".encode()).hexdigest()[:22]
        prefix = "Out" if direction == "Outgoing" else "In"
        codecs = sp.parse_codecs(records.setting("AudioCodecs")) or []
        call = Call(
            id=f"{prefix}-{self.count - 1}-{wall:.6f}-{tag}",
            direction=direction,
            account_id=records.field(sp.ACCOUNTS, key, "Id") if key else "",
            device_uri=records.sip_uri(key) if key else "",
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

    def end(self, call: Call, reason: str) -> None:
        clock = self._device.clock
        call.end(clock.now(), clock.wall(), reason)
        self._changed(call, reason)
        self.arm()

    def end_all(self, keep: Callable[[Call], bool] = lambda call: False) -> None:
        """End every ongoing call but those `keep` spares (SIP turned off, a restart)."""
        for call in self.ongoing():
            if not keep(call):
                self.end(call, "Terminated")

    def _changed(self, call: Call, reason: str) -> None:
        source = {"Source": topics.CALL_SOURCE}
        change = {"Reason": reason, "CallId": call.id, "RemoteURI": call.remote_uri, "DeviceURI": call.device_uri}
        self._publish(topics.CALL_STATE_CHANGE, source, dict(change))
        state = self.device_state()
        if state != self.state:
            self.state = state
            self._publish(topics.CALL_STATE, source, {"CallState": state})
        self._device.logs.system_event(
            f"SIP call {call.id} {call.direction.lower()} {call.remote_uri}: {reason}", source="sip"
        )

    def device_state(self) -> str:
        """Active while a call is connected, Ringing while an incoming call rings, Calling while
        the device calls out, else Idle."""
        ongoing = self.ongoing()
        if any(c.state == ACTIVE for c in ongoing):
            return topics.ACTIVE
        if any(c.direction == "Incoming" for c in ongoing):
            return topics.RINGING
        return topics.CALLING if ongoing else topics.IDLE

    def tick(self) -> None:
        now = self._device.clock.now()
        offset = self._device.clock.wall() - now
        for call in self.ongoing():
            while call.step(now, offset, self.limits(call)):
                self._changed(call, call.reason)
        self.arm()

    def arm(self) -> None:
        deadlines = [c.next_deadline(self.limits(c)) for c in self.ongoing()]
        self._timer.arm(min((d for d in deadlines if d is not None), default=None))
