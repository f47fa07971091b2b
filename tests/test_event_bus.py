"""The device event bus (axisim/events.py) and the stimuli each subsystem declares.

Topics follow ../shared/reference/events.md §1.5 (declaration spelling) and §0.4 (values are
strings, booleans "1"/"0"); the control API's journal events view shows what was published.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from axisim.device import make_device
from axisim.events import SYSTEM_READY, Event, EventBus, Item, TopicDecl, text, topic_matches
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.lifecycle import RestartKind
from axisim.subsystems.stimuli import stimuli_of

PORT = TopicDecl(
    "tns1:Device/tnsaxis:IO/Port", stateful=True, source=(Item("port", "xsd:int"),), data=(Item("state", key=True),)
)


class _Clock:
    def wall(self) -> float:
        return 1_700_000_000.5


def test_values_are_strings_and_booleans_are_1_and_0() -> None:
    assert [text(True), text(False), text(3), text("closed")] == ["1", "0", "3", "closed"]


def test_topic_filters() -> None:
    assert topic_matches("tns1:Device/tnsaxis:IO//.", "tns1:Device/tnsaxis:IO/Port")
    assert topic_matches("tns1:Device/tnsaxis:IO//.", "tns1:Device/tnsaxis:IO")
    assert not topic_matches("tns1:Device/tnsaxis:IO//.", "tns1:Device/tnsaxis:IOX")
    assert topic_matches("*Storage*", "tnsaxis:Storage/Disruption")
    assert not topic_matches("tnsaxis:Storage", "tnsaxis:Storage/Disruption")


def test_subscribers_get_the_topics_they_asked_for_until_they_cancel() -> None:
    bus = EventBus(_Clock())
    everything: list[Event] = []
    io_only: list[Event] = []
    bus.subscribe(everything.append)
    subscription = bus.subscribe(io_only.append, ["tns1:Device/tnsaxis:IO//."])
    bus.publish(PORT, {"port": 0}, {"state": True}, publisher="io")
    bus.publish(SYSTEM_READY, data={"ready": False})
    assert [e.topic for e in everything] == [PORT.topic, SYSTEM_READY.topic]
    assert [(e.source, e.data, e.key, e.value, e.stateful) for e in io_only] == [
        ({"port": "0"}, {"state": "1"}, "state", "1", True)
    ]
    subscription.cancel()
    bus.publish(PORT, {"port": 0}, {"state": False})
    assert len(io_only) == 1 and len(everything) == 3


def test_a_failing_subscriber_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus(_Clock())
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    bus.publish(PORT, {"port": 1}, {"state": False})
    assert len(seen) == 1
    assert "event subscriber failed" in caplog.text


def test_nobody_subscribed_builds_nothing() -> None:
    """The fleet cost: with no subscriber, publish returns before making an Event."""
    bus = EventBus(_Clock())
    assert not bus.active
    bus.publish(PORT, {"port": 0}, {"state": object()})  # would fail in text() if an Event were built
    assert not bus.active


def test_a_device_declares_system_ready_and_reports_its_state() -> None:
    device = make_device("S3008")
    assert SYSTEM_READY in device.event_topics()
    states = {e.topic: e for e in device.event_states()}
    assert states[SYSTEM_READY.topic].data == {"ready": "1"}


def test_every_subsystem_stimulus_is_found_on_its_class() -> None:
    """What the control API offered before stimuli were declared on the methods (issue 17)."""
    expected = {
        "poe": {"plug", "unplug"},
        "storage": {"fail_drive", "remove_drive", "replace_drive", "add_recording", "set_temperature",
                    "damage_filesystem"},
        "io": {"close_input", "open_input", "cut_input", "short_input", "repair_input"},
        "sip": {"incoming_call", "remote_hangup", "dtmf", "registration", "remote"},
        "audio": {"press_button", "microphone_switch", "speaker_test_result"},
        "power": {"ignition", "dc", "cable"},
        "wlan": {"add_network", "remove_network"},
        "bluetooth": {"beacon"},
        "virtualinput": set(),  # driven by clients (virtualinput/*.cgi), nothing physical
        "firewall": set(),  # driven by /config/rest/firewall/v1 and the device clock
        "rules": set(),  # driven by the device's own events
        "network": set(),  # driven by network_settings.cgi and param.cgi
        "mqtt": set(),  # driven by mqtt/client.cgi and its broker (a broker fault is the control API's "mqtt" fault)
        "time": set(),  # driven by time.cgi, ntp.cgi and the control API's clock, nothing physical
    }  # fmt: skip
    found: dict[str, set[str]] = {}
    for model in ("S3008", "C1410MkII", "W401"):
        for word, subsystem in make_device(model).subsystems.items():
            found[word] = set(stimuli_of(type(subsystem)))
    assert found == expected
    assert set(stimuli_of(type(make_device("S3008").subsystems["poe"]))["plug"].args) >= {"port", "class"}


async def test_the_journal_shows_a_restart_as_system_ready_events() -> None:
    fleet = Fleet.from_plan(make_plan([Group("S3008", 1)], addressing=Addressing(base_port=0)))
    await fleet.start()
    try:
        from axisim.control.http import start_control

        runner, port = await start_control(fleet)
        device = next(iter(fleet))
        base = f"http://127.0.0.1:{port}/devices/{device.serial}"
        try:
            device.device.restart(RestartKind.REBOOT)  # boot_time 0 in fleets: back at once
            body: dict = {"events": []}
            async with aiohttp.ClientSession() as session:
                for _ in range(100):
                    async with session.get(base + "/journal/events") as reply:
                        body = await reply.json()
                    if len(body["events"]) >= 2:
                        break
                    await asyncio.sleep(0.02)
        finally:
            await runner.cleanup()
    finally:
        await fleet.stop()
    ready = [(e["topic"], e["data"], e["property"]) for e in body["events"]]
    assert ready[-2:] == [
        (SYSTEM_READY.topic, {"ready": "0"}, True),
        (SYSTEM_READY.topic, {"ready": "1"}, True),
    ]
    assert body["total"] >= 2
