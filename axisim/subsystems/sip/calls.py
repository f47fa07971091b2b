"""Simulated SIP calls: the state machine of the call service's CallStatus.

There is no SIP stack: a call's far end is a `RemoteParty` behaviour (answer, reject,
never answer, fail, after a delay) set through the Python API, and time is the
device's SimClock. States and reasons are the call service's (vapix-wire.md §6.3):
Calling -> Active (AcceptedByRemote / AcceptedByDevice) -> Terminated (Terminated),
or Calling -> Terminated (NoAnswer, Busy, Failed), or an incoming call refused at
once (Denied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

CALLING, ACTIVE, TERMINATED = "Calling", "Active", "Terminated"


class Outcome(Enum):
    """What the far end of an outgoing call does."""

    ANSWER = "answer"
    REJECT = "reject"  # ends Busy (486 Busy Here / 603 Decline)
    NO_ANSWER = "no_answer"  # rings until CallingTimeout: NoAnswer
    FAIL = "fail"  # unreachable: Failed


@dataclass(frozen=True, slots=True)
class RemoteParty:
    outcome: Outcome = Outcome.ANSWER
    after: float = 2.0  # seconds of ringing before it answers or rejects
    hangs_up_after: float | None = None  # seconds of conversation, None: stays on the line


@dataclass(frozen=True, slots=True)
class CallLimits:
    """The SIP settings that end calls by themselves (seconds)."""

    calling_timeout: float  # an unanswered call ends NoAnswer
    max_active: float | None  # "End calls after"; None: infinite
    max_incoming: float  # "Incoming call duration"


@dataclass(slots=True)
class Call:
    id: str
    direction: str  # Outgoing | Incoming
    account_id: str
    device_uri: str
    remote_uri: str
    started: float  # SimClock seconds
    start_wall: float
    remote: RemoteParty = field(default_factory=RemoteParty)
    state: str = CALLING
    reason: str = "Initiated"
    answered: float | None = None
    stopped: float | None = None
    stop_wall: float | None = None
    codec: str = ""
    dtmf: list[str] = field(default_factory=list)  # digits received, in order

    @property
    def ongoing(self) -> bool:
        return self.state != TERMINATED

    def answer(self, now: float, reason: str) -> None:
        self.state, self.reason, self.answered = ACTIVE, reason, now

    def end(self, now: float, wall: float, reason: str) -> None:
        self.state, self.reason, self.stopped, self.stop_wall = TERMINATED, reason, now, wall

    def _transitions(self, limits: CallLimits) -> list[tuple[float, str, str]]:
        """(time, new state, reason) of every transition this call would make by itself."""
        found: list[tuple[float, str, str]] = []
        if not self.ongoing:
            return found
        if self.direction == "Incoming":
            reason = "NoAnswer" if self.state == CALLING else "Terminated"
            found.append((self.started + limits.max_incoming, TERMINATED, reason))
        if self.state == CALLING:
            found.append((self.started + limits.calling_timeout, TERMINATED, "NoAnswer"))
            remote = self.remote
            if self.direction == "Outgoing" and remote.outcome is not Outcome.NO_ANSWER:
                reached = {Outcome.ANSWER: (ACTIVE, "AcceptedByRemote"), Outcome.REJECT: (TERMINATED, "Busy")}
                state, reason = reached.get(remote.outcome, (TERMINATED, "Failed"))
                found.append((self.started + remote.after, state, reason))
            return found
        assert self.answered is not None
        if limits.max_active:
            found.append((self.answered + limits.max_active, TERMINATED, "Terminated"))
        if self.remote.hangs_up_after is not None:
            found.append((self.answered + self.remote.hangs_up_after, TERMINATED, "Terminated"))
        return found

    def next_deadline(self, limits: CallLimits) -> float | None:
        """When this call changes state by itself, if nothing else happens first."""
        found = self._transitions(limits)
        return min(found)[0] if found else None

    def step(self, now: float, wall_offset: float, limits: CallLimits) -> bool:
        """Apply the earliest transition due by `now`, at the time it was due; True if one was."""
        found = self._transitions(limits)
        if not found or min(found)[0] > now:
            return False
        at, state, reason = min(found)
        if state == ACTIVE:
            self.answer(at, reason)
        else:
            self.end(at, at + wall_offset, reason)
        return True
