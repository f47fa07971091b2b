"""Date, time, time zone and NTP of every model (vapix-wire.md §5.5; the manuals' "Date and time").

The package is the feature: `SUBSYSTEM` is what a model's manifest word `time` names."""

from .plugin import DateTimeInfo, NtpStatus, TimeError, TimeSubsystem

SUBSYSTEM = TimeSubsystem

__all__ = ["SUBSYSTEM", "DateTimeInfo", "NtpStatus", "TimeError", "TimeSubsystem"]
