"""What an event stream (WebSocket, RTSP) may ask of the layer above it: the faults to apply and
where to record the session. The top layer puts a `StreamHooks` in the application under
`STREAM_HOOKS_KEY` (`axisim/pipeline.py`); without one a stream runs plain (`PLAIN`), so the wire
layer never imports the control API that implements them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True, slots=True)
class StreamFaults:
    """Injected by the control API: refuse the upgrade (or RTSP SETUP), close the stream after
    `drop_after` messages, hold each message `delay` seconds."""

    refuse: bool = False
    drop_after: int | None = None
    delay: float = 0.0


NO_FAULTS = StreamFaults()


class StreamSession(Protocol):
    """One open stream, as the journal records it."""

    def configured(self, filters: list[str]) -> None: ...
    def sent(self, count: int = 1) -> None: ...
    def dropped(self, count: int = 1) -> None: ...
    def closed(self, reason: str) -> None: ...


class StreamHooks(Protocol):
    def faults(self, kind: str) -> StreamFaults: ...
    def opened(self, kind: str, client: str, user: str) -> StreamSession: ...


class _Unrecorded:
    def configured(self, filters: list[str]) -> None:
        pass

    def sent(self, count: int = 1) -> None:
        pass

    def dropped(self, count: int = 1) -> None:
        pass

    def closed(self, reason: str) -> None:
        pass


class _Plain:
    def faults(self, kind: str) -> StreamFaults:
        return NO_FAULTS

    def opened(self, kind: str, client: str, user: str) -> StreamSession:
        return _Unrecorded()


PLAIN: StreamHooks = _Plain()
STREAM_HOOKS_KEY: web.AppKey[StreamHooks] = web.AppKey("stream_hooks", object)  # type: ignore[arg-type]


def stream_hooks(app: web.Application) -> StreamHooks:
    """The application's hooks, or the plain ones."""
    return app.get(STREAM_HOOKS_KEY, PLAIN)
