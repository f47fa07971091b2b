"""The MQTT client of the C1410 Mk II and W401 (events.md §5): its settings, state and event
publication rules. No network here: the connection lives in the top layer (axisim/mqtt_link.py),
which registers itself as this subsystem's `driver`."""

from .config import ClientConfig, EventFilter, Message, MqttError, PublicationConfig, Server, SubscriptionFilter
from .plugin import MqttDriver, MqttSubsystem
from .topics import CLIENT_STATUS_DECL

SUBSYSTEM = MqttSubsystem

__all__ = [
    "CLIENT_STATUS_DECL", "SUBSYSTEM", "ClientConfig", "EventFilter", "Message", "MqttDriver", "MqttError",
    "MqttSubsystem", "PublicationConfig", "Server", "SubscriptionFilter",
]  # fmt: skip
