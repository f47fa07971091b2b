"""The device's scheduled events on its clock (events.md §4.6): each interval schedule's property
event `tns1:UserAlarm/tnsaxis:Recurring/Interval` (source `id`, data `active`) changes at its
edges, each pulse schedule sends `.../Recurring/Pulse` at its starts. Rules use them as start
events and conditions like any other event.

Cost: with no schedule there is no timer and no clock listener.
"""

from __future__ import annotations

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


def interval_decl(ids: list[str]) -> TopicDecl:
    source = (Item("id", "xsd:string", values=tuple((i, None) for i in ids)),)
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


class Scheduler:
    def __init__(self, device: DeviceView) -> None:
        self.device = device
        self.schedules: dict[str, Scheduled] = {}
        self.next = 0
        self._active: dict[str, bool] = {}
        self._seen = 0.0  # the device time the last tick covered
        self._timer: DeadlineTimer | None = None

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
        """Declared while the device has schedules of that kind."""
        intervals = [s.id for s in self.schedules.values() if not s.recurrence.pulse]
        pulses = [s.id for s in self.schedules.values() if s.recurrence.pulse]
        return [*([interval_decl(intervals)] if intervals else []), *([pulse_decl(pulses)] if pulses else [])]

    def states(self) -> list[Event]:
        wall = self.device.clock.wall()
        local = self._local(wall)
        intervals = [s for s in self.schedules.values() if not s.recurrence.pulse]
        decl = interval_decl([s.id for s in intervals])
        return [event_of(decl, {"id": s.id}, {"active": s.recurrence.active(local)}, wall, "rules") for s in intervals]

    def _local(self, wall: float) -> float:
        """Schedules are in the device's local time (events.md §4.6): the wall time shifted by its zone."""
        return wall + self.device.logs.stamper.zone.offset(wall)

    def start(self) -> None:
        """Take the current states as known (no event for them) and wait for the next edge."""
        self._seen = self._local(self.device.clock.wall())
        intervals = [s for s in self.schedules.values() if not s.recurrence.pulse]
        self._active = {s.id: s.recurrence.active(self._seen) for s in intervals}
        self._arm()

    def tick(self) -> None:
        """Publish what changed since the last tick (on the device clock: a test's advance too)."""
        if not self.schedules:
            return
        wall = self._local(self.device.clock.wall())
        ids = sorted(self.schedules)
        for scheduled in [self.schedules[i] for i in ids]:
            if scheduled.recurrence.pulse:
                for _ in range(min(scheduled.recurrence.pulses(self._seen, wall), 1)):  # a jump sends one pulse
                    self.device.bus.publish(pulse_decl(ids), {"id": scheduled.id}, publisher="rules")
                continue
            now = scheduled.recurrence.active(wall)
            if self._active.get(scheduled.id) != now:
                self._active[scheduled.id] = now
                self.device.bus.publish(interval_decl(ids), {"id": scheduled.id}, {"active": now}, publisher="rules")
        self._seen = wall
        self._arm()

    def _arm(self) -> None:
        if not self.schedules:
            if self._timer is not None:
                self._timer.arm(None)
            return
        if self._timer is None:
            self._timer = DeadlineTimer(self.device.clock, self.tick)
            self.device.clock.on_advance.append(self.tick)
        wall = self._local(self.device.clock.wall())
        edges = [e for s in self.schedules.values() if (e := s.recurrence.next_change(wall)) is not None]
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
