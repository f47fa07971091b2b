"""The W401's Bluetooth beacon (its manual, "Receive / Broadcast a Bluetooth beacon signal").

The package is the feature: `SUBSYSTEM` is what a model's manifest word `bluetooth` names."""

from .plugin import MAX_MESSAGE_TYPE, MAX_SYSTEM_ID, BeaconError, BluetoothSubsystem
from .topics import BEACON_RECEIVED_DECL, BROADCAST_DECL

SUBSYSTEM = BluetoothSubsystem

__all__ = [
    "BEACON_RECEIVED_DECL", "BROADCAST_DECL", "MAX_MESSAGE_TYPE", "MAX_SYSTEM_ID", "SUBSYSTEM", "BeaconError",
    "BluetoothSubsystem",
]  # fmt: skip
