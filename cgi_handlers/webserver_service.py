"""The web server's TLS settings on `/vapix/services` (`aweb:`): which certificate HTTPS presents,
whether HTTPS is on, the administrator's connection policy, the ciphers.

Reference: developer.axis.com "Certificate management API", "Set HTTPS certificate"
(`SetWebServerTlsConfiguration`: Configuration with Tls, ConnectionPolicies, Ciphers and a
CertificateSet whose `acert:Certificates/acert:Id` names the certificate); the reply shape of
`GetWebServerTlsConfiguration` as AXIS OS 12.11 answers it (`aweb:Configuration name="WebServer"`,
Cacsjep/oadm's recorded fixture), and its fault for an unqualified Configuration (ter:TagMismatch).
The settings are the device's parameters (`HTTPS.Enabled`, `System.BoaGroupPolicy.admin`,
`HTTPS.Ciphers`) and its certificate store's choice; the listener follows both (the certificate
from the next handshake on). Administrator only [GUESS].
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aiohttp import web

from axisim.access_policy import HTTPS_ENABLED, POLICY
from param_tree import Role

from .action_service import BadRequest, child, children, text_of
from .certificate_service import cert_set_xml, guarded, reply, store_of
from .request_context import actor_of, device_of
from .soap_envelope import SoapRequest, soap_fault

AWEB = "http://www.axis.com/vapix/ws/webserver"
CIPHERS = "HTTPS.Ciphers"
ADMIN_POLICY = POLICY + "admin"
POLICIES = {"http": "Http", "https": "Https", "both": "HttpAndHttps"}  # parameter value -> the API's word


def get_web_server_tls_configuration(request: web.Request, operation: SoapRequest) -> web.Response:
    device = device_of(request)
    tls = "false" if device.param(HTTPS_ENABLED, "yes") == "no" else "true"
    policy = POLICIES.get(device.param(ADMIN_POLICY, "both"), "HttpAndHttps")
    ciphers = "".join(f"<acert:Cipher>{c}</acert:Cipher>" for c in device.param(CIPHERS).split(":") if c)
    configuration = (
        f'<aweb:Configuration name="WebServer"><aweb:Tls>{tls}</aweb:Tls>'
        f"<aweb:ConnectionPolicies><aweb:Admin>{policy}</aweb:Admin></aweb:ConnectionPolicies>"
        f"<aweb:Ciphers>{ciphers}</aweb:Ciphers>"
        f"<aweb:CertificateSet>{cert_set_xml(store_of(request).https_id)}</aweb:CertificateSet></aweb:Configuration>"
    )
    return reply("GetWebServerTlsConfigurationResponse", configuration, "aweb")


def _flag(text: str | None) -> str | None:
    if text is None:
        return None
    value = {"true": "yes", "1": "yes", "false": "no", "0": "no"}.get(text.lower())
    if value is None:
        raise BadRequest("Validation constraint violation: data type mismatch in element Tls")
    return value


def set_web_server_tls_configuration(request: web.Request, operation: SoapRequest) -> web.Response:
    """Settings first (atomic, as param.cgi's update), then the certificate: a refusal changes nothing."""
    configuration = next(iter(operation.element), None)
    if configuration is None or configuration.tag != f"{{{AWEB}}}Configuration":
        return soap_fault("Tag mismatch", subcode="ter:TagMismatch")  # 12.11's answer to an unqualified one
    device = device_of(request)
    store = store_of(request)
    changes: list[tuple[str, str]] = []
    tls = _flag(text_of(configuration, "Tls", required=False))
    if tls is not None:
        changes.append((HTTPS_ENABLED, tls))
    policies = child(configuration, "ConnectionPolicies")
    admin = None if policies is None else text_of(policies, "Admin", required=False)
    if admin is not None:
        value = {word: name for name, word in POLICIES.items()}.get(admin)
        if value is None:
            raise BadRequest("Validation constraint violation: data type mismatch in element Admin")
        changes.append((ADMIN_POLICY, value))
    chosen = _certificate_id(configuration)
    if chosen is not None:
        store.get(chosen)  # an unknown one is refused (CertificateRefused) before anything changes
    changes = [(name, value) for name, value in changes if name in device.params and device.param(name) != value]
    if changes and device.update_params(changes, Role.ADMIN, actor_of(request), atomic=True):
        return soap_fault("Invalid argument", subcode="ter:InvalidArgVal")  # [GUESS] a setting the device refused
    if chosen is not None:
        store.choose_https(chosen)
    return reply("SetWebServerTlsConfigurationResponse", prefix="aweb")


def _certificate_id(configuration: ET.Element) -> str | None:
    """`CertificateSet/acert:Certificates/acert:Id` (the first one), None when the set names none."""
    certificate_set = child(configuration, "CertificateSet")
    certificates = None if certificate_set is None else child(certificate_set, "Certificates")
    ids = children(certificates, "Id")
    if not ids:
        return None
    return (ids[0].text or "").strip()  # empty: the store refuses it as unknown


# (namespace, operation) -> (least role, handler, subsystem): web_services.OPERATIONS registers them
OPERATIONS = {
    (AWEB, "GetWebServerTlsConfiguration"): (Role.ADMIN, guarded(get_web_server_tls_configuration), None),
    (AWEB, "SetWebServerTlsConfiguration"): (Role.ADMIN, guarded(set_web_server_tls_configuration), None),
}
