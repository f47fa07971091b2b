"""Why a device service refuses a request (the call service, the speaker test), protocol-neutral.

A subsystem raises `ServiceRefused` with the kind of refusal and a reason a person can read;
it knows no fault codes. The wire layer (`cgi_handlers/service_faults.py`) maps each kind
onto the fault its API answers with (vapix-wire.md §6.3). A `Refusal` (and a ValueError), so callers
that treat any refusal alike (the control API's stimuli) need not know it.
"""

from __future__ import annotations

from enum import Enum

from .base import Refusal


class RefusalKind(Enum):
    NOT_FOUND = "not found"  # the record or call named does not exist
    INVALID = "invalid"  # a value breaks its type or a rule across settings
    FAILED = "failed"  # the device cannot do it now (SIP off, a call in progress, no room)
    NOT_CALIBRATED = "not calibrated"  # the speaker test needs a calibration first
    MICROPHONE_OFF = "microphone off"  # the speaker test needs the built-in microphone


class ServiceRefused(Refusal, ValueError):
    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
