"""The MQTT client's own event and the spelling of topics between the device's event system
(`tns1:Device/tnsaxis:IO/Port`) and MQTT (events.md §0.3, §5.2, §5.3)."""

from __future__ import annotations

from functools import lru_cache

from ...events import Item, TopicDecl, topic_matches

CLIENT_STATUS = "tns1:Device/tnsaxis:MQTT/ClientStatus"
# events.md §1.5: a property, no source, `active` and `connected` (the state) [REC]
CLIENT_STATUS_DECL = TopicDecl(
    CLIENT_STATUS, True, (), (Item("active", nice="Active"), Item("connected", key=True, nice="Connected")),
    nice="MQTT client status",
)  # fmt: skip

# events.md §1.5 [REC P8815-2]: what a broker message matching a subscription becomes
MESSAGE_STATELESS = "tnsaxis:MQTT/Message/Stateless"
MESSAGE_STATEFUL = "tnsaxis:MQTT/Message/Stateful"  # [GUESS] the stateful twin's name and items
_MESSAGE_SOURCE = (
    Item("device-prefix", nice="Use device topic prefix"), Item("mqtt-topic", "xsd:string", nice="Topic"),
)  # fmt: skip
MESSAGE_STATELESS_DECL = TopicDecl(
    MESSAGE_STATELESS, False, _MESSAGE_SOURCE, (Item("mqtt-payload", "xsd:string", nice="Payload"),),
    nice="Stateless Event",
)  # fmt: skip
MESSAGE_STATEFUL_DECL = TopicDecl(
    MESSAGE_STATEFUL, True, _MESSAGE_SOURCE, (Item("mqtt-payload", "xsd:string", key=True, nice="Payload"),),
    nice="Stateful Event",
)  # fmt: skip

_TO_BUS = {"onvif": "tns1", "axis": "tnsaxis"}
_TO_MQTT = {"tns1": "onvif", "tnsaxis": "axis"}


def _respell(topic: str, names: dict[str, str]) -> str:
    parts = []
    for part in topic.split("/"):
        space, colon, rest = part.partition(":")
        parts.append(f"{names.get(space, space)}:{rest}" if colon else part)
    return "/".join(parts)


def bus_spelling(topic_filter: str) -> str:
    """`onvif:Device/axis:IO/Port//.` -> `tns1:Device/tnsaxis:IO/Port//.` (the bus's filters)."""
    return _respell(topic_filter, _TO_BUS)


@lru_cache(maxsize=1024)  # a device has a few dozen topics: each is spelled once, not per event
def payload_topic(topic: str) -> str:
    """`tns1:Device/tnsaxis:IO/Port` -> `onvif:Device/axis:IO/Port`, the payload's `topic` (§5.3)."""
    return _respell(topic, _TO_MQTT)


@lru_cache(maxsize=1024)
def mqtt_path(topic: str, namespaces: bool) -> str:
    """The event's part of an MQTT topic: `tns:onvif/Device/tns:axis/IO/Port` with namespaces
    [REC §5.3], `Device/IO/Port` without [GUESS]."""
    parts = []
    for part in topic.split("/"):
        space, colon, rest = part.partition(":")
        if colon:
            if namespaces:
                parts.append(f"tns:{_TO_MQTT.get(space, space)}")
            parts.append(rest)
        else:
            parts.append(part)
    return "/".join(parts)


@lru_cache(maxsize=4096)
def filter_matches(topic_filter: str, topic: str) -> bool:
    """Does an event.cgi topic filter (`//.` alone: every event) select a bus topic?"""
    if topic_filter == "//.":
        return True
    return topic_matches(bus_spelling(topic_filter), topic)
