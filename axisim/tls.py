"""The device's HTTPS certificate: self-signed as a factory-fresh Axis device's, or supplied.

Manuals: HTTPS is on by default; a factory default deletes the certificates and
the device makes a new self-signed one. The key is ECDSA P-256: generated in
about a millisecond, so a fleet of thousands starts quickly.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 3650


class CertificateError(ValueError):
    """A supplied certificate or key that cannot be used (says why)."""


@dataclass(frozen=True, slots=True)
class Certificate:
    cert_pem: bytes
    key_pem: bytes

    def subject_cn(self) -> str:
        cert = x509.load_pem_x509_certificate(self.cert_pem)
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""


def self_signed(hostname: str, address: str, wall: float | None = None) -> Certificate:
    """Subject CN = host name; SANs = host name and address; valid from `wall` (the device clock's
    seconds since the epoch; None: the host's time)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC) if wall is None else datetime.datetime.fromtimestamp(wall, datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(hostname)]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        alt.append(x509.DNSName(address))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        # self-signed and trusted as its own anchor: strict verifiers (Python 3.13+) want
        # the CA bit, key usage and both key identifiers
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Certificate(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def _load_pair(context: ssl.SSLContext, certificate: Certificate) -> None:
    """ssl loads a certificate and key only from files: write both to a private temporary file,
    load, delete (CertificateError when the pair is unusable)."""
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(certificate.cert_pem + b"\n" + certificate.key_pem)
        context.load_cert_chain(path)
    except (ssl.SSLError, OSError) as exc:
        raise CertificateError(f"certificate and key do not make a usable pair: {exc}") from exc
    finally:
        os.unlink(path)


def server_context(certificate: Certificate) -> ssl.SSLContext:
    """An SSL context serving `certificate` (CertificateError when the pair is unusable)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _load_pair(context, certificate)
    return context


def client_context(trusted: list[bytes] | None, own: Certificate | None = None, alpn: str = "") -> ssl.SSLContext:
    """A context for the device's own TLS client connections (its MQTT client): with `trusted` (PEM
    CA certificates) the server's certificate and name are checked against them alone, as a device
    validates "against certificates installed in the product"; None accepts any server. `own` is
    the certificate the device presents when the server asks. CertificateError: unusable material."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if trusted is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            if trusted:
                context.load_verify_locations(cadata=b"\n".join(trusted).decode("ascii"))
        except (ssl.SSLError, ValueError) as exc:
            raise CertificateError(f"unusable CA certificate: {exc}") from exc
    if own is not None:
        _load_pair(context, own)
    if alpn:
        context.set_alpn_protocols([alpn])
    return context


# [GUESS] what the FIPS policy allows on TLS 1.2: the AES-GCM suites with ECDHE or DHE (FIPS 140
# approved), no CHACHA20-POLY1305, no CBC; TLS 1.2 at least under both policies. TLS 1.3 suites
# are not configurable through Python's ssl and stay as OpenSSL's.
FIPS_CIPHERS = "ECDHE+AESGCM:DHE+AESGCM"


def apply_policy(context: ssl.SSLContext, policy: str, default_ciphers: str) -> None:
    """Make `context`'s next handshakes follow the cryptographic policy ("DEFAULT" or "FIPS")."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(FIPS_CIPHERS if policy == "FIPS" else default_ciphers)


def tls12_ciphers(context: ssl.SSLContext) -> str:
    """The context's TLS 1.2 cipher list, to restore it later."""
    return ":".join(c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3")
