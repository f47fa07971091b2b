"""The parameter tree: a shared, immutable model tree and a small per-device overlay.

A model tree holds every definition and factory value in AXIS OS 9+ list order
(case-insensitive, parameters before subgroups). A device holds only what it
changed (values, added and removed dynamic groups) on top of the model and of its
identity values, so a thousand devices of one model cost a thousand overlays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .definitions import ParamDef, Role
from .numbers import whole_number
from .patterns import GroupPattern

T = TypeVar("T")
MEMO_SIZE = 64  # remembered renderings per device; the 65th forgets them all


def strip_root(name: str) -> str:
    """`root.Network.HostName` and `Network.HostName` name the same parameter."""
    return name[5:] if name.startswith("root.") else name


def sort_key(path: tuple[str, ...]) -> tuple[tuple[int, str, str], ...]:
    """Order of `list`: per level, parameters (0) before groups (1), case-insensitive."""
    *groups, leaf = path
    return (*((1, g.lower(), g) for g in groups), (0, leaf.lower(), leaf))


@dataclass(frozen=True, slots=True)
class Template:
    """A dynamic-group template (`action=add&template=<name>&group=<group>`)."""

    name: str
    group: str  # parent group, without root.
    letter: str  # instance key letter: MediaClip -> M
    max_groups: str | None  # name of the MaxGroups parameter
    params: tuple[ParamDef, ...]  # names relative to the instance (e.g. "Name")

    def instance_pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.group) + r"\." + re.escape(self.letter) + r"([0-9]+)$")


_INSTANCE = re.compile(r"([A-Z])([0-9]+)$")


def infer_templates(defs: Iterable[ParamDef], known: Iterable[Template] = ()) -> list[Template]:
    """Templates for a tree that came without `templates.xml` (a recorded device): each group with a
    `MaxGroups` parameter and numbered instances (`S0`, `S1`, ...) one letter long whose parameters
    may be created below root (the securityLevel's create digit). Named after the group in lower case
    (`StreamProfile` -> `streamprofile`, as the VAPIX templates are); parameters are the first
    instance's, string values empty and the others as that instance has them (a GUESS: a device's
    template defaults are not readable). Groups a known template covers are left alone."""
    by_name = {d.name: d for d in defs}
    covered = {t.group for t in known}
    instances: dict[tuple[str, str], dict[int, list[ParamDef]]] = {}
    for definition in by_name.values():
        parts = definition.path
        for depth in range(1, len(parts) - 1):
            match = _INSTANCE.fullmatch(parts[depth])
            group = ".".join(parts[:depth])
            if match and f"{group}.MaxGroups" in by_name and group not in covered:
                slot = instances.setdefault((group, match.group(1)), {})
                slot.setdefault(int(match.group(2)), []).append(definition)
                break
    found = []
    for (group, letter), numbered in sorted(instances.items()):
        first = min(numbered)
        stem = f"{group}.{letter}{first}."
        params = tuple(
            d.renamed(d.name[len(stem) :], "" if d.type.kind in ("string", "password") else d.value)
            for d in numbered[first]
        )
        if params and any(d.security.create < Role.ROOT for d in params):
            found.append(Template(group.rsplit(".", 1)[-1].lower(), group, letter, f"{group}.MaxGroups", params))
    return found


@dataclass(slots=True)
class _View:
    """Ordered definitions plus an index from every group prefix to its slice."""

    order: list[ParamDef]
    defs: dict[str, ParamDef]
    index: dict[str, tuple[int, int]] = field(default_factory=dict)
    # instance numbers of each template's group in this view (a model's view is shared by every
    # device that has not added or removed a group, so a fleet scans each group once)
    numbers: dict[str, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, defs: Iterable[ParamDef]) -> _View:
        order = sorted(defs, key=lambda d: sort_key(d.path))
        view = cls(order=order, defs={d.name: d for d in order})
        index = view.index
        for position, definition in enumerate(order):
            parts = definition.path
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                start, _ = index.get(prefix, (position, position))
                index[prefix] = (start, position + 1)
        return view


def _instance_numbers(view: _View, template: Template) -> set[int]:
    pattern = template.instance_pattern()
    numbers: set[int] = set()
    span = view.index.get(template.group)
    if span is None:
        return numbers
    for definition in view.order[span[0] : span[1]]:
        match = pattern.match(definition.name.rsplit(".", 1)[0])
        if match:
            numbers.add(int(match.group(1)))
    return numbers


class ModelTree:
    """Every definition and factory value of one model. Shared; never mutated."""

    def __init__(self, defs: Iterable[ParamDef], templates: Iterable[Template] = ()) -> None:
        given = list(defs)
        self._view = _View.build(given)
        if len(self._view.defs) != len(self._view.order):
            raise ValueError("duplicate parameter names in model tree")
        self.templates: dict[str, Template] = {t.name: t for t in templates}
        self.rank: dict[str, int] = {d.name: n for n, d in enumerate(given)}  # the definition order (params.xml's)

    def __len__(self) -> int:
        return len(self._view.order)

    def __contains__(self, name: str) -> bool:
        return name in self._view.defs

    def definition(self, name: str) -> ParamDef | None:
        return self._view.defs.get(name)

    @property
    def definitions(self) -> list[ParamDef]:
        return list(self._view.order)

    def template_of_group(self, group: str) -> tuple[Template, int] | None:
        """The template a dynamic group instance (e.g. `MediaClip.M3`) was made from."""
        for template in self.templates.values():
            match = template.instance_pattern().match(group)
            if match:
                return template, int(match.group(1))
        return None


class UpdateError(Exception):
    """A request to add or remove groups that the tree refuses; state unchanged."""


class ParamStore:
    """One device's view of its model: identity values and an overlay of changes."""

    __slots__ = (
        "_added", "_groups", "_identity", "_memo", "_overlay", "_providers", "_read_provided", "_removed", "_view",
        "model",
    )  # fmt: skip

    def __init__(self, model: ModelTree, identity: Mapping[str, str] | None = None) -> None:
        self.model = model
        self._identity: dict[str, str] = dict(identity or {})
        self._overlay: dict[str, str] = {}
        self._added: dict[str, ParamDef] = {}
        self._groups: dict[str, str] = {}  # added instance (e.g. MediaClip.M3) -> template name
        self._removed: set[str] = set()  # names of removed model parameters
        self._view: _View | None = None  # None: same structure as the model
        self._memo: dict[Hashable, Any] | None = None  # renderings of the current state (see memo)
        self._providers: dict[str, Callable[[], str]] | None = None  # read-time values (see provide)
        self._read_provided = False  # a provided value was read since memo began computing

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per state: a list body or an auth policy is read on every request and
        changes rarely. Every change to the store forgets what was remembered. A rendering that
        read a provided value (see provide) is kept with the provided values of the moment and
        recomputed when they differ; the others never ask the providers again."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        else:
            kept = memo.get(key)
            if kept is not None:
                if kept[1] is None:
                    return kept[0]  # type: ignore[no-any-return]
                if kept[1] == self._provided():
                    self._read_provided = True  # for a rendering that holds this one
                    return kept[0]  # type: ignore[no-any-return]
        provided = self._provided() if self._providers else None
        outer, self._read_provided = self._read_provided, False
        try:
            value = compute()
            read = self._read_provided
        finally:
            self._read_provided = outer or self._read_provided
        if self._memo is not memo:  # compute changed the store: nothing to remember
            return value
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = (value, provided if read else None)
        return value

    def _provided(self) -> tuple[str, ...]:
        providers = self._providers
        return tuple(provider() for provider in providers.values()) if providers else ()

    # -- reading -----------------------------------------------------------

    def _current(self) -> _View:
        if self._view is not None:
            return self._view
        if not self._added and not self._removed:
            return self.model._view
        kept = (d for d in self.model._view.order if d.name not in self._removed)
        self._view = _View.build([*kept, *self._added.values()])
        return self._view

    def definition(self, name: str) -> ParamDef | None:
        return self._current().defs.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._current().defs

    def provide(self, name: str, provider: Callable[[], str] | None) -> None:
        """Read `name` from `provider()` at each read (None: stop). For published read-only values
        derived from time (a RAID sync's progress): every path that reads the store sees the value
        of the moment, with no refresh at each call site. Not a setting: never saved nor reset."""
        providers = self._providers
        if provider is not None:
            if providers is None:
                providers = self._providers = {}
            providers[name] = provider
        elif providers is not None:
            providers.pop(name, None)
            if not providers:
                self._providers = None
        self._memo = None

    def value(self, name: str) -> str:
        """The current raw value (unmasked)."""
        providers = self._providers
        if providers is not None and name in providers:
            self._read_provided = True
            return providers[name]()
        if name in self._overlay:
            return self._overlay[name]
        if name in self._identity:
            return self._identity[name]
        return self._current().defs[name].value

    def get(self, name: str, default: str = "") -> str:
        """`value(name)` where the tree has `name`, else `default` (one lookup for both)."""
        definition = self._current().defs.get(name)
        if definition is None:
            return default
        providers = self._providers
        if providers is not None and name in providers:
            self._read_provided = True
            return providers[name]()
        overlay = self._overlay
        if name in overlay:
            return overlay[name]
        identity = self._identity
        return identity.get(name, definition.value)

    def select(self, pattern: GroupPattern) -> list[ParamDef]:
        """Definitions a pattern names, in list order (empty when none)."""
        view = self._current()
        if not pattern.segments:
            return list(view.order)
        if not pattern.is_glob:
            span = view.index.get(pattern.dotted)
            return view.order[span[0] : span[1]] if span else []
        return [d for d in view.order if pattern.matches(d.path)]

    def in_definition_order(self, definitions: list[ParamDef]) -> list[ParamDef]:
        """`definitions` (in list order) in the order the model defines them, as 5.x firmware lists;
        an added group's parameters follow the model parameter listed before them."""
        rank = self.model.rank
        anchor = -1
        keys: list[tuple[int, int, int]] = []
        for position, definition in enumerate(definitions):
            own = rank.get(definition.name)
            if own is not None:
                anchor = own
            keys.append((anchor, 0 if own is not None else 1, position))
        order = sorted(range(len(definitions)), key=keys.__getitem__)
        return [definitions[n] for n in order]

    def readable(self, definitions: Iterable[ParamDef], role: Role) -> list[ParamDef]:
        return [d for d in definitions if d.security.may_read(role)]

    def all(self) -> list[ParamDef]:
        return list(self._current().order)

    # -- writing -----------------------------------------------------------

    def check_write(self, name: str, value: str, role: Role) -> bool:
        """Whether `role` may set `name` to `value` (type, range, flags, access)."""
        definition = self.definition(name)
        if definition is None:
            return False
        if not definition.type.writable or not definition.security.may_write(role):
            return False
        check = definition.type.check
        if check is not None and check.once and self.value(name):
            return False  # set once already (SNMP v3's initial password): only a factory default empties it
        return definition.type.accepts(value)

    def validate(self, changes: Iterable[tuple[str, str]], role: Role) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Split changes into (valid, refused) without storing anything."""
        valid: dict[str, str] = {}
        refused: list[tuple[str, str]] = []
        for raw_name, value in changes:
            name = strip_root(raw_name)
            if self.check_write(name, value, role):
                valid[name] = value
            else:
                refused.append((name, value))
        return valid, refused

    def update(self, changes: Iterable[tuple[str, str]], role: Role) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Validate every change; store the valid ones. Returns (applied, refused)."""
        applied, refused = self.validate(changes, role)
        self.set_values(applied)
        return applied, refused

    def set_values(self, values: Mapping[str, str]) -> None:
        """Store already-validated values; a value equal to the factory one is dropped. A value
        whose check `marks` a flag sets that flag too (SNMP.InitialUserPasswdSet=yes); a change to
        a check's `when` value turns its `turns_off` setting off (SNMP traps), after every value of
        the request is stored, so the rule wins over a value set with it."""
        self._memo = None
        turned_off: list[str] = []
        for name, value in values.items():
            definition = self._current().defs.get(name)
            check = definition.type.check if definition is not None else None
            if check is not None and check.turns_off is not None and value == check.when and self.value(name) != value:
                turned_off.append(check.turns_off)
            if self._factory_value(name) == value:
                self._overlay.pop(name, None)
            else:
                self._overlay[name] = value
            if check is not None and check.marks is not None and value and check.marks in self:
                flag = self._current().defs[check.marks]
                self._overlay[check.marks] = flag.type.true_word
        for name in turned_off:
            if name in self:
                false_word = self._current().defs[name].type.false_word
                if self._factory_value(name) == false_word:
                    self._overlay.pop(name, None)
                else:
                    self._overlay[name] = false_word

    def _factory_value(self, name: str) -> str:
        if name in self._identity:
            return self._identity[name]
        return self._current().defs[name].value

    def add_group(self, template_name: str, group: str, role: Role, force: bool = False) -> str:
        """Instantiate a template under `group`; return the new instance key (e.g. `M3`)."""
        template = self.model.templates.get(template_name)
        if template is None or template.group != group:
            raise UpdateError(f"Template '{template_name}' is not available for group '{group}'")
        if any(d.security.create > role for d in template.params):
            raise PermissionError(template_name)
        if template.max_groups and not force:
            limit = whole_number(self.value(template.max_groups))
            if limit is not None and len(self.instance_numbers(template)) >= limit:
                raise UpdateError("Maximum number of groups reached")
        key = self.next_instance(template)
        self._instantiate(template, f"{group}.{key}")
        return key

    def _instantiate(self, template: Template, instance: str) -> None:
        self._groups[instance] = template.name
        for definition in template.params:
            full = definition.renamed(f"{instance}.{definition.name}")
            self._removed.discard(full.name)
            if full.name not in self.model:
                self._added[full.name] = full
            self._overlay.pop(full.name, None)
        self._view = None
        self._memo = None

    def next_instance(self, template: Template) -> str:
        """The key the next `add_group` of this template makes: the lowest free number (`M0`...)."""
        used = self.instance_numbers(template)
        return f"{template.letter}{next(n for n in range(len(used) + 1) if n not in used)}"

    def instance_numbers(self, template: Template) -> set[int]:
        view = self._current()
        known = view.numbers.get(template.name)
        if known is None:
            known = view.numbers[template.name] = frozenset(_instance_numbers(view, template))
        return set(known)

    def remove_groups(self, groups: Iterable[str], role: Role) -> None:
        """Remove dynamic group instances (e.g. `MediaClip.M3`): all of them, or none."""
        targets: list[list[str]] = []
        unique = list(dict.fromkeys(groups))  # a group named twice is removed once
        for group in unique:
            found = self.model.template_of_group(group)
            names = [d.name for d in self.select_exact(group)]
            if found is None or not names:
                raise UpdateError(f"Group '{group}' could not be removed")
            if any(d.security.delete > role for d in found[0].params):
                raise PermissionError(group)
            targets.append(names)
        for group, names in zip(unique, targets, strict=True):
            self._groups.pop(group, None)
            for name in names:
                if self._added.pop(name, None) is None:
                    self._removed.add(name)
                self._overlay.pop(name, None)
        self._view = None
        self._memo = None

    def select_exact(self, group: str) -> list[ParamDef]:
        view = self._current()
        span = view.index.get(group)
        return view.order[span[0] : span[1]] if span else []

    # -- state -------------------------------------------------------------

    def set_base(self, values: Mapping[str, str]) -> None:
        """Change device-fixed values (identity, firmware version, bound ports, published values):
        not settings, so a factory default keeps them. A value equal to the definition's is not
        kept: subsystems publish mostly factory values, and a fleet would hold them once per device."""
        identity = self._identity
        defs = self._current().defs
        for name, value in values.items():
            definition = defs.get(name)
            if definition is not None and definition.value == value:
                identity.pop(name, None)
            else:
                identity[name] = value
        self._memo = None

    def changes(self) -> dict[str, object]:
        """Everything this device changed, as plain data for persistence."""
        return {
            "values": dict(self._overlay),
            "groups": dict(self._groups),
            "removed": sorted(self._removed),
        }

    def restore(self, changes: Mapping[str, object]) -> None:
        """Load what `changes()` saved, checking it against the model; ValueError says what is wrong.

        On error nothing is changed."""
        values, groups, removed = changes.get("values"), changes.get("groups"), changes.get("removed")
        if not isinstance(values, dict) or not isinstance(groups, dict) or not isinstance(removed, list):
            raise ValueError("parameters: 'values', 'groups' and 'removed' are missing or of the wrong type")
        trial = ParamStore(self.model, self._identity)
        for instance, template_name in groups.items():
            template = self.model.templates.get(template_name) if isinstance(template_name, str) else None
            found = self.model.template_of_group(instance) if isinstance(instance, str) else None
            if template is None or found is None or found[0] is not template:
                raise ValueError(f"parameters: group {instance!r} cannot be made from template {template_name!r}")
            trial._instantiate(template, instance)
        for name in removed:
            if not isinstance(name, str) or name not in self.model:
                raise ValueError(f"parameters: removed parameter {name!r} is not in the model")
            trial._removed.add(name)
        trial._view = None
        for name, value in values.items():
            definition = trial.definition(name) if isinstance(name, str) else None
            if definition is None or not isinstance(value, str):
                raise ValueError(f"parameters: {name!r} is not a parameter of this model")
            if not definition.type.accepts(value):
                raise ValueError(f"parameters: {value!r} is not a valid value for {name}")
        self._overlay = dict(values)
        self._added, self._groups, self._removed = trial._added, trial._groups, trial._removed
        self._view = None
        self._memo = None

    def reset(self, keep: Iterable[str] = ()) -> None:
        """Back to the model's factory state, keeping the named parameters' values."""
        kept = {name: self._overlay[name] for name in keep if name in self._overlay}
        self._overlay = kept
        self._added.clear()
        self._groups.clear()
        self._removed.clear()
        self._view = None
        self._memo = None
