"""`GetEventInstances` on `POST /vapix/services` (issue 18; events.md §1), parsed by the `axis`
library and independently with lxml, on every model; SOAP faults for what is not served (§4.1)."""

from __future__ import annotations

import pytest
from axis.models.event_instance import ListEventInstancesRequest, ListEventInstancesResponse
from lxml import etree

from axisim.device import AccountSpec, make_device
from axisim.events import TopicDecl
from tests.axis_lib import axis_library
from tests.conftest import MODELS, DeviceClient, DeviceClientFactory

SERVICES = "/vapix/services"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
EVENT1 = "http://www.axis.com/vapix/ws/event1"
WSTOP = "http://docs.oasis-open.org/wsn/t-1"
TOPIC_PREFIXES = {"http://www.onvif.org/ver10/topics": "tns1", "http://www.axis.com/2009/event/topics": "tnsaxis"}
AXIS_REQUEST = ListEventInstancesRequest()  # the library's own request: body and headers (events.md §1.1)
RS4ACAP_BODY = (  # prefix soap:, charset, no SOAPAction (events.md §1.1, rs4acap request files)
    b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
    b'<GetEventInstances xmlns="http://www.axis.com/vapix/ws/event1"/></soap:Body></soap:Envelope>'
)
CSHARP_BODY = (  # a prefixed operation (events.md §1.1, dtrammer/AxisActionEventLib)
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:even="http://www.axis.com/vapix/ws/event1"><soap:Header/><soap:Body><even:GetEventInstances/>'
    b"</soap:Body></soap:Envelope>"
)


def soap(operation: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP12}"><s:Body>{operation}</s:Body></s:Envelope>').encode()


async def post(
    dc: DeviceClient, body: bytes, headers: dict[str, str] | None = None, **kw: object
) -> tuple[int, str, str]:
    response = await dc.post(SERVICES, data=body, headers=headers or {"Content-Type": "application/soap+xml"}, **kw)
    return response.status, response.headers.get("Content-Type", ""), await response.text()


def visible(decls: list[TopicDecl]) -> set[str]:
    """The topics the `axis` parser can see: it stops at the first leaf, so a topic below another
    declared topic (Storage/RAID/RAIDActive below Storage/RAID) is hidden from it (events.md §1.3)."""
    topics = {d.topic for d in decls}
    return {t for t in topics if not any(t.startswith(other + "/") for other in topics)}


def items(raw: object) -> list[dict[str, object]]:
    """xmltodict gives one SimpleItemInstance as a dict, several as a list."""
    if not raw:
        return []
    return raw if isinstance(raw, list) else [raw]  # type: ignore[list-item]


def values(item: dict[str, object]) -> list[str]:
    raw = item.get("Value")
    if raw is None:
        return []
    listed = raw if isinstance(raw, list) else [raw]
    return [v if isinstance(v, str) else v["#text"] for v in listed]  # type: ignore[index]


# -- the reply as the axis library parses it (events.md §1.4) -----------------------------------------


@pytest.mark.parametrize("model", MODELS)
async def test_axis_library_decodes_every_declared_topic(device_client: DeviceClientFactory, model: str) -> None:
    """events.md §1.4: the library's request as it sends it; its parser finds every topic the device
    declares (event_topics()), with property/pulse, nice name, source and data items and values."""
    dc = await device_client(model)
    status, content_type, body = await post(dc, AXIS_REQUEST.content, AXIS_REQUEST.headers)
    assert (status, content_type) == (200, "application/soap+xml; charset=utf-8")
    decoded = ListEventInstancesResponse.decode(body.encode()).data
    decls = {d.topic: d for d in dc.device.event_topics()}
    assert set(decoded) == visible(list(decls.values()))
    assert "tns1:Device/tnsaxis:IO/VirtualInput" in decoded and "tns1:Device/tnsaxis:Status/SystemReady" in decoded
    for topic, instance in decoded.items():
        decl = decls[topic]
        assert instance.stateful is decl.stateful and instance.stateless is not decl.stateful, topic
        assert instance.name == (decl.nice or ""), topic
        assert instance.topic_filter == topic.replace("tns1", "onvif").replace("tnsaxis", "axis")
        for got, want in ((items(instance.source), decl.source), (items(instance.data), decl.data)):
            assert [i["@Name"] for i in got] == [i.name for i in want], topic
            assert [i["@Type"] for i in got] == [i.type for i in want], topic
            assert [i.get("@isPropertyState") == "true" for i in got] == [i.key for i in want], topic
            assert [values(i) for i in got] == [[v for v, _ in i.values] for i in want], topic
    if model == "W401":
        assert decoded["tns1:Device/Trigger/Relay"].is_application_data  # events.md §1.3 [REC]
        assert not decoded["tns1:Device/tnsaxis:IO/Port"].is_application_data


@pytest.mark.integration
@pytest.mark.parametrize("model", MODELS)
async def test_axis_library_initialize_event_instances(model: str) -> None:
    """events.md §0.1/§1.4: `vapix.initialize_event_instances()` over a real socket with Digest, as
    the acceptance probe runs it; the handler holds one EventInstance per visible declared topic."""
    device = make_device(model)
    async with axis_library(device) as (axis, _):
        await axis.vapix.initialize_event_instances()
        handler = axis.vapix.event_instances
        assert handler.initialized
        assert set(handler.keys()) == visible(device.event_topics())
        virtual = handler["tns1:Device/tnsaxis:IO/VirtualInput"]
        assert virtual.stateful and virtual.name == "Virtual input"
        assert virtual.source["@Name"] == "port" and len(virtual.source["Value"]) == 64
        assert virtual.data["@Name"] == "active" and virtual.data["@isPropertyState"] == "true"


# -- the grammar, read independently with lxml (events.md §1.2, §1.3) -----------------------------------


def _topic_of(element: etree._Element) -> str:
    parts = []
    node: etree._Element | None = element
    while node is not None and etree.QName(node).localname != "TopicSet":
        qname = etree.QName(node)
        parts.append(f"{TOPIC_PREFIXES[qname.namespace]}:{qname.localname}" if qname.namespace else qname.localname)
        node = node.getparent()
    return "/".join(reversed(parts))


@pytest.mark.parametrize("model", MODELS)
async def test_envelope_and_topic_set_grammar(device_client: DeviceClientFactory, model: str) -> None:
    """events.md §1.2: declaration, newline, one line, no trailing newline, SOAP 1.2 envelope with the
    device's namespace declarations and no default namespace; §1.3: the node, leaf and item grammar."""
    dc = await device_client(model)
    _, _, body = await post(dc, RS4ACAP_BODY, {"Content-Type": "application/soap+xml; charset=utf-8"})
    head, newline, line = body.partition("\n")
    assert head == '<?xml version="1.0" encoding="UTF-8"?>' and newline and "\n" not in line
    assert line.startswith('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ')
    assert line.endswith("</wstop:TopicSet></aev:GetEventInstancesResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>")
    assert "xmlns=" not in line  # no default namespace anywhere (§1.4)
    assert "<aev:SimpleItemInstance" in line and "/>" not in line  # items always with an end tag (§1.3)
    root = etree.fromstring(body.encode())
    assert root.tag == f"{{{SOAP12}}}Envelope" and len(root.nsmap) == 52  # as the D4200-VE on 12.9 declares them
    assert root.nsmap["tns1"] == "http://www.onvif.org/ver10/topics"
    assert root.nsmap["tnsaxis"] == "http://www.axis.com/2009/event/topics"
    response = root[0][0]
    assert (root[0].tag, response.tag) == (f"{{{SOAP12}}}Body", f"{{{EVENT1}}}GetEventInstancesResponse")
    topic_set = response[0]
    assert topic_set.tag == f"{{{WSTOP}}}TopicSet"
    decls = {d.topic: d for d in dc.device.event_topics()}
    leaves = {}
    for element in topic_set.iter():
        if element is topic_set or etree.QName(element).namespace == EVENT1:
            continue
        assert None not in element.nsmap
        names = [child.tag for child in element if etree.QName(child).namespace != EVENT1]
        assert len(names) == len(set(names)), _topic_of(element)  # siblings distinct (§1.4)
        if element.get(f"{{{WSTOP}}}topic") == "true":
            leaves[_topic_of(element)] = element
        else:
            assert len(element) > 0  # no empty intermediate node (§1.4)
    assert set(leaves) == set(decls)  # every declared topic, RAID children too (§1.3 leaf and parent)
    for topic, element in leaves.items():
        decl = decls[topic]
        assert element.get(f"{{{EVENT1}}}NiceName") == decl.nice, topic
        message = element[0]
        assert message.tag == f"{{{EVENT1}}}MessageInstance"
        assert message.get(f"{{{EVENT1}}}isProperty") == ("true" if decl.stateful else None), topic
        for kind, want in (("SourceInstance", decl.source), ("DataInstance", decl.data)):
            found = message.findall(f"{{{EVENT1}}}{kind}")
            assert len(found) == (1 if want else 0), topic  # never an empty instance (axis 66 crashes, §1.4)
            got = found[0].findall(f"{{{EVENT1}}}SimpleItemInstance") if found else []
            shown = [
                (i.get("Name"), i.get("Type"), i.get("isPropertyState"), i.get(f"{{{EVENT1}}}NiceName")) for i in got
            ]
            assert shown == [(i.name, i.type, "true" if i.key else None, i.nice) for i in want], topic
            for node, item in zip(got, want, strict=True):
                declared = [(v.text, v.get(f"{{{EVENT1}}}NiceName")) for v in node]
                assert declared == list(item.values), topic


async def test_example_leaf_matches_the_recording(device_client: DeviceClientFactory) -> None:
    """events.md §1.3 example: the W401's IO/Port leaf has the recorded shape, attribute order included."""
    dc = await device_client("W401")
    _, _, body = await post(dc, AXIS_REQUEST.content, AXIS_REQUEST.headers)
    assert (
        '<tns1:Device aev:NiceName="Device"><tnsaxis:Status aev:NiceName="Device sensors"><SystemReady '
        'wstop:topic="true" aev:NiceName="System Ready"><aev:MessageInstance aev:isProperty="true"><aev:DataInstance>'
        '<aev:SimpleItemInstance isPropertyState="true" Type="xsd:boolean" Name="ready"></aev:SimpleItemInstance>'
        "</aev:DataInstance></aev:MessageInstance></SystemReady></tnsaxis:Status>"
    ) in body
    assert (
        '<tnsaxis:IO aev:NiceName="Input ports"><Port wstop:topic="true" aev:NiceName="Digital input port">'
        '<aev:MessageInstance aev:isProperty="true"><aev:SourceInstance><aev:SimpleItemInstance aev:NiceName="Port" '
        'Type="xsd:int" Name="port"><aev:Value aev:NiceName="Any">-1</aev:Value><aev:Value aev:NiceName="Port 1">0'
        "</aev:Value>"
    ) in body
    assert (
        '<VirtualPort wstop:topic="true" aev:NiceName="Manual trigger"><aev:MessageInstance aev:isProperty="true">'
        '<aev:SourceInstance><aev:SimpleItemInstance aev:NiceName="Port" Type="xsd:int" Name="port"><aev:Value>1'
        "</aev:Value></aev:SimpleItemInstance></aev:SourceInstance><aev:DataInstance><aev:SimpleItemInstance "
        'isPropertyState="true" aev:NiceName="Active" Type="xsd:boolean" Name="state"></aev:SimpleItemInstance>'
        "</aev:DataInstance></aev:MessageInstance></VirtualPort>"
    ) in body
    assert '<Trigger><DigitalInput wstop:topic="true" isApplicationData="true"><aev:MessageInstance' in body


# -- dispatch on the body, never on headers (events.md §1.1) ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (RS4ACAP_BODY, {"Content-Type": "application/soap+xml; charset=utf-8"}),
        (
            AXIS_REQUEST.content,
            {
                "Content-Type": 'application/soap+xml; action="http://www.axis.com/vapix/ws/event1/'
                'GetEventInstances"; charset=utf-8'
            },
        ),
        (CSHARP_BODY, {"Content-Type": "text/xml"}),
        (AXIS_REQUEST.content, {"SOAPAction": "http://www.axis.com/vapix/ws/action1/GetActionRules"}),
        (AXIS_REQUEST.content, {}),
    ],
)
async def test_dispatch_reads_the_body(
    device_client: DeviceClientFactory, body: bytes, headers: dict[str, str]
) -> None:
    """events.md §1.1: each client's request style answers the same; headers never decide."""
    dc = await device_client("S3008")
    status, _, reply = await post(dc, body, headers)
    assert status == 200 and "<aev:GetEventInstancesResponse><wstop:TopicSet>" in reply


async def test_a_misleading_soap_action_does_not_make_an_operation(device_client: DeviceClientFactory) -> None:
    """events.md §1.1: the SOAPAction header names GetEventInstances, the Body another operation: the Body decides."""
    dc = await device_client("S3008")
    headers = {"SOAPAction": "http://www.axis.com/vapix/ws/event1/GetEventInstances"}
    status, _, reply = await post(dc, soap(f'<GetScheduledEvents xmlns="{EVENT1}"/>'), headers)
    assert status == 200 and "<aev:GetScheduledEventsResponse>" in reply and "TopicSet" not in reply


# -- faults (events.md §4.1, vapix-wire.md §5.8) ------------------------------------------------------


def fault_parts(reply: str) -> tuple[str, str]:
    root = etree.fromstring(reply.encode())
    fault = root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    assert fault is not None
    code = fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value")
    reason = fault.find(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")
    assert reason is not None and reason.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    return code or "", reason.text or ""


@pytest.mark.parametrize(
    "operation",
    [
        f'<GetNoSuchThing xmlns="{EVENT1}"/>',  # an unknown event1 action
        '<RemoveAllActionRules xmlns="http://www.axis.com/vapix/ws/action1"/>',  # an action1 operation axisim lacks
        '<GetEventInstances xmlns="http://example.com/not-axis"/>',  # the right name in an unknown namespace
        "<GetEventInstances/>",  # no namespace at all
    ],
)
async def test_unknown_operations_get_the_soap_fault(device_client: DeviceClientFactory, operation: str) -> None:
    """events.md §4.1: HTTP 400, a SOAP 1.2 Sender fault in the device's envelope, never a 404."""
    dc = await device_client("C1410MkII")
    status, content_type, reply = await post(dc, soap(operation))
    assert (status, content_type) == (400, "application/soap+xml; charset=utf-8")
    assert reply.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=')
    assert "<SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>" in reply
    code, reason = fault_parts(reply)
    assert code == "SOAP-ENV:Sender" and "not implemented" in reason


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "SOAP-ENV:Sender"),
        (b"not xml at all", "SOAP-ENV:Sender"),
        (b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body/></s:Envelope>", "SOAP-ENV:Sender"),
        (
            b"<Envelope xmlns='http://schemas.xmlsoap.org/soap/envelope/'><Body><GetEventInstances "
            b"xmlns='http://www.axis.com/vapix/ws/event1'/></Body></Envelope>",
            "SOAP-ENV:VersionMismatch",
        ),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "SOAP-ENV:Sender"),
    ],
)
async def test_malformed_requests_get_a_fault(device_client: DeviceClientFactory, body: bytes, code: str) -> None:
    """events.md §4.1 shape for bodies that are no SOAP 1.2 request (fault texts [GUESS])."""
    dc = await device_client("S4000")
    status, _, reply = await post(dc, body)
    assert status == 400
    assert fault_parts(reply)[0] == code


async def test_services_is_post_only(device_client: DeviceClientFactory) -> None:
    """events.md §1.1: a POSTed SOAP body; a GET is Apache's 405 [GUESS: not recorded]."""
    dc = await device_client("S3008")
    assert (await dc.get(SERVICES)).status == 405


# -- roles (events.md §1.1 [GUESS] viewer for GetEventInstances) -------------------------------------------


async def test_roles(device_client: DeviceClientFactory) -> None:
    """events.md §1.1: Digest as the CGIs; viewer for GetEventInstances, operator to change a virtual input."""
    accounts = [AccountSpec("root", "pass"), AccountSpec("op", "pw", "operator"), AccountSpec("eye", "pw", "viewer")]
    dc = await device_client("W401", accounts=accounts)
    assert (await post(dc, AXIS_REQUEST.content, auth=None))[0] == 401
    assert (await post(dc, AXIS_REQUEST.content, auth=("eye", "pw")))[0] == 200
    change = soap(
        f'<ChangeVirtualInputState xmlns="{EVENT1}"><port>3</port><active>1</active></ChangeVirtualInputState>'
    )
    assert (await post(dc, change, auth=("eye", "pw")))[0] == 401
    assert (await post(dc, change, auth=("op", "pw")))[0] == 200


# -- ChangeVirtualInputState (event1; events.md §4.7) ------------------------------------------------------


async def test_change_virtual_input_state(device_client: DeviceClientFactory) -> None:
    """The SOAP twin of activate.cgi: `stateChanged` as the C# client reads it; the same event."""
    dc = await device_client("S3016")
    seen: list[object] = []
    dc.device.bus.subscribe(seen.append, ["tns1:Device/tnsaxis:IO/VirtualInput"])
    change = (
        "<even:ChangeVirtualInputState><even:port>7</even:port><even:active>{}</even:active>"
        "</even:ChangeVirtualInputState>"
    )
    envelope = f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:even="{EVENT1}"><soap:Body>{{}}</soap:Body></soap:Envelope>'
    replies = []
    for active in ("1", "1", "0"):
        status, _, reply = await post(dc, envelope.format(change.format(active)).encode())
        assert status == 200
        replies.append(reply.partition("<SOAP-ENV:Body>")[2])
    assert replies == [
        f"<aev:ChangeVirtualInputStateResponse><aev:stateChanged>{word}</aev:stateChanged>"
        "</aev:ChangeVirtualInputStateResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        for word in ("true", "false", "true")
    ]
    assert len(seen) == 2
    status, _, reply = await post(dc, envelope.format(change.format("1").replace(">7<", ">65<")).encode())
    assert status == 400 and fault_parts(reply)[0] == "SOAP-ENV:Sender"
