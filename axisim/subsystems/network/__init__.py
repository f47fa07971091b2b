"""The wired network settings (IPv4, IPv6, host name, resolver, link-local), on every model.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `network` names."""

from .config import (
    MAX_NAME_SERVERS,
    MAX_SEARCH_DOMAINS,
    MAX_STATIC_IPV4,
    Address,
    NetworkInfo,
    SettingRefused,
    obscured,
)
from .plugin import NetworkSubsystem

SUBSYSTEM = NetworkSubsystem

__all__ = [
    "MAX_NAME_SERVERS", "MAX_SEARCH_DOMAINS", "MAX_STATIC_IPV4", "SUBSYSTEM", "Address", "NetworkInfo",
    "NetworkSubsystem", "SettingRefused", "obscured",
]  # fmt: skip
