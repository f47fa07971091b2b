"""Virtual inputs and the manual trigger (events.md §4.7; VAPIX "Input and outputs", Virtual input API).

- `virtualinput/activate.cgi?schemaversion=1&port=N[&duration=S]`, `deactivate.cgi?schemaversion=1&port=N`
  (operator): XML `VirtualInputResponse` with `StateChanged`, errors as `GeneralError` codes, all HTTP
  200 text/xml; `getschemaversions.cgi` lists schema 1.1.
- `io/virtualinput.cgi?action=6:/2000\\` (viewer): the manual trigger; 200 text/plain, an empty body
  [GUESS: the body is not documented], port.cgi's `Error: <reason>` 400 for a malformed action or a
  port that is not a manual trigger [GUESS].

GET as documented; a POSTed form is read like the query, as by the other XML CGIs.
No apidiscovery id on real firmware (rs4acap getApiList, 10.12-12.9): served unlisted; the parameter
`Properties.VirtualInput.VirtualInput=yes` advertises it.
"""

from __future__ import annotations

from aiohttp import web

from axisim.subsystems.virtualinput import VirtualInputError, VirtualInputSubsystem
from param_tree import Role, whole_number

from .forms import first, read_form
from .replies import text_reply
from .request_context import subsystem_of
from .routing import Route

NAMESPACE = "http://www.axis.com/vapix/http_cgi/virtualinput1"
SCHEMA_VERSION = "1.1"
HEAD = (
    '<?xml version="1.0" encoding="utf-8" ?>\n'
    f'<VirtualInputResponse xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    f'SchemaVersion="{SCHEMA_VERSION}" xsi:schemaLocation="{NAMESPACE} {NAMESPACE}_0.xsd">\n'
)
ERRORS = {  # the API's error table
    10: "Missing argument.",
    20: "The specified virtual input does not exist.",
    30: "The specified schema version is not supported.",
    40: "Internal server error.",
    50: "Invalid duration.",
}


class _Refused(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _reply(inner: str) -> web.Response:
    return text_reply(f"{HEAD}  {inner}\n</VirtualInputResponse>\n", content_type="text/xml")


def _error(code: int) -> web.Response:
    return _reply(
        f"<Error><GeneralError><ErrorCode>{code}</ErrorCode>"
        f"<ErrorDescription>{ERRORS[code]}</ErrorDescription></GeneralError></Error>"
    )


def _inputs(request: web.Request) -> VirtualInputSubsystem:
    subsystem = subsystem_of(request, VirtualInputSubsystem)
    return subsystem


def _arguments(form: list[tuple[str, str]]) -> int:
    """The port of a request with a supported schema version (_Refused 10, 30 or 20 otherwise)."""
    version, port = first(form, "schemaversion"), first(form, "port")
    if version is None or port is None:
        raise _Refused(10)
    if whole_number(version.split(".", 1)[0]) != 1:
        raise _Refused(30)
    number = whole_number(port)
    if number is None:
        raise _Refused(20)
    return number


async def activate(request: web.Request) -> web.Response:
    form = await read_form(request)
    try:
        port = _arguments(form)
        raw = first(form, "duration")
        duration = None if raw is None else whole_number(raw)
        if raw is not None and duration is None:
            raise _Refused(50)
        changed = _inputs(request).activate(port, duration)
    except _Refused as refused:
        return _error(refused.code)
    except VirtualInputError as exc:
        return _error(50 if exc.kind == "duration" else 20)
    return _reply(
        f"<Success><ActivateSuccess><StateChanged>{_word(changed)}</StateChanged></ActivateSuccess></Success>"
    )


async def deactivate(request: web.Request) -> web.Response:
    form = await read_form(request)
    try:
        changed = _inputs(request).deactivate(_arguments(form))
    except _Refused as refused:
        return _error(refused.code)
    except VirtualInputError:
        return _error(20)
    return _reply(
        f"<Success><DeactivateSuccess><StateChanged>{_word(changed)}</StateChanged></DeactivateSuccess></Success>"
    )


async def schema_versions(request: web.Request) -> web.Response:
    major, minor = SCHEMA_VERSION.split(".")
    return _reply(
        "<Success><GetSchemaVersionsSuccess><SchemaVersion>"
        f"<MajorVersion>{major}</MajorVersion><MinorVersion>{minor}</MinorVersion><Deprecated>false</Deprecated>"
        "</SchemaVersion></GetSchemaVersionsSuccess></Success>"
    )


def _word(flag: bool) -> str:
    return "true" if flag else "false"


async def manual_trigger(request: web.Request) -> web.Response:
    form = await read_form(request)
    action = first(form, "action")
    if action is None:
        return text_reply("Error: nothing to do: action\n", status=400)
    try:
        _inputs(request).run_action(action)
    except VirtualInputError as exc:
        return text_reply(f"Error: {exc}\n", status=400)
    return text_reply("")


ROUTES = [
    Route("/axis-cgi/virtualinput/activate.cgi", activate, Role.OPERATOR, subsystem="virtualinput"),
    Route("/axis-cgi/virtualinput/deactivate.cgi", deactivate, Role.OPERATOR, subsystem="virtualinput"),
    Route("/axis-cgi/virtualinput/getschemaversions.cgi", schema_versions, Role.OPERATOR, subsystem="virtualinput"),
    Route("/axis-cgi/io/virtualinput.cgi", manual_trigger, Role.VIEWER, subsystem="virtualinput"),
]
