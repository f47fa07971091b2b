"""`POST /vapix/services`: the SOAP web services endpoint (events.md §1, §4.7), on every model.

One URL for every SOAP service: the operation is the Body's first child element, looked up by
(namespace, local name) in OPERATIONS; the headers are never read (events.md §1.1). An operation
the device does not have, or a namespace it does not serve, is the SOAP fault, never a 404.

Served: event1 `GetEventInstances` (viewer [GUESS: the level is undocumented]) and
`ChangeVirtualInputState` (operator [GUESS], like `virtualinput/activate.cgi`). Real firmware lists
no apidiscovery id for the event service, so there is no `APIS` entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from axisim.subsystems.virtualinput import VirtualInputError, VirtualInputSubsystem
from param_tree import Role, whole_number

from . import action_service, certificate_service, schedule_service, webserver_service
from .apache_pages import apache_page
from .bodies import BodyTooLarge, read_body
from .event_declarations import get_event_instances_response
from .replay import recorded_event_instances, replayed
from .request_context import device_of, require, subsystem_of
from .routing import Route
from .soap_envelope import EVENT1, SoapMalformed, SoapRequest, parse_request, soap_fault, soap_reply, unknown_operation

Operation = Callable[[web.Request, SoapRequest], web.Response]


@dataclass(frozen=True, slots=True)
class Served:
    role: Role  # the least role of the operation (the route lets viewers in)
    run: Operation
    subsystem: str | None = None  # only on devices with this subsystem


def get_event_instances(request: web.Request, operation: SoapRequest) -> web.Response:
    """The topic set of every topic the device can emit (events.md §1.2-1.4); a recorded model's is
    its recorded reply (events.xml), whose topics are its declarations."""
    device = device_of(request)
    return recorded_event_instances(device) or soap_reply(get_event_instances_response(device.event_topics()))


def change_virtual_input_state(request: web.Request, operation: SoapRequest) -> web.Response:
    """`<ChangeVirtualInputState><port>3</port><active>1</active>` -> `stateChanged` (events.md §4.7;
    reply element names as the C# client reads them [CLIENT dtrammer/AxisActionEventLib])."""
    inputs = subsystem_of(request, VirtualInputSubsystem)
    port = whole_number(operation.text("port") or "")
    active = {"1": True, "true": True, "0": False, "false": False}.get(operation.text("active") or "")
    if port is None or active is None:
        return soap_fault("Invalid argument: port and active are required")  # [GUESS] text
    try:
        changed = inputs.activate(port) if active else inputs.deactivate(port)
    except VirtualInputError:
        return soap_fault(f"No virtual input port {port}")  # [GUESS] text
    state = "true" if changed else "false"
    return soap_reply(
        f"<aev:ChangeVirtualInputStateResponse><aev:stateChanged>{state}</aev:stateChanged>"
        "</aev:ChangeVirtualInputStateResponse>"
    )


OPERATIONS: dict[tuple[str, str], Served] = {
    (EVENT1, "GetEventInstances"): Served(Role.VIEWER, get_event_instances),
    (EVENT1, "ChangeVirtualInputState"): Served(Role.OPERATOR, change_virtual_input_state, "virtualinput"),
}
# the other services register their operations here (action1: action_service.py; event1 schedules:
# schedule_service.py; certificates: certificate_service.py; the web server's TLS: webserver_service.py)
for _service in (action_service, schedule_service, certificate_service, webserver_service):
    OPERATIONS.update({key: Served(*spec) for key, spec in _service.OPERATIONS.items()})


async def services(request: web.Request) -> web.Response:
    try:
        raw = await read_body(request)
        operation = parse_request(raw)
    except BodyTooLarge:
        return apache_page(413)
    except SoapMalformed as exc:
        return soap_fault(exc.reason, code=exc.code)
    served = OPERATIONS.get((operation.namespace, operation.name))
    if served is None or (served.subsystem is not None and served.subsystem not in device_of(request).subsystems):
        # a recorded model answers the operations axisim does not serve there from its recording
        return await replayed(request, raw) or unknown_operation(operation.namespace, operation.name)
    require(request, served.role)
    return served.run(request, operation)


ROUTES = [Route("/vapix/services", services, Role.VIEWER, ("POST",))]
