"""`/vapix/axast`: the auto speaker test API (`axast:*`): calibrate, run the test, read the report.

The audio subsystem does the test and refuses with a protocol-neutral ServiceRefused;
this module names the commands, shapes the report and maps refusals onto the API's faults.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.clock import iso
from axisim.device import Actor
from axisim.subsystems.audio import AudioSubsystem
from param_tree import Role

from .request_context import subsystem_of
from .routing import Api, Route
from .service_faults import UNKNOWN_ACTION, ServiceFault
from .vapix_services import service


def _report(audio: AudioSubsystem) -> dict[str, str]:
    report = audio.speaker_test_report()
    return {
        "SpeakerTestStatus": report.status,
        "TestTimestamp": iso(report.tested_at) if report.tested_at is not None else "",
        "CalibrationTimestamp": iso(report.calibrated_at) if report.calibrated_at is not None else "",
    }


def _run(request: web.Request, name: str, message: dict[str, Any], actor: Actor) -> dict[str, Any]:
    audio = subsystem_of(request, AudioSubsystem)
    if name == "CalibrateSpeakerTest":
        audio.calibrate()
        return {}
    if name == "PerformSpeakerTest":
        audio.run_test()
        return {}
    if name == "GetSpeakerTestReport":
        return {"SpeakerTestReport": _report(audio)}
    raise ServiceFault(UNKNOWN_ACTION, f"The action axast:{name} is not supported.")


ROUTES = [Route("/vapix/axast", service("axast", _run), Role.ADMIN, subsystem=AudioSubsystem.name)]
APIS = [Api("speakertest", "1.0", "Auto Speaker Test")]  # as the D4200-VE (AXIS OS 12.9) lists it
