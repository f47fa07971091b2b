"""`/axis-cgi/param.cgi`: list, update, add, remove, listdefinitions (vapix-wire.md §1).

Every reply is HTTP 200 `text/plain` (XML for listdefinitions); failures are
`# Error:` / `# Request failed:` lines in the body, as real devices send them. Where firmwares
differ (the list error line, order, final newline, the Content-Type), the model's quirks say
(`axisim/quirks.py`; `style_of`).
"""

from __future__ import annotations

import functools

from aiohttp import web

from axisim.quirks import DEFAULT_QUIRKS, Quirks
from param_tree import (
    DEFAULT_STYLE,
    ListStyle,
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


DEFAULT_FORMS = (DEFAULT_STYLE, DEFAULT_QUIRKS.param_content_type)


def style_of(quirks: Quirks) -> tuple[ListStyle, str]:
    """The list style and the Content-Type a model's quirks give; a model without quirks pays one
    identity test (param.cgi is asked thousands of times a second)."""
    return DEFAULT_FORMS if quirks is DEFAULT_QUIRKS else _quirked_style(quirks)


@functools.cache
def _quirked_style(quirks: Quirks) -> tuple[ListStyle, str]:
    style = ListStyle(
        definition_order=quirks.param_list_order == "definition",
        final_newline=quirks.param_trailing_newline,
        error_mark="!" if quirks.param_error_style == "legacy" else "",
    )
    return style, quirks.param_content_type


def _reply(request: web.Request, body: str, *, lines: bool = True) -> web.Response:
    """A text reply in the model's forms; `lines`: a body of lines (the final newline is the style's)."""
    style, content_type = style_of(device_of(request).model.quirks)
    return text_reply(style.finish(body) if lines else body, content_type=content_type)


def request_failed(request: web.Request, message: str) -> web.Response:
    return _reply(request, f"# Request failed: {message}\n")


async def param_cgi(request: web.Request) -> web.Response:
    form = await read_form(request)
    action = first(form, "action")
    handler = ACTIONS.get(action or "")
    if handler is None:
        return request_failed(request, f"Unknown action '{printable(action or '')}'")
    return handler(request, form)


def list_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    device = device_of(request)
    style, content_type = style_of(device.model.quirks)
    body = render_list_text(device.params, _groups(form), role_of(request), style)
    return text_reply(body, content_type=content_type)


def update_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    require(request, Role.OPERATOR)
    changes = [(key, value) for key, value in form if key not in CONTROL_KEYS]
    refused = device_of(request).update_params(changes, role_of(request), actor_of(request), atomic=True)
    if refused:
        return _reply(request, "".join(error_setting(name, value) for name, value in refused))
    return _reply(request, "OK", lines=False)


def add_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    require(request, Role.OPERATOR)
    device = device_of(request)
    template = first(form, "template") or ""
    group = strip_root(first(form, "group") or "")
    try:
        force = first(form, "force") == "yes"
        key = device.add_group(template, group, role_of(request), force, actor_of(request))
    except UpdateError as exc:
        return request_failed(request, printable(str(exc)))
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
    return _reply(request, f"{errors}{key} OK", lines=False)


def remove_action(request: web.Request, form: list[tuple[str, str]]) -> web.Response:
    require(request, Role.OPERATOR)
    device = device_of(request)
    targets = [strip_root(g) for g in _groups(form).split(",") if g != ANY_GROUP]
    if not targets:
        return request_failed(request, "No group specified")
    try:
        device.remove_groups(targets, role_of(request), actor_of(request))
    except PermissionError as exc:
        raise AccessDenied(Role.ADMIN) from exc
    except UpdateError as exc:
        return request_failed(request, printable(str(exc)))
    return _reply(request, "OK", lines=False)


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
    if style_of(device.model.quirks)[0].definition_order:
        items = store.in_definition_order(items)
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
