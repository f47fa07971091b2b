"""The device's logs: system, access and (where the model has it) audit.

Lines are written as AXIS OS 10+ syslog lines, the form `systemlog.cgi` returns
(vapix-wire.md §3 [REC] and the VAPIX audit-log page):
`2025-07-22T15:38:25.307+00:00 axis-b8a44f000001 [ INFO    ] httpd[812]: text`.
The host name is taken when a line is written, as on a device whose log uses the
host name of the moment. Each log is a bounded ring, as a device's RAM log is.

Every line passes one sanitiser where it enters a log (`Log.write`): whatever a
client put in a user name, path or parameter, a line is printable text of bounded
length on one line. Escapes follow Apache's `ap_escape_logitem`: a byte that is not
UTF-8 becomes `\\xff` as text; CR, LF and tab `\\r`, `\\n`, `\\t`; other control and
non-printable characters `\\xNN` or `\\uNNNN`; the backslash itself `\\\\`, so an
escape cannot be forged either.
"""

from __future__ import annotations

import enum
import functools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .timezone import UTC_ZONE, Zone, iso_local

MAX_LINES = 2000
SESSION_SECONDS = 300.0
MAX_FIELD = 1024  # characters of one escaped message (host, source: far less); the rest is cut
TRUNCATED = "...[truncated]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape_one(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if char.isprintable():  # printable text (é, 日本) stays as it is
        return char
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def sanitise(text: str, limit: int = MAX_FIELD) -> str:
    """One log field as safe text: printable, one line, at most `limit` characters (then a mark)."""
    if len(text) <= limit and text.isprintable() and "\\" not in text:
        return text  # the common case: two C-level scans
    pieces: list[str] = []
    size = 0
    for char in text[: limit + 1]:  # every character gives at least one: no need to look further
        piece = char if char.isprintable() and char != "\\" else _escape_one(char)
        if size + len(piece) > limit:  # an escape is never cut in half
            return "".join(pieces) + TRUNCATED
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces)



@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change, for the logs: an account name (or "") and a client address."""

    user: str = ""
    client: str = "-"

    @property
    def who(self) -> str:
        return self.user or "anonymous"


SYSTEM = Actor("system", "localhost")

class Severity(enum.Enum):
    """Syslog severities with the label width AXIS OS pads them to (`[ WARNING ]`)."""

    ALERT = "ALERT"
    CRIT = "CRIT"
    ERR = "ERR"
    WARNING = "WARNING"
    NOTICE = "NOTICE"
    INFO = "INFO"

    @property
    def label(self) -> str:
        return f"[ {self.value:<7} ]"


# the process names and pids that write each kind of line, as on a device
SOURCES = {
    "systemd": "systemd[1]",
    "httpd": "httpd[812]",
    "fwmgr": "fwmgr[1433]",
    "param": "parhand[921]",
    "accounts": "user-service[1021]",
    "auth": "httpd[812]",
    "evasive": "mod_evasive[812]",  # Apache's module, in the web server's process [GUESS: its pid]
    "kernel": "kernel",
}


def timestamp(epoch: float, zone: Zone = UTC_ZONE) -> str:
    """A log line's time in the device's time zone (`2025-07-22T17:38:25.307+02:00`)."""
    if zone is UTC_ZONE:
        moment = datetime.fromtimestamp(epoch, UTC)
        return _utc_second(moment.replace(microsecond=0)) + f"{moment.microsecond // 1000:03d}+00:00"
    return iso_local(zone.local(epoch), fraction=True)


@functools.lru_cache(maxsize=16)
def _utc_second(moment: datetime) -> str:
    """`2025-07-22T17:38:25.`: lines come in bursts within a second (a fleet starting, a client's failed logins)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.")


class Stamper:
    """The device's wall clock and time zone, shared by its logs: a line is stamped when it is
    written, in the zone of that moment, as a device's syslog does."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self.wall = wall
        self.zone: Zone = UTC_ZONE  # the time service sets it (axisim/subsystems/time)

    def __call__(self) -> tuple[float, str]:
        at = self.wall()
        return at, timestamp(at, self.zone)


@dataclass(frozen=True, slots=True)
class Entry:
    at: float  # epoch seconds on the device clock
    stamp: str  # `at` as the line shows it, in the zone of the moment it was written
    host: str
    severity: Severity
    source: str
    message: str

    def line(self) -> str:
        return f"{self.stamp} {self.host} {self.severity.label} {self.source}: {self.message}"


class Log:
    """One bounded log; `lines()` is what the device returns, oldest first."""

    __slots__ = ("_entries", "_host", "_limit", "_stamper")

    def __init__(self, host: Callable[[], str], limit: int = MAX_LINES, stamper: Stamper | None = None) -> None:
        self._host = host
        self._stamper = stamper or Stamper()
        self._limit = limit
        self._entries: deque[Entry] | None = None  # made with the first line: most access logs of a fleet stay empty

    def write(self, severity: Severity, source: str, message: str) -> Entry:
        """The only way into a log: every field is sanitised here, whoever wrote it."""
        entry = Entry(
            *self._stamper(), sanitise(self._host(), 255), severity, sanitise(SOURCES.get(source, source), 64),
            sanitise(message),
        )  # fmt: skip
        if self._entries is None:
            self._entries = deque(maxlen=self._limit)
        self._entries.append(entry)
        return entry

    def lines(self, tail: int | None = None, containing: str | None = None) -> list[str]:
        result = [e.line() for e in self._entries or ()]
        if containing:
            result = [line for line in result if containing in line]
        return result[-tail:] if tail is not None and tail > 0 else result


class DeviceLogs:
    """System, access and optional audit log of one device."""

    def __init__(self, host: Callable[[], str], audit: bool, wall: Callable[[], float] = time.time) -> None:
        self.stamper = Stamper(wall)  # its `zone` is the device's time zone
        self.system = Log(host, stamper=self.stamper)
        self.access = Log(host, stamper=self.stamper)
        self.audit: Log | None = Log(host, stamper=self.stamper) if audit else None
        self._seen: dict[tuple[str, str], float] = {}  # last audited success per (user, client)

    def system_event(self, message: str, source: str = "systemd", severity: Severity = Severity.INFO) -> None:
        self.system.write(severity, source, message)
        if self.audit is not None:
            self.audit.write(severity, source, f"System: {message}")

    def configuration(self, who: str, client: str, message: str, source: str = "param") -> None:
        """A change someone made: system log, and the audit log with who and from where."""
        self.system.write(Severity.NOTICE, source, f"{message} (by {who} from {client})")
        if self.audit is not None:
            self.audit.write(Severity.INFO, source, f"Configuration: {who}@{client} {message}")

    def failed_login(self, user: str, client: str, reason: str, path: str) -> None:
        """Every failed authentication goes to the access log (and the audit log)."""
        shown = user or "-"
        self.access.write(
            Severity.WARNING, "auth", f"[client {client}] user {shown}: authentication failure for \"{path}\": {reason}"
        )
        if self.audit is not None:
            self.audit.write(Severity.INFO, "auth", f"Authentication: {shown}@{client} Authentication failed (HTTP).")

    def address_blocked(self, client: str) -> None:
        """Brute-force blocking starts (axisim/dos_guard.py): mod_evasive's syslog line, at ALERT."""
        self.system.write(Severity.ALERT, "evasive", f"Blacklisting address {client}: possible DoS attack.")

    def access_denied(self, client: str, path: str) -> None:
        """A request from a blocked address: the error line mod_evasive writes for each one."""
        self.access.write(Severity.ERR, "httpd", f"[client {client}] client denied by server configuration: {path}")

    def successful_login(self, user: str, client: str) -> None:
        """Only the audit log records successful authentications (S4000 manual, Logs)."""
        if self.audit is None:
            return
        now = time.monotonic()
        key = (user, client)
        if now - self._seen.get(key, -SESSION_SECONDS) < SESSION_SECONDS:
            return  # Digest authenticates every request; the log records a session, not each request
        if len(self._seen) > MAX_LINES:
            self._seen.clear()
        self._seen[key] = now
        self.audit.write(Severity.INFO, "auth", f"Authentication: {user}@{client} Authentication successful (HTTP).")
