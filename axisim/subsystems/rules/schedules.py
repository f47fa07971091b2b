"""Scheduled events (event1 `AddScheduledEvent`, events.md §4.6): the iCalendar subset a device takes,
and when a schedule is active.

`DTSTART:20111212T06:00 DTEND:20111212T09:00 RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR` (fields by
space or line; times `T0600`, `T06:00`, `T060000`, `T06:00:00`; local device time, no zone: the
scheduler passes the device's wall time shifted into its time zone). With `DTEND` the schedule is
an interval (active from each start for the
length DTEND - DTSTART: `tns1:UserAlarm/tnsaxis:Recurring/Interval`), without it a pulse at each
start (`.../Recurring/Pulse`). RRULE: FREQ DAILY or WEEKLY, INTERVAL, BYDAY, BYHOUR, BYMINUTE;
anything else is refused (the device's fault text is not recorded [GUESS]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_SCHEDULES = 100  # [GUESS] no source gives a limit
_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2}):?(\d{2})(?::?(\d{2}))?Z?")


class ScheduleError(ValueError):
    """An iCalendar text axisim does not take; the message says why."""


def _stamp(text: str) -> datetime:
    match = _STAMP.fullmatch(text)
    if match is None:
        raise ScheduleError(f"invalid date-time {text!r}")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ScheduleError(f"invalid date-time {text!r}") from exc


def _numbers(text: str, high: int, what: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(v) for v in text.split(",")}))
    except ValueError as exc:
        raise ScheduleError(f"invalid {what} {text!r}") from exc
    if not values or not all(0 <= v <= high for v in values):
        raise ScheduleError(f"invalid {what} {text!r}")
    return values


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A parsed schedule: first start, length (None: a pulse) and the RRULE subset."""

    start: datetime
    length: timedelta | None
    freq: str | None = None  # DAILY | WEEKLY; None: once
    interval: int = 1
    days: tuple[int, ...] = ()  # weekdays 0 (MO)..6
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()

    @property
    def pulse(self) -> bool:
        return self.length is None

    def _starts_on(self, day: date) -> list[datetime]:
        if day < self.start.date():
            return []
        if self.freq is None:
            return [self.start] if day == self.start.date() else []
        if self.freq == "DAILY":
            if (day - self.start.date()).days % self.interval:
                return []
            if self.days and day.weekday() not in self.days:
                return []
        else:  # WEEKLY: weeks counted from DTSTART's week
            first_monday = self.start.date() - timedelta(days=self.start.weekday())
            if ((day - first_monday).days // 7) % self.interval:
                return []
            if day.weekday() not in (self.days or (self.start.weekday(),)):
                return []
        hours, minutes = self.hours or (self.start.hour,), self.minutes or (self.start.minute,)
        moments = [datetime(day.year, day.month, day.day, h, m, self.start.second) for h in hours for m in minutes]
        return [moment for moment in moments if moment >= self.start]

    def _starts(self, first: date, last: date) -> list[datetime]:
        found: list[datetime] = []
        day = first
        while day <= last:
            found.extend(self._starts_on(day))
            day += timedelta(days=1)
        return found

    def _window(self, at: datetime) -> tuple[date, date]:
        back = (self.length.days + 1) if self.length else 1
        return at.date() - timedelta(days=back), at.date() + timedelta(days=7 * self.interval + 1)

    def active(self, wall: float) -> bool:
        """Inside an interval at this device time (a pulse is never 'active')."""
        if self.length is None:
            return False
        at = _local(wall)
        first, _ = self._window(at)
        return any(s <= at < s + self.length for s in self._starts(first, at.date()))

    def next_change(self, wall: float) -> float | None:
        """The next device time after `wall` when the interval starts or ends, or a pulse fires."""
        at = _local(wall)
        first, last = self._window(at)
        edges = []
        for start in self._starts(first, last):
            edges.append(start)
            if self.length is not None:
                edges.append(start + self.length)
        later = [edge for edge in edges if edge > at]
        return min(later).replace(tzinfo=UTC).timestamp() if later else None

    def pulses(self, after: float, until: float) -> int:
        """How many pulse starts fall in (after, until]."""
        low, high = _local(after), _local(until)
        return sum(1 for s in self._starts(low.date(), high.date()) if low < s <= high)


def _local(wall: float) -> datetime:
    return datetime.fromtimestamp(wall, UTC).replace(tzinfo=None)


def parse_icalendar(text: str) -> Recurrence:
    """A schedule's iCalendar text; ScheduleError when axisim does not take it."""
    fields: dict[str, str] = {}
    for token in text.split():
        name, colon, value = token.partition(":")
        if not colon or name.upper() not in ("DTSTART", "DTEND", "RRULE") or name.upper() in fields:
            raise ScheduleError(f"unexpected {token!r}")
        fields[name.upper()] = value
    if "DTSTART" not in fields:
        raise ScheduleError("DTSTART is missing")
    start = _stamp(fields["DTSTART"])
    length = None
    if "DTEND" in fields:
        length = _stamp(fields["DTEND"]) - start
        if length <= timedelta(0):
            raise ScheduleError("DTEND is not after DTSTART")
    if "RRULE" not in fields:
        return Recurrence(start, length)
    rule: dict[str, str] = {}
    for part in fields["RRULE"].split(";"):
        key, equals, value = part.partition("=")
        if not equals or key.upper() in rule:
            raise ScheduleError(f"invalid RRULE part {part!r}")
        rule[key.upper()] = value.upper()
    freq = rule.pop("FREQ", "")
    if freq not in ("DAILY", "WEEKLY"):
        raise ScheduleError(f"FREQ {freq or '(none)'} is not supported")
    interval = _numbers(rule.pop("INTERVAL", "1"), 52, "INTERVAL")[0]
    names = [d for d in rule.pop("BYDAY", "").split(",") if d]
    if any(d not in DAYS for d in names):
        raise ScheduleError(f"invalid BYDAY {','.join(names)!r}")
    days = tuple(sorted({DAYS.index(d) for d in names}))
    hours = _numbers(rule.pop("BYHOUR"), 23, "BYHOUR") if "BYHOUR" in rule else ()
    minutes = _numbers(rule.pop("BYMINUTE"), 59, "BYMINUTE") if "BYMINUTE" in rule else ()
    if rule:
        raise ScheduleError(f"RRULE {', '.join(rule)} is not supported")
    if interval < 1:
        raise ScheduleError("invalid INTERVAL")
    return Recurrence(start, length, freq, interval, days, hours, minutes)
