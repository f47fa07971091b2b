"""The MQTT client's settings and state on the C1410 Mk II and W401 (events.md §5).

The client is configured, activated and deactivated here (mqtt/client.cgi, mqtt/event.cgi), and
the settings are saved with the device. Whether it is connected is told by the `driver` (the
top layer's axisim/mqtt_link.py), which connects while `wants_connection` holds and says so with
`set_connected`; each change publishes `tns1:Device/tnsaxis:MQTT/ClientStatus`. `send()` is the
seam for whoever publishes on the device's behalf (the "MQTT publish" action of the rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ...events import Event, TopicDecl
from ...lifecycle import RestartKind, State
from ..base import Subsystem
from .config import (
    ClientConfig,
    PublicationConfig,
    SubscriptionFilter,
    check_subscriptions,
    client_from_plain,
    default_client,
    publication_from_plain,
    subscriptions_from_plain,
    to_plain,
)
from .topics import CLIENT_STATUS_DECL, MESSAGE_STATEFUL_DECL, MESSAGE_STATELESS_DECL

if TYPE_CHECKING:
    from ..base import DeviceView


class MqttDriver(Protocol):
    """The connection behind a device's client (axisim.mqtt_link.MqttLink)."""

    def changed(self) -> None:
        """Settings or the device's state changed: connect, reconnect or disconnect as needed."""

    def send(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool:
        """Publish one message now; False when not connected (the message is dropped)."""


class MqttSubsystem(Subsystem):
    name = "mqtt"

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.config: ClientConfig = default_client(device.serial)
        self.publication = PublicationConfig()
        self.subscriptions: tuple[SubscriptionFilter, ...] = ()
        self.active = False
        self.connected = False
        self.driver: MqttDriver | None = None
        self._received_states: dict[tuple[bool, str], str] = {}  # (device prefix?, topic) -> payload

    # -- mqtt/client.cgi ---------------------------------------------------------------------------

    def configure(self, config: ClientConfig) -> None:
        """Replace the client settings (MqttError: nothing changes); a connected client reconnects."""
        self.config = config.check()
        self._saved()

    def activate(self) -> None:
        self.active = True
        self._status_changed()
        self._saved()

    def deactivate(self) -> None:
        self.active = False
        self._status_changed()
        self._saved()

    @property
    def wants_connection(self) -> bool:
        """Active, with a broker, on a running device that has a network link."""
        state = self.device.lifecycle.state
        return (
            self.active and bool(self.config.server.host) and self.device.link_up
            and state in (State.READY, State.BOOTING)
        )  # fmt: skip

    def set_connected(self, connected: bool) -> None:
        """The driver's word on the connection."""
        if connected != self.connected:
            self.connected = connected
            self._status_changed()

    @property
    def topic_prefix(self) -> str:
        return self.config.device_topic_prefix

    # -- mqtt/event.cgi ------------------------------------------------------------------------------

    def configure_publication(self, publication: PublicationConfig) -> None:
        """Replace the whole publication configuration (filters are not merged: events.md §5.2)."""
        self.publication = publication.check()
        self._saved()

    # -- subscriptions: broker messages become device events ---------------------------------------

    def configure_subscriptions(self, filters: tuple[SubscriptionFilter, ...]) -> None:
        """Replace the subscriptions (MqttError: nothing changes); a connected client resubscribes."""
        self.subscriptions = check_subscriptions(filters)
        self._received_states = {
            key: value for key, value in self._received_states.items()
            if any(f.is_state_data and (f.use_device_prefix, f.topic_filter) == key for f in filters)
        }  # fmt: skip
        self._saved()

    def subscribed_topic(self, item: SubscriptionFilter) -> str:
        """The filter as sent to the broker: under the device topic prefix when it says so."""
        return f"{self.topic_prefix}/{item.topic_filter}" if item.use_device_prefix else item.topic_filter

    def message_received(self, item: SubscriptionFilter, topic: str, payload: str) -> None:
        """A broker message that `item` selected: a stateless event, or a state (the payload) that
        changed. `mqtt-topic` is the topic as subscribed, without the device prefix [GUESS]."""
        with_prefix = item.use_device_prefix
        if with_prefix and topic.startswith(self.topic_prefix + "/"):
            topic = topic[len(self.topic_prefix) + 1 :]
        source = {"device-prefix": with_prefix, "mqtt-topic": topic}
        if not item.is_state_data:
            self.publish(MESSAGE_STATELESS_DECL, source, {"mqtt-payload": payload})
            return
        if self._received_states.get((with_prefix, topic)) != payload:
            self._received_states[(with_prefix, topic)] = payload
            self.publish(MESSAGE_STATEFUL_DECL, source, {"mqtt-payload": payload})

    # -- the publish seam ----------------------------------------------------------------------------

    def send(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        """Publish a message through the device's client; False (dropped) when it is not connected."""
        if self.driver is None or not self.connected:
            return False
        return self.driver.send(topic, payload, qos, retain)

    # -- the device's lifecycle ----------------------------------------------------------------------

    def going_down(self, kind: RestartKind) -> None:
        if kind is not RestartKind.REBOOT:  # a factory default forgets the client
            self.config = default_client(self.device.serial)
            self.publication = PublicationConfig()
            self.subscriptions = ()
            self.active = False
        self._received_states.clear()  # states come again from the broker (retained messages)
        self._tell_driver()

    def booted(self) -> None:
        if not self.config.activate_on_reboot:
            self.active = False
        self._tell_driver()

    def world_changed(self, source: str) -> None:
        self._tell_driver()  # the network link may have come or gone

    # -- events ----------------------------------------------------------------------------------------

    def topics(self) -> list[TopicDecl]:
        """The stateful message topic is declared while a stateful subscription exists or a state has
        come in [GUESS]: the W401 manual's rule takes "MQTT > Stateful" as its condition before the
        camera's first message (a condition must select a declared property, events.md §4.4)."""
        wanted = self._received_states or any(f.is_state_data for f in self.subscriptions)
        stateful = [MESSAGE_STATEFUL_DECL] if wanted else []
        return [CLIENT_STATUS_DECL, MESSAGE_STATELESS_DECL, *stateful]

    def states(self) -> list[Event]:
        received = [
            self.state_of(MESSAGE_STATEFUL_DECL, {"device-prefix": prefix, "mqtt-topic": topic},
                          {"mqtt-payload": value})
            for (prefix, topic), value in self._received_states.items()
        ]
        return [self.state_of(CLIENT_STATUS_DECL, {}, self._status_data()), *received]

    def _status_data(self) -> dict[str, object]:
        return {"active": self.active, "connected": self.connected}

    def _status_changed(self) -> None:
        self.publish(CLIENT_STATUS_DECL, {}, self._status_data())

    # -- persistence -------------------------------------------------------------------------------------

    def _saved(self) -> None:
        self.device.changed()
        self._tell_driver()

    def _tell_driver(self) -> None:
        if self.driver is not None:
            self.driver.changed()

    def to_state(self) -> Any:
        return {"active": self.active, "client": to_plain(self.config), "publication": to_plain(self.publication),
                "subscriptions": to_plain(self.subscriptions)}  # fmt: skip

    def load_state(self, state: Any) -> None:
        if state is None:
            return
        if not isinstance(state, dict):
            raise ValueError("mqtt: not an object")
        try:
            config = client_from_plain(state["client"])
            publication = publication_from_plain(state["publication"])
            subscriptions = subscriptions_from_plain(state.get("subscriptions", []))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"mqtt: {exc}") from exc
        active = state.get("active", False)
        if not isinstance(active, bool):
            raise ValueError("mqtt: active")
        self.config, self.publication, self.subscriptions = config, publication, subscriptions
        self.active = active and config.activate_on_reboot
        self._tell_driver()
