"""The configured action configurations, recipients and rules of one device, their ids and limits,
and their saved form. Every add checks everything first: a refused definition changes nothing.

Ids are small integers per kind, increasing and never reused after a removal, as recorded
(events.md §4.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .content import Matcher
from .definitions import (
    MAX_ACTIONS,
    MAX_RECIPIENTS,
    MAX_RULES,
    RECIPIENT_TEMPLATES,
    Configuration,
    Fault,
    Filter,
    Rule,
    RulesError,
    Template,
    check_parameters,
)


class Store:
    def __init__(self) -> None:
        self.actions: dict[int, Configuration] = {}
        self.recipients: dict[int, Configuration] = {}
        self.rules: dict[int, Rule] = {}
        self.next = {"action": 1, "recipient": 1, "rule": 1}

    def _id(self, kind: str) -> int:
        number = self.next[kind]
        self.next[kind] = number + 1
        return number

    # -- configurations -------------------------------------------------------------------------

    def add_action(self, templates: list[Template], name: str, token: str, parameters: list[tuple[str, str]]) -> int:
        template = next((t for t in templates if t.token == token), None)
        if template is None:
            raise RulesError(Fault.TEMPLATE_NOT_FOUND, f"action template with id '{token}' not found")
        stored = check_parameters(template, parameters)
        if len(self.actions) >= MAX_ACTIONS:
            raise RulesError(Fault.LIMIT, f"Maximum number of action configurations ({MAX_ACTIONS}) reached")
        number = self._id("action")
        self.actions[number] = Configuration(number, name, token, stored)
        return number

    def remove_action(self, number: int) -> Configuration:
        if number not in self.actions:
            raise RulesError(Fault.CONFIG_NOT_FOUND, "")  # the device's reason is empty [REC]
        users = tuple((r.id, r.name) for r in self.rules.values() if r.primary == number)
        if users:
            raise RulesError(Fault.CONFIG_IN_USE, "action configuration is in use", users)
        return self.actions.pop(number)

    def add_recipient(self, name: str, token: str, parameters: list[tuple[str, str]]) -> int:
        template = next((t for t in RECIPIENT_TEMPLATES if t.token == token), None)
        if template is None:
            raise RulesError(Fault.RECIPIENT_TEMPLATE_NOT_FOUND, f"recipient template with id '{token}' not found")
        stored = check_parameters(template, parameters)
        if len(self.recipients) >= MAX_RECIPIENTS:
            raise RulesError(Fault.LIMIT, f"Maximum number of recipients ({MAX_RECIPIENTS}) reached")
        number = self._id("recipient")
        self.recipients[number] = Configuration(number, name, token, stored)
        return number

    def remove_recipient(self, number: int) -> Configuration:
        if number not in self.recipients:
            raise RulesError(Fault.RECIPIENT_NOT_FOUND, f"No recipient configuration with id '{number}' exists")
        return self.recipients.pop(number)

    # -- rules ----------------------------------------------------------------------------------

    def add_rule(self, rule: Rule, stateful: Callable[[Matcher], bool]) -> int:
        """Check a rule (its id is ignored) and keep it under a new id. `stateful(matcher)`: the
        device declares a property event the condition can select."""
        if rule.primary not in self.actions:
            raise RulesError(
                Fault.CONFIG_NOT_FOUND, f"Unknown action configuration '{rule.primary}' specified for primary action"
            )
        if rule.start is None and not rule.conditions:
            raise RulesError(
                Fault.INVALID_ARGS, "Validation constraint violation: occurrence violation in element Conditions"
            )
        matchers = [Matcher.of(f) for f in (*((rule.start,) if rule.start else ()), *rule.conditions)]
        for matcher in matchers[1 if rule.start else 0 :]:
            if not stateful(matcher):
                raise RulesError(Fault.INVALID_CONDITION, "could not match any property events")
        action = self.actions[rule.primary]
        holding = rule.start is not None and matchers[0].expr is not None and stateful(matchers[0])
        if ".unlimited." in action.token and not rule.conditions and not holding:
            # "unlimited actions require at least one condition" [DOC]; a property start event holds [INF]
            raise RulesError(Fault.INVALID_CONDITION, "an unlimited action needs a condition")  # [GUESS] text
        if len(self.rules) >= MAX_RULES:
            raise RulesError(Fault.LIMIT, f"Maximum number of action rules ({MAX_RULES}) reached")
        number = self._id("rule")
        self.rules[number] = Rule(
            number, rule.name, rule.enabled, rule.primary, rule.start, rule.conditions, rule.activation_timeout,
            rule.timeout_text,
        )  # fmt: skip
        return number

    def remove_rule(self, number: int) -> Rule:
        if number not in self.rules:
            raise RulesError(Fault.RULE_NOT_FOUND, f"No action rule with id '{number}' exists")
        return self.rules.pop(number)

    def clear(self) -> None:
        self.adopt(Store())

    def adopt(self, other: Store) -> None:
        """Hold what another store holds (a loaded state), keeping this object (the engine's)."""
        self.actions, self.recipients, self.rules, self.next = other.actions, other.recipients, other.rules, other.next

    # -- saved form -----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        def config(c: Configuration) -> dict[str, Any]:
            return {"id": c.id, "name": c.name, "token": c.token, "parameters": [list(p) for p in c.parameters]}

        def event(f: Filter | None) -> dict[str, Any] | None:
            return None if f is None else {
                "topic": f.topic, "content": f.content, "topic_dialect": f.topic_dialect,
                "content_dialect": f.content_dialect,
            }  # fmt: skip

        return {
            "next": dict(self.next),
            "actions": [config(c) for c in self.actions.values()],
            "recipients": [config(c) for c in self.recipients.values()],
            "rules": [
                {"id": r.id, "name": r.name, "enabled": r.enabled, "primary": r.primary, "start": event(r.start),
                 "conditions": [event(c) for c in r.conditions], "timeout": r.activation_timeout,
                 "timeout_text": r.timeout_text}
                for r in self.rules.values()
            ],
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: Any) -> Store:
        """The store a saved state describes; ValueError/TypeError/KeyError when it is damaged."""
        store = cls()
        if state is None:
            return store

        def config(d: dict[str, Any]) -> Configuration:
            parameters = tuple((str(n), str(v)) for n, v in d["parameters"])
            return Configuration(int(d["id"]), str(d["name"]), str(d["token"]), parameters)

        def event(d: dict[str, Any] | None) -> Filter | None:
            if d is None:
                return None
            content = d["content"]
            return Filter(str(d["topic"]), None if content is None else str(content), str(d["topic_dialect"]),
                          str(d["content_dialect"]))  # fmt: skip

        store.next = {kind: int(state["next"][kind]) for kind in ("action", "recipient", "rule")}
        store.actions = {c.id: c for c in map(config, state["actions"])}
        store.recipients = {c.id: c for c in map(config, state["recipients"])}
        for d in state["rules"]:
            conditions = tuple(c for c in map(event, d["conditions"]) if c is not None)
            text = d["timeout_text"]
            rule = Rule(int(d["id"]), str(d["name"]), bool(d["enabled"]), int(d["primary"]), event(d["start"]),
                        conditions, float(d["timeout"]), None if text is None else str(text))  # fmt: skip
            for f in (rule.start, *rule.conditions):
                if f is not None:
                    Matcher.of(f)  # a filter that does not parse is damage
            store.rules[rule.id] = rule
        for kind, kept in (("action", store.actions), ("recipient", store.recipients), ("rule", store.rules)):
            if any(number >= store.next[kind] or number < 1 for number in kept):
                raise ValueError(f"rules: a {kind} id is not below the next one")
        return store
