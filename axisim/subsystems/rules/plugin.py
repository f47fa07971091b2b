"""Action rules, action configurations and recipients of every model (issue 19; events.md §4).

The store keeps what a user configured (saved with the device's state, gone after a factory
default); the engine runs the enabled rules on the device's events; the actions reach the other
subsystems by word (io, audio, sip) and the network through the notifier the top layer installs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...events import Event, TopicDecl
from ...lifecycle import RestartKind
from ...logs import SYSTEM, Actor
from ..base import Subsystem
from .actions import Actions, Notifier
from .content import Matcher
from .definitions import ACTION_TEMPLATES, RECIPIENT_TEMPLATES, Configuration, Rule, Template, offered
from .engine import ACTION_FAILED, SOURCE, Engine, Run
from .scheduler import INTERVAL, Scheduled, Scheduler
from .store import Store

if TYPE_CHECKING:
    from ..base import DeviceView


class RulesSubsystem(Subsystem):
    name = "rules"

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.store = Store()
        self.actions = Actions(device.subsystems)  # the dict itself: subsystems listed later are found
        self.engine = Engine(device, self.store, self.actions)
        self.scheduler = Scheduler(device)

    # -- what the top layer installs ---------------------------------------------------------------

    @property
    def notifier(self) -> Notifier | None:
        return self.actions.notifier

    @notifier.setter
    def notifier(self, notifier: Notifier | None) -> None:
        self.actions.notifier = notifier

    # -- templates -------------------------------------------------------------------------------

    def action_templates(self) -> list[Template]:
        return offered(ACTION_TEMPLATES, self.device.subsystems)

    def recipient_templates(self) -> list[Template]:
        return list(RECIPIENT_TEMPLATES)

    # -- configurations and rules (each change is logged and saved) ------------------------------

    def _changed(self, actor: Actor, message: str) -> None:
        self.device.logs.configuration(actor.who, actor.client, message, source=SOURCE)
        self.device.changed()

    def add_action(self, name: str, token: str, parameters: list[tuple[str, str]], actor: Actor = SYSTEM) -> int:
        number = self.store.add_action(self.action_templates(), name, token, parameters)
        self._changed(actor, f"Action configuration {number} added: {token}")
        return number

    def remove_action(self, number: int, actor: Actor = SYSTEM) -> None:
        self.store.remove_action(number)
        self._changed(actor, f"Action configuration {number} removed")

    def add_recipient(self, name: str, token: str, parameters: list[tuple[str, str]], actor: Actor = SYSTEM) -> int:
        number = self.store.add_recipient(name, token, parameters)
        self._changed(actor, f"Recipient {number} added: {name} ({token})")
        return number

    def remove_recipient(self, number: int, actor: Actor = SYSTEM) -> None:
        self.store.remove_recipient(number)
        self._changed(actor, f"Recipient {number} removed")

    def add_rule(self, rule: Rule, actor: Actor = SYSTEM) -> int:
        """Keep a checked rule under a new id (RulesError: nothing changed) and start watching it."""
        number = self.store.add_rule(rule, self._selects_property)
        self._changed(actor, f"Action rule {number} added: {rule.name}")
        self._refresh()
        return number

    def remove_rule(self, number: int, actor: Actor = SYSTEM) -> None:
        self.store.remove_rule(number)
        self._changed(actor, f"Action rule {number} removed")
        self._refresh()

    def set_enabled(self, number: int, enabled: bool, actor: Actor = SYSTEM) -> None:
        """Turn a rule on or off (the web interface's switch; the control API)."""
        rule = self.store.rules.get(number)
        if rule is None:
            self.store.remove_rule(number)  # raises the device's not-found refusal
            return
        if rule.enabled != enabled:
            self.store.rules[number] = Rule(
                rule.id, rule.name, enabled, rule.primary, rule.start, rule.conditions, rule.activation_timeout,
                rule.timeout_text,
            )  # fmt: skip
            self._changed(actor, f"Action rule {number} {'enabled' if enabled else 'disabled'}")
            self._refresh()

    def rules(self) -> list[Rule]:
        return list(self.store.rules.values())

    def action_configurations(self) -> list[Configuration]:
        return list(self.store.actions.values())

    def recipients(self) -> list[Configuration]:
        return list(self.store.recipients.values())

    def is_active(self, number: int) -> bool:
        return number in self.engine.active

    def runs(self, number: int) -> list[Run]:
        """The latest actions the rule ran or failed to run, oldest first (kept across reboots)."""
        return list(self.engine.history.get(number, ()))

    # -- scheduled events (event1, events.md §4.6) --------------------------------------------------

    def add_schedule(self, name: str, icalendar: str, actor: Actor = SYSTEM) -> str:
        """A new scheduled event's id; ScheduleError (nothing changed) when its text is refused."""
        number = self.scheduler.add(name, icalendar)
        self._changed(actor, f"Scheduled event {number} added: {name}")
        return number

    def remove_schedule(self, number: str, actor: Actor = SYSTEM) -> None:
        """ScheduleNotFound when there is none by that id."""
        self.scheduler.remove(number)
        self._changed(actor, f"Scheduled event {number} removed")
        self._refresh(everything=True)  # a rule on it no longer holds

    def schedules(self) -> list[Scheduled]:
        return list(self.scheduler.schedules.values())

    def _refresh(self, everything: bool = False) -> None:
        """The engine follows the store; the scheduler publishes the built-ins' edges while a rule
        watches the Interval topic."""
        self.engine.refresh(everything)
        self.scheduler.follow(self.engine.watches(INTERVAL))

    def _selects_property(self, matcher: Matcher) -> bool:
        """A condition must select a property event the device declares (events.md §4.4)."""
        return any(decl.stateful and matcher.topic(decl.topic) for decl in self.device.event_topics())

    # -- events, restarts, saved state -----------------------------------------------------------

    def topics(self) -> list[TopicDecl]:
        return [ACTION_FAILED, *self.scheduler.topics()]

    def states(self) -> list[Event]:
        return self.scheduler.states()

    def going_down(self, kind: RestartKind) -> None:
        self.engine.reset()
        if kind is not RestartKind.REBOOT:  # a factory default removes every rule [manuals, "Maintenance"]
            self.store.clear()
            self.scheduler.clear()
            self.engine.history.clear()  # the ids start again at 1
            self._refresh()

    def booted(self) -> None:
        self.scheduler.start()
        self._refresh(everything=True)

    def to_state(self) -> Any:
        return {**self.store.to_state(), "schedules": self.scheduler.to_state()}

    def load_state(self, state: Any) -> None:
        store = Store.from_state(state)  # everything is checked before anything changes
        schedules = Scheduler.parsed(state.get("schedules") if state is not None else None)
        self.store.adopt(store)
        self.scheduler.adopt(*schedules)
        self.engine.reset()
        self._refresh(everything=True)
        self._refresh()
