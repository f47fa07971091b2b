"""`axisim record` (issue 23, the recording half): each built-in model recorded from a served axisim
over HTTP with Digest, as a user records a real device, and the fixture folder checked against the
device itself (/work/record-format.md is the folder's contract).

- params.xml parses with param_tree and holds the device's parameters; each value is the device's,
  or, for an identity parameter, its model.toml template filled with the device's own identity gives
  the device's value back (the anonymised identity is the placeholder's, consistently);
- every API the device advertises (vapix-wire.md §5.1) has each of its read-only calls recorded with
  a 200 reply (the table in axisim/record/plan.py) and the calls made from replies (each disk, each
  PoE port);
- nothing was written: the control API's journal holds exactly the recorded requests (and the one
  Digest challenge), and the device's whole saved state (persistence.snapshot) is unchanged;
- no original identifier (serial, MAC in its forms, host name, realm, address, SoC serial) is left
  in any file;
- the dry run lists the calls and sends only getApiList; a failing API (5xx, a hang past the
  timeout, a dropped connection) is recorded as failed and the rest goes on; the bounds hold.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from axisim.persistence import snapshot
from axisim.record import Options, record
from axisim.record.plan import NO_READS, READ_CALLS, Call, NotReadOnly, is_read_only, make_plan
from axisim.simulated import DeviceSpec, SimulatedDevice
from cgi_handlers.discovery import advertised
from cgi_handlers.power import UNSUPPORTED as POWER_UNSUPPORTED
from param_tree import Role, parse_definitions
from tests.conftest import MODELS

ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def served(model: str = "S3008", **spec: Any) -> AsyncIterator[SimulatedDevice]:
    device = SimulatedDevice(DeviceSpec(model=model, host="127.0.0.1", **spec))
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


async def run_record(url: str, out: Path, **options: Any) -> tuple[int, str, str]:
    """`axisim record` in this process (the device serves from this event loop): status, stdout, stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    options.setdefault("user", "root")
    options.setdefault("password", "pass")
    status = await record(Options(url=url, out=out, err=stderr, out_stream=stdout, **options))
    return status, stdout.getvalue(), stderr.getvalue()


def folder_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def index_of(folder: Path) -> list[dict[str, Any]]:
    return json.loads((folder / "replies" / "index.json").read_text())


def target(entry: dict[str, Any]) -> str:
    return entry["path"] + ("?" + entry["query"] if entry["query"] else "")


async def settled_journal(device: SimulatedDevice, expected: int) -> list[Any]:
    """The journal once it holds `expected` entries: a request is journaled when its handler ends,
    which may be just after the client read the reply (bounded: 2 s)."""
    for _ in range(40):
        if len(device.journal.entries()) >= expected:
            break
        await asyncio.sleep(0.05)
    return device.journal.entries()


def originals(device: SimulatedDevice) -> list[str]:
    """The device's identifiers in every form it may be written in."""
    identity = device.identity
    mac = identity.mac
    return [
        identity.serial, identity.serial.lower(), mac, mac.lower(), mac.replace(":", "-"),
        mac.replace(":", "-").lower(), identity.hostname, identity.realm, identity.soc_serial, identity.ip,
    ]  # fmt: skip


def leftovers(files: dict[str, bytes], needles: list[str]) -> list[tuple[str, str]]:
    return [(path, needle) for path, data in files.items() for needle in needles if needle.encode() in data]


# -- every built-in model ------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
async def test_a_recording_holds_the_device_and_changes_nothing(model: str, tmp_path: Path) -> None:
    async with served(model) as device:
        before = json.dumps(snapshot(device.device), sort_keys=True, default=str)
        status, stdout, stderr = await run_record(device.url, tmp_path, model_id=f"{model}Rec")
        after = json.dumps(snapshot(device.device), sort_keys=True, default=str)
        journal = await settled_journal(device, len(index_of(tmp_path / f"{model}Rec")) + 1)
        apis = [(api.id, api.version) for api in advertised(device.device)]
        facts = device.device.variant.facts
        store = device.device.params
        expected = {d.name: d.type.display(store.value(d.name)) for d in store.readable(store.all(), Role.ADMIN)}
    assert status == 0, stderr
    folder = tmp_path / f"{model}Rec"
    assert f"fixture:  {folder}" in stdout
    entries = index_of(folder)
    # one progress line per call on stderr, with its status and time
    progress = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(progress) == len(entries)
    assert all(" 200 " in line and " ms " in line for line in progress), progress

    # params.xml: the device's parameters; identity values through their templates
    document = parse_definitions((folder / "params.xml").read_bytes())
    recorded = {d.name: d.value for d in document.definitions}
    assert set(recorded) == set(expected)
    manifest = tomllib.loads((folder / "model.toml").read_text())
    templates = manifest["identity"]
    assert {"Properties.System.SerialNumber", "Network.eth0.MACAddress", "Network.HostName"} <= set(templates)
    own = device.identity.placeholders()
    for name, value in expected.items():
        if name in templates:
            assert templates[name].format_map(own) == value, name
        else:
            assert recorded[name] == value, name
    assert manifest["model"]["recorded"] is True and manifest["model"]["subsystems"] == []
    assert manifest["recording"]["anonymised"] is True
    assert manifest["recording"]["placeholder_serial"] == recorded["Properties.System.SerialNumber"]
    assert manifest["recording"]["placeholder_ip"] == "192.168.0.90"
    assert manifest.get("quirks", {}) == {}  # axisim answers as axisim does

    # every advertised API: each read-only call recorded with a 200 and no error in its reply
    planned = make_plan(apis)
    recorded_calls = {(e["method"], target(e), e["request_body"]) for e in entries}
    for call in planned.calls:
        assert (call.method, call.target, call.body) in recorded_calls, call.describe()
    for api, _ in apis:
        assert api in READ_CALLS or api in NO_READS, f"{api} is advertised but the recorder has no reads for it"
        assert api in NO_READS or any(e["api"] == api for e in entries), api
    for entry in entries:
        assert entry["status"] == 200 and entry["failed"] is None, entry
        body = (folder / "replies" / entry["body_file"]).read_bytes()
        if entry["request_content_type"] == "application/json" and entry["api"] not in ("sip", "speakertest"):
            reply = json.loads(body)
            method = json.loads(entry["request_body"])["method"]
            assert "error" not in reply or method in POWER_UNSUPPORTED, (entry, reply)
    followed = {e["path"].rsplit("/", 1)[-1] for e in entries}
    if "disk-management" in dict(apis):
        assert {"getcapabilities.cgi", "getdiskalertlevels.cgi"} <= followed
    if "nvr-poe" in dict(apis):
        assert sum(e["path"].endswith("getportmode.cgi") for e in entries) == facts["poe_ports"]  # each port
    assert (folder / "events.xml").read_bytes() == (folder / "replies" / entries[4]["body_file"]).read_bytes()

    # nothing was written: the journal is the recorded calls (and the first call's Digest challenge)
    asked = [(e.method, e.path) for e in journal if e.status != 401]
    assert sorted(asked) == sorted((e["method"], target(e)) for e in entries)
    assert sum(e.status == 401 for e in journal) == 1
    assert after == before

    # nothing of the device's identity is left
    files = folder_files(folder)
    assert set(files) >= {"params.xml", "model.toml", "events.xml", "README.md", "replies/index.json"}
    assert leftovers(files, originals(device)) == []


async def test_the_dry_run_lists_the_calls_and_sends_only_the_api_list(tmp_path: Path) -> None:
    """Through the command line, as a user runs it."""
    async with served("S3016") as device:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "axisim", "record", device.url, "--user", "root", "--password", "pass",
            "--out", str(tmp_path), "--dry-run", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        journal = await settled_journal(device, 1)
        apis = [(api.id, api.version) for api in advertised(device.device)]
    assert process.returncode == 0, stderr.decode()
    lines = stdout.decode().splitlines()
    assert lines[0] == "POST /axis-cgi/apidiscovery.cgi getApiList"
    assert "GET /axis-cgi/param.cgi?action=listdefinitions&listformat=xmlschema" in lines
    assert "POST /axis-cgi/disks/raid.cgi getStatus" in lines
    assert "POST /vapix/services GetEventInstances" in lines
    assert [line for line in lines if not line.startswith("#")] == make_plan(apis).lines()
    assert [(e.method, e.path) for e in journal] == [("POST", "/axis-cgi/apidiscovery.cgi")]
    assert list(tmp_path.iterdir()) == []


# -- failures and bounds ---------------------------------------------------------------------------


async def test_a_failing_api_is_recorded_as_failed_and_the_rest_goes_on(tmp_path: Path) -> None:
    async with served("W401") as device:
        device.add_fault(path="/axis-cgi/ntp.cgi", status=503, body="busy")
        device.add_fault(path="/axis-cgi/io/portmanagement.cgi", hang=True)
        device.add_fault(path="/axis-cgi/mqtt/event.cgi", drop=True)
        status, _, stderr = await run_record(device.url, tmp_path, timeout=1.0)
        device.clear_faults()
        apis = [(api.id, api.version) for api in advertised(device.device)]
    assert status == 0, stderr
    entries = index_of(tmp_path / "W401Recorded")
    failed = {(e["path"], e["failed"]) for e in entries if e["failed"]}
    assert failed == {
        ("/axis-cgi/ntp.cgi", "HTTP 503"), ("/axis-cgi/io/portmanagement.cgi", "timeout"),
        ("/axis-cgi/mqtt/event.cgi", "connection error: ServerDisconnectedError"),
    }  # fmt: skip
    failing = {"/axis-cgi/ntp.cgi", "/axis-cgi/io/portmanagement.cgi", "/axis-cgi/mqtt/event.cgi"}
    planned = [c for c in make_plan(apis).calls if c.path in failing]
    assert len(planned) >= 7 and sum(1 for e in entries if e["failed"]) == len(planned)  # every call of the three
    ntp = next(e for e in entries if e["path"] == "/axis-cgi/ntp.cgi")
    assert ntp["status"] == 503 and (tmp_path / "W401Recorded" / "replies" / ntp["body_file"]).read_bytes() == b"busy"
    hung = next(e for e in entries if e["path"] == "/axis-cgi/io/portmanagement.cgi")
    assert hung["status"] == 0 and hung["body_file"] is None and hung["elapsed_ms"] >= 1000
    assert all(e["status"] == 200 for e in entries if not e["failed"])
    assert any(e["path"] == "/axis-cgi/power-settings.cgi" for e in entries)  # after the failures
    assert "FAILED (timeout)" in stderr
    readme = (tmp_path / "W401Recorded" / "README.md").read_text()
    assert "## Failed calls" in readme and "POST /axis-cgi/ntp.cgi getNTPInfo: HTTP 503" in readme


async def test_the_bounds_hold(tmp_path: Path) -> None:
    async with served("S3008") as device:
        status, _, stderr = await run_record(device.url, tmp_path / "few", max_calls=5)
        assert status == 0, stderr
        few = tmp_path / "few" / "S3008Recorded"  # a built-in model's id is not the fixture's
        assert len(index_of(few)) == 5
        assert "Stopped early: --max-calls 5 reached" in (few / "README.md").read_text()
        status, _, stderr = await run_record(device.url, tmp_path / "small", max_body=4096)
        assert status == 1
        assert "param.cgi listdefinitions failed (body larger than 4096 bytes)" in stderr
        assert not (tmp_path / "small").exists()
        status, _, stderr = await run_record(device.url, tmp_path / "bad", password="wrong")
        assert status == 1 and "refused the credentials" in stderr
        url = device.url
    status, _, stderr = await run_record(url, tmp_path / "gone", model_id="Gone")
    assert status == 1 and "cannot reach" in stderr


async def test_over_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    async with served("C1410MkII", https_port=0) as device:
        assert device.https_url is not None
        status, _, stderr = await run_record(device.https_url, tmp_path, verify_tls=False)
    assert status == 0, stderr
    assert all(e["status"] == 200 for e in index_of(tmp_path / "C1410MkIIRecorded"))


# -- the read-only guard ------------------------------------------------------------------------------


def test_only_read_only_operations_can_be_made() -> None:
    writes = ["setPorts", "configureClient", "activateClient", "upgrade", "reboot", "factoryDefault", "add",
              "remove", "update", "SetSIPConfiguration", "Call", "PerformSpeakerTest", "recreateRaidOnAllComponents",
              "setportmode", "format", "commit", "rollback", "purge", "stopAuto", "setDateTime"]  # fmt: skip
    for name in writes:
        assert not is_read_only(name), name
        with pytest.raises(NotReadOnly):
            Call("x", name, "POST", "/axis-cgi/x.cgi")
    reads = ["getPorts", "GetSIPConfiguration", "list", "status", "systemready", "schemaversions", "isSupervisable",
             "getSupportedVersions", "check"]  # fmt: skip
    assert all(is_read_only(name) for name in reads)
    for api, reads_of in READ_CALLS.items():  # the whole table is made of reads (made at import: it would raise)
        calls, follow = reads_of.plan(api, "1.0")
        assert all(is_read_only(c.operation) for c in [*calls, *(f.template for f in follow)])
