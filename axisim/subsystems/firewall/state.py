"""The firewall's rule sets and its test mode, on times the caller gives (the device clock).

VAPIX "Firewall configuration service": `setRules` with `fallbackTime` 0 replaces the active rules
at once and clears the pending ones; with a fallback time the new rules are active *and* pending
while the test runs ("During a test run, the pendingRules are active"); `confirmRules` keeps them
and ends the test; `clearPendingRules` ends the test and restores the previous rules; a test that
times out restores the previous rules and leaves the tested ones pending (the manual: "they will
appear under Pending rules once the timer runs out, and the firewall will revert to the previously
defined settings"), which `confirmRules` then activates ("Confirm rules: Click to activate the
pending rules"). Pure: no clock, no parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .rules import FirewallError, Rule, policy, read_rules

MAX_FALLBACK_S = 24 * 3600  # GUESS: PositiveNumValue has no maximum; a day bounds the timer


@dataclass(frozen=True, slots=True)
class Ruleset:
    rules: tuple[Rule, ...] = ()
    default: str = "ACCEPT"  # "activeDefaultPolicy ... Default to ACCEPT"

    def to_state(self) -> dict[str, Any]:
        return {"defaultPolicy": self.default, "rules": [rule.to_dict() for rule in self.rules]}

    @classmethod
    def from_state(cls, value: Any) -> Ruleset:
        if not isinstance(value, dict):
            raise ValueError("a rule set must be an object")
        try:
            return cls(read_rules(value.get("rules")), policy(value.get("defaultPolicy")))
        except FirewallError as exc:
            raise ValueError(exc.message) from None


class Firewall:
    """Activated or not, the active rules, the pending ones, and a test's deadline."""

    def __init__(self) -> None:
        self.activated = False
        self.active = Ruleset()
        self.pending: Ruleset | None = None
        self.fallback: Ruleset | None = None  # what an unconfirmed test returns to
        self.deadline: float | None = None  # when the running test ends (device clock seconds)

    @property
    def testing(self) -> bool:
        return self.deadline is not None

    def set_rules(self, new: Ruleset, fallback_time: int, now: float) -> None:
        """FirewallError 103 for a test while the firewall is off ("If you set rules with
        fallbackTime greater than 0 when the firewall is inactive, error 103 is returned")."""
        if fallback_time > 0 and not self.activated:
            raise FirewallError(103, "Invalid request.")
        if fallback_time == 0:
            self.active, self.pending, self.fallback, self.deadline = new, None, None, None
            return
        if not self.testing:  # a new test during a test keeps the rules from before the first
            self.fallback = self.active
        self.active, self.pending, self.deadline = new, new, now + fallback_time

    def expire(self, now: float) -> bool:
        """End a test whose time is up (the previous rules again, the tested ones pending); True if one ended."""
        if self.deadline is None or now < self.deadline:
            return False
        self._roll_back()
        return True

    def _roll_back(self) -> None:
        if self.fallback is not None:
            self.active = self.fallback
        self.fallback, self.deadline = None, None

    def confirm(self) -> None:
        """Keep the tested rules (a test runs) or activate the pending ones (after a timeout)."""
        if self.pending is not None and not self.testing:
            self.active = self.pending
        self.pending, self.fallback, self.deadline = None, None, None

    def clear_pending(self) -> None:
        """The doc's "Clear the set of pending rules and abort any active test" (the previous rules again)."""
        if self.testing:
            self._roll_back()
        self.pending = None

    def set_activated(self, on: bool) -> None:
        """Turning the firewall off ends a test as its timeout would (GUESS: the doc is silent)."""
        if not on and self.testing:
            self._roll_back()
        self.activated = on

    def time_left(self, now: float) -> int:
        return 0 if self.deadline is None else max(0, math.ceil(self.deadline - now))

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    # -- saved state: a restart ends a test, so what is saved is the rules from before it ---------

    def to_state(self) -> dict[str, Any]:
        active = self.fallback if self.testing and self.fallback is not None else self.active
        return {
            "activated": self.activated,
            "active": active.to_state(),
            "pending": None if self.pending is None else self.pending.to_state(),
        }

    def load_state(self, state: Any) -> None:
        """ValueError (nothing changed) when the saved state does not read."""
        if state is None:
            self.reset()
            return
        if not isinstance(state, dict) or not isinstance(state.get("activated"), bool):
            raise ValueError("firewall: not a saved firewall state")
        active = Ruleset.from_state(state.get("active"))
        pending = None if state.get("pending") is None else Ruleset.from_state(state["pending"])
        self.reset()
        self.activated, self.active, self.pending = state["activated"], active, pending
