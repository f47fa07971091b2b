"""Changing the SIP settings and records all at once or not at all (what a call-service Set does).

Every change is checked first (its parameter's type, the rules across parameters), then
all apply; a refusal is a `ServiceRefused` and nothing changed. `all_or_nothing()` undoes
the first half of a plural Set refused half-way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from param_tree import Role, UpdateError

from ..service_faults import RefusalKind, ServiceRefused
from . import params as sp
from .rules import violations

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..base import DeviceView
    from .records import SipRecords


def _invalid(what: str) -> ServiceRefused:
    return ServiceRefused(RefusalKind.INVALID, f"Invalid data. {what}")


@contextmanager
def all_or_nothing(device: DeviceView) -> Iterator[None]:
    """Parameters changed inside are restored when it raises."""
    params = device.params
    before = params.changes()
    try:
        yield
    except Exception:
        if params.changes() != before:
            params.restore(before)
            device.settings_changed(None)
            device.changed()
        raise


def apply(
    device: DeviceView, records: SipRecords, changes: dict[str, str], actor: Actor,
    new: tuple[sp.RecordKind, str] | None = None,
) -> None:  # fmt: skip
    """Check every change (types, limits, the rules across parameters), then apply all;
    `new` is the record (kind, key) the changes create."""
    params = device.params
    for name, value in changes.items():
        definition = params.definition(name)
        if definition is None and new is not None:
            kind, key = new
            relative = name[len(kind.group) + len(key) + 2 :]
            template = params.model.templates[kind.template]
            definition = next((d for d in template.params if d.name == relative), None)
        if definition is None or not definition.type.accepts(value):
            raise _invalid(f"{name.removeprefix(sp.GROUP + '.')} cannot be {value!r}.")
    bad = sorted(violations(params, changes, records.keys_with(changes)))
    if bad:
        raise _invalid(f"{', '.join(n.removeprefix(sp.GROUP + '.') for n in bad)} breaks a rule of the SIP settings.")
    if new is not None:
        kind, key = new
        try:
            added = device.add_group(kind.template, kind.group, Role.ADMIN, actor=actor)
        except UpdateError as exc:
            raise ServiceRefused(RefusalKind.FAILED, f"Operation failed. {exc}.") from exc
        assert added == key
        id_name = kind.param(key, "Id")
        params.set_values({id_name: changes[id_name]})
    updates = [(n, v) for n, v in changes.items() if params.definition(n).type.writable]  # all but Id
    refused = device.update_params(updates, Role.ADMIN, actor)
    if refused:  # checked above: only a bug gets here
        raise ServiceRefused(RefusalKind.FAILED, f"Operation failed. {refused[0][0]} was refused.")


def remove(device: DeviceView, records: SipRecords, kind: sp.RecordKind, record_ids: list[str], actor: Actor) -> None:
    """Unknown ids are ignored (the API's rule); the default account stays."""
    groups = [f"{kind.group}.{k}" for k in records.keys(kind) if records.field(kind, k, "Id") in record_ids]
    if not groups:
        return
    try:
        device.remove_groups(groups, Role.ADMIN, actor)
    except UpdateError as exc:
        raise ServiceRefused(RefusalKind.FAILED, f"Operation failed. {exc}.") from exc
