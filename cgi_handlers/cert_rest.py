"""`/config/rest/cert/v1` and `/config/rest/crypto-policy/v1` on the Device Configuration API
framework (cgi_handlers/config_rest.py), over the device's certificate store.

Reference: developer.axis.com "Certificate Management" (device-configuration): two collections,
`certificates` (with private keys, never returned) and `ca_certificates`, each item
`{"alias", "certificate" (PEM)}` plus `"keystore"` for a certificate; `create_certificate`, an
item's `get_csr`, PATCH of an item's certificate (the CA-issued one for the key), the keystore
settings. A recorded 12.11 session and a client's fake of it (Cacsjep/oadm) give the shapes and
codes used here: `create_certificate` {alias, key_type "RSA-2048", subject "CN=..."},
`install_from_pkcs12` {alias, pkcs12 (base64), passphrase}, `get_csr` {subject} answering the PEM,
`settings` {"keystore": "SE0"}; code 2 "Alias already exists", 1 "Resource not found: ...",
5 "Validation error: ..." (e.g. "The certificate does not match the key"). "Cryptographic policy"
(device-configuration): `policies` (DEFAULT "Default" "Default policy from OpenSSL", FIPS
"FIPS 140-3") and `active_policy`. Administrator only [GUESS]. Every refusal changes nothing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography import x509

from axisim import cert_material as material
from axisim.certificates import KEYSTORE, CaCertificate, CertificateRefused, CertificateStore, KeyedCertificate, Refusal

from .config_rest import (
    Action,
    Call,
    Collection,
    ConfigApi,
    DcaError,
    Entity,
    Node,
    Property,
    register,
    want_object,
    want_str,
)

MAX_PEM = material.MAX_MATERIAL
POLICIES = [
    {"name": "DEFAULT", "nice_name": "Default", "description": "Default policy from OpenSSL"},
    {"name": "FIPS", "nice_name": "FIPS 140-3", "description": "Policy to comply with FIPS 140-3"},
]  # the doc's example


def store_of(call: Call) -> CertificateStore:
    return call.device.certificates


def refused(error: CertificateRefused) -> DcaError:
    if error.kind is Refusal.NOT_FOUND:
        return DcaError(1, f"Resource not found: {error.reason}", 404)
    if error.kind is Refusal.EXISTS:
        return DcaError(2, "Alias already exists")
    return DcaError.validation(error.reason)


def guarded(run: Any) -> Any:
    def call(*args: Any) -> Any:
        try:
            return run(*args)
        except CertificateRefused as exc:
            raise refused(exc) from exc

    return call


def text(data: dict[str, Any], name: str, required: bool = True) -> str | None:
    if name not in data:
        if required:
            raise DcaError.validation(f"{name} is required")
        return None
    return want_str(data[name], name, max_length=MAX_PEM * 2)


def pem_of(data: dict[str, Any], name: str) -> bytes:
    value = text(data, name) or ""
    return value.encode("utf-8", "replace")


def subject(data: dict[str, Any]) -> x509.Name | None:
    value = text(data, "subject", required=False)
    if value is None:
        return None
    try:
        return material.parse_subject(value)
    except material.MaterialError as exc:
        raise DcaError.validation(str(exc)) from exc


def keystore(data: dict[str, Any]) -> None:
    """Only the one keystore the simulator has [GUESS: a device lists TEE0/SE0/TPM as it has them]."""
    if "keystore" in data and want_str(data["keystore"], "keystore") != KEYSTORE:
        raise DcaError.validation(f"unknown keystore {data['keystore']}")


# -- certificates ------------------------------------------------------------------------------------


def shown(entry: KeyedCertificate) -> dict[str, Any]:
    return {"alias": entry.id, "certificate": entry.cert_pem.decode(), "keystore": entry.keystore}


def shown_ca(entry: CaCertificate) -> dict[str, Any]:
    return {"alias": entry.id, "certificate": entry.cert_pem.decode()}


def certificate_item(call: Call, alias: str) -> Node | None:
    store = store_of(call)
    if alias not in {e.id for e in store.certificates()}:
        return None

    def patch(call: Call, data: Any) -> None:
        """The CA-issued certificate for this key (after get_csr)."""
        store.replace_certificate(alias, pem_of(want_object(data, "data"), "certificate"))

    def csr(call: Call, data: Any) -> str:
        request = store.signing_request(alias, subject(want_object(data, "data")))
        return material.csr_pem(request)

    return Entity(
        {
            "alias": Property(get=lambda call: alias),
            "certificate": Property(get=lambda call: store.get(alias).cert_pem.decode()),
            "keystore": Property(get=lambda call: store.get(alias).keystore),
            "get_csr": Action(guarded(csr)),
        },
        set=guarded(patch),
    )


def add_certificate(call: Call, data: Any) -> None:
    """A certificate with its private key (PEM) [GUESS: the upload's field names]."""
    data = want_object(data, "data")
    keystore(data)
    store_of(call).install(text(data, "alias") or "", pem_of(data, "certificate"), pem_of(data, "private_key"))


def create_certificate(call: Call, data: Any) -> None:
    data = want_object(data, "data")
    keystore(data)
    name = subject(data)
    if name is None:
        raise DcaError.validation("subject is required")
    key_type = text(data, "key_type", required=False) or material.DEFAULT_KEY_TYPE
    store_of(call).create_self_signed(text(data, "alias") or "", name, key_type)


def install_from_pkcs12(call: Call, data: Any) -> None:
    data = want_object(data, "data")
    keystore(data)
    try:
        blob = base64.b64decode(text(data, "pkcs12") or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DcaError.validation("pkcs12 is not base64") from exc
    store_of(call).install_pkcs12(text(data, "alias") or "", blob, text(data, "passphrase", required=False) or "")


# -- CA certificates ---------------------------------------------------------------------------------


def ca_item(call: Call, alias: str) -> Node | None:
    found = next((c for c in store_of(call).ca_certificates() if c.id == alias), None)
    if found is None:
        return None
    return Entity({"alias": Property(get=lambda call: found.id),
                   "certificate": Property(get=lambda call: found.cert_pem.decode())})  # fmt: skip


def add_ca(call: Call, data: Any) -> None:
    data = want_object(data, "data")
    store_of(call).add_ca(text(data, "alias") or "", pem_of(data, "certificate"))


def set_keystore(call: Call, data: Any) -> None:
    keystore(want_object(data, "data"))


API = CERT = register(  # API: the name the fuzz test's vocabulary looks for
    ConfigApi("cert", 1, "1.1.2", root=Entity({  # 1.1.2: the recorded 12.11 device's version
        "certificates": Collection(
            items=lambda call: [shown(e) for e in store_of(call).certificates()],
            item=certificate_item,
            add=guarded(add_certificate),
            remove=guarded(lambda call, alias: store_of(call).delete([alias], ca=False)),
        ),
        "ca_certificates": Collection(
            items=lambda call: [shown_ca(c) for c in store_of(call).ca_certificates()],
            item=ca_item,
            add=guarded(add_ca),
            remove=guarded(lambda call, alias: store_of(call).delete([alias], ca=True)),
        ),
        "create_certificate": Action(guarded(create_certificate)),
        "install_from_pkcs12": Action(guarded(install_from_pkcs12)),
        "keystores": Property(get=lambda call: [KEYSTORE]),  # [GUESS] shape
        "settings": Entity({"keystore": Property(get=lambda call: KEYSTORE)}, set=set_keystore),
    }))
)  # fmt: skip


def set_policy(call: Call, value: Any) -> None:
    try:
        store_of(call).set_policy(want_str(value, "active_policy", tuple(p["name"] for p in POLICIES)))
    except CertificateRefused as exc:
        raise DcaError.validation(exc.reason) from exc


CRYPTO_POLICY = register(
    ConfigApi("crypto-policy", 1, "1.0.0", root=Entity({
        "policies": Collection(
            items=lambda call: list(POLICIES),
            item=lambda call, name: next((Entity({k: Property(get=lambda call, v=v: v) for k, v in p.items()})
                                          for p in POLICIES if p["name"] == name), None),
        ),
        "active_policy": Property(get=lambda call: store_of(call).policy, set=set_policy),
    }))
)  # fmt: skip

