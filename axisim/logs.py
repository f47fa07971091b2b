"""The device's logs: system, access and (where the model has it) audit.

Lines are written as AXIS OS 10+ syslog lines, the form `systemlog.cgi` returns
(vapix-wire.md §3 [REC] and the VAPIX audit-log page):
`2025-07-22T15:38:25.307+00:00 axis-b8a44f000001 [ INFO    ] httpd[812]: text`.
The host name is taken when a line is written, as on a device whose log uses the
host name of the moment. Each log is a bounded ring, as a device's RAM log is.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_LINES = 2000
SESSION_SECONDS = 300.0


class Severity(enum.Enum):
    """Syslog severities with the label width AXIS OS pads them to (`[ WARNING ]`)."""

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
    "kernel": "kernel",
}


def timestamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


@dataclass(frozen=True, slots=True)
class Entry:
    at: float  # epoch seconds
    host: str
    severity: Severity
    source: str
    message: str

    def line(self) -> str:
        return f"{timestamp(self.at)} {self.host} {self.severity.label} {self.source}: {self.message}"


class Log:
    """One bounded log; `lines()` is what the device returns, oldest first."""

    def __init__(self, host: Callable[[], str], limit: int = MAX_LINES) -> None:
        self._host = host
        self._entries: deque[Entry] = deque(maxlen=limit)

    def write(self, severity: Severity, source: str, message: str) -> Entry:
        entry = Entry(time.time(), self._host(), severity, SOURCES.get(source, source), message)
        self._entries.append(entry)
        return entry

    def lines(self, tail: int | None = None, containing: str | None = None) -> list[str]:
        result = [e.line() for e in self._entries]
        if containing:
            result = [line for line in result if containing in line]
        return result[-tail:] if tail is not None and tail > 0 else result


class DeviceLogs:
    """System, access and optional audit log of one device."""

    def __init__(self, host: Callable[[], str], audit: bool) -> None:
        self.system = Log(host)
        self.access = Log(host)
        self.audit: Log | None = Log(host) if audit else None
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
