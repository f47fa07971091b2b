"""Audio clips, their playing and the speaker test on the C1410 Mk II.

The package is the feature: `SUBSYSTEM` is what a model's manifest word `audio` names."""

from .plugin import TEST_SECONDS, AudioSubsystem, ClipError

SUBSYSTEM = AudioSubsystem

__all__ = ["SUBSYSTEM", "TEST_SECONDS", "AudioSubsystem", "ClipError"]
