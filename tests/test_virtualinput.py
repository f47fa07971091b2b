"""Virtual inputs and the manual trigger (issue 18; events.md §4.7, §1.5 I/O table), on every model."""

from __future__ import annotations

import pytest

from axisim.device import AccountSpec
from axisim.events import Event
from axisim.lifecycle import RestartKind
from axisim.subsystems.virtualinput import VirtualInputSubsystem
from tests.conftest import MODELS, DeviceClient, DeviceClientFactory

VIRTUAL_INPUT = "tns1:Device/tnsaxis:IO/VirtualInput"
VIRTUAL_PORT = "tns1:Device/tnsaxis:IO/VirtualPort"
ACTIVATE = "/axis-cgi/virtualinput/activate.cgi"
DEACTIVATE = "/axis-cgi/virtualinput/deactivate.cgi"
TRIGGER = "/axis-cgi/io/virtualinput.cgi"
HEAD = (
    '<?xml version="1.0" encoding="utf-8" ?>\n'
    '<VirtualInputResponse xmlns="http://www.axis.com/vapix/http_cgi/virtualinput1" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" SchemaVersion="1.1" '
    'xsi:schemaLocation="http://www.axis.com/vapix/http_cgi/virtualinput1 '
    'http://www.axis.com/vapix/http_cgi/virtualinput1_0.xsd">\n'
)


def success(kind: str, changed: bool) -> str:
    word = "true" if changed else "false"
    return f"{HEAD}  <Success><{kind}><StateChanged>{word}</StateChanged></{kind}></Success>\n</VirtualInputResponse>\n"


def error(code: int, text: str) -> str:
    return (
        f"{HEAD}  <Error><GeneralError><ErrorCode>{code}</ErrorCode><ErrorDescription>{text}</ErrorDescription>"
        "</GeneralError></Error>\n</VirtualInputResponse>\n"
    )


def inputs_of(dc: DeviceClient) -> VirtualInputSubsystem:
    subsystem = dc.device.subsystems["virtualinput"]
    assert isinstance(subsystem, VirtualInputSubsystem)
    return subsystem


def watch(dc: DeviceClient) -> list[Event]:
    seen: list[Event] = []
    dc.device.bus.subscribe(seen.append, ["tns1:Device/tnsaxis:IO//."])
    return seen


async def get(dc: DeviceClient, path: str, auth: tuple[str, str] = ("root", "pass")) -> tuple[int, str, str]:
    response = await dc.get(path, auth=auth)
    return response.status, response.headers.get("Content-Type", ""), await response.text()


@pytest.mark.parametrize("model", MODELS)
async def test_activate_and_deactivate_answer_and_publish(device_client: DeviceClientFactory, model: str) -> None:
    """events.md §4.7: the replies, StateChanged false when the state did not change, one
    IO/VirtualInput event per change (port=N, active=1/0, stateful)."""
    dc = await device_client(model)
    seen = watch(dc)
    assert await get(dc, f"{ACTIVATE}?schemaversion=1&port=10") == (200, "text/xml", success("ActivateSuccess", True))
    assert await get(dc, f"{ACTIVATE}?schemaversion=1&port=10") == (200, "text/xml", success("ActivateSuccess", False))
    assert inputs_of(dc).is_active(10)
    status, _, body = await get(dc, f"{DEACTIVATE}?schemaversion=1&port=10")
    assert (status, body) == (200, success("DeactivateSuccess", True))
    assert (await get(dc, f"{DEACTIVATE}?schemaversion=1&port=10"))[2] == success("DeactivateSuccess", False)
    assert [(e.topic, e.source, e.data, e.stateful, e.key) for e in seen] == [
        (VIRTUAL_INPUT, {"port": "10"}, {"active": "1"}, True, "active"),
        (VIRTUAL_INPUT, {"port": "10"}, {"active": "0"}, True, "active"),
    ]


async def test_duration_deactivates_after_its_seconds(device_client: DeviceClientFactory) -> None:
    """events.md §4.7: `duration` auto-deactivates after S seconds; `0` is a pulse."""
    dc = await device_client("W401")
    seen = watch(dc)
    await get(dc, f"{ACTIVATE}?schemaversion=1&port=3&duration=5")
    dc.device.clock.advance(4.9)
    assert inputs_of(dc).is_active(3)
    dc.device.clock.advance(0.2)
    assert not inputs_of(dc).is_active(3)
    assert await get(dc, f"{ACTIVATE}?schemaversion=1&port=4&duration=0") == (
        200, "text/xml", success("ActivateSuccess", True),
    )  # fmt: skip
    assert not inputs_of(dc).is_active(4)
    assert [(e.source["port"], e.data["active"]) for e in seen] == [("3", "1"), ("3", "0"), ("4", "1"), ("4", "0")]


async def test_activate_without_duration_cancels_a_pending_deactivation(device_client: DeviceClientFactory) -> None:
    """events.md §4.7 (duration): a later activate without one leaves the port on [GUESS: undocumented]."""
    dc = await device_client("S3008")
    await get(dc, f"{ACTIVATE}?schemaversion=1&port=1&duration=2")
    await get(dc, f"{ACTIVATE}?schemaversion=1&port=1")
    dc.device.clock.advance(3)
    assert inputs_of(dc).is_active(1)


@pytest.mark.parametrize(
    ("query", "code", "text"),
    [
        ("port=1", 10, "Missing argument."),
        ("schemaversion=1", 10, "Missing argument."),
        ("schemaversion=2&port=1", 30, "The specified schema version is not supported."),
        ("schemaversion=x&port=1", 30, "The specified schema version is not supported."),
        ("schemaversion=1&port=65", 20, "The specified virtual input does not exist."),
        ("schemaversion=1&port=0", 20, "The specified virtual input does not exist."),
        ("schemaversion=1&port=a", 20, "The specified virtual input does not exist."),
        ("schemaversion=1&port=1&duration=-1", 50, "Invalid duration."),
        ("schemaversion=1&port=1&duration=x", 50, "Invalid duration."),
    ],
)
async def test_activate_errors(device_client: DeviceClientFactory, query: str, code: int, text: str) -> None:
    """events.md §4.7: errors are HTTP 200 GeneralError with codes 10, 20, 30, 50."""
    dc = await device_client("C1410MkII")
    seen = watch(dc)
    assert await get(dc, f"{ACTIVATE}?{query}") == (200, "text/xml", error(code, text))
    assert seen == []


async def test_deactivate_errors(device_client: DeviceClientFactory) -> None:
    """events.md §4.7: deactivate.cgi's codes 10 and 20."""
    dc = await device_client("S4000")
    assert (await get(dc, f"{DEACTIVATE}?schemaversion=1"))[2] == error(10, "Missing argument.")
    assert (await get(dc, f"{DEACTIVATE}?schemaversion=1&port=99"))[2] == error(
        20, "The specified virtual input does not exist."
    )


async def test_virtual_inputs_need_an_operator(device_client: DeviceClientFactory) -> None:
    """events.md §4.7: operator or admin; a viewer is refused (Apache's 401 with a new challenge)."""
    accounts = [AccountSpec("root", "pass"), AccountSpec("op", "pw", "operator"), AccountSpec("eye", "pw", "viewer")]
    dc = await device_client("S3016", accounts=accounts)
    assert (await get(dc, f"{ACTIVATE}?schemaversion=1&port=2", auth=("eye", "pw")))[0] == 401
    assert (await get(dc, f"{ACTIVATE}?schemaversion=1&port=2", auth=("op", "pw")))[0] == 200
    assert (await get(dc, f"{TRIGGER}?action=6:/", auth=("eye", "pw")))[0] == 200  # the manual trigger: viewer


async def test_schema_versions(device_client: DeviceClientFactory) -> None:
    """events.md §4.7: getschemaversions.cgi lists SchemaVersion > MajorVersion, MinorVersion, Deprecated."""
    dc = await device_client("W401")
    status, kind, body = await get(dc, "/axis-cgi/virtualinput/getschemaversions.cgi")
    assert (status, kind) == (200, "text/xml")
    assert body == (
        f"{HEAD}  <Success><GetSchemaVersionsSuccess><SchemaVersion><MajorVersion>1</MajorVersion>"
        "<MinorVersion>1</MinorVersion><Deprecated>false</Deprecated></SchemaVersion></GetSchemaVersionsSuccess>"
        "</Success>\n</VirtualInputResponse>\n"
    )


async def test_manual_trigger_publishes_virtual_port(device_client: DeviceClientFactory) -> None:
    """events.md §4.7: `io/virtualinput.cgi?action=6:/2000\\` sets the manual trigger (port
    `Properties.IO.ManualTriggerNbr`), which is `IO/VirtualPort` port 1; waits are milliseconds."""
    dc = await device_client("S3008")
    seen = watch(dc)
    assert await get(dc, f"{TRIGGER}?action=6%3A%2F") == (200, "text/plain", "")
    assert await get(dc, f"{TRIGGER}?action=6%3A%5C") == (200, "text/plain", "")
    assert (await get(dc, f"{TRIGGER}?action=6%3A%2F2000%5C"))[0] == 200
    assert inputs_of(dc).trigger_active()
    dc.device.clock.advance(2.1)
    assert not inputs_of(dc).trigger_active()
    assert [(e.topic, e.source, e.data, e.stateful) for e in seen] == [
        (VIRTUAL_PORT, {"port": "1"}, {"state": state}, True) for state in ("1", "0", "1", "0")
    ]


@pytest.mark.parametrize("action", ["5:/", "7:/", ":/", "6:", "6:2000", "6:/x", "6:/2000"])
async def test_manual_trigger_refusals(device_client: DeviceClientFactory, action: str) -> None:
    """Not the manual trigger's port (the physical inputs are not simulated through it), or
    malformed: port.cgi's `Error:` text, 400 [GUESS: undocumented]."""
    dc = await device_client("S3008")
    seen = watch(dc)
    status, _, body = await get(dc, f"{TRIGGER}?action={action.replace('/', '%2F')}")
    assert status == 400 and body.startswith("Error: ")
    assert seen == []


async def test_states_cover_topics_and_events_are_declared(device_client: DeviceClientFactory) -> None:
    """Brief: states() covers every stateful topic of topics(); every published event is declared."""
    dc = await device_client("W401")
    inputs = inputs_of(dc)
    seen = watch(dc)
    inputs.activate(64)
    inputs.run_action("6:/")
    declared = {d.topic: d for d in inputs.topics()}
    assert {e.topic for e in seen} <= set(declared)
    assert {t for t, d in declared.items() if d.stateful} <= {e.topic for e in inputs.states()}
    states = {(e.topic, e.source["port"]): e.value for e in inputs.states()}
    assert len(states) == 65
    assert states[(VIRTUAL_INPUT, "64")] == "1" and states[(VIRTUAL_INPUT, "1")] == "0"
    assert states[(VIRTUAL_PORT, "1")] == "1"
    decl = declared[VIRTUAL_INPUT]
    assert [v for v, _ in decl.source[0].values] == [str(n) for n in range(1, 65)]  # events.md §1.5: 1-64


async def test_a_restart_turns_them_off(device_client: DeviceClientFactory) -> None:
    """Virtual inputs are volatile [GUESS: events.md §4.7 is silent on restarts]; each one on goes off, evented."""
    dc = await device_client("S3008")
    inputs = inputs_of(dc)
    inputs.activate(5, 60)
    inputs.run_action("6:/")
    seen = watch(dc)
    inputs.going_down(RestartKind.REBOOT)
    assert not inputs.is_active(5) and not inputs.trigger_active()
    assert {(e.topic, e.value) for e in seen} == {(VIRTUAL_INPUT, "0"), (VIRTUAL_PORT, "0")}
    dc.device.clock.advance(120)  # the cancelled duration does nothing later
    assert len(seen) == 2


@pytest.mark.parametrize("model", MODELS)
async def test_the_properties_advertise_it(device_client: DeviceClientFactory, model: str) -> None:
    """param-trees.md §5.2/§9: Properties.VirtualInput.VirtualInput=yes, Properties.IO.ManualTriggerNbr=6."""
    dc = await device_client(model)
    listing = await dc.text("GET", "/axis-cgi/param.cgi?action=list&group=Properties.VirtualInput,Properties.IO")
    assert listing == "Properties.VirtualInput.VirtualInput=yes\nProperties.IO.ManualTriggerNbr=6\n"
