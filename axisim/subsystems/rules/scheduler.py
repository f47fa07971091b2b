"""The device's scheduled events on its clock (events.md §4.6): each interval schedule's property
event `tns1:UserAlarm/tnsaxis:Recurring/Interval` (source `id`, data `active`) changes at its
edges, each pulse schedule sends `.../Recurring/Pulse` at its starts. Rules use them as start
events and conditions like any other event.

The built-in schedules every device declares (events.md §1.5, §4.6 [REC]: `com.axis.schedules.
weekdays`, `weekends`, `office_hours`, `after_hours`) are declared and have states always; their
edges are followed (a timer) only while a rule watches the Interval topic (`follow_builtins`).
Their times are not recorded [GUESS]: weekdays Monday-Friday, weekends Saturday-Sunday, office hours
Monday-Friday 08:00-18:00, after hours every day 18:00-08:00. They are not listed by
GetScheduledEvents and cannot be removed [GUESS].

Cost: with no schedule of the user's and no rule on the built-ins there is no timer and no clock listener.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axisim.clock import DeadlineTimer

from ...events import Event, Item, TopicDecl, event_of
from .schedules import MAX_SCHEDULES, Recurrence, ScheduleError, parse_icalendar

if TYPE_CHECKING:
    from ..base import DeviceView

INTERVAL = "tns1:UserAlarm/tnsaxis:Recurring/Interval"
PULSE = "tns1:UserAlarm/tnsaxis:Recurring/Pulse"
ID_PREFIX = "com.axis.schedules.genid.id-"  # as the reference's example id [DOC]


BUILTIN_TIMES = (  # id, nice name, iCalendar [GUESS] times; 1970-01-05 is a Monday, 01-03 a Saturday
    ("com.axis.schedules.after_hours", "After Hours", "DTSTART:19700105T180000 DTEND:19700106T080000 RRULE:FREQ=DAILY"),
    ("com.axis.schedules.office_hours", "Office Hours",
     "DTSTART:19700105T080000 DTEND:19700105T180000 RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("com.axis.schedules.weekdays", "Weekdays",
     "DTSTART:19700105T000000 DTEND:19700106T000000 RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("com.axis.schedules.weekends", "Weekends",
     "DTSTART:19700103T000000 DTEND:19700104T000000 RRULE:FREQ=WEEKLY;BYDAY=SA,SU"),
)  # fmt: skip
_NICE = {number: nice for number, nice, _ in BUILTIN_TIMES}


def interval_decl(ids: list[str]) -> TopicDecl:
    source = (Item("id", "xsd:string", values=tuple((i, _NICE.get(i)) for i in ids)),)
    return TopicDecl(INTERVAL, True, source, (Item("active", key=True),), nice="Scheduled event")


def pulse_decl(ids: list[str]) -> TopicDecl:
    return TopicDecl(PULSE, False, (Item("id", "xsd:string", values=tuple((i, None) for i in ids)),), nice="Pulse")


class ScheduleNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Scheduled:
    id: str
    name: str
    icalendar: str
    recurrence: Recurrence


@functools.cache
def _builtins() -> dict[str, Scheduled]:
    """The built-in schedules, parsed once per process (immutable; each device copies the dict)."""
    return {n: Scheduled(n, nice, text, parse_icalendar(text)) for n, nice, text in BUILTIN_TIMES}


class Scheduler:
    def __init__(self, device: DeviceView) -> None:
        self.device = device
        self.schedules: dict[str, Scheduled] = {}
        self.next = 0
        self._active: dict[str, bool] = {}
        self._seen = 0.0  # the device time the last tick covered
        self._timer: DeadlineTimer | None = None
        self.builtins = dict(_builtins())
        self.follow_builtins = False  # a rule watches the Interval topic: publish the built-ins' edges

    def _driven(self) -> dict[str, Scheduled]:
        """The schedules whose edges are published now."""
        return {**self.builtins, **self.schedules} if self.follow_builtins else self.schedules

    def _intervals(self) -> list[Scheduled]:
        """Every interval schedule, declared: the built-ins, then the user's."""
        return [*self.builtins.values(), *(s for s in self.schedules.values() if not s.recurrence.pulse)]

    def follow(self, builtins: bool) -> None:
        if builtins != self.follow_builtins:
            self.follow_builtins = builtins
            self.start()

    # -- configuration ----------------------------------------------------------------------------

    def add(self, name: str, icalendar: str) -> str:
        recurrence = parse_icalendar(icalendar)
        if len(self.schedules) >= MAX_SCHEDULES:
            raise ScheduleError(f"Maximum number of scheduled events ({MAX_SCHEDULES}) reached")
        number = f"{ID_PREFIX}{self.next}"
        self.next += 1
        self.schedules[number] = Scheduled(number, name, icalendar, recurrence)
        self.start()
        return number

    def remove(self, number: str) -> None:
        if number not in self.schedules:
            raise ScheduleNotFound(number)
        del self.schedules[number]
        self._active.pop(number, None)
        self.start()

    def clear(self) -> None:
        self.schedules.clear()
        self._active.clear()
        self.next = 0
        self.start()

    # -- events ---------------------------------------------------------------------------------

    def topics(self) -> list[TopicDecl]:
        """Interval: always (the built-ins); Pulse: while the device has a pulse schedule."""
        intervals = [s.id for s in self._intervals()]
        pulses = [s.id for s in self.schedules.values() if s.recurrence.pulse]
        return [*([interval_decl(intervals)] if intervals else []), *([pulse_decl(pulses)] if pulses else [])]

    def states(self) -> list[Event]:
        wall = self.device.clock.wall()
        local = self._local(wall)
        intervals = self._intervals()
        decl = interval_decl([s.id for s in intervals])
        return [event_of(decl, {"id": s.id}, {"active": s.recurrence.active(local)}, wall, "rules") for s in intervals]

    def _local(self, wall: float) -> float:
        """Schedules are in the device's local time (events.md §4.6): the wall time shifted by its zone."""
        return wall + self.device.logs.stamper.zone.offset(wall)

    def start(self) -> None:
        """Take the current states as known (no event for them) and wait for the next edge."""
        self._seen = self._local(self.device.clock.wall())
        intervals = [s for s in self._driven().values() if not s.recurrence.pulse]
        self._active = {s.id: s.recurrence.active(self._seen) for s in intervals}
        self._arm()

    def tick(self) -> None:
        """Publish what changed since the last tick (on the device clock: a test's advance too)."""
        driven = self._driven()
        if not driven:
            return
        wall = self._local(self.device.clock.wall())
        pulses = sorted(i for i, s in self.schedules.items() if s.recurrence.pulse)
        intervals = [s.id for s in self._intervals()]
        for scheduled in [driven[i] for i in sorted(driven)]:
            if scheduled.recurrence.pulse:
                for _ in range(min(scheduled.recurrence.pulses(self._seen, wall), 1)):  # a jump sends one pulse
                    self.device.bus.publish(pulse_decl(pulses), {"id": scheduled.id}, publisher="rules")
                continue
            now = scheduled.recurrence.active(wall)
            if self._active.get(scheduled.id) != now:
                self._active[scheduled.id] = now
                self.device.bus.publish(interval_decl(intervals), {"id": scheduled.id}, {"active": now},
                                        publisher="rules")  # fmt: skip
        self._seen = wall
        self._arm()

    def _arm(self) -> None:
        driven = self._driven()
        if not driven:
            if self._timer is not None:
                self._timer.arm(None)
            return
        if self._timer is None:
            self._timer = DeadlineTimer(self.device.clock, self.tick)
            self.device.clock.on_advance.append(self.tick)
        wall = self._local(self.device.clock.wall())
        edges = [e for s in driven.values() if (e := s.recurrence.next_change(wall)) is not None]
        self._timer.arm(self.device.clock.now() + (min(edges) - wall) if edges else None)

    # -- saved form -----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {"next": self.next, "events": [[s.id, s.name, s.icalendar] for s in self.schedules.values()]}

    @staticmethod
    def parsed(state: Any) -> tuple[dict[str, Scheduled], int]:
        """What `to_state()` saved, checked; ValueError/TypeError/KeyError when it is damaged."""
        if state is None:
            return {}, 0
        schedules: dict[str, Scheduled] = {}
        for number, name, icalendar in state["events"]:
            schedules[str(number)] = Scheduled(str(number), str(name), str(icalendar), parse_icalendar(str(icalendar)))
        return schedules, int(state["next"])

    def adopt(self, schedules: dict[str, Scheduled], next_id: int) -> None:
        self.schedules, self.next = schedules, next_id
        self.start()
