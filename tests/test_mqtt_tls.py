"""Issue 19, MQTT over TLS, WebSocket and secure WebSocket: the protocols `configureClient` takes
(events.md §5.4 "Protocols tcp/ssl/ws/wss, default ports 1883/8883/80/443"; vapix-wire.md §5.7's
`server.protocol`, `basepath` and `ssl: {validateServerCert, CACertID, clientCertID}`), each to a
real Mosquitto listener.

The broker's certificate comes from a CA the test makes with `cryptography`. The device trusts the
CA certificates installed on it (`/config/rest/cert/v1/ca_certificates`, as the HTTPS recipient's
"validate the server certificate against certificates installed in the product"), or the one
`CACertID` names, and presents the certificate `clientCertID` names (its own key, the CA's
signature on its request). A failed connection shows in getClientStatus (state active,
connectionStatus disconnected), is written to the system log, and never holds the device up.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from axisim.simulated import SimulatedDevice
from tests.mqtt_broker import BINARY, Broker, ServerFiles, Subscriber
from tests.test_control import Control, text_of, vapix
from tests.test_mqtt import CLIENT, DEFAULT_MESSAGES, EVENT, W401, call, connection, status, until_connection
from tests.test_rules import served

CERT = "/config/rest/cert/v1"
NOW = datetime.datetime.now(datetime.UTC)
POLLS = 100  # x 0.1 s: the longest a failed attempt may take to show in the system log


class CertAuthority:
    """A CA, and the certificates it issues (the broker's for 127.0.0.1; a device's for its CSR)."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.certificate = self._sign(self.name, self.key.public_key(), ca=True)
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def _sign(self, subject: x509.Name, public_key: Any, *, ca: bool = False,
              usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:  # fmt: skip
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self.name).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(hours=1)).not_valid_after(NOW + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )  # fmt: skip
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            if usage == ExtendedKeyUsageOID.SERVER_AUTH:
                address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
                builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def server_files(self, directory: Path) -> ServerFiles:
        """The broker's certificate for 127.0.0.1 and its key, with this CA, as files."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "broker")])
        certificate = self._sign(subject, key.public_key(), usage=ExtendedKeyUsageOID.SERVER_AUTH)
        files = ServerFiles(directory / "ca.pem", directory / "broker.pem", directory / "broker.key")
        files.ca.write_bytes(self.pem)
        files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))  # fmt: skip
        return files

    def client_certificate(self, csr_pem: str) -> str:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        issued = self._sign(csr.subject, csr.public_key(), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        return issued.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():  # a W401 and a C1410 Mk II with the control API
        yield running


@pytest.fixture
def authority() -> CertAuthority:
    return CertAuthority("broker CA")


@pytest.fixture
async def broker(tmp_path: Path, authority: CertAuthority) -> AsyncIterator[Broker]:
    if BINARY is None:
        pytest.skip("the mosquitto binary is absent (Debian package mosquitto; .ci/run installs it)")
    running = Broker(tmp_path, tls=authority.server_files(tmp_path))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def rest(device: SimulatedDevice, method: str, path: str, data: Any) -> Any:
    """One Device Configuration API request as the administrator (the certificate store)."""
    reply = await vapix(device.url, path, method=method, data=json.dumps({"data": data}))
    document = json.loads(reply.body)
    assert reply.status in (200, 201) and document["status"] == "success", (reply.status, document)
    return document.get("data")


async def install_ca(device: SimulatedDevice, ca: CertAuthority, alias: str = "broker CA") -> None:
    await rest(device, "POST", f"{CERT}/ca_certificates", {"alias": alias, "certificate": ca.pem.decode()})


async def connect(device: SimulatedDevice, protocol: str, port: int, ssl: dict[str, Any] | None = None,
                  timeout: int = 60, **server: Any) -> None:  # fmt: skip
    """configureClient with the protocol and port (and the `ssl` object), then activateClient."""
    params: dict[str, Any] = {"server": {"host": "127.0.0.1", "port": port, "protocol": protocol, **server},
                              "clientId": f"{protocol}-client", "connectTimeout": timeout,
                              **DEFAULT_MESSAGES}  # fmt: skip
    if ssl is not None:
        params["ssl"] = ssl
    assert (await call(device, CLIENT, "configureClient", params))["data"] == {}
    assert (await call(device, CLIENT, "activateClient"))["data"] == {}


async def failure_logged(device: SimulatedDevice, where: str) -> str:
    """The system log line of a failed connection to `where` (bounded poll), while the device answers."""
    for _ in range(POLLS):
        log = await text_of(device.url, "/axis-cgi/systemlog.cgi")
        lines = [line for line in log.splitlines() if f"MQTT client: connection to {where} failed" in line]
        if lines:
            return lines[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no failed connection to {where} in the system log")


async def test_ssl_validates_the_broker_against_the_cas_installed_on_the_device(
    control: Control, broker: Broker, authority: CertAuthority, subscriber: Subscriber
) -> None:
    w401 = control[W401]
    port = broker.ports["ssl"]
    await connect(w401, "ssl", port, {"validateServerCert": True})
    # the broker's CA is not installed: the handshake fails, the status and the log say so
    line = await failure_logged(w401, f"ssl://127.0.0.1:{port}")
    assert "WARNING" in line and "certificate verify failed" in line
    data = await status(w401)
    assert data["status"] == {"state": "active", "connectionStatus": "disconnected"}
    assert data["config"]["ssl"] == {"validateServerCert": True}
    assert data["config"]["server"] == {"protocol": "ssl", "host": "127.0.0.1", "port": port}
    assert "Brand.Brand=AXIS" in await text_of(w401.url, "/axis-cgi/param.cgi?action=list&group=Brand.Brand")
    # the CA installed, "Save and Connect" again: the device trusts it
    await install_ca(w401, authority)
    assert (await call(w401, CLIENT, "activateClient"))["data"] == {}
    await subscriber.wait(connection(w401, True, "Connected"))
    await until_connection(w401, "connected")


async def test_ca_cert_id_names_the_one_ca_trusted(
    control: Control, broker: Broker, authority: CertAuthority, subscriber: Subscriber
) -> None:
    speaker = control[1]
    port = broker.ports["ssl"]
    await install_ca(speaker, authority)
    other = CertAuthority("another CA")
    await install_ca(speaker, other, alias="another CA")
    await connect(speaker, "ssl", port, {"validateServerCert": True, "CACertID": "another CA"})
    assert "certificate verify failed" in await failure_logged(speaker, f"ssl://127.0.0.1:{port}")
    data = await status(speaker)
    assert data["config"]["ssl"] == {"validateServerCert": True, "CACertID": "another CA"}
    assert data["status"]["connectionStatus"] == "disconnected"
    await connect(speaker, "ssl", port, {"validateServerCert": True, "CACertID": "nobody's CA"})
    assert "no CA certificate" in await failure_logged(speaker, f"ssl://127.0.0.1:{port}")
    await connect(speaker, "ssl", port, {"validateServerCert": True, "CACertID": "broker CA"})
    await subscriber.wait(connection(speaker, True, "Connected"))
    await until_connection(speaker, "connected")


async def test_ssl_without_validation_accepts_any_broker(
    control: Control, broker: Broker, subscriber: Subscriber
) -> None:
    w401 = control[W401]
    await connect(w401, "ssl", broker.ports["ssl"], {"validateServerCert": False})
    await subscriber.wait(connection(w401, True, "Connected"))
    await until_connection(w401, "connected")


async def test_websocket_and_secure_websocket_carry_the_events(
    control: Control, broker: Broker, authority: CertAuthority, subscriber: Subscriber
) -> None:
    # events.md §5.2/§5.3: an event published over ws arrives as over tcp; `basepath` is the
    # WebSocket path (a bare name gets its leading slash)
    w401 = control[W401]
    await connect(w401, "ws", broker.ports["ws"], basepath="mqtt")
    await subscriber.wait(connection(w401, True, "Connected"))
    data = await until_connection(w401, "connected")
    assert data["config"]["server"]["basepath"] == "mqtt"
    await call(w401, EVENT, "configureEventPublication",
               {"eventFilterList": [{"topicFilter": "onvif:Device/axis:IO/VirtualInput//."}]})  # fmt: skip
    await text_of(w401.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=4")
    topic = f"axis/{w401.serial}/event/tns:onvif/Device/tns:axis/IO/VirtualInput/$source/port/4"
    message = await subscriber.wait(lambda m: m.topic == topic)
    assert message.json()["message"]["data"] == {"active": "1"}
    # wss, validated against the installed CA
    await install_ca(w401, authority)
    count = len(subscriber.messages)
    await connect(w401, "wss", broker.ports["wss"], {"validateServerCert": True})
    await subscriber.wait(connection(w401, False, "Disconnected"), since=count)  # new settings: a clean reconnect
    await subscriber.wait(connection(w401, True, "Connected"), since=count)
    await text_of(w401.url, "/axis-cgi/virtualinput/deactivate.cgi?schemaversion=1&port=4")
    message = await subscriber.wait(lambda m: m.topic == topic and m.json()["message"]["data"] == {"active": "0"})
    assert (await status(w401))["config"]["server"]["protocol"] == "wss"


async def test_client_cert_id_presents_the_devices_own_certificate(
    control: Control, broker: Broker, authority: CertAuthority, subscriber: Subscriber
) -> None:
    # a broker that requires a client certificate from its CA: the device makes a key, its CSR is
    # signed by the CA, and clientCertID names it (the Certificate Management API's flow)
    w401 = control[W401]
    port = broker.ports["mtls"]
    await install_ca(w401, authority)
    # TLS 1.3: the broker refuses after the handshake, before CONNACK; the device gives up after its
    # connectTimeout (the web interface's "Connect timeout")
    await connect(w401, "ssl", port, {"validateServerCert": True}, timeout=2)
    await failure_logged(w401, f"ssl://127.0.0.1:{port}")  # no client certificate: refused
    assert (await status(w401))["status"]["connectionStatus"] == "disconnected"
    alias, subject = "mqtt client", {"subject": f"CN={w401.serial}"}
    await rest(w401, "POST", f"{CERT}/create_certificate", {"alias": alias, **subject})
    item = f"{CERT}/certificates/{quote(alias, safe='')}"
    csr = await rest(w401, "POST", f"{item}/get_csr", subject)
    await rest(w401, "PATCH", item, {"certificate": authority.client_certificate(csr)})
    await connect(w401, "ssl", port, {"validateServerCert": True, "clientCertID": alias})
    await subscriber.wait(connection(w401, True, "Connected"))
    data = await until_connection(w401, "connected")
    assert data["config"]["ssl"] == {"validateServerCert": True, "clientCertID": alias}


async def test_bad_ssl_values_are_refused_and_change_nothing(control: Control, broker: Broker) -> None:
    # the API's 2104 "Invalid parameter value specified" (vapix-wire.md §5.7 error codes)
    w401 = control[W401]
    await connect(w401, "tcp", broker.port)
    before = await until_connection(w401, "connected")
    for ssl in ({"validateServerCert": "yes"}, {"validateServerCert": True, "CACertID": 7},
                {"validateServerCert": True, "clientCertID": ["a"]}, "on"):  # fmt: skip
        params = {"server": {"host": "127.0.0.1", "protocol": "ssl"}, "ssl": ssl}
        reply = await call(w401, CLIENT, "configureClient", params)
        assert reply["error"]["code"] == 2104, (ssl, reply)
    assert await status(w401) == before
