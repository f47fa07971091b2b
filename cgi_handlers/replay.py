"""Answers of a recorded model from its recording (fixtures/README.md, "Recorded models").

A request that no live handler serves on a recorded model is looked up in the model's replies
(`axisim.replay.Replies`): a match is sent as recorded, with the placeholder identity replaced by
the device's own (serial, MAC forms, host name, realm, IP, SoC serial) and the AJR `context`
following the request; no match is the device's usual 404, and the journal lists the request as
unsupported with the nearest recorded one (`REPLAY_KEY`, read by `axisim/pipeline.py`).

Where it is asked:
- the pipeline's catch-all route of a recorded model (no live route): the entry's role applies;
- `REPLAY_FIRST` routes: the recording answers first when it has the request, the live handler
  otherwise (the route's own role applies: apidiscovery stays anonymous);
- the other live routes, where their handler answers Apache's 404 (`live_then_replay`);
- handlers that serve a path but not this request on this model: `/vapix/services` operations axisim
  does not serve, `/config/rest` APIs the model lacks (`replayed`);
- `GetEventInstances` answers the recorded `events.xml` (`recorded_event_instances`).
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from axisim.device import Device
from axisim.jsonread import JsonError, read_json
from axisim.replay import RecordedReply, Replies, Substitution

from .bodies import BodyTooLarge, read_body
from .request_context import device_of, request_key, require
from .routing import Handler

MAX_BODY = 1024 * 1024  # a replayed request's body is read up to this (the JSON APIs' limit)
# live routes whose recorded answer is the truer one (the device advertises what the recorded device
# advertised; lists axisim would answer empty): the recording answers first, the live handler otherwise
REPLAY_FIRST = frozenset({"/axis-cgi/apidiscovery.cgi", "/axis-cgi/applications/list.cgi", "/config/discover{tail:.*}"})
SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the replay did with a request (the journal reads it): answered from `entry`, or matched
    nothing (`entry` None) with `nearest` the closest recorded request, if any."""

    entry: RecordedReply | None
    nearest: dict[str, Any] | None = None


REPLAY_KEY = request_key("replay", Outcome)
_SUBSTITUTIONS: weakref.WeakKeyDictionary[Device, Substitution] = weakref.WeakKeyDictionary()


def replies_of(device: Device) -> Replies | None:
    recording = device.model.recording
    return recording.replies if recording is not None else None


def substitution(device: Device, replies: Replies) -> Substitution:
    """The device's identity in place of the placeholder, made once per device."""
    found = _SUBSTITUTIONS.get(device)
    if found is None:
        found = _SUBSTITUTIONS[device] = replies.substitution(device.identity)
    return found


def _raw_query(request: web.Request) -> str:
    return request.raw_path.partition("?")[2]


async def lookup(request: web.Request, body: bytes | None = None, *, note_miss: bool = True) -> RecordedReply | None:
    """The recorded request this one is; on none, `note_miss` records the nearest for the journal.
    BodyTooLarge for a body over MAX_BODY."""
    replies = replies_of(device_of(request))
    if replies is None:
        return None
    raw = body if body is not None else await read_body(request, MAX_BODY)
    content_type = request.headers.get("Content-Type", "")
    found = replies.find(request.method, request.path, _raw_query(request), content_type, raw)
    if found is not None:
        request[REPLAY_KEY] = Outcome(found)
    elif note_miss:
        await note_missed(request)
    return found


async def note_missed(request: web.Request) -> None:
    """Tell the journal that the recording has nothing for this request, and what is nearest."""
    replies = replies_of(device_of(request))
    if replies is None:
        return
    raw = await read_body(request, MAX_BODY)
    content_type = request.headers.get("Content-Type", "")
    near = replies.nearest(request.method, request.path, _raw_query(request), content_type, raw)
    request[REPLAY_KEY] = Outcome(None, near[0].summary(near[1]) if near else None)


async def answer(request: web.Request, entry: RecordedReply) -> web.Response:
    """The recorded reply, as this device would send it."""
    device = device_of(request)
    replies = replies_of(device)
    assert replies is not None and entry.status is not None
    data, marked = replies.body(entry)
    swap = substitution(device, replies)
    if marked:
        data = swap.apply(data)
    headers = {name: swap.text(value) for name, value in entry.headers}
    if entry.json_request:
        data = _context_following(data, await _request_context(request))
    return web.Response(status=entry.status, body=data, headers=headers)


async def replayed(request: web.Request, body: bytes | None = None) -> web.Response | None:
    """For a handler that has no answer of its own for this request on this model: the recorded one
    (AccessDenied below the entry's role), or None (the journal then lists it as unsupported)."""
    if replies_of(device_of(request)) is None:
        return None
    entry = await lookup(request, body)
    if entry is None:
        return None
    require(request, entry.role)
    return await answer(request, entry)


def replay_first(handler: Handler) -> Handler:
    """A live route of a recorded model whose recording, when it has the request, answers instead."""

    async def first(request: web.Request) -> web.StreamResponse:
        if request.content_length is None or request.content_length <= MAX_BODY:
            try:
                entry = await lookup(request, note_miss=False)
            except BodyTooLarge:
                entry = None
                if request.content_length is None:  # a chunked body over the limit, partly read
                    raise
            if entry is not None:
                return await answer(request, entry)
        return await handler(request)

    return first


def live_then_replay(handler: Handler) -> Handler:
    """A live route of a recorded model: its handler, and where that answers Apache's 404 (a feature the
    model's facts say it lacks: the audit log, the UPnP description), the recording."""

    async def live(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = None
        if response is not None and response.status != 404:
            return response
        recorded = await replayed(request)
        if recorded is not None:
            return recorded
        if response is None:
            raise web.HTTPNotFound()
        return response

    return live


def recorded_event_instances(device: Device) -> web.Response | None:
    """GetEventInstances of a recorded model: the recorded reply (events.xml) with the device's identity."""
    recording = device.model.recording
    if recording is None or recording.events is None:
        return None
    data = recording.events
    if recording.replies.pattern.search(data):
        data = substitution(device, recording.replies).apply(data)
    return web.Response(body=data, headers={"Content-Type": SOAP_CONTENT_TYPE})


async def _request_context(request: web.Request) -> tuple[bool, Any]:
    """(whether the request sent an AJR `context`, its value)."""
    try:
        document = read_json(await read_body(request, MAX_BODY))
    except (JsonError, BodyTooLarge):
        return False, None
    if isinstance(document, dict) and "context" in document:
        return True, document["context"]
    return False, None


_STYLES = (((", ", ": "), False), ((", ", ": "), True), ((",", ":"), False), ((",", ":"), True))


def _context_following(data: bytes, wanted: tuple[bool, Any]) -> bytes:
    """The reply's `context` as the request's: echoed when it sent one, absent when not (§0.2).
    The reply is written again in its own style (separators, escapes, trailing whitespace); one whose
    style cannot be told is left as recorded."""
    text = data.decode("utf-8", "replace")
    stripped = text.strip()
    if not stripped.startswith("{"):
        return data
    try:
        document = read_json(stripped)
    except JsonError:
        return data
    sent, context = wanted
    if not isinstance(document, dict) or (("context" in document) == sent and document.get("context") == context):
        return data
    style = next(
        (s for s in _STYLES if json.dumps(document, separators=s[0], ensure_ascii=s[1]) == stripped), None
    )  # fmt: skip
    if style is None:
        return data
    rebuilt: dict[str, Any] = {}
    for name, value in document.items():
        if name == "context":
            continue
        rebuilt[name] = value
        if name == "apiVersion" and sent:
            rebuilt["context"] = context
    if sent and "context" not in rebuilt:
        rebuilt = {"context": context, **rebuilt}
    head = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()) :]
    body = json.dumps(rebuilt, separators=style[0], ensure_ascii=style[1])
    return (head + body + tail).encode("utf-8")
