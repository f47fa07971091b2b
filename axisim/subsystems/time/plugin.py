"""The device's date, time and time zone (vapix-wire.md §5.5), one state behind every API.

The zone is `Time.POSIXTimeZone` with `Time.DST.Enabled` (param.cgi and time.cgi change the same
parameters); an IANA name chosen with `setTimeZone` is kept beside it while the POSIX string is
still the one the database gives for that name (`axisim/timezone.py`), so a client that sets
`Time.POSIXTimeZone` directly leaves the IANA name behind, as it must. The device's wall clock is
the SimClock's: setting the date moves its wall time only (`SimClock.set_wall`); uptime, pending
jobs and timers keep running on `now()`. The logs are stamped in the zone (`DeviceLogs.stamper`).
NTP is simulated: there is no NTP traffic; a device whose sync source is NTP and that knows a
server reports itself synchronised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from param_tree import Role

from ...lifecycle import RestartKind
from ...timezone import UTC_ZONE, Zone, is_iana, parse_posix, posix_of
from ..base import Refusal, Subsystem

if TYPE_CHECKING:
    from ...logs import Actor
    from ..base import DeviceView

POSIX = "Time.POSIXTimeZone"
DST = "Time.DST.Enabled"
SYNC_SOURCE = "Time.SyncSource"
FROM_DHCP = "Time.ObtainFromDHCP"
NTP_SERVER = "Time.NTP.Server"
ROUTER = "Network.DefaultRouter"
MAX_YEAR = 2069  # getDateTimeInfo's maxYearSupported (§5.5)
MIN_YEAR = 1970  # [GUESS: the API documents no lower bound; the Unix epoch]
NO_SERVER = ("", "0.0.0.0")


class TimeError(Refusal):
    """A date or zone the device refuses (the API's "invalid params")."""


@dataclass(frozen=True, slots=True)
class DateTimeInfo:
    """What getDateTimeInfo reports: the wall time and the zone settings."""

    utc: datetime
    local: datetime
    iana: str | None
    posix: str
    dst_enabled: bool
    max_year: int = MAX_YEAR


@dataclass(frozen=True, slots=True)
class NtpStatus:
    """The NTP client as the manuals' "Date and time" page shows it (simulated: no NTP traffic)."""

    enabled: bool
    source: str  # "DHCP" or "static"
    servers: tuple[str, ...]  # the servers in use
    static: tuple[str, ...]
    advertised: tuple[str, ...]  # what the simulated DHCP server offers
    synced: bool


class TimeSubsystem(Subsystem):
    name = "time"

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.iana: str | None = None
        self.second_server = ""  # a second static NTP server (the parameters hold one)
        self.zone: Zone = UTC_ZONE
        self._apply()

    # -- the zone ------------------------------------------------------------------------------

    def _apply(self) -> None:
        """Rebuild the zone from the parameters and give it to the logs."""
        text = self.device.param(POSIX, "UTC0")
        try:
            posix = parse_posix(text)
        except ValueError:  # a saved value from before the check: the device falls back to UTC
            posix = UTC_ZONE.posix
        if self.iana is not None and posix_of(self.iana) != posix.text:
            self.iana = None  # the POSIX string was changed on its own: the IANA name no longer holds
        zone = Zone(posix, self.device.param(DST, "yes") == "yes", self.iana)
        changed = (zone.posix, zone.dst_enabled, zone.iana) != (self.zone.posix, self.zone.dst_enabled, self.zone.iana)
        self.zone = zone
        self.device.logs.stamper.zone = zone
        if changed:
            self.device.clock.notify()  # schedules in local time move with the zone

    def refused(self, proposed: dict[str, str]) -> set[str]:
        """A malformed POSIX string is refused as param.cgi refuses a bad value."""
        if POSIX not in proposed:
            return set()
        try:
            parse_posix(proposed[POSIX])
        except ValueError:
            return {POSIX}
        return set()

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(name.startswith("Time.") for name in applied):
            self._apply()

    def info(self) -> DateTimeInfo:
        wall = self.device.clock.wall()
        return DateTimeInfo(
            datetime.fromtimestamp(wall, UTC), self.zone.local(wall), self.iana, self.zone.posix.text,
            self.zone.dst_enabled,
        )  # fmt: skip

    def set_iana(self, name: str, actor: Actor) -> None:
        """setTimeZone: a name of the database, its POSIX string stored with DST on."""
        if not is_iana(name):
            raise TimeError(f"unknown time zone {name!r}")
        self.iana = name
        self._set_zone(posix_of(name), True, actor)

    def set_posix(self, text: str, dst_enabled: bool, actor: Actor) -> None:
        """setPosixTimeZone: a POSIX string (checked) and the DST flag; the IANA name is dropped."""
        try:
            parse_posix(text)
        except ValueError as exc:
            raise TimeError(str(exc)) from exc
        self.iana = None
        self._set_zone(text, dst_enabled, actor)

    def reset_zone(self, actor: Actor) -> None:
        """resetTimeZone: the factory zone (the fixtures' `UTC0`, DST flag on)."""
        self.iana = None
        default = self.device.params.definition(POSIX)
        self._set_zone(default.value if default is not None else "UTC0", True, actor)

    def _set_zone(self, posix: str, dst_enabled: bool, actor: Actor) -> None:
        changes = [(POSIX, posix), (DST, "yes" if dst_enabled else "no")]
        refused = self.device.update_params(changes, Role.ADMIN, actor, atomic=True)
        if refused:
            raise TimeError(f"refused: {refused}")
        self._apply()
        self.device.changed()  # the IANA name is saved state even when the parameters did not change

    # -- the clock -----------------------------------------------------------------------------

    def set_date_time(self, moment: datetime, actor: Actor) -> None:
        """setDateTime (UTC): the wall clock jumps, backwards too; uptime is not touched."""
        if moment.tzinfo is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise TimeError(f"date out of range: {moment}")
        self.device.clock.set_wall(moment.timestamp())
        shown = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.device.logs.configuration(actor.who, actor.client, f"Date and time set to {shown}", source="systemd")
        self.device.changed()

    # -- NTP -----------------------------------------------------------------------------------

    def ntp(self) -> NtpStatus:
        """NTP from the parameters: DHCP's servers (the simulated DHCP server, at the default
        router, offers itself [GUESS]) or the static `Time.NTP.Server` (and a second one)."""
        enabled = self.device.param(SYNC_SOURCE, "NTP") == "NTP"
        dhcp = self.device.param(FROM_DHCP, "yes") == "yes"
        first = self.device.param(NTP_SERVER, "")
        static = tuple(s for s in (first, self.second_server if first not in NO_SERVER else "") if s not in NO_SERVER)
        router = self.device.param(ROUTER, "")
        advertised = (router,) if router not in NO_SERVER else ()
        servers = advertised if dhcp else static
        return NtpStatus(enabled, "DHCP" if dhcp else "static", servers, static, advertised, enabled and bool(servers))

    def set_ntp(self, enabled: bool | None, source: str | None, servers: list[str] | None, actor: Actor) -> None:
        """The NTP client's settings (None: unchanged): on or off, servers from DHCP or static, one
        or two static servers (the first is `Time.NTP.Server`). TimeError when refused."""
        if source is not None and source not in ("DHCP", "static"):
            raise TimeError(f"unknown server source {source!r}")
        if servers is not None and (len(servers) > 2 or any(self._bad_server(s) for s in servers)):
            raise TimeError(f"bad NTP servers {servers!r}")
        changes: list[tuple[str, str]] = []
        if enabled is not None:
            changes.append((SYNC_SOURCE, "NTP" if enabled else "None"))
        if source is not None:
            changes.append((FROM_DHCP, "yes" if source == "DHCP" else "no"))
        if servers is not None:
            changes.append((NTP_SERVER, servers[0] if servers else "0.0.0.0"))
        refused = self.device.update_params(changes, Role.ADMIN, actor, atomic=True) if changes else []
        if refused:
            raise TimeError(f"refused: {refused}")
        if servers is not None:
            self.second_server = servers[1] if len(servers) > 1 else ""
            self.device.changed()

    def _bad_server(self, server: str) -> bool:
        """Not a host name or address `Time.NTP.Server` takes (its hostname type)."""
        return bool(self.device.params.validate([(NTP_SERVER, server)], Role.ADMIN)[1]) or server in NO_SERVER

    def going_down(self, kind: RestartKind) -> None:
        """A factory default forgets the second NTP server with the parameters (the time stays)."""
        if kind is not RestartKind.REBOOT:
            self.second_server = ""

    # -- saved state ---------------------------------------------------------------------------

    def to_state(self) -> Any:
        return {
            "iana": self.iana, "wall_offset": round(self.device.clock.wall_shift(), 3),
            "second_ntp_server": self.second_server,
        }  # fmt: skip

    def load_state(self, state: Any) -> None:
        if state is None:
            return
        if not isinstance(state, dict):
            raise ValueError("time: not an object")
        iana, offset = state.get("iana"), state.get("wall_offset", 0.0)
        if iana is not None and not is_iana(iana):
            raise ValueError(f"time: unknown zone {iana!r}")
        if isinstance(offset, bool) or not isinstance(offset, int | float) or abs(offset) > 200 * 365 * 86400:
            raise ValueError("time: bad wall offset")
        second = state.get("second_ntp_server", "")
        if not isinstance(second, str) or len(second) > 255:
            raise ValueError("time: bad NTP server")
        self.iana, self.second_server = iana, second
        self.device.clock.shift_wall(float(offset))
