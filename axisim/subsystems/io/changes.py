"""What portmanagement.cgi's setPorts asks of one port, the parameter updates it becomes, and the
order its refusals are answered in."""

from __future__ import annotations

from dataclasses import dataclass

from .ports import CLOSED, OPEN, opposite

PROPERTIES = ("usage", "direction", "name", "normalState", "state")  # setPorts item fields, in reply order


@dataclass(frozen=True, slots=True)
class PortChange:
    """One setPorts item: a 0-based port and the properties to change (None: leave it)."""

    index: int
    usage: str | None = None
    direction: str | None = None
    name: str | None = None
    normal_state: str | None = None
    state: str | None = None

    @property
    def touches(self) -> bool:
        return any(v is not None for v in (self.usage, self.direction, self.name, self.normal_state, self.state))


def settings(change: PortChange, base: str, direction: str) -> list[tuple[str, str, int, str]]:
    """The (parameter, value, port, property) updates of a change's usage, name and normal state
    under the port's group `base`, on the side (input or output) the port has now."""
    side, trigger = ("Input", "Trig") if direction == "input" else ("Output", "Active")
    normal = opposite(change.normal_state) if change.normal_state in (OPEN, CLOSED) else change.normal_state
    return [
        (name, value, change.index, prop)
        for prop, name, value in (
            ("usage", f"{base}.Usage", change.usage),
            ("name", f"{base}.{side}.Name", change.name),
            ("normalState", f"{base}.{side}.{trigger}", normal),
        )
        if value is not None
    ]


def in_request_order(failures: list[tuple[int, str | None]], changes: list[PortChange]) -> list[tuple[int, str | None]]:
    """The refused (port, property) pairs in the order of the request's items, then of PROPERTIES."""
    order = {index: n for n, index in reversed(list(enumerate(c.index for c in changes)))}
    return sorted(failures, key=lambda f: (order[f[0]], PROPERTIES.index(f[1]) if f[1] else -1))
