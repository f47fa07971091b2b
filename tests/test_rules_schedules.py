"""Scheduled events (event1, events.md §4.6) as rule conditions: the C1410 Mk II manual's "Send an
email if a speaker test fails" — a schedule "Daily at 6pm" (18:00 to 18:01), a rule running the
automatic speaker test on it, a rule notifying a recipient on a failed result (an HTTP receiver
here: axisim sends no email) — configured through SOAP, the time moved on the device clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from axisim.simulated import DeviceSpec, SimulatedDevice
from tests.test_control import Control
from tests.test_rules import (
    C1410,
    W401,
    active,
    add_action,
    add_rule,
    event,
    fault,
    items,
    ok,
    served,
    settle,
)
from tests.test_rules_recipients import Receiver, serve

EVENT1 = "http://www.axis.com/vapix/ws/event1"
INTERVAL = "tns1:UserAlarm/tnsaxis:Recurring/Interval"
RESULT = "tns1:Device/tnsaxis:SpeakerTest/TestResult"
DAILY_AT_6PM = "DTSTART:20260101T18:00 DTEND:20260101T18:01 RRULE:FREQ=DAILY"


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async for listening in serve("basic"):
        yield listening


async def add_schedule(device: SimulatedDevice, name: str, icalendar: str) -> str:
    reply = await ok(device, f'<AddScheduledEvent xmlns="{EVENT1}"><NewScheduledEvent><Name>{name}</Name>'
                     f"<Schedule><ICalendar>{icalendar}</ICalendar></Schedule></NewScheduledEvent>"
                     "</AddScheduledEvent>")  # fmt: skip
    return reply.findtext("{*}EventID")


def seconds_until(device: SimulatedDevice, hour: int, minute: int, second: int) -> float:
    now = datetime.fromtimestamp(device.device.clock.wall(), UTC)
    then = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if then <= now:
        then += timedelta(days=1)
    return (then - now).total_seconds()


async def schedule_states(control: Control, schedule: str) -> list[dict[str, str]]:
    """The Interval events of one schedule, oldest first, from the C1410 Mk II's event log."""
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic={INTERVAL}")
    return [e["data"] for e in log["events"] if e["source"] == {"id": schedule}]


async def test_a_daily_speaker_test_that_fails_notifies_the_recipient(control: Control, receiver: Receiver) -> None:
    speaker = control[C1410]
    await control.event(C1410, "audio", "press_button")  # calibrates the speaker test (manual, "Buttons")
    await control.event(C1410, "audio", "speaker_test_result", passes=False)
    schedule = await add_schedule(speaker, "Daily at 6pm", DAILY_AT_6PM)
    listed = await ok(speaker, f'<GetScheduledEvents xmlns="{EVENT1}"/>')
    assert [(e.findtext("{*}EventID"), e.findtext("{*}Name"), e.findtext("{*}Schedule/{*}ICalendar"))
            for e in listed.iter("{*}ScheduledEvent")] == [(schedule, "Daily at 6pm", DAILY_AT_6PM)]  # fmt: skip
    test = await add_action(speaker, "com.axis.action.fixed.speakertest")
    await add_rule(speaker, "Speaker test", test,
                   conditions=event("Condition", INTERVAL, items(id=schedule, active="1")))  # fmt: skip
    notify = await add_action(speaker, "com.axis.action.fixed.notification.http", upload_url=receiver.url,
                              login="notify", password="s3cret", parameters="test=failed")  # fmt: skip
    await add_rule(speaker, "Speaker test failed", notify,
                   start=event("StartEvent", RESULT, items(SpeakerTestStatus="Failed")))  # fmt: skip

    speaker.device.clock.advance(seconds_until(speaker, 18, 0, 30))
    # the jump may cross other schedules' edges too (the built-in weekends one at Monday 00:00)
    assert (await schedule_states(control, schedule))[-1] == {"active": "1"}
    speaker.device.clock.advance(10)  # the test tones play for 8 s
    await settle(lambda: bool(receiver.got))
    assert receiver.got == [("GET", "/cgi-bin/notify.cgi?test=failed", "")]
    speaker.device.clock.advance(60)
    assert (await schedule_states(control, schedule))[-1] == {"active": "0"}
    runs = await control.ok("GET", f"/devices/{C1410}/events/log?topic=axisim:Rules/ActionRun")
    assert [e["data"]["name"] for e in runs["events"]] == ["Speaker test", "Speaker test failed"]


async def test_schedules_refused_listed_filtered_and_removed(control: Control) -> None:
    speaker = control[C1410]
    reason, _ = await fault(speaker, f'<AddScheduledEvent xmlns="{EVENT1}"><NewScheduledEvent><Name>x</Name>'
                            "<Schedule><ICalendar>DTSTART:20260101T18:00 RRULE:FREQ=YEARLY</ICalendar></Schedule>"
                            "</NewScheduledEvent></AddScheduledEvent>")  # fmt: skip
    assert reason == "Invalid schedule: FREQ YEARLY is not supported"
    interval = await add_schedule(speaker, "Office", "DTSTART:20260105T08:00 DTEND:20260105T17:00 "
                                  "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")  # fmt: skip
    pulse = await add_schedule(speaker, "Every quarter", "DTSTART:20260101T00:00 RRULE:FREQ=DAILY;BYMINUTE=0,15,30,45;"
                               "BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23")  # fmt: skip
    assert interval != pulse
    only = await ok(speaker, f'<GetScheduledEvents xmlns="{EVENT1}"><ScheduleFilter><ScheduleType>Pulse'
                    "</ScheduleType></ScheduleFilter></GetScheduledEvents>")  # fmt: skip
    assert [e.findtext("{*}EventID") for e in only.iter("{*}ScheduledEvent")] == [pulse]
    pulses = "tns1:UserAlarm/tnsaxis:Recurring/Pulse"
    speaker.device.clock.advance(seconds_until(speaker, 10, 14, 0))
    speaker.device.clock.advance(61)  # past 10:15
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic={pulses}")
    assert log["events"][-1]["source"] == {"id": pulse}
    reason, _ = await fault(speaker, f'<RemoveScheduledEvent xmlns="{EVENT1}"><EventID>nope</EventID>'
                            "</RemoveScheduledEvent>")  # fmt: skip
    assert reason == "No scheduled event with id 'nope' exists"
    await ok(speaker, f'<RemoveScheduledEvent xmlns="{EVENT1}"><EventID>{pulse}</EventID></RemoveScheduledEvent>')
    listed = await ok(speaker, f'<GetScheduledEvents xmlns="{EVENT1}"/>')
    assert [e.findtext("{*}EventID") for e in listed.iter("{*}ScheduledEvent")] == [interval]
    declared = await ok(speaker, f'<GetEventInstances xmlns="{EVENT1}"/>')
    assert declared.find(".//{*}UserAlarm/{*}Recurring/{*}Interval") is not None  # conditions can select it


async def test_schedules_survive_a_restart(tmp_path: Path) -> None:
    spec = DeviceSpec("C1410MkII", state_dir=tmp_path / "c1410")
    first = SimulatedDevice(spec)
    await first.start()
    try:
        schedule = await add_schedule(first, "Daily at 6pm", DAILY_AT_6PM)
    finally:
        await first.stop()
    second = SimulatedDevice(spec)
    await second.start()
    try:
        listed = await ok(second, f'<GetScheduledEvents xmlns="{EVENT1}"/>')
        assert [e.findtext("{*}EventID") for e in listed.iter("{*}ScheduledEvent")] == [schedule]
        saved = json.loads((tmp_path / "c1410" / "device.json").read_text())
        assert saved["subsystems"]["rules"]["schedules"]["events"][0][2] == DAILY_AT_6PM
    finally:
        await second.stop()


def seconds_until_weekday(device: SimulatedDevice, weekday: int, hour: int, minute: int) -> float:
    """Device seconds until the next `weekday` (0 = Monday) at hour:minute."""
    now = datetime.fromtimestamp(device.device.clock.wall(), UTC)
    then = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    then += timedelta(days=(weekday - now.weekday()) % 7)
    if then <= now:
        then += timedelta(days=7)
    return (then - now).total_seconds()


async def test_built_in_schedules_are_declared_and_drive_rules(control: Control) -> None:
    """The four schedules every device declares (events.md §1.5, §4.6 [REC]) as rule conditions:
    the W401's relay on during office hours (their times are a guess: Monday-Friday 08:00-18:00)."""
    w401 = control[W401]
    declared = await ok(w401, f'<GetEventInstances xmlns="{EVENT1}"/>')
    interval = declared.find(".//{*}UserAlarm/{*}Recurring/{*}Interval")
    values = {v.text for v in interval.iter("{*}Value")}
    assert {"com.axis.schedules.after_hours", "com.axis.schedules.office_hours", "com.axis.schedules.weekends",
            "com.axis.schedules.weekdays"} <= values  # fmt: skip
    listed = await ok(w401, f'<GetScheduledEvents xmlns="{EVENT1}"/>')
    assert list(listed.iter("{*}ScheduledEvent")) == []  # the user's schedules only
    relay = await add_action(w401, "com.axis.action.unlimited.io.toggle", port="8", state="active")
    office = event("Condition", INTERVAL, items(id="com.axis.schedules.office_hours", active="1"))
    await add_rule(w401, "Office hours", relay, conditions=office)
    w401.device.clock.advance(seconds_until_weekday(w401, 0, 7, 59))  # Monday 07:59
    assert await active(w401, 9) == "port9=inactive"
    w401.device.clock.advance(120)  # 08:01
    assert await active(w401, 9) == "port9=active"
    w401.device.clock.advance(10 * 3600)  # 18:01
    assert await active(w401, 9) == "port9=inactive"
    log = await control.ok("GET", f"/devices/{W401}/events/log?topic={INTERVAL}")
    ours = [e["data"]["active"] for e in log["events"] if e["source"]["id"] == "com.axis.schedules.office_hours"]
    assert ours[-2:] == ["1", "0"]
