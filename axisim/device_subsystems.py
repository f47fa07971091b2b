"""A device's subsystems (its feature plugins), by manifest word, and what the device tells them all:
a request's changes to veto, settings changed, groups to remove, restarts, the events they declare."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .events import Event, TopicDecl
from .lifecycle import RestartKind
from .subsystems import Subsystem, subsystem_class

if TYPE_CHECKING:
    from .subsystems.base import DeviceView


class DeviceSubsystems(dict[str, Subsystem]):
    """The plugins by word (`device.subsystems["io"]`), in manifest order."""

    def start(self, words: Iterable[str], device: DeviceView) -> None:
        """Build each plugin in manifest order: a subsystem sees those listed before it."""
        for word in words:
            self[word] = subsystem_class(word)(device)

    def vetoed(self, valid: dict[str, str]) -> list[str]:
        """The valid changes a subsystem refuses for breaking a rule across parameters, in request order."""
        refused: set[str] = set()
        for subsystem in self.values():
            refused |= subsystem.refused(valid)
        return [name for name in valid if name in refused]

    def params_changed(self, applied: dict[str, str] | None) -> None:
        for subsystem in self.values():
            subsystem.params_changed(applied)

    def removal_refused(self, groups: list[str]) -> str | None:
        """Why a subsystem keeps one of these parameter groups (the first that does), or None."""
        for subsystem in self.values():
            reason = subsystem.removal_refused(groups)
            if reason:
                return reason
        return None

    def going_down(self, kind: RestartKind) -> None:
        for subsystem in self.values():
            subsystem.going_down(kind)

    def booted(self) -> None:
        for subsystem in self.values():
            subsystem.booted()

    def topics(self) -> list[TopicDecl]:
        return [decl for subsystem in self.values() for decl in subsystem.topics()]

    def states(self) -> list[Event]:
        return [event for subsystem in self.values() for event in subsystem.states()]
