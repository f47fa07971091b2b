"""A device's action rules for a test author: list them (with their action configurations and whether
each is active), fire a rule's start event, read the actions each rule ran.

Firing publishes an event on the device's bus, as `emit` does (axisim/control/emit.py): the event the
rule's StartEvent names (its topic; for a subtree or glob, the first declared topic it selects), with
the source and data items its message content filter selects; items the filter leaves open take the
declaration's first value ("0" for a number, "1" for a state). A rule without a start event gets
each condition's event. The rule then runs as it would on the device: its other conditions, its
"Wait between actions" and its enabled switch decide whether the action runs. `source`/`data` given
with the call are laid over the derived items (e.g. `{"data": {"state": "0"}}` to release a rule
that holds while an input is active). The subsystem behind the event does not change (port.cgi
still reads the input as it was); the rules see the event as the truth.
"""

from __future__ import annotations

from typing import Any

from ..device import Device
from ..events import Event, Item, TopicDecl, topic_matches
from ..subsystems.rules import Filter, Rule, RulesSubsystem
from ..subsystems.rules.content import Matcher, selected
from ..subsystems.rules.engine import Run
from .emit import EmitError, declared_event
from .journal import iso_ms

MAX_FIRED = 16  # events one fire may publish (a rule's conditions)


class RuleError(LookupError):
    """No rules on this model, no such rule (`missing`), or a rule whose event cannot be derived."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def _rules(device: Device) -> RulesSubsystem:
    subsystem = device.subsystems.get("rules")
    if not isinstance(subsystem, RulesSubsystem):
        raise RuleError(f"{device.model.id} has no action rules", missing=True)
    return subsystem


def _rule(device: Device, number: int) -> tuple[RulesSubsystem, Rule]:
    rules = _rules(device)
    rule = next((r for r in rules.rules() if r.id == number), None)
    if rule is None:
        raise RuleError(f"device {device.serial} has no rule {number}", missing=True)
    return rules, rule


def _filter_json(spec: Filter | None) -> dict[str, Any] | None:
    return None if spec is None else {"topic": spec.topic, "content": spec.content}


def rule_json(device: Device, rule: Rule) -> dict[str, Any]:
    """A rule as the control API shows it: definition, its action configuration, state, run count."""
    rules = _rules(device)
    config = next((c for c in rules.action_configurations() if c.id == rule.primary), None)
    action = None if config is None else {
        "id": config.id, "name": config.name, "token": config.token, "parameters": dict(config.parameters),
    }  # fmt: skip
    runs = rules.runs(rule.id)
    return {
        "id": rule.id, "name": rule.name, "enabled": rule.enabled, "active": rules.is_active(rule.id),
        "start": _filter_json(rule.start), "conditions": [_filter_json(c) for c in rule.conditions],
        "activation_timeout": rule.activation_timeout, "action": action,
        "runs": len(runs), "last_run": run_json(runs[-1]) if runs else None,
    }  # fmt: skip


def list_rules(device: Device) -> list[dict[str, Any]]:
    return [rule_json(device, r) for r in _rules(device).rules()]


def run_json(run: Run) -> dict[str, Any]:
    return {"time": iso_ms(run.time), "action": run.action, "result": run.result, "ok": run.ok}


def runs(device: Device, number: int) -> list[dict[str, Any]]:
    """The actions the rule ran or failed to run, oldest first (the latest 50)."""
    rules, rule = _rule(device, number)
    return [run_json(r) for r in rules.runs(rule.id)]


def _default(item: Item, key: bool) -> str:
    if item.values:
        return item.values[0][0]
    if key or item.type == "xsd:boolean":
        return "1"
    return "0" if item.type in ("xsd:int", "xsd:integer", "xsd:double", "xsd:float") else ""


def _event_for(device: Device, spec: Filter, source: dict[str, Any], data: dict[str, Any]) -> Event:
    matcher = Matcher.of(spec)
    decl: TopicDecl | None = next((d for d in device.event_topics() if topic_matches(spec.topic, d.topic)), None)
    if decl is None:
        raise RuleError(f"{device.model.id} declares no topic that {spec.topic!r} selects")
    wanted = selected(matcher.expr)
    if wanted is None:
        raise RuleError(f"cannot tell an event from the filter {spec.content!r}: give its source and data")
    names = {item.name for item in decl.source}
    items = {i.name: _default(i, False) for i in decl.source}
    items |= {k: v for k, v in wanted.items() if k in names}
    values = {i.name: _default(i, i.key) for i in decl.data if i.key}
    values |= {k: v for k, v in wanted.items() if k not in names}
    event = declared_event(device, decl.topic, items | source, values | data)
    if not matcher.matches(event) and not (source or data):
        raise RuleError(f"cannot tell an event that passes {spec.content!r}: give its source and data")
    return event


def fire(device: Device, number: int, source: object = None, data: object = None) -> list[Event]:
    """Publish the rule's start event (or each condition's, for a rule without one); the events."""
    if source is not None and not isinstance(source, dict):
        raise EmitError("source is a JSON object of item names and values")
    if data is not None and not isinstance(data, dict):
        raise EmitError("data is a JSON object of item names and values")
    _, rule = _rule(device, number)
    specs = (rule.start,) if rule.start is not None else rule.conditions[:MAX_FIRED]
    events = [_event_for(device, spec, source or {}, data or {}) for spec in specs if spec is not None]
    for event in events:
        device.bus.deliver(event)
    return events
