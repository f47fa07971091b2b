"""The text formats of `param.cgi`: the `list` body and its error lines.

vapix-wire.md §1.1-1.2 [REC]: LF-terminated `name=value` lines with a trailing
LF, the `root.` prefix echoed as requested, `# Error: ...` lines for what
cannot be listed or set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .definitions import Role
from .patterns import GroupPattern, is_valid_pattern, parse_group_list
from .tree import ParamStore


def printable(text: str) -> str:
    """Text safe to echo in a reply: undecodable bytes become U+FFFD, no line breaks."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


@dataclass(frozen=True, slots=True)
class ListStyle:
    """Where firmwares write `list` differently (a model's quirks, axisim/quirks.py):
    `definition_order`: the tree's own order (5.x) instead of sorted (9.x+); `final_newline`: the
    last line ends with LF (every recording) or not; `error_mark`: what follows the quoted group of
    an error line ("!" on old firmware)."""

    definition_order: bool = False
    final_newline: bool = True
    error_mark: str = ""

    def finish(self, body: str) -> str:
        """A body of lines as this style ends it."""
        return body if self.final_newline or not body.endswith("\n") else body[:-1]


DEFAULT_STYLE = ListStyle()


def error_getting(group_text: str, mark: str = "") -> str:
    return f"# Error: Error -1 getting param in group '{printable(group_text)}'{mark}\n"


def error_setting(name: str, value: str) -> str:
    return f"# Error: Error setting 'root.{printable(name)}' to '{printable(value)}'!\n"


def render_list_text(store: ParamStore, groups: str, role: Role, style: ListStyle = DEFAULT_STYLE) -> str:
    """`render_list` for a raw `group=` value, remembered until the device's parameters change:
    clients poll the same groups over and over."""
    key = ("list", groups, int(role)) if style is DEFAULT_STYLE else ("list", groups, int(role), style)
    return store.memo(key, lambda: render_list(store, parse_group_list(groups), role, style))


def render_list(
    store: ParamStore, patterns: Iterable[GroupPattern], role: Role, style: ListStyle = DEFAULT_STYLE
) -> str:
    """The body of `action=list` for the given patterns, in request order."""
    out: list[str] = []
    for pattern in patterns:
        found = store.readable(store.select(pattern), role) if is_valid_pattern(pattern) else []
        if not found:
            out.append(error_getting(pattern.text, style.error_mark))
            continue
        if style.definition_order:
            found = store.in_definition_order(found)
        prefix = "root." if pattern.rooted else ""
        value = store.value
        out.extend(f"{prefix}{d.name}={d.type.display(value(d.name))}\n" for d in found)
    return style.finish("".join(out))


INI_MASK = "*****"  # the server report masks with five stars (vapix-wire.md §3 [REC])


def render_ini(store: ParamStore, role: Role, stamp: str) -> str:
    """The server report's parameter section (vapix-wire.md §3 [REC], fw 5.40 layout):
    `# Axis Parameter list, <date>`, then `[Group.Sub]` headers, names padded to 25
    columns, values quoted, two blank lines before each group, secrets masked."""
    out = [f"# Axis Parameter list, {stamp}\n"]
    current = None
    for definition in store.readable(store.all(), role):
        group, _, name = definition.name.rpartition(".")
        if group != current:
            out.append(f"\n\n[{group}]\n")
            current = group
        value = store.value(definition.name)
        shown = INI_MASK if definition.type.secret and value else value
        out.append(f'{name:<25}= "{shown}"\n')
    return "".join(out)
