"""The MQTT client's settings and its event publication settings (events.md §5.1, §5.2;
vapix-wire.md §5.7), as plain values with the API's rules. The wire layer maps the JSON names."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

PROTOCOLS = {"tcp": 1883, "ssl": 8883, "ws": 80, "wss": 443}  # manuals: the default port of each
RETAIN = ("none", "property", "all")
MAX_TEXT = 1024  # host, topics, client id, credentials [GUESS: the API names no limit]
MAX_PAYLOAD = 4096  # a custom connect/LWT message [GUESS]
MAX_FILTERS = 256  # event filters in one publication configuration [GUESS]
MAX_PROXY = 255  # the manuals: "a URL with a maximum length of 255 bytes"
MAX_SECONDS = 65_535  # keep-alive (an MQTT 16-bit field) and connect timeout


class MqttError(ValueError):
    """A setting the API refuses (its "invalid parameter" error)."""


@dataclass(frozen=True, slots=True)
class Server:
    host: str = ""
    port: int | None = None  # None: the protocol's default port
    protocol: str = "tcp"
    alpn_protocol: str = ""
    basepath: str = ""

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else PROTOCOLS[self.protocol]


@dataclass(frozen=True, slots=True)
class Message:
    """A connect, disconnect or last-will message; with `use_default` the rest is the device's default."""

    use_default: bool = True
    topic: str = ""
    message: str = ""
    retain: bool = True
    qos: int = 1


@dataclass(frozen=True, slots=True)
class ClientConfig:
    server: Server = field(default_factory=Server)
    client_id: str = ""
    username: str = ""
    password: str = ""
    keep_alive: int = 60
    connect_timeout: int = 60
    clean_session: bool = True
    auto_reconnect: bool = True
    activate_on_reboot: bool = True
    device_topic_prefix: str = ""
    validate_server_cert: bool = False
    ca_cert_id: str = ""  # ssl.CACertID: the one CA certificate to trust ("": every installed one)
    client_cert_id: str = ""  # ssl.clientCertID: the certificate (with its key) to present
    http_proxy: str = ""
    https_proxy: str = ""
    last_will: Message | None = field(default_factory=Message)
    connect_message: Message | None = field(default_factory=Message)
    disconnect_message: Message | None = field(default_factory=Message)

    def check(self) -> ClientConfig:
        """Itself when every value is one the API takes; MqttError otherwise."""
        server = self.server
        if server.protocol not in PROTOCOLS:
            raise MqttError(f"protocol {server.protocol!r}")
        if server.port is not None and not 1 <= server.port <= 65_535:
            raise MqttError(f"port {server.port}")
        if not 0 <= self.keep_alive <= MAX_SECONDS or not 1 <= self.connect_timeout <= MAX_SECONDS:
            raise MqttError("keepAliveInterval or connectTimeout out of range")
        texts = (server.host, server.alpn_protocol, server.basepath, self.client_id, self.username, self.password,
                 self.device_topic_prefix, self.ca_cert_id, self.client_cert_id)  # fmt: skip
        proxies = (self.http_proxy, self.https_proxy)
        if any(len(text) > MAX_TEXT for text in texts) or any(len(proxy) > MAX_PROXY for proxy in proxies):
            raise MqttError("a value is too long")
        for message in (self.last_will, self.connect_message, self.disconnect_message):
            if message is not None:
                _check_message(message)
        return self


def _check_message(message: Message) -> None:
    if message.qos not in (0, 1, 2):
        raise MqttError(f"qos {message.qos}")
    if not message.use_default:
        if not message.topic or any(c in message.topic for c in "#+\0") or len(message.topic) > MAX_TEXT:
            raise MqttError(f"topic {message.topic!r}")
        if len(message.message) > MAX_PAYLOAD:
            raise MqttError("message too long")


def default_client(serial: str) -> ClientConfig:
    """A clean device's client (param-trees.md §5: `client_<SERIAL>`, `axis/<SERIAL>`, tcp 1883, 60 s)."""
    return ClientConfig(client_id=f"client_{serial}", device_topic_prefix=f"axis/{serial}")


@dataclass(frozen=True, slots=True)
class EventFilter:
    topic_filter: str  # `onvif:Device/axis:IO/Port//.`, `//.` for every event
    qos: int = 0
    retain: str = "none"


@dataclass(frozen=True, slots=True)
class PublicationConfig:
    topic_prefix: str = "default"  # or "custom"
    custom_topic_prefix: str = ""
    append_event_topic: bool = True
    include_topic_namespaces: bool = True
    include_serial_number: bool = False
    filters: tuple[EventFilter, ...] = ()

    def check(self) -> PublicationConfig:
        if self.topic_prefix not in ("default", "custom"):
            raise MqttError(f"topicPrefix {self.topic_prefix!r}")
        if self.topic_prefix == "custom" and not self.custom_topic_prefix:
            raise MqttError("customTopicPrefix is empty")
        if len(self.custom_topic_prefix) > MAX_TEXT or any(c in self.custom_topic_prefix for c in "#+\0"):
            raise MqttError("customTopicPrefix")
        if len(self.filters) > MAX_FILTERS:
            raise MqttError("too many filters")
        for item in self.filters:
            if not item.topic_filter or len(item.topic_filter) > MAX_TEXT:
                raise MqttError("topicFilter")
            if item.qos not in (0, 1, 2) or item.retain not in RETAIN:
                raise MqttError("qos or retain")
        return self


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """A broker topic filter whose messages become device events (event.cgi configureMqttSubscription)."""

    topic_filter: str
    use_device_prefix: bool = False
    qos: int = 0
    is_state_data: bool = False  # stateful events (the payload is the state); no wildcards then [DOC]

    def check(self) -> SubscriptionFilter:
        text = self.topic_filter
        if not text or len(text) > MAX_TEXT or "\0" in text or self.qos not in (0, 1, 2):
            raise MqttError("topicFilter or qos")
        levels = text.split("/")
        if any(("#" in level and (level != "#" or i != len(levels) - 1)) or ("+" in level and level != "+")
               for i, level in enumerate(levels)):  # fmt: skip
            raise MqttError(f"topicFilter {text!r}")
        if self.is_state_data and ("#" in text or "+" in text):
            raise MqttError("wildcards are only for stateless subscriptions")
        return self


def check_subscriptions(filters: tuple[SubscriptionFilter, ...]) -> tuple[SubscriptionFilter, ...]:
    if len(filters) > MAX_FILTERS:
        raise MqttError("too many filters")
    return tuple(item.check() for item in filters)


# -- the state directory ----------------------------------------------------------------------------


def to_plain(value: Any) -> Any:
    """A config as JSON-able Python values for device.json (dataclass fields by name)."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: to_plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    return value


def _message_of(data: Any) -> Message | None:
    return None if data is None else Message(**data)


def client_from_plain(data: dict[str, Any]) -> ClientConfig:
    """`to_plain`'s inverse; TypeError/ValueError when damaged."""
    values = dict(data)
    values["server"] = Server(**values["server"])
    for name in ("last_will", "connect_message", "disconnect_message"):
        values[name] = _message_of(values.get(name))
    return ClientConfig(**values).check()


def subscriptions_from_plain(data: list[dict[str, Any]]) -> tuple[SubscriptionFilter, ...]:
    return check_subscriptions(tuple(SubscriptionFilter(**item) for item in data))


def publication_from_plain(data: dict[str, Any]) -> PublicationConfig:
    values = dict(data)
    values["filters"] = tuple(EventFilter(**item) for item in values.get("filters", ()))
    return replace(PublicationConfig(), **values).check()
