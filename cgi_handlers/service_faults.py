"""The faults of the JSON/simple-format services (`/vapix/call`, `/vapix/axast`), vapix-wire.md §6.3.

The services answer a refused request with a SOAP-style fault triple (the Call service
API's command tables list them as three tokens, the speaker test API's example shows how
they map onto Fault / FaultCode / FaultSubCode). A subsystem refuses with a protocol-neutral
`ServiceRefused` kind; `fault_of` gives the triple its API answers with.
"""

from __future__ import annotations

from axisim.subsystems.service_faults import RefusalKind, ServiceRefused

Triple = tuple[str, str, str | None]

NOT_FOUND: Triple = ("env:Sender", "ter:InvalidArgVal", "ter:NotFound")
INVALID: Triple = ("env:Sender", "ter:InvalidArgVal", "ter:InvalidArgVal")
MISSING: Triple = ("env:Sender", "ter:InvalidArgs", None)
FAILURE: Triple = ("env:Receiver", "ter:Action", "ter:Failure")
NOT_SUPPORTED: Triple = ("env:Receiver", "ter:ActionNotSupported", "ter:NotSupported")
UNKNOWN_ACTION: Triple = ("env:Sender", "ter:ActionNotSupported", None)
NOT_CALIBRATED: Triple = ("env:Receiver", "ter:Action", "axast:DeviceNotCalibrated")
DISABLED_IN_HARDWARE: Triple = ("env:Receiver", "ter:Action", "axast:DisabledInHardware")

TRIPLES: dict[RefusalKind, Triple] = {
    RefusalKind.NOT_FOUND: NOT_FOUND,
    RefusalKind.INVALID: INVALID,
    RefusalKind.FAILED: FAILURE,
    RefusalKind.NOT_CALIBRATED: NOT_CALIBRATED,
    RefusalKind.MICROPHONE_OFF: DISABLED_IN_HARDWARE,
}


class ServiceFault(Exception):
    """A refused request as the service answers it."""

    def __init__(self, triple: Triple, reason: str) -> None:
        super().__init__(reason)
        self.fault, self.code, self.subcode = triple
        self.reason = reason


def fault_of(refused: ServiceRefused) -> ServiceFault:
    return ServiceFault(TRIPLES[refused.kind], refused.reason)
