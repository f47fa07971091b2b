"""The I/O ports' event topics (events.md §1.5 I/O table): one TopicDecl per topic, per port set."""

from __future__ import annotations

from collections.abc import Sequence

from ...events import Item, TopicDecl

PORT = "tns1:Device/tnsaxis:IO/Port"
DIGITAL_INPUT = "tns1:Device/Trigger/DigitalInput"
OUTPUT_PORT = "tns1:Device/tnsaxis:IO/OutputPort"
RELAY = "tns1:Device/Trigger/Relay"
SUPERVISED_PORT = "tns1:Device/tnsaxis:IO/SupervisedPort"


def _values(ports: Sequence[tuple[int, str]]) -> tuple[tuple[str, str | None], ...]:
    return tuple((str(index), name or f"Port {index + 1}") for index, name in ports)


def port_decl(ports: Sequence[tuple[int, str]]) -> TopicDecl:
    """IO/Port: `port` is the 0-based I/O index, nice names the user's port names."""
    source = (Item("port", "xsd:int", nice="Port", values=(("-1", "Any"), *_values(ports))),)
    return TopicDecl(PORT, True, source, (Item("state", key=True, nice="Active"),), nice="Digital input port")


def digital_input_decl(ports: Sequence[tuple[int, str]]) -> TopicDecl:
    source = (Item("InputToken", "tt:ReferenceToken", values=tuple((str(i), None) for i, _ in ports)),)
    return TopicDecl(DIGITAL_INPUT, True, source, (Item("LogicalState", key=True),))


def output_port_decl(ports: Sequence[tuple[int, str]]) -> TopicDecl:
    source = (Item("port", "xsd:int", values=_values(ports)),)
    return TopicDecl(OUTPUT_PORT, True, source, (Item("state", key=True),), nice="Digital output port")


def relay_decl(ports: Sequence[tuple[int, str]]) -> TopicDecl:
    """Trigger/Relay: `RelayToken` = the 0-based I/O index; LogicalState active/inactive."""
    source = (Item("RelayToken", "tt:ReferenceToken", values=tuple((str(i), None) for i, _ in ports)),)
    data = (Item("LogicalState", "tt:RelayLogicalState", key=True),)
    return TopicDecl(RELAY, True, source, data, nice="Relays and Outputs")


def supervised_port_decl(ports: Sequence[tuple[int, str]]) -> TopicDecl:
    source = (Item("port", "xsd:int", values=_values(ports)),)
    data = (Item("state", "xsd:string", key=True), Item("tampered"))
    return TopicDecl(SUPERVISED_PORT, True, source, data, nice="Supervised input port")
