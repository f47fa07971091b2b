"""The SOAP 1.2 side of `/vapix/services` (events.md §1.1, §1.2, §4.1): reading a request and the
envelope every reply and fault goes out in.

Requests are dispatched on the body's first child element (namespace + local name), never on
headers: clients differ in Content-Type and SOAPAction (events.md §1.1). Replies are what gSOAP on
AXIS OS 12.9 sends: the XML declaration, a newline, then one line: `SOAP-ENV:Envelope` with the
device's 52 namespace declarations (in its order, no default namespace), the Body, no trailing
newline. Faults are HTTP 400 with a SOAP-ENV:Fault in the same envelope.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aiohttp import web

from .replies import wire_bytes

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
EVENT1 = "http://www.axis.com/vapix/ws/event1"
ACTION1 = "http://www.axis.com/vapix/ws/action1"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"  # not recorded; gSOAP's and the docs' [DOC/INF]

# The envelope's declarations on AXIS OS 12.9 (D4200-VE, rs4acap event1_get_event_instances) [REC]
NAMESPACES: tuple[tuple[str, str], ...] = (
    ("SOAP-ENV", SOAP_ENV),
    ("SOAP-ENC", "http://www.w3.org/2003/05/soap-encoding"),
    ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    ("xsd", "http://www.w3.org/2001/XMLSchema"),
    ("c14n", "http://www.w3.org/2001/10/xml-exc-c14n#"),
    ("wsu", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"),
    ("ds", "http://www.w3.org/2000/09/xmldsig#"),
    ("wsse", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"),
    ("wsa5", "http://www.w3.org/2005/08/addressing"),
    ("xmime", "http://tempuri.org/xmime.xsd"),
    ("xop", "http://www.w3.org/2004/08/xop/include"),
    ("ns1", "http://www.onvif.org/ver20/analytics/humanface"),
    ("ns2", "http://www.onvif.org/ver20/analytics/humanbody"),
    ("wsrfbf", "http://docs.oasis-open.org/wsrf/bf-2"),
    ("wstop", "http://docs.oasis-open.org/wsn/t-1"),
    ("tt", "http://www.onvif.org/ver10/schema"),
    ("acert", "http://www.axis.com/vapix/ws/cert"),
    ("wsrfr", "http://docs.oasis-open.org/wsrf/r-2"),
    ("aa", ACTION1),
    ("acertificates", "http://www.axis.com/vapix/ws/certificates"),
    ("aentry", "http://www.axis.com/vapix/ws/entry"),
    ("aev", EVENT1),
    ("aeva", "http://www.axis.com/vapix/ws/embeddedvideoanalytics1"),
    ("apc", "http://www.axis.com/vapix/ws/panopsiscalibration1"),
    ("arth", "http://www.axis.com/vapix/ws/recordedtour1"),
    ("asd", "http://www.axis.com/vapix/ws/shockdetection"),
    ("aweb", "http://www.axis.com/vapix/ws/webserver"),
    ("tan1", "http://www.onvif.org/ver20/analytics/wsdl/RuleEngineBinding"),
    ("tan2", "http://www.onvif.org/ver20/analytics/wsdl/AnalyticsEngineBinding"),
    ("tan", "http://www.onvif.org/ver20/analytics/wsdl"),
    ("tds", "http://www.onvif.org/ver10/device/wsdl"),
    ("tev1", "http://www.onvif.org/ver10/events/wsdl/NotificationProducerBinding"),
    ("tev2", "http://www.onvif.org/ver10/events/wsdl/EventBinding"),
    ("tev3", "http://www.onvif.org/ver10/events/wsdl/SubscriptionManagerBinding"),
    ("tev", "http://www.onvif.org/ver10/events/wsdl"),
    ("tev4", "http://www.onvif.org/ver10/events/wsdl/PullPointSubscriptionBinding"),
    ("tev5", "http://www.onvif.org/ver10/events/wsdl/NotificationConsumerBinding"),
    ("tev6", "http://www.onvif.org/ver10/events/wsdl/PullPointBinding"),
    ("tev7", "http://www.onvif.org/ver10/events/wsdl/CreatePullPointBinding"),
    ("tev8", "http://www.onvif.org/ver10/events/wsdl/PausableSubscriptionManagerBinding"),
    ("wsnt", "http://docs.oasis-open.org/wsn/b-2"),
    ("timg", "http://www.onvif.org/ver20/imaging/wsdl"),
    ("tmd", "http://www.onvif.org/ver10/deviceIO/wsdl"),
    ("tptz", "http://www.onvif.org/ver20/ptz/wsdl"),
    ("tr2", "http://www.onvif.org/ver20/media/wsdl"),
    ("trc", "http://www.onvif.org/ver10/recording/wsdl"),
    ("trp", "http://www.onvif.org/ver10/replay/wsdl"),
    ("trt", "http://www.onvif.org/ver10/media/wsdl"),
    ("tse", "http://www.onvif.org/ver10/search/wsdl"),
    ("ter", "http://www.onvif.org/ver10/error"),
    ("tns1", "http://www.onvif.org/ver10/topics"),
    ("tnsaxis", "http://www.axis.com/2009/event/topics"),
)
PREFIXES = {prefix for prefix, _ in NAMESPACES}

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope'
    + "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES)
    + "><SOAP-ENV:Body>"
)
_TAIL = "</SOAP-ENV:Body></SOAP-ENV:Envelope>"


def attribute(value: str) -> str:
    """An attribute value's text, for a double-quoted attribute."""
    return escape(value, {'"': "&quot;"})


def envelope(body: str) -> str:
    """The reply document around one Body's content."""
    return f"{_HEAD}{body}{_TAIL}"


def soap_reply(body: str, status: int = 200) -> web.Response:
    return web.Response(body=wire_bytes(envelope(body)), status=status, headers={"Content-Type": CONTENT_TYPE})


def soap_fault(
    reason: str, detail: str | None = None, code: str = "SOAP-ENV:Sender", subcode: str | tuple[str, ...] | None = None
) -> web.Response:
    """HTTP 400 with a SOAP 1.2 fault (events.md §4.1); `detail` is the Detail's content, left out when None;
    `subcode` a Code's Subcode value (`ter:InvalidArgs`), or nested ones, outermost first (ONVIF's
    `ter:InvalidArgVal`, `ter:CertificateID`)."""
    empty = '<SOAP-ENV:Text xml:lang="en"/>'  # as the device writes an empty reason [REC §4.1]
    text = f'<SOAP-ENV:Text xml:lang="en">{escape(reason)}</SOAP-ENV:Text>' if reason else empty
    sub = ""
    for value in reversed((subcode,) if isinstance(subcode, str) else subcode or ()):
        sub = f"<SOAP-ENV:Subcode><SOAP-ENV:Value>{value}</SOAP-ENV:Value>{sub}</SOAP-ENV:Subcode>"
    fault = (
        f"<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>{code}</SOAP-ENV:Value>{sub}</SOAP-ENV:Code>"
        f"<SOAP-ENV:Reason>{text}</SOAP-ENV:Reason>"
        + (f"<SOAP-ENV:Detail>{detail}</SOAP-ENV:Detail>" if detail is not None else "")
        + "</SOAP-ENV:Fault>"
    )
    return soap_reply(fault, status=400)


def unknown_operation(namespace: str, name: str) -> web.Response:
    """No such operation (or namespace): gSOAP's SOAP_NO_METHOD fault text [GUESS: not recorded]."""
    shown = f"{{{namespace}}}{name}" if namespace else name
    return soap_fault(f"Method '{shown}' not implemented: method name or namespace not recognized")


class SoapMalformed(ValueError):
    """A body that is not a SOAP 1.2 request: not XML, a DTD, no Envelope/Body, an empty Body.
    `code` and `reason` are the fault's (gSOAP's wording [GUESS: no recording of either])."""

    def __init__(self, reason: str, code: str = "SOAP-ENV:Sender") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


VERSION_MISMATCH = "SOAP version mismatch or invalid SOAP message"


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """The operation a request asks for: the Body's first child element."""

    namespace: str
    name: str
    element: ET.Element

    def text(self, child: str) -> str | None:
        """The text of a child element of the operation, in any namespace (`port`, `active`)."""
        for node in self.element:
            if node.tag.rpartition("}")[2] == child:
                return (node.text or "").strip()
        return None


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def parse_request(raw: bytes) -> SoapRequest:
    """The operation of a SOAP 1.2 request body; SoapMalformed when there is none. A document type
    declaration is refused before parsing (no entities: nothing expands)."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise SoapMalformed("DTD prohibited")
    try:
        root = ET.fromstring(raw)
    except (ET.ParseError, ValueError) as exc:
        raise SoapMalformed("XML syntax error") from exc
    if _split(root.tag) != (SOAP_ENV, "Envelope"):
        raise SoapMalformed(VERSION_MISMATCH, "SOAP-ENV:VersionMismatch")
    body = next((child for child in root if _split(child.tag) == (SOAP_ENV, "Body")), None)
    if body is None or len(body) == 0:
        raise SoapMalformed("No operation in the SOAP Body")
    operation = body[0]
    namespace, name = _split(operation.tag)
    return SoapRequest(namespace, name, operation)
