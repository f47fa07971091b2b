"""W401 I/O ports through port.cgi, portmanagement.cgi, supervisedio.cgi and param.cgi (issue 7).

Citations: "manual" is the AXIS W401 user manual (the examples "Activate a lamp when the window
is opened", "Open a lock when a button is pressed", "Detect tampering with input signal"; the
"I/O ports" page; the "I/O connector"); "wire" is vapix-wire.md §5.3; "notes" are the research
notes on supervisedio/portmanagement (supervisedio.cgi §1, portmanagement.cgi §3, port.cgi §4).

Numbering: port.cgi and the IoSubsystem Python API count from 1 (the manual's "Port 9" is the
relay), `IOPort.I#` and portmanagement from "0" (strings), supervisedio from 0 (integers).
Time is the device's SimClock: pulses and sequences are checked by advancing it, never by sleeping.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from axis.models.parameters.io_port import PortDirection
from axis.models.port_management import PortConfiguration, Sequence, SetPortsRequest

from axisim.device import AccountSpec, Device, make_device
from axisim.events import Event
from axisim.lifecycle import RestartKind
from axisim.persistence import StateDir
from axisim.subsystems.io import IoSubsystem, PortError, Range
from axisim.subsystems.io.topics import PORT as PORT_TOPIC
from axisim.subsystems.io.topics import SUPERVISED_PORT
from param_tree import Role
from tests.axis_lib import axis_library
from tests.conftest import ROOT, DeviceClient, DeviceClientFactory

MODEL = "W401"
PORT = "/axis-cgi/io/port.cgi"
PM = "/axis-cgi/io/portmanagement.cgi"
SIO = "/axis-cgi/supervisedio.cgi"
PARAM = "/axis-cgi/param.cgi"
OPERATOR = ("op", "pw")
VIEWER = ("view", "pw")
ACCOUNTS = [AccountSpec("root", "pass"), AccountSpec("op", "pw", "operator"), AccountSpec("view", "pw", "viewer")]
RELAY = 9  # manual: "Port 9", the relay; IOPort.I8, portmanagement "8", supervisedio 8
# supervisedio.cgi doc's setSupervised example windows (notes §1), 0-255 scale
DOC_RANGES = [
    {"state": "short", "lowerlimit": 0, "upperlimit": 9},
    {"state": "close", "lowerlimit": 10, "upperlimit": 90},
    {"state": "open", "lowerlimit": 91, "upperlimit": 200},
    {"state": "cut", "lowerlimit": 201, "upperlimit": 255},
]


# -- helpers -------------------------------------------------------------------------------


async def w401(device_client: DeviceClientFactory) -> DeviceClient:
    return await device_client(MODEL, accounts=ACCOUNTS)


EVENTS: dict[int, tuple[Device, list[Event]]] = {}  # id(device) -> the device and its bus events since io_of


def io_of(device: Device) -> IoSubsystem:
    """The device's io subsystem; the first call subscribes to its I/O events on the device bus."""
    io = device.subsystems["io"]
    assert isinstance(io, IoSubsystem)
    if id(device) not in EVENTS or EVENTS[id(device)][0] is not device:
        seen: list[Event] = []
        device.bus.subscribe(seen.append, ["tns1:Device/tnsaxis:IO//."])
        EVENTS[id(device)] = (device, seen)
    return io


def events_of(io: IoSubsystem) -> list[Event]:
    return EVENTS[id(io.device)][1]


def q(value: str) -> str:
    """Percent-encode a port.cgi value (wire: `action=2%3A%2F300%5C`)."""
    return quote(value, safe=",")


async def port_cgi(dc: DeviceClient, query: str, *, auth: tuple[str, str] = ROOT) -> dict[str, str]:
    """port.cgi answers one `portN=<value>` line per port (wire §5.3)."""
    text = await dc.text("GET", f"{PORT}?{query}", auth=auth)
    return dict(line.split("=", 1) for line in text.splitlines())


async def act(dc: DeviceClient, action: str, *, auth: tuple[str, str] = ROOT) -> None:
    """port.cgi action: "The body is empty for the action argument" (wire §5.3)."""
    assert await dc.text("GET", f"{PORT}?action={q(action)}", auth=auth) == ""


async def port_cgi_refused(dc: DeviceClient, query: str) -> str:
    response = await dc.get(f"{PORT}?{query}")
    body = await response.text()
    assert response.status == 400, (query, response.status, body)
    assert response.headers["Content-Type"] == "text/plain"
    assert body.startswith("Error: ") and body.endswith("\n"), body
    return body


async def post_json(dc: DeviceClient, path: str, body: bytes, auth: tuple[str, str] = ROOT) -> dict[str, Any]:
    """AJR APIs answer HTTP 200 application/json, errors included (notes §0)."""
    response = await dc.post(path, data=body, auth=auth)
    text = await response.text()
    assert response.status == 200, (path, response.status, text)
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(text)


def document(method: str, params: Any, version: str | None) -> bytes:
    doc: dict[str, Any] = {"context": "io test", "method": method}
    if version is not None:
        doc["apiVersion"] = version
    if params is not None:
        doc["params"] = params
    return json.dumps(doc).encode()


async def pm(
    dc: DeviceClient, method: str, params: Any = None, *, auth: tuple[str, str] = ROOT, version: str | None = "1.0"
) -> dict[str, Any]:
    return await post_json(dc, PM, document(method, params, version), auth)


async def sio(
    dc: DeviceClient, method: str, params: Any = None, *, auth: tuple[str, str] = ROOT, version: str | None = "2.0"
) -> dict[str, Any]:
    return await post_json(dc, SIO, document(method, params, version), auth)


def data_of(reply: dict[str, Any]) -> Any:
    assert "error" not in reply, reply
    return reply["data"]


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert "data" not in reply, reply
    return reply["error"]


async def get_ports(dc: DeviceClient, *, auth: tuple[str, str] = ROOT) -> dict[str, dict[str, Any]]:
    data = data_of(await pm(dc, "getPorts", auth=auth))
    assert data["numberOfPorts"] == len(data["items"]) == 9
    return {item["port"]: item for item in data["items"]}


async def set_ports(dc: DeviceClient, *items: dict[str, str], auth: tuple[str, str] = OPERATOR) -> dict[str, Any]:
    return await pm(dc, "setPorts", {"ports": list(items)}, auth=auth)


async def listed(dc: DeviceClient, group: str = "IOPort,Input,Output") -> dict[str, str]:
    text = await dc.text("GET", f"{PARAM}?action=list&group={group}")
    return dict(line.split("=", 1) for line in text.splitlines() if line)


async def update(dc: DeviceClient, query: str) -> str:
    return await dc.text("GET", f"{PARAM}?action=update&{query}")


async def supervised(dc: DeviceClient, port: int) -> dict[str, Any]:
    items = data_of(await sio(dc, "getSupervised", [{"port": port}]))["items"]
    assert len(items) == 1 and items[0]["port"] == port
    return items[0]


def transitions(io: IoSubsystem, port: int | None = None, since: int = 0) -> list[tuple[str, str]]:
    """(0-based port, "1" active / "0" inactive) of the tnsaxis:IO/Port events (wire §5.3 events),
    from the `since`-th event on."""
    found = [(e.source["port"], e.data["state"]) for e in events_of(io)[since:] if e.topic == PORT_TOPIC]
    return [t for t in found if port is None or t[0] == str(port)]


def tampering(io: IoSubsystem) -> list[tuple[str, str]]:
    """(0-based port, "1"/"0") at each change of a supervised port's tampered value (IO/SupervisedPort)."""
    found: list[tuple[str, str]] = []
    last: dict[str, str] = {}
    for event in events_of(io):
        port, tampered = event.source.get("port", ""), event.data.get("tampered", "")
        if event.topic == SUPERVISED_PORT and tampered != last.get(port, "0"):
            found.append((port, tampered))
        last[port] = tampered if event.topic == SUPERVISED_PORT else last.get(port, "0")
    return found


async def outputs_to(dc: DeviceClient, *numbers: int) -> None:
    """Make 1-based ports outputs (param.cgi `IOPort.I#.Direction`)."""
    assert await update(dc, "&".join(f"IOPort.I{n - 1}.Direction=output" for n in numbers)) == "OK"


# -- the manual's examples -------------------------------------------------------------------


async def configure_lamp_by_port_management(dc: DeviceClient) -> None:
    reply = await set_ports(
        dc,
        {"port": "0", "name": "Window sensor", "direction": "input", "normalState": "closed"},
        {"port": "1", "name": "Lamp", "direction": "output", "normalState": "open"},
    )
    assert data_of(reply) == {"ports": ["0", "1"]}
    assert reply["apiVersion"] == "1.1" and reply["context"] == "io test"  # the device's version (notes §0)


async def configure_lamp_by_params(dc: DeviceClient) -> None:
    # Input.Trig / Output.Active name the circuit that makes the port active: the normal state's opposite
    query = (
        "IOPort.I0.Input.Name=Window%20sensor&IOPort.I0.Input.Trig=open"
        "&IOPort.I1.Direction=output&IOPort.I1.Output.Name=Lamp&IOPort.I1.Output.Active=closed"
    )
    assert await update(dc, query) == "OK"


@pytest.mark.parametrize("configure", [configure_lamp_by_port_management, configure_lamp_by_params])
async def test_lamp_when_the_window_is_opened(device_client: DeviceClientFactory, configure: Any) -> None:
    # manual, "Activate a lamp when the window is opened": Port 1 Window sensor, input, normal
    # closed circuit; Port 2 Lamp, output, normal open circuit
    dc = await w401(device_client)
    io = io_of(dc.device)
    await configure(dc)
    configured = len(events_of(io))  # port 1 became active: normal closed, the loop still open
    io.close_input(1)  # the window is closed: its contact closes the loop
    assert await port_cgi(dc, "checkactive=1") == {"port1": "inactive"}
    assert await port_cgi(dc, "check=1") == {"port1": "1"}
    io.open_input(1)  # the window opens
    assert await port_cgi(dc, "checkactive=1") == {"port1": "active"}
    assert transitions(io, 0, configured) == [("0", "0"), ("0", "1")]
    # the rule "Toggle I/O while the rule is active", Port: Lamp, State: Active
    await act(dc, "2:/")
    assert await port_cgi(dc, "checkactive=2") == {"port2": "active"}
    assert await port_cgi(dc, "check=2") == {"port2": "1"}
    assert io.output(2) == "closed"
    ports = await get_ports(dc)
    assert ports["0"] == {
        "port": "0", "state": "open", "configurable": True, "usage": "", "direction": "input",
        "name": "Window sensor", "normalState": "closed",
    }  # fmt: skip
    assert (ports["1"]["name"], ports["1"]["direction"], ports["1"]["normalState"], ports["1"]["state"]) == (
        "Lamp", "output", "open", "closed",
    )  # fmt: skip
    params = await listed(dc)
    assert (params["IOPort.I0.State"], params["IOPort.I1.State"]) == ("open", "closed")
    # the window closes: the rule ends and the lamp goes out
    io.close_input(1)
    await act(dc, "2:\\")
    assert await port_cgi(dc, "check=1,2") == {"port1": "1", "port2": "0"}
    assert transitions(io, since=configured) == [("0", "0"), ("0", "1"), ("1", "1"), ("0", "0"), ("1", "0")]


async def test_open_a_lock_when_the_button_is_pressed(device_client: DeviceClientFactory) -> None:
    # manual, "Open a lock when a button is pressed": Port 1 Button, input, normal open; Port 9
    # Lock, normal open; rule "Toggle I/O once", Port: Lock, State: Active, Duration: 10 s
    dc = await w401(device_client)
    io = io_of(dc.device)
    reply = await set_ports(
        dc, {"port": "0", "name": "Button", "direction": "input", "normalState": "open"},
        {"port": "8", "name": "Lock", "normalState": "open"},
    )  # fmt: skip
    assert data_of(reply) == {"ports": ["0", "8"]}
    io.close_input(1)  # the button is pressed
    assert await port_cgi(dc, "checkactive=1") == {"port1": "active"}
    assert await dc.text("GET", f"{PORT}?action=9%3A%2F10000%5C") == ""  # 9:/10000\
    assert await port_cgi(dc, "check=9") == {"port9": "1"}
    assert io.output(RELAY) == "closed"
    dc.device.clock.advance(9.9)
    assert io.output(RELAY) == "closed"
    assert dc.device.param("IOPort.I8.State") == "closed"
    dc.device.clock.advance(0.1)
    assert io.output(RELAY) == "open"
    assert await port_cgi(dc, "checkactive=9") == {"port9": "inactive"}
    assert dc.device.param("IOPort.I8.State") == "open"
    assert transitions(io, 8) == [("8", "1"), ("8", "0")]
    assert (await get_ports(dc))["8"]["name"] == "Lock"


async def test_detect_tampering_with_a_supervised_input(device_client: DeviceClientFactory) -> None:
    # manual, "Detect tampering with input signal": turn on Supervised for the port; the rule's
    # condition is "Supervised input tampering is active"
    dc = await w401(device_client)
    io = io_of(dc.device)
    reply = await sio(dc, "setSupervised", [{"port": 0, "supervised": True, "ranges": DOC_RANGES}])
    assert data_of(reply) == {"items": [{"port": 0, "code": 1, "message": ""}]}
    assert reply["apiVersion"] == "2.0"
    assert (await listed(dc))["IOPort.I0.Supervised"] == "yes"
    assert await supervised(dc, 0) == {"port": 0, "supervised": True, "supervisable": True, "state": "open",
                                       "level": 145}  # fmt: skip
    io.cut_input(1)
    found = await supervised(dc, 0)
    assert (found["state"], found["level"]) == ("cut", 230)  # inside the doc's "cut" window 201-255
    assert (await listed(dc))["IOPort.I0.State"] == "cut"
    assert await port_cgi(dc, "checkactive=1") == {"port1": "inactive"}  # the tampering is reported, not the contact
    assert tampering(io) == [("0", "1")]
    io.short_input(1)
    assert (await supervised(dc, 0))["state"] == "short"
    assert (await listed(dc))["IOPort.I0.State"] == "short"
    assert tampering(io) == [("0", "1")]  # still tampered: no new event
    io.repair_input(1)
    assert (await supervised(dc, 0))["state"] == "open"
    assert tampering(io) == [("0", "1"), ("0", "0")]
    io.close_input(1)
    assert (await supervised(dc, 0))["state"] == "close"
    assert (await listed(dc))["IOPort.I0.State"] == "closed"
    assert await port_cgi(dc, "checkactive=1") == {"port1": "active"}
    ranges = data_of(await sio(dc, "getSupervisedRanges", [{"port": 0}]))["items"]
    assert ranges == [{"port": 0, "ranges": DOC_RANGES}]


async def test_an_unsupervised_input_reads_a_cut_as_open_and_a_short_as_closed(
    device_client: DeviceClientFactory,
) -> None:
    # manual, "I/O ports": "An input on the device has an open circuit when it's disconnected"
    dc = await w401(device_client)
    io = io_of(dc.device)
    io.close_input(2)
    io.cut_input(2)
    assert await port_cgi(dc, "check=2") == {"port2": "0"}
    assert await port_cgi(dc, "checkactive=2") == {"port2": "inactive"}
    assert (await listed(dc))["IOPort.I1.State"] == "open"
    assert (await supervised(dc, 1))["state"] == "open" and (await supervised(dc, 1))["level"] == 0
    io.short_input(2)  # a short looks like a closed contact when nothing supervises the loop
    assert await port_cgi(dc, "check=2") == {"port2": "1"}
    assert await port_cgi(dc, "checkactive=2") == {"port2": "active"}
    assert tampering(io) == []


async def test_the_three_numberings_name_the_same_port(device_client: DeviceClientFactory) -> None:
    # wire §5.3: port.cgi port N <-> IOPort.I(N-1) <-> portmanagement "N-1"; supervisedio ints (notes §1)
    dc = await w401(device_client)
    io_of(dc.device).close_input(3)
    assert await port_cgi(dc, "check=2,3,4") == {"port2": "0", "port3": "1", "port4": "0"}
    assert (await get_ports(dc))["2"]["state"] == "closed"
    assert (await listed(dc))["IOPort.I2.State"] == "closed"
    assert (await supervised(dc, 2))["state"] == "close"
    # CamStreamer posts port.cgi forms (notes §4): the body works like the query
    response = await dc.post(PORT, data="checkactive=3")
    assert response.status == 200 and await response.text() == "port3=active\n"


async def test_only_wired_inputs_take_physical_changes(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    io = io_of(dc.device)
    with pytest.raises(PortError):
        io.close_input(RELAY)  # the relay is an output only
    with pytest.raises(PortError):
        io.port(10)
    with pytest.raises(PortError):
        io.output(1)  # an input drives nothing
    with pytest.raises(PortError):
        io.tamper(1, "bent")


# -- directions and counts -------------------------------------------------------------------


async def counts(dc: DeviceClient) -> tuple[str, str, dict[str, int]]:
    params = await listed(dc, "Input,Output")
    numbers = data_of(await sio(dc, "getNumberOfPorts"))
    return params["Input.NbrOfInputs"], params["Output.NbrOfOutputs"], numbers


async def test_direction_changes_keep_the_port_counts(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    assert await counts(dc) == ("8", "1", {"inputs": 8, "outputs": 1})
    await outputs_to(dc, 2, 3)
    assert await counts(dc) == ("6", "3", {"inputs": 6, "outputs": 3})
    reply = await set_ports(dc, {"port": "3", "direction": "output"}, {"port": "4", "direction": "output"})
    assert data_of(reply) == {"ports": ["3", "4"]}
    assert await counts(dc) == ("4", "5", {"inputs": 4, "outputs": 5})
    expected = {"port1": "input", "port2": "output", "port5": "output", "port6": "input", "port9": "output"}
    assert await port_cgi(dc, "checkdirection=1,2,5,6,9") == expected
    assert data_of(await set_ports(dc, {"port": "1", "direction": "input"})) == {"ports": ["1"]}
    assert await update(dc, "IOPort.I2.Direction=input&IOPort.I3.Direction=input&IOPort.I4.Direction=input") == "OK"
    assert await counts(dc) == ("8", "1", {"inputs": 8, "outputs": 1})
    assert {item["direction"] for port, item in (await get_ports(dc)).items() if port != "8"} == {"input"}


async def test_a_supervised_input_cannot_become_an_output(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    assert data_of(await sio(dc, "setSupervised", [{"port": 0, "supervised": True}]))["items"][0]["code"] == 1
    reply = await update(dc, "IOPort.I0.Direction=output")
    assert reply.startswith("# Error:"), reply
    error = error_of(await set_ports(dc, {"port": "0", "direction": "output"}))
    assert (error["code"], error["details"]) == (2104, {"port": "0", "propertyName": "direction"})
    # and an output cannot be supervised
    await outputs_to(dc, 2)
    assert (await update(dc, "IOPort.I1.Supervised=yes")).startswith("# Error:")
    assert data_of(await sio(dc, "setSupervised", [{"port": 1, "supervised": True}]))["items"][0]["code"] == 2206
    params = await listed(dc)
    assert (params["IOPort.I0.Direction"], params["IOPort.I1.Supervised"]) == ("input", "no")
    assert "IOPort.I8.Supervised" not in params  # the relay is not supervisable at all


# -- setStateSequence ------------------------------------------------------------------------


async def sequence(dc: DeviceClient, port: str, *steps: tuple[str, int]) -> dict[str, Any]:
    params = {"port": port, "sequence": [{"state": state, "time": ms} for state, ms in steps]}
    return await pm(dc, "setStateSequence", params)


async def test_state_sequence_runs_on_the_clock_and_refuses_a_second_one(device_client: DeviceClientFactory) -> None:
    # notes §3: "issuing a new sequence while another sequence is running will result in an error";
    # 2200 "State sequence already ongoing"; the sequence runs once and the last state stays
    dc = await w401(device_client)
    io = io_of(dc.device)
    await outputs_to(dc, 2)
    clock = dc.device.clock
    reply = await sequence(dc, "1", ("closed", 1000), ("open", 2000), ("closed", 0))
    assert data_of(reply) == {"port": "1"}
    assert io.output(2) == "closed"
    clock.advance(0.5)
    assert io.output(2) == "closed"
    error = error_of(await sequence(dc, "1", ("open", 0)))
    assert (error["code"], error["message"]) == (2200, "State sequence already ongoing")
    clock.advance(1.0)  # 1.5 s
    assert io.output(2) == "open"
    assert (await get_ports(dc))["1"]["state"] == "open"
    clock.advance(1.0)  # 2.5 s
    assert io.output(2) == "open"
    clock.advance(1.0)  # 3.5 s: the last state
    assert io.output(2) == "closed"
    clock.advance(60)
    assert io.output(2) == "closed"  # and it stays
    assert transitions(io, 1) == [("1", "1"), ("1", "0"), ("1", "1")]
    assert data_of(await sequence(dc, "1", ("open", 0))) == {"port": "1"}  # accepted once it ended
    assert io.output(2) == "open"


async def test_a_sequence_ending_with_a_hold_is_ongoing_until_the_hold_ends(
    device_client: DeviceClientFactory,
) -> None:
    dc = await w401(device_client)
    io = io_of(dc.device)
    assert data_of(await sequence(dc, "8", ("closed", 500), ("open", 1500))) == {"port": "8"}
    dc.device.clock.advance(1.0)
    assert io.output(RELAY) == "open"
    assert error_of(await sequence(dc, "8", ("closed", 0)))["code"] == 2200
    dc.device.clock.advance(1.2)  # 2.2 s: the hold ended
    assert data_of(await sequence(dc, "8", ("closed", 0))) == {"port": "8"}
    assert io.output(RELAY) == "closed"


@pytest.mark.parametrize(
    ("port", "steps"),
    [
        ("0", [{"state": "closed", "time": 100}]),  # "This method can only be used on output ports"
        ("8", [{"state": "closed", "time": 65536}]),  # "maximum time ... is 65535 milliseconds"
        ("8", [{"state": "ajar", "time": 100}]),
        ("8", [{"state": "closed", "time": "100"}]),
        ("8", []),
        ("12", [{"state": "closed", "time": 100}]),
    ],
)
async def test_bad_state_sequences_are_refused(device_client: DeviceClientFactory, port: str, steps: Any) -> None:
    dc = await w401(device_client)
    io = io_of(dc.device)
    error = error_of(await pm(dc, "setStateSequence", {"port": port, "sequence": steps}))
    assert error["code"] == 2104 and error["message"] == "Invalid parameter value specified"
    assert error["details"]["port"] == port
    assert io.output(RELAY) == "open" and transitions(io) == []


async def test_a_normal_state_change_cancels_an_ongoing_sequence(device_client: DeviceClientFactory) -> None:
    # notes §3: "Changing direction or normalState will cancel an ongoing sequence"
    dc = await w401(device_client)
    io = io_of(dc.device)
    assert data_of(await sequence(dc, "8", ("closed", 5000), ("open", 0))) == {"port": "8"}
    assert data_of(await set_ports(dc, {"port": "8", "normalState": "closed"})) == {"ports": ["8"]}
    assert io.output(RELAY) == "closed" and not io.port(RELAY).active  # at its new normal state
    assert data_of(await sequence(dc, "8", ("open", 0))) == {"port": "8"}  # nothing ongoing any more
    dc.device.clock.advance(6)
    assert io.output(RELAY) == "open"


async def test_a_state_set_during_a_sequence_is_overridden_by_its_next_step(device_client: DeviceClientFactory) -> None:
    # notes §3 (doc): "It is possible to change state during a running sequence, but that state will be
    # overridden when the next part of the sequence is executed."
    dc = await w401(device_client)
    io = io_of(dc.device)
    assert data_of(await sequence(dc, "8", ("closed", 1000), ("open", 1000), ("closed", 0))) == {"port": "8"}
    dc.device.clock.advance(0.5)
    assert data_of(await set_ports(dc, {"port": "8", "state": "open"})) == {"ports": ["8"]}
    assert io.output(RELAY) == "open"
    dc.device.clock.advance(2.0)  # 2.5 s: the sequence's last step
    assert io.output(RELAY) == "closed"


# -- restarts and setting changes ------------------------------------------------------------


def w401_with_outputs() -> tuple[Device, IoSubsystem]:
    """Port 2 output normally open, port 3 output normally closed, port 9 the relay (normally open)."""
    device = make_device(MODEL)
    io = io_of(device)
    changes = [
        ("IOPort.I1.Direction", "output"),
        ("IOPort.I2.Direction", "output"),
        ("IOPort.I2.Output.Active", "open"),
    ]
    assert device.update_params(changes, Role.ADMIN) == []
    return device, io


def test_outputs_are_open_during_a_restart_and_back_to_normal_after() -> None:
    # manual, "I/O ports": "During restart, the output circuit is open. When the restart is
    # complete, the circuit goes back to the normal position."
    device, io = w401_with_outputs()
    io.run_action("2:/")
    io.run_action("9:/")
    assert (io.output(2), io.output(3), io.output(RELAY)) == ("closed", "closed", "closed")
    during: list[tuple[str, str, str]] = []
    device.lifecycle.cycle = lambda: during.append((io.output(2), io.output(3), io.output(RELAY)))
    device.restart(RestartKind.REBOOT)
    assert during == [("open", "open", "open")]
    device.boot()
    device.ready()
    assert (io.output(2), io.output(3), io.output(RELAY)) == ("open", "closed", "open")  # the normal states
    assert not any(io.port(n).active for n in (2, 3, RELAY))


def test_a_restart_drops_a_pending_pulse() -> None:
    device, io = w401_with_outputs()
    io.run_action("9:\\30000/")  # inactive now, active in 30 s
    device.clock.advance(10)
    device.restart(RestartKind.REBOOT)
    device.clock.advance(30)
    assert io.output(RELAY) == "open" and io.port(RELAY).steps == []
    assert ("8", "1") not in transitions(io)


async def test_changing_a_port_setting_returns_active_outputs_to_normal(device_client: DeviceClientFactory) -> None:
    # manual, "I/O ports": "If you change any settings on this page, the output circuits go back
    # to their normal positions regardless of any active triggers."
    dc = await w401(device_client)
    await outputs_to(dc, 2)
    await act(dc, "2:/")
    await act(dc, "9:/")
    assert await update(dc, "Network.FTP.Enabled=yes") == "OK"  # not an I/O setting
    assert await port_cgi(dc, "check=2,9") == {"port2": "1", "port9": "1"}
    assert await update(dc, "IOPort.I4.Input.Name=Door") == "OK"  # another port's name
    assert await port_cgi(dc, "check=2,9") == {"port2": "0", "port9": "0"}
    await act(dc, "2:/")
    assert data_of(await set_ports(dc, {"port": "5", "name": "Gate"})) == {"ports": ["5"]}
    assert await port_cgi(dc, "check=2") == {"port2": "0"}


async def test_setting_an_output_state_is_not_a_setting_change(device_client: DeviceClientFactory) -> None:
    # wire §5.3 setPorts `state` (outputs only) drives the output; other outputs keep their state
    dc = await w401(device_client)
    await outputs_to(dc, 2)
    await act(dc, "2:/")
    assert data_of(await set_ports(dc, {"port": "8", "state": "closed"})) == {"ports": ["8"]}
    assert await port_cgi(dc, "check=2,9") == {"port2": "1", "port9": "1"}
    # settings first (outputs to normal), then the requested state (io.set_ports)
    reply = await set_ports(dc, {"port": "0", "name": "Button"}, {"port": "1", "state": "closed"})
    assert data_of(reply) == {"ports": ["0", "1"]}
    assert await port_cgi(dc, "check=2,9") == {"port2": "1", "port9": "0"}


# -- bad requests change nothing ------------------------------------------------------------


async def snapshot(dc: DeviceClient) -> tuple[dict[str, str], int, tuple[str, str]]:
    io = io_of(dc.device)
    return await listed(dc), len(events_of(io)), (io.check(2), io.check(RELAY))


@pytest.mark.parametrize(
    "query",
    [
        "check=12",
        "check=0",
        "checkactive=1,12",
        "checkdirection=x",
        f"action={q('12:/')}",
        f"action={q('1:/')}",  # port 1 is an input
        f"action={q('2:x')}",
        f"action={q('2:/70000' + chr(92))}",  # waits are at most 65535 ms
        f"action={q('2:/300')}",  # ends with a wait
        f"action={q('2:/')}&check=12",  # one valid action, one bad argument: nothing runs
        f"action={q('9:/')}&action={q('12:/')}",
        f"action={q('9:/')}&bogus=1",
        "monitor=1",
        "",
    ],
)
async def test_port_cgi_refuses_bad_requests_and_changes_nothing(
    device_client: DeviceClientFactory, query: str
) -> None:
    dc = await w401(device_client)
    await outputs_to(dc, 2)
    before = await snapshot(dc)
    await port_cgi_refused(dc, query)
    dc.device.clock.advance(1)
    assert await snapshot(dc) == before


@pytest.mark.parametrize(
    "query",
    [
        "IOPort.I8.Direction=input",  # the relay is not configurable
        "IOPort.I0.Direction=sideways",
        "IOPort.I0.Input.Trig=ajar",
        "IOPort.I0.State=closed",  # published, read-only
        "Input.NbrOfInputs=3",
        "IOPort.I0.Supervised=maybe",
        "IOPort.I8.Supervised=yes",  # no such parameter: the relay is not supervisable
    ],
)
async def test_param_cgi_refuses_bad_port_settings(device_client: DeviceClientFactory, query: str) -> None:
    dc = await w401(device_client)
    before = await snapshot(dc)
    assert (await update(dc, query)).startswith("# Error:")
    assert await snapshot(dc) == before


async def test_port_management_envelope_errors(device_client: DeviceClientFactory) -> None:
    # notes §3 general error codes: 2100 version, 2101 JSON, 2102 method, 2103 missing
    dc = await w401(device_client)
    before = await snapshot(dc)
    error = error_of(await post_json(dc, PM, b'{"apiVersion": "1.0", "method": '))
    assert (error["code"], error["message"]) == (2101, "Invalid JSON")
    error = error_of(await pm(dc, "getPortz"))
    assert (error["code"], error["message"]) == (2102, "Method not supported")
    error = error_of(await pm(dc, "getPorts", version="2.0"))
    assert (error["code"], error["message"]) == (2100, "API version not supported")
    # a real A8207-VE Mk II answer when params is a list (notes §3 [REAL])
    reply = await pm(dc, "setPorts", [{"port": "0", "name": "Door"}])
    assert reply["error"] == {
        "code": 2103,
        "message": "Required parameter missing: 'ports' not found",
        "details": {"missing_element": "ports"},
    }
    assert (reply["apiVersion"], reply["method"], reply["context"]) == ("1.1", "setPorts", "io test")
    assert data_of(await pm(dc, "getSupportedVersions", version=None)) == {"apiVersions": ["1.1"]}
    assert await snapshot(dc) == before


async def test_set_ports_applies_the_valid_items_and_reports_the_unknown_port(
    device_client: DeviceClientFactory,
) -> None:
    # wire §5.3: "Partial failure -> error with details ...; valid properties are still applied"
    dc = await w401(device_client)
    error = error_of(await set_ports(dc, {"port": "9", "name": "Ghost"}, {"port": "0", "name": "Door"}))
    assert (error["code"], error["message"], error["details"]) == (2104, "Invalid parameter value specified",
                                                                   {"port": "9"})  # fmt: skip
    assert "errors" not in error  # "Available only if there is more than one error"
    assert (await listed(dc))["IOPort.I0.Input.Name"] == "Door"


async def test_set_ports_refuses_state_on_an_input(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    before = await snapshot(dc)
    error = error_of(await set_ports(dc, {"port": "0", "state": "closed"}))
    assert (error["code"], error["details"]) == (2104, {"port": "0", "propertyName": "state"})
    assert await snapshot(dc) == before


async def test_set_ports_refuses_turning_the_relay_around(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    error = error_of(await set_ports(dc, {"port": "8", "direction": "input"}))
    assert (error["code"], error["details"]) == (2104, {"port": "8", "propertyName": "direction"})
    ports = await get_ports(dc)
    assert (ports["8"]["direction"], ports["8"]["configurable"]) == ("output", False)
    assert (await listed(dc))["Output.NbrOfOutputs"] == "1"
    assert await port_cgi(dc, "checkdirection=9") == {"port9": "output"}


async def test_set_ports_renames_the_relay_when_its_direction_change_is_refused(
    device_client: DeviceClientFactory,
) -> None:
    # wire §5.3: "Partial failure -> error ...; valid properties are still applied"
    dc = await w401(device_client)
    error = error_of(await set_ports(dc, {"port": "8", "direction": "input", "name": "Lock"}))
    assert error["details"] == {"port": "8", "propertyName": "direction"} and "errors" not in error
    assert (await get_ports(dc))["8"]["name"] == "Lock"


async def test_set_ports_keeps_the_valid_properties_of_a_supervised_input(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    assert data_of(await sio(dc, "setSupervised", [{"port": 0, "supervised": True}]))["items"][0]["code"] == 1
    error = error_of(await set_ports(dc, {"port": "0", "direction": "output", "name": "Door", "normalState": "closed"}))
    assert error["details"] == {"port": "0", "propertyName": "direction"} and "errors" not in error
    port = (await get_ports(dc))["0"]
    assert (port["direction"], port["name"], port["normalState"]) == ("input", "Door", "closed")


async def test_set_ports_lists_every_failure(device_client: DeviceClientFactory) -> None:
    # wire §5.3: the first failure in `details`, the rest in `errors[]`
    dc = await w401(device_client)
    reply = await set_ports(
        dc, {"port": "8", "direction": "input"}, {"port": "0", "state": "closed"}, {"port": "3", "normalState": "ajar"}
    )
    error = error_of(reply)
    assert error["details"] == {"port": "8", "propertyName": "direction"}
    invalid = {"code": 2104, "message": "Invalid parameter value specified"}
    assert error["errors"] == [
        invalid | {"details": {"port": "0", "propertyName": "state"}},
        invalid | {"details": {"port": "3", "propertyName": "normalState"}},
    ]
    assert (await listed(dc))["IOPort.I3.Input.Trig"] == "closed"


async def test_supervisedio_errors(device_client: DeviceClientFactory) -> None:
    # notes §1 error table: 2.0 four-digit codes; 1.0 requests get the three-digit ones
    dc = await w401(device_client)
    before = await snapshot(dc)
    error = error_of(await sio(dc, "getSupervised", [{"port": 9}]))
    assert (error["code"], error["message"]) == (2205, "Invalid port parameter")
    reply = await sio(dc, "getSupervised", [{"port": 9}], version="1.0")
    assert (reply["apiVersion"], error_of(reply)["code"]) == ("1.0", 302)
    error = error_of(await post_json(dc, SIO, b"[not json"))
    assert (error["code"], error["message"]) == (2101, "JSON input error")
    assert error_of(await sio(dc, "getSupervision"))["code"] == 2102
    assert error_of(await sio(dc, "getSupervision", version="1.0"))["code"] == 203
    assert error_of(await sio(dc, "getSupervised", version="3.0"))["code"] == 2100
    assert data_of(await sio(dc, "getSupportedVersions", version=None)) == {"apiVersions": ["1.0", "2.0"]}
    assert await snapshot(dc) == before


@pytest.mark.parametrize(
    ("version", "item", "code"),
    [
        ("2.0", {"port": 8, "supervised": True}, 2206),  # the relay
        ("1.0", {"port": 8, "supervised": True}, 303),
        ("2.0", {"port": 0, "supervised": True, "ranges": [
            {"state": "close", "lowerlimit": 10, "upperlimit": 100},
            {"state": "open", "lowerlimit": 90, "upperlimit": 200}]}, 2204),  # overlapping
        ("2.0", {"port": 0, "supervised": True, "ranges": [{"state": "cut", "lowerlimit": 201, "upperlimit": 256}]},
         2204),  # the scale is 0-255
        ("1.0", {"port": 0, "supervised": True, "ranges": [{"state": "cut", "lowerlimit": 250, "upperlimit": 201}]},
         301),  # upside down
    ],
)  # fmt: skip
async def test_set_supervised_item_errors_change_nothing(
    device_client: DeviceClientFactory, version: str, item: dict[str, Any], code: int
) -> None:
    # notes §1: "a partial failure is still a data response, with the error code in that port's item"
    dc = await w401(device_client)
    before = await snapshot(dc)
    items = data_of(await sio(dc, "setSupervised", [item], version=version))["items"]
    assert [(i["port"], i["code"]) for i in items] == [(item["port"], code)]
    assert items[0]["message"]
    assert await snapshot(dc) == before
    ranges = data_of(await sio(dc, "getSupervisedRanges", [{"port": item["port"]}]))["items"]
    assert ranges == [{"port": item["port"], "ranges": []}]


# -- roles ----------------------------------------------------------------------------------


async def test_viewers_read_and_pulse_ports_but_do_not_configure_them(device_client: DeviceClientFactory) -> None:
    # notes §3: getPorts Viewer, setPorts Operator; port.cgi is Viewer (notes §4); supervisedio Operator (notes §1)
    dc = await w401(device_client)
    io_of(dc.device).close_input(1)
    assert await port_cgi(dc, "check=1,2", auth=VIEWER) == {"port1": "1", "port2": "0"}
    await act(dc, "9:/", auth=VIEWER)
    assert io_of(dc.device).output(RELAY) == "closed"
    assert (await get_ports(dc, auth=VIEWER))["0"]["state"] == "closed"
    before = await snapshot(dc)
    response = await dc.post(PM, data=document("setPorts", {"ports": [{"port": "0", "name": "X"}]}, "1.0"), auth=VIEWER)
    assert response.status == 401
    response = await dc.post(SIO, data=document("getSupervised", None, "2.0"), auth=VIEWER)
    assert response.status == 401
    response = await dc.post(SIO, data=document("setSupervised", [{"port": 0, "supervised": True}], "2.0"), auth=VIEWER)
    assert response.status == 401
    assert await snapshot(dc) == before
    assert (await dc.get(f"{PORT}?check=1", auth=None)).status == 401


async def test_operators_configure_ports_and_supervision(device_client: DeviceClientFactory) -> None:
    dc = await w401(device_client)
    assert data_of(await set_ports(dc, {"port": "2", "name": "Door"}, auth=OPERATOR)) == {"ports": ["2"]}
    reply = await sio(dc, "setSupervised", [{"port": 2, "supervised": True}], auth=OPERATOR)
    assert data_of(reply)["items"] == [{"port": 2, "code": 1, "message": ""}]
    assert (await supervised(dc, 2))["supervised"] is True
    params = await listed(dc)
    assert (params["IOPort.I2.Input.Name"], params["IOPort.I2.Supervised"]) == ("Door", "yes")


async def test_supervisedio_lists_only_supervisable_ports_by_default(device_client: DeviceClientFactory) -> None:
    # notes §1 isSupervisable: "If left out, only supervisable ports are returned"
    dc = await w401(device_client)
    await outputs_to(dc, 2)
    items = data_of(await sio(dc, "isSupervisable"))["items"]
    assert [i["port"] for i in items] == [0, 2, 3, 4, 5, 6, 7]
    assert all(i["input"] is True and i["output"] is False for i in items)
    states = data_of(await sio(dc, "getSupportedStates", [{"port": 0}, {"port": 8}]))["items"]
    assert states == [
        {"port": 0, "states": [{"name": "short"}, {"name": "close"}, {"name": "open"}, {"name": "cut"}]},
        {"port": 8, "states": []},
    ]


# -- the Home Assistant client library ------------------------------------------------------


@pytest.mark.integration
async def test_axis_library_reads_and_drives_the_relay_through_port_management() -> None:
    device = make_device(MODEL)
    io = io_of(device)
    async with axis_library(device) as (axis, _):
        vapix = axis.vapix
        await vapix.initialize()
        ports = vapix.io_port_management
        assert vapix.ports is ports and ports.initialized  # listed in API discovery: io-port-management
        assert len(ports) == 9
        relay = ports["8"]
        assert (relay.name, relay.direction, relay.configurable, relay.state) == ("Port 9", "output", False, "open")
        assert (ports["0"].direction, ports["0"].normal_state, ports["0"].state) == ("input", "open", "open")
        assert await ports.get_supported_versions() == ["1.1"]
        # axis 60's setPorts sends `params` as a list: the device answers 2103 as a real A8207-VE Mk II
        # did (notes §3 [REAL], HA issue 83148), and the library does not notice
        await ports.close("8")
        assert io.output(RELAY) == "open"
        answer = json.loads(await vapix.api_request(SetPortsRequest(PortConfiguration("8", state="closed"))))
        assert answer["error"]["details"] == {"missing_element": "ports"}
        # setStateSequence has the right shape: the relay closes and getPorts reads it back
        await ports.set_state_sequence("8", [Sequence("closed", 0)])
        assert io.output(RELAY) == "closed"
        io.close_input(1)
        await ports.update()
        assert (ports["8"].state, ports["0"].state) == ("closed", "closed")
        await ports.set_state_sequence("8", [Sequence("open", 0)])
        await ports.update()
        assert ports["8"].state == "open" and io.output(RELAY) == "open"
        # the library's port.cgi path (IOPort parameters, action=<id+1>:/) drives the same relay
        await vapix.params.io_port_handler.update()
        vapix.port_cgi.load_ports()
        assert vapix.port_cgi["8"].direction == PortDirection.OUT
        await vapix.port_cgi.close("8")
        assert io.output(RELAY) == "closed"
        await vapix.port_cgi.open("8")
        assert io.output(RELAY) == "open"


# -- factory default and the state directory ------------------------------------------------


def test_factory_default_resets_port_settings_but_not_the_wiring() -> None:
    device = make_device(MODEL)
    io = io_of(device)
    settings = [
        ("IOPort.I0.Input.Name", "Button"), ("IOPort.I0.Input.Trig", "open"), ("IOPort.I1.Direction", "output"),
        ("IOPort.I8.Output.Name", "Lock"),
    ]  # fmt: skip
    assert device.update_params(settings, Role.ADMIN) == []
    io.set_supervised(2, True, {"cut": Range(201, 255)})
    io.close_input(1)
    io.cut_input(3)
    assert device.param("IOPort.I2.State") == "cut"
    device.restart(RestartKind.SOFT)
    value = device.params.value
    assert (value("IOPort.I0.Input.Name"), value("IOPort.I0.Input.Trig"), value("IOPort.I1.Direction")) == (
        "Port 1", "closed", "input",
    )  # fmt: skip
    assert (value("IOPort.I8.Output.Name"), value("IOPort.I2.Supervised")) == ("Port 9", "no")
    assert io.ranges == {} and not io.port(3).supervised
    assert (value("Input.NbrOfInputs"), value("Output.NbrOfOutputs")) == ("8", "1")
    # the wiring is the physical world: the button is still held, the wire still cut
    assert io.check(1) == "closed" and io.port(1).active  # normal state open again
    assert io.port(3).tamper == "cut" and value("IOPort.I2.State") == "open"  # unsupervised: reads open


def test_wiring_and_settings_survive_a_simulator_restart(tmp_path: Path) -> None:
    first = make_device(MODEL)
    StateDir(tmp_path).attach(first)
    io = io_of(first)
    settings = [
        ("IOPort.I0.Input.Name", "Window sensor"), ("IOPort.I0.Input.Trig", "open"),
        ("IOPort.I1.Direction", "output"), ("IOPort.I1.Output.Name", "Lamp"),
    ]  # fmt: skip
    assert first.update_params(settings, Role.ADMIN) == []
    windows = {"short": Range(0, 9), "close": Range(10, 90), "open": Range(91, 200), "cut": Range(201, 255)}
    io.set_supervised(2, True, windows)
    io.close_input(1)
    io.cut_input(3)
    io.short_input(4)

    again = make_device(MODEL)
    assert StateDir(tmp_path).attach(again)
    io2 = io_of(again)
    value = again.params.value
    assert (value("IOPort.I0.Input.Name"), value("IOPort.I1.Output.Name"), value("IOPort.I2.Supervised")) == (
        "Window sensor", "Lamp", "yes",
    )  # fmt: skip
    assert io2.check(1) == "closed" and not io2.port(1).active  # window closed, normal closed
    assert io2.port(3).state == "cut" and value("IOPort.I2.State") == "cut"
    assert io2.supervision_state(2) == "cut" and io2.ranges == {2: windows}
    assert io2.check(4) == "closed" and value("IOPort.I3.State") == "closed"  # an unsupervised short
    assert (value("Input.NbrOfInputs"), value("Output.NbrOfOutputs")) == ("7", "2")
    assert io2.output(2) == "open"  # outputs start at their normal state
