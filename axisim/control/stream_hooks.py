"""The control API's side of the event streams (cgi_handlers/streams.py `StreamHooks`): the stream
faults a test injected (axisim/control/faults.py, kind "websocket" or "rtsp") and the journal's
record of each stream session. `build_app` puts one in every device application, built from the
simulator's journal and faults, so it outlives a reset's new device as they do."""

from __future__ import annotations

from cgi_handlers.streams import NO_FAULTS, STREAM_HOOKS_KEY, StreamFaults, StreamSession

from .faults import Faults
from .journal import Journal

__all__ = ["STREAM_HOOKS_KEY", "ControlStreamHooks"]


class ControlStreamHooks:
    """A device's StreamHooks: faults from its Faults, sessions into its Journal."""

    __slots__ = ("_faults", "_journal")

    def __init__(self, journal: Journal, faults: Faults) -> None:
        self._journal = journal
        self._faults = faults

    def faults(self, kind: str) -> StreamFaults:
        """The faults for one new stream of `kind`: each call is one stream (it spends one of a
        fault's `count`), so a stream asks once, when it opens."""
        plan = self._faults.stream_plan(kind) if self._faults else None
        if plan is None:
            return NO_FAULTS
        return StreamFaults(plan.refuse, plan.drop_after, plan.delay)

    def opened(self, kind: str, client: str, user: str) -> StreamSession:
        return self._journal.open_stream(kind, client, user)
