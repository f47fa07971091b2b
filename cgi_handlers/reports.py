"""serverreport.cgi, systemlog.cgi, accesslog.cgi, auditlog.cgi and debug/debug.tgz (vapix-wire.md §3).

Layout of the text report (no modern verbatim example exists, §9): it starts with
`----- Server Report Start -----` (what report parsers check for), a header with
product, serial, firmware, host name and uptime, then `----- <section> -----`
blocks: the parameter list in the INI form of §3, the accounts and their roles,
the system log, the access log (manuals: "The Access Log is automatically
included in the Server Report") and, where the model has one, the audit log.
Log bodies are AXIS OS 10+ syslog lines; `systemlog.cgi` opens with the header
recorded from 9.80 (`\\n----- System log -----\\n\\n\\n`). The access log's lines
are synthetic: no real one was found.
"""

from __future__ import annotations

import io
import struct
import tarfile
import time
import zipfile
from importlib import resources

from aiohttp import web

from axisim.device import Device
from axisim.timezone import iso_local
from param_tree import Role, printable, render_ini, whole_number

from .forms import first, read_form
from .replies import text_reply, wire_bytes
from .request_context import device_of
from .routing import Api, Route

ROLE_NAMES = (("admin", "Administrator"), ("operator", "Operator"), ("viewer", "Viewer"), ("ptz", "PTZ"))
MODES = ("text", "zip", "zip_with_image", "tar_all")


def _snapshot_jpeg() -> bytes:
    return resources.files("axisim").joinpath("assets/snapshot.jpg").read_bytes()


def _uptime(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} days, {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _section(title: str, lines: list[str]) -> str:
    return f"\n----- {title} -----\n\n" + _lines(lines)


def log_files(device: Device) -> dict[str, bytes]:
    """The device's logs as the files a device keeps them in."""
    logs = {"messages": device.logs.system, "auth.log": device.logs.access}
    if device.logs.audit is not None:
        logs["audit.log"] = device.logs.audit
    return {f"var/log/{name}": wire_bytes(_lines(log.lines())) for name, log in logs.items()}


def report_text(device: Device) -> str:
    now = device.local_time()  # the device's clock and time zone
    header = [
        "----- Server Report Start -----",
        "",
        f"Product:           {device.param('Brand.ProdFullName')}",
        f"Product number:    {device.param('Brand.ProdNbr')}",
        f"Serial number:     {device.serial}",
        f"MAC address:       {device.identity.mac}",
        f"Firmware version:  {device.firmware.active}",
        f"Host name:         {device.hostname}",
        f"IP address:        {device.identity.ip}",
        f"Uptime:            {_uptime(device.uptime)}",
        f"Boot id:           {device.boot_id}",
        f"Report time:       {iso_local(now)}",
    ]
    stamp = now.strftime("%a %b %d %H:%M:%S %Y")
    accounts = []
    for name in device.accounts.members_all():
        account = device.accounts.accounts[name]
        roles = ", ".join(label for group, label in ROLE_NAMES if group in account.groups)
        accounts.append(f"{name}: {roles}{' (root account)' if account.is_root else ''}")
    parts = [
        "\n".join(header) + "\n",
        f"\n----- Parameter list -----\n\n{render_ini(device.params, Role.ADMIN, stamp)}",
        _section("Accounts", accounts or ["(none: the device needs setup)"]),
        _section("System log", device.logs.system.lines()),
        _section("Access log", device.logs.access.lines()),
    ]
    if device.logs.audit is not None:
        parts.append(_section("Audit log", device.logs.audit.lines()))
    parts.append("\n----- Server Report End -----\n")
    return "".join(parts)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], compress: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=body,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def serverreport_cgi(request: web.Request) -> web.Response:
    device = device_of(request)
    form = await read_form(request)
    mode = first(form, "mode") or "text"
    if mode not in MODES:
        shown = printable(mode)
        return text_reply(f"Error: unknown mode '{shown}'; use one of {', '.join(MODES)}.\n", status=400)
    stem = f"serverreport_{device.serial}"
    if mode == "tar_all":
        return _download(_tar(log_files(device), compress=False), "application/x-tar", f"{stem}_logs.tar")
    text = report_text(device)
    if mode == "text":
        return text_reply(text)
    members = {"serverreport_cgi.txt": wire_bytes(text)}
    if mode == "zip_with_image":
        members["serverreport_image.jpg"] = _snapshot_jpeg()
    return _download(_zip(members), "application/zip", f"{stem}.zip")


# a pcap file with its global header and no packets: a simulator sees no traffic to trace
EMPTY_PCAP = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


async def debug_tgz(request: web.Request) -> web.Response:
    """The crash report: the server report and every log, as a gzip'd tar; `cmd=pcapdump`
    (C1410 Mk II manual, API commands) answers at once with an empty network trace."""
    device = device_of(request)
    form = await read_form(request)
    command = first(form, "cmd")
    if command == "pcapdump":
        members = {"pcapdump.pcap": EMPTY_PCAP}
        return _download(_tar(members, compress=True), "application/x-gzip", f"pcapdump_{device.serial}.tgz")
    if command is not None:
        return text_reply(f"Error: unknown cmd '{printable(command)}'; use pcapdump.\n", status=400)
    members = {"serverreport_cgi.txt": wire_bytes(report_text(device)), **log_files(device)}
    return _download(_tar(members, compress=True), "application/x-gzip", f"debug_{device.serial}.tgz")


def _log_page(title: str, lines: list[str]) -> web.Response:
    """A log CGI's body: the header recorded from 9.80, then the lines, oldest first."""
    return text_reply(f"\n----- {title} -----\n\n\n" + _lines(lines))


async def systemlog_cgi(request: web.Request) -> web.Response:
    form = await read_form(request)
    return _log_page("System log", device_of(request).logs.system.lines(containing=first(form, "text")))


async def accesslog_cgi(request: web.Request) -> web.Response:
    return _log_page("Access log", device_of(request).logs.access.lines())


async def auditlog_cgi(request: web.Request) -> web.Response:
    """VAPIX Audit Log API: GET only, `tail=N`, `version=true`; invalid parameters are ignored."""
    log = device_of(request).logs.audit
    if log is None:
        raise web.HTTPNotFound()
    if request.method != "GET":
        return text_reply("An invalid request method was provided.\n", status=400)
    form = await read_form(request)
    if first(form, "version") == "true":
        return text_reply("1.0.0\n")
    return text_reply(_lines(log.lines(tail=whole_number(first(form, "tail")))))  # not a number: ignored


ROUTES = [
    Route("/axis-cgi/serverreport.cgi", serverreport_cgi, Role.ADMIN),
    Route("/axis-cgi/debug/debug.tgz", debug_tgz, Role.ADMIN, ("GET",)),
    Route("/axis-cgi/systemlog.cgi", systemlog_cgi, Role.ADMIN),
    Route("/axis-cgi/admin/systemlog.cgi", systemlog_cgi, Role.ADMIN),
    Route("/axis-cgi/accesslog.cgi", accesslog_cgi, Role.ADMIN),
    Route("/axis-cgi/admin/accesslog.cgi", accesslog_cgi, Role.ADMIN),
    Route("/axis-cgi/auditlog.cgi", auditlog_cgi, Role.ADMIN),
]
APIS = [Api("audit-log", "1.0", "Audit Log API", paths=("/axis-cgi/auditlog.cgi",), needs=("audit_log", True))]
