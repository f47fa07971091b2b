"""Topic expressions and message content filters of rule events (events.md §4.4), parsed once when
a rule is added and matched against the bus's events.

A topic expression is the declaration spelling (`tns1:Device/tnsaxis:IO/Port`), optionally with
`//.` (the subtree; AXIS OS 10.12 echoes it so). A content filter is the ONVIF ItemFilter subset
the devices and clients use: `boolean(//SimpleItem[@Name="port" and @Value="0"])`, clauses joined
by `and` / `or`, `not(...)`, parentheses. A parse error reads as gSOAP/bison's
(`around character 1: syntax error, unexpected [, expecting (` [REC]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...events import Event, topic_matches
from .definitions import Fault, Filter, RulesError

_SEGMENT = r"(?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*"
_TOPIC = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*(?://\.)?")


def check_topic(text: str) -> str:
    """The topic expression, or RulesError INVALID_TOPIC with the recorded wording."""
    topic = text.strip()
    if not _TOPIC.fullmatch(topic):
        raise RulesError(Fault.INVALID_TOPIC, f"failed to parse topic expression '{text}'")
    return topic


@dataclass(frozen=True, slots=True)
class Item:
    """`//SimpleItem[@Name=.. and @Value=..]`: an item with that name and/or value exists."""

    name: str | None
    value: str | None

    def holds(self, items: dict[str, str]) -> bool:
        if self.name is not None:
            return self.name in items and (self.value is None or items[self.name] == self.value)
        return self.value is None or self.value in items.values()


@dataclass(frozen=True, slots=True)
class Op:
    op: str  # and | or | not
    args: tuple[Expr, ...]

    def holds(self, items: dict[str, str]) -> bool:
        if self.op == "not":
            return not self.args[0].holds(items)
        results = (arg.holds(items) for arg in self.args)
        return all(results) if self.op == "and" else any(results)


Expr = Item | Op
_TOKEN = re.compile(r"""\s*(//SimpleItem|boolean|not|and|or|@Name|@Value|"[^"]*"|'[^']*'|[()\[\]=]|\S)""")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[int, str]] = []
        for match in _TOKEN.finditer(text):
            self.tokens.append((match.start(1) + 1, match.group(1)))
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def fail(self, expecting: str) -> RulesError:
        where, token = self.tokens[self.at] if self.at < len(self.tokens) else (0, "end of file")
        where = where or sum(len(t) for _, t in self.tokens) + 1
        return RulesError(
            Fault.INVALID_CONTENT, f"around character {where}: syntax error, unexpected {token}, expecting {expecting}"
        )

    def take(self, token: str) -> None:
        if self.peek() != token:
            raise self.fail(token)
        self.at += 1

    def whole(self) -> Expr:
        if self.peek() == "boolean":
            self.at += 1
        self.take("(")
        expr = self.either()
        self.take(")")
        if self.at != len(self.tokens):
            raise self.fail("end of file")
        return expr

    def either(self) -> Expr:
        args = [self.both()]
        while self.peek() == "or":
            self.at += 1
            args.append(self.both())
        return args[0] if len(args) == 1 else Op("or", tuple(args))

    def both(self) -> Expr:
        args = [self.unary()]
        while self.peek() == "and":
            self.at += 1
            args.append(self.unary())
        return args[0] if len(args) == 1 else Op("and", tuple(args))

    def unary(self) -> Expr:
        token = self.peek()
        if token == "not":
            self.at += 1
            self.take("(")
            inner = self.either()
            self.take(")")
            return Op("not", (inner,))
        if token == "(":
            self.at += 1
            inner = self.either()
            self.take(")")
            return inner
        if token == "//SimpleItem":
            self.at += 1
            return self.item()
        raise self.fail("//SimpleItem")

    def item(self) -> Item:
        self.take("[")
        found: dict[str, str] = {}
        while True:
            key = self.peek()
            if key not in ("@Name", "@Value"):
                raise self.fail("@Name")
            self.at += 1
            self.take("=")
            literal = self.peek()
            if len(literal) < 2 or literal[0] not in "\"'" or literal[-1] != literal[0]:
                raise self.fail("a string")
            self.at += 1
            found[key] = literal[1:-1]
            if self.peek() != "and":
                break
            self.at += 1
        self.take("]")
        return Item(found.get("@Name"), found.get("@Value"))


def selected(expr: Expr | None) -> dict[str, str] | None:
    """The item values an event needs to pass `expr`, as far as the filter names them (the first
    alternative of an `or`; a `not` asks for nothing); None when a clause names a value, not an item.
    The control API fires a rule's start event with them."""
    if expr is None:
        return {}
    if isinstance(expr, Item):
        if expr.name is None:
            return None if expr.value is not None else {}
        return {expr.name: "" if expr.value is None else expr.value}
    if expr.op == "not":
        return {}
    parts = expr.args if expr.op == "and" else expr.args[:1]
    found: dict[str, str] = {}
    for part in parts:
        items = selected(part)
        if items is None:
            return None
        found.update(items)
    return found


def parse_content(text: str) -> Expr:
    """A message content filter's expression; RulesError INVALID_CONTENT when it does not parse."""
    return _Parser(text).whole()


@dataclass(frozen=True, slots=True)
class Matcher:
    """A parsed start event or condition."""

    spec: Filter
    expr: Expr | None

    @classmethod
    def of(cls, spec: Filter) -> Matcher:
        check_topic(spec.topic)
        return cls(spec, parse_content(spec.content) if spec.content and spec.content.strip() else None)

    def topic(self, topic: str) -> bool:
        return topic_matches(self.spec.topic, topic)

    def matches(self, event: Event) -> bool:
        """The event is of this topic and its source and data items pass the filter."""
        return self.topic(event.topic) and (self.expr is None or self.expr.holds({**event.source, **event.data}))
