"""The control API's live event feed for test authors: Server-Sent Events
(`GET /devices/<d>/events/feed[?topic=<filter>]`), one `data: <event json>` line per event.

Each feed subscribes to its device's events before its reply starts (so once a client has the
reply's headers, nothing published later is missed) and follows the device across resets. Its queue
is bounded: a reader that falls behind loses the newest events, counted in a `: dropped <n>` comment
line, and never slows the device. Comment lines (`: heartbeat`, every `?heartbeat=` seconds, 15 by
default) keep an idle connection alive. The subscription ends within a second of the reader leaving,
and every feed ends when the control API stops.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from ..events import Event
from ..simulated import SimulatedDevice
from .journal import event_json

QUEUE_SIZE = 1000
HEARTBEAT = 15.0  # seconds between comment lines on an idle feed
HEARTBEAT_RANGE = (0.05, 300.0)
GONE_CHECK = 1.0  # seconds between looks at whether the reader has gone, on an idle feed
_CLOSE = None  # what close() puts in a feed's queue


class Feed:
    """One reader's queue of events."""

    __slots__ = ("dropped", "queue")

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(size)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        """The bus callback: never blocks, counts what does not fit."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    def close(self) -> None:
        while True:
            try:
                self.queue.put_nowait(_CLOSE)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()  # the reader is leaving: room for the sign to stop


FEEDS_KEY: web.AppKey[set[Feed]] = web.AppKey("feeds", set)


async def _close_all(app: web.Application) -> None:
    for feed in list(app[FEEDS_KEY]):
        feed.close()


def install(app: web.Application) -> None:
    """Keep the open feeds of a control application, to end them when it stops."""
    app[FEEDS_KEY] = set()
    app.on_shutdown.append(_close_all)


def _line(event: Event) -> bytes:
    return f"data: {json.dumps(event_json(event), separators=(',', ':'))}\n\n".encode()


async def serve(request: web.Request, device: SimulatedDevice, topics: list[str], heartbeat: float) -> Any:
    """Stream the device's events (of `topics`, every one when empty) until the reader goes."""
    feed = Feed()
    listener = device.subscribe(feed.offer, topics)
    feeds = request.app[FEEDS_KEY]
    feeds.add(feed)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    try:
        await response.prepare(request)
        shown = ", ".join(topics) or "every topic"
        await response.write(f": events of {device.serial}: {shown}\n\n".encode())
        reported, idle, wait = 0, 0.0, min(heartbeat, GONE_CHECK)
        while True:
            try:
                event = await asyncio.wait_for(feed.queue.get(), wait)
            except TimeoutError:
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                idle += wait
                if idle >= heartbeat:
                    idle = 0.0
                    await response.write(b": heartbeat\n\n")
                continue
            idle = 0.0
            if event is _CLOSE:
                await response.write_eof()
                break
            if feed.dropped != reported:
                reported = feed.dropped
                await response.write(f": dropped {reported}\n\n".encode())
            await response.write(_line(event))
    except ConnectionError:  # the reader went away mid-write
        pass
    finally:
        listener.cancel()
        feeds.discard(feed)
    return response
