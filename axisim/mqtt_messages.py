"""What a device's MQTT client sends, as topics and payload bytes (events.md §5.3, §5.4): its
events under the publication settings, and its connect, disconnect and last-will messages.
Pure functions of the settings; axisim/mqtt_link.py sends them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from axisim.events import Event
from axisim.subsystems.mqtt import ClientConfig, Message, PublicationConfig
from axisim.subsystems.mqtt.topics import filter_matches, mqtt_path, payload_topic

CONNECTION = "event/connection"  # under the device topic prefix (§5.4)


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def event_messages(event: Event, publication: PublicationConfig, device_prefix: str, serial: str) -> list[Outgoing]:
    """The messages of one bus event: one per filter that selects it ("If a message matches multiple
    filters it will be published several times" [DOC mqtt-event-bridge])."""
    chosen = [f for f in publication.filters if filter_matches(f.topic_filter, event.topic)]
    if not chosen:
        return []
    custom = publication.topic_prefix == "custom"
    topic = publication.custom_topic_prefix if custom else f"{device_prefix}/event"
    if publication.append_event_topic:
        topic += "/" + mqtt_path(event.topic, publication.include_topic_namespaces)
        topic += "".join(f"/$source/{name}/{value}" for name, value in event.source.items())
    # every key always present: the axis library (v66) indexes topic, message.source, message.data
    payload: dict[str, object] = {
        "topic": payload_topic(event.topic),
        "timestamp": int(event.time * 1000),
        "message": {"source": dict(event.source), "key": {}, "data": dict(event.data)},
    }
    if publication.include_serial_number:
        payload["serialNumber"] = serial  # [GUESS] the key name (events.md §5.3)
    body = _json(payload)
    return [
        Outgoing(topic, body, f.qos, f.retain == "all" or (f.retain == "property" and event.stateful)) for f in chosen
    ]


def _stamp(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


def _connection(message: Message | None, config: ClientConfig, serial: str, connected: bool, description: str,
                wall: float | None) -> Outgoing | None:  # fmt: skip
    if message is None:
        return None
    if not message.use_default:
        return Outgoing(message.topic, message.message.encode(), message.qos, message.retain)
    payload = {"serialNumber": serial, "connected": connected, "description": description,
               "timestamp": None if wall is None else _stamp(wall)}  # fmt: skip
    return Outgoing(f"{config.device_topic_prefix}/{CONNECTION}", _json(payload), 1, True)


def last_will(config: ClientConfig, serial: str) -> Outgoing | None:
    """What the broker publishes when the connection is lost (§5.4: timestamp null)."""
    return _connection(config.last_will, config, serial, False, "Connection Lost", None)


def connect_message(config: ClientConfig, serial: str, wall: float) -> Outgoing | None:
    return _connection(config.connect_message, config, serial, True, "Connected", wall)


def disconnect_message(config: ClientConfig, serial: str, wall: float) -> Outgoing | None:
    return _connection(config.disconnect_message, config, serial, False, "Disconnected", wall)
