"""Time zones as an Axis device keeps them: a POSIX TZ string (`Time.POSIXTimeZone`) and,
when a client chose one, an IANA name (vapix-wire.md §5.5).

Pure and bounded: `parse_posix` reads one TZ string (glibc's grammar: `std offset [dst
[offset] [,start[/time],end[/time]]]`, names of three or more letters or `<...>`, dates
`Mm.w.d`, `Jn` or `n`) and refuses anything else with ValueError; `Zone` answers the UTC
offset at a Unix time, from the IANA database (zoneinfo) when it has a name, else from the
POSIX rules. `posix_of(name)` is the POSIX string the database itself stores for a zone (the
footer of its TZif file), so `setTimeZone("Europe/Stockholm")` and
`Time.POSIXTimeZone=CET-1CEST,M3.5.0,M10.5.0/3` are the same setting.
"""

from __future__ import annotations

import calendar
import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

MAX_POSIX = 64  # characters of a POSIX TZ string [GUESS: the device's limit is not documented]
DEFAULT_RULE = "M3.2.0,M11.1.0"  # glibc's rule for a DST name without dates (its posixrules)
_NAME = r"(?:[A-Za-z]{3,10}|<[A-Za-z0-9+-]{3,10}>)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}(?::\d{1,2})?)?"
_DATE = r"(?:M\d{1,2}\.\d\.\d|J\d{1,3}|\d{1,3})"
_POSIX = re.compile(
    rf"(?P<std>{_NAME})(?P<stdoff>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?"
    rf"(?:,(?P<start>{_DATE})(?:/(?P<stime>{_OFFSET}))?,(?P<end>{_DATE})(?:/(?P<etime>{_OFFSET}))?)?)?"
)


def _seconds(text: str, limit_hours: int) -> int:
    """`[+-]hh[:mm[:ss]]` as seconds; ValueError outside the grammar's ranges."""
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    hours, minutes, seconds = [*parts, 0, 0][:3]
    if hours > limit_hours or minutes > 59 or seconds > 59:
        raise ValueError(f"offset out of range: {text}")
    return sign * (hours * 3600 + minutes * 60 + seconds)


@dataclass(frozen=True, slots=True)
class Rule:
    """One transition date of a POSIX rule: `kind` M (month.week.day), J (1-365, no leap day) or n (0-365)."""

    kind: str
    month: int = 0
    week: int = 0
    weekday: int = 0
    day: int = 0
    at: int = 7200  # seconds after local midnight (default 02:00)

    @classmethod
    def parse(cls, text: str, at: str | None) -> Rule:
        when = _seconds(at, 167) if at is not None else 7200
        if text.startswith("M"):
            month, week, weekday = (int(p) for p in text[1:].split("."))
            if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6):
                raise ValueError(f"bad date {text}")
            return cls("M", month, week, weekday, at=when)
        if text.startswith("J"):
            day = int(text[1:])
            if not 1 <= day <= 365:
                raise ValueError(f"bad date {text}")
            return cls("J", day=day, at=when)
        day = int(text)
        if not 0 <= day <= 365:
            raise ValueError(f"bad date {text}")
        return cls("n", day=day, at=when)

    def local(self, year: int) -> int:
        """The transition in `year` as seconds since the epoch, counted in local wall time."""
        if self.kind == "M":
            first = (calendar.weekday(year, self.month, 1) + 1) % 7  # 0 = Sunday, as POSIX counts
            day = 1 + (self.weekday - first) % 7 + 7 * (self.week - 1)
            last = calendar.monthrange(year, self.month)[1]
            while day > last:  # week 5 means "the last"
                day -= 7
            midnight = datetime(year, self.month, day, tzinfo=UTC)
        elif self.kind == "J":  # 1..365, February 29 never counted
            midnight = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=self.day - 1)
            if calendar.isleap(year) and self.day >= 60:
                midnight += timedelta(days=1)
        else:
            midnight = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=self.day)
        return int(midnight.timestamp()) + self.at


@dataclass(frozen=True, slots=True)
class Posix:
    """A parsed POSIX TZ string; offsets are seconds east of UTC (the string's sign inverted)."""

    text: str
    std: str
    std_east: int
    dst: str | None = None
    dst_east: int = 0
    start: Rule | None = None
    end: Rule | None = None

    def offset(self, epoch: float, dst_enabled: bool = True) -> tuple[int, str]:
        """(seconds east of UTC, abbreviation) in effect at the Unix time `epoch`."""
        if self.dst is None or self.start is None or self.end is None or not dst_enabled:
            return self.std_east, self.std.strip("<>")
        year = datetime.fromtimestamp(epoch + self.std_east, UTC).year
        starts = self.start.local(year) - self.std_east  # the change to DST, in standard time
        ends = self.end.local(year) - self.dst_east  # the change back, in DST
        summer = starts <= epoch < ends if starts < ends else not (ends <= epoch < starts)
        return (self.dst_east, self.dst.strip("<>")) if summer else (self.std_east, self.std.strip("<>"))


def parse_posix(text: str) -> Posix:
    """A POSIX TZ string checked against the grammar and its ranges; ValueError otherwise."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_POSIX:
        raise ValueError("a POSIX time zone is 1 to 64 characters")
    match = _POSIX.fullmatch(text)
    if match is None:
        raise ValueError(f"not a POSIX time zone: {text!r}")
    std_east = -_seconds(match["stdoff"], 24)
    if match["dst"] is None:
        return Posix(text, match["std"], std_east)
    dst_east = -_seconds(match["dstoff"], 24) if match["dstoff"] else std_east + 3600
    rule = f"{match['start']},{match['end']}" if match["start"] else DEFAULT_RULE
    start_text, end_text = rule.split(",")
    start = Rule.parse(start_text, match["stime"])
    end = Rule.parse(end_text, match["etime"])
    return Posix(text, match["std"], std_east, match["dst"], dst_east, start, end)


def is_iana(name: str) -> bool:
    """A zone name the device's database has (the names getAll lists)."""
    return isinstance(name, str) and name in iana_names()


_NAMES: list[str] = []


def iana_names() -> list[str]:
    """Every IANA zone name, sorted (getAll's `timeZones`); read once."""
    if not _NAMES:
        _NAMES.extend(sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"))
    return _NAMES


@functools.lru_cache(maxsize=64)
def posix_of(name: str) -> str:
    """The POSIX TZ string the database keeps for a zone (its TZif footer); when the file cannot be
    read, a fixed offset from zoneinfo (e.g. `<+0530>-5:30`)."""
    for root in zoneinfo.TZPATH:
        path = Path(root) / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii", "replace")
        try:
            return parse_posix(footer).text
        except ValueError:
            break
    delta = datetime.now(zoneinfo.ZoneInfo(name)).utcoffset() or timedelta()
    east = int(delta.total_seconds())
    hours, minutes = divmod(abs(east) // 60, 60)
    clock = f"{hours}:{minutes:02d}" if minutes else f"{hours}"
    label = f"{'+' if east >= 0 else '-'}{hours:02d}{minutes:02d}"
    return f"<{label}>{'-' if east >= 0 else ''}{clock}"


class Zone:
    """A device's zone: the IANA database when it has a name, else the POSIX rules."""

    def __init__(self, posix: Posix, dst_enabled: bool = True, iana: str | None = None) -> None:
        self.posix = posix
        self.dst_enabled = dst_enabled
        self.iana = iana
        self._info = zoneinfo.ZoneInfo(iana) if iana is not None else None

    def offset(self, epoch: float) -> int:
        """Seconds east of UTC at the Unix time `epoch`."""
        if self._info is not None and self.dst_enabled:
            delta = datetime.fromtimestamp(epoch, self._info).utcoffset()
            return int(delta.total_seconds()) if delta is not None else 0
        return self.posix.offset(epoch, self.dst_enabled)[0]

    def local(self, epoch: float) -> datetime:
        """The local wall time at `epoch`, with its fixed UTC offset attached."""
        return datetime.fromtimestamp(epoch, timezone(timedelta(seconds=self.offset(epoch))))


UTC_ZONE = Zone(parse_posix("UTC0"))


def iso_local(moment: datetime, fraction: bool = False) -> str:
    """`2018-11-19T14:26:53+01:00` (with milliseconds when `fraction`: the log lines' form)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += f".{moment.microsecond // 1000:03d}"
    offset = int((moment.utcoffset() or timedelta()).total_seconds())
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"
