"""The I/O ports' event topics (events.md §1.5 I/O table): one TopicDecl per topic, per port set."""

from __future__ import annotations

from collections.abc import Sequence

from ...events import Item, TopicDecl
from .ports import Port

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


Instance = tuple[TopicDecl, dict[str, object], dict[str, object]]  # topic, source, data


def _named(ports: Sequence[Port], direction: str | None = None) -> list[tuple[int, str]]:
    return [(p.index, p.name) for p in ports if direction is None or p.direction == direction]


def declarations(ports: Sequence[Port]) -> list[TopicDecl]:
    """What the ports can emit as configured: inputs and outputs, supervised inputs."""
    inputs, outputs = _named(ports, "input"), _named(ports, "output")
    decls = [port_decl(_named(ports))]
    if inputs:
        decls.append(digital_input_decl(inputs))
    if outputs:
        decls += [output_port_decl(outputs), relay_decl(outputs)]
    supervised = [(p.index, p.name) for p in ports if p.direction == "input" and p.supervised]
    if supervised:
        decls.append(supervised_port_decl(supervised))
    return decls


def instances(ports: Sequence[Port], port: Port) -> list[Instance]:
    """Every property instance of one port, with its current value."""
    found: list[Instance] = [(port_decl(_named(ports)), {"port": port.index}, {"state": port.active})]
    if port.direction == "input":
        found.append((digital_input_decl(_named(ports, "input")), {"InputToken": port.index},
                      {"LogicalState": port.active}))  # fmt: skip
        if port.supervised:
            state = {"short": "shorted"}.get(port.state, port.state)
            found.append((supervised_port_decl(_named([p for p in ports if p.supervised], "input")),
                          {"port": port.index}, {"state": state, "tampered": port.tampered}))  # fmt: skip
    else:
        outputs = _named(ports, "output")
        found.append((output_port_decl(outputs), {"port": port.index}, {"state": port.active}))
        found.append((relay_decl(outputs), {"RelayToken": port.index},
                      {"LogicalState": "active" if port.active else "inactive"}))  # fmt: skip
    return found
