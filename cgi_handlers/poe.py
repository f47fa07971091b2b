"""`/axis-cgi/nvr/poe/*.cgi`: the recorders' PoE switch API (vapix-wire.md §6.1, NVR PoE page).

XML replies in a `PoeResponse SchemaVersion="1.2"` envelope, HTTP 200 `text/xml` for
errors too. `schemaversion` may be left out (a real collector client omits it); a
major version other than 1 gets error 40. A bad or missing port or value gets 20.
Models without a PoE switch (S4000) have no such paths: Apache's 404.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from aiohttp import web

from axisim.subsystems.poe import STATUSES, PoeError, PoeSubsystem, watts
from axisim.subsystems.poe.switch import CLASS_POWER_LIMIT
from param_tree import Role, whole_number

from .api_errors import ApiError
from .forms import check_schema_version, first, read_form
from .replies import text_reply
from .request_context import subsystem_of
from .routing import Api, Handler, Route

SCHEMA_VERSION = "1.2"
HEAD = (
    '<?xml version="1.0" encoding="utf-8" ?>\n'
    f'<PoeResponse SchemaVersion="{SCHEMA_VERSION}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/nvr/Poe1.xsd">\n'
)
ERRORS = {
    10: "An error occurred while processing the request.",
    20: "Invalid request.",
    40: "Specified version not supported.",
}
DETECTED = "0x01: 802.3af-compliant device detected"


def _reply(body: str) -> web.Response:
    return text_reply(f"{HEAD}{body}</PoeResponse>\n", content_type="text/xml")


def _error(code: int) -> web.Response:
    return _reply(
        f"    <GeneralError>\n        <ErrorCode>{code}</ErrorCode>\n"
        f"        <Description>{ERRORS[code]}</Description>\n    </GeneralError>\n"
    )


def _switch_of(request: web.Request) -> PoeSubsystem:
    subsystem = subsystem_of(request, PoeSubsystem)
    return subsystem


def _port(form: list[tuple[str, str]], poe: PoeSubsystem) -> int:
    number = whole_number(first(form, "port"), low=1, high=poe.switch.port_count)
    if number is None:
        raise ApiError(20)
    return number


def _enabled(form: list[tuple[str, str]]) -> bool:
    value = first(form, "enabled")
    if value not in ("yes", "no"):
        raise ApiError(20)
    return value == "yes"


def port_status_xml(poe: PoeSubsystem, number: int) -> str:
    port = poe.switch.port(number)
    code = poe.status_code(number)
    device = port.device if code != 3 else None
    poe_class = poe.switch.effective_class(device) if device else None
    requested = device.lldp_request_w if device and poe.switch.lldp else None
    fields = [
        ("Port", str(number)),
        ("StatusCode", str(code)),
        ("Description", STATUSES[code]),
        ("Extra", DETECTED if device else ""),
        ("ClassPowerLimit", watts(CLASS_POWER_LIMIT[poe_class] if poe_class is not None else 0.0)),
        ("PoeClass", "" if poe_class is None else str(poe_class)),
        ("AllocatedPower", watts(port.reserved_w)),
        ("PowerConsumption", watts(port.consumption_w)),
        ("PseClassLimit", str(poe.switch.max_class)),
        ("RequestedPower", "" if requested is None else watts(requested)),
    ]
    inner = "".join(f"            <{tag}>{escape(value)}</{tag}>\n" if value else f"            <{tag}/>\n"
                    for tag, value in fields)  # fmt: skip
    return f"        <PortStatus>\n{inner}        </PortStatus>\n"


def _handler(action: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        poe = _switch_of(request)
        form = await read_form(request)
        try:
            if action != "schemaversions":
                check_schema_version(form, required=False)
            return _reply(_body(action, form, poe))
        except ApiError as exc:
            return _error(exc.code)
        except PoeError:
            return _error(20)

    return handler


def _body(action: str, form: list[tuple[str, str]], poe: PoeSubsystem) -> str:
    if action == "schemaversions":
        return (
            "    <SchemaVersionsSuccess>\n        <SchemaVersion>\n"
            f"            <VersionNumber>{SCHEMA_VERSION}</VersionNumber>\n"
            "            <Deprecated>false</Deprecated>\n        </SchemaVersion>\n    </SchemaVersionsSuccess>\n"
        )
    if action == "getportmode":
        enabled = "yes" if poe.switch.port(_port(form, poe)).enabled else "no"
        return f"    <GetPortModeSuccess>\n        <Enabled>{enabled}</Enabled>\n    </GetPortModeSuccess>\n"
    if action == "setportmode":
        number, enabled = _port(form, poe), _enabled(form)
        poe.set_port_enabled(number, enabled)
        return "    <GeneralSuccess />\n"
    if action == "getportstatuses":
        statuses = "".join(port_status_xml(poe, port.number) for port in poe.switch.ports)
        return f"    <GetPortStatusesSuccess>\n{statuses}    </GetPortStatusesSuccess>\n"
    if action == "gettotalpowerlimit":
        limit = f"{poe.switch.budget_w:g}"
        return f"    <GetTotalPowerLimitSuccess>\n        <Limit>{limit}</Limit>\n    </GetTotalPowerLimitSuccess>\n"
    if action == "getkeeppower":
        keep = "yes" if poe.switch.keep_power else "no"
        return f"    <GetKeepPowerSuccess>\n        <Enabled>{keep}</Enabled>\n    </GetKeepPowerSuccess>\n"
    if action == "setkeeppower":
        poe.set_keep_power(_enabled(form))
        return "    <GeneralSuccess />\n"
    raise ApiError(10)


ACTIONS = (
    "schemaversions", "getportmode", "setportmode", "getportstatuses", "gettotalpowerlimit", "getkeeppower",
    "setkeeppower",
)  # fmt: skip
ROUTES = [
    Route(f"/axis-cgi/nvr/poe/{action}.cgi", _handler(action), Role.OPERATOR, subsystem=PoeSubsystem.name)
    for action in ACTIONS
]
APIS = [Api("nvr-poe", "1.2", "NVR PoE Switch Configuration")]  # version: the XML schema's, 1.2 (vapix-wire.md §6.1)
