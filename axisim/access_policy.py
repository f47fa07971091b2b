"""Who may use which listener, and where the listeners are: the device's access settings as rules.

- `System.BoaGroupPolicy.{admin,operator,viewer}` = http | https | both (param-trees.md §3.1;
  every manual, Network > "HTTP and HTTPS": "Allow access through: ... HTTP, HTTPS, or both").
  A caller whose role's policy excludes the scheme it came in on is refused with 403 (the request
  pipeline asks `allows`). The 403 is inferred, not recorded: Home Assistant issue #63755 (an
  HTTPS-only P3224 asked over HTTP) shows a 4xx that the axis library of the time did not map to
  401/404/405, and #90675 says allowing both again cured the "auth issue".
- `HTTPS.Enabled`, `HTTPS.Port`, `System.BoaPort`, `Network.RTSP.Enabled` and `Network.RTSP.Port`
  say where the device listens: `Listeners` reads them, and `moved(applied)` says whether a change
  touches them (the server then probes the new ports before the reply and moves its listeners
  after it).

No HTTP here: the server and the pipeline apply these rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from param_tree import Role

from .logs import DeviceLogs, Severity

HTTP_PORT = "System.BoaPort"
HTTPS_PORT = "HTTPS.Port"
HTTPS_ENABLED = "HTTPS.Enabled"
RTSP_PORT = "Network.RTSP.Port"
RTSP_ENABLED = "Network.RTSP.Enabled"
LISTENER_PARAMS = frozenset({HTTP_PORT, HTTPS_PORT, HTTPS_ENABLED, RTSP_PORT, RTSP_ENABLED})
POLICY = "System.BoaGroupPolicy."
POLICY_ROLES = ((Role.ADMIN, "admin"), (Role.OPERATOR, "operator"), (Role.VIEWER, "viewer"))


@dataclass(frozen=True, slots=True)
class GroupPolicy:
    """Per role, the schemes it may use (the role group's `BoaGroupPolicy` entry)."""

    http: frozenset[Role]  # roles allowed over HTTP
    https: frozenset[Role]  # roles allowed over HTTPS

    @classmethod
    def read(cls, param: Callable[[str, str], str]) -> GroupPolicy:
        http, https = set(), set()
        for role, word in POLICY_ROLES:
            value = param(POLICY + word, "both")
            if value in ("http", "both"):
                http.add(role)
            if value in ("https", "both"):
                https.add(role)
        return cls(frozenset(http), frozenset(https))

    def allows(self, role: Role, secure: bool) -> bool:
        """Whether a caller of `role` may be served over this scheme. An account's role is its
        highest group (root: admin); anonymous callers (no account, no anonymous viewing) are not
        in any group, so no policy applies to them."""
        if role < Role.VIEWER:
            return True
        group = Role.ADMIN if role >= Role.ADMIN else Role.OPERATOR if role >= Role.OPERATOR else Role.VIEWER
        return group in (self.https if secure else self.http)


@dataclass(frozen=True, slots=True)
class Listeners:
    """Where the device's settings say it listens (None: that listener is off or not in the tree)."""

    http: int
    https: int | None
    rtsp: int | None

    @classmethod
    def read(cls, param: Callable[[str, str], str], names: Callable[[str], bool]) -> Listeners:
        https = None
        if names(HTTPS_PORT) and param(HTTPS_ENABLED, "yes") != "no":
            https = port_of(param(HTTPS_PORT, "0"))
        rtsp = None
        if names(RTSP_PORT) and param(RTSP_ENABLED, "yes") != "no":
            rtsp = port_of(param(RTSP_PORT, "0"))
        return cls(port_of(param(HTTP_PORT, "0")) or 0, https, rtsp)

    def clashes(self) -> list[str]:
        """The settings that name a port another of the device's listeners already has."""
        seen: dict[int, str] = {self.http: HTTP_PORT}
        clashing = []
        for name, port in ((HTTPS_PORT, self.https), (RTSP_PORT, self.rtsp)):
            if port is None:
                continue
            if port in seen:
                clashing.append(name)
            seen.setdefault(port, name)
        return clashing


def port_of(text: str) -> int | None:
    """A port setting's number (None: not a number)."""
    return int(text) if text.isdigit() else None


def moved(applied: Mapping[str, str]) -> bool:
    """Whether a change names a listener's setting (most changes do not: one set test)."""
    return not LISTENER_PARAMS.isdisjoint(applied)


def denied(logs: DeviceLogs, user: str, client: str, path: str, secure: bool) -> None:
    """The access log line of a caller its role's connection policy refuses."""
    scheme = "HTTP" if not secure else "HTTPS"
    logs.access.write(
        Severity.WARNING, "auth",
        f"[client {client}] user {user or '-'}: {scheme} not allowed for this user group (\"{path}\")",
    )  # fmt: skip
