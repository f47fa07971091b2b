"""The certificate operations of `/vapix/services` (SOAP 1.2): the ONVIF device service's certificate
calls (`tds:`) and Axis's certificate service (`acertificates:`), on the device's certificate store.

Reference: developer.axis.com "Certificate management API" (network-video): `CreateCertificate2`
(Id, Subject C/ST/L/O/OU/CN, ValidNotBefore, ValidNotAfter) on /vapix/services; the ONVIF
Device Management certificate operations (GetCertificates, GetCACertificates, CreateCertificate,
GetPkcs10Request, LoadCertificates, LoadCertificateWithPrivateKey, LoadCACertificates,
DeleteCertificates, Get/SetCertificatesStatus); recorded AXIS OS 12.11 replies of GetCertSet,
ListCertSets and GetCertificatesStatus (Cacsjep/oadm test fixtures, P3265-V). Certificates travel
as base64 DER (`tt:Data`); PEM text is accepted too. Every refusal is a SOAP fault (HTTP 400) and
changes nothing; the fault codes are ONVIF's where ONVIF names one, else [GUESS].
Everything needs an administrator [GUESS: the level is undocumented; the data is sensitive].
"""

from __future__ import annotations

import base64
import datetime
import xml.etree.ElementTree as ET
from collections.abc import Callable
from xml.sax.saxutils import escape

from aiohttp import web
from cryptography import x509

from axisim import cert_material as material
from axisim.certificates import CaCertificate, CertificateRefused, CertificateStore, KeyedCertificate, Refusal
from param_tree import Role

from .action_service import BadRequest, child, children, invalid_args, text_of
from .request_context import device_of
from .soap_envelope import SoapRequest, soap_fault, soap_reply

TDS = "http://www.onvif.org/ver10/device/wsdl"
ACERTIFICATES = "http://www.axis.com/vapix/ws/certificates"
# the certificate sets of AXIS OS 12.11 (ListCertSets, recorded); only WebServer's follows the store
CERT_SETS = (
    "EAPTLS_WIRED", "EAPTLS_WIRED_SERVER", "EAPTLS_WIFI", "EAPPEAP_MSCHAPV2_WIFI", "AUDIOSITE", "MediaPlayerClient",
    "NTS", "EAPPEAP_MSCHAPV2_WIRED", "AVHS", "SIP", "Streaming_RTSPS", "RemoteSyslog", "StreamingMediaClient",
    "WebServer", "StreamingDeviceEventClient", "mqtt_client", "O3C",
)  # fmt: skip
WEB_SERVER = "WebServer"

Handler = Callable[[web.Request, SoapRequest], web.Response]
Added = CaCertificate | KeyedCertificate

# Refusal -> (code, subcodes, reason): ONVIF Core's faults for these operations; [GUESS] where marked
FAULTS: dict[Refusal, tuple[str, tuple[str, ...], str]] = {
    Refusal.NOT_FOUND: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:CertificateID"), "Unknown certificate reference"),
    Refusal.EXISTS: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:CertificateID"), "CertificateID already exists"),
    Refusal.BAD_ID: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:CertificateID"), "Invalid CertificateID"),
    Refusal.BAD_CERTIFICATE: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:CertificateFormat"),
                              "Invalid format of certificate"),
    Refusal.FULL: ("SOAP-ENV:Receiver", ("ter:Action", "ter:MaxCertificates"),
                   "Maximum number of certificates reached"),
    Refusal.IN_USE: ("SOAP-ENV:Receiver", ("ter:Action", "ter:CertificateInUse"), "Certificate in use"),  # [GUESS]
    Refusal.BAD_ARGUMENT: ("SOAP-ENV:Sender", ("ter:InvalidArgVal",), "Invalid argument"),  # [GUESS] reason
    Refusal.BAD_KEY: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:InvalidPrivateKey"),
                      "Invalid private key"),  # [GUESS]
    Refusal.KEY_MISMATCH: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:KeyMismatch"),
                           "The certificate does not match the private key"),  # [GUESS]
    Refusal.BAD_PKCS12: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:BadPKCS12File"), "Invalid PKCS#12 file"),
    Refusal.WRONG_PASSWORD: ("SOAP-ENV:Sender", ("ter:InvalidArgVal", "ter:BadPassphrase"), "Wrong passphrase"),
}  # fmt: skip


def refusal_fault(error: CertificateRefused) -> web.Response:
    code, subcodes, reason = FAULTS[error.kind]
    return soap_fault(reason, code=code, subcode=subcodes)


def guarded(handler: Handler) -> Handler:
    """The handler, its refusals turned into the device's faults."""

    def run(request: web.Request, operation: SoapRequest) -> web.Response:
        try:
            return handler(request, operation)
        except BadRequest as exc:
            return invalid_args(str(exc))
        except CertificateRefused as exc:
            return refusal_fault(exc)

    return run


def store_of(request: web.Request) -> CertificateStore:
    return device_of(request).certificates


# -- reading a request ------------------------------------------------------------------------------


def data_of(element: ET.Element, name: str, kind: Refusal = Refusal.BAD_CERTIFICATE) -> bytes:
    """The bytes of a `tt:BinaryData` child (`<name><tt:Data>base64</tt:Data></name>`)."""
    holder = child(element, name)
    if holder is None:
        raise BadRequest(f"Validation constraint violation: occurrence violation in element {name}")
    try:
        return material.unwrap(text_of(holder, "Data") or "")
    except material.MaterialError as exc:
        raise CertificateRefused(kind, str(exc)) from exc


def date_of(element: ET.Element, name: str) -> datetime.datetime | None:
    """An xs:dateTime child (no zone: UTC), None when absent."""
    text = text_of(element, name, required=False)
    if text is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(f"Validation constraint violation: data type mismatch in element {name}") from exc
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment


def subject_of(text: str | None) -> x509.Name | None:
    if not text:
        return None
    try:
        return material.parse_subject(text)
    except material.MaterialError as exc:
        raise CertificateRefused(Refusal.BAD_ARGUMENT, str(exc)) from exc


# -- writing a reply --------------------------------------------------------------------------------


def b64_der(cert_pem: bytes) -> str:
    return base64.b64encode(material.der(material.read_certificate(cert_pem))).decode()


def certificate_xml(tag: str, identifier: str, cert_pem: bytes) -> str:
    return (
        f"<tds:{tag}><tt:CertificateID>{escape(identifier)}</tt:CertificateID>"
        f"<tt:Certificate><tt:Data>{b64_der(cert_pem)}</tt:Data></tt:Certificate></tds:{tag}>"
    )


def reply(name: str, content: str = "", prefix: str = "tds") -> web.Response:
    return soap_reply(f"<{prefix}:{name}>{content}</{prefix}:{name}>")


# -- the ONVIF device service's certificate operations -----------------------------------------------


def get_certificates(request: web.Request, operation: SoapRequest) -> web.Response:
    listed = "".join(certificate_xml("NvtCertificate", e.id, e.cert_pem) for e in store_of(request).certificates())
    return reply("GetCertificatesResponse", listed)


def get_ca_certificates(request: web.Request, operation: SoapRequest) -> web.Response:
    listed = "".join(certificate_xml("CACertificate", c.id, c.cert_pem) for c in store_of(request).ca_certificates())
    return reply("GetCACertificatesResponse", listed)


def get_certificates_status(request: web.Request, operation: SoapRequest) -> web.Response:
    """Status true: the certificate HTTPS presents (as recorded on AXIS OS 12.11)."""
    store = store_of(request)
    listed = "".join(
        f"<tds:CertificateStatus><tt:CertificateID>{escape(e.id)}</tt:CertificateID>"
        f"<tt:Status>{'true' if store.in_use(e.id) else 'false'}</tt:Status></tds:CertificateStatus>"
        for e in store.certificates()
    )
    return reply("GetCertificatesStatusResponse", listed)


def set_certificates_status(request: web.Request, operation: SoapRequest) -> web.Response:
    """The certificate with Status true becomes HTTPS's [GUESS: one only; false entries are ignored]."""
    store = store_of(request)
    chosen = None
    for status in children(operation.element, "CertificateStatus"):
        identifier = text_of(status, "CertificateID") or ""
        store.get(identifier)
        if (text_of(status, "Status") or "").lower() in ("true", "1"):
            chosen = identifier
    if chosen is not None:
        store.choose_https(chosen)
    return reply("SetCertificatesStatusResponse")


def create_certificate(request: web.Request, operation: SoapRequest) -> web.Response:
    """A new key and a self-signed certificate; the id is made when none is given [GUESS: `Certificate<n>`]."""
    store = store_of(request)
    element = operation.element
    identifier = text_of(element, "CertificateID", required=False)
    if identifier is None:
        taken = {e.id for e in store.certificates()}
        identifier = next(f"Certificate{n}" for n in range(1, len(taken) + 2) if f"Certificate{n}" not in taken)
    subject = subject_of(text_of(element, "Subject", required=False)) or material.subject_name(
        {"CN": device_of(request).identity.ip}
    )
    entry = store.create_self_signed(
        identifier, subject, not_before=date_of(element, "ValidNotBefore"), not_after=date_of(element, "ValidNotAfter")
    )
    return reply("CreateCertificateResponse", certificate_xml("NvtCertificate", entry.id, entry.cert_pem))


def get_pkcs10_request(request: web.Request, operation: SoapRequest) -> web.Response:
    element = operation.element
    identifier = text_of(element, "CertificateID") or ""
    der = store_of(request).signing_request(identifier, subject_of(text_of(element, "Subject", required=False)))
    data = base64.b64encode(der).decode()
    return reply("GetPkcs10RequestResponse", f"<tds:Pkcs10Request><tt:Data>{data}</tt:Data></tds:Pkcs10Request>")


def load_certificates(request: web.Request, operation: SoapRequest) -> web.Response:
    """CA-issued certificates for keys made on the device (after GetPkcs10Request); all or none."""
    store = store_of(request)
    items = [(text_of(n, "CertificateID") or "", data_of(n, "Certificate"))
             for n in children(operation.element, "NVTCertificate")]  # fmt: skip
    before = {identifier: store.get(identifier).cert_pem for identifier, _ in items}
    try:
        for identifier, data in items:
            store.replace_certificate(identifier, data)
    except CertificateRefused:
        for identifier, cert_pem in before.items():
            store.replace_certificate(identifier, cert_pem)
        raise
    return reply("LoadCertificatesResponse")


def load_certificate_with_private_key(request: web.Request, operation: SoapRequest) -> web.Response:
    items = []
    for node in children(operation.element, "CertificateWithPrivateKey"):
        identifier = text_of(node, "CertificateID") or ""
        items.append((identifier, data_of(node, "Certificate"), data_of(node, "PrivateKey", Refusal.BAD_KEY)))
    installed_all(store_of(request), [lambda s, i=i: s.install(*i) for i in items])
    return reply("LoadCertificateWithPrivateKeyResponse")


def load_ca_certificates(request: web.Request, operation: SoapRequest) -> web.Response:
    items = [(text_of(n, "CertificateID") or "", data_of(n, "Certificate"))
             for n in children(operation.element, "CACertificate")]  # fmt: skip
    installed_all(store_of(request), [lambda s, i=i: s.add_ca(*i) for i in items])
    return reply("LoadCACertificatesResponse")


def installed_all(store: CertificateStore, steps: list[Callable[[CertificateStore], Added]]) -> None:
    """Each step adds one certificate; when one is refused, those added before it go again."""
    made: list[str] = []
    try:
        for step in steps:
            made.append(step(store).id)
    except CertificateRefused:
        store.delete(made)
        raise


def delete_certificates(request: web.Request, operation: SoapRequest) -> web.Response:
    identifiers = [node.text.strip() if node.text else "" for node in children(operation.element, "CertificateID")]
    store_of(request).delete(identifiers)
    return reply("DeleteCertificatesResponse")


# -- Axis's certificate service ---------------------------------------------------------------------


def create_certificate2(request: web.Request, operation: SoapRequest) -> web.Response:
    """A self-signed certificate (Certificate management API "Create self-signed certificate");
    `KeyType` [GUESS: not in the documented request] picks the key. Reply [GUESS]: the certificate."""
    element = operation.element
    identifier = text_of(element, "Id") or ""
    subject = child(element, "Subject")
    parts = ("C", "ST", "L", "O", "OU", "CN")
    fields = {} if subject is None else {k: text_of(subject, k, required=False) or "" for k in parts}
    try:
        name = material.subject_name(fields)
    except material.MaterialError as exc:
        raise CertificateRefused(Refusal.BAD_ARGUMENT, str(exc)) from exc
    key_type = text_of(element, "KeyType", required=False) or material.DEFAULT_KEY_TYPE
    entry = store_of(request).create_self_signed(
        identifier, name, key_type, date_of(element, "ValidNotBefore"), date_of(element, "ValidNotAfter")
    )
    content = f"<acertificates:Certificate>{b64_der(entry.cert_pem)}</acertificates:Certificate>"
    return reply("CreateCertificate2Response", content, "acertificates")


def load_pkcs12(request: web.Request, operation: SoapRequest) -> web.Response:
    """[GUESS: the operation is not documented] a PFX file (base64 `Data`) with its `Password` under `Id`."""
    element = operation.element
    identifier = text_of(element, "Id") or ""
    try:
        data = material.unwrap(text_of(element, "Data") or "")
    except material.MaterialError as exc:
        raise CertificateRefused(Refusal.BAD_PKCS12, str(exc)) from exc
    store_of(request).install_pkcs12(identifier, data, text_of(element, "Password", required=False) or "")
    return reply("LoadPKCS12Response", prefix="acertificates")


def list_cert_sets(request: web.Request, operation: SoapRequest) -> web.Response:
    names = "".join(f"<acert:CertSetNames>{name}</acert:CertSetNames>" for name in CERT_SETS)
    return reply("ListCertSetsResponse", f"<acertificates:CertSetNameList>{names}</acertificates:CertSetNameList>",
                 "acertificates")  # fmt: skip


def cert_set_xml(https_id: str | None) -> str:
    """A certificate set's content (recorded GetCertSet WebServer shape)."""
    ids = "" if https_id is None else f"<acert:Id>{escape(https_id)}</acert:Id>"
    return (
        f"<acert:Certificates>{ids}</acert:Certificates><acert:CACertificates></acert:CACertificates>"
        "<acert:TrustedCertificates></acert:TrustedCertificates>"
    )


def get_cert_set(request: web.Request, operation: SoapRequest) -> web.Response:
    name = text_of(operation.element, "CertSetName") or ""
    if name not in CERT_SETS:
        return soap_fault("Invalid argument", subcode="ter:InvalidArgVal")  # [GUESS]
    https_id = store_of(request).https_id if name == WEB_SERVER else None
    content = f"<acertificates:CertSet>{cert_set_xml(https_id)}</acertificates:CertSet>"
    return reply("GetCertSetResponse", content, "acertificates")


_HANDLERS: dict[tuple[str, str], Handler] = {
    (TDS, "GetCertificates"): get_certificates,
    (TDS, "GetCACertificates"): get_ca_certificates,
    (TDS, "GetCertificatesStatus"): get_certificates_status,
    (TDS, "SetCertificatesStatus"): set_certificates_status,
    (TDS, "CreateCertificate"): create_certificate,
    (TDS, "GetPkcs10Request"): get_pkcs10_request,
    (TDS, "LoadCertificates"): load_certificates,
    (TDS, "LoadCertificateWithPrivateKey"): load_certificate_with_private_key,
    (TDS, "LoadCACertificates"): load_ca_certificates,
    (TDS, "DeleteCertificates"): delete_certificates,
    (ACERTIFICATES, "CreateCertificate2"): create_certificate2,
    (ACERTIFICATES, "LoadPKCS12"): load_pkcs12,
    (ACERTIFICATES, "ListCertSets"): list_cert_sets,
    (ACERTIFICATES, "GetCertSet"): get_cert_set,
}
# (namespace, operation) -> (least role, handler, subsystem): web_services.OPERATIONS registers them
OPERATIONS: dict[tuple[str, str], tuple[Role, Handler, str | None]] = {
    key: (Role.ADMIN, guarded(handler), None) for key, handler in _HANDLERS.items()
}
