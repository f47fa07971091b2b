"""One RTSP connection to a device: requests in order, one session at most, the session timeout.

Serves `rtsp://host[:port]/axis-media/media.amp?...&event=on` (events.md §3): OPTIONS, DESCRIBE
(the metadata SDP), SETUP (UDP or TCP-interleaved), PLAY, PAUSE, GET_PARAMETER / SET_PARAMETER and
OPTIONS as keep-alives, TEARDOWN. Authentication is the device's: Digest (the `axis` library's
RFC 2069 form included: no qop, and `uri` the presentation URL even on SETUP, §3.2) or Basic as
`Network.HTTP.AuthenticationPolicy` says, against its accounts, logged like HTTP's. Any bad input
gets its RTSP status and never a traceback; a connection that sends nothing for the session
timeout is closed with its session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from param_tree import Role

from ..auth import Outcome, authenticate, parse_digest_params
from ..connection import admitted
from ..lifecycle import State
from .messages import BadRequest, Reader, Request, reply
from .stream import Sink, Stream, parse_transport, topic_filters

if TYPE_CHECKING:
    from .listener import RtspServer

LOG = logging.getLogger("axisim")
PRESENTATION = "/axis-media/media.amp"
STREAM_PATH = PRESENTATION + "/stream=0"
PATHS = frozenset({PRESENTATION, PRESENTATION + "/", STREAM_PATH})
PUBLIC = "OPTIONS, DESCRIBE, GET_PARAMETER, PAUSE, PLAY, SETUP, SET_PARAMETER, TEARDOWN"
FREE = frozenset({"OPTIONS", "GET_PARAMETER"})  # keep-alives: the `axis` library sends them without auth
KNOWN = frozenset({"OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"})
NOT_ALLOWED = frozenset({"ANNOUNCE", "RECORD", "REDIRECT"})
MAX_URL = 2048  # longer: 414
MAX_ERRORS = 16  # refused requests in a row before the connection closes


class Target:
    """The parts of a request URL the device cares about."""

    def __init__(self, url: str) -> None:
        usable = len(url) <= MAX_URL and url.isascii() and url.isprintable() and " " not in url
        parts = urlsplit(url) if usable and url.startswith(("rtsp://", "rtspu://", "rtsps://")) else None
        self.valid = parts is not None and bool(parts.netloc)
        self.origin = f"{parts.scheme}://{parts.netloc}" if parts is not None else ""
        self.path = parts.path if parts is not None else ""
        self.query = parts.query if parts is not None else ""
        self.params = parse_qs(self.query, max_num_fields=64) if self.query else {}

    @property
    def is_stream(self) -> bool:
        return self.valid and self.path in PATHS

    @property
    def events_on(self) -> bool:
        return self.params.get("event", [""])[-1] == "on"


class RtspConnection(asyncio.Protocol):
    def __init__(self, server: RtspServer) -> None:
        self.server = server
        self.device = server.device
        self.transport: asyncio.Transport | None = None
        self.client = "-"
        self.local = server.host
        self.reader = Reader()
        self.stream: Stream | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._errors = 0  # refused requests in a row
        self._credentials = False  # the request being answered carried credentials

    # -- connection --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.client = peer[0] if peer else "-"
        self.local = local[0] if local else self.server.host
        dropped = self.device.packet_filter is not None and not admitted(self.device, transport)
        if dropped or not self.server.admit(self):
            transport.abort()  # the device's firewall drops it (no answer), or too many connections
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.end_stream("client closed the connection")
        self.server.forget(self)
        if self._timer is not None:
            self._timer.cancel()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self.server.session_timeout, self._expired)

    def _expired(self) -> None:
        self.close("session timeout")

    def close(self, reason: str) -> None:
        """End the session (journaled with `reason`) and the connection."""
        self.end_stream(reason)
        if self.transport is not None:
            self.transport.close()

    def end_stream(self, reason: str) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close(reason)

    def _stream_ended(self, stream: Stream, reason: str) -> None:
        """A fault ended the stream: the session and its connection go, as a dropped stream's would."""
        if stream is self.stream:
            self.close(reason)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _answered(self, data: bytes) -> None:
        """A reply; after MAX_ERRORS refusals in a row the connection closes (the `axis` library
        re-sends a refused request at once, so a client that cannot succeed would spin)."""
        self.write(data)
        status = data[9:12]
        if status == b"200":
            self._errors = 0
            return
        if status == b"401" and not self._credentials:
            return  # a challenge to a first try, not a refusal
        self._errors += 1
        if self._errors >= MAX_ERRORS:
            self.close("too many refused requests")

    def _backlog(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if self.device.packet_filter is not None and transport is not None and not admitted(self.device, transport):
            self.end_stream("dropped by the firewall")  # the firewall's rules changed since it connected
            transport.abort()
            return
        self._arm()  # any bytes, interleaved RTCP included, keep the session alive
        try:
            requests = self.reader.feed(data)
        except BadRequest as exc:
            LOG.info("%s RTSP: bad request (%s)", self.client, exc)
            self.write(reply(exc.status, exc.cseq))
            self.close(f"bad request: {exc}")
            return
        for request in requests:
            if self.transport is None or self.transport.is_closing():
                return
            try:
                self._handle(request)
            except Exception:  # a simulator bug must not look like a device crash
                LOG.exception("RTSP %s %s failed", request.method, request.url[:200])
                self.write(reply(500, request.cseq))

    # -- requests ----------------------------------------------------------------------------

    def _handle(self, request: Request) -> None:
        state = self.device.lifecycle.state
        if state in (State.OFFLINE, State.OFF) or not self.device.link_up:
            assert self.transport is not None
            self.end_stream("device unreachable")
            self.transport.abort()
            return
        method, cseq = request.method, request.cseq
        self._credentials = "authorization" in request.headers
        if method not in KNOWN:
            allow = [("Allow", PUBLIC)] if method in NOT_ALLOWED else []
            self._answered(reply(405 if method in NOT_ALLOWED else 501, cseq, allow))
            return
        if len(request.url) > MAX_URL:
            self._answered(reply(414, cseq))
            return
        target = Target(request.url)
        if not target.valid and not (method == "OPTIONS" and request.url == "*"):
            self._answered(reply(400, cseq))
            return
        if state is State.BOOTING and method != "OPTIONS":
            self._answered(reply(503, cseq))  # then closed: the `axis` library re-sends a refused request at
            self.close("device booting")  # once, forever; closed, it retries after its time-out
            return
        user = ""
        if method not in FREE:
            refused, user = self._authorized(request, target)
            if refused is not None:
                self._answered(refused)
                return
        getattr(self, "_" + method.lower())(request, target, user)

    def _session_headers(self) -> list[tuple[str, str]]:
        stream = self.stream
        return [] if stream is None else [("Session", f"{stream.id};timeout={self.server.session_timeout:g}")]

    def _own_session(self, request: Request) -> bool:
        """The request names this connection's session (Session: <id>[;timeout=...])."""
        named = request.headers.get("session", "").partition(";")[0].strip()
        return self.stream is not None and named == self.stream.id

    def _options(self, request: Request, target: Target, user: str) -> None:
        headers = [("Public", PUBLIC)]
        if self._own_session(request):
            headers += self._session_headers()
        self._answered(reply(200, request.cseq, headers))

    def _get_parameter(self, request: Request, target: Target, user: str) -> None:
        if "session" in request.headers and not self._own_session(request):
            self._answered(reply(454, request.cseq))
        elif request.body.strip():
            self._answered(reply(451, request.cseq, self._session_headers()))  # no parameters to tell
        else:
            self._answered(reply(200, request.cseq, self._session_headers() if self._own_session(request) else []))

    def _set_parameter(self, request: Request, target: Target, user: str) -> None:
        self._get_parameter(request, target, user)

    def _describe(self, request: Request, target: Target, user: str) -> None:
        if not target.is_stream or target.path == STREAM_PATH or not target.events_on:
            self._answered(reply(404, request.cseq))  # axisim streams events only: no video or audio
            return
        base = f"{target.origin}{PRESENTATION}"
        sdp = _sdp(request.url, f"{base}/stream=0?{target.query}", self.local)
        headers = [("Content-Type", "application/sdp"), ("Content-Base", f"{base}/")]
        self._answered(reply(200, request.cseq, headers, sdp.encode()))

    def _setup(self, request: Request, target: Target, user: str) -> None:
        cseq = request.cseq
        if not target.is_stream or (target.query and not target.events_on):
            self._answered(reply(404, cseq))
            return
        if self.stream is not None:
            self._answered(reply(459 if self._own_session(request) else 455, cseq))  # one stream per session
            return
        spec = parse_transport(request.headers.get("transport", ""))
        if spec is None:
            self._answered(reply(461, cseq))
            return
        try:
            patterns = topic_filters(target.params.get("eventtopic", []))
        except ValueError:
            self._answered(reply(400, cseq))
            return
        faults = self.server.hooks.faults("rtsp")  # one call: one stream (it spends a fault's count)
        if faults.refuse:
            self._answered(reply(503, cseq))
            self.close("refused (fault)")
            return
        try:
            sink = Sink(spec, self.local, self.client, self.write, self._backlog)
        except OSError as exc:
            LOG.warning("%s RTSP: no UDP port for a session (%s)", self.device.serial, exc)
            self._answered(reply(503, cseq))
            return
        record = self.server.hooks.opened("rtsp", self.client, user)
        record.configured(list(target.params.get("eventtopic", [])))
        self.stream = Stream(self.device, sink, patterns, faults, record, self.server.producer, self._stream_ended)
        headers = [("Transport", spec.header(sink.server_ports, self.stream.rtp.ssrc)), *self._session_headers()]
        self._answered(reply(200, cseq, headers))

    def _play(self, request: Request, target: Target, user: str) -> None:
        stream = self.stream
        if stream is None or not self._own_session(request):
            self._answered(reply(454, request.cseq))
            return
        control = f"{target.origin}{STREAM_PATH}" + (f"?{target.query}" if target.query else "")
        rtp_info = f"url={control};seq={stream.rtp.seq};rtptime={stream.rtp.timestamp(self.device.clock.wall())}"
        headers = [("RTP-Info", rtp_info), ("Range", "npt=now-"), *self._session_headers()]
        self._answered(reply(200, request.cseq, headers))  # the reply first: on TCP, packets follow it
        stream.play()

    def _pause(self, request: Request, target: Target, user: str) -> None:
        if self.stream is None or not self._own_session(request):
            self._answered(reply(454, request.cseq))
            return
        self.stream.pause()
        self._answered(reply(200, request.cseq, self._session_headers()))

    def _teardown(self, request: Request, target: Target, user: str) -> None:
        if self.stream is None or not self._own_session(request):
            self._answered(reply(454, request.cseq))
            return
        self._answered(reply(200, request.cseq))
        self.end_stream("teardown")

    # -- authentication ------------------------------------------------------------------------

    def _authorized(self, request: Request, target: Target) -> tuple[bytes | None, str]:
        """(None, user) when the request may go on; else (the reply, "")."""
        device = self.device
        header = request.headers.get("authorization")
        path = target.path or request.url
        result = None
        if header:
            result = authenticate(
                header, method=request.method, target=self._digest_target(header, target, request.url),
                schemes=device.schemes(False), digest=device.digest, accounts=device.accounts,
            )  # fmt: skip
            if result.outcome in (Outcome.INVALID, Outcome.BAD_REQUEST):
                device.logs.failed_login(result.username, self.client, result.reason, path)
            if result.outcome is Outcome.BAD_REQUEST:
                return reply(400, request.cseq), ""
            if result.account is not None:
                if result.account.role >= Role.VIEWER:
                    device.logs.successful_login(result.account.name, self.client)
                    return None, result.account.name
                device.logs.failed_login(result.username, self.client, "authorization failure", path)
        elif device.anonymous_role >= Role.VIEWER:
            return None, ""
        stale = result is not None and result.outcome is Outcome.STALE
        return reply(401, request.cseq, [("WWW-Authenticate", self._challenge(stale))]), ""

    def _digest_target(self, header: str, target: Target, url: str) -> str:
        """What the Digest `uri` must name: the request URL, or, for any request on the stream, the
        presentation URL (the `axis` library hashes that one even for SETUP, events.md §3.2)."""
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            return url
        uri = parse_digest_params(rest).get("uri", "")
        if uri == url:
            return url
        named = Target(uri)
        if target.is_stream and named.is_stream and named.origin.lower() == target.origin.lower():
            return uri
        return url

    def _challenge(self, stale: bool) -> str:
        """One challenge line, in the form the `axis` library parses (events.md §3.4): realm the first
        quoted value, nonce the second, `stale=` present and last; no qop."""
        device = self.device
        if not device.schemes(False).digest:
            return f'Basic realm="{device.digest.realm}"'
        flag = "TRUE" if stale else "FALSE"
        return f'Digest realm="{device.digest.realm}", nonce="{device.digest.nonce()}", stale={flag}'


def _sdp(url: str, control: str, local: str) -> str:
    """The metadata stream's SDP (events.md §3.3); both `a=control` lines absolute (§3.4)."""
    family = "IP6" if ":" in local else "IP4"
    lines = [
        "v=0",
        f"o=- {abs(hash(control)) % 10**19} 1 IN {family} {local}",
        "s=Session streamed with GStreamer",
        "i=rtsp-server",
        "t=0 0",
        "a=tool:GStreamer",
        "a=type:broadcast",
        "a=range:npt=now-",
        f"a=control:{url}",
        "m=application 0 RTP/AVP 98",
        f"c=IN {family} {'::' if family == 'IP6' else '0.0.0.0'}",
        "a=rtpmap:98 vnd.onvif.metadata/90000",
        "a=ts-refclk:local",
        "a=mediaclk:sender",
        f"a=control:{control}",
    ]
    return "\r\n".join(lines) + "\r\n"
