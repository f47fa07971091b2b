"""The C1410 Mk II and W401 manuals' worked examples that tests/test_rules.py does not already run
(issue 19), each configured through the VAPIX APIs as the manual's steps describe, triggered through
the control API and observed from outside: port.cgi, the clip and call events of the control API's
event log, a real Mosquitto broker.

Which example is where (the README's "Rules" says what is not built):
- W401 "Activate a lamp when the window is opened": test_rules.py, test_w401_lamp_toggles_while_the_rule_is_active
- W401 "Open a lock when a button is pressed": test_rules.py, test_w401_lock_opens_for_ten_seconds_when_...
- W401 "Activate the Body Worn Activation Kit over MQTT when camera detects motion": here
- W401 "Detect tampering with input signal": here, an HTTP recipient for the email one (no email)
- C1410 "Send an email if a speaker test fails": test_rules_schedules.py (an HTTP recipient for the email one)
- C1410 "Play audio when a camera detects motion": here (the W401 plays the camera)
- C1410 "Stop audio with DTMF": here
- C1410 "Set up audio for incoming SIP calls" (play on Ringing; answer when the clip has ended): here
- W401 "Receive a Bluetooth beacon signal", "Broadcast a Bluetooth beacon signal": here (the beacon's
  event and action names are guesses: README "Choices")
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from axisim.simulated import SimulatedDevice
from tests.mqtt_broker import Broker
from tests.test_control import Control, text_of, vapix
from tests.test_mqtt import DEFAULT_MESSAGES, until_connection
from tests.test_rules import (
    ACTION1,
    C1410,
    PORT,
    VIRTUAL_INPUT,
    W401,
    active,
    add_action,
    add_rule,
    event,
    items,
    parameters,
    served,
    settle,
)
from tests.test_rules import ok as soap_ok
from tests.test_rules_recipients import PASSWORD, USER, Receiver, serve

POLLS = 100  # x 0.05 s: the longest a broker round trip may take to show at port.cgi
CALL = "/vapix/call"


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async for listening in serve("basic"):
        yield listening


async def ajr(device: SimulatedDevice, path: str, method: str, params: dict[str, Any] | None = None,
              **extra: Any) -> dict[str, Any]:  # fmt: skip
    document: dict[str, Any] = {"apiVersion": "1.0", "method": method, **extra}
    if params is not None:
        document["params"] = params
    reply = await vapix(device.url, path, method="POST", data=json.dumps(document))
    assert reply.status == 200 and "error" not in reply.json(), reply.text
    return reply.json()


async def mqtt_client(device: SimulatedDevice, broker: Broker, client_id: str) -> None:
    """"System > MQTT > MQTT client > Broker": Host, Client ID, Protocol, Port; Save and Connect."""
    await ajr(device, "/axis-cgi/mqtt/client.cgi", "configureClient", {
        "server": {"host": "127.0.0.1", "port": broker.port, "protocol": "tcp"}, "clientId": client_id,
        **DEFAULT_MESSAGES})  # fmt: skip
    await ajr(device, "/axis-cgi/mqtt/client.cgi", "activateClient")


async def port_becomes(device: SimulatedDevice, port: int, wanted: str) -> None:
    """port.cgi checkactive until the port reads `wanted` (bounded: the broker round trip)."""
    got = ""
    for _ in range(POLLS):
        got = await active(device, port)
        if got == f"port{port}={wanted}":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"port {port} never became {wanted}: {got}")


async def log(control: Control, index: int, topic: str) -> list[dict[str, Any]]:
    return (await control.ok("GET", f"/devices/{index}/events/log?topic={topic}"))["events"]


async def add_recipient(device: SimulatedDevice, name: str, token: str, **values: str) -> int:
    reply = await soap_ok(device, f'<AddRecipientConfiguration xmlns="{ACTION1}"><NewRecipientConfiguration>'
                          f"<Name>{name}</Name><TemplateToken>{token}</TemplateToken>{parameters(**values)}"
                          "</NewRecipientConfiguration></AddRecipientConfiguration>")  # fmt: skip
    return int(reply.findtext(f"{{{ACTION1}}}ConfigurationID"))


# -- W401 ------------------------------------------------------------------------------------------


async def test_w401_io_1_follows_the_cameras_motion_over_mqtt(control: Control, broker: Broker) -> None:
    """W401 manual, "Activate the Body Worn Activation Kit over MQTT when camera detects motion". The
    C1410 Mk II plays the camera (its MQTT client and two rules; a virtual input is its motion alarm,
    "Invert this condition" its inactive state); the W401 subscribes to Motion (Stateful) and its rule
    "MQTT > Stateful, Motion, On" toggles I/O 1 while the rule is active. events.md §4.4, §5."""
    camera, kit = control[C1410], control[W401]
    await mqtt_client(camera, broker, "Camera 1")
    await until_connection(camera, "connected")
    # the camera's two rules: Motion detected -> publish Motion On; No motion (inverted) -> Motion Off
    on = await add_action(camera, "com.axis.action.fixed.mqttpublish", Topic="Motion", Payload="On", QoS="1")
    off = await add_action(camera, "com.axis.action.fixed.mqttpublish", Topic="Motion", Payload="Off", QoS="1")
    motion = await add_rule(camera, "Motion detected", on,
                            conditions=event("Condition", VIRTUAL_INPUT, items(port="1", active="1")))
    await add_rule(camera, "No motion", off, conditions=event("Condition", VIRTUAL_INPUT, items(port="1", active="0")))

    # the kit: "Configure a device for the I/O port 1" (an output), its MQTT client, the subscription
    await text_of(kit.url, "/axis-cgi/param.cgi?action=update&IOPort.I0.Direction=output")
    await mqtt_client(kit, broker, "Port 1")
    await ajr(kit, "/axis-cgi/mqtt/event.cgi", "configureMqttSubscription",
              {"mqttFilterList": [{"topicFilter": "Motion", "isStateData": True, "qos": 1}]}, apiVersion="1.1")
    io1 = await add_action(kit, "com.axis.action.unlimited.io.toggle", port="0", state="active")
    motion_on = items(**{"mqtt-topic": "Motion", "mqtt-payload": "On"})
    stateful = event("Condition", "tnsaxis:MQTT/Message/Stateful", motion_on)
    await add_rule(kit, "Motion detected", io1, conditions=stateful)
    await until_connection(kit, "connected")
    assert await active(kit, 1) == "port1=inactive"

    await control.ok("POST", f"/devices/{C1410}/rules/{motion}/fire")  # the camera detects motion
    await port_becomes(kit, 1, "active")
    await control.ok("POST", f"/devices/{C1410}/rules/{motion}/fire", {"data": {"active": "0"}})  # motion ends
    await port_becomes(kit, 1, "inactive")
    runs = (await control.ok("GET", f"/devices/{W401}/rules"))["rules"][0]
    assert runs["runs"] == 1 and runs["last_run"]["result"] == "set I/O port 0 active"


async def test_w401_tampered_input_notifies_the_recipient(control: Control, receiver: Receiver) -> None:
    """W401 manual, "Detect tampering with input signal": Supervised on for the port; a rule on
    "Supervised input tampering is active" notifies a recipient (HTTP here: axisim sends no email)."""
    kit = control[W401]
    await text_of(kit.url, "/axis-cgi/param.cgi?action=update&IOPort.I0.Supervised=yes")
    url = receiver.url + "?event=tampering"
    await add_recipient(kit, "Guard", "com.axis.recipient.http", upload_url=url, login=USER, password=PASSWORD)
    notify = await add_action(kit, "com.axis.action.fixed.notification.http", upload_url=url, login=USER,
                              password=PASSWORD)  # fmt: skip
    supervised = event("StartEvent", "tns1:Device/tnsaxis:IO/SupervisedPort", items(port="0", tampered="1"))
    await add_rule(kit, "Tampering", notify, start=supervised)
    await control.ok("POST", f"/devices/{W401}/events/io/cut_input", {"port": 1})
    await settle(lambda: bool(receiver.got))
    assert receiver.got == [("GET", "/cgi-bin/notify.cgi?event=tampering", "")]


BEACON = "tns1:Device/tnsaxis:Bluetooth/BeaconReceived"
BROADCAST = "tns1:Device/tnsaxis:Bluetooth/Broadcast"


async def test_w401_receives_a_bluetooth_beacon(control: Control) -> None:
    """W401 manual, "Receive a Bluetooth beacon signal": a rule whose condition is "Bluetooth beacon
    signal received" with the body worn system's ID, and an action on the port a device is connected
    to (a light on I/O 2 here, "Toggle I/O once" for 10 s). The beacon comes from the control API."""
    kit = control[W401]
    await text_of(kit.url, "/axis-cgi/param.cgi?action=update&IOPort.I1.Direction=output&IOPort.I1.Output.Name=Light")
    light = await add_action(kit, "com.axis.action.fixed.io.toggle", port="1", state="active", duration="10")
    await add_rule(kit, "Body worn camera nearby", light, start=event("StartEvent", BEACON, items(SystemID="BWS-0042")))
    # another body worn system's camera: nothing
    await control.event(W401, "bluetooth", "beacon", system_id="BWS-0007", message_type=1)
    assert await active(kit, 2) == "port2=inactive"
    result = await control.event(W401, "bluetooth", "beacon", system_id="BWS-0042", message_type=1)
    assert result == {"system_id": "BWS-0042", "message_type": 1}
    assert await active(kit, 2) == "port2=active"
    kit.device.clock.advance(10)
    assert await active(kit, 2) == "port2=inactive"
    received = await log(control, W401, BEACON)
    assert [(e["source"], e["data"]) for e in received] == [
        ({"SystemID": "BWS-0007"}, {"MessageType": "1"}), ({"SystemID": "BWS-0042"}, {"MessageType": "1"}),
    ]  # fmt: skip
    status, reply = await control.post(f"/devices/{W401}/events/bluetooth/beacon", {"system_id": ""})
    assert status == 400 and "System ID" in json.dumps(reply)


async def test_w401_broadcasts_a_bluetooth_beacon_while_the_input_is_active(control: Control) -> None:
    """W401 manual, "Broadcast a Bluetooth beacon signal": the recording activation input's direction
    set to input; rule "Digital input is active" on its port, action "Broadcast signal" with the
    System ID and Message type 1 ("lightbar active")."""
    kit = control[W401]
    templates = await soap_ok(kit, f'<GetActionTemplates xmlns="{ACTION1}"/>')
    broadcast = next(t for t in templates.iter(f"{{{ACTION1}}}ActionTemplate")
                     if t.findtext(f"{{{ACTION1}}}TemplateToken") == "com.axis.action.unlimited.bluetooth.broadcast")
    assert {p.get("Name") for p in broadcast.iter(f"{{{ACTION1}}}Parameter")} == {"system_id", "message_type"}
    await text_of(kit.url, "/axis-cgi/param.cgi?action=update&IOPort.I2.Direction=input")
    signal = await add_action(kit, "com.axis.action.unlimited.bluetooth.broadcast", system_id="BWS-0042",
                              message_type="1")  # fmt: skip
    await add_rule(kit, "Recording activation", signal, conditions=event("Condition", PORT, items(port="2", state="1")))
    await control.event(W401, "io", "close_input", port=3)
    sent = await log(control, W401, BROADCAST)
    assert sent[-1]["data"] == {"active": "1", "SystemID": "BWS-0042", "MessageType": "1"}
    await control.event(W401, "io", "open_input", port=3)
    sent = await log(control, W401, BROADCAST)
    assert sent[-1]["data"] == {"active": "0", "SystemID": "", "MessageType": "0"}
    system = await text_of(kit.url, "/axis-cgi/systemlog.cgi")
    assert "Bluetooth beacon broadcast: System ID BWS-0042, message type 1" in system


# -- C1410 Mk II -----------------------------------------------------------------------------------


async def test_c1410_plays_a_clip_when_a_camera_detects_motion(control: Control) -> None:
    """C1410 manual, "Play audio when a camera detects motion": the clip's link as an HTTP recipient
    with the speaker's user name and password; the camera's rule sends the notification. The W401 is
    the camera here, its digital input the motion alarm."""
    speaker, camera = control[C1410], control[W401]
    link = f"{speaker.url}/axis-cgi/playclip.cgi?location=ding_dong.mp3&repeat=0&volume=75"  # "Create link"
    user, password = speaker.credentials
    await add_recipient(camera, "Speaker", "com.axis.recipient.http", upload_url=link.replace("&", "&amp;"),
                        login=user, password=password)  # fmt: skip
    notify = await add_action(camera, "com.axis.action.fixed.notification.http",
                              upload_url=link.replace("&", "&amp;"), login=user, password=password)  # fmt: skip
    await add_rule(camera, "Play clip", notify, start=event("StartEvent", PORT, items(port="0", state="1")))
    await control.ok("POST", f"/devices/{W401}/events/io/close_input", {"port": 1})  # motion
    for _ in range(POLLS):
        playing = await log(control, C1410, "tnsaxis:MediaClip/CurrentlyPlaying")
        if playing:
            break
        await asyncio.sleep(0.05)
    assert [e["data"]["FileName"] for e in playing] == ["ding_dong.mp3"]


async def sip_on(speaker: SimulatedDevice, auto_answer: bool) -> None:
    """"System > SIP > SIP settings": Enable SIP, Allow incoming calls; the account's Answer automatically."""
    answer = "yes" if auto_answer else "no"
    await text_of(speaker.url, "/axis-cgi/param.cgi?action=update&SIP.Enabled=yes&SIP.AllowIncomingCalls=yes"
                  f"&SIP.Account.A0.AutoAnswer={answer}")  # the peer-to-peer account


async def axcall(speaker: SimulatedDevice, command: str, message: dict[str, Any]) -> dict[str, Any]:
    reply = await vapix(speaker.url, CALL, method="POST", data=json.dumps({f"axcall:{command}": message}))
    assert reply.status == 200, reply.text
    return reply.json()


async def test_c1410_stops_audio_with_dtmf(control: Control) -> None:
    """C1410 manual, "Stop audio with DTMF": DTMF sequence "1" "stop audio" on the SIP account; rule
    "DTMF stop audio": condition DTMF, event "stop audio", action Stop playing audio clip."""
    speaker = control[C1410]
    await sip_on(speaker, auto_answer=True)
    dtmf = (await axcall(speaker, "SetDTMFEvent", {"DTMFEvent": {"Name": "stop audio"}}))["DTMFEventId"]
    trigger = (await axcall(speaker, "SetDTMFTrigger", {"DTMFTrigger": {"DTMFSequence": "1", "DTMFEventId": dtmf}}))
    conf = {"Name": "stop audio", "DTMFTriggerId": [trigger["DTMFTriggerId"]]}
    conf_id = (await axcall(speaker, "SetDTMFConfiguration", {"DTMFConfiguration": conf}))["DTMFConfigurationId"]
    await axcall(speaker, "SetSIPAccount", {"SIPAccount": {"Id": "peer-to-peer", "DTMFConfigurationId": conf_id}})
    stop = await add_action(speaker, "com.axis.action.fixed.stop.audioclip")
    await add_rule(speaker, "DTMF stop audio", stop,
                   start=event("StartEvent", "tnsaxis:Call/DTMF", items(DTMFEventId=dtmf)))  # fmt: skip

    await text_of(speaker.url, "/axis-cgi/playclip.cgi?location=abracadabra.mp3&repeat=-1")  # plays until stopped
    call = (await control.ok("POST", f"/devices/{C1410}/events/sip/incoming_call", {}))["result"]["call_id"]
    playing = await log(control, C1410, "tnsaxis:MediaClip/Playing")
    assert playing[-1]["data"]["Playing"] == "1"  # the call is answered; the clip plays on
    await control.ok("POST", f"/devices/{C1410}/events/sip/dtmf", {"call_id": call, "sequence": "1"})
    playing = await log(control, C1410, "tnsaxis:MediaClip/Playing")
    assert playing[-1]["data"]["Playing"] == "0"
    (rule,) = (await control.ok("GET", f"/devices/{C1410}/rules"))["rules"]
    assert rule["last_run"]["result"] == "stopped the audio clip"


async def test_c1410_plays_on_ringing_and_answers_when_the_clip_ends(control: Control) -> None:
    """C1410 manual, "Set up audio for incoming SIP calls": Answer automatically unchecked; rule 1:
    condition State Ringing -> Play audio clip (repeat 0); rule 2: Audio clip playing as a trigger,
    inverted, and State Ringing -> Answer call."""
    speaker = control[C1410]
    await sip_on(speaker, auto_answer=False)
    clip = await add_action(speaker, "com.axis.action.fixed.play.audioclip", location="camera_clicks.mp3", repeat="0")
    ringing = event("Condition", "tnsaxis:Call/State", items(CallState="Ringing"))
    await add_rule(speaker, "Ring", clip, conditions=ringing)
    answer = await add_action(speaker, "com.axis.action.fixed.sip.answer")
    ended = event("StartEvent", "tnsaxis:MediaClip/Playing", items(Playing="0"))
    await add_rule(speaker, "Answer", answer, start=ended, conditions=ringing)

    await control.ok("POST", f"/devices/{C1410}/events/sip/incoming_call", {"from": "sip:operator@127.0.0.1"})
    assert [e["data"]["FileName"] for e in await log(control, C1410, "tnsaxis:MediaClip/CurrentlyPlaying")] \
        == ["camera_clicks.mp3"]  # fmt: skip
    assert not [e for e in await log(control, C1410, "tnsaxis:Call/StateChange")
                if e["data"]["Reason"] == "AcceptedByDevice"]  # fmt: skip
    speaker.device.clock.advance(5)  # the clip has ended
    changes = [e["data"]["Reason"] for e in await log(control, C1410, "tnsaxis:Call/StateChange")]
    assert changes == ["Initiated", "AcceptedByDevice"]
    states = [e["data"]["CallState"] for e in await log(control, C1410, "tnsaxis:Call/State")]
    assert states[-1] == "Active"
