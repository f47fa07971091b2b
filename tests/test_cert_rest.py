"""`/config/rest/cert/v1` and `/config/rest/crypto-policy/v1` through the wire (issue 20): JSON with
Digest, the TLS handshake seen by Python's ssl module.

Sources: developer.axis.com "Certificate Management" (device-configuration: `certificates` and
`ca_certificates` collections, create_certificate, get_csr, keystores) and "Cryptographic policy"
(policies, active_policy); the shapes and codes a recorded AXIS OS 12.11 session shows (Cacsjep/oadm:
create_certificate {alias, key_type, subject}, install_from_pkcs12 {alias, pkcs12, passphrase},
get_csr {subject} -> PEM, code 2 "Alias already exists", 1 "Resource not found", 5 "Validation
error"); the Device Configuration APIs' envelope.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from axisim.certificates import BUILTIN_ID
from axisim.simulated import DeviceSpec, SimulatedDevice
from tests.test_certificates import PREINSTALLED, Authority, cn, key_and_certificate, ok, presented
from tests.test_control import vapix

CERT = "/config/rest/cert/v1"
POLICY = "/config/rest/crypto-policy/v1"


@pytest.fixture
async def device() -> AsyncIterator[SimulatedDevice]:
    simulated = SimulatedDevice(DeviceSpec("S3008", https_port=0, seed="cert-rest"))
    await simulated.start()
    try:
        yield simulated
    finally:
        await simulated.stop()


async def rest(device: SimulatedDevice, method: str, path: str, data: Any = None) -> tuple[int, Any]:
    body = None if data is None else json.dumps({"data": data})
    reply = await vapix(device.url, path, method=method, data=body)
    return reply.status, json.loads(reply.body)


async def success(device: SimulatedDevice, method: str, path: str, data: Any = None) -> Any:
    status, document = await rest(device, method, path, data)
    assert status in (200, 201) and document["status"] == "success", (status, document)
    return document.get("data")


async def error(device: SimulatedDevice, method: str, path: str, data: Any = None) -> tuple[int, int]:
    status, document = await rest(device, method, path, data)
    assert document["status"] == "error", document
    return status, document["error"]["code"]


def aliases(listed: list[dict[str, Any]]) -> list[str]:
    return [item["alias"] for item in listed]


async def test_the_collections_list_what_soap_lists(device: SimulatedDevice) -> None:
    certificates = await success(device, "GET", f"{CERT}/certificates")
    assert aliases(certificates) == [BUILTIN_ID]
    assert set(certificates[0]) == {"alias", "certificate", "keystore"}  # never the private key
    assert x509.load_pem_x509_certificate(certificates[0]["certificate"].encode()) == await presented(device)
    assert aliases(await success(device, "GET", f"{CERT}/ca_certificates")) == PREINSTALLED
    one = await success(device, "GET", f"{CERT}/ca_certificates/{quote(PREINSTALLED[0])}")
    assert one["alias"] == PREINSTALLED[0]
    assert await success(device, "GET", f"{CERT}/settings") == {"keystore": "TEE0"}


async def test_key_csr_ca_issued_certificate_chosen_and_presented(device: SimulatedDevice) -> None:
    ca = Authority()
    alias = "site / https"  # a space and a slash: percent-encoded in the URL
    await success(device, "POST", f"{CERT}/create_certificate",
                  {"alias": alias, "key_type": "RSA-2048", "subject": "CN=gate-camera"})  # fmt: skip
    csr_pem = await success(device, "POST", f"{CERT}/certificates/{quote(alias, safe='')}/get_csr",
                            {"subject": "CN=gate-camera"})  # fmt: skip
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    issued = ca.issue(csr, "gate.site.example").public_bytes(serialization.Encoding.PEM).decode()
    # a certificate for another key is refused, and changes nothing
    _, other = key_and_certificate("other")
    before = await success(device, "GET", f"{CERT}/certificates")
    wrong = other.public_bytes(serialization.Encoding.PEM).decode()
    assert await error(device, "PATCH", f"{CERT}/certificates/{quote(alias, safe='')}", {"certificate": wrong}) == (
        400, 5
    )
    assert await success(device, "GET", f"{CERT}/certificates") == before
    await success(device, "PATCH", f"{CERT}/certificates/{quote(alias, safe='')}", {"certificate": issued})
    await success(device, "POST", f"{CERT}/ca_certificates",
                  {"alias": "site CA", "certificate": ca.pem.decode()})  # fmt: skip
    await ok(device, "<tds:SetCertificatesStatus><tds:CertificateStatus>"
                     f"<tt:CertificateID>{alias}</tt:CertificateID><tt:Status>true</tt:Status>"
                     "</tds:CertificateStatus></tds:SetCertificatesStatus>")  # fmt: skip
    assert cn(await presented(device, ca.trusting())) == "gate.site.example"
    # in use: not deleted
    assert await error(device, "DELETE", f"{CERT}/certificates/{quote(alias, safe='')}") == (400, 5)
    assert alias in aliases(await success(device, "GET", f"{CERT}/certificates"))
    await success(device, "DELETE", f"{CERT}/ca_certificates/{quote('site CA')}")
    assert aliases(await success(device, "GET", f"{CERT}/ca_certificates")) == PREINSTALLED


async def test_pkcs12_and_bad_input(device: SimulatedDevice) -> None:
    key, certificate = key_and_certificate("pfx")
    pfx = pkcs12.serialize_key_and_certificates(b"p", key, certificate, None,
                                                serialization.BestAvailableEncryption(b"secret"))  # fmt: skip
    data = {"alias": "pfx", "pkcs12": base64.b64encode(pfx).decode(), "passphrase": "wrong"}
    before = (await success(device, "GET", f"{CERT}/certificates"), device.device.certificates.to_state())
    assert await error(device, "POST", f"{CERT}/install_from_pkcs12", data) == (400, 5)
    pem_garbage = "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"
    assert await error(device, "POST", f"{CERT}/ca_certificates", {"alias": "g", "certificate": pem_garbage}) == (
        400, 5
    )
    assert await error(device, "POST", f"{CERT}/ca_certificates",
                       {"alias": "big", "certificate": "A" * 40000}) == (400, 5)  # fmt: skip
    assert await error(device, "POST", f"{CERT}/create_certificate",
                       {"alias": BUILTIN_ID, "subject": "CN=x"}) == (400, 2)  # fmt: skip
    assert await error(device, "POST", f"{CERT}/create_certificate",
                       {"alias": "k", "subject": "CN=x", "key_type": "DSA-1024"}) == (400, 5)  # fmt: skip
    assert await error(device, "GET", f"{CERT}/certificates/nobody") == (404, 1)
    assert await error(device, "DELETE", f"{CERT}/certificates/nobody") == (404, 1)
    assert (await success(device, "GET", f"{CERT}/certificates"), device.device.certificates.to_state()) == before
    await success(device, "POST", f"{CERT}/install_from_pkcs12", {**data, "passphrase": "secret"})
    assert aliases(await success(device, "GET", f"{CERT}/certificates")) == [BUILTIN_ID, "pfx"]


async def test_crypto_policy_fips_acts_on_the_next_handshake(device: SimulatedDevice) -> None:
    policies = await success(device, "GET", f"{POLICY}/policies")
    assert [p["name"] for p in policies] == ["DEFAULT", "FIPS"]
    assert await success(device, "GET", f"{POLICY}/active_policy") == "DEFAULT"
    chacha = ssl.create_default_context()
    chacha.check_hostname, chacha.verify_mode = False, ssl.CERT_NONE
    chacha.maximum_version = ssl.TLSVersion.TLSv1_2
    chacha.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
    await presented(device, chacha)
    assert await error(device, "PATCH", f"{POLICY}/active_policy", "LEGACY") == (400, 5)
    await success(device, "PATCH", f"{POLICY}/active_policy", "FIPS")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        await presented(device, chacha)
    # a factory default brings the default policy back
    assert (await vapix(device.url, "/axis-cgi/hardfactorydefault.cgi")).status == 200
    assert await device.wait_ready(10)
    await presented(device, chacha)


async def test_a_certificate_made_on_the_device_is_valid_from_the_device_clock(device: SimulatedDevice) -> None:
    """The device clock, moved as the control API moves it (`POST /devices/<d>/clock`, here its Python
    form), dates what the device makes: a self-signed certificate created after the jump, and the HTTPS
    certificate a factory default makes, start at the device's date, so a client's expiry checks can be
    tried against a device in another year."""
    device.set_clock("2031-06-01T00:00:00Z")
    await success(device, "POST", f"{CERT}/create_certificate", {"alias": "later", "subject": "CN=later"})
    made = await success(device, "GET", f"{CERT}/certificates/later")
    certificate = x509.load_pem_x509_certificate(made["certificate"].encode())
    assert certificate.not_valid_before_utc.date().isoformat() == "2031-05-31"  # five minutes before
    assert certificate.not_valid_after_utc.year > 2031
    # a factory default keeps the system time (the manuals) and makes the new HTTPS certificate from it
    assert (await vapix(device.url, "/axis-cgi/factorydefault.cgi")).status == 200
    assert await device.wait_ready(10)
    assert (await presented(device)).not_valid_before_utc.date().isoformat() == "2031-05-31"
