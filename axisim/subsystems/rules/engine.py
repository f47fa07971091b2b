"""The rule engine: watches the device's events and runs each enabled rule's action (events.md §4.4).

- A rule with a start event activates when an event matching it arrives and every condition holds
  (a condition holds when the current state of a property instance of its topic passes its filter).
- An active rule stays active while its conditions hold; with no condition and a property start
  event (the W401's "use this condition as a trigger" on an input), while the start event's state
  holds. A pulse start event with no condition runs its (fixed) action and is done.
- A rule without a start event is active whenever all its conditions hold.
- Unlimited actions run while the rule is active and stop when it is not; fixed actions run once
  per activation, for their duration. `ActivationTimeout` is the least time between activations.

Cost: the engine subscribes to the bus only while an enabled rule exists, with the topics of those
rules as its filter; a device without rules pays nothing per event (no subscription) and nothing
per clock advance (the clock listener is added with the first timed action).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from axisim.clock import DeadlineTimer

from ...events import Event, Item, Subscription, TopicDecl, topic_matches
from ...logs import Severity
from .actions import ActionError, Actions, Running
from .content import Matcher
from .definitions import Configuration, Rule
from .store import Store

if TYPE_CHECKING:
    from ..base import DeviceView

SOURCE = "actiond"  # [GUESS] the log source of the device's action engine
ACTION_FAILED = TopicDecl(
    "tns1:Device/tnsaxis:SystemMessage/ActionFailed", False, data=(Item("description", "xsd:string"),),
    nice="Action failed",
)  # fmt: skip
# What the control API's event log shows of each action a rule ran: axisim's own namespace,
# never declared to clients (GetEventInstances) [axisim].
ACTION_RUN = TopicDecl(
    "axisim:Rules/ActionRun", False, source=(Item("rule", "xsd:int"),),
    data=(Item("name", "xsd:string"), Item("action", "xsd:string"), Item("result", "xsd:string")),
)  # fmt: skip


HISTORY = 50  # the runs kept per rule for the control API


@dataclass(frozen=True, slots=True)
class Run:
    """One action a rule ran (or that failed): what the control API lists per rule."""

    time: float  # device wall clock
    action: str  # the action configuration's template token
    result: str  # what it did, or why it failed
    ok: bool


@dataclass(slots=True)
class Active:
    stop: Callable[[], None] | None  # an unlimited action's end
    start_stateful: bool
    action: str


@dataclass(frozen=True, slots=True)
class Watched:
    rule: Rule
    start: Matcher | None
    conditions: tuple[Matcher, ...]

    def concerns(self, topic: str) -> bool:
        return (self.start is not None and self.start.topic(topic)) or any(c.topic(topic) for c in self.conditions)


class Engine:
    def __init__(self, device: DeviceView, store: Store, actions: Actions) -> None:
        self.device = device
        self.store = store
        self.actions = actions
        self.watched: list[Watched] = []
        self.active: dict[int, Active] = {}
        self.last: dict[int, float] = {}  # rule id -> its last activation (device clock)
        self.pending: list[tuple[float, Callable[[], None]]] = []  # fixed actions' ends
        self.runs = 0  # actions run since start (the control API and tests read it)
        self.history: dict[int, deque[Run]] = {}  # rule id -> its latest runs, newest last
        self._subscription: Subscription | None = None
        self._timer: DeadlineTimer | None = None
        self._topics: tuple[str, ...] = ()  # what the enabled rules watch
        self._known: dict[tuple[str, tuple[tuple[str, str], ...]], Event] = {}  # watched property states

    # -- which rules watch what -------------------------------------------------------------------

    def refresh(self, everything: bool = False) -> None:
        """Follow the store: watch the enabled rules' topics; stop what a removed or disabled rule ran;
        activate new condition-only rules whose conditions hold now (`everything`: every such rule,
        after a boot or a load)."""
        enabled = [r for r in self.store.rules.values() if r.enabled]
        known = {w.rule.id: w for w in self.watched}
        self.watched = [
            known[r.id] if r.id in known and known[r.id].rule is r
            else Watched(r, Matcher.of(r.start) if r.start else None, tuple(Matcher.of(c) for c in r.conditions))
            for r in enabled
        ]  # fmt: skip
        ids = {r.id for r in enabled}
        for number in [n for n in self.active if n not in ids]:
            self._deactivate(number)
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        self._topics = tuple(sorted({m.spec.topic for w in self.watched for m in (w.start, *w.conditions) if m}))
        self._known = {}
        if self._topics:
            self._subscription = self.device.bus.subscribe(self.on_event, self._topics)
            self._known = {_instance(e): e for e in self.device.event_states() if self.watches(e.topic)}
        for watched in self.watched:
            if watched.start is None and (everything or known.get(watched.rule.id) is not watched):
                self._evaluate(watched, None)

    def watches(self, topic: str) -> bool:
        """An enabled rule's start event or condition selects this topic."""
        return any(topic_matches(pattern, topic) for pattern in self._topics)

    def reset(self) -> None:
        """The device goes down: nothing runs any more (its subsystems reset what the actions did)."""
        self.active.clear()
        self.last.clear()
        self.pending.clear()
        if self._timer is not None:
            self._timer.arm(None)

    # -- events -----------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if event.stateful:
            self._known[_instance(event)] = event
        for watched in [w for w in self.watched if w.concerns(event.topic)]:
            self._evaluate(watched, event)

    def _holds(self, matcher: Matcher) -> bool:
        """A property instance of the matcher's topic is in a state that passes its filter (the states
        of the watched topics are followed from the bus, taken whole from the device on a refresh)."""
        return any(matcher.matches(state) for state in self._known.values())

    def _evaluate(self, watched: Watched, event: Event | None) -> None:
        rule, active = watched.rule, self.active.get(watched.rule.id)
        conditions = all(self._holds(c) for c in watched.conditions)
        if active is None:
            if watched.start is None:
                if conditions:
                    self._activate(rule, False)
            elif event is not None and watched.start.matches(event) and conditions:
                # a property start event with a filter holds the rule while it passes; without one it is a trigger
                self._activate(rule, event.stateful and watched.start.expr is not None)
            return
        if watched.conditions:
            keep = conditions
        else:
            keep = watched.start is not None and active.start_stateful and self._holds(watched.start)
        if not keep:
            self._deactivate(rule.id)

    # -- running actions --------------------------------------------------------------------------

    def _activate(self, rule: Rule, start_stateful: bool) -> None:
        now = self.device.clock.now()
        last = self.last.get(rule.id)
        if rule.activation_timeout and last is not None and now - last < rule.activation_timeout:
            return
        self.last[rule.id] = now
        config = self.store.actions.get(rule.primary)
        if config is None:
            return
        running: Running | None = None
        try:
            running = self.actions.start(config, rule.name, lambda reason: self.failed(rule, config, reason))
        except ActionError as exc:
            self.failed(rule, config, str(exc))
        else:
            self.ran(rule, config, running.what)
        stop = running.stop if running is not None and running.seconds is None else None
        if running is not None and running.seconds and running.stop is not None:
            self._later(now + running.seconds, running.stop)
        if watched_keeps(rule, start_stateful):
            self.active[rule.id] = Active(stop, start_stateful, config.token)
        elif stop is not None:
            stop()

    def _deactivate(self, number: int) -> None:
        active = self.active.pop(number, None)
        if active is not None and active.stop is not None:
            try:
                active.stop()
            except Exception as exc:  # the subsystem changed under the action (a port reconfigured)
                rule = self.store.rules.get(number)
                self._log(f"Action rule '{rule.name if rule else number}': could not stop {active.action}: {exc}")

    def _record(self, rule: Rule, config: Configuration, result: str, ok: bool) -> None:
        runs = self.history.setdefault(rule.id, deque(maxlen=HISTORY))
        runs.append(Run(self.device.clock.wall(), config.token, result, ok))

    def ran(self, rule: Rule, config: Configuration, what: str) -> None:
        self.runs += 1
        self._record(rule, config, what, True)
        self._log(f"Action rule '{rule.name}' ({rule.id}): {what}")
        self.device.bus.publish(
            ACTION_RUN, {"rule": rule.id}, {"name": rule.name, "action": config.token, "result": what},
            publisher="rules",
        )  # fmt: skip

    def failed(self, rule: Rule, config: Configuration, reason: str) -> None:
        """An action that could not run or did not arrive: the system log and ActionFailed."""
        message = f"Action rule '{rule.name}' ({rule.id}): {config.token} failed: {reason}"
        self._record(rule, config, reason, False)
        self._log(message, Severity.WARNING)
        self.device.bus.publish(ACTION_FAILED, {}, {"description": message}, publisher="rules")

    def _log(self, message: str, severity: Severity = Severity.INFO) -> None:
        self.device.logs.system_event(message, source=SOURCE, severity=severity)

    # -- timed ends of fixed actions -------------------------------------------------------------

    def _later(self, deadline: float, call: Callable[[], None]) -> None:
        if self._timer is None:
            self._timer = DeadlineTimer(self.device.clock, self.tick)
            self.device.clock.on_advance.append(self.tick)
        self.pending.append((deadline, call))
        self.pending.sort(key=lambda item: item[0])
        self._timer.arm(self.pending[0][0])

    def tick(self) -> None:
        now = self.device.clock.now()
        while self.pending and self.pending[0][0] <= now:
            _, call = self.pending.pop(0)
            try:
                call()
            except Exception as exc:
                self._log(f"Action rule: could not end a timed action: {exc}")
        if self._timer is not None:
            self._timer.arm(self.pending[0][0] if self.pending else None)


def _instance(event: Event) -> tuple[str, tuple[tuple[str, str], ...]]:
    return event.topic, tuple(sorted(event.source.items()))


def watched_keeps(rule: Rule, start_stateful: bool) -> bool:
    """Whether an activated rule stays active (else it was a pulse that ran a fixed action)."""
    return bool(rule.conditions) or rule.start is None or start_stateful
