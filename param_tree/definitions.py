"""Typed parameter definitions, as devices declare them in `listdefinitions`.

A definition is immutable and shared by every device of a model; it knows how
to validate a value written through `param.cgi?action=update` and who may read
or write it (the 4-digit securityLevel: create, delete, read, write).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from enum import IntEnum

from .checks import Check
from .numbers import whole_number

FLAG_NAMES = ("readonly", "writeonly", "hidden", "const", "internal", "dynamic", "nosync")
TYPE_KINDS = ("string", "password", "int", "enum", "bool", "ip", "ipList", "hostname")

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
MASK = "******"


class Role(IntEnum):
    """Access levels, numbered as the securityLevel digits number them."""

    ANONYMOUS = 0
    VIEWER = 1
    OPERATOR = 4
    ADMIN = 6
    ROOT = 7


@dataclass(frozen=True, slots=True)
class SecurityLevel:
    """The four digits create/delete/read/write of a parameter."""

    create: int
    delete: int
    read: int
    write: int

    @classmethod
    def parse(cls, text: str) -> SecurityLevel:
        if len(text) != 4 or not text.isdigit():
            raise ValueError(f"securityLevel must be 4 digits, got {text!r}")
        return cls(*(int(c) for c in text))

    def __str__(self) -> str:
        return f"{self.create}{self.delete}{self.read}{self.write}"

    def may_read(self, role: Role) -> bool:
        return role >= self.read and self.read < Role.ROOT

    def may_write(self, role: Role) -> bool:
        return role >= self.write and self.write < Role.ROOT


@dataclass(frozen=True, slots=True)
class ParamType:
    """The `<type>` element: one kind plus its constraints and flags."""

    kind: str
    maxlen: int | None = None
    min: int | None = None
    max: int | None = None
    ranges: tuple[tuple[int, int], ...] = ()
    entries: tuple[tuple[str, str | None], ...] = ()
    true_word: str = "yes"
    false_word: str = "no"
    flags: frozenset[str] = field(default_factory=frozenset)
    check: Check | None = None  # what the firmware checks beyond the declared type (checks.py); not rendered

    def __post_init__(self) -> None:
        if self.kind not in TYPE_KINDS:
            raise ValueError(f"unknown parameter type {self.kind!r}")
        unknown = self.flags - set(FLAG_NAMES)
        if unknown:
            raise ValueError(f"unknown type flags {sorted(unknown)}")

    @property
    def secret(self) -> bool:
        """Whether reads show a mask instead of the value."""
        return self.kind == "password" or "writeonly" in self.flags

    @property
    def writable(self) -> bool:
        return not ({"readonly", "const"} & self.flags)

    def accepts(self, value: str) -> bool:
        """Whether `value` is valid for this type and its check (ignores flags)."""
        return self._fits(value) and (self.check is None or self.check.accepts(value))

    def _fits(self, value: str) -> bool:
        if not value.isprintable() and value != "":
            return False
        if self.maxlen is not None and len(value) > self.maxlen:
            return False
        kind = self.kind
        if kind in ("string", "password"):
            return True
        if kind == "int":
            return self._accepts_int(value)
        if kind == "enum":
            return any(value == entry for entry, _ in self.entries)
        if kind == "bool":
            return value in (self.true_word, self.false_word)
        if kind == "ip":
            return _is_ip(value)
        if kind == "ipList":
            return all(_is_ip(part) for part in _split_list(value))
        return value == "" or _is_hostname(value)

    def _accepts_int(self, value: str) -> bool:
        number = whole_number(value, signed=True)
        if number is None:
            return False
        if self.min is not None and number < self.min:
            return False
        if self.max is not None and number > self.max:
            return False
        if self.ranges:
            return any(low <= number <= high for low, high in self.ranges)
        return True

    def display(self, value: str) -> str:
        """The value as `list` shows it: secrets masked when set."""
        if self.secret and value:
            return MASK
        return value


@dataclass(frozen=True, slots=True)
class ParamDef:
    """One parameter: its dotted name (without `root.`), default, type, access."""

    name: str
    value: str
    type: ParamType
    security: SecurityLevel
    nice_name: str

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    def renamed(self, name: str, value: str | None = None) -> ParamDef:
        """A copy under another name, used to instantiate templates."""
        return replace(self, name=name, value=self.value if value is None else value)


def nice_name_of(name: str) -> str:
    """Axis' generated niceName: CamelCase split, first word capitalised."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[0-9]+|[A-Z]+", name)
    if not words:
        return name
    first, rest = words[0], words[1:]
    return " ".join([first[:1].upper() + first[1:]] + [w if w.isupper() and len(w) > 1 else w.lower() for w in rest])


def _split_list(value: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", value) if part]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_hostname(value: str) -> bool:
    if _is_ip(value):
        return True
    if len(value) > 253:
        return False
    return all(_HOSTNAME_LABEL.match(label) for label in value.rstrip(".").split("."))
