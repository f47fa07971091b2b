"""serverreport.cgi, debug.tgz and the logs (vapix-wire.md §3; manuals, Logs)."""

from __future__ import annotations

import io
import re
import struct
import tarfile
import zipfile

import pytest

from tests.conftest import DeviceClient, DeviceClientFactory

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 axis-[0-9a-f]{12} "
    r"\[ (INFO   |NOTICE |WARNING|ERR    |CRIT   ) \] [\w-]+(\[\d+\])?: .+$"
)


async def fail_login(client: DeviceClient, user: str = "root", password: str = "wrong") -> None:
    response = await client.get("/axis-cgi/param.cgi?action=list&group=Brand", auth=(user, password))
    assert response.status == 401


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from the first SOF segment of a baseline/progressive JPEG."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    index = 2
    while index < len(data):
        marker, length = data[index + 1], struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    raise AssertionError("no SOF segment")


async def test_text_report_has_header_parameters_accounts_and_logs(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    device = client.device
    await client.text("GET", "/axis-cgi/param.cgi?action=update&RemoteService.ProxyPassword=hunter2")
    await fail_login(client)
    response = await client.get("/axis-cgi/serverreport.cgi")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    text = await response.text()
    assert text.startswith("----- Server Report Start -----\n")
    for expected in (
        "Product:           AXIS S3008 Recorder",
        f"Serial number:     {device.serial}",
        "Firmware version:  12.6.94",
        f"Host name:         {device.hostname}",
        "Uptime:            0 days, 00:00:0",
    ):
        assert expected in text
    # §3 [REC]: [Group] headers, names padded to 25 columns, quoted values, masked passwords
    assert '\n\n[Brand]\nBrand                    = "AXIS"\n' in text
    assert 'ProxyPassword            = "*****"' in text and "hunter2" not in text
    assert "\n----- Accounts -----\n\nroot: Administrator, Operator, Viewer, PTZ (root account)\n" in text
    system = text.split("----- System log -----\n\n")[1].split("\n\n-----")[0].splitlines()
    assert system and all(LINE.match(line) for line in system)
    assert any("RemoteService.ProxyPassword=******" in line and "by root from 127.0.0.1" in line for line in system)
    access = text.split("----- Access log -----\n\n")[1].split("\n\n-----")[0]
    assert "user root" in access and "password mismatch" in access
    assert text.endswith("----- Server Report End -----\n")
    assert "----- Audit log -----" not in text  # the S3008 has none


async def test_zip_reports_and_snapshot(device_client: DeviceClientFactory) -> None:
    client = await device_client("C1410MkII")
    plain = await client.get("/axis-cgi/serverreport.cgi?mode=zip")
    assert plain.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(await plain.read())) as archive:
        assert archive.namelist() == ["serverreport_cgi.txt"]
        assert archive.read("serverreport_cgi.txt").decode().startswith("----- Server Report Start -----")
    with_image = await client.get("/axis-cgi/serverreport.cgi?mode=zip_with_image")
    with zipfile.ZipFile(io.BytesIO(await with_image.read())) as archive:
        assert archive.namelist() == ["serverreport_cgi.txt", "serverreport_image.jpg"]
        assert archive.testzip() is None
        assert jpeg_size(archive.read("serverreport_image.jpg")) == (640, 360)


async def test_tar_all_and_debug_archive(device_client: DeviceClientFactory) -> None:
    client = await device_client("S4000")
    await fail_login(client, "mallory", "guess")
    tar = await client.get("/axis-cgi/serverreport.cgi?mode=tar_all")
    with tarfile.open(fileobj=io.BytesIO(await tar.read()), mode="r:") as archive:
        assert archive.getnames() == ["var/log/messages", "var/log/auth.log", "var/log/audit.log"]
        auth = archive.extractfile("var/log/auth.log").read().decode()  # type: ignore[union-attr]
        assert "user mallory" in auth and "user not found" in auth
    debug = await client.get("/axis-cgi/debug/debug.tgz")
    assert debug.headers["Content-Type"] == "application/x-gzip"
    with tarfile.open(fileobj=io.BytesIO(await debug.read()), mode="r:gz") as archive:
        names = archive.getnames()
        assert names[0] == "serverreport_cgi.txt" and "var/log/audit.log" in names
        report = archive.extractfile("serverreport_cgi.txt").read().decode()  # type: ignore[union-attr]
        assert "----- Audit log -----" in report


async def test_network_trace_from_debug_tgz(device_client: DeviceClientFactory) -> None:
    """C1410 Mk II manual, API commands: debug.tgz?cmd=pcapdump&duration=300."""
    client = await device_client("C1410MkII")
    response = await client.get("/axis-cgi/debug/debug.tgz?cmd=pcapdump&duration=300")
    with tarfile.open(fileobj=io.BytesIO(await response.read()), mode="r:gz") as archive:
        trace = archive.extractfile("pcapdump.pcap").read()  # type: ignore[union-attr]
    magic, major, minor = struct.unpack("<IHH", trace[:8])
    assert (magic, major, minor) == (0xA1B2C3D4, 2, 4)
    bad = await client.get("/axis-cgi/debug/debug.tgz?cmd=explode")
    assert bad.status == 400


@pytest.mark.parametrize("mode", ["pdf", "TEXT", "zip%00", "tar"])
async def test_unknown_mode_is_a_clear_error(device_client: DeviceClientFactory, mode: str) -> None:
    client = await device_client("S3008")
    response = await client.get(f"/axis-cgi/serverreport.cgi?mode={mode}")
    assert response.status == 400
    assert "unknown mode" in await response.text()


@pytest.mark.parametrize(
    "path", ["serverreport.cgi", "debug/debug.tgz", "systemlog.cgi", "accesslog.cgi", "admin/systemlog.cgi"]
)
async def test_reports_and_logs_are_for_administrators(device_client: DeviceClientFactory, path: str) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppass&grp=users&sgrp=operator:viewer")
    assert (await client.get(f"/axis-cgi/{path}", auth=("op", "oppass"))).status == 401
    assert (await client.get(f"/axis-cgi/{path}", auth=None)).status == 401
    assert (await client.get(f"/axis-cgi/{path}")).status == 200


async def test_system_log_records_changes_with_who_made_them(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=alice&pwd=secret1&grp=users&sgrp=viewer")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=update&user=alice&pwd=secret2")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=remove&user=alice")
    await client.text("GET", "/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes")
    text = await client.text("GET", "/axis-cgi/systemlog.cgi")
    assert text.startswith("\n----- System log -----\n\n\n")  # as recorded from 9.80 (research notes)
    lines = text.split("\n\n\n", 1)[1].splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert any("Account added: alice (viewer)" in line and "by root" in line for line in lines)
    assert any("Account changed: alice (password)" in line for line in lines)
    assert any("Account removed: alice" in line for line in lines)
    assert any("Network.FTP.Enabled=yes (by root from 127.0.0.1)" in line for line in lines)
    assert "secret" not in text
    filtered = await client.text("GET", "/axis-cgi/systemlog.cgi?text=Account%20removed")
    assert len(filtered.split("\n\n\n", 1)[1].splitlines()) == 1


async def test_refused_account_change_is_explained_in_the_system_log(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    reply = await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=remove&user=root")
    assert "consult the system log file" in reply
    text = await client.text("GET", "/axis-cgi/systemlog.cgi")
    assert "Could not remove root" in text


async def test_access_log_records_every_failed_authentication(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppass&grp=users&sgrp=operator:viewer")
    await fail_login(client, "root", "wrong")
    await fail_login(client, "ghost", "x")
    denied = await client.get("/axis-cgi/restart.cgi", auth=("op", "oppass"))
    assert denied.status == 401
    unauthenticated = await client.get("/axis-cgi/param.cgi?action=list", auth=None)
    assert unauthenticated.status == 401  # a challenge, not a failure: not logged
    text = await client.text("GET", "/axis-cgi/accesslog.cgi")
    lines = text.split("\n\n\n", 1)[1].splitlines()
    assert len(lines) == 3
    assert all(LINE.match(line) and "[client 127.0.0.1]" in line for line in lines)
    assert "user root" in lines[0] and "password mismatch" in lines[0]
    assert "user ghost" in lines[1] and "user not found" in lines[1]
    assert "user op" in lines[2] and "/axis-cgi/restart.cgi" in lines[2] and "authorization failure" in lines[2]


async def test_audit_log_on_the_s4000_only(device_client: DeviceClientFactory) -> None:
    s4000 = await device_client("S4000")
    await s4000.text("GET", "/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes")
    await fail_login(s4000, "root", "wrong")
    text = await s4000.text("GET", "/axis-cgi/auditlog.cgi")
    lines = text.splitlines()
    assert all(LINE.match(line) for line in lines)
    assert any("Authentication: root@127.0.0.1 Authentication successful (HTTP)." in line for line in lines)
    assert any("Authentication: root@127.0.0.1 Authentication failed (HTTP)." in line for line in lines)
    assert any("Configuration: root@127.0.0.1 Parameters changed: Network.FTP.Enabled=yes" in line for line in lines)
    # one success per session, not one per Digest request
    assert sum("Authentication successful" in line for line in lines) == 1
    tail = await s4000.text("GET", "/axis-cgi/auditlog.cgi?tail=2")
    assert tail.splitlines() == (await s4000.text("GET", "/axis-cgi/auditlog.cgi")).splitlines()[-2:]
    assert await s4000.text("GET", "/axis-cgi/auditlog.cgi?version=true") == "1.0.0\n"
    assert (await s4000.post("/axis-cgi/auditlog.cgi")).status == 400
    s3008 = await device_client("S3008")
    assert (await s3008.get("/axis-cgi/auditlog.cgi")).status == 404
    discovered = await s4000.post("/axis-cgi/apidiscovery.cgi", json={"apiVersion": "1.0", "method": "getApiList"})
    assert any(api["id"] == "audit-log" for api in (await discovered.json())["data"]["apiList"])
