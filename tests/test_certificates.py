"""Certificate management through the wire (issue 20): SOAP on /vapix/services with Digest, and the
HTTPS listener's TLS handshake seen by Python's ssl module.

Sources: developer.axis.com "Certificate management API" (CreateCertificate2 on /vapix/services,
"Set HTTPS certificate": SetWebServerTlsConfiguration); the ONVIF device service's certificate
operations (GetCertificates, CreateCertificate, GetPkcs10Request, LoadCertificates,
LoadCertificateWithPrivateKey, LoadCACertificates, DeleteCertificates, Get/SetCertificatesStatus)
and their faults; recorded AXIS OS 12.11 replies (GetCertificatesStatus, GetCertSet WebServer,
ListCertSets); manual AXIS OS 12.6 Security > Certificates ("If you reset the device to factory
default, all certificates are deleted. Any pre-installed CA certificates are reinstalled.") and
Network > HTTPS ("Certificate: Select a certificate to enable HTTPS").
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree

from axisim.certificates import BUILTIN_ID
from axisim.simulated import DeviceSpec, SimulatedDevice
from tests.test_control import vapix

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "acert": "http://www.axis.com/vapix/ws/cert",
    "acertificates": "http://www.axis.com/vapix/ws/certificates",
    "aweb": "http://www.axis.com/vapix/ws/webserver",
}
DECLARE = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items() if p != "s")
PREINSTALLED = ["Axis device ID Root CA ECC", "Axis device ID Root CA RSA"]
NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
async def device() -> AsyncIterator[SimulatedDevice]:
    simulated = SimulatedDevice(DeviceSpec("S3008", https_port=0, seed="certificates"))
    await simulated.start()
    try:
        yield simulated
    finally:
        await simulated.stop()


# -- clients: SOAP with Digest, and a TLS handshake ------------------------------------------------


async def soap(device: SimulatedDevice, body: str, auth: tuple[str, str] = ("root", "pass")) -> tuple[int, Any]:
    document = (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{NS["s"]}" {DECLARE}>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )
    reply = await vapix(device.url, "/vapix/services", method="POST", data=document, auth=auth)
    return reply.status, etree.fromstring(reply.body)


async def ok(device: SimulatedDevice, body: str) -> Any:
    status, reply = await soap(device, body)
    assert status == 200, etree.tostring(reply)
    return reply


async def fault(device: SimulatedDevice, body: str) -> list[str]:
    """The fault's Code, Subcode... values (the request must be refused with HTTP 400)."""
    status, reply = await soap(device, body)
    assert status == 400, etree.tostring(reply)
    return [value.text for value in reply.iterfind(".//s:Code//s:Value", NS)]


def ids(reply: Any, path: str) -> list[str]:
    return [node.text for node in reply.iterfind(path, NS)]


async def listed(device: SimulatedDevice) -> tuple[list[str], list[str]]:
    certificates = ids(await ok(device, "<tds:GetCertificates/>"), ".//tds:NvtCertificate/tt:CertificateID")
    cas = ids(await ok(device, "<tds:GetCACertificates/>"), ".//tds:CACertificate/tt:CertificateID")
    return certificates, cas


async def presented(device: SimulatedDevice, context: ssl.SSLContext | None = None) -> x509.Certificate:
    """The certificate a fresh TLS handshake with the HTTPS listener presents."""
    assert device.https_url is not None
    port = int(device.https_url.rsplit(":", 1)[1])
    if context is None:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="127.0.0.1"), 5
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
    return x509.load_der_x509_certificate(der)


def cn(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- a test CA (made here, with cryptography) -------------------------------------------------------


class Authority:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "axisim test CA")])
        self.name = name
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, csr: x509.CertificateSigningRequest, cn_: str) -> x509.Certificate:
        """A server certificate for the request's key: CN and SAN 127.0.0.1, serverAuth."""
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn_)]))
            .issuer_name(self.name).public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(hours=1)).not_valid_after(NOW + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip

    def trusting(self) -> ssl.SSLContext:
        """A client that trusts this CA only, and checks the host name (the address) too."""
        return ssl.create_default_context(cadata=self.pem.decode())


def key_and_certificate(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, certificate


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def key_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )  # PKCS#1, as the manual lists


# -- the tests ----------------------------------------------------------------------------------------


async def test_a_new_device_lists_its_https_certificate_and_the_preinstalled_cas(device: SimulatedDevice) -> None:
    certificates, cas = await listed(device)
    assert certificates == [BUILTIN_ID]
    assert cas == PREINSTALLED
    status = await ok(device, "<tds:GetCertificatesStatus/>")  # recorded 12.11 shape
    assert ids(status, ".//tds:CertificateStatus/tt:Status") == ["true"]
    web = await ok(device, "<aweb:GetWebServerTlsConfiguration/>")
    assert ids(web, ".//aweb:CertificateSet/acert:Certificates/acert:Id") == [BUILTIN_ID]
    assert ids(web, ".//aweb:Configuration/aweb:Tls") == ["true"]
    assert "CHACHA20" in "".join(ids(web, ".//aweb:Ciphers/acert:Cipher"))
    # what is listed is what the handshake presents
    data = ids(await ok(device, "<tds:GetCertificates/>"), ".//tt:Data")[0]
    assert der(await presented(device)) == base64.b64decode(data)
    sets = await ok(device, "<acertificates:ListCertSets/>")
    assert "WebServer" in ids(sets, ".//acert:CertSetNames")
    web_set = await ok(device, "<acertificates:GetCertSet><acertificates:CertSetName>WebServer"
                               "</acertificates:CertSetName></acertificates:GetCertSet>")  # fmt: skip
    assert ids(web_set, ".//acert:Certificates/acert:Id") == [BUILTIN_ID]


async def test_a_ca_issued_certificate_chosen_is_what_the_next_handshake_presents(device: SimulatedDevice) -> None:
    ca = Authority()
    # a key made on the device, its signing request, the CA's certificate for it (ONVIF CSR flow)
    await ok(device, "<tds:CreateCertificate><tds:CertificateID>site</tds:CertificateID>"
                     "<tds:Subject>CN=gate-camera,O=Site</tds:Subject></tds:CreateCertificate>")  # fmt: skip
    reply = await ok(device, "<tds:GetPkcs10Request><tds:CertificateID>site</tds:CertificateID>"
                             "</tds:GetPkcs10Request>")  # fmt: skip
    csr = x509.load_der_x509_csr(base64.b64decode(ids(reply, ".//tds:Pkcs10Request/tt:Data")[0]))
    assert csr.is_signature_valid and cn_of_name(csr.subject) == "gate-camera"
    issued = ca.issue(csr, "gate-camera.site.example")
    await ok(device, f"<tds:LoadCertificates><tds:NVTCertificate><tt:CertificateID>site</tt:CertificateID>"
                     f"<tt:Certificate><tt:Data>{b64(der(issued))}</tt:Data></tt:Certificate>"
                     f"</tds:NVTCertificate></tds:LoadCertificates>")  # fmt: skip
    await ok(device, f"<tds:LoadCACertificates><tds:CACertificate><tt:CertificateID>site CA</tt:CertificateID>"
                     f"<tt:Certificate><tt:Data>{b64(der(ca.certificate))}</tt:Data></tt:Certificate>"
                     f"</tds:CACertificate></tds:LoadCACertificates>")  # fmt: skip
    with pytest.raises(ssl.SSLCertVerificationError):  # still the self-signed one
        await presented(device, ca.trusting())
    # a connection opened before the switch goes on answering with what it had
    assert device.https_url is not None
    port = int(device.https_url.rsplit(":", 1)[1])
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=insecure, server_hostname="127.0.0.1")
    before = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    # "Set HTTPS certificate" (Certificate management API)
    await ok(device, "<aweb:SetWebServerTlsConfiguration><aweb:Configuration><aweb:Tls>true</aweb:Tls>"
                     "<aweb:ConnectionPolicies><aweb:Admin>HttpAndHttps</aweb:Admin></aweb:ConnectionPolicies>"
                     "<aweb:CertificateSet><acert:Certificates><acert:Id>site</acert:Id></acert:Certificates>"
                     "<acert:CACertificates></acert:CACertificates></aweb:CertificateSet>"
                     "</aweb:Configuration></aweb:SetWebServerTlsConfiguration>")  # fmt: skip
    verified = await presented(device, ca.trusting())  # verifies the chain and 127.0.0.1 against the SAN
    assert cn(verified) == "gate-camera.site.example"
    assert verified.issuer == ca.name
    writer.write(b"GET /axis-cgi/systemready.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    assert answer.startswith(b"HTTP/1.1 ") and writer.get_extra_info("ssl_object").getpeercert(True) == before
    writer.close()
    status = await ok(device, "<tds:GetCertificatesStatus/>")
    assert dict(zip(ids(status, ".//tt:CertificateID"), ids(status, ".//tt:Status"), strict=True)) == {
        BUILTIN_ID: "false", "site": "true"
    }
    # the certificate in use cannot be deleted; the refusal changes nothing
    before_delete = await listed(device)
    codes = await fault(device, "<tds:DeleteCertificates><tds:CertificateID>site</tds:CertificateID>"
                                "</tds:DeleteCertificates>")  # fmt: skip
    assert codes == ["SOAP-ENV:Receiver", "ter:Action", "ter:CertificateInUse"]
    assert await listed(device) == before_delete
    assert cn(await presented(device, ca.trusting())) == "gate-camera.site.example"
    # the one not in use can go
    await ok(device, f"<tds:DeleteCertificates><tds:CertificateID>{BUILTIN_ID}</tds:CertificateID>"
                     "</tds:DeleteCertificates>")  # fmt: skip
    assert (await listed(device))[0] == ["site"]
    # factory default: all certificates deleted, the pre-installed CAs back, HTTPS on a new self-signed one
    reply_ = await vapix(device.url, "/axis-cgi/hardfactorydefault.cgi")
    assert reply_.status == 200
    assert await device.wait_ready(10)
    fresh = await presented(device)
    assert fresh.issuer == fresh.subject and der(fresh) != der(verified)
    assert cn(fresh) == device.device.hostname
    created = await vapix(device.url, "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=pass&grp=root"
                                      "&sgrp=admin:operator:viewer:ptz", auth=None)  # fmt: skip
    assert created.status == 200
    assert await listed(device) == ([BUILTIN_ID], PREINSTALLED)


def cn_of_name(name: x509.Name) -> str:
    return str(name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


async def test_create_certificate2_makes_a_self_signed_certificate_of_the_key_type(device: SimulatedDevice) -> None:
    # Certificate management API, "Create self-signed certificate" (the documented request)
    reply = await ok(device, (
        "<acertificates:CreateCertificate2><acertificates:Id>Certificate_ID</acertificates:Id>"
        "<acertificates:Subject><acert:C>SE</acert:C><acert:ST/><acert:L/><acert:O/><acert:OU/>"
        "<acert:CN>172.25.154.47</acert:CN></acertificates:Subject>"
        "<acertificates:ValidNotBefore>2020-10-16T04:08:32</acertificates:ValidNotBefore>"
        "<acertificates:ValidNotAfter>2040-10-16T04:08:32</acertificates:ValidNotAfter></acertificates:CreateCertificate2>"
    ))  # fmt: skip
    made = x509.load_der_x509_certificate(base64.b64decode(ids(reply, ".//acertificates:Certificate")[0]))
    assert cn(made) == "172.25.154.47" and made.issuer == made.subject
    assert made.not_valid_before_utc == datetime.datetime(2020, 10, 16, 4, 8, 32, tzinfo=datetime.UTC)
    assert isinstance(made.public_key(), ec.EllipticCurvePublicKey)
    await ok(device, "<acertificates:CreateCertificate2><acertificates:Id>big</acertificates:Id>"
                     "<acertificates:Subject><acert:CN>big</acert:CN></acertificates:Subject>"
                     "<acertificates:KeyType>RSA-2048</acertificates:KeyType>"
                     "</acertificates:CreateCertificate2>")  # fmt: skip
    assert (await listed(device))[0] == [BUILTIN_ID, "Certificate_ID", "big"]
    # chosen through the ONVIF status call, presented at the next handshake
    await ok(device, "<tds:SetCertificatesStatus><tds:CertificateStatus><tt:CertificateID>big</tt:CertificateID>"
                     "<tt:Status>true</tt:Status></tds:CertificateStatus></tds:SetCertificatesStatus>")  # fmt: skip
    served = await presented(device)
    assert cn(served) == "big" and isinstance(served.public_key(), rsa.RSAPublicKey)


async def test_imports_pem_der_and_pkcs12_and_refuses_a_wrong_password(device: SimulatedDevice) -> None:
    key, certificate = key_and_certificate("imported")
    await ok(device, f"<tds:LoadCertificateWithPrivateKey><tds:CertificateWithPrivateKey>"
                     f"<tt:CertificateID>pem</tt:CertificateID>"
                     f"<tt:Certificate><tt:Data>{b64(der(certificate))}</tt:Data></tt:Certificate>"
                     f"<tt:PrivateKey><tt:Data>{b64(key_der(key))}</tt:Data></tt:PrivateKey>"
                     f"</tds:CertificateWithPrivateKey></tds:LoadCertificateWithPrivateKey>")  # fmt: skip
    key2, certificate2 = key_and_certificate("from a pfx")
    pfx = pkcs12.serialize_key_and_certificates(
        b"pfx", key2, certificate2, None, serialization.BestAvailableEncryption(b"secret")
    )
    before = await listed(device)
    codes = await fault(device, f"<acertificates:LoadPKCS12><acertificates:Id>pfx</acertificates:Id>"
                                f"<acertificates:Data>{b64(pfx)}</acertificates:Data>"
                                f"<acertificates:Password>wrong</acertificates:Password>"
                                f"</acertificates:LoadPKCS12>")  # fmt: skip
    assert codes == ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:BadPassphrase"]
    assert await listed(device) == before
    await ok(device, f"<acertificates:LoadPKCS12><acertificates:Id>pfx</acertificates:Id>"
                     f"<acertificates:Data>{b64(pfx)}</acertificates:Data>"
                     f"<acertificates:Password>secret</acertificates:Password></acertificates:LoadPKCS12>")  # fmt: skip
    assert (await listed(device))[0] == [BUILTIN_ID, "pem", "pfx"]
    await ok(device, "<tds:SetCertificatesStatus><tds:CertificateStatus><tt:CertificateID>pfx</tt:CertificateID>"
                     "<tt:Status>true</tt:Status></tds:CertificateStatus></tds:SetCertificatesStatus>")  # fmt: skip
    assert der(await presented(device)) == der(certificate2)


GARBAGE = b64(b"-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        (f"<tds:LoadCACertificates><tds:CACertificate><tt:CertificateID>x</tt:CertificateID><tt:Certificate>"
         f"<tt:Data>{GARBAGE}</tt:Data></tt:Certificate></tds:CACertificate></tds:LoadCACertificates>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:CertificateFormat"]),
        (f"<tds:LoadCACertificates><tds:CACertificate><tt:CertificateID>x</tt:CertificateID><tt:Certificate>"
         f"<tt:Data>{'A' * 40000}</tt:Data></tt:Certificate></tds:CACertificate></tds:LoadCACertificates>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:CertificateFormat"]),  # oversize (30,000 bytes of data)
        ("<tds:DeleteCertificates><tds:CertificateID>nobody</tds:CertificateID></tds:DeleteCertificates>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:CertificateID"]),
        ("<tds:GetPkcs10Request><tds:CertificateID>nobody</tds:CertificateID></tds:GetPkcs10Request>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:CertificateID"]),
        (f"<tds:CreateCertificate><tds:CertificateID>{BUILTIN_ID}</tds:CertificateID></tds:CreateCertificate>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:CertificateID"]),  # the id exists
        ("<tds:CreateCertificate><tds:CertificateID>d</tds:CertificateID><tds:ValidNotBefore>2030-01-01T00:00:00Z"
         "</tds:ValidNotBefore><tds:ValidNotAfter>2029-01-01T00:00:00Z</tds:ValidNotAfter></tds:CreateCertificate>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal"]),
        ("<tds:CreateCertificate><tds:CertificateID>d</tds:CertificateID><tds:ValidNotBefore>1900-01-01T00:00:00"
         "</tds:ValidNotBefore></tds:CreateCertificate>", ["SOAP-ENV:Sender", "ter:InvalidArgVal"]),  # X.509: >= 1950
        ("<tds:CreateCertificate><tds:CertificateID>d</tds:CertificateID><tds:ValidNotBefore>soon"
         "</tds:ValidNotBefore></tds:CreateCertificate>", ["SOAP-ENV:Sender", "ter:InvalidArgs"]),
        ("<acertificates:CreateCertificate2><acertificates:Id>k</acertificates:Id><acertificates:Subject>"
         "<acert:CN>k</acert:CN></acertificates:Subject><acertificates:KeyType>DSA-1024</acertificates:KeyType>"
         "</acertificates:CreateCertificate2>", ["SOAP-ENV:Sender", "ter:InvalidArgVal"]),
        ("<acertificates:LoadPKCS12><acertificates:Id>p</acertificates:Id><acertificates:Data>AAAA"
         "</acertificates:Data></acertificates:LoadPKCS12>",
         ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:BadPKCS12File"]),
        ("<aweb:SetWebServerTlsConfiguration><aweb:Configuration><aweb:CertificateSet><acert:Certificates>"
         "<acert:Id>nobody</acert:Id></acert:Certificates></aweb:CertificateSet></aweb:Configuration>"
         "</aweb:SetWebServerTlsConfiguration>", ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:CertificateID"]),
        ("<aweb:SetWebServerTlsConfiguration><Configuration><Tls>true</Tls></Configuration>"
         "</aweb:SetWebServerTlsConfiguration>", ["SOAP-ENV:Sender", "ter:TagMismatch"]),  # 12.11: unqualified
    ],
    ids=["garbage-pem", "oversize", "delete-unknown", "csr-unknown", "duplicate-id", "dates", "year-1900", "bad-date",
         "key-type", "not-pkcs12", "https-unknown", "unqualified"],
)  # fmt: skip
async def test_bad_input_is_the_documented_fault_and_changes_nothing(
    device: SimulatedDevice, body: str, codes: list[str]
) -> None:
    before = (await listed(device), device.device.certificates.to_state(), der(await presented(device)))
    assert await fault(device, body) == codes
    assert (await listed(device), device.device.certificates.to_state(), der(await presented(device))) == before


async def test_a_batch_with_one_bad_certificate_installs_none(device: SimulatedDevice) -> None:
    key, certificate = key_and_certificate("good")
    other_key, _ = key_and_certificate("other")
    good = (f"<tds:CertificateWithPrivateKey><tt:CertificateID>good</tt:CertificateID>"
            f"<tt:Certificate><tt:Data>{b64(der(certificate))}</tt:Data></tt:Certificate>"
            f"<tt:PrivateKey><tt:Data>{b64(key_der(key))}</tt:Data></tt:PrivateKey></tds:CertificateWithPrivateKey>")
    mismatched = (f"<tds:CertificateWithPrivateKey><tt:CertificateID>bad</tt:CertificateID>"
                  f"<tt:Certificate><tt:Data>{b64(der(certificate))}</tt:Data></tt:Certificate>"
                  f"<tt:PrivateKey><tt:Data>{b64(key_der(other_key))}</tt:Data></tt:PrivateKey>"
                  "</tds:CertificateWithPrivateKey>")  # fmt: skip
    before = await listed(device)
    batch = f"<tds:LoadCertificateWithPrivateKey>{good}{mismatched}</tds:LoadCertificateWithPrivateKey>"
    codes = await fault(device, batch)
    assert codes == ["SOAP-ENV:Sender", "ter:InvalidArgVal", "ter:KeyMismatch"]
    assert await listed(device) == before


async def test_an_operator_may_not_manage_certificates(device: SimulatedDevice) -> None:
    add = "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppass&grp=users&sgrp=operator:viewer"
    created = await vapix(device.url, add)
    assert created.status == 200
    document = f'<s:Envelope xmlns:s="{NS["s"]}" {DECLARE}><s:Body><tds:GetCertificates/></s:Body></s:Envelope>'
    refused = await vapix(device.url, "/vapix/services", method="POST", data=document, auth=("op", "oppass"))
    assert refused.status == 401  # a fresh Digest challenge, as for every role below the operation's


async def test_the_fips_policy_refuses_what_it_does_not_allow(device: SimulatedDevice) -> None:
    # manual, Cryptographic policy: Default OpenSSL or FIPS 140; [GUESS] FIPS: no CHACHA20-POLY1305 on TLS 1.2
    chacha = ssl.create_default_context()
    chacha.check_hostname, chacha.verify_mode = False, ssl.CERT_NONE
    chacha.maximum_version = ssl.TLSVersion.TLSv1_2
    chacha.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
    assert cn(await presented(device, chacha)) == device.device.hostname
    device.device.certificates.set_policy("FIPS")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):  # the handshake fails (alert or reset)
        await presented(device, chacha)
    gcm = ssl.create_default_context()
    gcm.check_hostname, gcm.verify_mode = False, ssl.CERT_NONE
    gcm.maximum_version = ssl.TLSVersion.TLSv1_2
    gcm.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    assert cn(await presented(device, gcm)) == device.device.hostname
    device.device.certificates.set_policy("DEFAULT")
    assert cn(await presented(device, chacha)) == device.device.hostname


async def test_chosen_certificate_and_policy_survive_a_process_restart(tmp_path: Any) -> None:
    spec = DeviceSpec("S3008", https_port=0, seed="certificates", state_dir=tmp_path / "state")
    first = SimulatedDevice(spec)
    await first.start()
    try:
        await ok(first, "<acertificates:CreateCertificate2><acertificates:Id>kept</acertificates:Id>"
                        "<acertificates:Subject><acert:CN>kept</acert:CN></acertificates:Subject>"
                        "</acertificates:CreateCertificate2>")  # fmt: skip
        await ok(first, "<tds:SetCertificatesStatus><tds:CertificateStatus><tt:CertificateID>kept</tt:CertificateID>"
                        "<tt:Status>true</tt:Status></tds:CertificateStatus></tds:SetCertificatesStatus>")  # fmt: skip
        served = der(await presented(first))
    finally:
        await first.stop()
    second = SimulatedDevice(spec)
    await second.start()
    try:
        assert der(await presented(second)) == served
        assert (await listed(second))[0] == [BUILTIN_ID, "kept"]
    finally:
        await second.stop()
