"""`axisim record` anonymises by default (issue 23; /work/record-format.md "Anonymisation"): planted
identifiers in every file kind, none left, each replaced consistently by the placeholder identity.

Two devices stand in for a real one:
- a served axisim W401 whose address is 10.20.30.40 (served on 127.0.0.1) and whose parameters are
  set over param.cgi to a site's values (host name, domain, NTP server, a name
  server, an SNMP password), with a second account;
- a tiny aiohttp device for what axisim never says: a custom Digest realm, a Server header and
  param.cgi manners of its own (the quirks), MACs in dash, bare and lower-case forms, IPv6 global,
  unique-local and EUI-64 addresses, certificates (PEM in an XML attribute and in JSON, base64
  DER), secrets in JSON members, XML elements and param.cgi definitions, a Content-Disposition
  header, an API that fails and one the recorder does not know.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509

from axisim.device import AccountSpec, make_device
from axisim.identity import Identity
from axisim.record import quirks
from axisim.record import run as record_run
from axisim.record.anonymise import eui64_forms
from axisim.record.client import Reply
from axisim.record.plan import PROBE_GROUP, PROBE_LIST
from axisim.record.recording import Recording
from axisim.server import start_device
from param_tree import parse_definitions
from tests.conftest import digest_request
from tests.test_record import folder_files, run_record

# -- the served axisim with a site's values -----------------------------------------------------------

SITE = {
    "Network.HostName": "gate-cam-7",
    "Network.DomainName": "acme-site.lan",
    "Network.DNSServer1": "10.20.30.53",
    "Time.NTP.Server": "ntp1.acme-site.lan",
    "SNMP.InitialUserPasswd": "Sn1mpPlanted",
}


@asynccontextmanager
async def site_device() -> AsyncIterator[tuple[Any, str]]:
    accounts = [AccountSpec("root", "pass"), AccountSpec("alice", "Al1cePassw0rd", "operator")]
    device = make_device("W401", ip="10.20.30.40", accounts=accounts)
    running = await start_device(device, "127.0.0.1", 0, https_port=None)
    try:
        async with aiohttp.ClientSession() as session:
            reply = await digest_request(
                session, "POST", running.url + "/axis-cgi/param.cgi", ("root", "pass"),
                data={"action": "update", **SITE},
            )  # fmt: skip
            assert reply.text == "OK", reply.text
        yield device, running.url
    finally:
        await running.stop()


def found_in(files: dict[str, bytes], needles: list[str]) -> list[tuple[str, str]]:
    return [(path, n) for path, data in files.items() for n in needles if n.lower().encode() in data.lower()]


async def test_a_served_device_with_site_values_leaves_none_of_them(tmp_path: Path) -> None:
    async with site_device() as (device, url):
        identity = device.identity
        status, _, stderr = await run_record(url, tmp_path, model_id="Site")
    assert status == 0, stderr
    folder = tmp_path / "Site"
    files = folder_files(folder)
    mac = identity.mac
    eui = eui64_forms(identity.serial)
    planted = [
        identity.serial, mac, mac.replace(":", "-"), identity.hostname, identity.realm, identity.soc_serial,
        "10.20.30.40", "10.20.30.53", "gate-cam-7", "acme-site.lan", "ntp1", "alice", "Sn1mpPlanted",
        "Al1cePassw0rd", eui["padded"], eui["short"],
    ]  # fmt: skip
    assert found_in(files, planted) == []
    # in every file kind: params.xml (XML), events.xml (SOAP), JSON and text replies, headers, model.toml
    placeholder = Identity.derive("ACCC8E", 0, seed="recorded")
    kinds = {"params.xml", "events.xml", "model.toml", "README.md", "replies/index.json"}
    assert kinds <= set(files)
    params = {d.name: d.value for d in parse_definitions(files["params.xml"]).definitions}
    assert params["Properties.System.SerialNumber"] == placeholder.serial
    assert params["Network.eth0.MACAddress"] == placeholder.mac
    assert params["Network.HostName"] == placeholder.hostname  # the site's name became the placeholder's
    assert params["Network.eth0.IPAddress"] == "192.168.0.90"
    assert params["Network.DNSServer1"] == "198.51.100.1"  # another site address: a documentation one
    assert params["Network.DomainName"] == "domain1.example.com"
    assert params["Time.NTP.Server"] == "host1.example.com"  # a site host name
    assert params["SNMP.InitialUserPasswd"] == "******"  # masked by the device, kept masked
    assert params["Properties.Firmware.Version"] == device.param("Properties.Firmware.Version")
    index = json.loads(files["replies/index.json"])
    by_path = {e["path"] + "?" + e["query"] + e["request_body"]: files["replies/" + e["body_file"]] for e in index}
    network = json.loads(by_path['/axis-cgi/network_settings.cgi?{"apiVersion":"1.37","method":"getNetworkInfo"}'])
    assert network["data"]["devices"][0]["macAddress"] == placeholder.mac.lower()
    assert b'user1="' not in by_path["/axis-cgi/pwdgrp.cgi?action=get"]  # names replaced, groups kept
    assert b"user1" in by_path["/axis-cgi/pwdgrp.cgi?action=get"]
    assert placeholder.serial.encode() in files["events.xml"] or b"Source" in files["events.xml"]
    manifest = tomllib.loads(files["model.toml"].decode())
    assert manifest["recording"]["www_authenticate"].startswith(f'Digest realm="{placeholder.realm}"')
    assert manifest["identity"]["Network.HostName"] == "{hostname}"


async def test_a_device_at_the_placeholder_address_gets_another_placeholder(tmp_path: Path) -> None:
    """A device served on 0.0.0.0 reports 192.168.0.90 (`axisim serve`), the usual placeholder: the
    fixture takes the next one, so the device's address is still nowhere in the folder."""
    device = make_device("S4000", ip="192.168.0.90")
    running = await start_device(device, "127.0.0.1", 0, https_port=None)
    try:
        status, _, stderr = await run_record(running.url, tmp_path, model_id="Here")
    finally:
        await running.stop()
    assert status == 0, stderr
    files = folder_files(tmp_path / "Here")
    assert found_in(files, ["192.168.0.90", "192.168.0.255", device.serial, device.identity.hostname]) == []
    manifest = tomllib.loads(files["model.toml"].decode())
    assert manifest["recording"]["placeholder_ip"] == "192.168.2.90"
    params = {d.name: d.value for d in parse_definitions(files["params.xml"]).definitions}
    assert params["Network.eth0.IPAddress"] == "192.168.2.90" and params["Network.Broadcast"] == "192.168.2.255"


# -- a device that says what axisim never does ------------------------------------------------------

SERIAL = "ACCC8E1234AB"
MAC = "AC:CC:8E:12:34:AB"
REALM = "Site-Gate-Realm-42"
SERVER = "Apache/2.4.99 (Unix) OpenSSL/3.0.99"
TOKEN = "tok-9f8e7d6c5b4a"
MQTT_PASSWORD = "MqttPassw0rd!"
ELEMENT_SECRET = "XmlElementSecret77"
SOC = "ABCD1234-EF567890"
GLOBAL_V6 = "2a01:4f8:1:2::21"
ULA_V6 = "fd12:3456:789a:1::21"
PEM_CERT = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUPlantedCertificateBodyThatIsNotRealButLooksLikeBase64AAAA\n"
    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n"
    "NTY3ODkrL0FCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4\n"
    "-----END CERTIFICATE-----"
)
PEM_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPlantedKeyMaterial\n"
    "-----END PRIVATE KEY-----"
)
DER = "MIIBszCCAVmgAwIBAgIUQmFyZURlckNlcnRpZmljYXRlUGxhbnRlZEluSlNPTkFBQUFBQUFBQUFBQUFBQUFB"
VERSION_LIKE = "10.11.12.13"  # a version that looks like a private address: kept


def _param(name: str, value: str, kind: str = "<string />") -> str:
    attributes = f'name="{name}" value="{value}" securityLevel="7766" niceName="{name}"'
    return f"<parameter {attributes}><type>{kind}</type></parameter>"


def _group(name: str, *inner: str) -> str:
    return f'<group name="{name}">{"".join(inner)}</group>'


DEFINITIONS = (
    '<?xml version="1.0" encoding="iso-8859-1" ?>\n<parameterDefinitions '
    'xmlns="http://www.axis.com/ParameterDefinitionsSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.axis.com/ParameterDefinitionsSchema '
    'http://172.31.7.21/pub/parameterdefinitions.xsd" version="1.0">\n'
    "<model>AXIS M3106-LVE Mk II</model><firmwareVersion>11.11.73</firmwareVersion>"
    + _group(
        "root",
        _group("Brand", _param("ProdShortName", "AXIS M3106-LVE Mk II"), _param("ProdFullName", "AXIS M3106 Camera")),
        _group(
            "Properties", _group("System", _param("SerialNumber", SERIAL)),
            _group("Firmware", _param("Version", "11.11.73")),
            _group("EmbeddedDevelopment", _param("Version", VERSION_LIKE)),
        ),
        _group(
            "Network",
            _param("HostName", "frontdoor-cam"), _param("DomainName", "site.acme-corp.lan"),
            _param("IPAddress", "172.31.7.21", "<ip />"), _param("SubnetMask", "255.255.0.0", "<ip />"),
            _param("Broadcast", "172.31.255.255", "<ip />"), _param("DefaultRouter", "172.31.0.1", "<ip />"),
            _group("eth0", _param("MACAddress", MAC), _param("IPAddress", "172.31.7.21", "<ip />")),
            _group("UPnP", _param("FriendlyName", f"AXIS M3106-LVE Mk II - {SERIAL}")),
            _group("Filter", _param("AcceptAddresses", "172.31.9.9")),
            _group("Wireless", _param("Passphrase", "WifiPlanted123", "<password />")),
        ),
        _group("Time", _group("NTP", _param("Server", "ntp.site.acme-corp.lan", "<hostname />"))),
        _group("Api", _param("AccessToken", TOKEN), _param("TokenEnabled", "yes", '<bool true="yes" false="no" />')),
        _group("HTTPS", _param("Certificate", PEM_CERT.replace("\n", "&#10;"))),
    )
    + "</parameterDefinitions>\n"
)
EVENTS = (
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:aev="http://www.axis.com/vapix/ws/event1"><SOAP-ENV:Body><aev:GetEventInstancesResponse><wstop:TopicSet '
    'xmlns:wstop="http://docs.oasis-open.org/wsn/t-1"><Device><aev:MessageInstance><aev:SourceInstance>'
    f'<aev:SimpleItemInstance Type="xsd:string" Name="device"><aev:Value>{SERIAL}</aev:Value>'
    f"<aev:Value>{MAC.lower()}</aev:Value><aev:Value>172.31.7.21</aev:Value></aev:SimpleItemInstance>"
    "</aev:SourceInstance></aev:MessageInstance></Device></wstop:TopicSet></aev:GetEventInstancesResponse>"
    "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


def _json(document: Any, **headers: str) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), headers={"Content-Type": "application/json", **headers})


async def _fake(request: web.Request) -> web.StreamResponse:
    path = request.path
    body = await request.read()
    method = json.loads(body).get("method") if body.startswith(b"{") else None
    if path == "/axis-cgi/apidiscovery.cgi":
        apis = [{"id": i, "version": v} for i, v in [("api-discovery", "1.1"), ("mqtt-client", "1.6"),
                ("network-settings", "1.37"), ("light-control", "1.1"), ("frobnicator", "1.0")]]  # fmt: skip
        return _json({"apiVersion": "1.1", "method": method, "data": {"apiList": apis}})
    if "Authorization" not in request.headers:
        challenge = f'Digest realm="{REALM}", nonce="bm9uY2U=abc123", algorithm=MD5, qop="auth"'
        return web.Response(status=401, text="401", headers={"WWW-Authenticate": challenge})
    query = request.query_string
    if path == "/axis-cgi/param.cgi" and "listdefinitions" in query:
        return web.Response(body=DEFINITIONS.encode("latin-1"), headers={"Content-Type": "text/xml"})
    if path == "/axis-cgi/param.cgi" and "root.Properties" in query:  # params.xml's order, no final newline
        text = f"root.Properties.System.SerialNumber={SERIAL}\nroot.Properties.Firmware.Version=11.11.73"
        return web.Response(body=text.encode(), headers={"Content-Type": "text/plain; charset=ISO-8859-1"})
    if path == "/axis-cgi/param.cgi":  # the error line with a final "!" (vapix-wire.md §1.1, "legacy")
        group = request.query.get("group", "")
        return web.Response(body=f"# Error: Error -1 getting param in group '{group}'!".encode(),
                            headers={"Content-Type": "text/plain; charset=ISO-8859-1"})  # fmt: skip
    if path == "/vapix/services":
        return web.Response(body=EVENTS.encode(), headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    if path == "/axis-cgi/basicdeviceinfo.cgi":
        properties = {"SerialNumber": SERIAL, "SocSerialNumber": SOC, "ProdShortName": "AXIS M3106-LVE Mk II"}
        return _json({"apiVersion": "1.3", "data": {"propertyList": properties}})
    if path == "/axis-cgi/systemready.cgi":
        return _json({"apiVersion": "1.4", "method": "systemready", "data": {"systemready": "yes"}})
    if path == "/axis-cgi/pwdgrp.cgi":
        text = 'admin="root,alice"\r\noperator="root,alice,bob"\r\nviewer="root,alice,bob"\r\nptz="root"\r\n'
        return web.Response(body=(text + 'digusers="root,alice,bob"\r\n').encode(), content_type="text/plain")
    if path == "/axis-cgi/usergroup.cgi":
        return web.Response(body=b"alice\nusers admin operator viewer\n", content_type="text/plain")
    if path == "/axis-cgi/mqtt/client.cgi":
        config = {"server": {"host": "172.31.8.8"}, "clientId": f"cam-{SERIAL.lower()}", "password": MQTT_PASSWORD,
                  "deviceTopicPrefix": f"axis/{MAC.replace(':', '-')}", "clientCert": PEM_CERT + "\n" + PEM_KEY,
                  "caDer": DER}  # fmt: skip
        return _json({"apiVersion": "1.6", "method": method, "data": {"config": config}})
    if path == "/axis-cgi/network_settings.cgi":
        device = {"macAddress": MAC.lower(), "IPv6": {"addresses": [
            {"address": "fe80::aecc:8eff:fe12:34ab"}, {"address": GLOBAL_V6}, {"address": ULA_V6}]},
            "hostname": "frontdoor-cam.site.acme-corp.lan"}  # fmt: skip
        return _json({"apiVersion": "1.37", "method": method, "data": {"devices": [device]}})
    if path == "/axis-cgi/lightcontrol.cgi":
        if method == "getServiceCapabilities":
            return web.Response(status=500, text="Internal Server Error")
        xml = f"<Light><Id>{SERIAL}</Id><Secret>{ELEMENT_SECRET}</Secret></Light>"
        return web.Response(body=xml.encode(), content_type="text/xml",
                            headers={"Content-Disposition": f'attachment; filename="{SERIAL}.xml"'})  # fmt: skip
    return web.Response(status=404, text="404 Not Found")


@web.middleware
async def _server_header(request: web.Request, handler: Any) -> web.StreamResponse:
    response = await handler(request)
    response.headers["Server"] = SERVER
    return response


@asynccontextmanager
async def fake_device() -> AsyncIterator[str]:
    app = web.Application(middlewares=[_server_header])
    app.router.add_route("*", "/{tail:.*}", _fake)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


PLANTED = [
    SERIAL, SERIAL.lower(), MAC, MAC.lower(), MAC.replace(":", "-"), MAC.replace(":", "-").lower(), REALM,
    "172.31.7.21", "172.31.0.1", "172.31.255.255", "172.31.9.9", "172.31.8.8", "frontdoor-cam", "acme-corp.lan",
    "alice", "bob",
    TOKEN, MQTT_PASSWORD, ELEMENT_SECRET, "WifiPlanted123", SOC, GLOBAL_V6, ULA_V6, "aecc:8eff:fe12:34ab",
    "PlantedCertificateBody", "PlantedKeyMaterial", "QmFyZURlckNlcnRpZmljYXRl",
]  # fmt: skip


async def test_every_planted_identifier_is_replaced_in_every_file_kind(tmp_path: Path) -> None:
    async with fake_device() as url:
        status, _, stderr = await run_record(url, tmp_path, user="alice", password="Al1cePassw0rd")
    assert status == 0, stderr
    folder = tmp_path / "M3106LVEMkII"  # the product short name without AXIS, spaces and dashes
    files = folder_files(folder)
    assert found_in(files, PLANTED) == []
    placeholder = Identity(Identity.derive("ACCC8E", 0, seed="recorded").serial, "192.168.0.90", 16)
    forms = placeholder.placeholders()
    # params.xml (XML): the placeholder identity, its network (/16 kept), documentation addresses
    params = {d.name: d.value for d in parse_definitions(files["params.xml"]).definitions}
    assert params["Properties.System.SerialNumber"] == placeholder.serial
    assert params["Network.eth0.MACAddress"] == placeholder.mac
    assert (params["Network.Broadcast"], params["Network.DefaultRouter"]) == (forms["broadcast"], forms["gateway"])
    assert params["Network.Filter.AcceptAddresses"] == "198.51.100.1"
    assert params["Network.HostName"] == placeholder.hostname
    assert params["Properties.EmbeddedDevelopment.Version"] == VERSION_LIKE
    assert params["Api.AccessToken"] == "" and params["Api.TokenEnabled"] == "yes"
    assert params["Network.Wireless.Passphrase"] == ""
    assert b"http://192.168.0.90/pub/parameterdefinitions.xsd" in files["params.xml"]
    certificate = params["HTTPS.Certificate"]
    assert certificate.startswith("-----BEGIN CERTIFICATE-----") and certificate.endswith("-----END CERTIFICATE-----")
    # events.xml (SOAP)
    assert placeholder.serial.encode() in files["events.xml"] and b"192.168.0.90" in files["events.xml"]
    assert placeholder.mac.lower().encode() in files["events.xml"]
    # JSON replies: the same MAC in other forms, addresses, secrets blanked, a certificate that parses
    index = json.loads(files["replies/index.json"])
    bodies = {(e["path"], json.loads(e["request_body"])["method"] if e["request_body"].startswith("{") else e["query"]):
              files["replies/" + e["body_file"]] for e in index if e["body_file"]}  # fmt: skip
    mqtt = json.loads(bodies[("/axis-cgi/mqtt/client.cgi", "getClientStatus")])["data"]["config"]
    assert mqtt["password"] == "" and mqtt["server"]["host"] == "198.51.100.2"
    assert mqtt["clientId"] == f"cam-{placeholder.serial.lower()}"
    assert mqtt["deviceTopicPrefix"] == "axis/" + placeholder.mac.replace(":", "-")
    cert_pem = mqtt["clientCert"].split("-----BEGIN PRIVATE KEY-----")[0].strip().encode()
    assert x509.load_pem_x509_certificate(cert_pem).subject.rfc4514_string() == f"CN={placeholder.hostname}"
    assert "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----" in mqtt["clientCert"]
    assert mqtt["caDer"].startswith("MII") and mqtt["caDer"] != DER
    network = json.loads(bodies[("/axis-cgi/network_settings.cgi", "getNetworkInfo")])["data"]["devices"][0]
    assert network["macAddress"] == placeholder.mac.lower()
    addresses = [a["address"] for a in network["IPv6"]["addresses"]]
    assert addresses == ["fe80::" + eui64_forms(placeholder.serial)["compressed"], "2001:db8::1", "2001:db8::2"]
    assert network["hostname"] == f"{placeholder.hostname}.domain1.example.com"
    # text replies: accounts renamed consistently, root and the groups kept
    assert files["replies/" + next(e["body_file"] for e in index if e["path"].endswith("pwdgrp.cgi"))] == (
        b'admin="root,user1"\r\noperator="root,user1,user2"\r\nviewer="root,user1,user2"\r\nptz="root"\r\n'
        b'digusers="root,user1,user2"\r\n'
    )
    # an XML element secret, and headers (index.json)
    light = next(e for e in index if e["path"].endswith("lightcontrol.cgi") and not e["failed"])
    light_body = f"<Light><Id>{placeholder.serial}</Id><Secret></Secret></Light>".encode()
    assert files["replies/" + light["body_file"]] == light_body
    assert light["headers"]["Content-Disposition"] == f'attachment; filename="{placeholder.serial}.xml"'
    assert light["headers"]["Server"] == SERVER
    # model.toml: identity templates, the realm, the quirks the recording shows
    manifest = tomllib.loads(files["model.toml"].decode())
    assert manifest["model"]["oui"] == "ACCC8E" and manifest["model"]["id"] == "M3106LVEMkII"
    assert manifest["recording"]["placeholder_serial"] == placeholder.serial
    assert manifest["recording"]["source_firmware"] == "11.11.73"
    assert manifest["recording"]["placeholder_prefix_len"] == 16
    assert manifest["recording"]["www_authenticate"].startswith(f'Digest realm="{placeholder.realm}"')
    assert manifest["identity"]["Network.UPnP.FriendlyName"] == "AXIS M3106-LVE Mk II - {serial}"
    assert manifest["identity"]["Network.DefaultRouter"] == "{gateway}"
    assert manifest["identity"]["Network.Broadcast"] == "{broadcast}"
    assert manifest["identity"]["Network.eth0.MACAddress"] == "{mac}"
    assert manifest["quirks"] == {
        "server_header": SERVER,
        "param_content_type": "text/plain; charset=ISO-8859-1",
        "param_trailing_newline": False,
        "param_list_order": "definition",
        "param_error_style": "legacy",
    }
    assert [e.get("role") for e in index][:1] == ["anonymous"]  # getApiList, answered without credentials
    assert all("role" not in e for e in index[1:])
    # README: the failed call and the API it does not know, no identifier
    readme = files["README.md"].decode()
    assert "POST /axis-cgi/lightcontrol.cgi getServiceCapabilities: HTTP 500" in readme
    assert "frobnicator: no known read-only call" in readme


async def test_keep_identity_keeps_it_and_says_so(tmp_path: Path) -> None:
    async with fake_device() as url:
        status, _, stderr = await run_record(url, tmp_path, keep_identity=True, model_id="Kept")
    assert status == 0
    assert "WARNING: --keep-identity" in stderr
    files = folder_files(tmp_path / "Kept")
    assert SERIAL.encode() in files["params.xml"] and MQTT_PASSWORD.encode() in b"".join(files.values())
    manifest = tomllib.loads(files["model.toml"].decode())
    assert manifest["recording"]["anonymised"] is False
    assert manifest["recording"]["placeholder_serial"] == SERIAL
    assert manifest["recording"]["placeholder_ip"] == "172.31.7.21"
    assert manifest["identity"]["Properties.System.SerialNumber"] == "{serial}"
    assert "NOT anonymised" in files["README.md"].decode()


async def test_a_fixture_that_still_holds_an_identifier_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final check: a writer that let the raw event declarations through (simulated here) is
    caught, the file named, nothing written, exit status 3."""
    real = record_run.fixture_files

    def leaky(recording: Any, fixture: Any, anonymiser: Any) -> dict[str, bytes]:
        files = real(recording, fixture, anonymiser)
        files["events.xml"] = EVENTS.encode()
        return files

    monkeypatch.setattr(record_run, "fixture_files", leaky)
    async with fake_device() as url:
        status, _, stderr = await run_record(url, tmp_path)
    assert status == 3
    assert re.search(r"events\.xml still holds .*MAC", stderr), stderr
    assert "refusing to write" in stderr
    assert list(tmp_path.iterdir()) == []


def test_an_error_line_in_neither_style_is_a_note_not_a_flag() -> None:
    recording = Recording("http://device")
    line = f"# Request failed: group '{PROBE_GROUP}' not found\n".encode()
    recording.add(PROBE_LIST, Reply(200, {"Content-Type": "text/plain"}, line, 1.0))
    flags, notes = quirks.detect(recording)
    assert flags == {}  # no Server header seen: nothing to say
    assert notes == ["param.cgi answers a missing group with `# Request failed: group '<group>' not found`, "
                     "in neither style axisim knows"]  # fmt: skip
