"""Bad rule definitions get the device's SOAP fault and change nothing (events.md §4.1, the recorded
faults); the manuals' limit of 256 rules; rules survive a restart with a state directory and are
gone after a factory default (issue 19)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from axisim.lifecycle import State
from axisim.simulated import DeviceSpec, SimulatedDevice
from tests.test_control import Control, text_of, vapix
from tests.test_rules import (
    ACTION1,
    NS,
    PORT,
    W401,
    active,
    add_action,
    add_rule,
    envelope,
    event,
    fault,
    items,
    listing,
    ok,
    rule_body,
    served,
)

READY = "tns1:Device/tnsaxis:Status/SystemReady"
TOGGLE = "com.axis.action.unlimited.io.toggle"


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():
        yield running


async def test_bad_definitions_get_the_recorded_faults_and_change_nothing(control: Control) -> None:
    w401 = control[W401]
    relay = await add_action(w401, TOGGLE, port="8", state="active")
    await add_rule(w401, "Kept", relay, start=event("StartEvent", PORT, items(port="0", state="1")))
    before = await listing(w401)
    start = event("StartEvent", PORT)
    cases = [
        (f'<AddActionConfiguration xmlns="{ACTION1}"><NewActionConfiguration><TemplateToken>com.bogus.nonexistent'
         "</TemplateToken><Parameters/></NewActionConfiguration></AddActionConfiguration>",
         "action template with id 'com.bogus.nonexistent' not found", "aa:ActionTemplateNotFoundFault"),
        (f'<AddActionConfiguration xmlns="{ACTION1}"><NewActionConfiguration><TemplateToken>{TOGGLE}</TemplateToken>'
         '<Parameters><Parameter Name="port" Value="8"/></Parameters></NewActionConfiguration>'
         "</AddActionConfiguration>",
         "Configuration parameter missing: state", "aa:ParametersMissmatchFault"),
        (rule_body("r", 9999, start=start),
         "Unknown action configuration '9999' specified for primary action", "aa:ActionConfigurationNotFoundFault"),
        (rule_body("r", relay, conditions=event("Condition", "tnsaxis:Nothing/Here")),
         "could not match any property events", "aa:InvalidConditionFilterFault"),
        (rule_body("r", relay, start=event("StartEvent", "definitely not a topic !@#$")),
         "failed to parse topic expression 'definitely not a topic !@#$'", "wsnt:InvalidTopicExpressionFault"),
        (rule_body("r", relay, start=event("StartEvent", PORT, "[bad")),
         "around character 1: syntax error, unexpected [, expecting (", "wsnt:InvalidMessageContentExpressionFault"),
        (rule_body("r", relay, conditions=""), "Invalid argument", "SOAP-ENV:Text"),
        (f'<RemoveActionRule xmlns="{ACTION1}"><RuleID>9999</RuleID></RemoveActionRule>',
         "No action rule with id '9999' exists", "aa:ActionRuleNotFoundFault"),
        (f'<RemoveActionRule xmlns="{ACTION1}"><RuleID>one</RuleID></RemoveActionRule>',
         "Invalid argument", "SOAP-ENV:Text"),
        (f'<RemoveActionConfiguration xmlns="{ACTION1}"><ConfigurationID>9999</ConfigurationID>'
         "</RemoveActionConfiguration>", "", "aa:ActionConfigurationNotFoundFault"),
        (f'<RemoveActionConfiguration xmlns="{ACTION1}"><ConfigurationID>{relay}</ConfigurationID>'
         "</RemoveActionConfiguration>", "action configuration is in use", "aa:ActionConfigurationIsInUseFault"),
    ]  # fmt: skip
    for body, reason, detail in cases:
        got, element = await fault(w401, body)
        assert got == reason, body
        prefix, local = detail.split(":")
        assert element[0].tag == f"{{{element[0].nsmap[prefix]}}}{local}", body
    # the in-use fault names the rules that use it (events.md §4.1)
    _, element = await fault(w401, cases[-1][0])
    assert element.findtext(".//aa:ActionRuleName", namespaces=NS) == "Kept"
    assert await listing(w401) == before


async def test_256_rules_and_no_more(control: Control) -> None:
    """"You can create up to 256 action rules" (both manuals)."""
    w401 = control[W401]
    relay = await add_action(w401, TOGGLE, port="8", state="active")
    body = rule_body("r", relay, conditions=event("Condition", READY, items(ready="1")))
    replies = await asyncio.gather(*(ok(w401, body) for _ in range(256)))
    assert sorted(int(r.findtext("aa:RuleID", namespaces=NS)) for r in replies) == list(range(1, 257))
    reason, _ = await fault(w401, body)
    assert reason == "Maximum number of action rules (256) reached"
    assert len((await ok(w401, f'<GetActionRules xmlns="{ACTION1}"/>')).findall(".//aa:ActionRule", NS)) == 256


async def test_rule_listing_echoes_what_was_sent(control: Control) -> None:
    w401 = control[W401]
    relay = await add_action(w401, TOGGLE, "relay", port="8", state="active")
    content = items(port="0", state="1")
    number = await add_rule(w401, "Echo", relay, start=event("StartEvent", PORT, content),
                            conditions=event("Condition", READY, items(ready="1")), timeout="PT5S")  # fmt: skip
    rule = (await ok(w401, f'<GetActionRules xmlns="{ACTION1}"/>')).find("aa:ActionRules/aa:ActionRule", NS)
    assert rule.findtext("aa:RuleID", namespaces=NS) == str(number)
    assert rule.findtext("aa:Enabled", namespaces=NS) == "true"
    assert rule.findtext("aa:StartEvent/wsnt:TopicExpression", namespaces=NS) == PORT
    assert rule.findtext("aa:StartEvent/wsnt:MessageContent", namespaces=NS) == content
    assert rule.findtext("aa:Conditions/aa:Condition/wsnt:TopicExpression", namespaces=NS) == READY
    assert rule.findtext("aa:ActivationTimeout", namespaces=NS) == "PT5S"
    assert rule.findtext("aa:PrimaryAction", namespaces=NS) == str(relay)
    configurations = await ok(w401, f'<GetActionConfigurations xmlns="{ACTION1}"/>')
    configuration = configurations.find(".//aa:ActionConfiguration", NS)
    assert configuration.findtext("aa:Name", namespaces=NS) == "relay"
    assert [(p.get("Name"), p.get("Value")) for p in configuration.iterfind(".//aa:Parameter", NS)] == [
        ("port", "8"), ("state", "active")
    ]  # fmt: skip
    await ok(w401, f'<RemoveActionRule xmlns="{ACTION1}"><RuleID>{number}</RuleID></RemoveActionRule>')
    await ok(w401, f'<RemoveActionConfiguration xmlns="{ACTION1}"><ConfigurationID>{relay}</ConfigurationID>'
             "</RemoveActionConfiguration>")  # fmt: skip
    assert len(await ok(w401, f'<GetActionRules xmlns="{ACTION1}"/>')) == 1  # the empty ActionRules


async def test_reading_needs_an_operator_and_changing_an_administrator(control: Control) -> None:
    w401 = control[W401]
    await text_of(w401.url, "/axis-cgi/pwdgrp.cgi?action=add&user=op&pwd=oppass1&grp=users&sgrp=operator:viewer")
    operator = ("op", "oppass1")
    reply = await vapix(w401.url, "/vapix/services", method="POST", auth=operator,
                        data=envelope(f'<GetActionRules xmlns="{ACTION1}"/>'))  # fmt: skip
    assert reply.status == 200
    for body in (f'<RemoveActionRule xmlns="{ACTION1}"><RuleID>1</RuleID></RemoveActionRule>',
                 rule_body("r", 1, start=event("StartEvent", PORT))):  # fmt: skip
        reply = await vapix(w401.url, "/vapix/services", method="POST", auth=operator, data=envelope(body))
        assert reply.status == 401  # the Digest challenge again, as for every operation above the account's role


# -- restart and factory default ------------------------------------------------------------------


async def wait_ready(device: SimulatedDevice) -> None:
    deadline = time.monotonic() + 10
    while device.device.lifecycle.state is not State.READY or device.running is None:
        assert time.monotonic() < deadline, "the device did not come back"
        await asyncio.sleep(0.05)


async def test_rules_survive_a_restart_and_go_with_a_factory_default(tmp_path: Path) -> None:
    spec = DeviceSpec("W401", state_dir=tmp_path / "w401")
    first = SimulatedDevice(spec)
    await first.start()
    try:
        relay = await add_action(first, TOGGLE, port="8", state="active")
        await add_rule(first, "Window sensor", relay, start=event("StartEvent", PORT, items(port="0", state="1")))
        saved = await listing(first)
    finally:
        await first.stop()
    second = SimulatedDevice(spec)  # a new simulator process on the same state directory
    await second.start()
    try:
        assert await listing(second) == saved
        second.device.subsystems["io"].close_input(1)  # type: ignore[attr-defined]
        assert await active(second, 9) == "port9=active"  # the rule runs after the restart
        await text_of(second.url, "/axis-cgi/factorydefault.cgi")
        await wait_ready(second)
        state = json.loads((tmp_path / "w401" / "device.json").read_text())
        assert state["subsystems"]["rules"]["rules"] == [] and state["subsystems"]["rules"]["actions"] == []
        assert second.device.subsystems["rules"].rules() == []  # type: ignore[attr-defined]
    finally:
        await second.stop()


HOSTILE = [
    "<AddActionConfiguration/>",
    "<AddActionConfiguration><NewActionConfiguration/></AddActionConfiguration>",
    "<AddActionConfiguration><NewActionConfiguration><TemplateToken>com.axis.action.fixed.io.toggle</TemplateToken>"
    '<Parameters><Parameter Name="port"/></Parameters></NewActionConfiguration></AddActionConfiguration>',
    "<AddActionConfiguration><NewActionConfiguration><TemplateToken>com.axis.action.unlimited.io.toggle"
    '</TemplateToken><Parameters><Parameter Name="port" Value="1"/><Parameter Name="port" Value="2"/>'
    '<Parameter Name="state" Value="active"/></Parameters></NewActionConfiguration></AddActionConfiguration>',
    "<AddActionConfiguration><NewActionConfiguration><TemplateToken>com.axis.action.unlimited.io.toggle"
    '</TemplateToken><Parameters><Parameter Name="port" Value="1"/><Parameter Name="state" Value="on"/>'
    '<Parameter Name="bogus" Value="x"/></Parameters></NewActionConfiguration></AddActionConfiguration>',
    "<RemoveActionConfiguration/>",
    "<RemoveActionConfiguration><ConfigurationID>-1</ConfigurationID></RemoveActionConfiguration>",
    "<RemoveActionConfiguration><ConfigurationID>99999999999999999999</ConfigurationID></RemoveActionConfiguration>",
    "<AddActionRule/>",
    "<AddActionRule><NewActionRule><Name>x</Name></NewActionRule></AddActionRule>",
    "<AddActionRule><NewActionRule><Name>x</Name><Enabled>maybe</Enabled><PrimaryAction>1</PrimaryAction>"
    "</NewActionRule></AddActionRule>",
    "<AddActionRule><NewActionRule><Name>x</Name><Enabled>true</Enabled><StartEvent/><PrimaryAction>1"
    "</PrimaryAction></NewActionRule></AddActionRule>",
    "<AddActionRule><NewActionRule><Name>x</Name><Enabled>true</Enabled><Conditions><Condition>"
    "<TopicExpression>tns1:Device/tnsaxis:Status/SystemReady</TopicExpression></Condition></Conditions>"
    "<ActivationTimeout>PTXS</ActivationTimeout><PrimaryAction>1</PrimaryAction></NewActionRule></AddActionRule>",
    "<AddActionRule><NewActionRule><Name>x</Name><Enabled>true</Enabled><Conditions><Condition>"
    "<TopicExpression>tns1:Device/tnsaxis:Status/SystemReady</TopicExpression><MessageContent>boolean(//SimpleItem"
    "[@Name=])</MessageContent></Condition></Conditions><PrimaryAction>1</PrimaryAction></NewActionRule>"
    "</AddActionRule>",
    "<AddActionRule><NewActionRule><Name>x</Name><Enabled>true</Enabled><StartEvent><TopicExpression>"
    + "a/" * 5000 + "b</TopicExpression></StartEvent><PrimaryAction>1</PrimaryAction></NewActionRule></AddActionRule>",
    "<RemoveActionRule><RuleID></RuleID></RemoveActionRule>",
    "<AddRecipientConfiguration><NewRecipientConfiguration><TemplateToken>com.axis.recipient.carrier_pigeon"
    "</TemplateToken></NewRecipientConfiguration></AddRecipientConfiguration>",
    "<RemoveRecipientConfiguration><ConfigurationID>7</ConfigurationID></RemoveRecipientConfiguration>",
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_definitions_are_refused_without_a_change(control: Control, body: str) -> None:
    """Bad input gets the device's fault, never a 500, and leaves the rules as they were."""
    w401 = control[W401]
    relay = await add_action(w401, TOGGLE, port="8", state="active")
    await add_rule(w401, "Kept", relay, conditions=event("Condition", READY, items(ready="1")))
    before = await listing(w401)
    name = body[1 : body.index(">")].rstrip("/")
    reason, _ = await fault(w401, body.replace(f"<{name}", f'<{name} xmlns="{ACTION1}"', 1))
    assert reason is not None
    assert await listing(w401) == before
