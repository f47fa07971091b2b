"""The virtual inputs' and manual triggers' event topics (events.md §1.5 I/O table, §4.7)."""

from __future__ import annotations

import functools

from ...events import Item, TopicDecl

VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
VIRTUAL_PORT = "tns1:Device/tnsaxis:IO/VirtualPort"
VIRTUAL_INPUTS = 64  # every recorded 12.x tree declares ports 1-64 (events.md §1.5; the older doc says 32)
MANUAL_TRIGGERS = 1  # one per view area: `{1}` on single-channel devices


def _numbers(count: int) -> tuple[tuple[str, str | None], ...]:
    return tuple((str(number), None) for number in range(1, count + 1))


@functools.cache  # declarations are immutable: every device with `count` inputs shares one (7 KB each)
def virtual_input_decl(count: int = VIRTUAL_INPUTS) -> TopicDecl:
    """IO/VirtualInput: `port` 1..count, `active` the state (activate.cgi / deactivate.cgi)."""
    source = (Item("port", "xsd:int", nice="Port number", values=_numbers(count)),)
    return TopicDecl(VIRTUAL_INPUT, True, source, (Item("active", key=True, nice="Active"),), nice="Virtual input")


@functools.cache
def virtual_port_decl(count: int = MANUAL_TRIGGERS) -> TopicDecl:
    """IO/VirtualPort, the manual trigger: `port` the view area 1..count, `state` (io/virtualinput.cgi)."""
    source = (Item("port", "xsd:int", nice="Port", values=_numbers(count)),)
    return TopicDecl(VIRTUAL_PORT, True, source, (Item("state", key=True, nice="Active"),), nice="Manual trigger")


VIRTUAL_INPUT_DECL = virtual_input_decl()
VIRTUAL_PORT_DECL = virtual_port_decl()
