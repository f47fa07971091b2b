"""The control API's rules (issue 19): list a device's rules with their action configurations and
whether each is active, fire a rule's start event, read the actions each rule ran. Rules are added
through action1 SOAP (events.md §4.3-4.4); the outcome is read through port.cgi (vapix-wire.md) and
the control API's event log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.test_control import Control, text_of
from tests.test_rules import PORT, VIRTUAL_INPUT, W401, active, add_action, add_rule, event, items, served


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():
        yield running


async def test_list_fire_and_read_the_runs_of_a_rule(control: Control) -> None:
    w401 = control[W401]
    relay = await add_action(w401, "com.axis.action.unlimited.io.toggle", "Relay on", port="8", state="active")
    number = await add_rule(w401, "Button holds relay", relay,
                            start=event("StartEvent", PORT, items(port="0", state="1")))  # fmt: skip
    listed = (await control.ok("GET", f"/devices/{W401}/rules"))["rules"]
    assert listed == [{
        "id": number, "name": "Button holds relay", "enabled": True, "active": False,
        "start": {"topic": PORT, "content": 'boolean(//SimpleItem[@Name="port" and @Value="0"] and '
                                            '//SimpleItem[@Name="state" and @Value="1"])'},
        "conditions": [], "activation_timeout": 0.0,
        "action": {"id": relay, "name": "Relay on", "token": "com.axis.action.unlimited.io.toggle",
                   "parameters": {"port": "8", "state": "active"}},
        "runs": 0, "last_run": None,
    }]  # fmt: skip

    fired = await control.ok("POST", f"/devices/{W401}/rules/{number}/fire")
    assert [(e["topic"], e["source"], e["data"]) for e in fired["events"]] == [(PORT, {"port": "0"}, {"state": "1"})]
    assert fired["rule"]["active"] and fired["rule"]["runs"] == 1
    assert await active(w401, 9) == "port9=active"  # the relay, seen as a VAPIX client sees it

    released = await control.ok("POST", f"/devices/{W401}/rules/{number}/fire", {"data": {"state": "0"}})
    assert not released["rule"]["active"]
    assert await active(w401, 9) == "port9=inactive"

    runs = (await control.ok("GET", f"/devices/{W401}/rules/{number}/runs"))["runs"]
    assert [(r["action"], r["result"], r["ok"]) for r in runs] == [
        ("com.axis.action.unlimited.io.toggle", "set I/O port 8 active", True)]
    one = await control.ok("GET", f"/devices/{W401}/rules/{number}")
    assert one["runs"] == runs and one["last_run"] == runs[0]


async def test_the_event_log_keeps_the_runs_of_one_rule(control: Control) -> None:
    w401 = control[W401]
    pulse = await add_action(w401, "com.axis.action.fixed.io.toggle", port="8", state="active", duration="1")
    first = await add_rule(w401, "First", pulse,
                           start=event("StartEvent", VIRTUAL_INPUT, items(port="3", active="1")))
    second = await add_rule(w401, "Second", pulse,
                            start=event("StartEvent", VIRTUAL_INPUT, items(port="4", active="1")))
    await control.ok("POST", f"/devices/{W401}/rules/{second}/fire")
    await control.ok("POST", f"/devices/{W401}/rules/{first}/fire")
    await control.ok("POST", f"/devices/{W401}/rules/{second}/fire", {"data": {"active": "0"}})  # not a start
    w401.device.clock.advance(2)
    await control.ok("POST", f"/devices/{W401}/rules/{second}/fire")
    log = await control.ok("GET", f"/devices/{W401}/events/log?rule={second}")
    assert [(e["source"]["rule"], e["data"]["name"]) for e in log["events"]] == [(str(second), "Second")] * 2
    newest = await control.ok("GET", f"/devices/{W401}/events/log?rule={first}&limit=1")
    assert [e["data"]["name"] for e in newest["events"]] == ["First"]
    assert (await control.ok("GET", f"/devices/{W401}/events/log?rule=99"))["events"] == []


async def test_a_rule_without_a_start_event_gets_its_conditions(control: Control) -> None:
    # the manual trigger as a condition (events.md §4.7): firing sets it, the relay follows
    w401 = control[W401]
    relay = await add_action(w401, "com.axis.action.unlimited.io.toggle", port="8", state="active")
    trigger = event("Condition", "tns1:Device/tnsaxis:IO/VirtualPort", items(port="1", state="1"))
    number = await add_rule(w401, "Manual", relay, conditions=trigger)
    fired = await control.ok("POST", f"/devices/{W401}/rules/{number}/fire")
    assert fired["events"][0]["data"] == {"state": "1"} and fired["rule"]["active"]
    assert await active(w401, 9) == "port9=active"


async def test_a_failed_action_is_a_run_that_says_why(control: Control) -> None:
    speaker = control[1]
    call = await add_action(speaker, "com.axis.action.fixed.sip", to_sip_address="sip:guard@127.0.0.1")
    start = event("StartEvent", VIRTUAL_INPUT, items(port="2", active="1"))
    number = await add_rule(speaker, "Call", call, start=start)
    await control.ok("POST", f"/devices/1/rules/{number}/fire")
    runs = (await control.ok("GET", f"/devices/1/rules/{number}/runs"))["runs"]
    assert [(r["ok"], r["result"]) for r in runs] == [(False, "Failed to initiate the call. SIP is disabled.")]


async def test_bad_fire_requests_are_refused_and_change_nothing(control: Control) -> None:
    w401 = control[W401]
    relay = await add_action(w401, "com.axis.action.unlimited.io.toggle", port="8", state="active")
    number = await add_rule(w401, "Hold", relay, start=event("StartEvent", PORT, items(port="0", state="1")))
    for path, body, status in [
        (f"/devices/{W401}/rules/99/fire", None, 404),
        (f"/devices/{W401}/rules/x/fire", None, 404),
        (f"/devices/{W401}/rules/{number}/fire", {"topic": PORT}, 400),
        (f"/devices/{W401}/rules/{number}/fire", {"data": ["state"]}, 400),
        (f"/devices/{W401}/rules/{number}/fire", {"data": {"colour": "red"}}, 400),
        (f"/devices/{W401}/rules/{number}/fire", {"data": {"state": {"deep": 1}}}, 400),
    ]:
        got, document = await control.call("POST", path, body)
        assert got == status and "error" in document, (path, body, got, document)
    got, _ = await control.call("POST", f"/devices/{W401}/rules/{number}/fire", raw="{not json")
    assert got == 400
    assert (await control.call("GET", f"/devices/{W401}/rules/99"))[0] == 404
    assert (await control.call("GET", f"/devices/{W401}/rules/99/runs"))[0] == 404
    assert (await control.call("GET", f"/devices/{W401}/events/log?rule=x"))[0] == 400
    assert await active(w401, 9) == "port9=inactive"
    assert (await control.ok("GET", f"/devices/{W401}/rules"))["rules"][0]["runs"] == 0
    assert "Action rule 'Hold'" not in await text_of(w401.url, "/axis-cgi/systemlog.cgi")
