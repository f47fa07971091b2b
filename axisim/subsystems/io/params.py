"""The `IOPort.I#` parameters of the ports: what axisim adds to the tree, how the ports follow the
settings, the values it publishes and the cross-parameter rule of supervision (vapix-wire.md §5.3;
P5512 dump in param-trees.md §5.7). Numbers here are 0-based, as `IOPort.I<n>`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from param_tree import ParamDef, ParamType, SecurityLevel

from ..base import PUBLISHED, param_def
from .ports import CLOSED, OPEN, Port, opposite

GROUP = "IOPort"
INPUTS, OUTPUTS = "Input.NbrOfInputs", "Output.NbrOfOutputs"
VIEWER_R = SecurityLevel.parse("7717")  # port.cgi check is for viewers (vapix-wire.md §4.2)
ADMIN_RW = SecurityLevel.parse("7716")  # like IOPort.I#.Direction (P5512 dump)
YES_NO = ParamType("bool", true_word="yes", false_word="no")


def key(index: int) -> str:
    return f"{GROUP}.I{index}"


def supervisable(facts: dict[str, Any], index: int) -> bool:
    return bool(facts.get("supervised_inputs")) and index != facts.get("relay_port_index")


def definitions(facts: dict[str, Any]) -> list[ParamDef]:
    """The published `IOPort.I#.State` of every port and `Supervised` of the supervisable ones."""
    defs: list[ParamDef] = []
    for index in range(int(facts["io_ports"])):
        defs.append(param_def(f"{key(index)}.State", OPEN, PUBLISHED, VIEWER_R))
        if supervisable(facts, index):
            defs.append(param_def(f"{key(index)}.Supervised", "no", YES_NO, ADMIN_RW))
    return defs


def follow_settings(ports: list[Port], param: Callable[[int, str, str], str]) -> None:
    """Make the ports follow their settings; `param(index, name, default)` reads `IOPort.I<index>.<name>`."""
    for port in ports:
        index = port.index
        port.direction = param(index, "Direction", "input")
        side = "Input.Trig" if port.direction == "input" else "Output.Active"
        port.normal = opposite(param(index, side, CLOSED))
        port.name = param(index, f"{port.direction.capitalize()}.Name", "")
        port.supervised = param(index, "Supervised", "no") == "yes"


def published(ports: list[Port]) -> dict[str, str]:
    """Each port's state and the count of ports per direction."""
    values = {f"{key(p.index)}.State": p.state for p in ports}
    values[INPUTS] = str(sum(p.direction == "input" for p in ports))
    values[OUTPUTS] = str(sum(p.direction == "output" for p in ports))
    return values


def refused(ports: list[Port], proposed: dict[str, str]) -> set[str]:
    """Supervision is for inputs: no supervised output, no output that stays supervised."""
    names: set[str] = set()
    for port in ports:
        base = key(port.index)
        direction = proposed.get(f"{base}.Direction", port.direction)
        supervised = proposed.get(f"{base}.Supervised", "yes" if port.supervised else "no") == "yes"
        if direction == "output" and supervised:
            names |= {f"{base}.Direction", f"{base}.Supervised"} & proposed.keys()
    return names
