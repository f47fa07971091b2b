"""The C1410 Mk II's SIP and audio events on the device bus (events.md §1.5 "Audio, speaker, SIP", §7):
each physical stimulus and each CGI action that changes state publishes the right events,
every published topic is declared, and states() covers every stateful topic."""

from __future__ import annotations

import json
from typing import Any

from axisim.control.events import apply
from axisim.device import Actor, Device, make_device
from axisim.events import Event
from cgi_handlers.call_service import command
from tests.conftest import DeviceClient, DeviceClientFactory

SPEAKER = "C1410MkII"
CALL = "/vapix/call"
REMOTE = "sip:6002@192.168.0.90"
ADMIN = Actor("root", "127.0.0.1")


def watch(device: Device) -> list[Event]:
    seen: list[Event] = []
    device.bus.subscribe(seen.append)
    return seen


def sip_on(device: Device, incoming: bool = True) -> None:
    device.params.set_values({"SIP.Enabled": "yes", "SIP.AllowIncomingCalls": "yes" if incoming else "no"})
    device.settings_changed(None)


def shown(events: list[Event], topic: str) -> list[tuple[dict[str, str], dict[str, str], bool]]:
    return [(e.source, e.data, e.stateful) for e in events if e.topic == topic]


def check_declared(device: Device, events: list[Event]) -> None:
    declared = {d.topic: d for d in device.event_topics()}
    for event in events:
        assert event.topic in declared, event.topic
        assert declared[event.topic].stateful == event.stateful
    stateful = {t for t, d in declared.items() if d.stateful}
    assert stateful <= {e.topic for e in device.event_states()}


SOURCE = {"Source": "NetworkSpeaker"}


def test_incoming_call_rings_and_the_remote_hangs_up() -> None:
    device = make_device(SPEAKER)
    sip_on(device)
    device.params.set_values({"SIP.Account.A0.AutoAnswer": "no"})
    events = watch(device)
    call_id = apply(device, "sip", "incoming_call", {"from": REMOTE})["call_id"]
    assert shown(events, "tnsaxis:Call/State") == [(SOURCE, {"CallState": "Ringing"}, True)]
    (change,) = shown(events, "tnsaxis:Call/StateChange")
    assert change[0] == SOURCE and change[2] is False
    assert (change[1]["Reason"], change[1]["CallId"], change[1]["RemoteURI"]) == ("Initiated", call_id, REMOTE)
    assert set(change[1]) == {"Reason", "CallId", "RemoteURI", "DeviceURI"}
    apply(device, "sip", "remote_hangup", {"call_id": call_id})
    assert shown(events, "tnsaxis:Call/State")[-1][1] == {"CallState": "Idle"}
    assert shown(events, "tnsaxis:Call/StateChange")[-1][1]["Reason"] == "Terminated"
    check_declared(device, events)


def test_auto_answered_call_is_active_and_dtmf_is_a_pulse() -> None:
    device = make_device(SPEAKER)
    sip = device.subsystems["sip"]
    sip_on(device)
    event = command(sip, "SetDTMFEvent", {"DTMFEvent": {"Name": "open door"}}, ADMIN)["DTMFEventId"]
    trigger = command(sip, "SetDTMFTrigger", {"DTMFTrigger": {"DTMFSequence": "1", "DTMFEventId": event}}, ADMIN)
    config = {"Name": "doors", "DTMFTriggerId": [trigger["DTMFTriggerId"]]}
    config_id = command(sip, "SetDTMFConfiguration", {"DTMFConfiguration": config}, ADMIN)["DTMFConfigurationId"]
    command(sip, "SetSIPAccount", {"SIPAccount": {"Id": "peer-to-peer", "DTMFConfigurationId": config_id}}, ADMIN)
    events = watch(device)
    call_id = apply(device, "sip", "incoming_call", {})["call_id"]
    assert shown(events, "tnsaxis:Call/State") == [(SOURCE, {"CallState": "Active"}, True)]
    assert apply(device, "sip", "dtmf", {"call_id": call_id, "sequence": "1"}) == {"event": event}
    assert shown(events, "tnsaxis:Call/DTMF") == [({"DTMFEventId": event}, {"CallId": call_id}, False)]
    check_declared(device, events)


def test_registration_and_remote_publish_no_call_events() -> None:
    device = make_device(SPEAKER)
    sip_on(device)
    events = watch(device)
    apply(device, "sip", "registration", {"account": "peer-to-peer", "code": 403})
    apply(device, "sip", "remote", {"outcome": "answer", "after": 1.0})
    assert [e for e in events if e.topic.startswith("tnsaxis:Call")] == []


def test_call_topics_are_declared_when_sip_is_enabled() -> None:
    device = make_device(SPEAKER)
    assert not [d for d in device.event_topics() if d.topic.startswith("tnsaxis:Call")]
    sip_on(device)
    assert {d.topic for d in device.event_topics() if d.topic.startswith("tnsaxis:Call")} == {
        "tnsaxis:Call/State", "tnsaxis:Call/StateChange", "tnsaxis:Call/DTMF",
    }  # fmt: skip
    states = {e.topic: e for e in device.event_states()}
    assert states["tnsaxis:Call/State"].data == {"CallState": "Idle"}


def test_microphone_switch_and_button_and_speaker_test_result() -> None:
    device = make_device(SPEAKER)
    events = watch(device)
    apply(device, "audio", "microphone_switch", {"on": False})
    apply(device, "audio", "microphone_switch", {"on": False})  # no change: no event
    apply(device, "audio", "microphone_switch", {"on": True})
    assert shown(events, "tns1:Device/tnsaxis:Microphone/Switch") == [
        ({"switch": "0"}, {"state": "0"}, True),
        ({"switch": "0"}, {"state": "1"}, True),
    ]
    apply(device, "audio", "speaker_test_result", {"passes": False})
    apply(device, "audio", "press_button", {})  # calibrates: the output plays test tones
    output = {"AudioOutput": "AudioDevice0Output0"}
    assert shown(events, "tns1:Device/tnsaxis:AudioOutputActive") == [(output, {"AudioOutputActive": "1"}, True)]
    device.clock.advance(10)
    assert shown(events, "tns1:Device/tnsaxis:AudioOutputActive")[-1][1] == {"AudioOutputActive": "0"}
    assert shown(events, "tns1:Device/tnsaxis:SpeakerTest/TestResult") == []  # a calibration is no test
    device.subsystems["audio"].run_test()
    device.clock.advance(10)
    uuid = f"5581ad80-95b0-11e0-b883-{device.serial.lower()}"
    assert shown(events, "tns1:Device/tnsaxis:SpeakerTest/TestResult") == [
        ({"DeviceUUID": uuid}, {"SpeakerTestStatus": "Failed"}, False)
    ]
    check_declared(device, events)


async def axast(client: DeviceClient, name: str) -> Any:
    response = await client.post("/vapix/axast", data=json.dumps({f"axast:{name}": {}}))
    return response.status, json.loads(await response.text())


async def test_speaker_test_through_the_api(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    events = watch(client.device)
    assert await axast(client, "CalibrateSpeakerTest") == (200, {})
    client.device.clock.advance(10)
    assert await axast(client, "PerformSpeakerTest") == (200, {})
    client.device.clock.advance(10)
    results = shown(events, "tns1:Device/tnsaxis:SpeakerTest/TestResult")
    assert [data for _, data, _ in results] == [{"SpeakerTestStatus": "OK"}]
    check_declared(client.device, events)


async def test_playclip_and_stopclip(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    audio = client.device.subsystems["audio"]
    clip = audio.clip_numbers()[0]
    events = watch(client.device)
    response = await client.get(f"/axis-cgi/playclip.cgi?clip={clip}&repeat=-1")
    assert response.status == 200
    name = audio.clip_param(clip, "Location").rsplit("/", 1)[-1]
    assert shown(events, "tnsaxis:MediaClip/CurrentlyPlaying") == [({"AudioOutput": "1"}, {"FileName": name}, False)]
    assert shown(events, "tnsaxis:MediaClip/Playing") == [({"AudioOutput": "1"}, {"Playing": "1"}, True)]
    assert shown(events, "tns1:Device/tnsaxis:AudioOutputActive")[-1][1] == {"AudioOutputActive": "1"}
    assert (await client.get("/axis-cgi/stopclip.cgi")).status == 200
    assert shown(events, "tnsaxis:MediaClip/Playing")[-1][1] == {"Playing": "0"}
    assert shown(events, "tns1:Device/tnsaxis:AudioOutputActive")[-1][1] == {"AudioOutputActive": "0"}
    check_declared(client.device, events)


async def test_call_and_hangup_through_the_call_service(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER, ip="192.168.0.90")
    sip_on(client.device)
    client.device.subsystems["sip"].set_remote("answer", after=1)
    events = watch(client.device)

    async def axcall(name: str, message: dict[str, Any]) -> Any:
        response = await client.post(CALL, data=json.dumps({f"axcall:{name}": message}))
        assert response.status == 200
        return json.loads(await response.text())

    call_id = (await axcall("Call", {"To": REMOTE}))["CallId"]
    client.device.clock.advance(1)
    await axcall("TerminateCall", {"CallId": call_id})
    assert [d["CallState"] for _, d, _ in shown(events, "tnsaxis:Call/State")] == ["Calling", "Active", "Idle"]
    reasons = [d["Reason"] for _, d, _ in shown(events, "tnsaxis:Call/StateChange")]
    assert reasons == ["Initiated", "AcceptedByRemote", "Terminated"]
    check_declared(client.device, events)
