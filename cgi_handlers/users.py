"""`/axis-cgi/pwdgrp.cgi` and `/axis-cgi/usergroup.cgi` (vapix-wire.md §4.3-4.4).

pwdgrp replies are HTML with CRLF line ends and HTTP 200 even for errors,
except the two setup errors, which are 401 [REC/DOC §4.4].
"""

from __future__ import annotations

from aiohttp import web

from axisim.accounts import ROLE_GROUPS, AccountError, parse_sgrp
from axisim.device import Actor, Device
from param_tree import Role, printable

from .forms import first, read_form
from .replies import text_reply
from .request_context import actor_of, device_of, require, user_of
from .routing import Api, Route

ERROR_TEXT = {
    "exists": "Error: this user name already exists, consult the system log file.",
    "password": "Error: invalid password.",
    "name": "Error: account user name.",
    "groups": "Error: consult the system log file.",
    "limit": "Error: consult the system log file.",
    "root": "Error: consult the system log file.",
    "initial": "Error: not a valid initial admin user.",
}


def html_reply(text: str, status: int = 200) -> web.Response:
    page = f"<html><head><title>User accounts</title></head><body bgcolor=#ffffff>{text}\r\n</body>\r\n\r\n</html>\r\n"
    return text_reply(page, status=status, content_type="text/html")


def _add(device: Device, form: list[tuple[str, str]], initial: bool, actor: Actor) -> str:
    user = first(form, "user") or ""
    groups = parse_sgrp(first(form, "sgrp") or "")
    primary = "root" if initial else (first(form, "grp") or "users")
    device.add_account(user, first(form, "pwd") or "", groups, primary, first(form, "comment") or "", actor)
    return f"Created account {user}."


def _update(device: Device, form: list[tuple[str, str]], actor: Actor) -> str:
    user = first(form, "user") or ""
    sgrp = first(form, "sgrp")
    groups = parse_sgrp(sgrp) if sgrp is not None else None
    device.update_account(user, first(form, "pwd"), groups, first(form, "comment"), actor)
    return f"Modified account {user}."


def _remove(device: Device, form: list[tuple[str, str]], actor: Actor) -> str:
    user = first(form, "user") or ""
    device.remove_account(user, actor)
    return f"Removed account {user}."


def _get(device: Device) -> web.Response:
    lines = [f'{group}="{",".join(device.accounts.members(group))}"' for group in ROLE_GROUPS]
    lines.append(f'digusers="{",".join(device.accounts.members_all())}"')
    return text_reply("".join(line + "\r\n" for line in lines))


async def pwdgrp_cgi(request: web.Request) -> web.Response:
    device = device_of(request)
    form = await read_form(request)
    action = first(form, "action")
    initial = device.needs_setup
    if initial and action != "add":
        return html_reply("Error: initial admin user must be created first.", status=401)
    if not initial:
        require(request, Role.ADMIN)
    try:
        if action == "add":
            return html_reply(_add(device, form, initial, actor_of(request)))
        if action == "update":
            return html_reply(_update(device, form, actor_of(request)))
        if action == "remove":
            return html_reply(_remove(device, form, actor_of(request)))
        if action == "get":
            return _get(device)
    except AccountError as exc:
        if exc.kind == "initial" or (initial and exc.kind == "groups"):
            return html_reply(ERROR_TEXT["initial"], status=401)
        return html_reply(ERROR_TEXT[exc.kind])
    if action is None:
        return html_reply("Error: action operation type.")
    return html_reply(f"Error: malformed action operation, {printable(action)}.")


async def usergroup_cgi(request: web.Request) -> web.Response:
    device = device_of(request)
    account = device.accounts.get(user_of(request))
    if account is None:  # only reached with anonymous viewing allowed
        return text_reply("anonymous\nanonymous viewer\n")
    groups = " ".join(sorted(account.groups))
    return text_reply(f"{account.name}\n{account.primary} {groups}\n")


ROUTES = [
    Route("/axis-cgi/pwdgrp.cgi", pwdgrp_cgi, Role.ANONYMOUS),
    Route("/axis-cgi/usergroup.cgi", usergroup_cgi, Role.VIEWER),
]
APIS = [Api("user-management", "1.2", "User Management")]
