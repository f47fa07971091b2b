"""What a parameter-group plugin is (DESIGN.md "Subsystems are parameter-group plugins").

A subsystem contributes parameter definitions to its model's tree (so param.cgi,
factory default and persistence cover them), keeps its behaviour in sync with
those parameters, publishes its derived read-only values into the device's
parameters, reacts to the device's restarts, and saves what is not a parameter
(the physical world: what is plugged where) with the device's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from param_tree import ParamDef

if TYPE_CHECKING:
    from axisim.device import Device
    from axisim.lifecycle import RestartKind


class Subsystem:
    name: ClassVar[str]

    def __init__(self, device: Device) -> None:
        self.device = device

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        """The parameters this subsystem adds to a model with these hardware facts."""
        return []

    def params_changed(self, applied: dict[str, str] | None) -> None:
        """Parameters were set (param.cgi, a native API); None: any may have changed
        (a factory default, a state load)."""

    def going_down(self, kind: RestartKind) -> None:
        """The device is about to go offline for a restart."""

    def booted(self) -> None:
        """The device is back."""

    def to_state(self) -> Any:
        return None

    def load_state(self, state: Any) -> None:
        """Restore `to_state()`'s data; ValueError when it is not valid (nothing changed then)."""
