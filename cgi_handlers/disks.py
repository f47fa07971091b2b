"""`/axis-cgi/disks/*.cgi` and `disks/properties/*.cgi`: VAPIX edge storage disk management.

All replies are HTTP 200 `text/xml`, errors included (VAPIX edge storage API).
`list.cgi` follows a recorded AXIS OS 9.80 body (vapix-wire.md §6.2): the
`encryptionenabled` attribute (the docs say `diskencryptionenabled`), `status`
before `filesystem`, `cleanuplevel="99"` (an internal value since 5.50) and its
odd whitespace. The job CGIs answer `startjob1.xsd`, `job.cgi` `checkjob1.xsd`;
their error descriptions are not documented, so they say what went wrong.
Properties answer `DiskPropertiesResponse` with the documented error codes.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from aiohttp import web

from axisim.subsystems.storage import KELVIN, StorageSubsystem, kilobytes
from axisim.subsystems.storage.kinds.base import NOT_APPLICABLE
from axisim.subsystems.storage.media import Job, StorageError
from param_tree import Role, whole_number

from .api_errors import ApiError
from .forms import check_schema_version, first, read_form
from .replies import text_reply
from .request_context import actor_of, subsystem_of
from .routing import Api, Handler, Route

XSD = "http://www.axis.com/vapix/http_cgi/disk/"
ROOT = '<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{xsd}">'
CLEANUP_LEVEL = "99"  # "replaced by an internal, fixed value" (AXIS OS 5.50+); the recorded device says 99

Form = list[tuple[str, str]]


def storage_of(request: web.Request) -> StorageSubsystem:
    storage = subsystem_of(request, StorageSubsystem)
    return storage


def _xml(schema: str, body: str) -> web.Response:
    head = ROOT.format(xsd=f"{XSD}{schema}")
    return text_reply(f'<?xml version="1.0"?>\n{head}\n{body}</root>\n', content_type="text/xml")


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return " ".join(f"{name}={quoteattr(value)}" for name, value in pairs)


# -- list, capabilities, health -----------------------------------------------------


def disk_xml(storage: StorageSubsystem) -> str:
    device = storage.device
    disk = storage.disk
    setting = device.params.value

    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    pairs = [
        ("diskid", disk.disk_id),
        ("name", setting("Storage.S0.FriendlyName")),
        ("totalsize", str(kilobytes(storage.total()))),
        ("freesize", str(kilobytes(storage.free()))),
        ("cleanuplevel", CLEANUP_LEVEL),
        ("cleanupmaxage", setting("Storage.S0.CleanupMaxAge")),
        ("cleanuppolicy", setting("Storage.S0.CleanupPolicyActive")),
        ("locked", yes(storage.locked)),
        ("full", yes(storage.full())),
        ("readonly", "no"),
        ("status", storage.status()),
        ("filesystem", disk.filesystem),
        ("group", disk.group),
        ("requiredfilesystem", setting("Storage.S0.RequiredFileSystem")),
        ("encryptionenabled", "true" if disk.encryption_key is not None else "false"),
        ("diskencrypted", "true" if disk.encrypted else "false"),
    ]
    return f"<disk {_attrs(pairs)}/>"


async def list_cgi(request: web.Request) -> web.Response:
    storage = storage_of(request)
    storage.tick()
    wanted = (first(await read_form(request), "diskid") or "all").split(",")
    disks = [storage] if "all" in wanted or storage.disk.disk_id in wanted else []
    inner = "".join(f"  {disk_xml(s)}\n" for s in disks)
    return _xml("list1.xsd", f'<disks numberofdisks="{len(disks)}" >{inner}</disks> ')


async def getcapabilities_cgi(request: web.Request) -> web.Response:
    storage = storage_of(request)
    if first(await read_form(request), "diskid") != storage.disk.disk_id:
        return _xml("capabilities1.xsd", "")
    medium = storage.medium
    required, encryption = ("true" if flag else "false" for flag in (medium.required_fs_supported,
                                                                      medium.encryption_supported))  # fmt: skip
    systems = "".join(
        f'    <filesystem name="{fs}" nicename=" " requiredfssupported="{"true" if fs == "ext4" else "false"}"/>\n'
        for fs in storage.medium.filesystems
    )
    body = (
        f'<disk diskid="{storage.disk.disk_id}" requiredfssupported="{required}" encryptionsupported="{encryption}">\n'
        f"  <filesystems>\n{systems}  </filesystems>\n</disk>\n"
    )
    return _xml("capabilities1.xsd", body)


async def gethealth_cgi(request: web.Request) -> web.Response:
    storage = storage_of(request)
    storage.tick()
    health = storage.health()  # what Storage/Alert carries, temperature in Celsius
    attrs = [("diskid", storage.disk.disk_id), ("wear", str(health["wear"]))]
    if storage.medium.drive_health:  # a share reports its wear only (vapix-wire.md §6.2)
        celsius = int(health["temperature"])  # type: ignore[call-overload]
        attrs += [("temperature", str(celsius + KELVIN if celsius != NOT_APPLICABLE else celsius)),
                  ("overallhealth", str(health["overall_health"]))]  # fmt: skip
    status = f"<HealthStatus {_attrs(attrs)} />"
    body = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<HealthStatusResponse '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:noNamespaceSchemaLocation="{XSD}gethealth1.xsd">\n'
        f"    <HealthStatusSuccess>\n        {status}\n    </HealthStatusSuccess>\n</HealthStatusResponse>\n"
    )
    return text_reply(body, content_type="text/xml")


# -- jobs ------------------------------------------------------------------------------


def _job_started(action: str, disk_id: str, job: Job | None, error: str = "") -> web.Response:
    pairs = [("action", action), ("diskid", disk_id)]
    pairs += [("result", "OK"), ("jobid", str(job.id))] if job else [("result", "ERROR"), ("description", error)]
    return _xml("startjob1.xsd", f"<job {_attrs(pairs)} />\n")


def _job_handler(action: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        storage = storage_of(request)
        storage.tick()
        form = await read_form(request)
        disk_id = first(form, "diskid") or ""
        shown = action
        if action == "mount":
            shown = first(form, "action") or ""
            if shown not in ("mount", "unmount"):
                return _job_started(shown or "N/A", disk_id, None, "Invalid action")
        if disk_id != storage.disk.disk_id:
            return _job_started(shown, disk_id, None, "Invalid disk id")
        actor = actor_of(request)
        try:
            if shown == "format":
                job = storage.format(first(form, "filesystem") or None, actor)
            elif shown == "checkdisk":
                job = storage.check(actor)
            elif shown == "repair":
                job = storage.repair(actor)
            elif shown == "mount":
                job = storage.mount(actor=actor)
            else:
                job = storage.unmount(actor)
        except StorageError as exc:
            return _job_started(shown, disk_id, None, exc.message)
        return _job_started(shown, disk_id, job)

    return handler


async def job_cgi(request: web.Request) -> web.Response:
    storage = storage_of(request)
    form = await read_form(request)
    text, disk_id = first(form, "jobid") or "", first(form, "diskid") or ""
    number = whole_number(text)
    job = storage.job(number) if number is not None else None
    if job is None or job.disk_id != disk_id:
        pairs = [("jobid", text), ("diskid", disk_id), ("action", "N/A"), ("progress", "100"),
                 ("result", "ERROR"), ("description", "No such job")]  # fmt: skip
    else:
        progress = str(job.progress(storage.device.clock.now()))
        if job.result == "ERROR":
            pairs = [("jobid", text), ("diskid", disk_id), ("action", job.action), ("progress", "100"),
                     ("result", "ERROR"), ("description", job.description)]  # fmt: skip
        else:
            description = job.description if job.done else "In progress"
            pairs = [("jobid", text), ("diskid", disk_id), ("action", job.action), ("result", "OK"),
                     ("progress", progress), ("description", description)]  # fmt: skip
    return _xml("checkjob1.xsd", f"<job {_attrs(pairs)} />\n")


async def lock_cgi(request: web.Request) -> web.Response:
    storage = storage_of(request)
    form = await read_form(request)
    action, disk_id = first(form, "action") or "", first(form, "diskid") or ""
    element = action if action in ("lock", "unlock") else "lock"
    if action not in ("lock", "unlock"):
        error = "Invalid action"
    elif disk_id != storage.disk.disk_id:
        error = "Invalid disk id"
    else:
        storage.set_write_protect(action == "lock", actor_of(request))
        return _xml("lock1.xsd", f'<{element} diskid={quoteattr(disk_id)} result="OK" />\n')
    attrs = _attrs([("diskid", disk_id), ("result", "ERROR"), ("description", error)])
    return _xml("lock1.xsd", f"<{element} {attrs} />\n")


# -- disk properties -------------------------------------------------------------------

PROPERTIES_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<DiskPropertiesResponse xmlns="http://www.axis.com/vapix/http_cgi/disks/properties1" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.axis.com/vapix/http_cgi/disks/properties1 '
    'http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd" SchemaVersion="{version}">\n'
)
PROPERTY_ERRORS = {
    10: "Error while processing the request.",
    20: "Invalid request.",
    30: "Specified file system is not supported.",
    40: "Specified version is not supported.",
    50: "Invalid disk ID.",
    100: "The disk does not support disk encryption.",
    110: "Invalid passphrase.",
    120: "Invalid new passphrase.",
    130: "The oldpassphrase does not match the existing passphrase.",
    140: "Encryption is already enabled.",
    150: "The disk is unmounted. Passphrase can only be changed when the disk is mounted.",
    160: "The disk is mounted. Encryption can only be enabled/disabled when the disk is unmounted.",
}
REASON_CODES = {
    "no_encryption": 100, "invalid_passphrase": 110, "invalid_new_passphrase": 120, "old_mismatch": 130,
    "already_enabled": 140, "unmounted": 150, "mounted": 160, "filesystem": 30, "invalid": 20,
}  # fmt: skip


def _properties(inner: str, version: str = "1.0") -> web.Response:
    body = f"{PROPERTIES_HEAD.format(version=version)}    <Success>\n{inner}    </Success>\n</DiskPropertiesResponse>\n"
    return text_reply(body, content_type="text/xml")


def _property_error(code: int) -> web.Response:
    body = (
        f"{PROPERTIES_HEAD.format(version='1.0')}    <Error>\n        <GeneralError>\n"
        f"            <ErrorCode>{code}</ErrorCode>\n"
        f"            <ErrorDescription>{PROPERTY_ERRORS[code]}</ErrorDescription>\n"
        "        </GeneralError>\n    </Error>\n</DiskPropertiesResponse>\n"
    )
    return text_reply(body, content_type="text/xml")


def _number(form: Form, key: str, low: int, high: int) -> int | None:
    text = first(form, key)
    if text is None:
        return None
    number = whole_number(text, low=low, high=high)
    if number is None:
        raise ApiError(20)
    return number


def _required(form: Form, key: str) -> str:
    value = first(form, key)
    if value is None:
        raise ApiError(20)
    return value


def _property_handler(name: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        storage = storage_of(request)
        form = await read_form(request)
        try:
            if name == "schemaversions":
                return _properties(
                    "        <SchemaVersionsSuccess>\n            <SchemaVersion>\n"
                    "                <VersionNumber>1.1</VersionNumber>\n"
                    "                <Deprecated>false</Deprecated>\n"
                    "            </SchemaVersion>\n        </SchemaVersionsSuccess>\n"
                )
            check_schema_version(form, required=True)
            if _required(form, "diskid") != storage.disk.disk_id:
                raise ApiError(50)
            return _property_action(name, form, storage, request)
        except ApiError as exc:
            return _property_error(exc.code)
        except StorageError as exc:
            return _property_error(REASON_CODES.get(exc.reason, 10))

    return handler


def _property_action(name: str, form: Form, storage: StorageSubsystem, request: web.Request) -> web.Response:
    actor = actor_of(request)
    done = "        <GeneralSuccess />\n"
    if name == "setrequiredfs":
        storage.set_required_fs(_required(form, "filesystem"), actor)
    elif name == "enablediskencryption":
        storage.enable_encryption(_required(form, "passphrase"), actor)
    elif name == "disablediskencryption":
        storage.disable_encryption(actor)
    elif name == "changediskpassphrase":
        storage.change_passphrase(_required(form, "oldpassphrase"), _required(form, "newpassphrase"), actor)
    elif name == "setcleanupmaxage":
        days = _number(form, "maxage", 0, 7000)
        if days is None:
            raise ApiError(20)
        storage.set_retention(days, actor)
    elif name == "setcleanuppolicy":
        policy = _required(form, "cleanuppolicy")
        if policy not in ("fifo", "none"):
            raise ApiError(20)
        storage.set_cleanup_policy(policy, actor)
    elif name == "setdiskalertlevels":
        storage.set_alert_levels(_number(form, "wear", 0, 10**6), _number(form, "temperature", 0, 10**6))
    else:  # getdiskalertlevels
        levels = f'<AlertLevels Wear="{storage.alert_wear}" Temperature="{storage.alert_temperature_k}"/>'
        inner = f"        <GetAlertLevelsSuccess>\n            {levels}\n        </GetAlertLevelsSuccess>\n"
        return _properties(inner, "1.1")
    return _properties(done)


PROPERTIES = {
    "setrequiredfs": Role.ADMIN, "enablediskencryption": Role.ADMIN, "disablediskencryption": Role.ADMIN,
    "changediskpassphrase": Role.ADMIN, "setcleanupmaxage": Role.ADMIN, "setcleanuppolicy": Role.ADMIN,
    "setdiskalertlevels": Role.ADMIN, "getdiskalertlevels": Role.OPERATOR, "schemaversions": Role.OPERATOR,
}  # fmt: skip
SUBSYSTEM = StorageSubsystem.name
ROUTES = [
    Route("/axis-cgi/disks/list.cgi", list_cgi, Role.OPERATOR, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/getcapabilities.cgi", getcapabilities_cgi, Role.OPERATOR, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/gethealth.cgi", gethealth_cgi, Role.OPERATOR, subsystem=SUBSYSTEM),
    # security levels as the edge storage API lists them
    Route("/axis-cgi/disks/format.cgi", _job_handler("format"), Role.ADMIN, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/checkdisk.cgi", _job_handler("checkdisk"), Role.OPERATOR, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/repair.cgi", _job_handler("repair"), Role.ADMIN, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/mount.cgi", _job_handler("mount"), Role.ADMIN, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/job.cgi", job_cgi, Role.OPERATOR, subsystem=SUBSYSTEM),
    Route("/axis-cgi/disks/lock.cgi", lock_cgi, Role.ADMIN, subsystem=SUBSYSTEM),
    *(
        Route(f"/axis-cgi/disks/properties/{name}.cgi", _property_handler(name), role, subsystem=SUBSYSTEM)
        for name, role in PROPERTIES.items()
    ),
]
DISK_MANAGEMENT = ("list", "getcapabilities", "gethealth", "format", "checkdisk", "repair", "mount", "job", "lock")
APIS = [
    Api("disk-management", "1.0", "Edge storage Disk management",
        paths=tuple(f"/axis-cgi/disks/{name}.cgi" for name in DISK_MANAGEMENT)),
    Api("disk-properties", "1.1", "Edge storage Disk properties", paths=("/axis-cgi/disks/properties/",)),
]  # fmt: skip
