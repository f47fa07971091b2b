"""Event declarations read from a recorded `GetEventInstances` reply (a recorded model's `events.xml`).

The TopicSet grammar (events.md §1.3): an element per topic segment, a leaf marked
`wstop:topic="true"` holding one `aev:MessageInstance` (`aev:isProperty="true"` for property states)
with `aev:SourceInstance` / `aev:DataInstance` items (`Name`, `Type`, `isPropertyState`,
`aev:NiceName`, `aev:Value`s). A node can be a leaf and a parent. Topics are kept in declaration
spelling (`tns1:Device/tnsaxis:IO/Port`): a prefix where the namespace changes, the ONVIF and Axis
topic namespaces as `tns1` / `tnsaxis` whatever the document calls them.

Reading only (the core builds no XML); lxml without entities or network, as `param_tree` reads params.xml.
"""

from __future__ import annotations

from lxml import etree

from .events import Item, TopicDecl

EVENT1 = "http://www.axis.com/vapix/ws/event1"
TOPIC_NS = "http://docs.oasis-open.org/wsn/t-1"
KNOWN_PREFIXES = {"http://www.onvif.org/ver10/topics": "tns1", "http://www.axis.com/2009/event/topics": "tnsaxis"}
MAX_TOPICS = 5000  # a real device declares 30-60
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


class EventXmlError(ValueError):
    """Not a GetEventInstances reply with a TopicSet."""


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def parse_event_instances(data: bytes) -> list[TopicDecl]:
    """Every topic a recorded `GetEventInstances` reply declares, in document order."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise EventXmlError("a document type declaration is not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise EventXmlError(str(exc)) from exc
    topic_set = next((e for e in root.iter(f"{{{TOPIC_NS}}}TopicSet")), None)
    if topic_set is None:
        raise EventXmlError("no wstop:TopicSet")
    found: list[TopicDecl] = []
    pending: list[tuple[etree._Element, str, str]] = [(child, "", "") for child in reversed(_elements(topic_set))]
    while pending:  # depth-first, document order, no recursion
        element, parent_path, parent_ns = pending.pop()
        namespace, local = _split(element.tag)
        if namespace and namespace != parent_ns:
            prefix = KNOWN_PREFIXES.get(namespace) or element.prefix or ""
            segment = f"{prefix}:{local}" if prefix else local
        else:
            segment = local
        path = f"{parent_path}/{segment}" if parent_path else segment
        effective = namespace or parent_ns
        children = [c for c in _elements(element) if _split(c.tag) != (EVENT1, "MessageInstance")]
        if element.get(f"{{{TOPIC_NS}}}topic") == "true":
            found.append(_declaration(element, path))
            if len(found) > MAX_TOPICS:
                raise EventXmlError(f"more than {MAX_TOPICS} topics")
        pending.extend((child, path, effective) for child in reversed(children))
    return found


def _elements(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _nice(element: etree._Element) -> str | None:
    return element.get(f"{{{EVENT1}}}NiceName")


def _declaration(leaf: etree._Element, topic: str) -> TopicDecl:
    message = next((c for c in _elements(leaf) if _split(c.tag) == (EVENT1, "MessageInstance")), None)
    stateful = message is not None and message.get(f"{{{EVENT1}}}isProperty") == "true"
    return TopicDecl(
        topic, stateful, _items(message, "SourceInstance"), _items(message, "DataInstance"), _nice(leaf)
    )  # fmt: skip


def _items(message: etree._Element | None, kind: str) -> tuple[Item, ...]:
    if message is None:
        return ()
    holder = next((c for c in _elements(message) if _split(c.tag) == (EVENT1, kind)), None)
    if holder is None:
        return ()
    items = []
    for element in _elements(holder):
        if _split(element.tag) != (EVENT1, "SimpleItemInstance"):
            continue
        values = tuple(
            ((value.text or "").strip(), _nice(value))
            for value in _elements(element)
            if _split(value.tag) == (EVENT1, "Value")
        )
        items.append(
            Item(
                element.get("Name", ""), element.get("Type", "xsd:string"),
                key=element.get("isPropertyState") == "true", nice=_nice(element), values=values,
            )
        )  # fmt: skip
    return tuple(items)
