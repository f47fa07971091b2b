"""`POST /axis-cgi/mqtt/client.cgi` (`id=mqtt-client`) and `mqtt/event.cgi` (`id=event-mqtt-bridge`):
the MQTT client of the C1410 Mk II and W401 (events.md §5.1, §5.2; vapix-wire.md §5.7).

JSON, HTTP 200 for errors too, administrators only. client.cgi: configureClient (the whole
configuration; absent keys take their defaults, `keepExistingPassword` keeps the password),
activateClient, deactivateClient, getClientStatus (state and connection status, the password
masked), getSupportedVersions. event.cgi: configureEventPublication (absent keys keep their
value; `eventFilterList` replaces the whole list), getEventPublicationConfig,
configureMqttSubscription (`mqttFilterList`: broker topics whose messages become device events)
and getMqttSubscriptionConfig. Error codes per
the API's table [DOC]: a request that is not JSON 2101, an unknown method 2102, a missing
parameter 2103, a bad value 2104 (texts as documented). Replies carry the apiVersion of the request
when its major version is served ("the API version that was used in the request" [DOC]).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from axisim.subsystems.mqtt import (
    ClientConfig,
    EventFilter,
    Message,
    MqttError,
    MqttSubsystem,
    PublicationConfig,
    Server,
    SubscriptionFilter,
)
from param_tree import Role

from .ajr import REQUIRED, Params, ajr_call
from .api_errors import ApiError
from .request_context import device_of
from .routing import Api, Route

ERRORS = {  # the MQTT APIs' "General error codes" [DOC mqtt-event-bridge, mqtt-client-api]
    1100: "Internal error.",
    2100: "API version not supported.",
    2101: "Invalid JSON format.",
    2102: "Method not supported.",
    2103: "Required parameter missing or invalid.",
    2104: "Invalid parameter value specified.",
}
MASK = "*****"  # the password as getClientStatus shows it [DOC example]


def _mqtt(request: web.Request) -> MqttSubsystem:
    subsystem = device_of(request).subsystems[MqttSubsystem.name]  # routed only where it exists
    assert isinstance(subsystem, MqttSubsystem)
    return subsystem


def _answered(version: str) -> Any:
    """The reply's apiVersion: the request's when it names a served major version, else the device's."""

    def answered(document: dict[str, Any]) -> str:
        asked = document.get("apiVersion")
        if document.get("method") != "getSupportedVersions" and isinstance(asked, str):
            major, dot, minor = asked.partition(".")
            if dot and major == version.split(".")[0] and minor.isdigit() and len(minor) <= 3:
                return asked
        return version

    return answered


def _params(document: dict[str, Any], version: str) -> Params:
    """The request's params once its apiVersion is one this device speaks (major 1)."""
    asked = document.get("apiVersion")
    if asked is None:
        raise ApiError(2103)
    if not isinstance(asked, str) or asked.split(".")[0] != version.split(".")[0]:
        raise ApiError(2100)
    return Params.of(document, missing=2103, invalid=2104)


def _section(params: Params, key: str, default: Any = None) -> Params | None:
    value = params.values.get(key, default)
    if key not in params.values:
        if default is REQUIRED:
            raise ApiError(2103)
        return None
    if not isinstance(value, dict):
        raise ApiError(2104)
    return Params(value, 2103, 2104)


# -- client.cgi ----------------------------------------------------------------------------------


def _message(params: Params, key: str) -> Message | None:
    """A connect, disconnect or last-will object; its fields are checked even with useDefault."""
    section = _section(params, key)
    if section is None:
        return None
    use_default = section.flag("useDefault", REQUIRED)
    own = Message(
        False, section.text("topic", REQUIRED if not use_default else ""), section.text("message", ""),
        section.flag("retain", False), section.integer("qos", 0),
    )  # fmt: skip
    if own.qos not in (0, 1, 2):
        raise ApiError(2104)
    return Message() if use_default else own


def _client_config(params: Params, current: ClientConfig, serial: str) -> ClientConfig:
    server = _section(params, "server", REQUIRED)
    assert server is not None
    ssl = _section(params, "ssl")
    password = params.text("password", "")
    if params.flag("keepExistingPassword", False):
        password = current.password
    return ClientConfig(
        server=Server(
            server.text("host", REQUIRED), server.integer("port"), server.text("protocol", "tcp"),
            server.text("alpnProtocol", ""), server.text("basepath", ""),
        ),
        client_id=params.text("clientId", f"client_{serial}"),
        username=params.text("username", ""),
        password=password,
        keep_alive=params.integer("keepAliveInterval", 60),
        connect_timeout=params.integer("connectTimeout", 60),
        clean_session=params.flag("cleanSession", True),
        auto_reconnect=params.flag("autoReconnect", True),
        activate_on_reboot=params.flag("activateOnReboot", True),
        device_topic_prefix=params.text("deviceTopicPrefix", f"axis/{serial}"),
        validate_server_cert=False if ssl is None else ssl.flag("validateServerCert", False),
        ca_cert_id="" if ssl is None else ssl.text("CACertID", ""),
        client_cert_id="" if ssl is None else ssl.text("clientCertID", ""),
        http_proxy=params.text("httpProxy", ""),
        https_proxy=params.text("httpsProxy", ""),
        last_will=_message(params, "lastWillTestament"),
        connect_message=_message(params, "connectMessage"),
        disconnect_message=_message(params, "disconnectMessage"),
    )  # fmt: skip


def _message_json(message: Message) -> dict[str, Any]:
    if message.use_default:
        return {"useDefault": True}
    return {"useDefault": False, "topic": message.topic, "message": message.message, "retain": message.retain,
            "qos": message.qos}  # fmt: skip


def _config_json(config: ClientConfig) -> dict[str, Any]:
    server: dict[str, Any] = {"protocol": config.server.protocol, "host": config.server.host,
                              "port": config.server.effective_port}  # fmt: skip
    if config.server.alpn_protocol:
        server["alpnProtocol"] = config.server.alpn_protocol
    if config.server.basepath:
        server["basepath"] = config.server.basepath
    document: dict[str, Any] = {
        "activateOnReboot": config.activate_on_reboot, "server": server, "clientId": config.client_id,
        "keepAliveInterval": config.keep_alive, "connectTimeout": config.connect_timeout,
        "cleanSession": config.clean_session, "autoReconnect": config.auto_reconnect,
        "deviceTopicPrefix": config.device_topic_prefix,
    }  # fmt: skip
    if config.username:
        document["username"] = config.username
    if config.password:
        document["password"] = MASK
    for key, message in (("lastWillTestament", config.last_will), ("connectMessage", config.connect_message),
                         ("disconnectMessage", config.disconnect_message)):  # fmt: skip
        if message is not None:
            document[key] = _message_json(message)
    document["ssl"] = {"validateServerCert": config.validate_server_cert}
    if config.ca_cert_id:
        document["ssl"]["CACertID"] = config.ca_cert_id
    if config.client_cert_id:
        document["ssl"]["clientCertID"] = config.client_cert_id
    for key, value in (("httpProxy", config.http_proxy), ("httpsProxy", config.https_proxy)):
        if value:
            document[key] = value
    return document


def _client_dispatch(request: web.Request, document: dict[str, Any]) -> Any:
    mqtt = _mqtt(request)
    method = document.get("method")
    if method == "getSupportedVersions":
        return {"apiVersions": [MQTT_CLIENT.version]}
    params = _params(document, MQTT_CLIENT.version)
    if method == "configureClient":
        config = _client_config(params, mqtt.config, device_of(request).serial)
        try:
            mqtt.configure(config)
        except MqttError as exc:
            raise ApiError(2104) from exc
        return {}
    if method == "activateClient":
        mqtt.activate()
        return {}
    if method == "deactivateClient":
        mqtt.deactivate()
        return {}
    if method == "getClientStatus":
        status = {"state": "active" if mqtt.active else "inactive",
                  "connectionStatus": "connected" if mqtt.connected else "disconnected"}  # fmt: skip
        return {"status": status, "config": _config_json(mqtt.config)}
    raise ApiError(2102)


async def client_cgi(request: web.Request) -> web.Response:
    return await ajr_call(
        request, MQTT_CLIENT.version, ERRORS, 2101, lambda doc: _client_dispatch(request, doc),
        answered=_answered(MQTT_CLIENT.version),
    )  # fmt: skip


# -- event.cgi -----------------------------------------------------------------------------------


def _filters(params: Params) -> tuple[EventFilter, ...] | None:
    raw = params.values.get("eventFilterList")
    if "eventFilterList" not in params.values:
        return None
    if not isinstance(raw, list):
        raise ApiError(2104)
    filters = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(2104)
        entry = Params(item, 2103, 2104)
        filters.append(EventFilter(entry.text("topicFilter", REQUIRED), entry.integer("qos", 0),
                                   entry.text("retain", "none")))  # fmt: skip
    return tuple(filters)


def _subscriptions(params: Params) -> tuple[SubscriptionFilter, ...]:
    raw = params.values.get("mqttFilterList")
    if "mqttFilterList" not in params.values:
        raise ApiError(2103)
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ApiError(2104)
    entries = [Params(item, 2103, 2104) for item in raw]
    return tuple(
        SubscriptionFilter(
            entry.text("topicFilter", REQUIRED), entry.flag("useDeviceTopicPrefix", False), entry.integer("qos", 0),
            entry.flag("isStateData", False),
        )
        for entry in entries
    )


def _subscriptions_json(filters: tuple[SubscriptionFilter, ...]) -> dict[str, Any]:
    return {"mqttFilterList": [
        {"topicFilter": f.topic_filter, "useDeviceTopicPrefix": f.use_device_prefix, "qos": f.qos,
         "isStateData": f.is_state_data}
        for f in filters
    ]}  # fmt: skip


def _publication(params: Params, current: PublicationConfig) -> PublicationConfig:
    filters = _filters(params)
    return replace(
        current,
        topic_prefix=params.text("topicPrefix", current.topic_prefix),
        custom_topic_prefix=params.text("customTopicPrefix", current.custom_topic_prefix),
        append_event_topic=params.flag("appendEventTopic", current.append_event_topic),
        include_topic_namespaces=params.flag("includeTopicNamespaces", current.include_topic_namespaces),
        include_serial_number=params.flag("includeSerialNumberInPayload", current.include_serial_number),
        filters=current.filters if filters is None else filters,
    )


def _publication_json(config: PublicationConfig) -> dict[str, Any]:
    return {
        "topicPrefix": config.topic_prefix, "customTopicPrefix": config.custom_topic_prefix,
        "appendEventTopic": config.append_event_topic, "includeTopicNamespaces": config.include_topic_namespaces,
        "includeSerialNumberInPayload": config.include_serial_number,
        "eventFilterList": [{"topicFilter": f.topic_filter, "qos": f.qos, "retain": f.retain} for f in config.filters],
    }  # fmt: skip


def _event_dispatch(request: web.Request, document: dict[str, Any]) -> Any:
    mqtt = _mqtt(request)
    method = document.get("method")
    if method == "getSupportedVersions":
        return {"apiVersions": [EVENT_BRIDGE.version]}
    params = _params(document, EVENT_BRIDGE.version)
    if method == "configureEventPublication":
        try:
            mqtt.configure_publication(_publication(params, mqtt.publication))
        except MqttError as exc:
            raise ApiError(2104) from exc
        return {}
    if method == "getEventPublicationConfig":
        return {"eventPublicationConfig": _publication_json(mqtt.publication)}
    if method == "configureMqttSubscription":
        try:
            mqtt.configure_subscriptions(_subscriptions(params))
        except MqttError as exc:
            raise ApiError(2104) from exc
        return {}
    if method == "getMqttSubscriptionConfig":
        return {"mqttSubscriptionConfig": _subscriptions_json(mqtt.subscriptions)}
    raise ApiError(2102)


async def event_cgi(request: web.Request) -> web.Response:
    return await ajr_call(
        request, EVENT_BRIDGE.version, ERRORS, 2101, lambda doc: _event_dispatch(request, doc),
        answered=_answered(EVENT_BRIDGE.version),
    )  # fmt: skip


ROUTES = [
    Route("/axis-cgi/mqtt/client.cgi", client_cgi, Role.ADMIN, ("POST",), MqttSubsystem.name),
    Route("/axis-cgi/mqtt/event.cgi", event_cgi, Role.ADMIN, ("POST",), MqttSubsystem.name),
]
# versions: vapix-wire.md §5.1's AXIS OS 12 discovery lists (mqtt-client 1.6, event-mqtt-bridge 1.2)
MQTT_CLIENT = Api("mqtt-client", "1.6", "MQTT Client API", paths=("/axis-cgi/mqtt/client.cgi",))
EVENT_BRIDGE = Api("event-mqtt-bridge", "1.2", "MQTT Event Bridge", paths=("/axis-cgi/mqtt/event.cgi",))
APIS = [MQTT_CLIENT, EVENT_BRIDGE]
