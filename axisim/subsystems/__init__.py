"""Parameter-group plugins, by the name a model's manifest lists them under (`[model] subsystems`)."""

from .base import Subsystem
from .poe import PoeSubsystem

SUBSYSTEMS: dict[str, type[Subsystem]] = {PoeSubsystem.name: PoeSubsystem}

__all__ = ["SUBSYSTEMS", "Subsystem"]
