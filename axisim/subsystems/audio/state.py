"""What the audio subsystem keeps: uploaded clips, the clip playing, a speaker test's report,
and the argument checks its requests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from param_tree import whole_number

from ..base import Refusal
from .formats import SoundFile

if TYPE_CHECKING:
    from axisim.logs import Actor


class ClipError(Refusal, ValueError):
    """A media clip request the device refuses (400 Bad Request, the message says why)."""


@dataclass(frozen=True, slots=True)
class SpeakerTestReport:
    """What GetSpeakerTestReport tells: the status and when the test and calibration last ran."""

    status: str  # Uncalibrated, Pending, Calibrated, OK, Failed, DisabledInHardware
    tested_at: float | None  # device wall time
    calibrated_at: float | None


@dataclass(slots=True)
class Upload:
    digest: str
    sound: SoundFile
    filename: str


@dataclass(slots=True)
class Playback:
    clip: int
    repeat: int
    volume: int
    started: float
    duration: float  # one play of the clip

    def ends(self) -> float | None:
        return None if self.repeat < 0 else self.started + self.duration * (self.repeat + 1)


def by(actor: Actor | None) -> dict[str, Any]:
    """Who to log a change as (the device itself when no one is named)."""
    return {"actor": actor} if actor is not None else {}


def optional(value: Any) -> float | None:
    return None if value is None else float(value)


def integer(value: str | int, name: str, low: int, high: int | None) -> int:
    number = whole_number(str(value).strip(), signed=True, low=low, high=high)
    if number is None:
        raise ClipError(f"Invalid {name}")
    return number
