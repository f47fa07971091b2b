"""Certificates, keys and requests as bytes: make, read and check them (cryptography), nothing else.

The certificate store (axisim/certificates.py) keeps what this module makes and reads. Manual
(AXIS OS 12.6, Security > Certificates): certificate formats PEM, CER (DER) and PFX (PKCS#12),
private keys PKCS#1 and PKCS#12; a key type is chosen when a certificate is made. Every reader
raises MaterialError (says why) for anything it cannot use; nothing here raises anything else.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

# [GUESS] the names of the key types the web interface offers (the manual: "select the default or a
# different encryption algorithm"); the default is the fast one, as tls.py's self-signed key
KEY_TYPES: tuple[str, ...] = ("NIST-P256", "NIST-P384", "RSA-2048", "RSA-4096")
DEFAULT_KEY_TYPE = "NIST-P256"
MAX_MATERIAL = 32 * 1024  # bytes of one certificate, key or PKCS#12 file (a 4096-bit chain fits)
MAX_SUBJECT = 256  # characters of a subject or a name in it

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_CURVES = {"NIST-P256": ec.SECP256R1, "NIST-P384": ec.SECP384R1}
_RSA_BITS = {"RSA-2048": 2048, "RSA-4096": 4096}
_SUBJECT_KEYS = {
    "C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME, "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME,
}  # fmt: skip


class MaterialError(ValueError):
    """Bytes that are not a usable certificate, key, PKCS#12 file or subject (the message says which)."""


class WrongPassword(MaterialError):
    """A PKCS#12 file that does not open with the password given."""


def generate_key(key_type: str) -> PrivateKey:
    if key_type in _CURVES:
        return ec.generate_private_key(_CURVES[key_type]())
    if key_type in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_type])
    raise MaterialError(f"unsupported key type {key_type!r}")


def key_type_of(key: object) -> str:
    """The key type name of a public or private key ("" for one the device does not offer)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return {"secp256r1": "NIST-P256", "secp384r1": "NIST-P384"}.get(key.curve.name, "")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    return ""


def subject_name(fields: dict[str, str]) -> x509.Name:
    """A subject from its parts (C, ST, L, O, OU, CN); empty parts are left out; CN is required."""
    if not fields.get("CN"):
        raise MaterialError("the subject needs a common name (CN)")
    attributes = []
    for key, oid in _SUBJECT_KEYS.items():
        value = fields.get(key, "")
        if not value:
            continue
        if len(value) > MAX_SUBJECT or (key == "C" and len(value) != 2):
            raise MaterialError(f"subject {key} is not valid")
        try:
            attributes.append(x509.NameAttribute(oid, value))
        except ValueError as exc:
            raise MaterialError(f"subject {key} is not valid") from exc
    return x509.Name(attributes)


def parse_subject(text: str) -> x509.Name:
    """`CN=cam,O=Site` (RFC 4514 order as written) into a name."""
    if len(text) > MAX_SUBJECT:
        raise MaterialError("the subject is too long")
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().upper()
        if not sep or key not in _SUBJECT_KEYS:
            raise MaterialError(f"subject part {part.strip()!r} is not understood")
        fields[key] = value.strip()
    return subject_name(fields)


def _sign(key: PrivateKey, builder: x509.CertificateBuilder) -> x509.Certificate:
    return builder.sign(key, hashes.SHA256())


def self_signed(
    key: PrivateKey, subject: x509.Name, not_before: datetime.datetime, not_after: datetime.datetime,
    sans: tuple[x509.GeneralName, ...] = (), ca: bool = False,
) -> x509.Certificate:  # fmt: skip
    if not_after <= not_before:
        raise MaterialError("the certificate would never be valid (not after is not later than not before)")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return _sign(key, builder)


def signing_request(key: PrivateKey, subject: x509.Name) -> bytes:
    """A PKCS#10 request, DER."""
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.DER)


def csr_pem(request_der: bytes) -> str:
    """A PKCS#10 request (DER) as PEM text."""
    body = base64.encodebytes(request_der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE REQUEST-----\n"


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def key_pem(key: PrivateKey) -> bytes:
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(der(certificate)).hexdigest().upper()


def _bounded(data: bytes) -> bytes:
    if not data:
        raise MaterialError("no data")
    if len(data) > MAX_MATERIAL:
        raise MaterialError(f"more than {MAX_MATERIAL} bytes")
    return data


def unwrap(text: str) -> bytes:
    """What a client sent in a text field: PEM as is, else base64 (of DER or of PEM)."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        return _bounded(stripped.encode("ascii", "replace"))
    try:
        return _bounded(base64.b64decode("".join(stripped.split()), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise MaterialError("neither PEM nor base64") from exc


def read_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of PEM (one or more blocks) or DER (one)."""
    _bounded(data)
    try:
        if b"-----BEGIN" in data:
            found = x509.load_pem_x509_certificates(data)
        else:
            found = [x509.load_der_x509_certificate(data)]
        for certificate in found:
            certificate.public_key()  # an unsupported key type is found now
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MaterialError("not a certificate in PEM or DER") from exc
    return found


def read_certificate(data: bytes) -> x509.Certificate:
    found = read_certificates(data)
    if len(found) != 1:
        raise MaterialError(f"{len(found)} certificates where one was expected")
    return found[0]


def read_private_key(data: bytes) -> PrivateKey:
    """A PKCS#1 or PKCS#8 key in PEM or DER, not encrypted."""
    _bounded(data)
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MaterialError("not an unencrypted private key in PEM or DER") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) or not key_type_of(key):
        raise MaterialError("unsupported key type")
    return key


def read_pkcs12(data: bytes, password: str) -> tuple[PrivateKey, x509.Certificate]:
    """The key and its certificate of a PKCS#12 (PFX) file; WrongPassword when it does not open."""
    _bounded(data)
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except ValueError as exc:
        if "password" in str(exc).lower() or "mac" in str(exc).lower():
            raise WrongPassword("the PKCS#12 file does not open with this password") from exc
        raise MaterialError("not a PKCS#12 file") from exc
    except (TypeError, UnsupportedAlgorithm) as exc:
        raise MaterialError("not a PKCS#12 file") from exc
    if key is None or certificate is None:
        raise MaterialError("the PKCS#12 file holds no certificate with its private key")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) or not key_type_of(key):
        raise MaterialError("unsupported key type")
    return key, certificate


def matches(certificate: x509.Certificate, key: PrivateKey) -> bool:
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = certificate.public_key().public_bytes(serialization.Encoding.DER, public)
    return mine == key.public_key().public_bytes(serialization.Encoding.DER, public)


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return certificate.issuer == certificate.subject  # an old self-signed root without the extension
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Described:
    """What a listing shows of a certificate."""

    subject: str
    issuer: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    fingerprint: str
    key_type: str


def describe(certificate: x509.Certificate) -> Described:
    return Described(
        certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string(),
        certificate.not_valid_before_utc, certificate.not_valid_after_utc, fingerprint(certificate),
        key_type_of(certificate.public_key()),
    )  # fmt: skip


# [GUESS] the pre-installed CA certificates: real firmware bundles public and Axis roots; the
# simulator bundles stand-ins with the Axis device ID roots' names, made once per process
PREINSTALLED_CAS: tuple[tuple[str, str], ...] = (
    ("Axis device ID Root CA ECC", "NIST-P256"),
    ("Axis device ID Root CA RSA", "RSA-2048"),
)


@functools.cache
def preinstalled_cas() -> tuple[tuple[str, bytes], ...]:
    """(alias, PEM) of each pre-installed CA certificate, the same for every device of the process."""
    made = []
    start = datetime.datetime(2020, 4, 29, tzinfo=datetime.UTC)
    for alias, key_type in PREINSTALLED_CAS:
        key = generate_key(key_type)
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Axis Communications AB"),
                          x509.NameAttribute(NameOID.COMMON_NAME, alias)])  # fmt: skip
        made.append((alias, pem(self_signed(key, name, start, start.replace(year=2060), ca=True))))
    return tuple(made)
