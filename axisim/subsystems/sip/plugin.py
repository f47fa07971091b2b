"""The speaker's SIP side: settings, accounts, DTMF and simulated calls (C1410 Mk II manual, "SIP").

State lives in the `SIP` parameters (params.py, read through records.py), so param.cgi,
the call service (`/vapix/call`, cgi_handlers/call_service.py), factory default and
persistence all see one state. The plugin keeps the rules across parameters (rules.py:
exactly one default account, which the call service also names when a call names none;
the peer-to-peer account goes only when another is default), registration status, and
owns the call engine (call_engine.py) that times the calls on the device's clock.

The far end of the network is the Python API: `set_remote()` (what a called party
does), `incoming_call()`, `answer()`, `remote_hangup()`, `receive_dtmf()` and
`set_registration()` (what the registrar answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axisim.events import Event, TopicDecl
from param_tree import ParamDef, Template

from ..base import Subsystem
from ..stimuli import stimulus
from . import changes, topics
from . import params as sp
from .call_engine import VMS_CALL, CallEngine
from .calls import Call, Outcome, RemoteParty
from .records import SipRecords
from .rules import dangling, violations

if TYPE_CHECKING:
    from axisim.lifecycle import RestartKind
    from axisim.logs import Actor

    from ..base import DeviceView

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


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """An account's registration as GetSIPAccountStatus reports it."""

    account_id: str
    sip_uri: str
    is_default: bool
    registrar: str  # "" for peer-to-peer
    code: int  # SIP status code, 0 when the account does not register
    text: str


class SipSubsystem(Subsystem):
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

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.records = SipRecords(device)
        self.registrations: dict[str, tuple[int, str]] = {}  # account id -> registrar's answer
        self.engine = CallEngine(device, self.records, self.registration, self.publish)
        self._normalize(None)

    # -- the Python API (the far end of the network) ------------------------------------

    @property
    def calls(self) -> dict[str, Call]:
        return self.engine.calls

    def key_of(self, kind: sp.RecordKind, record_id: str) -> str | None:
        return self.records.key_of(kind, record_id)

    def set_remote(
        self, outcome: Outcome | str, after: float = 2.0, uri: str = "*", hangs_up_after: float | None = None
    ) -> None:
        """How the party at `uri` (any party: "*") answers the speaker's calls."""
        self.engine.set_remote(outcome, after, uri, hangs_up_after)
        self.device.changed()

    def incoming_call(self, remote_uri: str, account_id: str | None = None) -> str:
        return self.engine.incoming_call(remote_uri, account_id)

    def answer(self, call_id: str) -> None:
        self.engine.answer(call_id)

    def call(self, to: str, account_id: str | None = None) -> str:
        """The device calls out (what the call service's Call does); the call's id."""
        return self.engine.call(to, account_id)

    def terminate(self, call_id: str) -> None:
        self.engine.terminate(call_id)

    def call_status(self, call_id: str) -> Call:
        """A call, ongoing or among the latest ended (LookupError when unknown)."""
        return self.engine.call_status(call_id)

    def remote_hangup(self, call_id: str) -> None:
        self.engine.remote_hangup(call_id)

    def receive_dtmf(self, call_id: str, sequence: str, method: str = "rtp") -> str | None:
        return self.engine.receive_dtmf(call_id, sequence, method)

    # -- changes through the call service (all or nothing) -----------------------------

    def apply_changes(
        self, values: dict[str, str], actor: Actor, new: tuple[sp.RecordKind, str] | None = None
    ) -> None:
        changes.apply(self.device, self.records, values, actor, new)

    def remove_records(self, kind: sp.RecordKind, record_ids: list[str], actor: Actor) -> None:
        changes.remove(self.device, self.records, kind, record_ids, actor)

    @contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        with changes.all_or_nothing(self.device):
            yield

    # -- rules across parameters (param.cgi and the call service) -------------------------

    def refused(self, proposed: dict[str, str]) -> set[str]:
        if not any(name.startswith(f"{sp.GROUP}.") for name in proposed):
            return set()
        return violations(self.device.params, proposed, self.records.keys_with(proposed))

    def removal_refused(self, groups: list[str]) -> str | None:
        default = self.records.default_account()
        if default and f"{sp.ACCOUNT}.{default}" in groups:
            return "The default SIP account cannot be removed; make another account default first"
        return None

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(name.startswith(f"{sp.GROUP}.") for name in applied):
            self._normalize(applied)

    def _normalize(self, applied: dict[str, str] | None) -> None:
        """What the device does after a change: ids for new records, one default account,
        SIPS over TLS, registration status; calls end when SIP is turned off."""
        records = self.records
        fixes: dict[str, str] = {}
        for kind in sp.RECORD_KINDS:
            taken = set(records.ids(kind))
            for key in records.keys(kind):
                if not records.field(kind, key, "Id"):
                    fixes[kind.param(key, "Id")] = new_id = records.new_id(kind, taken)
                    taken.add(new_id)
        accounts = records.keys(sp.ACCOUNTS)
        chosen = [k for k in accounts if (applied or {}).get(sp.ACCOUNTS.param(k, "IsDefault")) == "yes"]
        defaults = [k for k in accounts if records.field(sp.ACCOUNTS, k, "IsDefault") == "yes"]
        keep = chosen[-1:] or defaults[:1] or accounts[:1]
        for key in accounts:
            wanted = "yes" if key in keep else "no"
            if records.field(sp.ACCOUNTS, key, "IsDefault") != wanted:
                fixes[sp.ACCOUNTS.param(key, "IsDefault")] = wanted
            if (
                records.field(sp.ACCOUNTS, key, "SIPSEnabled") == "yes"
                and records.field(sp.ACCOUNTS, key, "Transport") != "tls"
            ):
                fixes[sp.ACCOUNTS.param(key, "Transport")] = "tls"  # "SIPS uses the TLS transport mode"
        fixes.update(dangling(records))
        if fixes:
            self.device.params.set_values(fixes)
        self._publish_status()
        gone = {call.account_id for call in self.calls.values()} - set(records.ids(sp.ACCOUNTS)) - {""}
        enabled = records.enabled()
        self.engine.end_all(keep=lambda c: (enabled or c.remote_uri == VMS_CALL) and c.account_id not in gone)
        if fixes and applied is not None:
            self.device.changed()
        self.engine.arm()

    # -- registration ------------------------------------------------------------------

    def registration(self, key: str) -> tuple[int, str]:
        """(SIP status code, reason phrase) as GetSIPAccountStatus reports it."""
        records = self.records
        if not records.enabled():
            return 0, "SIP disabled"
        if records.field(sp.ACCOUNTS, key, "Enabled") != "yes":
            return 0, "Account disabled"
        if not records.registered(key):
            return 0, "Does not register"
        return self.registrations.get(records.field(sp.ACCOUNTS, key, "Id"), (200, "OK"))

    def account_status(self, key: str) -> AccountStatus:
        code, text = self.registration(key)
        records = self.records
        return AccountStatus(
            records.field(sp.ACCOUNTS, key, "Id"),
            records.sip_uri(key),
            records.field(sp.ACCOUNTS, key, "IsDefault") == "yes",
            records.registrar(key),
            code,
            text,
        )

    def set_registration(self, account_id: str, code: int = 200, text: str | None = None) -> None:
        """What the registrar answers this account (200 registers; 401, 403, 404, 408, 503 ...)."""
        if self.records.key_of(sp.ACCOUNTS, account_id) is None:
            raise KeyError(f"no SIP account {account_id!r}")
        if not 100 <= code <= 699:
            raise ValueError(f"{code} is not a SIP status code")
        self.registrations[account_id] = (code, text or REASON_PHRASES.get(code, "Error"))
        self.device.logs.system_event(f"SIP account {account_id}: registrar answers {code}", source="sip")
        self._publish_status()
        self.device.changed()

    def _publish_status(self) -> None:
        """Each account's registration status in its `Status` parameter."""
        values = {}
        for key in self.records.keys(sp.ACCOUNTS):
            code, text = self.registration(key)
            values[sp.ACCOUNTS.param(key, "Status")] = (
                "Registered" if code == 200 else (f"{code} {text}" if code else text)
            )
        self.device.params.set_base(values)  # a status, not a setting: not saved, not reset

    # -- events ---------------------------------------------------------------------------

    def topics(self) -> list[TopicDecl]:
        """Call/* while SIP is on (events.md §1.5), or while the call service has calls to report
        (a VMS call works with SIP off)."""
        if not (self.records.enabled() or self.calls):
            return []
        return [topics.CALL_STATE, topics.CALL_STATE_CHANGE, topics.call_dtmf(self.records.dtmf_event_names())]

    def states(self) -> list[Event]:
        if not self.topics():
            return []
        source = {"Source": topics.CALL_SOURCE}
        return [self.state_of(topics.CALL_STATE, source, {"CallState": self.engine.state})]

    # -- restarts and persistence -------------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        self.engine.end_all()

    def booted(self) -> None:
        self._normalize(None)

    def to_state(self) -> Any:
        return {
            "registrations": {k: [code, text] for k, (code, text) in self.registrations.items()},
            "remotes": {
                uri: {"outcome": r.outcome.value, "after": r.after, "hangs_up_after": r.hangs_up_after}
                for uri, r in self.engine.remotes.items()
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
        self.registrations, self.engine.remotes = registrations, remotes
        self._normalize(None)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
