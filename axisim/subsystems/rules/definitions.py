"""What a user configures for action rules (events.md §4.2-4.5): templates, action and recipient
configurations, rules. Plain values and the checks a device makes; no wire format.

A refusal is a `RulesError` whose `kind` names the device's fault (the wire layer spells it) and
whose `reason` is the fault's text as recorded (events.md §4.1) or, where nothing was recorded,
a guess marked [GUESS].
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# The manuals' limits (C1410 Mk II and W401, "Events > Rules / Recipients").
MAX_RULES = 256
MAX_RECIPIENTS = 20
MAX_ACTIONS = 256  # [GUESS] no source gives it; one configuration per rule at most is needed


class Fault(enum.Enum):
    """The action1 faults a refusal becomes (events.md §4.1)."""

    RULE_NOT_FOUND = "ActionRuleNotFoundFault"
    CONFIG_NOT_FOUND = "ActionConfigurationNotFoundFault"
    CONFIG_IN_USE = "ActionConfigurationIsInUseFault"
    TEMPLATE_NOT_FOUND = "ActionTemplateNotFoundFault"
    PARAMETERS = "ParametersMissmatchFault"  # (sic) [REC]
    INVALID_CONDITION = "InvalidConditionFilterFault"
    INVALID_TOPIC = "InvalidTopicExpressionFault"  # wsnt:
    INVALID_CONTENT = "InvalidMessageContentExpressionFault"  # wsnt:
    INVALID_ARGS = "InvalidArgs"  # ter: subcode
    LIMIT = "LimitReached"  # [GUESS] no recording of a device at its limit
    RECIPIENT_NOT_FOUND = "RecipientConfigurationNotFoundFault"  # [GUESS] mirrors the action one
    RECIPIENT_TEMPLATE_NOT_FOUND = "RecipientTemplateNotFoundFault"  # [GUESS]


class RulesError(ValueError):
    """A definition or request the device refuses; nothing was changed."""

    def __init__(self, kind: Fault, reason: str, users: tuple[tuple[int, str], ...] = ()) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.users = users  # CONFIG_IN_USE: (rule id, rule name) of the rules using it


@dataclass(frozen=True, slots=True)
class Template:
    """An action or recipient template: its token, its parameters, which subsystem performs it."""

    token: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    recipient: str | None = None  # the recipient template whose parameters an action embeds
    needs: str | None = None  # the subsystem word a device must have to offer it

    @property
    def parameters(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)

    @property
    def unlimited(self) -> bool:
        """Runs while the rule is active (else once, for a fixed time) [DOC]."""
        return ".unlimited." in self.token


HTTP_RECIPIENT = ("upload_url", "login", "password", "proxy_host", "proxy_port", "proxy_login", "proxy_password", "qos")
HTTP_ACTION = ("parameters", "message", "method", "http_headers", "body")  # "newer" ones optional [DOC]
CLIP = ("audiooutput", "audiodeviceid", "audiooutputid", "repeat", "volume")

ACTION_TEMPLATES: tuple[Template, ...] = (
    Template("com.axis.action.fixed.io.toggle", ("port", "state"), ("duration",), needs="io"),
    Template("com.axis.action.unlimited.io.toggle", ("port", "state"), needs="io"),
    Template("com.axis.action.fixed.play.audioclip", ("location",), CLIP, needs="audio"),
    Template("com.axis.action.unlimited.play.audioclip", ("location",), CLIP, needs="audio"),
    Template("com.axis.action.fixed.stop.audioclip", needs="audio"),
    Template("com.axis.action.fixed.speakertest", needs="audio"),  # [GUESS] token: "Run automatic speaker test"
    Template("com.axis.action.fixed.sip", ("to_sip_address",), ("from_sip_account",), needs="sip"),  # [GUESS] names
    # the C1410 manual's "Answer call" (Set up audio for incoming SIP calls) [GUESS] token
    Template("com.axis.action.fixed.sip.answer", needs="sip"),
    Template("com.axis.action.fixed.notification.http", ("upload_url",),
             (*HTTP_RECIPIENT[1:], *HTTP_ACTION), recipient="com.axis.recipient.http"),
    Template("com.axis.action.fixed.notification.https", ("upload_url",),
             (*HTTP_RECIPIENT[1:], "validate_server_cert", *HTTP_ACTION), recipient="com.axis.recipient.https"),
    Template("com.axis.action.fixed.mqttpublish", ("Topic", "Payload"), ("QoS", "Retained"), needs="mqtt"),
    # "Record video" (edge storage API; events.md §4.2 [CLIENT sample]): records while the rule is
    # active, plus the pre- and post-trigger times (milliseconds), to the disk `storage_id` names
    Template("com.axis.action.unlimited.recording.storage",
             ("stream_options", "pre_duration", "post_duration", "storage_id"), needs="storage"),
    # the W401 manual's "Broadcast signal" (System ID, Message type) [GUESS] token and names
    Template("com.axis.action.unlimited.bluetooth.broadcast", ("system_id", "message_type"), needs="bluetooth"),
)

RECIPIENT_TEMPLATES: tuple[Template, ...] = (
    Template("com.axis.recipient.http", ("upload_url",), HTTP_RECIPIENT[1:]),
    Template("com.axis.recipient.https", ("upload_url",), (*HTTP_RECIPIENT[1:], "validate_server_cert")),
    # stored, never used by an action of axisim (README: email, FTP, SFTP, TCP and network share
    # recipients are not sent to); parameters as the event and action services doc lists them
    Template("com.axis.recipient.smtp", ("email_to",), ("email_from", "host", "port", "login", "password", "pop_host",
                                                        "pop_port", "pop_login", "pop_password", "qos", "encryption",
                                                        "validate_server_cert")),
    Template("com.axis.recipient.ftp", ("host",), ("upload_path", "port", "login", "password", "passive", "temporary",
                                                   "qos")),
    Template("com.axis.recipient.sftp", ("host",), ("upload_path", "port", "login", "password", "ssh_host_pub_key_md5",
                                                    "ssh_host_pub_key_sha256", "ssh_auth_type", "ssh_public_key",
                                                    "ssh_private_key", "ssh_private_key_passphrase", "temporary",
                                                    "qos")),
    Template("com.axis.recipient.tcp", ("host",), ("port", "qos")),
    Template("com.axis.recipient.networkshare", (), ("upload_path", "share_id", "qos")),
)  # fmt: skip


def offered(templates: tuple[Template, ...], subsystems: set[str] | dict[str, object]) -> list[Template]:
    """The templates a device with these subsystems offers."""
    return [t for t in templates if t.needs is None or t.needs in subsystems]


@dataclass(frozen=True, slots=True)
class Configuration:
    """An action or a recipient configuration: a template token and its parameter values."""

    id: int
    name: str
    token: str
    parameters: tuple[tuple[str, str], ...]

    def value(self, name: str, default: str = "") -> str:
        return next((v for n, v in self.parameters if n == name), default)


def check_parameters(template: Template, parameters: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The parameters as stored, or RulesError PARAMETERS: a required one missing (the recorded
    text), an unknown or repeated one ([GUESS] text)."""
    names = [name for name, _ in parameters]
    for name in template.required:
        if name not in names:
            raise RulesError(Fault.PARAMETERS, f"Configuration parameter missing: {name}")
    for name in names:
        if name not in template.parameters:
            raise RulesError(Fault.PARAMETERS, f"Unknown configuration parameter: {name}")
        if names.count(name) > 1:
            raise RulesError(Fault.PARAMETERS, f"Configuration parameter given twice: {name}")
    return tuple(parameters)


@dataclass(frozen=True, slots=True)
class Filter:
    """A start event or condition: a topic expression and an optional message content filter,
    each kept as sent (with its dialect) so GetActionRules echoes it."""

    topic: str
    content: str | None = None
    topic_dialect: str = "http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
    content_dialect: str = "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    name: str
    enabled: bool
    primary: int  # an action configuration id
    start: Filter | None = None
    conditions: tuple[Filter, ...] = ()
    activation_timeout: float = 0.0  # seconds between activations ("Wait between actions")
    timeout_text: str | None = None  # the xsd:duration as sent, echoed
