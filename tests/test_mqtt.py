"""Issue 19, MQTT: a W401 and a C1410 Mk II publish to a real Mosquitto broker.

Configured through `mqtt/client.cgi` and `mqtt/event.cgi` as the manuals' "Set up the MQTT client"
steps describe (host, client ID, protocol, port; Save and Connect), triggered through the control
API, observed by an MQTT subscriber: the connect message, the event message whose payload the
`axis` library (Home Assistant's) decodes, the last will on a dropped connection, a reconnect after
the broker restarts. Wire formats: events.md §5.1-5.4, vapix-wire.md §5.7.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import pytest
from axis.interfaces.mqtt import mqtt_json_to_event

from axisim.mqtt_link import publish
from axisim.simulated import SimulatedDevice
from tests.mqtt_broker import Broker, Received, Subscriber
from tests.test_control import Control, controlled, vapix
from tests.test_rules import VIRTUAL_INPUT, add_action, add_rule, event, items, served, text_of

W401, C1410 = 0, 1
CLIENT = "/axis-cgi/mqtt/client.cgi"
EVENT = "/axis-cgi/mqtt/event.cgi"
CLIENT_STATUS = "tns1:Device/tnsaxis:MQTT/ClientStatus"
POLLS = 100  # x 0.1 s: the longest a state change may take to show


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():  # a W401 and a C1410 Mk II with the control API
        yield running


async def call(device: SimulatedDevice, path: str, method: str, params: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:  # fmt: skip
    """One AJR request as the administrator (apiVersion 1.0 and context as the axis library sends)."""
    document: dict[str, Any] = {"apiVersion": "1.0", "context": "Axis library", "method": method, **extra}
    if params is not None:
        document["params"] = params
    reply = await vapix(device.url, path, method="POST", data=json.dumps(document))
    assert reply.status == 200, reply.text
    return reply.json()


async def status(device: SimulatedDevice) -> dict[str, Any]:
    return (await call(device, CLIENT, "getClientStatus"))["data"]


async def until_connection(device: SimulatedDevice, wanted: str) -> dict[str, Any]:
    """getClientStatus until `connectionStatus` is `wanted` (bounded)."""
    for _ in range(POLLS):
        data = await status(device)
        if data["status"]["connectionStatus"] == wanted:
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"connectionStatus never became {wanted}: {data}")


DEFAULT_MESSAGES = {  # the web interface's "Send message" and "Use default" switches, on as it shows them
    "connectMessage": {"useDefault": True}, "disconnectMessage": {"useDefault": True},
    "lastWillTestament": {"useDefault": True},
}  # fmt: skip


async def set_up(device: SimulatedDevice, broker: Broker, client_id: str = "Port 1", **more: Any) -> None:
    """The manual's steps: Host, Client ID, Protocol, Port; Save and Connect."""
    params = {"server": {"host": "127.0.0.1", "port": broker.port, "protocol": "tcp"}, "clientId": client_id,
              **DEFAULT_MESSAGES, **more}  # fmt: skip
    assert (await call(device, CLIENT, "configureClient", params))["data"] == {}
    assert (await call(device, CLIENT, "activateClient"))["data"] == {}


def connection(device: SimulatedDevice, connected: bool, description: str) -> Any:
    """A predicate for the §5.4 default connection message on `axis/<SERIAL>/event/connection`."""

    def matches(message: Received) -> bool:
        if message.topic != f"axis/{device.serial}/event/connection":
            return False
        payload = message.json()
        return payload["connected"] is connected and payload["description"] == description

    return matches


# -- connect, publish -----------------------------------------------------------------------------------


async def test_connect_message_and_status(control: Control, broker: Broker, subscriber: Subscriber) -> None:
    # events.md §5.1 (getClientStatus), §5.4 (the default connect message, retained, QoS 1)
    w401 = control[W401]
    await set_up(w401, broker)
    hello = await subscriber.wait(connection(w401, True, "Connected"))
    payload = hello.json()
    assert payload["serialNumber"] == w401.serial
    assert time.strptime(payload["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    data = await until_connection(w401, "connected")
    assert data["status"]["state"] == "active"
    config = data["config"]
    assert config["server"] == {"protocol": "tcp", "host": "127.0.0.1", "port": broker.port}
    assert config["clientId"] == "Port 1" and config["deviceTopicPrefix"] == f"axis/{w401.serial}"
    assert config["lastWillTestament"] == {"useDefault": True}
    log = await control.ok("GET", f"/devices/{W401}/events/log")
    statuses = [e["data"] for e in log["events"] if e["topic"] == CLIENT_STATUS]
    assert {"active": "1", "connected": "1"} in statuses  # events.md §1.5, published on connect


async def test_closed_input_arrives_as_home_assistant_decodes_it(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # events.md §5.2 (filters), §5.3 (topic, payload); the axis library's decoder is HA's
    w401 = control[W401]
    await set_up(w401, broker)
    await until_connection(w401, "connected")
    reply = await call(w401, EVENT, "configureEventPublication",
                       {"eventFilterList": [{"topicFilter": "onvif:Device/axis:IO/Port//.", "qos": 1}]})  # fmt: skip
    assert reply["data"] == {}
    await control.event(W401, "io", "close_input", port=1)
    topic = f"axis/{w401.serial}/event/tns:onvif/Device/tns:axis/IO/Port/$source/port/0"
    message = await subscriber.wait(lambda m: m.topic == topic and m.json()["message"]["data"] == {"state": "1"})
    payload = message.json()
    assert payload["topic"] == "onvif:Device/axis:IO/Port" and isinstance(payload["timestamp"], int)
    assert payload["message"] == {"source": {"port": "0"}, "key": {}, "data": {"state": "1"}}
    assert mqtt_json_to_event(message.payload) == {
        "topic": "tns1:Device/tnsaxis:IO/Port", "source": "port", "source_idx": "0", "type": "state", "value": "1",
    }  # fmt: skip
    assert not message.retain  # retain "none", the default


async def test_filters_select_events_and_retain_property(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # events.md §5.2: the list is replaced as a whole; retain "property" retains states only
    speaker = control[C1410]
    await set_up(speaker, broker, client_id="speaker")
    await until_connection(speaker, "connected")
    await call(speaker, EVENT, "configureEventPublication",
               {"eventFilterList": [{"topicFilter": "onvif:Device/axis:IO/VirtualInput//.", "retain": "property"}],
                "includeSerialNumberInPayload": True})  # fmt: skip
    config = (await call(speaker, EVENT, "getEventPublicationConfig"))["data"]["eventPublicationConfig"]
    assert config["eventFilterList"] == [
        {"topicFilter": "onvif:Device/axis:IO/VirtualInput//.", "qos": 0, "retain": "property"}
    ]
    reply = await vapix(speaker.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=3")
    assert reply.status == 200
    topic = f"axis/{speaker.serial}/event/tns:onvif/Device/tns:axis/IO/VirtualInput/$source/port/3"
    message = await subscriber.wait(lambda m: m.topic == topic and m.json()["message"]["data"] == {"active": "1"})
    assert message.json()["serialNumber"] == speaker.serial
    # the retained state: a new subscriber gets it first
    late = Subscriber(broker.port)
    await late.start()
    try:
        again = await late.wait(lambda m: m.topic == topic)
        assert again.retain and again.json()["message"]["data"] == {"active": "1"}
    finally:
        await late.stop()
    await call(speaker, EVENT, "configureEventPublication", {"eventFilterList": []})
    config = (await call(speaker, EVENT, "getEventPublicationConfig"))["data"]["eventPublicationConfig"]
    assert config["eventFilterList"] == [] and config["includeSerialNumberInPayload"] is True


# -- disconnect, last will, reconnect -------------------------------------------------------------------


async def test_deactivate_sends_the_disconnect_message(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # events.md §5.4: a manual disconnect sends "Disconnected"; the broker keeps the will to itself
    w401 = control[W401]
    await set_up(w401, broker)
    await subscriber.wait(connection(w401, True, "Connected"))
    await call(w401, CLIENT, "deactivateClient")
    await subscriber.wait(connection(w401, False, "Disconnected"))
    data = await until_connection(w401, "disconnected")
    assert data["status"]["state"] == "inactive"
    await asyncio.sleep(0.3)
    assert not any(connection(w401, False, "Connection Lost")(m) for m in subscriber.messages)


async def test_unreachable_broker_fault_sends_the_last_will_and_recovers(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # events.md §5.4: the last will (timestamp null) when the connection drops without a word
    w401 = control[W401]
    await set_up(w401, broker)
    await subscriber.wait(connection(w401, True, "Connected"))
    fault = await control.add_fault(W401, kind="mqtt")
    will = await subscriber.wait(connection(w401, False, "Connection Lost"))
    assert will.json()["timestamp"] is None and will.json()["serialNumber"] == w401.serial
    data = await until_connection(w401, "disconnected")
    assert data["status"]["state"] == "active"  # still wants to connect
    count = len(subscriber.messages)
    await control.ok("DELETE", f"/devices/{W401}/faults/{fault['id']}")
    await subscriber.wait(connection(w401, True, "Connected"), since=count)
    await until_connection(w401, "connected")


async def test_power_cut_sends_the_last_will_and_power_back_the_connect_message(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # events.md §5.4: the will is the broker's word for a device gone without DISCONNECT; the W401
    # loses its DC supply and PoE (the control API's power stimuli), then the supply returns
    w401 = control[W401]
    await set_up(w401, broker)
    await subscriber.wait(connection(w401, True, "Connected"))
    count = len(subscriber.messages)
    await control.event(W401, "power", "cable", connected=True, poe=False)
    await control.event(W401, "power", "dc", connected=False)
    will = await subscriber.wait(connection(w401, False, "Connection Lost"), since=count)
    assert will.json()["timestamp"] is None
    assert not any(connection(w401, False, "Disconnected")(m) for m in subscriber.messages[count:])
    count = len(subscriber.messages)
    await control.event(W401, "power", "dc", connected=True)
    assert await w401.wait_ready(30)
    hello = await subscriber.wait(connection(w401, True, "Connected"), since=count)
    assert hello.json()["timestamp"] is not None
    await until_connection(w401, "connected")


async def test_off_the_network_sends_the_last_will_and_back_the_connect_message(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # the control API's offline: the device runs on, its network is gone (listeners and the broker)
    speaker = control[C1410]
    await set_up(speaker, broker, client_id="speaker")
    await subscriber.wait(connection(speaker, True, "Connected"))
    count = len(subscriber.messages)
    await control.ok("POST", f"/devices/{C1410}/offline")
    await subscriber.wait(connection(speaker, False, "Connection Lost"), since=count)
    assert not speaker.device.subsystems["mqtt"].connected
    count = len(subscriber.messages)
    await control.ok("POST", f"/devices/{C1410}/online")
    await subscriber.wait(connection(speaker, True, "Connected"), since=count)
    data = await until_connection(speaker, "connected")
    assert data["status"]["state"] == "active"


async def test_reconnects_after_the_broker_restarts(control: Control, broker: Broker) -> None:
    # the client's autoReconnect (default true) with backoff, bounded here to the test's polls
    w401 = control[W401]
    await set_up(w401, broker)
    await until_connection(w401, "connected")
    await broker.stop()
    await until_connection(w401, "disconnected")
    await broker.start()
    listening = Subscriber(broker.port)
    await listening.start()
    try:
        await until_connection(w401, "connected")
        await listening.wait(connection(w401, True, "Connected"))
    finally:
        await listening.stop()


async def test_restart_sends_the_last_will_then_reconnects_and_factory_default_forgets(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # a restart takes the device's network down under its client: the broker publishes the will
    # (events.md §5.4: the disconnect message is the manual disconnect's); once booted it connects
    w401 = control[W401]
    await set_up(w401, broker)
    await subscriber.wait(connection(w401, True, "Connected"))
    count = len(subscriber.messages)
    await vapix(w401.url, "/axis-cgi/restart.cgi")
    await subscriber.wait(connection(w401, False, "Connection Lost"), since=count)
    assert await w401.wait_ready(30)
    await subscriber.wait(connection(w401, True, "Connected"), since=count)
    assert not any(connection(w401, False, "Disconnected")(m) for m in subscriber.messages[count:])
    count = len(subscriber.messages)
    await vapix(w401.url, "/axis-cgi/factorydefault.cgi")
    await subscriber.wait(connection(w401, False, "Connection Lost"), since=count)
    assert await w401.wait_ready(30)
    mqtt = w401.device.subsystems["mqtt"]
    assert not mqtt.active and mqtt.config.server.host == ""


async def test_stopping_the_simulator_disconnects_cleanly(broker: Broker, subscriber: Subscriber) -> None:
    # a clean shutdown is the client's own disconnect: the disconnect message, and no will
    async with controlled("W401") as running:
        w401 = running[0]
        await set_up(w401, broker)
        await subscriber.wait(connection(w401, True, "Connected"))
        count = len(subscriber.messages)
    await subscriber.wait(connection(w401, False, "Disconnected"), since=count)
    await asyncio.sleep(0.3)
    assert not any(connection(w401, False, "Connection Lost")(m) for m in subscriber.messages[count:])


# -- subscriptions: broker messages become device events ------------------------------------------------


async def test_w401_subscription_turns_the_cameras_message_into_an_event(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # the W401 manual's "Activate the Body Worn Activation Kit over MQTT when camera detects motion":
    # subscription filter Motion, type Stateful; the camera publishes Motion = On / Off
    w401 = control[W401]
    await set_up(w401, broker)
    reply = await call(w401, EVENT, "configureMqttSubscription",
                       {"mqttFilterList": [{"topicFilter": "Motion", "isStateData": True, "qos": 1},
                                           {"topicFilter": "doors/+/opened"}]}, apiVersion="1.1")  # fmt: skip
    assert reply["data"] == {} and reply["apiVersion"] == "1.1"
    config = (await call(w401, EVENT, "getMqttSubscriptionConfig"))["data"]["mqttSubscriptionConfig"]
    assert config["mqttFilterList"][0] == {"topicFilter": "Motion", "useDeviceTopicPrefix": False, "qos": 1,
                                           "isStateData": True}  # fmt: skip
    await until_connection(w401, "connected")
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="Camera 1") as camera:
        async with w401.expect_event("tnsaxis:MQTT/Message/Stateful", timeout=10) as seen:
            await camera.publish("Motion", b"On", qos=1)
        assert seen.event.source == {"device-prefix": "0", "mqtt-topic": "Motion"}
        assert seen.event.data == {"mqtt-payload": "On"} and seen.event.stateful
        async with w401.expect_event("tnsaxis:MQTT/Message/Stateless", timeout=10) as pulse:
            await camera.publish("doors/7/opened", b"1")
        assert pulse.event.source["mqtt-topic"] == "doors/7/opened" and not pulse.event.stateful
    states = {(e.topic, e.source.get("mqtt-topic")): e.data for e in w401.device.event_states()}
    assert states[("tnsaxis:MQTT/Message/Stateful", "Motion")] == {"mqtt-payload": "On"}


async def test_the_publish_seam_sends_through_the_devices_client(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # what the rules' "MQTT publish" action will call (the W401 manual's camera rule: Topic Motion, Payload On)
    speaker = control[C1410]
    assert not publish(speaker.device, "Motion", "On")  # not connected: dropped, and said so
    await set_up(speaker, broker, client_id="Camera 1")
    await until_connection(speaker, "connected")
    assert publish(speaker.device, "Motion", "On", qos=1)
    message = await subscriber.wait(lambda m: m.topic == "Motion")
    assert message.payload == b"On"
    assert not publish(control.fleet[W401].device, "Motion", "On")  # its client is inactive


async def test_a_rules_mqtt_publish_action_reaches_the_broker(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    # issue 19: "publish events over MQTT" as a rule's action (events.md §4.3 action configurations;
    # the W401 manual's "Send a message to an MQTT broker" example: Topic and Payload of the action)
    w401 = control[W401]
    action = await add_action(w401, "com.axis.action.fixed.mqttpublish", Topic="site/door", Payload="opened", QoS="1")
    await add_rule(w401, "Door to MQTT", action, start=event("StartEvent", VIRTUAL_INPUT, items(port="1", active="1")))
    await set_up(w401, broker)
    await until_connection(w401, "connected")
    await text_of(w401.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=1")
    message = await subscriber.wait(lambda m: m.topic == "site/door")
    assert message.payload == b"opened"
    log = await control.ok("GET", f"/devices/{W401}/events/log?topic=axisim:Rules/ActionRun")
    assert log["events"][-1]["data"]["action"] == "com.axis.action.fixed.mqttpublish"
