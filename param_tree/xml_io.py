"""The `parameterDefinitions` XML of `param.cgi?action=listdefinitions&listformat=xmlschema`.

Fixtures are stored in this format, so loading a fixture and serving
`listdefinitions` are inverses: capturing a real device is one request.
Parsing uses lxml; writing is done by hand because real devices use a layout
(attributes on separate lines, `<tag />` with a space) no serializer reproduces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

from lxml import etree

from .checks import CHECKS
from .definitions import FLAG_NAMES, ParamDef, ParamType, SecurityLevel, nice_name_of
from .tree import Template

NS = "http://www.axis.com/ParameterDefinitionsSchema"
_Q = "{" + NS + "}"
FLAG_ORDER = ("dynamic", "hidden", "internal", "readonly", "const", "writeonly", "nosync")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


@dataclass(frozen=True, slots=True)
class DefinitionsDocument:
    model: str
    firmware: str
    definitions: list[ParamDef]


class DefinitionsError(ValueError):
    """A fixture that does not follow the parameterDefinitions format."""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element, name: str | None = None) -> Iterator[etree._Element]:
    for child in element:
        if isinstance(child.tag, str) and (name is None or _local(child) == name):
            yield child


def _int_attr(element: etree._Element, name: str) -> int | None:
    text = element.get(name)
    return None if text is None else int(text)


def parse_type(type_element: etree._Element) -> ParamType:
    flags = frozenset(f for f in FLAG_NAMES if type_element.get(f) == "true")
    inner = list(_children(type_element))
    if len(inner) != 1:
        raise DefinitionsError("a <type> must hold exactly one type element")
    element = inner[0]
    kind = _local(element)
    if kind == "int":
        ranges = []
        for entry in _children(element, "rangeEntry"):
            low, _, high = entry.get("value", "").partition("-")
            ranges.append((int(low), int(high or low)))
        return ParamType(
            "int",
            maxlen=_int_attr(element, "maxlen"),
            min=_int_attr(element, "min"),
            max=_int_attr(element, "max"),
            ranges=tuple(ranges),
            flags=flags,
        )
    if kind == "enum":
        entries = tuple((e.get("value", ""), e.get("niceValue")) for e in _children(element, "entry"))
        return ParamType("enum", entries=entries, flags=flags)
    if kind == "bool":
        return ParamType(
            "bool", true_word=element.get("true", "yes"), false_word=element.get("false", "no"), flags=flags
        )
    return ParamType(kind, maxlen=_int_attr(element, "maxlen"), flags=flags)


def parse_parameter(element: etree._Element, prefix: str) -> ParamDef:
    name = element.get("name") or ""
    types = list(_children(element, "type"))
    if not name or len(types) != 1:
        raise DefinitionsError(f"parameter {prefix}{name!r} needs a name and one <type>")
    try:
        kind = parse_type(types[0])
        check = CHECKS.get(prefix + name)
        return ParamDef(
            name=prefix + name,
            value=element.get("value", ""),
            type=kind if check is None else replace(kind, check=check),
            security=SecurityLevel.parse(element.get("securityLevel", "7766")),
            nice_name=element.get("niceName") or nice_name_of(name),
        )
    except ValueError as exc:
        raise DefinitionsError(f"parameter {prefix}{name}: {exc}") from exc


def _walk(group: etree._Element, prefix: str) -> Iterator[ParamDef]:
    for child in _children(group):
        kind = _local(child)
        if kind == "parameter":
            yield parse_parameter(child, prefix)
        elif kind == "group":
            yield from _walk(child, prefix + (child.get("name") or "") + ".")


def parse_definitions(data: bytes) -> DefinitionsDocument:
    """Parse a `parameterDefinitions` document into definitions (names without root.)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionsError(str(exc)) from exc
    if _local(root) != "parameterDefinitions":
        raise DefinitionsError("root element is not parameterDefinitions")
    model = next((c.text or "" for c in _children(root, "model")), "")
    firmware = next((c.text or "" for c in _children(root, "firmwareVersion")), "")
    definitions: list[ParamDef] = []
    for group in _children(root, "group"):
        prefix = "" if group.get("name") == "root" else (group.get("name") or "") + "."
        definitions.extend(_walk(group, prefix))
    return DefinitionsDocument(model, firmware, definitions)


def parse_templates(data: bytes) -> list[Template]:
    """Parse a fixture's `templates.xml` (template elements holding parameter elements)."""
    root = etree.fromstring(data, _PARSER)
    templates = []
    for element in _children(root, "template"):
        group = element.get("group") or ""
        params = tuple(parse_parameter(p, "") for p in _children(element, "parameter"))
        letter = element.get("letter") or group.rsplit(".", 1)[-1][:1].upper()
        templates.append(Template(element.get("name") or "", group, letter, element.get("maxGroups"), params))
    return templates


# -- writing ---------------------------------------------------------------


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _type_lines(ptype: ParamType, indent: str) -> list[str]:
    flags = "".join(f' {f}="true"' for f in FLAG_ORDER if f in ptype.flags)
    inner = indent + "  "
    lines = [f"{indent}<type{flags}>"]
    kind = ptype.kind
    if kind == "enum":
        lines.append(f"{inner}<enum>")
        for value, nice in ptype.entries:
            nice_attr = f' niceValue="{_attr(nice)}"' if nice is not None else ""
            lines.append(f'{inner}  <entry value="{_attr(value)}"{nice_attr} />')
        lines.append(f"{inner}</enum>")
    elif kind == "bool":
        lines.append(f'{inner}<bool true="{_attr(ptype.true_word)}" false="{_attr(ptype.false_word)}" />')
    elif kind == "int" and ptype.ranges:
        lines.append(f"{inner}<int>")
        for low, high in ptype.ranges:
            text = str(low) if low == high else f"{low}-{high}"
            lines.append(f'{inner}  <rangeEntry value="{text}" />')
        lines.append(f"{inner}</int>")
    else:
        attrs = [("min", ptype.min), ("max", ptype.max), ("maxlen", ptype.maxlen)]
        text = "".join(f' {k}="{v}"' for k, v in attrs if v is not None)
        lines.append(f"{inner}<{kind}{text} />")
    lines.append(f"{indent}</type>")
    return lines


def render_definitions(
    items: Iterable[tuple[ParamDef, str]],
    *,
    model: str,
    firmware: str,
    host: str,
) -> bytes:
    """Serialize (definition, shown value) pairs, already in list order, as a device does."""
    lines = [
        '<?xml version="1.0" encoding="iso-8859-1" ?>',
        "<parameterDefinitions",
        f'xmlns="{NS}"',
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        f'xsi:schemaLocation="{NS} http://{_attr(host)}/pub/parameterdefinitions.xsd"',
        'version="1.0">',
        f"  <model>{escape(model)}</model>",
        f"  <firmwareVersion>{escape(firmware)}</firmwareVersion>",
        '  <group name="root">',
    ]
    open_groups: list[str] = []
    for definition, value in items:
        *groups, leaf = definition.path
        common = 0
        while common < min(len(groups), len(open_groups)) and groups[common] == open_groups[common]:
            common += 1
        while len(open_groups) > common:
            open_groups.pop()
            lines.append("    " + "  " * len(open_groups) + "</group>")
        for group in groups[common:]:
            lines.append("    " + "  " * len(open_groups) + f'<group name="{_attr(group)}">')
            open_groups.append(group)
        indent = "    " + "  " * len(open_groups)
        lines.append(
            f'{indent}<parameter name="{_attr(leaf)}" value="{_attr(value)}" '
            f'securityLevel="{definition.security}" niceName="{_attr(definition.nice_name)}">'
        )
        lines.extend(_type_lines(definition.type, indent + "  "))
        lines.append(f"{indent}</parameter>")
    while open_groups:
        open_groups.pop()
        lines.append("    " + "  " * len(open_groups) + "</group>")
    lines += ["  </group>", "</parameterDefinitions>", ""]
    return "\n".join(lines).encode("iso-8859-1", "xmlcharrefreplace")
