"""The TopicSet of `GetEventInstances` (events.md §1.2-1.4): the device's topic declarations as XML.

Built from `device.event_topics()` (each subsystem's TopicDecl), so what is declared and what the
streams send come from the same place. Grammar as AXIS OS 12.9 writes it [REC rs4acap D4200-VE]:

- topics sharing a path share its nodes; each node is the segment as declared (`tns1:Device`,
  `tnsaxis:IO`, `Port`): a prefix where the namespace changes, none below it (no default namespace
  is in scope, so unprefixed nodes are in no namespace, as clients expect);
- known intermediate nodes carry the device's `aev:NiceName` ("Device", "Input ports", ...);
- a leaf has `wstop:topic="true"`, then `isApplicationData="true"` (ONVIF twins), then its NiceName,
  and holds one `aev:MessageInstance` (`aev:isProperty="true"` for property states) with
  `aev:SourceInstance` / `aev:DataInstance` only when it has such items;
- an item is `aev:SimpleItemInstance` with `isPropertyState`, `aev:NiceName`, `Type`, `Name` in that
  order, its declared `aev:Value`s (with their NiceName), and always an explicit end tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axisim.events import Item, TopicDecl

from .soap_envelope import PREFIXES, attribute

# Intermediate nodes' nice names as AXIS OS 12.9 declares them [REC D4200-VE, M1075-L]
NODE_NICE_NAMES: dict[str, str] = {
    "tns1:Device": "Device",
    "tns1:Device/tnsaxis:IO": "Input ports",
    "tns1:Device/tnsaxis:Status": "Device sensors",
    "tns1:Device/tnsaxis:Status/Temperature": "Temperature sensors",
    "tns1:Device/tnsaxis:HardwareFailure": "Hardware Failure",
    "tns1:Device/tnsaxis:Network": "Network",
    "tns1:Device/tnsaxis:Casing": "Casing",
    "tns1:Device/tnsaxis:Microphone": "Physical microphone",
    "tns1:Device/tnsaxis:SystemMessage": "System message",
    "tnsaxis:Storage": "Storage",
    "tnsaxis:AudioControl": "Audio Control",
    "tnsaxis:MediaClip": "Media Clip",
    "tns1:RecordingConfig": "Recording Config",
    "tns1:UserAlarm/tnsaxis:Recurring": "Schedule",
}

# Leaves the device marks isApplicationData="true" (events.md §1.3) [REC]
APPLICATION_DATA = frozenset({
    "tns1:Device/Trigger/DigitalInput",
    "tns1:Device/Trigger/Relay",
    "tns1:Device/tnsaxis:Light/Status",
    "tns1:Media/ProfileChanged",
    "tns1:Media/ConfigurationChanged",
})  # fmt: skip


@dataclass
class _Node:
    path: str
    decl: TopicDecl | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(decls: list[TopicDecl]) -> _Node:
    root = _Node("")
    for decl in decls:
        node = root
        for segment in decl.topic.split("/"):
            prefix, colon, _ = segment.rpartition(":")
            if colon and prefix not in PREFIXES:
                raise ValueError(f"{decl.topic}: prefix {prefix!r} is not declared in the envelope")
            path = f"{node.path}/{segment}" if node.path else segment
            node = node.children.setdefault(segment, _Node(path))
        if node.decl is not None:
            raise ValueError(f"{decl.topic} is declared twice")
        node.decl = decl
    for segment in root.children:
        if ":" not in segment:
            raise ValueError(f"root segment {segment!r} has no namespace prefix")
    return root


def _nice(name: str | None) -> str:
    return f' aev:NiceName="{attribute(name)}"' if name else ""


def _item(item: Item) -> str:
    state = ' isPropertyState="true"' if item.key else ""
    values = "".join(f"<aev:Value{_nice(nice)}>{attribute(value)}</aev:Value>" for value, nice in item.values)
    return (
        f'<aev:SimpleItemInstance{state}{_nice(item.nice)} Type="{attribute(item.type)}" '
        f'Name="{attribute(item.name)}">{values}</aev:SimpleItemInstance>'
    )


def _instance(tag: str, items: tuple[Item, ...]) -> str:
    return f"<aev:{tag}>{''.join(_item(i) for i in items)}</aev:{tag}>" if items else ""


def message_instance(decl: TopicDecl) -> str:
    """One leaf's `aev:MessageInstance`."""
    property_ = ' aev:isProperty="true"' if decl.stateful else ""
    inner = _instance("SourceInstance", decl.source) + _instance("DataInstance", decl.data)
    return f"<aev:MessageInstance{property_}>{inner}</aev:MessageInstance>"


def _node(segment: str, node: _Node) -> str:
    if node.decl is not None:
        app = ' isApplicationData="true"' if node.decl.topic in APPLICATION_DATA else ""
        attributes = f' wstop:topic="true"{app}{_nice(node.decl.nice)}'
        head = message_instance(node.decl)
    else:
        attributes, head = _nice(NODE_NICE_NAMES.get(node.path)), ""
    children = "".join(_node(name, child) for name, child in node.children.items())
    return f"<{segment}{attributes}>{head}{children}</{segment}>"


def topic_set(decls: list[TopicDecl]) -> str:
    """`<wstop:TopicSet>` with every declared topic, in declaration order (shared nodes merged)."""
    root = _tree(decls)
    return f"<wstop:TopicSet>{''.join(_node(name, node) for name, node in root.children.items())}</wstop:TopicSet>"


def get_event_instances_response(decls: list[TopicDecl]) -> str:
    """The Body content of the GetEventInstances reply."""
    return f"<aev:GetEventInstancesResponse>{topic_set(decls)}</aev:GetEventInstancesResponse>"
