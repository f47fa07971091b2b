"""The action1 SOAP service on `/vapix/services` (events.md §4.1-4.5): action and recipient
templates, action configurations, recipient configurations and action rules.

Parses the operation's elements, calls the device's rules subsystem and formats the reply the way
the recordings show (`aa:` prefix, explicit end tags, `Value` before `Name`). Every refusal is the
device's SOAP fault (HTTP 400) and changes nothing. `web_services.OPERATIONS` takes `OPERATIONS`.

Security levels are not documented (events.md §8): reading needs an operator, changing an
administrator [GUESS].
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape

from aiohttp import web

from axisim.clock import iso
from axisim.subsystems.rules import Configuration, Fault, Filter, Rule, RulesError, RulesSubsystem, Template
from param_tree import Role

from .request_context import actor_of, device_of
from .soap_envelope import ACTION1, SoapRequest, attribute, soap_fault, soap_reply

Handler = Callable[[web.Request, SoapRequest], web.Response]


class BadRequest(ValueError):
    """A request gSOAP would not deserialize: the InvalidArgs fault, with this detail text."""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def child(element: ET.Element, name: str) -> ET.Element | None:
    return next((node for node in element if _local(node.tag) == name), None)


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [node for node in element if _local(node.tag) == name]


def text_of(element: ET.Element, name: str, required: bool = True) -> str | None:
    node = child(element, name)
    if node is None:
        if required:
            raise BadRequest(f"Validation constraint violation: occurrence violation in element {name}")
        return None
    return (node.text or "").strip()


def number_of(element: ET.Element, name: str) -> int:
    text = text_of(element, name) or ""
    if not re.fullmatch(r"\+?\d{1,9}", text):
        raise BadRequest(f"Validation constraint violation: data type mismatch in element {name}")
    return int(text)


def rules_of(request: web.Request) -> RulesSubsystem:
    rules = device_of(request).subsystems["rules"]
    assert isinstance(rules, RulesSubsystem)
    return rules


# -- faults (events.md §4.1) -------------------------------------------------------------------


def fault_of(request: web.Request, error: RulesError) -> web.Response:
    kind = error.kind
    if kind is Fault.INVALID_ARGS:
        return invalid_args(error.reason)
    if kind in (Fault.INVALID_TOPIC, Fault.INVALID_CONTENT):
        stamp = iso(device_of(request).clock.wall())
        detail = f"<wsnt:{kind.value}><wsrfbf:Timestamp>{stamp}</wsrfbf:Timestamp></wsnt:{kind.value}>"
        return soap_fault(error.reason, detail)
    inner = "".join(
        f"<aa:ActionRule><aa:ActionRuleID>{number}</aa:ActionRuleID><aa:ActionRuleName>{escape(name)}"
        "</aa:ActionRuleName></aa:ActionRule>"
        for number, name in error.users
    )
    inner = f"<aa:UsedByActionRules>{inner}</aa:UsedByActionRules>" if error.users else ""
    return soap_fault(error.reason, f"<aa:{kind.value}>{inner}</aa:{kind.value}>")


def invalid_args(detail: str) -> web.Response:
    """gSOAP's deserialization fault [REC: the empty Conditions case]."""
    return soap_fault("Invalid argument", f"<SOAP-ENV:Text>{escape(detail)}</SOAP-ENV:Text>", subcode="ter:InvalidArgs")


def guarded(run: Handler) -> Handler:
    """A refusal becomes its fault; nothing the request sends becomes a 500."""

    def handler(request: web.Request, operation: SoapRequest) -> web.Response:
        try:
            return run(request, operation)
        except RulesError as error:
            return fault_of(request, error)
        except BadRequest as error:
            return invalid_args(str(error))

    handler.__doc__ = run.__doc__
    return handler


# -- templates (§4.2) --------------------------------------------------------------------------


def _parameters(names: Iterable[str]) -> str:
    return "".join(f'<aa:Parameter Type="string" Name="{attribute(n)}"></aa:Parameter>' for n in names)


def _templates(kind: str, templates: list[Template]) -> web.Response:
    listed = "".join(
        f"<aa:{kind}Template><aa:TemplateToken>{t.token}</aa:TemplateToken>"
        + (f"<aa:RecipientTemplate>{t.recipient}</aa:RecipientTemplate>" if t.recipient else "")
        + f"<aa:Parameters>{_parameters(t.parameters)}</aa:Parameters></aa:{kind}Template>"
        for t in templates
    )
    return soap_reply(f"<aa:Get{kind}TemplatesResponse><aa:{kind}Templates>{listed}</aa:{kind}Templates>"
                      f"</aa:Get{kind}TemplatesResponse>")  # fmt: skip


def get_action_templates(request: web.Request, operation: SoapRequest) -> web.Response:
    return _templates("Action", rules_of(request).action_templates())


def get_recipient_templates(request: web.Request, operation: SoapRequest) -> web.Response:
    return _templates("Recipient", rules_of(request).recipient_templates())


# -- configurations (§4.3, §4.5) ---------------------------------------------------------------


def _new_configuration(operation: SoapRequest, wrapper: str) -> tuple[str, str, list[tuple[str, str]]]:
    new = child(operation.element, wrapper)
    if new is None:
        raise BadRequest(f"Validation constraint violation: occurrence violation in element {wrapper}")
    token = text_of(new, "TemplateToken") or ""
    parameters = []
    for node in children(child(new, "Parameters"), "Parameter"):
        name, value = node.get("Name"), node.get("Value")
        if name is None or value is None:
            raise BadRequest("Validation constraint violation: occurrence violation in element Parameter")
        parameters.append((name, value))
    return text_of(new, "Name", required=False) or "", token, parameters


def _configurations(kind: str, configs: list[Configuration]) -> web.Response:
    listed = "".join(
        f"<aa:{kind}Configuration><aa:ConfigurationID>{c.id}</aa:ConfigurationID><aa:Name>{escape(c.name)}</aa:Name>"
        f"<aa:TemplateToken>{escape(c.token)}</aa:TemplateToken><aa:Parameters>"
        + "".join(f'<aa:Parameter Value="{attribute(v)}" Name="{attribute(n)}"></aa:Parameter>'
                  for n, v in c.parameters)
        + f"</aa:Parameters></aa:{kind}Configuration>"
        for c in configs
    )
    return soap_reply(f"<aa:Get{kind}ConfigurationsResponse><aa:{kind}Configurations>{listed}"
                      f"</aa:{kind}Configurations></aa:Get{kind}ConfigurationsResponse>")  # fmt: skip


def _added(kind: str, number: int) -> web.Response:
    return soap_reply(f"<aa:Add{kind}ConfigurationResponse><aa:ConfigurationID>{number}</aa:ConfigurationID>"
                      f"</aa:Add{kind}ConfigurationResponse>")  # fmt: skip


@guarded
def add_action_configuration(request: web.Request, operation: SoapRequest) -> web.Response:
    name, token, parameters = _new_configuration(operation, "NewActionConfiguration")
    return _added("Action", rules_of(request).add_action(name, token, parameters, actor_of(request)))


def get_action_configurations(request: web.Request, operation: SoapRequest) -> web.Response:
    return _configurations("Action", rules_of(request).action_configurations())


@guarded
def remove_action_configuration(request: web.Request, operation: SoapRequest) -> web.Response:
    rules_of(request).remove_action(number_of(operation.element, "ConfigurationID"), actor_of(request))
    return soap_reply("<aa:RemoveActionConfigurationResponse></aa:RemoveActionConfigurationResponse>")


@guarded
def add_recipient_configuration(request: web.Request, operation: SoapRequest) -> web.Response:
    name, token, parameters = _new_configuration(operation, "NewRecipientConfiguration")
    return _added("Recipient", rules_of(request).add_recipient(name, token, parameters, actor_of(request)))


def get_recipient_configurations(request: web.Request, operation: SoapRequest) -> web.Response:
    return _configurations("Recipient", rules_of(request).recipients())


@guarded
def remove_recipient_configuration(request: web.Request, operation: SoapRequest) -> web.Response:
    rules_of(request).remove_recipient(number_of(operation.element, "ConfigurationID"), actor_of(request))
    return soap_reply("<aa:RemoveRecipientConfigurationResponse></aa:RemoveRecipientConfigurationResponse>")


# -- rules (§4.4) ------------------------------------------------------------------------------

_DURATION = re.compile(r"P(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,9}(?:\.\d+)?)S)?)?")


def duration_seconds(text: str) -> float:
    """xsd:duration as the C# client sends it (`PT0S`, `PT1M30S`); days and below."""
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise BadRequest("Validation constraint violation: data type mismatch in element ActivationTimeout")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _filter(element: ET.Element) -> Filter:
    topic = child(element, "TopicExpression")
    if topic is None:
        raise BadRequest("Validation constraint violation: occurrence violation in element TopicExpression")
    content = child(element, "MessageContent")
    default = Filter("")
    return Filter(
        (topic.text or "").strip(), None if content is None else (content.text or "").strip(),
        topic.get("Dialect") or default.topic_dialect,
        (None if content is None else content.get("Dialect")) or default.content_dialect,
    )  # fmt: skip


@guarded
def add_action_rule(request: web.Request, operation: SoapRequest) -> web.Response:
    new = child(operation.element, "NewActionRule")
    if new is None:
        raise BadRequest("Validation constraint violation: occurrence violation in element NewActionRule")
    enabled = {"true": True, "1": True, "false": False, "0": False}.get(text_of(new, "Enabled") or "")
    if enabled is None:
        raise BadRequest("Validation constraint violation: data type mismatch in element Enabled")
    start = child(new, "StartEvent")
    conditions = children(child(new, "Conditions"), "Condition")
    timeout = text_of(new, "ActivationTimeout", required=False)
    rule = Rule(
        0, text_of(new, "Name") or "", enabled, number_of(new, "PrimaryAction"),
        None if start is None else _filter(start), tuple(_filter(c) for c in conditions),
        duration_seconds(timeout) if timeout else 0.0, timeout or None,
    )  # fmt: skip
    number = rules_of(request).add_rule(rule, actor_of(request))
    return soap_reply(f"<aa:AddActionRuleResponse><aa:RuleID>{number}</aa:RuleID></aa:AddActionRuleResponse>")


def _event(tag: str, spec: Filter) -> str:
    content = (
        f'<wsnt:MessageContent Dialect="{attribute(spec.content_dialect)}">{escape(spec.content)}</wsnt:MessageContent>'
        if spec.content is not None else ""
    )  # fmt: skip
    return (f'<aa:{tag}><wsnt:TopicExpression Dialect="{attribute(spec.topic_dialect)}">{escape(spec.topic)}'
            f"</wsnt:TopicExpression>{content}</aa:{tag}>")  # fmt: skip


def _rule(rule: Rule) -> str:
    conditions = "".join(_event("Condition", c) for c in rule.conditions)
    return (
        f"<aa:ActionRule><aa:RuleID>{rule.id}</aa:RuleID><aa:Name>{escape(rule.name)}</aa:Name>"
        f"<aa:Enabled>{'true' if rule.enabled else 'false'}</aa:Enabled>"
        + (_event("StartEvent", rule.start) if rule.start else "")
        + (f"<aa:Conditions>{conditions}</aa:Conditions>" if rule.conditions else "")
        + (f"<aa:ActivationTimeout>{escape(rule.timeout_text)}</aa:ActivationTimeout>" if rule.timeout_text else "")
        + f"<aa:PrimaryAction>{rule.primary}</aa:PrimaryAction></aa:ActionRule>"
    )


def get_action_rules(request: web.Request, operation: SoapRequest) -> web.Response:
    listed = "".join(_rule(rule) for rule in rules_of(request).rules())
    return soap_reply(
        f"<aa:GetActionRulesResponse><aa:ActionRules>{listed}</aa:ActionRules></aa:GetActionRulesResponse>"
    )


@guarded
def remove_action_rule(request: web.Request, operation: SoapRequest) -> web.Response:
    rules_of(request).remove_rule(number_of(operation.element, "RuleID"), actor_of(request))
    return soap_reply("<aa:RemoveActionRuleResponse></aa:RemoveActionRuleResponse>")


# (namespace, operation) -> (least role, handler, subsystem): web_services.OPERATIONS registers them
OPERATIONS: dict[tuple[str, str], tuple[Role, Handler, str | None]] = {
    (ACTION1, "GetActionTemplates"): (Role.OPERATOR, get_action_templates, "rules"),
    (ACTION1, "GetRecipientTemplates"): (Role.OPERATOR, get_recipient_templates, "rules"),
    (ACTION1, "AddActionConfiguration"): (Role.ADMIN, add_action_configuration, "rules"),
    (ACTION1, "GetActionConfigurations"): (Role.OPERATOR, get_action_configurations, "rules"),
    (ACTION1, "RemoveActionConfiguration"): (Role.ADMIN, remove_action_configuration, "rules"),
    (ACTION1, "AddRecipientConfiguration"): (Role.ADMIN, add_recipient_configuration, "rules"),
    (ACTION1, "GetRecipientConfigurations"): (Role.OPERATOR, get_recipient_configurations, "rules"),
    (ACTION1, "RemoveRecipientConfiguration"): (Role.ADMIN, remove_recipient_configuration, "rules"),
    (ACTION1, "AddActionRule"): (Role.ADMIN, add_action_rule, "rules"),
    (ACTION1, "GetActionRules"): (Role.OPERATOR, get_action_rules, "rules"),
    (ACTION1, "RemoveActionRule"): (Role.ADMIN, remove_action_rule, "rules"),
}
