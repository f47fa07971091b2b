"""`/axis-cgi/param.cgi`: list, update, add, remove, listdefinitions (vapix-wire.md §1).

Every reply is HTTP 200 `text/plain` (XML for listdefinitions); failures are
`# Error:` / `# Request failed:` lines in the body, as real devices send them.
"""

from __future__ import annotations

from aiohttp import web

from param_tree import (
    Role,
    UpdateError,
    error_setting,
    parse_group_list,
    printable,
    render_definitions,
    render_list_text,
    sort_key,
    strip_root,
)

from .forms import first, read_form
from .replies import text_reply
from .request_context import AccessDenied, actor_of, device_of, require, role_of
from .routing import Api, Route

CONTROL_KEYS = frozenset({"action", "usergroup", "responseformat", "template", "group", "force"})
ANY_GROUP = "root"


def _groups(form: list[tuple[str, str]]) -> str:
    values = [value for key, value in form if key == "group"]
    return ",".join(values) if values else ANY_GROUP


def request_failed(message: str) -> web.Response:
    return text_reply(f"# Request failed: {message}\n")


async def param_cgi(request: web.Request) -> web.Response:
    form = await read_form(request)
    action = first(form, "action")
    handler = ACTIONS.get(action or "")
    if handler is None:
        return request_failed(f"Unknown action '{printable(action or '')}'")
    return handler(request, form)


def list_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    device = device_of(request)
    body = render_list_text(device.params, _groups(form), role_of(request))
    return text_reply(body)


def update_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    require(request, Role.OPERATOR)
    changes = [(key, value) for key, value in form if key not in CONTROL_KEYS]
    refused = device_of(request).update_params(changes, role_of(request), actor_of(request), atomic=True)
    if refused:
        return text_reply("".join(error_setting(name, value) for name, value in refused))
    return text_reply("OK")


def add_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    require(request, Role.OPERATOR)
    device = device_of(request)
    template = first(form, "template") or ""
    group = strip_root(first(form, "group") or "")
    try:
        force = first(form, "force") == "yes"
        key = device.add_group(template, group, role_of(request), force, actor_of(request))
    except UpdateError as exc:
        return request_failed(printable(str(exc)))
    except PermissionError as exc:
        raise AccessDenied(Role.ADMIN) from exc
    # values for the new group are written as <group>.<letter>.<param>=<value>
    stem = f"{group}.{key[0]}."
    changes = [
        (f"{group}.{key}.{name[len(stem) :]}", value)
        for name, value in ((strip_root(k), v) for k, v in form if k not in CONTROL_KEYS)
        if name.startswith(stem)
    ]
    refused = device.update_params(changes, role_of(request), actor_of(request), atomic=True)
    errors = "".join(error_setting(name, value) for name, value in refused)
    return text_reply(f"{errors}{key} OK")


def remove_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    require(request, Role.OPERATOR)
    device = device_of(request)
    targets = [strip_root(g) for g in _groups(form).split(",") if g != ANY_GROUP]
    if not targets:
        return request_failed("No group specified")
    try:
        device.remove_groups(targets, role_of(request), actor_of(request))
    except PermissionError as exc:
        raise AccessDenied(Role.ADMIN) from exc
    except UpdateError as exc:
        return request_failed(printable(str(exc)))
    return text_reply("OK")


def listdefinitions_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    device = device_of(request)
    store = device.params
    role = role_of(request)
    seen: set[str] = set()
    items = []
    for pattern in parse_group_list(_groups(form)):
        for definition in store.readable(store.select(pattern), role):
            if definition.name not in seen:
                seen.add(definition.name)
                items.append(definition)
    items.sort(key=lambda d: sort_key(d.path))  # one nested document, in list order
    body = render_definitions(
        ((d, d.type.display(store.value(d.name))) for d in items),
        model=device.param("Brand.ProdShortName", device.model.short_name),
        firmware=device.param("Properties.Firmware.Version", device.model.firmware),
        host=device.identity.ip,
    )
    return web.Response(body=body, headers={"Content-Type": "text/xml"})


ACTIONS = {
    "list": list_action,
    "update": update_action,
    "add": add_action,
    "remove": remove_action,
    "listdefinitions": listdefinitions_action,
}

ROUTES = [
    Route("/axis-cgi/param.cgi", param_cgi, Role.VIEWER),
    Route("/axis-cgi/admin/param.cgi", param_cgi, Role.ADMIN),
    Route("/axis-cgi/operator/param.cgi", param_cgi, Role.OPERATOR),
    Route("/axis-cgi/view/param.cgi", param_cgi, Role.VIEWER),
]
APIS = [Api("param-cgi", "1.0", "Legacy Parameter Handling")]
