"""Action rules, action configurations and recipients (events.md §4), on every model.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `rules` names."""

from .actions import ActionError, MqttClient, Notification, Notifier
from .definitions import MAX_RECIPIENTS, MAX_RULES, Configuration, Fault, Filter, Rule, RulesError, Template
from .engine import ACTION_FAILED, ACTION_RUN
from .plugin import RulesSubsystem

SUBSYSTEM = RulesSubsystem

__all__ = [
    "ACTION_FAILED", "ACTION_RUN", "MAX_RECIPIENTS", "MAX_RULES", "SUBSYSTEM", "ActionError", "Configuration",
    "Fault", "Filter", "MqttClient", "Notification", "Notifier", "Rule", "RulesError", "RulesSubsystem",
    "Template",
]
