"""A recorded model served (issue 23, the serving half; fixtures/README.md "Recorded models").

`tests/data/recorded/M3106LVEMkII` is a hand-made fixture in the recorded format: a trimmed W401 tree
dressed as an AXIS M3106-LVE Mk II, its event declarations (events.xml) and replies for APIs axisim
does not simulate (light control, stream profiles, network settings, a VMD application, an action1
SOAP call...). Everything here goes through the wire: aiohttp with Digest as curl sends it, the `axis`
library (Home Assistant's client), the control API over HTTP, the CLI in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from axisim.device import AccountSpec, make_device
from axisim.fleet import Fleet
from axisim.fleet_file import load_fleet_file
from axisim.identity import Identity
from axisim.lifecycle import BootTimes
from axisim.model import FIXTURES_ENV, SOURCES, ModelError, add_fixture, add_fixtures_dir, load_model, model_ids
from axisim.server import RunningDevice, start_device
from axisim.simulated import SimulatedDevice
from tests.axis_lib import axis_library
from tests.conftest import Reply, digest_request
from tests.test_fleet import read_lines_until

RECORDED = Path(__file__).resolve().parent / "data" / "recorded"
FOLDER = RECORDED / "M3106LVEMkII"
MODEL = "M3106LVEMkII"
PLACEHOLDER = Identity("ACCC8E7F43D3", ip="192.168.0.90")  # the fixture's [recording]
ROOT = ("root", "pass")
PARAM = "/axis-cgi/param.cgi"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sources() -> Iterator[None]:
    """The recorded fixtures' folder among the model sources, for this test only."""
    add_fixtures_dir(RECORDED)
    try:
        yield
    finally:
        SOURCES.remove(RECORDED)


async def call(
    url: str, path: str, *, method: str = "GET", auth: tuple[str, str] | None = ROOT, **kwargs: Any
) -> Reply:
    """One request as curl --digest sends it, on its own connection."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        return await digest_request(session, method, url + path, auth, **kwargs)


async def ajr(url: str, path: str, document: dict[str, Any], auth: tuple[str, str] | None = ROOT) -> Reply:
    return await call(url, path, method="POST", auth=auth, data=json.dumps(document), headers=JSON)


@pytest.fixture
async def served(sources: None) -> AsyncIterator[RunningDevice]:
    accounts = [AccountSpec("root", "pass"), AccountSpec("op", "op", "operator"), AccountSpec("eye", "eye", "viewer")]
    device = make_device(MODEL, seed="replay", index=3, accounts=accounts, boot_times=BootTimes(0.2, 0.0))
    running = await start_device(device, "127.0.0.1", 0, https_port=None)
    try:
        yield running
    finally:
        await running.stop()


def placeholder_forms() -> list[str]:
    mac = PLACEHOLDER.mac
    return [PLACEHOLDER.serial, PLACEHOLDER.serial.lower(), mac, mac.lower(), mac.replace(":", "-"), "192.168.0.90"]


# -- the model: a folder of your own beside the built-in ones --------------------------------------


def test_a_recorded_model_loads_from_a_fixtures_dir(sources: None) -> None:
    model = load_model("m3106lvemkii")
    assert model.recorded and model.subsystems == ()
    assert MODEL in model_ids() and {"S3008", "W401"} <= set(model_ids())
    assert model.recording is not None and model.recording.placeholder == PLACEHOLDER
    assert len(model.recording.replies) == 13
    assert [t.topic for t in model.topics or ()] == [
        "tns1:Device/tnsaxis:Light/Status", "tns1:Device/tnsaxis:Status/SystemReady",
        "tns1:VideoSource/MotionAlarm", "tns1:VideoSource/tnsaxis:Tampering",
    ]  # fmt: skip
    assert "streamprofile" in model.tree.templates  # inferred: the recording has no templates.xml


def test_a_built_in_id_is_never_shadowed(tmp_path: Path) -> None:
    shutil.copytree(load_folder("W401"), tmp_path / "w401")
    add_fixtures_dir(tmp_path)
    try:
        with pytest.raises(ModelError, match="built-in model W401"):
            load_model("W401")
    finally:
        SOURCES.remove(tmp_path)
    assert not load_model("W401").recorded  # the built-in, once the folder is gone


def test_one_id_in_two_folders_is_an_error(tmp_path: Path, sources: None) -> None:
    shutil.copytree(FOLDER, tmp_path / MODEL)
    add_fixtures_dir(tmp_path)
    try:
        with pytest.raises(ModelError, match="already the id of"):
            model_ids()
    finally:
        SOURCES.remove(tmp_path)


def test_axisim_fixtures_is_a_search_path_beside_the_built_in_models(tmp_path: Path) -> None:
    """$AXISIM_FIXTURES: folders separated by ':', searched with the package's models (README)."""
    other = tmp_path / "more"
    shutil.copytree(FOLDER, other / "M3106Copy")
    manifest = other / "M3106Copy" / "model.toml"
    manifest.write_text(manifest.read_text().replace('id = "M3106LVEMkII"', 'id = "M3106Copy"'))
    env = {**os.environ, FIXTURES_ENV: f"{RECORDED}{os.pathsep}{other}"}
    result = subprocess.run(
        [sys.executable, "-m", "axisim", "models"], capture_output=True, text=True, timeout=60, env=env
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert ids == sorted(["C1410MkII", "S3008", "S3016", "S4000", "W401", MODEL, "M3106Copy"])
    recorded = next(line for line in result.stdout.splitlines() if line.startswith(MODEL))
    assert "AXIS M3106-LVE Mk II Network Camera" in recorded and f"(recorded, {FOLDER})" in recorded
    shutil.copytree(load_folder("S3008"), other / "s3008")
    clash = subprocess.run(
        [sys.executable, "-m", "axisim", "models"], capture_output=True, text=True, timeout=60, env=env
    )
    assert clash.returncode == 2 and "built-in model S3008" in clash.stderr


def load_folder(model: str) -> Path:
    from axisim.model import model_folder

    return Path(str(model_folder(model)))


# -- the parameter tree, accounts, Digest ------------------------------------------------------------


async def test_param_cgi_lists_updates_adds_and_removes_with_roles(served: RunningDevice) -> None:
    """vapix-wire.md §1.1-1.4 on the recorded tree: the served device's identity in its parameters."""
    url, serial, host = served.url, served.device.serial, served.device.identity.hostname
    listed = await call(url, f"{PARAM}?action=list&group=root.Brand.ProdNbr,root.Properties.System.SerialNumber")
    assert listed.status == 200 and listed.headers["Content-Type"] == "text/plain"
    assert listed.text == f"root.Brand.ProdNbr=M3106-LVE Mk II\nroot.Properties.System.SerialNumber={serial}\n"
    assert listed.challenge.startswith(f'Digest realm="AXIS_{serial}"')  # §4.1: the realm is the device's
    update = f"{PARAM}?action=update&StreamProfile.S0.Name=Day"
    assert (await call(url, update, auth=("eye", "eye"))).status == 401  # a viewer may not update (§1.2, §4.1)
    assert (await call(url, update, auth=("op", "op"))).text == "OK"  # securityLevel 4414: operators write
    profile = await call(url, f"{PARAM}?action=list&group=StreamProfile.S0.Name", auth=("eye", "eye"))
    assert profile.text == "StreamProfile.S0.Name=Day\n"
    admin_only = await call(url, f"{PARAM}?action=update&Network.HostName=gate", auth=("op", "op"))
    assert admin_only.text == "# Error: Error setting 'root.Network.HostName' to 'gate'!\n"  # 7766: admin writes
    bad = await call(url, f"{PARAM}?action=update&Network.HostName=gate&Brand.ProdNbr=X")
    assert bad.text == "# Error: Error setting 'root.Brand.ProdNbr' to 'X'!\n"  # read-only: nothing applied
    assert (await call(url, f"{PARAM}?action=list&group=Network.HostName")).text == f"Network.HostName={host}\n"
    assert (await call(url, f"{PARAM}?action=update&Network.HostName=gate")).text == "OK"
    assert (await call(url, f"{PARAM}?action=list&group=Network.HostName")).text == "Network.HostName=gate\n"
    added = await call(
        url, f"{PARAM}?action=add&template=streamprofile&group=StreamProfile&StreamProfile.S.Name=night"
        "&StreamProfile.S.Parameters=fps%3D5", auth=("op", "op"),
    )  # fmt: skip
    assert (added.status, added.text) == (200, "S1 OK")  # §1.3: the next free index
    profiles = (await call(url, f"{PARAM}?action=list&group=StreamProfile.S1", auth=("eye", "eye"))).text
    assert profiles == "StreamProfile.S1.Description=\nStreamProfile.S1.Name=night\nStreamProfile.S1.Parameters=fps=5\n"
    assert (await call(url, f"{PARAM}?action=remove&group=StreamProfile.S1", auth=("eye", "eye"))).status == 401
    removed = await call(url, f"{PARAM}?action=remove&group=StreamProfile.S1,StreamProfile.S0", auth=("op", "op"))
    assert removed.text == "OK"
    gone = await call(url, f"{PARAM}?action=list&group=StreamProfile")
    assert gone.text == "StreamProfile.MaxGroups=26\n"
    unknown = await call(url, f"{PARAM}?action=list&group=Image.I0")
    assert unknown.text == "# Error: Error -1 getting param in group 'Image.I0'\n"
    assert (await call(url, f"{PARAM}?action=list&group=Brand", auth=None)).status == 401  # §4.2: viewer


async def test_restart_and_factory_default_return_the_recorded_defaults(served: RunningDevice) -> None:
    """vapix-wire.md §2.1: restart comes back with a new boot; a factory default restores the
    recorded values (params.xml) and leaves a device that needs its first administrator."""
    url, device = served.url, served.device
    assert (await call(url, f"{PARAM}?action=update&Time.NTP.Server=ntp.example")).text == "OK"
    boot = device.boot_id
    assert (await call(url, "/axis-cgi/restart.cgi")).status == 200
    assert await served.wait_ready(10)
    assert device.boot_id != boot
    assert (await call(url, f"{PARAM}?action=list&group=Time.NTP.Server")).text == "Time.NTP.Server=ntp.example\n"
    assert (await call(url, "/axis-cgi/factorydefault.cgi")).status == 200
    assert await served.wait_ready(10)
    assert device.needs_setup
    first = await call(url, "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=again&grp=root&sgrp=admin:operator:viewer")
    assert first.status == 200, first.text
    value = await call(url, f"{PARAM}?action=list&group=Time.NTP.Server", auth=("root", "again"))
    assert value.text == f"Time.NTP.Server={load_model(MODEL).param('Time.NTP.Server')}\n"


# -- the recorded replies ----------------------------------------------------------------------------


async def test_a_recorded_json_api_answers_with_the_served_devices_identity(served: RunningDevice) -> None:
    """network_settings getNetworkInfo was recorded with the placeholder identity: the served device
    answers with its own serial, MAC (lower case with colons, dashes), host name and address."""
    device = served.device
    reply = await ajr(served.url, "/axis-cgi/network_settings.cgi", {"apiVersion": "1.21", "method": "getNetworkInfo"})
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    document = reply.json()
    assert document["data"]["system"]["hostname"]["hostname"] == f"axis-{device.serial.lower()}"
    assert document["data"]["devices"][0]["macAddress"] == device.identity.mac.lower()
    ipv4 = document["data"]["devices"][0]["IPv4"]
    assert ipv4["addresses"][0]["address"] == "127.0.0.1"  # the placeholder's address, gateway and broadcast
    assert (ipv4["defaultRouter"], ipv4["addresses"][0]["broadcast"]) == ("127.0.0.1", "127.0.0.255")
    assert document["data"]["bonjour"]["name"] == f"AXIS M3106-LVE Mk II - {device.serial}"
    assert document["data"]["lldp"]["chassisId"] == device.identity.mac.replace(":", "-")
    assert "context" not in document  # none sent, none recorded
    assert not any(form in reply.text for form in placeholder_forms())
    download = await call(served.url, "/axis-cgi/admin/paramlist.cgi")
    assert download.headers["Content-Disposition"] == f'attachment; filename="paramlist_{device.serial}.txt"'
    dashed = device.identity.mac.replace(":", "-")
    assert download.text == f'[Network]\nHostName = "axis-{device.serial.lower()}"\nMACAddress = "{dashed}"\n'


async def test_the_context_follows_the_request_and_the_body_is_compared_as_json(served: RunningDevice) -> None:
    """vapix-wire.md §0.2: `context` is echoed only when sent; the recording's own context (the
    recorder's) never shows. Key order and spacing of the request do not matter."""
    body = b'{ "method" : "getLightInformation", "context": "mine", "apiVersion": "1.1" }'
    reply = await call(served.url, "/axis-cgi/lightcontrol.cgi", method="POST", data=body, headers=JSON)
    assert reply.status == 200
    assert reply.text.startswith('{"apiVersion": "1.1", "context": "mine", "method": "getLightInformation", "data": ')
    plain = await ajr(served.url, "/axis-cgi/lightcontrol.cgi", {"apiVersion": "1.1", "method": "getLightInformation"})
    assert plain.json()["data"]["items"][0]["lightID"] == "led0" and "context" not in plain.json()
    assert "axisim record" not in plain.text + reply.text


async def test_replayed_replies_need_their_role(served: RunningDevice) -> None:
    """A replayed API needs a viewer unless its entry says otherwise (GUESS, fixtures/README.md);
    the legacy parameter download was recorded as an administrator's."""
    light = {"apiVersion": "1.1", "method": "getLightStatus", "params": {"lightID": "led0"}}
    anonymous = await ajr(served.url, "/axis-cgi/lightcontrol.cgi", light, auth=None)
    assert anonymous.status == 401 and anonymous.headers["WWW-Authenticate"].startswith("Digest realm=")
    assert (await ajr(served.url, "/axis-cgi/lightcontrol.cgi", light, auth=("eye", "eye"))).status == 200
    assert (await call(served.url, "/axis-cgi/admin/paramlist.cgi", auth=("op", "op"))).status == 401
    # a path the recording knows authenticates first, as Apache does before the CGI: curl --digest's
    # empty-bodied probe gets the challenge, not a 404 (and the README's curl examples work)
    probe = await call(served.url, "/axis-cgi/lightcontrol.cgi", method="POST", auth=None, data=b"", headers=JSON)
    assert probe.status == 401
    never = await call(served.url, "/axis-cgi/never-recorded.cgi", method="POST", auth=None, data=b"")
    assert never.status == 404  # an unknown path: Apache's 404, no challenge
    assert (await call(served.url, "/axis-cgi/temperaturecontrol.cgi?action=statusall")).text.startswith("Sensor.S0")


async def test_a_live_route_the_model_lacks_falls_back_to_the_recording(served: RunningDevice) -> None:
    """auditlog.cgi is routed on every model but answers 404 without the S4000's audit_log fact: the
    recorded model's recorded call is answered (as an administrator's), the others are the 404."""
    assert (await call(served.url, "/axis-cgi/auditlog.cgi?version=true")).text == "1.0.0\n"
    assert (await call(served.url, "/axis-cgi/auditlog.cgi?version=true", auth=("op", "op"))).status == 401
    assert (await call(served.url, "/axis-cgi/auditlog.cgi")).status == 404


def test_a_model_folder_written_into_a_known_directory_is_found(tmp_path: Path) -> None:
    """A recording written while its directory is already among the sources (a test that records, then serves)."""
    add_fixtures_dir(tmp_path)
    try:
        with pytest.raises(ModelError, match="unknown model"):
            load_model(MODEL)
        shutil.copytree(FOLDER, tmp_path / MODEL)
        assert load_model(MODEL).recorded
    finally:
        SOURCES.remove(tmp_path)


async def test_apidiscovery_advertises_what_the_recorded_device_advertised(served: RunningDevice) -> None:
    """apidiscovery.cgi is answered from the recording (anonymously, §4.1): the recorded list, not
    what axisim serves live; a request the recording lacks is answered live."""
    listed = await ajr(
        served.url,
        "/axis-cgi/apidiscovery.cgi",
        {"apiVersion": "1.0", "context": "c", "method": "getApiList"},
        auth=None,
    )
    document = listed.json()
    assert list(document) == ["method", "apiVersion", "context", "data"] and document["context"] == "c"
    ids = [api["id"] for api in document["data"]["apiList"]]
    assert "light-control" in ids and "stream-profiles" in ids and "fwmgr" not in ids
    versions = await ajr(served.url, "/axis-cgi/apidiscovery.cgi", {"method": "getSupportedVersions"}, auth=None)
    assert versions.json()["data"] == {"apiVersions": ["1.1"]}  # live: not recorded


async def test_an_unmatched_request_is_the_404_and_the_journal_names_the_nearest_recorded_one(
    sources: None, axisim_fleet_factory: Any
) -> None:
    """The control API's journal (GET /devices/<serial>/journal): unsupported requests of a recorded
    model carry the nearest recorded request (same path, closest body)."""
    fleet = await axisim_fleet_factory(MODEL, count=1)
    device = fleet[0]
    wrong = {"apiVersion": "1.1", "method": "getLightStatus", "params": {"lightID": "led1"}}
    missed = await ajr(device.url, "/axis-cgi/lightcontrol.cgi", wrong)
    assert missed.status == 404 and b"Not Found" in missed.body  # Apache's page, as any unknown path (§0.1)
    assert (
        await ajr(device.url, "/axis-cgi/pirsensor.cgi", {"apiVersion": "1.0", "method": "listSensors"})
    ).status == 404
    assert (await call(device.url, "/axis-cgi/temperaturecontrol.cgi?action=statusall")).status == 200
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fleet.control_url}/devices/{device.serial}/journal") as got,
    ):
        journal = await got.json()
    unsupported = {u["path"]: u for u in journal["unsupported"]}
    near = unsupported["/axis-cgi/lightcontrol.cgi"]["nearest"]
    assert (near["method"], near["path"], near["entry"]) == ("POST", "/axis-cgi/lightcontrol.cgi", 4)
    assert '"lightID":"led0"' in near["request_body"] and 0.9 < near["similarity"] < 1
    assert unsupported["/axis-cgi/pirsensor.cgi"]["nearest"]["failed"] == "timeout"  # recorded, never replayed
    assert "/axis-cgi/temperaturecontrol.cgi" not in unsupported
    replayed = [e for e in journal["entries"] if e["path"].startswith("/axis-cgi/temperaturecontrol.cgi")]
    assert replayed[-1]["replayed"] and replayed[-1]["supported"] and replayed[-1]["status"] == 200


async def test_soap_operations_axisim_lacks_are_replayed_and_events_are_the_recorded_ones(
    served: RunningDevice,
) -> None:
    """/vapix/services: GetEventInstances answers events.xml (events.md §1.2), an action1 operation the
    model does not serve live answers its recording whatever the client's prefixes; an unknown one is
    gSOAP's fault."""
    rules = (
        '<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">\n  <env:Body>'
        '<a:GetActionRules xmlns:a="http://www.axis.com/vapix/ws/action1"></a:GetActionRules></env:Body></env:Envelope>'
    )
    reply = await call(served.url, "/vapix/services", method="POST", data=rules)
    assert reply.status == 200 and "<aa:Name>Light on motion</aa:Name>" in reply.text
    unknown = rules.replace("GetActionRules", "GetActionTemplates")
    fault = await call(served.url, "/vapix/services", method="POST", data=unknown)
    assert fault.status == 400 and "not implemented" in fault.text
    events = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        '<GetEventInstances xmlns="http://www.axis.com/vapix/ws/event1"/></s:Body></s:Envelope>'
    )
    declared = await call(served.url, "/vapix/services", method="POST", data=events)
    assert declared.body == FOLDER.joinpath("events.xml").read_bytes()
    assert declared.headers["Content-Type"] == "application/soap+xml; charset=utf-8"


async def test_a_recorded_topic_can_be_emitted_to_a_websocket_client(sources: None, axisim_device_factory: Any) -> None:
    """The declarations parsed from events.xml are the device's: the control API's emit publishes one."""
    device: SimulatedDevice = await axisim_device_factory(fixture=str(FOLDER))
    seen: list[Any] = []
    device.subscribe(seen.append, ["tns1:Device/tnsaxis:Light//."])
    device.emit("tns1:Device/tnsaxis:Light/Status", {"id": "led0"}, {"state": "ON"})
    assert [(e.topic, e.source, e.data) for e in seen] == [
        ("tns1:Device/tnsaxis:Light/Status", {"id": "led0"}, {"state": "ON"})
    ]


@pytest.mark.integration
async def test_the_axis_library_sets_up_against_the_recorded_device(sources: None) -> None:
    """The `axis` library's whole setup: apidiscovery (recorded), basicdeviceinfo and param.cgi (live),
    light control and stream profiles (recorded), the VMD application (recorded applications list and
    its control.cgi), users, event instances (events.xml)."""
    device = make_device(MODEL, seed="lib")
    async with axis_library(device) as (axis, _):
        await axis.vapix.initialize()
        await axis.vapix.initialize_users()
        await axis.vapix.initialize_event_instances()
        vapix = axis.vapix
        assert vapix.serial_number == device.serial
        assert vapix.product_number == "M3106-LVE Mk II" and vapix.firmware_version == "11.11.73"
        assert vapix.light_control.initialized and vapix.light_control["led0"].light_type == "IR"
        assert [p.name for p in vapix.stream_profiles.values()] == ["Quality"]
        assert vapix.vmd4.initialized and vapix.vmd4["0"].profiles["1"].name == "Profile 1"
        assert "root" in vapix.users
        topics = {e.topic for e in vapix.event_instances.values()}
        assert "tns1:Device/tnsaxis:Light/Status" in topics and "tns1:VideoSource/MotionAlarm" in topics


# -- firmware quirks ---------------------------------------------------------------------------------


@pytest.fixture
def quirked(tmp_path: Path) -> Iterator[Any]:
    """Copies of the recorded fixture with a [quirks] table, each a model of its own for this test."""
    made: list[Path] = []

    def make(table: str) -> str:
        folder = tmp_path / f"Quirked{len(made)}"
        shutil.copytree(FOLDER, folder)
        manifest = folder / "model.toml"
        text = manifest.read_text().replace('id = "M3106LVEMkII"', f'id = "{tmp_path.name}{len(made)}"')
        manifest.write_text(f"{text}\n[quirks]\n{table}\n")
        made.append(folder)
        return add_fixture(folder)

    yield make
    for folder in made:
        SOURCES.remove(folder)


@pytest.mark.parametrize(
    ("table", "path", "default", "quirked_reply"),
    [
        ('param_error_style = "legacy"', f"{PARAM}?action=list&group=Nope",
         "# Error: Error -1 getting param in group 'Nope'\n", "# Error: Error -1 getting param in group 'Nope'!\n"),
        ('param_list_order = "definition"', f"{PARAM}?action=list&group=Brand.ProdNbr,Brand",
         "Brand.ProdNbr=M3106-LVE Mk II\nBrand.Brand=AXIS\nBrand.ProdFullName=AXIS M3106-LVE Mk II Network Camera\n"
         "Brand.ProdNbr=M3106-LVE Mk II\nBrand.ProdShortName=AXIS M3106-LVE Mk II\nBrand.ProdType=Network Camera\n"
         "Brand.ProdVariant=\nBrand.WebURL=https://www.axis.com\n", None),
        ("param_trailing_newline = false", f"{PARAM}?action=list&group=Brand.ProdNbr,Brand.Brand",
         "Brand.ProdNbr=M3106-LVE Mk II\nBrand.Brand=AXIS\n", "Brand.ProdNbr=M3106-LVE Mk II\nBrand.Brand=AXIS"),
    ],
    ids=["error-style", "order", "trailing-newline"],
)  # fmt: skip
async def test_each_param_quirk_changes_its_wire_form(
    quirked: Any, sources: None, table: str, path: str, default: str, quirked_reply: str | None
) -> None:
    """vapix-wire.md §1.1 [REC]: 9.x+ sorts, lists end with LF, errors have no "!"; the quirk gives
    the other firmware's form and nothing else changes."""
    plain, other = make_device(MODEL), make_device(quirked(table))
    for device, expected in ((plain, default), (other, quirked_reply)):
        running = await start_device(device, "127.0.0.1", 0, https_port=None)
        try:
            reply = await call(running.url, path)
            if expected is None:  # definition order: params.xml's (Brand's parameters as the fixture lists them)
                lines = reply.text.splitlines()
                assert lines[0] == "Brand.ProdNbr=M3106-LVE Mk II" and sorted(lines[1:]) == sorted(
                    default.splitlines()[1:]
                )
                assert lines[1:] == [f"Brand.{p}" for p in brand_order(device)]
            else:
                assert reply.text == expected
            assert (await call(running.url, f"{PARAM}?action=update&Network.HostName=q")).text == "OK"
        finally:
            await running.stop()


def brand_order(device: Any) -> list[str]:
    """The Brand lines in the order the fixture's params.xml defines them."""
    names = [d.name for d in device.params.model.definitions if d.name.startswith("Brand.")]
    names.sort(key=device.params.model.rank.__getitem__)
    return [f"{n.removeprefix('Brand.')}={device.params.value(n)}" for n in names]


async def test_content_type_and_server_quirks(quirked: Any, sources: None) -> None:
    """vapix-wire.md §0.1: param.cgi's Content-Type as recorded (Kane610's fixtures use a charset);
    §4.1: a Server header as a firmware sends it (node-onvif issue #40 [REC])."""
    model = quirked(
        'param_content_type = "text/plain; charset=iso-8859-1"\nserver_header = "Apache/2.4.27 (Unix) OpenSSL/1.0.2k"',
    )
    running = await start_device(make_device(model), "127.0.0.1", 0, https_port=None)
    try:
        listed = await call(running.url, f"{PARAM}?action=list&group=Brand.Brand")
        assert listed.headers["Content-Type"] == "text/plain; charset=iso-8859-1"
        assert listed.headers["Server"] == "Apache/2.4.27 (Unix) OpenSSL/1.0.2k"
        missing = await call(running.url, "/axis-cgi/nothing.cgi", auth=None)
        assert missing.status == 404 and missing.headers["Server"] == "Apache/2.4.27 (Unix) OpenSSL/1.0.2k"
    finally:
        await running.stop()
    built_in = await start_device(make_device("W401"), "127.0.0.1", 0, https_port=None)
    try:
        listed = await call(built_in.url, f"{PARAM}?action=list&group=Brand.Brand")
        assert (listed.headers["Content-Type"], listed.headers["Server"]) == ("text/plain", "Apache")
    finally:
        await built_in.stop()


@pytest.mark.parametrize(
    ("table", "message"),
    [("param_list_order = \"random\"", "param_list_order is one of"), ("nope = 1", "unknown quirk"),
     ('server_header = "a\\r\\nX-Injected: 1"', "server_header is a header value")],
)  # fmt: skip
def test_a_bad_quirk_is_refused_when_the_model_loads(quirked: Any, table: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        load_model(quirked(table))


# -- fleets mixing built-in and recorded models ------------------------------------------------------


async def test_a_fleet_file_mixes_a_built_in_model_and_a_recorded_one(tmp_path: Path) -> None:
    """fixtures_dir and a group's fixture, relative to the fleet file (README "Fleet files")."""
    site = tmp_path / "site"
    shutil.copytree(RECORDED, site / "recorded")
    (site / "fleet.toml").write_text(
        'seed = "mix"\nbase_port = 0\nfixtures_dir = "recorded"\n'
        '[[group]]\nmodel = "W401"\ncount = 2\n'
        '[[group]]\nmodel = "M3106LVEMkII"\ncount = 1\n'
        '[[group]]\nfixture = "recorded/M3106LVEMkII"\ncount = 1\n'
    )  # fmt: skip
    try:
        plan = load_fleet_file(site / "fleet.toml")
        fleet = Fleet.from_plan(plan)
        await fleet.start()
        try:
            assert [d.device.model.id for d in fleet] == ["W401", "W401", MODEL, MODEL]  # by name, by folder
            assert len({d.serial for d in fleet}) == 4
            for simulated in fleet:
                reply = await ajr(
                    simulated.url, "/axis-cgi/network_settings.cgi", {"apiVersion": "1.21", "method": "getNetworkInfo"}
                )
                if simulated.device.model.recorded:
                    assert reply.json()["data"]["system"]["hostname"]["hostname"] == f"axis-{simulated.serial.lower()}"
                else:  # the W401 simulates the network settings API
                    assert reply.json()["data"]["system"]["hostname"]["hostname"] == simulated.device.hostname
        finally:
            await fleet.stop()
    finally:
        SOURCES.remove(site / "recorded")
        SOURCES.remove(site / "recorded" / MODEL)


def test_fleet_and_serve_take_fixtures_dir_on_the_command_line(tmp_path: Path) -> None:
    """`axisim fleet --models W401,M3106LVEMkII --fixtures-dir DIR` and `axisim serve --fixture DIR`."""
    inventory = tmp_path / "inv"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "axisim", "fleet", "--models", f"W401,{MODEL}", "--count", "2", "--base-port", "0",
            "--control-port", "0", "--no-rtsp", "--fixtures-dir", str(RECORDED), "--inventory", str(inventory),
            "--quiet",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    try:
        read_lines_until(process, "control:")
        rows = json.loads(inventory.with_suffix(".json").read_text(encoding="utf-8"))["devices"]
        assert [r["model"] for r in rows] == ["W401", MODEL]
        recorded = rows[1]
        reply = asyncio.run(
            ajr(recorded["url"], "/axis-cgi/lightcontrol.cgi", {"apiVersion": "1.1", "method": "getLightInformation"})
        )
        assert reply.json()["data"]["items"][0]["lightID"] == "led0"
    finally:
        process.terminate()
        process.communicate(timeout=10)
    served = subprocess.Popen(
        [sys.executable, "-m", "axisim", "serve", "--fixture", str(FOLDER), "--port", "0", "--no-https", "--no-rtsp"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner: dict[str, str] = {}
        assert served.stdout is not None
        while "accounts" not in banner:
            line = served.stdout.readline()
            if not line:
                raise AssertionError(served.stderr.read() if served.stderr else "no output")
            key, _, value = line.partition(":")
            banner[key.strip()] = value.strip()
        assert banner["model"] == "AXIS M3106-LVE Mk II Network Camera (recorded)"
        assert banner["recorded"] == f"{FOLDER} (13 replies)"
        listed = asyncio.run(call(banner["url"], f"{PARAM}?action=list&group=Properties.System.SerialNumber"))
        assert listed.text == f"Properties.System.SerialNumber={banner['serial']}\n"
    finally:
        served.terminate()
        served.communicate(timeout=10)
    wrong = subprocess.run(
        [sys.executable, "-m", "axisim", "serve", "--fixture", str(FOLDER), "--model", "W401", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert wrong.returncode == 2 and "is not the model of --fixture" in wrong.stderr
