"""The device firewall (the manual's System > Security > Firewall; VAPIX "Firewall configuration
service"), on every model.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `firewall` names."""

from .plugin import FirewallSubsystem
from .rules import MAX_RULES, FirewallError

SUBSYSTEM = FirewallSubsystem

__all__ = ["MAX_RULES", "SUBSYSTEM", "FirewallError", "FirewallSubsystem"]
