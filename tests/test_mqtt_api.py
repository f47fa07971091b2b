"""`mqtt/client.cgi` and `mqtt/event.cgi` on the wire, without a broker: what the `axis` library
(Home Assistant's) sends and decodes, the API's errors for bad input (nothing changes), roles,
and the settings in the state directory (events.md §5.1, §5.2; vapix-wire.md §5.7)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from axis.device import AxisDevice
from axis.models.configuration import Configuration
from axis.models.mqtt import ClientConfig, Message, Server, ServerProtocol

from axisim.device import DEFAULT_ACCOUNT, AccountSpec, make_device
from axisim.persistence import StateDir
from axisim.server import start_device
from axisim.subsystems.mqtt import ClientConfig as Settings
from axisim.subsystems.mqtt import EventFilter, PublicationConfig
from axisim.subsystems.mqtt import Server as Broker
from tests.conftest import DeviceClient, DeviceClientFactory

CLIENT = "/axis-cgi/mqtt/client.cgi"
EVENT = "/axis-cgi/mqtt/event.cgi"


async def ajr(client: DeviceClient, path: str, method: str, params: Any = None, **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"apiVersion": "1.0", "context": "test", "method": method, **extra}
    if params is not None:
        document["params"] = params
    response = await client.post(path, data=json.dumps(document))
    assert response.status == 200
    return json.loads(await response.text())


def config_of(client: DeviceClient) -> Any:
    mqtt = client.device.subsystems["mqtt"]
    return mqtt.config, mqtt.publication, mqtt.active


@pytest.mark.parametrize("model", ["W401", "C1410MkII"])
async def test_clean_device_status_as_the_axis_library_reads_it(device_client: DeviceClientFactory, model: str) -> None:
    # events.md §5.1: apiVersion, context, method, state, connectionStatus, server, deviceTopicPrefix
    client = await device_client(model)
    reply = await ajr(client, CLIENT, "getClientStatus")
    # the request's version answers ("the API version that was used in the request" [DOC])
    assert reply["apiVersion"] == "1.0" and reply["context"] == "test" and reply["method"] == "getClientStatus"
    data = reply["data"]
    assert data["status"] == {"state": "inactive", "connectionStatus": "disconnected"}
    serial = client.device.serial
    assert data["config"]["deviceTopicPrefix"] == f"axis/{serial}" and data["config"]["clientId"] == f"client_{serial}"
    assert data["config"]["server"] == {"protocol": "tcp", "host": "", "port": 1883}
    publication = (await ajr(client, EVENT, "getEventPublicationConfig"))["data"]["eventPublicationConfig"]
    assert publication == {  # events.md §5.2: a clean device's reply
        "topicPrefix": "default", "customTopicPrefix": "", "appendEventTopic": True, "includeTopicNamespaces": True,
        "includeSerialNumberInPayload": False, "eventFilterList": [],
    }  # fmt: skip


async def test_models_without_mqtt_do_not_serve_it(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    response = await client.post(CLIENT, data="{}")
    assert response.status == 404


async def test_the_axis_library_configures_activates_and_reads_back() -> None:
    # the library's own requests and decoders (axis.interfaces.mqtt), over a real socket
    device = make_device("W401")
    running = await start_device(device, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as session:
            axis = AxisDevice(Configuration(session, "127.0.0.1", port=running.port, username="root", password="pass"))
            await axis.vapix.initialize()
            mqtt = axis.vapix.mqtt
            config = ClientConfig(
                Server("127.0.0.9", protocol=ServerProtocol.TCP, port=1884), client_id="ha", keep_alive_interval=30,
                last_will_testament=Message(use_default=True), username="u", password="secret",
            )  # fmt: skip
            await mqtt.configure_client(config)
            await mqtt.configure_event_publication()  # the library's default: every event (`//.`)
            status = await mqtt.get_client_status()
            assert status.status.state == "inactive"
            assert status.config.server.host == "127.0.0.9" and status.config.server.port == 1884
            assert status.config.client_id == "ha" and status.config.keep_alive_interval == 30
            assert status.config.password == "*****"  # masked [DOC]
            publication = await mqtt.get_event_publication_config()
            assert [f.topic_filter for f in publication.event_filter_list] == ["//."]
            await mqtt.activate()
            assert (await mqtt.get_client_status()).status.state == "active"
            await mqtt.deactivate()
            assert (await mqtt.get_client_status()).status.state == "inactive"
            assert device.subsystems["mqtt"].config.password == "secret"
    finally:
        await running.stop()


BAD_CLIENT = [  # (request document, the API's error code): events.md §5.1 errors [DOC]
    ({"apiVersion": "1.0", "method": "configureClient"}, 2103),  # no server
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": {}}}, 2103),  # no host
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": {"host": "h", "port": "1883"}}}, 2104),
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": {"host": "h", "port": 70000}}}, 2104),
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": {"host": "h", "protocol": "ftp"}}}, 2104),
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": "h"}}, 2104),
    ({"apiVersion": "1.0", "method": "configureClient",
      "params": {"server": {"host": "h"}, "lastWillTestament": {"useDefault": False}}}, 2103),  # no topic
    ({"apiVersion": "1.0", "method": "configureClient",
      "params": {"server": {"host": "h"}, "connectMessage": {"useDefault": False, "topic": "a/#"}}}, 2104),
    ({"apiVersion": "1.0", "method": "configureClient",
      "params": {"server": {"host": "h"}, "connectMessage": {"useDefault": True, "qos": 3}}}, 2104),
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": {"host": "h"}, "keepAliveInterval": -1}},
     2104),
    ({"apiVersion": "1.0", "method": "configureClient", "params": {"server": {"host": "h"}, "cleanSession": "yes"}},
     2104),
    ({"apiVersion": "1.0", "method": "configureClient", "params": []}, 2104),
    ({"apiVersion": "2.0", "method": "getClientStatus"}, 2100),
    ({"method": "getClientStatus"}, 2103),
    ({"apiVersion": "1.0", "method": "reboot"}, 2102),
    ({"apiVersion": "1.0"}, 2102),
]  # fmt: skip


@pytest.mark.parametrize(("document", "code"), BAD_CLIENT)
async def test_bad_client_requests_get_the_api_error_and_change_nothing(
    device_client: DeviceClientFactory, document: dict[str, Any], code: int
) -> None:
    client = await device_client("W401")
    before = config_of(client)
    response = await client.post(CLIENT, data=json.dumps(document))
    assert response.status == 200
    reply = json.loads(await response.text())
    assert reply["error"]["code"] == code, reply
    assert config_of(client) == before


BAD_EVENT = [
    ({"eventFilterList": "//."}, 2104),
    ({"eventFilterList": [{"qos": 1}]}, 2103),
    ({"eventFilterList": [{"topicFilter": "//.", "qos": 3}]}, 2104),
    ({"eventFilterList": [{"topicFilter": "//.", "retain": "always"}]}, 2104),
    ({"eventFilterList": [{"topicFilter": ""}]}, 2104),
    ({"topicPrefix": "custom"}, 2104),  # custom without a custom prefix
    ({"topicPrefix": "mine"}, 2104),
    ({"appendEventTopic": 1}, 2104),
]


@pytest.mark.parametrize(("params", "code"), BAD_EVENT)
async def test_bad_publication_settings_get_the_api_error_and_change_nothing(
    device_client: DeviceClientFactory, params: dict[str, Any], code: int
) -> None:
    client = await device_client("C1410MkII")
    await ajr(client, EVENT, "configureEventPublication", {"eventFilterList": [{"topicFilter": "//."}]})
    before = config_of(client)
    reply = await ajr(client, EVENT, "configureEventPublication", params)
    assert reply["error"]["code"] == code, reply
    assert config_of(client) == before


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"\xff\xfe", b'{"apiVersion": "1.0", "method": 5}'])
async def test_unreadable_bodies(device_client: DeviceClientFactory, body: bytes) -> None:
    client = await device_client("W401")
    for path in (CLIENT, EVENT):
        response = await client.post(path, data=body)
        assert response.status == 200
        reply = json.loads(await response.text())
        assert reply["error"]["code"] in (2101, 2102), reply


async def test_administrators_only(device_client: DeviceClientFactory) -> None:
    # vapix-wire.md §5.7: Administrator for all methods
    client = await device_client("W401", accounts=[DEFAULT_ACCOUNT, AccountSpec("op", "pw", "operator")])
    document = json.dumps({"apiVersion": "1.0", "method": "activateClient"})
    response = await client.post(CLIENT, data=document, auth=("op", "pw"))
    assert response.status == 401
    assert not client.device.subsystems["mqtt"].active


async def test_keep_existing_password_and_messages(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    server = {"host": "broker.example", "protocol": "ssl"}
    await ajr(client, CLIENT, "configureClient", {"server": server, "username": "u", "password": "p1"})
    lwt = {"useDefault": False, "topic": "site/w401/lwt", "message": "gone", "retain": True, "qos": 2}
    params = {"server": server, "username": "u", "keepExistingPassword": True, "lastWillTestament": lwt}
    reply = await ajr(client, CLIENT, "configureClient", params)
    assert reply["data"] == {}
    config = (await ajr(client, CLIENT, "getClientStatus"))["data"]["config"]
    assert config["password"] == "*****" and config["server"]["port"] == 8883  # ssl's default port
    assert config["lastWillTestament"] == lwt and "connectMessage" not in config
    assert client.device.subsystems["mqtt"].config.password == "p1"


async def test_settings_survive_a_restart_of_the_simulator(tmp_path: Any) -> None:
    async def serve() -> Any:
        device = make_device("W401")
        state = StateDir(tmp_path)
        state.load_into(device)
        running = await start_device(device, "127.0.0.1", 0, state=state)
        state.start_saving(device)
        return device, running

    device, running = await serve()
    mqtt = device.subsystems["mqtt"]
    mqtt.configure(Settings(server=Broker("127.0.0.250", 1999), client_id="kept", device_topic_prefix="site/x"))
    mqtt.configure_publication(PublicationConfig(filters=(EventFilter("onvif:Device/axis:IO//.", 1, "property"),)))
    mqtt.activate()
    await running.stop()
    device, running = await serve()
    try:
        mqtt = device.subsystems["mqtt"]
        assert mqtt.active and mqtt.config.client_id == "kept" and mqtt.config.server.port == 1999
        assert mqtt.publication.filters == (EventFilter("onvif:Device/axis:IO//.", 1, "property"),)
    finally:
        await running.stop()


BAD_SUBSCRIPTIONS = [
    ({}, 2103),
    ({"mqttFilterList": {"topicFilter": "a"}}, 2104),
    ({"mqttFilterList": [{"qos": 1}]}, 2103),
    ({"mqttFilterList": [{"topicFilter": "building/+/window/#", "isStateData": True}]}, 2104),  # [DOC] no wildcards
    ({"mqttFilterList": [{"topicFilter": "a/#/b"}]}, 2104),
    ({"mqttFilterList": [{"topicFilter": "a+"}]}, 2104),
    ({"mqttFilterList": [{"topicFilter": "a", "qos": 7}]}, 2104),
    ({"mqttFilterList": [{"topicFilter": "a", "useDeviceTopicPrefix": "yes"}]}, 2104),
]


@pytest.mark.parametrize(("params", "code"), BAD_SUBSCRIPTIONS)
async def test_bad_subscriptions_get_the_api_error_and_change_nothing(
    device_client: DeviceClientFactory, params: dict[str, Any], code: int
) -> None:
    # mqtt-event-bridge configureMqttSubscription [DOC]
    client = await device_client("W401")
    good = {"mqttFilterList": [{"topicFilter": "building/+/window/#", "qos": 1}]}
    assert (await ajr(client, EVENT, "configureMqttSubscription", good, apiVersion="1.1"))["data"] == {}
    before = client.device.subsystems["mqtt"].subscriptions
    reply = await ajr(client, EVENT, "configureMqttSubscription", params, apiVersion="1.1")
    assert reply["error"]["code"] == code, reply
    assert client.device.subsystems["mqtt"].subscriptions == before
    listed = (await ajr(client, EVENT, "getMqttSubscriptionConfig"))["data"]["mqttSubscriptionConfig"]
    assert listed == {"mqttFilterList": [{"topicFilter": "building/+/window/#", "useDeviceTopicPrefix": False,
                                          "qos": 1, "isStateData": False}]}  # fmt: skip
