"""What a parameter-group plugin is (DESIGN.md "Subsystems are parameter-group plugins").

A subsystem contributes parameter definitions to its model's tree (so param.cgi,
factory default and persistence cover them), keeps its behaviour in sync with
those parameters, publishes its derived read-only values into the device's
parameters, reacts to the device's restarts, and saves what is not a parameter
(the physical world: what is plugged where) with the device's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from param_tree import ParamDef, ParamStore, ParamType, Role, SecurityLevel, Template
from param_tree.definitions import nice_name_of

from ..events import Event, EventBus, TopicDecl, event_of
from ..logs import Actor

if TYPE_CHECKING:
    from axisim.clock import SimClock
    from axisim.files import FileStore
    from axisim.identity import Identity
    from axisim.lifecycle import Lifecycle, RestartKind
    from axisim.logs import DeviceLogs


# What a subsystem publishes (status, counts): set by the device, never through param.cgi.
PUBLISHED = ParamType("string", flags=frozenset({"readonly", "dynamic"}))
def param_def(name: str, value: str, kind: ParamType, security: SecurityLevel) -> ParamDef:
    """A subsystem's parameter, named in the web interface's way after its last name segment."""
    return ParamDef(name, value, kind, security, nice_name_of(name.rsplit(".", 1)[-1]))


ActorRef = Actor  # who asked for a change, for the logs


class Refusal(Exception):
    """The device refuses this operation (a bad disk state, a missing clip, a call it cannot place);
    nothing changed. Each subsystem's own error subclasses it, so callers that treat any refusal
    alike (the control API's stimuli) catch this one class and need no list of subsystems."""


class ModelView(Protocol):
    """The model facts a plugin reads (axisim.model.DeviceModel)."""

    def param(self, name: str) -> str:
        """A factory value."""
        ...


class VariantView(Protocol):
    """The hardware variant (axisim.model.Variant): model.toml `[variants.*]`."""

    @property
    def name(self) -> str: ...

    @property
    def facts(self) -> dict[str, Any]: ...


class DeviceView(Protocol):
    """What a plugin may use of its device; axisim.device.Device is one. The subsystems name this,
    never axisim.device, so the core and its plugins have no import cycle (the list is what the
    plugins use today: `grep -r "self.device." axisim/subsystems`)."""

    params: ParamStore  # the parameter tree: values, set_base for published values, dynamic groups
    clock: SimClock  # the device clock (now, wall, timers, on_advance)
    bus: EventBus  # the device event bus (Subsystem.publish)
    logs: DeviceLogs  # system_event, configuration
    files: FileStore  # uploads (audio clips)
    lifecycle: Lifecycle  # is_off, the boot state
    identity: Identity  # serial, MAC
    subsystems: dict[str, Subsystem]  # the device's other plugins (a declared dependency: power -> others)
    link_up: bool  # a network link reaches the device (the wlan subsystem says)
    packet_filter: Callable[[str, int], bool] | None  # the firewall's verdict on a connection (None: all pass)

    @property
    def model(self) -> ModelView: ...

    @property
    def variant(self) -> VariantView: ...

    @property
    def serial(self) -> str: ...

    def param(self, name: str, default: str = "") -> str: ...

    def event_topics(self) -> list[TopicDecl]: ...

    def event_states(self) -> list[Event]: ...

    def changed(self) -> None: ...

    def update_params(
        self, changes: list[tuple[str, str]], role: Role, actor: ActorRef = ..., *, atomic: bool = False
    ) -> list[tuple[str, str]]: ...

    def settings_changed(self, applied: dict[str, str] | None = None) -> None: ...

    def add_group(
        self, template: str, group: str, role: Role, force: bool = False, actor: ActorRef = ...
    ) -> str: ...

    def remove_groups(self, groups: list[str], role: Role, actor: ActorRef = ...) -> None: ...

    def power_off(self, reason: str) -> None: ...

    def power_on(self) -> None: ...


class Subsystem:
    name: ClassVar[str]

    def __init__(self, device: DeviceView) -> None:
        self.device = device

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        """The parameters this subsystem adds to a model with these hardware facts."""
        return []

    @classmethod
    def templates(cls, facts: dict[str, Any]) -> list[Template]:
        """Dynamic-group templates this subsystem adds (groups a user creates, e.g. SIP accounts)."""
        return []

    def refused(self, proposed: dict[str, str]) -> set[str]:
        """Names among a valid update that break a rule across parameters (one default SIP
        account, ...): the device refuses them and applies the rest."""
        return set()

    def removal_refused(self, groups: list[str]) -> str | None:
        """Why these dynamic groups may not be removed now; None allows it."""
        return None

    def params_changed(self, applied: dict[str, str] | None) -> None:
        """Parameters were set (param.cgi, a native API); None: any may have changed
        (a factory default, a state load)."""

    def world_changed(self, source: str) -> None:
        """Another subsystem changed the physical world (the `power` subsystem: the Ethernet cable)."""

    def going_down(self, kind: RestartKind) -> None:
        """The device is about to go offline for a restart."""

    def booted(self) -> None:
        """The device is back."""

    # -- events (the device event bus, axisim/events.py) ----------------------------------------

    def topics(self) -> list[TopicDecl]:
        """The topics this subsystem can emit, as declared to clients (GetEventInstances)."""
        return []

    def states(self) -> list[Event]:
        """The current state of each of its property instances (what a new subscriber is told first)."""
        return []

    def publish(self, decl: TopicDecl, source: dict[str, object] | None = None,
                data: dict[str, object] | None = None) -> None:  # fmt: skip
        """Tell the device's subscribers; free while nobody subscribes."""
        self.device.bus.publish(decl, source, data, publisher=self.name)

    def state_of(self, decl: TopicDecl, source: dict[str, object], data: dict[str, object]) -> Event:
        """One current property state, for `states()`."""
        return event_of(decl, source, data, self.device.clock.wall(), self.name)

    def to_state(self) -> Any:
        return None

    def load_state(self, state: Any) -> None:
        """Restore `to_state()`'s data; ValueError when it is not valid (nothing changed then)."""
