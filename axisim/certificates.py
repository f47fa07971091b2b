"""One device's certificates: those with a private key (client/server), the CA certificates, which
one HTTPS presents, and the cryptographic policy. No HTTP, no wire format, no ssl contexts.

Manual (AXIS OS 12.6, Security > Certificates): a client/server certificate is self-signed or
CA-issued; CA certificates validate peers and several come pre-installed; a factory default
deletes every certificate and reinstalls the pre-installed CA certificates. HTTPS > Certificate:
"Select a certificate to enable HTTPS". Cryptographic policy: Default OpenSSL or FIPS.

The server (axisim/server.py) installs its own self-signed certificate with `install_builtin` and
asks `https()` which certificate the next TLS handshake presents; `on_tls_change` tells it when
that, or the policy, changed. Every refusal is a CertificateRefused with its kind, raised before
anything changes.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from cryptography import x509

from . import cert_material as material
from .cert_material import MaterialError, WrongPassword

KEYSTORE = "TEE0"  # [GUESS] the keystore every private key is reported in (recorded devices: "SE0", TPM)
BUILTIN_ID = "Self-signed HTTPS"  # [GUESS] the id of the certificate the device makes for HTTPS
POLICIES = ("DEFAULT", "FIPS")  # Cryptographic policy API names: Default OpenSSL, FIPS
MAX_CERTIFICATES = 32  # [GUESS] certificates with a private key
MAX_CA_CERTIFICATES = 128  # [GUESS] CA certificates, the pre-installed ones included
MAX_ID = 128  # [GUESS] characters of a certificate id
VALID_DAYS = 365 * 10  # a self-signed certificate made without dates


class Refusal(enum.Enum):
    NOT_FOUND = "not found"
    EXISTS = "exists"
    IN_USE = "in use"
    BAD_ID = "bad id"
    BAD_ARGUMENT = "bad argument"
    BAD_CERTIFICATE = "bad certificate"
    BAD_KEY = "bad key"
    KEY_MISMATCH = "key mismatch"
    BAD_PKCS12 = "bad pkcs12"
    WRONG_PASSWORD = "wrong password"
    FULL = "full"


class CertificateRefused(ValueError):
    """The device refuses this; nothing changed."""

    def __init__(self, kind: Refusal, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KeyedCertificate:
    """A client/server certificate with its private key (never shown to clients)."""

    id: str
    cert_pem: bytes
    key_pem: bytes
    key_type: str
    keystore: str = KEYSTORE
    builtin: bool = False  # the server's own (kept in the state directory's https/, not device.json)

    def certificate(self) -> x509.Certificate:
        return material.read_certificate(self.cert_pem)


@dataclass(frozen=True, slots=True)
class CaCertificate:
    id: str
    cert_pem: bytes
    preinstalled: bool = False

    def certificate(self) -> x509.Certificate:
        return material.read_certificate(self.cert_pem)


def _material(kind: Refusal, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except WrongPassword as exc:
        raise CertificateRefused(Refusal.WRONG_PASSWORD, str(exc)) from exc
    except MaterialError as exc:
        raise CertificateRefused(kind, str(exc)) from exc


def check_id(identifier: str) -> str:
    if not identifier or len(identifier) > MAX_ID or not identifier.isprintable() or identifier != identifier.strip():
        raise CertificateRefused(Refusal.BAD_ID, f"invalid certificate id {identifier[:MAX_ID]!r}")
    return identifier


class CertificateStore:
    """Lazy and cheap until used: a fleet's devices make no key and parse no CA before a client asks."""

    __slots__ = (
        "_added_cas",
        "_builtin_deleted",
        "_changed",
        "_https",
        "_keyed",
        "_removed_preinstalled",
        "_wall",
        "on_tls_change",
        "policy",
    )  # fmt: skip

    def __init__(self, wall: Callable[[], float], changed: Callable[[], None]) -> None:
        self._wall = wall
        self._changed = changed  # the device's: persistence saves
        self._keyed: dict[str, KeyedCertificate] = {}
        self._added_cas: dict[str, CaCertificate] = {}
        self._removed_preinstalled: set[str] = set()
        self._https: str | None = None  # None: the built-in one
        self._builtin_deleted = False
        self.policy = "DEFAULT"
        self.on_tls_change: list[Callable[[], None]] = []  # the server: the next handshake changes

    # -- reading -------------------------------------------------------------

    def certificates(self) -> list[KeyedCertificate]:
        """The built-in one first, then in the order they came."""
        return sorted(self._keyed.values(), key=lambda entry: not entry.builtin)

    def get(self, identifier: str) -> KeyedCertificate:
        entry = self._keyed.get(identifier)
        if entry is None:
            raise CertificateRefused(Refusal.NOT_FOUND, f"no certificate {identifier!r}")
        return entry

    def ca_certificates(self) -> list[CaCertificate]:
        pre = [CaCertificate(a, p, True) for a, p in material.preinstalled_cas() if a not in self._removed_preinstalled]
        return pre + list(self._added_cas.values())

    def get_ca(self, identifier: str) -> CaCertificate:
        found = next((ca for ca in self.ca_certificates() if ca.id == identifier), None)
        if found is None:
            raise CertificateRefused(Refusal.NOT_FOUND, f"no CA certificate {identifier!r}")
        return found

    @property
    def https_id(self) -> str | None:
        """The certificate HTTPS presents (None before the server installed its own)."""
        if self._https in self._keyed:
            return self._https
        return BUILTIN_ID if BUILTIN_ID in self._keyed else None

    def https(self) -> KeyedCertificate | None:
        chosen = self.https_id
        return None if chosen is None else self._keyed[chosen]

    def in_use(self, identifier: str) -> bool:
        return identifier == self.https_id

    # -- making and installing -------------------------------------------------

    def _new_id(self, identifier: str) -> str:
        check_id(identifier)
        if identifier in self._keyed or any(ca.id == identifier for ca in self.ca_certificates()):
            raise CertificateRefused(Refusal.EXISTS, f"certificate id {identifier!r} already exists")
        if len(self._keyed) >= MAX_CERTIFICATES:
            raise CertificateRefused(Refusal.FULL, f"at most {MAX_CERTIFICATES} certificates")
        return identifier

    def create_self_signed(
        self, identifier: str, subject: x509.Name, key_type: str = material.DEFAULT_KEY_TYPE,
        not_before: datetime.datetime | None = None, not_after: datetime.datetime | None = None,
    ) -> KeyedCertificate:  # fmt: skip
        """A new key of `key_type` and a self-signed certificate for it (also the CSR flow's first step)."""
        self._new_id(identifier)
        if key_type not in material.KEY_TYPES:
            raise CertificateRefused(Refusal.BAD_ARGUMENT, f"unsupported key type {key_type!r}")
        now = datetime.datetime.fromtimestamp(self._wall(), datetime.UTC)
        try:
            start = not_before or now - datetime.timedelta(minutes=5)
            end = not_after or start + datetime.timedelta(days=VALID_DAYS)
            if end <= start:
                raise CertificateRefused(Refusal.BAD_ARGUMENT, "ValidNotAfter is not later than ValidNotBefore")
            key = material.generate_key(key_type)
            certificate = material.self_signed(key, subject, start, end)
        except (OverflowError, ValueError) as exc:  # a date X.509 cannot carry (before 1950, past 9999)
            if isinstance(exc, CertificateRefused):
                raise
            raise CertificateRefused(Refusal.BAD_ARGUMENT, f"invalid validity: {exc}") from exc
        entry = KeyedCertificate(identifier, material.pem(certificate), material.key_pem(key), key_type)
        return self._add(entry)

    def install(self, identifier: str, cert_data: bytes, key_data: bytes) -> KeyedCertificate:
        """A certificate (PEM/DER) with its private key (PKCS#1/PKCS#8, PEM/DER)."""
        self._new_id(identifier)
        certificate = _material(Refusal.BAD_CERTIFICATE, lambda: material.read_certificate(cert_data))
        key = _material(Refusal.BAD_KEY, lambda: material.read_private_key(key_data))
        return self._add(self._keyed_entry(identifier, certificate, key))

    def install_pkcs12(self, identifier: str, data: bytes, password: str) -> KeyedCertificate:
        self._new_id(identifier)
        key, certificate = _material(Refusal.BAD_PKCS12, lambda: material.read_pkcs12(data, password))
        return self._add(self._keyed_entry(identifier, certificate, key))

    def _keyed_entry(
        self, identifier: str, certificate: x509.Certificate, key: material.PrivateKey
    ) -> KeyedCertificate:
        if not material.matches(certificate, key):
            raise CertificateRefused(Refusal.KEY_MISMATCH, "the certificate does not match the private key")
        return KeyedCertificate(identifier, material.pem(certificate), material.key_pem(key), material.key_type_of(key))

    def replace_certificate(self, identifier: str, cert_data: bytes) -> KeyedCertificate:
        """The CA-issued certificate for a key made on the device (after a CSR): same id, same key."""
        entry = self.get(identifier)
        certificate = _material(Refusal.BAD_CERTIFICATE, lambda: material.read_certificate(cert_data))
        key = material.read_private_key(entry.key_pem)
        if not material.matches(certificate, key):
            raise CertificateRefused(Refusal.KEY_MISMATCH, "the certificate does not match the private key")
        updated = replace(entry, cert_pem=material.pem(certificate))
        self._keyed[identifier] = updated
        self._done(tls=self.in_use(identifier))
        return updated

    def signing_request(self, identifier: str, subject: x509.Name | None = None) -> bytes:
        """A PKCS#10 request (DER) for the key of a certificate on the device."""
        entry = self.get(identifier)
        key = material.read_private_key(entry.key_pem)
        return material.signing_request(key, subject or entry.certificate().subject)

    def add_ca(self, identifier: str, cert_data: bytes) -> CaCertificate:
        check_id(identifier)
        if identifier in self._keyed or any(ca.id == identifier for ca in self.ca_certificates()):
            raise CertificateRefused(Refusal.EXISTS, f"certificate id {identifier!r} already exists")
        if len(self.ca_certificates()) >= MAX_CA_CERTIFICATES:
            raise CertificateRefused(Refusal.FULL, f"at most {MAX_CA_CERTIFICATES} CA certificates")
        certificate = _material(Refusal.BAD_CERTIFICATE, lambda: material.read_certificate(cert_data))
        entry = CaCertificate(identifier, material.pem(certificate))
        self._added_cas[identifier] = entry
        self._done()
        return entry

    def _add(self, entry: KeyedCertificate) -> KeyedCertificate:
        self._keyed[entry.id] = entry
        self._done()
        return entry

    # -- removing and choosing ---------------------------------------------------

    def delete(self, identifiers: Iterable[str], ca: bool | None = None) -> None:
        """Certificates and/or CA certificates (`ca`: only those); all or none. The one HTTPS
        presents is refused."""
        wanted = list(dict.fromkeys(identifiers))
        cas = {c.id: c for c in self.ca_certificates()}
        for identifier in wanted:
            keyed = ca is not True and identifier in self._keyed
            if not keyed and not (ca is not False and identifier in cas):
                raise CertificateRefused(Refusal.NOT_FOUND, f"no certificate {identifier!r}")
            if keyed and self.in_use(identifier):
                raise CertificateRefused(Refusal.IN_USE, f"certificate {identifier!r} is used by HTTPS")
        for identifier in wanted:
            if ca is not True and identifier in self._keyed:
                self._builtin_deleted |= self._keyed.pop(identifier).builtin
            elif identifier in self._added_cas:
                del self._added_cas[identifier]
            else:
                self._removed_preinstalled.add(identifier)
        if wanted:
            self._done()

    def choose_https(self, identifier: str) -> None:
        """HTTPS presents this certificate from the next handshake on."""
        self.get(identifier)
        if identifier == self.https_id and self._https == identifier:
            return
        self._https = identifier
        self._done(tls=True)

    def set_policy(self, name: str) -> None:
        if name not in POLICIES:
            raise CertificateRefused(Refusal.BAD_ARGUMENT, f"unknown cryptographic policy {name!r}")
        if name != self.policy:
            self.policy = name
            self._done(tls=True)

    def install_builtin(self, cert_pem: bytes, key_pem: bytes) -> None:
        """The server's own certificate (self-signed, or --cert): listed, chosen while no other is.
        Not after a client deleted it (until a factory default)."""
        if self._builtin_deleted:
            return
        key_type = material.key_type_of(material.read_private_key(key_pem))
        self._keyed[BUILTIN_ID] = KeyedCertificate(BUILTIN_ID, cert_pem, key_pem, key_type, builtin=True)
        self._fire()

    def factory_default(self) -> None:
        """Every certificate goes, the pre-installed CA certificates come back, the default policy
        (the server installs a new self-signed certificate after this)."""
        self._keyed.clear()
        self._added_cas.clear()
        self._removed_preinstalled.clear()
        self._https = None
        self._builtin_deleted = False
        self.policy = "DEFAULT"
        self._fire()

    def _done(self, tls: bool = False) -> None:
        if tls:
            self._fire()
        self._changed()

    def _fire(self) -> None:
        for listener in list(self.on_tls_change):
            listener()

    # -- saved state (device.json; the built-in certificate is the state directory's https/) ------

    def to_state(self) -> dict[str, Any]:
        return {
            "certificates": [
                {"id": e.id, "cert": e.cert_pem.decode(), "key": e.key_pem.decode(), "key_type": e.key_type}
                for e in self._keyed.values() if not e.builtin
            ],
            "ca": [{"id": c.id, "cert": c.cert_pem.decode()} for c in self._added_cas.values()],
            "removed_preinstalled": sorted(self._removed_preinstalled),
            "https": self._https,
            "builtin_deleted": self._builtin_deleted,
            "policy": self.policy,
        }  # fmt: skip

    def load_state(self, state: Any) -> None:
        """ValueError (nothing changed) when the saved state is damaged; None: nothing saved."""
        if state is None:
            return
        keyed: dict[str, KeyedCertificate] = {}
        for item in state["certificates"]:
            certificate = material.read_certificate(item["cert"].encode())
            key = material.read_private_key(item["key"].encode())
            if not material.matches(certificate, key):
                raise ValueError(f"certificate {item['id']!r} does not match its key")
            keyed[check_id(item["id"])] = KeyedCertificate(item["id"], item["cert"].encode(), item["key"].encode(),
                                                           material.key_type_of(key))  # fmt: skip
        cas = {check_id(c["id"]): CaCertificate(c["id"], material.pem(material.read_certificate(c["cert"].encode())))
               for c in state["ca"]}  # fmt: skip
        policy, https, removed = state["policy"], state["https"], state["removed_preinstalled"]
        if policy not in POLICIES or not (https is None or isinstance(https, str)) or not isinstance(removed, list):
            raise ValueError("certificates: damaged settings")
        if len(keyed) > MAX_CERTIFICATES or len(cas) > MAX_CA_CERTIFICATES:
            raise ValueError("certificates: too many")
        builtin = self._keyed.get(BUILTIN_ID)
        self._keyed = keyed | ({BUILTIN_ID: builtin} if builtin is not None and BUILTIN_ID not in keyed else {})
        self._added_cas, self._removed_preinstalled = cas, {str(r) for r in removed}
        self._https, self._builtin_deleted, self.policy = https, bool(state["builtin_deleted"]), policy
        if self._builtin_deleted:
            self._keyed.pop(BUILTIN_ID, None)
        self._fire()
