"""Action rules through the wire (issue 19): raw SOAP action1 requests (events.md §4.1-4.5) to served
devices, triggered by the control API's physical stimuli and VAPIX virtual inputs, the outcome
observed from outside (port.cgi, the control API's event log, an HTTP receiver, the system log).

A W401 and a C1410 Mk II run on free loopback ports with the control API on its own listener.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from lxml import etree

from axisim.simulated import SimulatedDevice
from tests.test_control import SPEAKER_AND_KIT, Control, controlled, text_of, vapix

W401, C1410 = 0, 1
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "aa": "http://www.axis.com/vapix/ws/action1",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
}
ACTION1 = NS["aa"]
PORT = "tns1:Device/tnsaxis:IO/Port"
VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
TOPIC_DIALECT = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
ITEM_DIALECT = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():
        yield running


async def served() -> AsyncIterator[Control]:
    """A W401 and a C1410 Mk II with the control API (the fixture of each rules test file)."""
    async with controlled(*SPEAKER_AND_KIT) as running:
        yield running


# -- a SOAP client (events.md §4.1: POST /vapix/services, SOAP 1.2) -------------------------------


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


async def soap(device: SimulatedDevice, body: str, auth: tuple[str, str] = ("root", "pass")) -> tuple[int, Any]:
    reply = await vapix(device.url, "/vapix/services", method="POST", data=envelope(body), auth=auth)
    return reply.status, etree.fromstring(reply.body)


async def ok(device: SimulatedDevice, body: str) -> Any:
    status, root = await soap(device, body)
    assert status == 200, etree.tostring(root)
    return root.find("s:Body", NS)[0]


async def fault(device: SimulatedDevice, body: str) -> tuple[str, Any]:
    """A refused request: (reason text, the Detail element)."""
    status, root = await soap(device, body)
    assert status == 400, etree.tostring(root)
    reason = root.findtext(".//s:Reason/s:Text", default="", namespaces=NS)
    return reason, root.find(".//s:Detail", NS)


def parameters(**values: str) -> str:
    return "<Parameters>" + "".join(f'<Parameter Name="{n}" Value="{v}"/>' for n, v in values.items()) + "</Parameters>"


async def add_action(device: SimulatedDevice, token: str, name: str = "", **values: str) -> int:
    """AddActionConfiguration as recorded (events.md §4.3)."""
    reply = await ok(
        device,
        f'<AddActionConfiguration xmlns="{ACTION1}"><NewActionConfiguration>'
        + (f"<Name>{name}</Name>" if name else "")
        + f"<TemplateToken>{token}</TemplateToken>{parameters(**values)}</NewActionConfiguration>"
        "</AddActionConfiguration>",
    )
    return int(reply.findtext("aa:ConfigurationID", namespaces=NS))


def event(tag: str, topic: str, content: str | None = None) -> str:
    """A StartEvent or Condition (events.md §4.4)."""
    text = (
        f'<MessageContent Dialect="{ITEM_DIALECT}" xmlns="http://docs.oasis-open.org/wsn/b-2">{content}</MessageContent>'
        if content is not None else ""
    )  # fmt: skip
    return (
        f'<{tag}><TopicExpression Dialect="{TOPIC_DIALECT}" xmlns="http://docs.oasis-open.org/wsn/b-2">{topic}'
        f"</TopicExpression>{text}</{tag}>"
    )


def items(**values: str) -> str:
    clauses = " and ".join(f'@Name="{n}" and @Value="{v}"' for n, v in values.items())
    return f"boolean(//SimpleItem[{clauses}])".replace('" and @Name', '"] and //SimpleItem[@Name')


def rule_body(name: str, action: int, start: str = "", conditions: str | None = None, timeout: str = "") -> str:
    return (
        f'<AddActionRule xmlns="{ACTION1}"><NewActionRule xmlns:tns1="http://www.onvif.org/ver10/topics" '
        f'xmlns:tnsaxis="http://www.axis.com/2009/event/topics"><Name>{name}</Name><Enabled>true</Enabled>{start}'
        + (f"<Conditions>{conditions}</Conditions>" if conditions is not None else "")
        + (f"<ActivationTimeout>{timeout}</ActivationTimeout>" if timeout else "")
        + f"<PrimaryAction>{action}</PrimaryAction></NewActionRule></AddActionRule>"
    )


async def add_rule(device: SimulatedDevice, name: str, action: int, **kwargs: Any) -> int:
    reply = await ok(device, rule_body(name, action, **kwargs))
    return int(reply.findtext("aa:RuleID", namespaces=NS))


async def listing(device: SimulatedDevice) -> tuple[bytes, bytes, bytes]:
    """What GetActionRules, GetActionConfigurations and GetRecipientConfigurations answer."""
    got = []
    for operation in ("GetActionRules", "GetActionConfigurations", "GetRecipientConfigurations"):
        got.append(etree.tostring(await ok(device, f'<{operation} xmlns="{ACTION1}"/>')))
    return got[0], got[1], got[2]


async def active(device: SimulatedDevice, port: int) -> str:
    """port.cgi checkactive (1-based port): what a VAPIX client sees of an output."""
    return (await text_of(device.url, f"/axis-cgi/io/port.cgi?checkactive={port}")).strip()


async def settle(predicate: Any, seconds: float = 5.0) -> None:
    """Wait (bounded) for something a task does on its own (a notification arriving)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


# -- templates (§4.2) -------------------------------------------------------------------------------


async def test_each_model_offers_the_templates_of_its_hardware(control: Control) -> None:
    tokens = {}
    for index in (W401, C1410):
        reply = await ok(control[index], f'<GetActionTemplates xmlns="{ACTION1}"/>')
        listed = reply.iter(f"{{{ACTION1}}}ActionTemplate")
        tokens[index] = {t.findtext("aa:TemplateToken", namespaces=NS) for t in listed}
    assert "com.axis.action.unlimited.io.toggle" in tokens[W401]
    assert "com.axis.action.fixed.play.audioclip" not in tokens[W401]
    assert {"com.axis.action.fixed.play.audioclip", "com.axis.action.fixed.stop.audioclip",
            "com.axis.action.fixed.sip"} <= tokens[C1410]  # fmt: skip
    assert "com.axis.action.fixed.io.toggle" not in tokens[C1410]
    for index in (W401, C1410):
        assert "com.axis.action.fixed.notification.http" in tokens[index]
    reply = await ok(control[W401], f'<GetActionTemplates xmlns="{ACTION1}"/>')
    http = next(t for t in reply.iter(f"{{{ACTION1}}}ActionTemplate")
                if t.findtext("aa:TemplateToken", namespaces=NS) == "com.axis.action.fixed.notification.http")
    assert http.findtext("aa:RecipientTemplate", namespaces=NS) == "com.axis.recipient.http"
    names = {p.get("Name") for p in http.iter(f"{{{ACTION1}}}Parameter")}
    assert {"upload_url", "login", "password", "parameters"} <= names
    recipients = await ok(control[W401], f'<GetRecipientTemplates xmlns="{ACTION1}"/>')
    assert {t.findtext("aa:TemplateToken", namespaces=NS) for t in recipients.iter(f"{{{ACTION1}}}RecipientTemplate")} \
        >= {"com.axis.recipient.http", "com.axis.recipient.https"}  # fmt: skip


# -- the manuals' worked examples -------------------------------------------------------------------


async def test_w401_lamp_toggles_while_the_rule_is_active(control: Control) -> None:
    """W401 manual, "Activate a lamp when the window is opened": Port 1 an input normally closed,
    Port 2 an output; rule "Window sensor": digital input as trigger, Toggle I/O while the rule is
    active, port Lamp, state Active."""
    w401 = control[W401]
    await text_of(w401.url, "/axis-cgi/param.cgi?action=update&IOPort.I0.Input.Name=Window%20sensor"
                  "&IOPort.I0.Input.Trig=open&IOPort.I1.Direction=output&IOPort.I1.Output.Name=Lamp"
                  "&IOPort.I1.Output.Active=closed")  # fmt: skip
    await control.event(W401, "io", "close_input", port=1)  # the window is shut: the loop is closed
    lamp = await add_action(w401, "com.axis.action.unlimited.io.toggle", port="1", state="active")
    await add_rule(w401, "Window sensor", lamp, start=event("StartEvent", PORT, items(port="0", state="1")))
    assert await active(w401, 2) == "port2=inactive"
    await control.event(W401, "io", "open_input", port=1)  # the window opens
    assert await active(w401, 2) == "port2=active"
    await control.event(W401, "io", "close_input", port=1)  # and shuts again
    assert await active(w401, 2) == "port2=inactive"
    log = await control.ok("GET", f"/devices/{W401}/events/log?topic=axisim:Rules/ActionRun")
    assert [e["data"]["name"] for e in log["events"]] == ["Window sensor"]
    system = await text_of(w401.url, "/axis-cgi/systemlog.cgi")
    assert "Action rule 'Window sensor' (1): set I/O port 1 active" in system


async def test_w401_lock_opens_for_ten_seconds_when_the_button_is_pressed(control: Control) -> None:
    """W401 manual, "Open a lock when a button is pressed": Toggle I/O once, port Lock (9), Active, 10 s."""
    w401 = control[W401]
    lock = await add_action(w401, "com.axis.action.fixed.io.toggle", port="8", state="active", duration="10")
    await add_rule(w401, "Open lock", lock, start=event("StartEvent", PORT, items(port="0", state="1")))
    await control.event(W401, "io", "close_input", port=1)
    await control.event(W401, "io", "open_input", port=1)  # the button is let go: the lock stays open
    assert await active(w401, 9) == "port9=active"
    w401.device.clock.advance(9.5)
    assert await active(w401, 9) == "port9=active"
    w401.device.clock.advance(0.6)
    assert await active(w401, 9) == "port9=inactive"


async def test_c1410_plays_a_clip_when_a_virtual_input_activates(control: Control) -> None:
    """C1410 Mk II: play an audio clip when an input activates (a virtual input here); the
    unlimited form plays while the input is active and stops when it is not."""
    speaker = control[C1410]
    clip = await add_action(speaker, "com.axis.action.fixed.play.audioclip",
                            location="%2Fetc%2Faudioclips%2Fding_dong.mp3", repeat="0", volume="100")  # fmt: skip
    await add_rule(speaker, "Play clip", clip, start=event("StartEvent", VIRTUAL_INPUT, items(port="1", active="1")))
    await text_of(speaker.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=1")
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic=tnsaxis:MediaClip/CurrentlyPlaying")
    assert [e["data"]["FileName"] for e in log["events"]] == ["ding_dong.mp3"]

    loop = await add_action(speaker, "com.axis.action.unlimited.play.audioclip",
                            location="%2Fetc%2Faudioclips%2Fabracadabra.mp3")  # fmt: skip
    await add_rule(speaker, "Alarm", loop, conditions=event("Condition", VIRTUAL_INPUT, items(port="2", active="1")))
    speaker.device.clock.advance(10)  # the first clip has ended
    await text_of(speaker.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=2")
    playing = "tnsaxis:MediaClip/Playing"
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic={playing}")
    assert log["events"][-1]["data"] == {"Playing": "1"}
    speaker.device.clock.advance(60)  # repeats while the rule is active
    await text_of(speaker.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=2")
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic={playing}")
    assert log["events"][-1]["data"] == {"Playing": "0"}


async def test_c1410_calls_a_sip_address_when_a_virtual_input_activates(control: Control) -> None:
    """"Call a SIP address when a button is pressed" (issue 19): SIP on, a rule with the SIP action."""
    speaker = control[C1410]
    call = await add_action(speaker, "com.axis.action.fixed.sip", to_sip_address="sip:guard@127.0.0.1")
    await add_rule(speaker, "Call guard", call, start=event("StartEvent", VIRTUAL_INPUT, items(port="5", active="1")))
    await text_of(speaker.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=5")  # SIP is still off
    system = await text_of(speaker.url, "/axis-cgi/systemlog.cgi")
    assert "com.axis.action.fixed.sip failed: Failed to initiate the call. SIP is disabled." in system
    await text_of(speaker.url, "/axis-cgi/param.cgi?action=update&SIP.Enabled=yes")
    await text_of(speaker.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=5")
    await text_of(speaker.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=5")
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic=tnsaxis:Call/StateChange")
    assert log["events"][0]["data"]["RemoteURI"] == "sip:guard@127.0.0.1"


async def test_w401_manual_trigger_holds_the_relay(control: Control) -> None:
    """The manual trigger "can be used to validate actions" (both manuals): a rule whose condition is
    the manual trigger's port holds the relay while the trigger is on (io/virtualinput.cgi, events.md §4.7)."""
    w401 = control[W401]
    relay = await add_action(w401, "com.axis.action.unlimited.io.toggle", port="8", state="active")
    trigger = event("Condition", "tns1:Device/tnsaxis:IO/VirtualPort", items(port="1", state="1"))
    await add_rule(w401, "Manual", relay, conditions=trigger)
    await text_of(w401.url, "/axis-cgi/io/virtualinput.cgi?action=6%3A%2F")
    assert await active(w401, 9) == "port9=active"
    await text_of(w401.url, "/axis-cgi/io/virtualinput.cgi?action=6%3A%5C")
    assert await active(w401, 9) == "port9=inactive"


async def test_activation_timeout_is_the_least_time_between_activations(control: Control) -> None:
    """"Wait between actions: the minimum time that must pass between rule activations" (both manuals);
    action1's ActivationTimeout (events.md §4.4)."""
    speaker = control[C1410]
    clip = await add_action(speaker, "com.axis.action.fixed.play.audioclip", location="camera_clicks.mp3")
    await add_rule(speaker, "Click", clip, start=event("StartEvent", VIRTUAL_INPUT, items(port="7", active="1")),
                   timeout="PT30S")  # fmt: skip

    async def press() -> None:
        await text_of(speaker.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=7&duration=0")
        speaker.device.clock.advance(2)  # the clip (1 s) has ended

    await press()
    await press()  # 2 s later: within the 30 s, nothing runs
    speaker.device.clock.advance(30)
    await press()
    log = await control.ok("GET", f"/devices/{C1410}/events/log?topic=axisim:Rules/ActionRun")
    assert len(log["events"]) == 2


async def test_a_start_event_without_a_filter_fires_on_every_change(control: Control) -> None:
    """A property start event with no MessageContent triggers on each of its events (events.md §4.4:
    the filter is optional) and holds nothing: each change runs the fixed action again."""
    w401 = control[W401]
    pulse = await add_action(w401, "com.axis.action.fixed.io.toggle", port="8", state="active", duration="1")
    await add_rule(w401, "Any virtual input", pulse, start=event("StartEvent", VIRTUAL_INPUT))
    await text_of(w401.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=9")
    await text_of(w401.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=9")
    log = await control.ok("GET", f"/devices/{W401}/events/log?topic=axisim:Rules/ActionRun")
    assert len(log["events"]) == 2
