"""Issue 19, "recording where a recorder records": the Record video action on the S3008, S3016 and
S4000, through the wire; and which action templates each of the five models offers.

Template `com.axis.action.unlimited.recording.storage` (events.md §4.2 [CLIENT sample]; the edge
storage API's "Record video action template": `stream_options`, `pre_duration` and
`post_duration` in milliseconds, `storage_id` a disk id of `disks/list.cgi`). A rule records while
it is active, plus the pre- and post-trigger times; the recording shows where a VAPIX client sees
the disk (`disks/list.cgi` freesize, `DiskManagement.S0.Recordings`) and the device publishes
`tnsaxis:Storage/Recording` ("Recording ongoing", events.md §1.5) while it records.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from lxml import etree

from axisim.subsystems.storage.recordings import BYTES_PER_S
from tests.test_control import Control, controlled, text_of
from tests.test_rules import ACTION1, NS, VIRTUAL_INPUT, add_action, add_rule, event, fault, items, ok, parameters

RECORDERS = ("S3008", "S3016", "S4000")
RECORD = "com.axis.action.unlimited.recording.storage"
RECORDING = "tnsaxis:Storage/Recording"


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async with controlled(*RECORDERS, "C1410MkII", "W401") as running:
        yield running


async def disk(control: Control, index: int) -> dict[str, str]:
    """The one disk of `disks/list.cgi` (VAPIX edge storage), its attributes."""
    body = await text_of(control[index].url, "/axis-cgi/disks/list.cgi?diskid=all")
    found = etree.fromstring(body.encode()).find(".//{*}disk")
    assert found is not None, body
    return dict(found.attrib)


async def recordings(control: Control, index: int) -> int:
    body = await text_of(control[index].url, "/axis-cgi/param.cgi?action=list&group=DiskManagement.S0.Recordings")
    return int(body.strip().partition("=")[2])


def held(port: int) -> str:
    """The condition "virtual input `port` is active" (events.md §4.4, §4.7)."""
    return event("Condition", VIRTUAL_INPUT, items(port=str(port), active="1"))


async def ongoing(control: Control, index: int) -> list[str]:
    """The `recording` values the device published on Storage/Recording, oldest first."""
    log = await control.ok("GET", f"/devices/{index}/events/log?topic={RECORDING}")
    return [e["data"]["recording"] for e in log["events"]]


ACTION = "com.axis.action."
NOTIFY = {f"{ACTION}fixed.notification.http", f"{ACTION}fixed.notification.https"}
TEMPLATES = {  # issue 19's templates, each where the hardware is (events.md §4.2 "who")
    "S3008": NOTIFY | {RECORD}, "S3016": NOTIFY | {RECORD}, "S4000": NOTIFY | {RECORD},
    "C1410MkII": NOTIFY | {RECORD} | {
        f"{ACTION}fixed.play.audioclip", f"{ACTION}unlimited.play.audioclip", f"{ACTION}fixed.stop.audioclip",
        f"{ACTION}fixed.speakertest", f"{ACTION}fixed.sip", f"{ACTION}fixed.sip.answer", f"{ACTION}fixed.mqttpublish",
    },
    "W401": NOTIFY | {
        f"{ACTION}fixed.io.toggle", f"{ACTION}unlimited.io.toggle", f"{ACTION}fixed.mqttpublish",
        f"{ACTION}unlimited.bluetooth.broadcast",
    },
}  # fmt: skip


async def test_each_model_offers_the_templates_of_its_hardware(control: Control) -> None:
    # GetActionTemplates (events.md §4.2): I/O where there are ports, clips/SIP/speaker test on the
    # speaker, MQTT publish with an MQTT client, Record video where the device records, the beacon
    for index, model in enumerate((*RECORDERS, "C1410MkII", "W401")):
        reply = await ok(control[index], f'<GetActionTemplates xmlns="{ACTION1}"/>')
        listed = reply.iter(f"{{{ACTION1}}}ActionTemplate")
        templates = {t.findtext("aa:TemplateToken", namespaces=NS): t for t in listed}
        assert set(templates) == TEMPLATES[model], model
        if RECORD in templates:
            names = {p.get("Name") for p in templates[RECORD].iter(f"{{{ACTION1}}}Parameter")}
            assert names == {"stream_options", "pre_duration", "post_duration", "storage_id"}


@pytest.mark.parametrize("index", range(3), ids=RECORDERS)
async def test_a_rule_records_while_it_is_active(control: Control, index: int) -> None:
    recorder = control[index]
    before = await disk(control, index)
    assert await recordings(control, index) == 0
    action = await add_action(recorder, RECORD, name="Record on input", stream_options="streamprofile%3DQuality",
                              pre_duration="5000", post_duration="2000", storage_id=before["diskid"])  # fmt: skip
    await add_rule(recorder, "Record while virtual input 1", action, conditions=held(1))
    await text_of(recorder.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=1")
    assert await ongoing(control, index) == ["1"]
    assert await recordings(control, index) == 1  # the pre-trigger time is on the disk already
    recorder.device.clock.advance(60)
    await text_of(recorder.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=1")
    assert await ongoing(control, index) == ["1"]  # the post-trigger time is still being recorded
    recorder.device.clock.advance(2)
    assert await ongoing(control, index) == ["1", "0"]
    # 5 s before, 60 s while, 2 s after: what landed on the disk (the device clock also ran on in
    # real time between the requests, a few milliseconds)
    after = await disk(control, index)
    used = (int(before["freesize"]) - int(after["freesize"])) * 1024
    assert abs(used - (5 + 60 + 2) * BYTES_PER_S) < BYTES_PER_S // 2, used
    assert await recordings(control, index) == 1
    runs = await control.ok("GET", f"/devices/{index}/events/log?topic=axisim:Rules/ActionRun")
    assert runs["events"][-1]["data"]["action"] == RECORD
    system = await text_of(recorder.url, "/axis-cgi/systemlog.cgi")
    assert f"started on {before['diskid']}" in system
    size = int(re.findall(r"Recording \S+ stopped \((\d+) bytes\)", system)[-1])
    assert abs(size - used) < 2048


async def test_a_second_activation_is_a_second_recording_and_a_restart_ends_one(control: Control) -> None:
    recorder = control[0]
    disk_id = (await disk(control, 0))["diskid"]
    action = await add_action(recorder, RECORD, stream_options="", pre_duration="0", post_duration="0",
                              storage_id=disk_id)  # fmt: skip
    await add_rule(recorder, "Record", action, conditions=held(2))
    for _ in range(2):
        await text_of(recorder.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=2")
        recorder.device.clock.advance(10)
        await text_of(recorder.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=2")
    assert await recordings(control, 0) == 2
    assert await ongoing(control, 0) == ["1", "0", "1", "0"]
    await text_of(recorder.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=2")
    await text_of(recorder.url, "/axis-cgi/restart.cgi")  # "triggered recordings end when the device is shut down"
    assert await recorder.wait_ready(30)
    assert await ongoing(control, 0) == ["1", "0", "1", "0", "1", "0"]
    assert await recordings(control, 0) == 3


async def test_a_recording_that_cannot_start_is_a_failed_action(control: Control) -> None:
    # a disk id the recorder does not have; then its disk write-protected (Storage.S0.Locked)
    recorder = control[1]
    wrong = await add_action(recorder, RECORD, stream_options="", pre_duration="0", post_duration="0",
                             storage_id="SD_DISK")  # fmt: skip
    await add_rule(recorder, "Wrong disk", wrong, conditions=held(3))
    await text_of(recorder.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=3")
    failed = await control.ok("GET", "/devices/1/events/log?topic=tns1:Device/tnsaxis:SystemMessage/ActionFailed")
    assert "No storage 'SD_DISK'" in failed["events"][-1]["data"]["description"]
    assert await recordings(control, 1) == 0 and await ongoing(control, 1) == []
    right = await add_action(recorder, RECORD, stream_options="", pre_duration="0", post_duration="0",
                             storage_id=(await disk(control, 1))["diskid"])  # fmt: skip
    await add_rule(recorder, "Locked disk", right, conditions=held(4))
    await text_of(recorder.url, "/axis-cgi/param.cgi?action=update&Storage.S0.Locked=yes")
    await text_of(recorder.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=4")
    system = await text_of(recorder.url, "/axis-cgi/systemlog.cgi")
    assert f"{RECORD} failed: The disk is write protected: not recording" in system
    assert await recordings(control, 1) == 0


async def test_a_missing_parameter_is_the_recorded_fault(control: Control) -> None:
    # events.md §4.1: "Configuration parameter missing: <name>", ParametersMissmatchFault; nothing added
    recorder = control[2]
    body = (f'<AddActionConfiguration xmlns="{ACTION1}"><NewActionConfiguration><TemplateToken>{RECORD}'
            f'</TemplateToken>{parameters(pre_duration="0", post_duration="0", stream_options="")}'
            "</NewActionConfiguration></AddActionConfiguration>")  # fmt: skip
    reason, detail = await fault(recorder, body)
    assert reason == "Configuration parameter missing: storage_id"
    assert detail[0].tag == f"{{{ACTION1}}}ParametersMissmatchFault"
    listed = await ok(recorder, f'<GetActionConfigurations xmlns="{ACTION1}"/>')
    assert listed.find("aa:ActionConfigurations/aa:ActionConfiguration", NS) is None
