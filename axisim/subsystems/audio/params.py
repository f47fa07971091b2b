"""The audio subsystem's published parameters: what plays (`AudioStatus`) and the speaker test (`SpeakerTest`)."""

from __future__ import annotations

from axisim.clock import iso
from param_tree import ParamDef, SecurityLevel

from ..base import PUBLISHED, param_def
from .state import Playback, SpeakerTestReport

PLAYBACK = "AudioStatus"
SPEAKER_TEST = "SpeakerTest"
READ = SecurityLevel.parse("7717")  # viewers see what plays and whether the speaker is calibrated


def _status(name: str, value: str) -> ParamDef:
    return param_def(name, value, PUBLISHED, READ)


def definitions() -> list[ParamDef]:
    return [
        _status(f"{PLAYBACK}.Playing", "no"),
        _status(f"{PLAYBACK}.Clip", ""),
        _status(f"{PLAYBACK}.Repeat", ""),
        _status(f"{PLAYBACK}.Volume", ""),
        _status(f"{SPEAKER_TEST}.Status", "Uncalibrated"),
        _status(f"{SPEAKER_TEST}.Calibrated", "no"),
        _status(f"{SPEAKER_TEST}.CalibrationTime", ""),
        _status(f"{SPEAKER_TEST}.TestTime", ""),
    ]


def status_values(playing: Playback | None, report: SpeakerTestReport) -> dict[str, str]:
    return {
        f"{PLAYBACK}.Playing": "yes" if playing else "no",
        f"{PLAYBACK}.Clip": str(playing.clip) if playing else "",
        f"{PLAYBACK}.Repeat": str(playing.repeat) if playing else "",
        f"{PLAYBACK}.Volume": str(playing.volume) if playing else "",
        f"{SPEAKER_TEST}.Status": report.status,
        f"{SPEAKER_TEST}.Calibrated": "yes" if report.calibrated_at is not None else "no",
        f"{SPEAKER_TEST}.CalibrationTime": iso(report.calibrated_at) if report.calibrated_at is not None else "",
        f"{SPEAKER_TEST}.TestTime": iso(report.tested_at) if report.tested_at is not None else "",
    }
