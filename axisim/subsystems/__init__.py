"""Parameter-group plugins, by the name a model's manifest lists them under (`[model] subsystems`)."""

from .audio import AudioSubsystem
from .base import Subsystem
from .io import IoSubsystem
from .poe import PoeSubsystem
from .power import PowerSubsystem
from .sip import SipSubsystem
from .storage import StorageSubsystem
from .wlan import WlanSubsystem

_ALL = (PoeSubsystem, StorageSubsystem, SipSubsystem, AudioSubsystem, IoSubsystem, PowerSubsystem, WlanSubsystem)
SUBSYSTEMS: dict[str, type[Subsystem]] = {cls.name: cls for cls in _ALL}

__all__ = ["SUBSYSTEMS", "Subsystem"]
