"""Faults of the JSON/simple-format services (`/vapix/call`, `/vapix/axast`), protocol-neutral.

The services answer a refused request with a SOAP-style fault triple (vapix-wire.md
§6.3; the Call service API's command tables list them as three tokens, the speaker
test API's example shows how they map onto Fault / FaultCode / FaultSubCode).
"""

from __future__ import annotations

NOT_FOUND = ("env:Sender", "ter:InvalidArgVal", "ter:NotFound")
INVALID = ("env:Sender", "ter:InvalidArgVal", "ter:InvalidArgVal")
MISSING = ("env:Sender", "ter:InvalidArgs", None)
FAILURE = ("env:Receiver", "ter:Action", "ter:Failure")
NOT_SUPPORTED = ("env:Receiver", "ter:ActionNotSupported", "ter:NotSupported")
UNKNOWN_ACTION = ("env:Sender", "ter:ActionNotSupported", None)


class ServiceFault(Exception):
    def __init__(self, triple: tuple[str, str, str | None], reason: str) -> None:
        super().__init__(reason)
        self.fault, self.code, self.subcode = triple
        self.reason = reason
