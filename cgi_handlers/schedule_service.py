"""event1 scheduled events on `/vapix/services` (events.md §4.6): AddScheduledEvent,
GetScheduledEvents, RemoveScheduledEvent. The reply shapes are the documented ones with the
`aev:` prefix of the event service's replies; fault texts were not recorded [GUESS]. Reading
needs an operator, changing an administrator [GUESS], as the action service.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from aiohttp import web

from axisim.subsystems.rules.scheduler import ScheduleNotFound
from axisim.subsystems.rules.schedules import ScheduleError
from param_tree import Role

from .action_service import Handler, child, invalid_args, rules_of, text_of
from .request_context import actor_of
from .soap_envelope import EVENT1, SoapRequest, soap_fault, soap_reply

ICAL_DIALECT = "http://www.axis.com/vapix/ws/ical1"  # [DOC] the schedule's dialect


def add_scheduled_event(request: web.Request, operation: SoapRequest) -> web.Response:
    new = child(operation.element, "NewScheduledEvent")
    schedule = None if new is None else child(new, "Schedule")
    calendar = None if schedule is None else child(schedule, "ICalendar")
    if new is None or calendar is None:
        return invalid_args("Validation constraint violation: occurrence violation in element ICalendar")
    try:
        number = rules_of(request).add_schedule(text_of(new, "Name", False) or "", calendar.text or "",
                                                actor_of(request))  # fmt: skip
    except ScheduleError as exc:
        return soap_fault(f"Invalid schedule: {exc}")
    return soap_reply(f"<aev:AddScheduledEventResponse><aev:EventID>{escape(number)}</aev:EventID>"
                      "</aev:AddScheduledEventResponse>")  # fmt: skip


def get_scheduled_events(request: web.Request, operation: SoapRequest) -> web.Response:
    wanted = None
    schedule_filter = child(operation.element, "ScheduleFilter")
    if schedule_filter is not None:
        wanted = text_of(schedule_filter, "ScheduleType", False)
    listed = "".join(
        f"<aev:ScheduledEvent><aev:EventID>{escape(s.id)}</aev:EventID><aev:Name>{escape(s.name)}</aev:Name>"
        f'<aev:Schedule><aev:ICalendar Dialect="{ICAL_DIALECT}">{escape(s.icalendar)}</aev:ICalendar>'
        "</aev:Schedule></aev:ScheduledEvent>"
        for s in rules_of(request).schedules()
        if wanted not in ("Interval", "Pulse") or (wanted == "Pulse") == s.recurrence.pulse
    )
    return soap_reply(f"<aev:GetScheduledEventsResponse><aev:ScheduledEvents>{listed}</aev:ScheduledEvents>"
                      "</aev:GetScheduledEventsResponse>")  # fmt: skip


def remove_scheduled_event(request: web.Request, operation: SoapRequest) -> web.Response:
    number = operation.text("EventID") or ""
    try:
        rules_of(request).remove_schedule(number, actor_of(request))
    except ScheduleNotFound:
        return soap_fault(f"No scheduled event with id '{number}' exists")
    return soap_reply("<aev:RemoveScheduledEventResponse></aev:RemoveScheduledEventResponse>")


OPERATIONS: dict[tuple[str, str], tuple[Role, Handler, str | None]] = {
    (EVENT1, "AddScheduledEvent"): (Role.ADMIN, add_scheduled_event, "rules"),
    (EVENT1, "GetScheduledEvents"): (Role.OPERATOR, get_scheduled_events, "rules"),
    (EVENT1, "RemoveScheduledEvent"): (Role.ADMIN, remove_scheduled_event, "rules"),
}
