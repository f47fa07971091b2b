"""Await one event of a device, without a race: the waiter subscribes when it is made, before the
caller does whatever should cause the event, so an event published at once (stimuli publish while
they run) is not missed. `SimulatedDevice.wait_for_event` / `expect_event` make them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterable
from types import TracebackType
from typing import Any, Protocol

from ..events import Event, text

SEEN_KEPT = 10  # events of the topic that did not match, quoted when the wait times out


class Cancellable(Protocol):
    def cancel(self) -> None: ...


Subscribe = Callable[[Callable[[Event], None], Iterable[str]], Cancellable]


def _as_text(items: dict[str, Any] | None) -> dict[str, str]:
    return {name: text(value) for name, value in (items or {}).items()}


class EventWaiter:
    """The first event from now on whose topic matches `topic` (an exact topic, `a/b//.` or a glob) and
    whose source and data contain the given items (values compared as text: 0 is "0", True is "1").

    Await it (`event = await waiter`), or use it as `async with`, which waits at the end of the block;
    either raises TimeoutError after `timeout` seconds, naming the events of the topic it did see."""

    def __init__(
        self, subscribe: Subscribe, topic: str, source: dict[str, Any] | None, data: dict[str, Any] | None,
        timeout: float, where: str = "the device",
    ) -> None:  # fmt: skip
        self.topic = topic
        self.source = _as_text(source)
        self.data = _as_text(data)
        self.timeout = timeout
        self.event: Event | None = None
        self.seen: list[Event] = []  # the topic's events that did not match (the newest SEEN_KEPT)
        self._where = where
        self._future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._subscription: Cancellable | None = subscribe(self._offer, (topic,))

    def matches(self, event: Event) -> bool:
        return all(event.source.get(k) == v for k, v in self.source.items()) and all(
            event.data.get(k) == v for k, v in self.data.items()
        )

    def _offer(self, event: Event) -> None:
        if self._future.done():
            return
        if self.matches(event):
            self.event = event
            self._future.set_result(event)
            self.cancel()
        else:
            self.seen = [*self.seen[-(SEEN_KEPT - 1) :], event]

    def cancel(self) -> None:
        """Stop listening (done by itself once the event came or the wait ended)."""
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None

    async def wait(self) -> Event:
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), self.timeout)
        except TimeoutError:
            seen = "; ".join(f"source {e.source} data {e.data}" for e in self.seen) or "none"
            raise TimeoutError(
                f"no event {self.topic} with source {self.source} and data {self.data} on {self._where} "
                f"within {self.timeout:g} s; other events of the topic: {seen}"
            ) from None
        finally:
            self.cancel()

    def __await__(self) -> Generator[Any, None, Event]:
        return self.wait().__await__()

    async def __aenter__(self) -> EventWaiter:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:  # fmt: skip
        if kind is None:
            await self.wait()
        else:
            self.cancel()
