"""The W401's wireless network.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `wlan` names."""

from .plugin import WlanError, WlanSubsystem

SUBSYSTEM = WlanSubsystem

__all__ = ["SUBSYSTEM", "WlanError", "WlanSubsystem"]
