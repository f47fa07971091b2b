"""`mediaclip.cgi`, `playclip.cgi`, `stopclip.cgi`: the media clip API (vapix-wire.md §6.4).

Success is `200 text/plain`, `OK` and one line saying what happened (`playing=<clip>`,
`stopping`, `uploaded=<clip>`, `removed=<clip>`, `updated=<clip>`); a download is the
clip's file. A refused request is `400 Bad Request`, `text/plain`, `400 Bad Request`
and the reason. mediaclip.cgi is for operators; playclip.cgi and stopclip.cgi let
viewers play and stop clips. An upload is a multipart POST with `media=audio`; its
file part may have any field name (clients use `file`).
"""

from __future__ import annotations

from aiohttp import web

from axisim.subsystems.audio import AudioSubsystem, ClipError
from param_tree import Role

from .bodies import MalformedBody, Part, PartTooLarge, multipart_parts
from .forms import first, parse_form, raw_query, read_form
from .replies import text_reply
from .request_context import actor_of, subsystem_of
from .routing import Api, Route


def _audio(request: web.Request) -> AudioSubsystem:
    audio = subsystem_of(request, AudioSubsystem)
    return audio


def _ok(line: str) -> web.Response:
    return text_reply(f"OK\r\n{line}\r\n")


def _bad(reason: str) -> web.Response:
    return text_reply(f"400 Bad Request\r\n{reason}\r\n", status=400)


def _play(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    number = _audio(request).play(
        first(form, "clip"),
        location=first(form, "location"),
        repeat=first(form, "repeat") or "0",
        volume=first(form, "volume") or "100",
        actor=actor_of(request),
    )
    return _ok(f"playing={number}")


def _stop(request: web.Request) -> web.Response:
    _audio(request).stop()
    return _ok("stopping")


async def _upload(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    if first(form, "media") != "audio":
        raise ClipError("Missing parameter: media=audio")
    if request.method != "POST" or not request.content_type.startswith("multipart/"):
        raise ClipError("No file uploaded")
    audio = _audio(request)
    limit = audio.max_upload_bytes()
    upload: Part | None = None
    try:  # the file is the first part with a file name; form fields before it are read and dropped
        async for part in multipart_parts(request, lambda index: (limit, limit)):
            if part.filename is not None:
                upload = part
                break
    except PartTooLarge as exc:
        raise ClipError(f"File too large (maximum {limit // (1024 * 1024)} MB)") from exc
    except MalformedBody as exc:
        raise ClipError("Invalid request") from exc
    if upload is None or upload.filename is None:
        raise ClipError("No file uploaded")
    number = audio.upload(upload.head, upload.filename, first(form, "name"), actor_of(request))
    return _ok(f"uploaded={number}")


async def mediaclip_cgi(request: web.Request) -> web.Response:
    try:
        if request.content_type.startswith("multipart/"):  # the body is the file: arguments are in the query
            form = parse_form(raw_query(request))
        else:
            form = await read_form(request)
        action = first(form, "action")
        audio = _audio(request)
        if action == "play":
            return _play(request, form)
        if action == "stop":
            return _stop(request)
        if action == "upload":
            return await _upload(request, form)
        if action == "remove":
            return _ok(f"removed={audio.remove(first(form, 'clip'), actor_of(request))}")
        if action == "update":
            return _ok(f"updated={audio.rename(first(form, 'clip'), first(form, 'name'), actor_of(request))}")
        if action == "download":
            data, content_type, filename = audio.download(first(form, "clip"))
            headers = {"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'}
            return web.Response(body=data, headers=headers)
        raise ClipError("Missing parameter: action" if action is None else f"Invalid action: {action}")
    except ClipError as exc:
        return _bad(str(exc))
    except ValueError:  # a broken multipart body
        return _bad("Invalid request")


async def playclip_cgi(request: web.Request) -> web.Response:
    try:
        return _play(request, await read_form(request))
    except ClipError as exc:
        return _bad(str(exc))


async def stopclip_cgi(request: web.Request) -> web.Response:
    return _stop(request)


ROUTES = [
    Route("/axis-cgi/mediaclip.cgi", mediaclip_cgi, Role.OPERATOR, subsystem=AudioSubsystem.name),
    Route("/axis-cgi/playclip.cgi", playclip_cgi, Role.VIEWER, ("GET",), subsystem=AudioSubsystem.name),
    Route("/axis-cgi/stopclip.cgi", stopclip_cgi, Role.VIEWER, ("GET",), subsystem=AudioSubsystem.name),
]
APIS = [Api("mediaclip", "1.0", "Mediaclip")]  # as the D4200-VE (AXIS OS 12.9) lists it
