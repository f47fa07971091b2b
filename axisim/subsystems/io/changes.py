"""What portmanagement.cgi's setPorts asks of one port, before the device applies it."""

from __future__ import annotations

from dataclasses import dataclass

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
