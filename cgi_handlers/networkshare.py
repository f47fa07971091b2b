"""`/axis-cgi/disks/networkshare/*.cgi`: VAPIX edge storage network share (the C1410 Mk II).

`NetworkShareResponse SchemaVersion="1.0"` (schema `http_cgi/networkshare1.xsd`),
HTTP 200 `text/xml` for errors too, with the documented codes: 200-230 add,
300/310 bind, 400 unbind, 500 remove, 600-620 modify, 700-760 test and job.
The share's password is never listed. Models without a share answer 404.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from aiohttp import web

from axisim.subsystems.storage import StorageSubsystem
from axisim.subsystems.storage.media import StorageError
from param_tree import Role, whole_number

from .apache_pages import apache_page
from .api_errors import ApiError
from .disks import Form, storage_of
from .forms import check_schema_version, first, read_form
from .replies import text_reply
from .request_context import actor_of
from .routing import Api, Handler, Route

HEAD = (
    '<?xml version="1.0" encoding="utf-8" ?>\n<NetworkShareResponse SchemaVersion="1.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/networkshare1.xsd">\n'
)
ERRORS = {
    10: "Error while processing the request.",
    20: "Invalid request.",
    40: "Specified version is not supported.",
    200: "Invalid ShareId",
    210: "The ShareId is not unique",
    220: "The NiceName is not unique",
    230: "Maximum number of network shares is already reached. No more shares can be added.",
    300: "No available disk. Check if another network share is already bound.",
    310: "The network share is already bound to a disk.",
    400: "The network share is mounted and cannot be unbound. Unmount the share using Disk Management API.",
    500: "The network share is bound and cannot be removed. Use /axis-cgi/disks/networkshare/unbind.cgi to "
    "unbind the share.",
    600: "The network share is bound and cannot be modified. Use /axis-cgi/disks/networkshare/unbind.cgi to "
    "unbind the share.",
    730: "Too many tests or jobs started, wait for some to finish.",
}
REASON_CODES = {
    "max_shares": 230, "share_id": 200, "already_bound": 310, "mounted_unbind": 400, "bound_remove": 500,
    "bound_modify": 600, "too_many": 730, "invalid": 20, "unknown_share": 20,
}  # fmt: skip
MODIFIABLE = {"nicename": "Name", "address": "Address", "share": "Share", "user": "Username", "pass": "Password"}


def _reply(inner: str) -> web.Response:
    return text_reply(f"{HEAD}    {inner}\n</NetworkShareResponse>\n", content_type="text/xml")


def _error(code: int, description: str | None = None) -> str:
    text = description if description is not None else ERRORS[code]
    return (f"<GeneralError><ErrorCode>{code}</ErrorCode>"
            f"<ErrorDescription>{text}</ErrorDescription></GeneralError>")  # fmt: skip


def _required(form: Form, key: str) -> str:
    value = first(form, key)
    if not value:
        raise ApiError(20)
    return value


def _handler(name: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        storage = storage_of(request)
        if storage.medium.as_share() is None:
            return apache_page(404)
        storage.tick()
        form = await read_form(request)
        try:
            if name == "schemaversions":
                return _reply(
                    "<SchemaVersionsSuccess><SchemaVersion><VersionNumber>1.0</VersionNumber>"
                    "<Deprecated>false</Deprecated></SchemaVersion></SchemaVersionsSuccess>"
                )
            check_schema_version(form, required=True)
            return _reply(_action(name, form, storage, request))
        except ApiError as exc:
            return _reply(_error(exc.code))
        except StorageError as exc:
            if exc.reason.startswith("test_"):
                return _reply(_error(int(exc.reason[5:]), exc.message))
            return _reply(_error(REASON_CODES.get(exc.reason, 10)))

    return handler


def _action(name: str, form: Form, storage: StorageSubsystem, request: web.Request) -> str:
    actor = actor_of(request)
    if name == "list":
        wanted = _required(form, "shareid").split(",")
        share = storage.share()
        shares = [share] if share and ("all" in wanted or share["ShareId"] in wanted) else []
        items = ""
        for s in shares:
            attrs = [("NiceName", s["Name"]), ("ShareId", s["ShareId"]), ("Address", s["Address"]),
                     ("Share", s["Share"]), ("User", s["Username"])]  # fmt: skip
            if storage.bound:
                attrs.append(("DiskId", storage.disk.disk_id))
            items += "<NetworkShare " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs) + " />"
        return f'<ListSuccess><NetworkShares NumberOfShares="{len(shares)}">{items}</NetworkShares></ListSuccess>'
    if name == "add":
        share_id = storage.add_share(
            _required(form, "address"), _required(form, "share"), first(form, "user") or "",
            first(form, "pass") or "", nicename=_required(form, "nicename"), share_id=first(form, "shareid"),
            test=False, actor=actor,
        )  # fmt: skip
        return f"<AddSuccess ShareId={quoteattr(share_id)} />"
    if name == "remove":
        for share_id in _required(form, "shareid").split(","):
            storage.remove_share(share_id, actor)
        return "<GeneralSuccess />"
    if name == "modify":
        fields = {MODIFIABLE[key]: value for key, value in form if key in MODIFIABLE}
        storage.shares().modify_share(_required(form, "shareid"), actor, **fields)
        return "<GeneralSuccess />"
    if name == "bind":
        automount = first(form, "automaticmount") or "yes"
        if automount not in ("yes", "no"):
            raise ApiError(20)
        disk_id = storage.shares().bind(_required(form, "shareid"), automount == "yes", actor)
        return f"<BindSuccess DiskID={quoteattr(disk_id)} />"
    if name == "unbind":
        storage.shares().unbind(_required(form, "shareid"), actor)
        return "<GeneralSuccess />"
    if name == "test":
        override = {key: value for key, value in form if key in ("address", "share", "user", "pass")}
        job = storage.shares().test_share(actor, **override)
        return f'<TestSuccess JobId="{job.id}" />'
    # job.cgi
    text = _required(form, "jobid")
    number = whole_number(text)
    job = storage.job(number) if number is not None else None
    if job is None:
        raise ApiError(20)
    if not job.done:
        return f"<JobSuccess><Progress>{job.progress(storage.device.clock.now())}</Progress></JobSuccess>"
    if job.result == "ERROR":
        code = int(job.reason[5:]) if job.reason.startswith("test_") else 10
        return f"<JobSuccess>{_error(code, job.description)}</JobSuccess>"
    return "<JobSuccess><GeneralSuccess /></JobSuccess>"


ROLES = {
    "list": Role.OPERATOR, "add": Role.ADMIN, "remove": Role.ADMIN, "modify": Role.ADMIN, "bind": Role.OPERATOR,
    "unbind": Role.OPERATOR, "test": Role.OPERATOR, "job": Role.OPERATOR, "schemaversions": Role.OPERATOR,
}  # fmt: skip
ROUTES = [
    Route(f"/axis-cgi/disks/networkshare/{name}.cgi", _handler(name), role, subsystem=StorageSubsystem.name)
    for name, role in ROLES.items()
]
APIS = [Api("disk-network-share", "1.0", "Edge storage Network share", needs=("storage", "network_share"))]
