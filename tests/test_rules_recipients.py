"""HTTP recipients of action rules (issue 19; events.md §4.2 notification.http, §4.5 recipients;
the C1410 Mk II manual, "Recipients > HTTP": URL, username, password): a rule that fires sends a
real request to a receiver this test runs on 127.0.0.1, answering its Basic or Digest challenge; a
recipient that cannot be reached is written to the system log and the device goes on answering.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from axisim.auth import parse_digest_params
from axisim.tls import self_signed, server_context
from tests.test_control import Control, text_of
from tests.test_rules import (
    ACTION1,
    NS,
    VIRTUAL_INPUT,
    W401,
    add_action,
    add_rule,
    event,
    fault,
    items,
    ok,
    parameters,
    served,
    settle,
)

FAILED = "tns1:Device/tnsaxis:SystemMessage/ActionFailed"
USER, PASSWORD, REALM, NONCE = "notify", "s3cret", "receiver", "0123456789abcdef"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Receiver:
    scheme: str  # basic | digest
    url: str = ""
    got: list[tuple[str, str, str]] = field(default_factory=list)  # method, path and query, body
    challenged: int = 0

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.scheme == "basic":
            return header == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if not header.startswith("Digest "):
            return False
        p = parse_digest_params(header[7:])
        ha1, ha2 = md5(f"{USER}:{REALM}:{PASSWORD}"), md5(f"{request.method}:{p['uri']}")
        expected = md5(f"{ha1}:{NONCE}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
        return p.get("username") == USER and p.get("uri") == request.raw_path and p.get("response") == expected

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            self.challenged += 1
            challenge = f'Basic realm="{REALM}"' if self.scheme == "basic" else (
                f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
            )  # fmt: skip
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        self.got.append((request.method, request.raw_path, await request.text()))
        return web.Response(text="OK")


async def serve(scheme: str) -> AsyncIterator[Receiver]:
    receiver = Receiver(scheme)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/cgi-bin/notify.cgi"
    try:
        yield receiver
    finally:
        await runner.cleanup()


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async for running in served():
        yield running


@pytest.fixture(params=["basic", "digest"])
async def receiver(request: pytest.FixtureRequest) -> AsyncIterator[Receiver]:
    async for listening in serve(request.param):
        yield listening


async def test_a_rule_sends_its_notification_to_the_recipient(control: Control, receiver: Receiver) -> None:
    w401 = control[W401]
    # the recipient, as the web interface stores it (events.md §4.5), then the action embedding its values
    reply = await ok(w401, f'<AddRecipientConfiguration xmlns="{ACTION1}"><NewRecipientConfiguration>'
                     "<Name>Receiver</Name><TemplateToken>com.axis.recipient.http</TemplateToken>"
                     + parameters(upload_url=receiver.url, login=USER, password=PASSWORD)
                     + "</NewRecipientConfiguration></AddRecipientConfiguration>")  # fmt: skip
    assert reply.findtext("aa:ConfigurationID", namespaces=NS) == "1"
    listed = await ok(w401, f'<GetRecipientConfigurations xmlns="{ACTION1}"/>')
    assert [p.get("Value") for p in listed.iter(f"{{{ACTION1}}}Parameter")][:1] == [receiver.url]
    notify = await add_action(
        w401, "com.axis.action.fixed.notification.http", upload_url=receiver.url, login=USER, password=PASSWORD,
        parameters="event=window&amp;state=open", message="",
    )  # fmt: skip
    await add_rule(w401, "Notify", notify, start=event("StartEvent", VIRTUAL_INPUT, items(port="3", active="1")))
    await text_of(w401.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=3")
    await settle(lambda: bool(receiver.got))
    assert receiver.got == [("GET", "/cgi-bin/notify.cgi?event=window&state=open", "")]
    assert receiver.challenged == 1  # the first request goes without credentials, as curl's does


async def test_a_failing_recipient_is_logged_and_never_blocks(control: Control) -> None:
    w401 = control[W401]
    dead = "http://127.0.0.1:9/nobody"  # discard port: nothing listens on loopback
    notify = await add_action(w401, "com.axis.action.fixed.notification.http", upload_url=dead)
    await add_rule(w401, "Notify", notify, start=event("StartEvent", VIRTUAL_INPUT, items(port="4", active="1")))
    await text_of(w401.url, "/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port=4")  # answered at once
    await settle(lambda: bool(w401.journal.events(topics=(FAILED,))))
    log = await control.ok("GET", f"/devices/{W401}/events/log?topic={FAILED}")
    assert dead in log["events"][-1]["data"]["description"]
    system = await text_of(w401.url, "/axis-cgi/systemlog.cgi")
    assert "WARNING" in system and f"com.axis.action.fixed.notification.http failed: {dead}" in system


async def test_twenty_recipients_and_no_more(control: Control) -> None:
    """"You can create up to 20 recipients" (both manuals)."""
    w401 = control[W401]
    body = (f'<AddRecipientConfiguration xmlns="{ACTION1}"><NewRecipientConfiguration><Name>r</Name>'
            "<TemplateToken>com.axis.recipient.http</TemplateToken>"
            + parameters(upload_url="http://127.0.0.1/x") + "</NewRecipientConfiguration></AddRecipientConfiguration>")
    for _ in range(20):
        await ok(w401, body)
    reason, _ = await fault(w401, body)
    assert reason == "Maximum number of recipients (20) reached"
    listed = await ok(w401, f'<GetRecipientConfigurations xmlns="{ACTION1}"/>')
    assert len(listed.findall(".//aa:RecipientConfiguration", NS)) == 20
    await ok(w401, f'<RemoveRecipientConfiguration xmlns="{ACTION1}"><ConfigurationID>3</ConfigurationID>'
             "</RemoveRecipientConfiguration>")  # fmt: skip
    reply = await ok(w401, body)
    assert reply.findtext("aa:ConfigurationID", namespaces=NS) == "21"  # ids are not reused (events.md §4.3)


async def test_https_recipient_with_its_certificate_unvalidated(control: Control) -> None:
    """Recipients > HTTPS: "Validate server certificate" off reaches a self-signed receiver; on, the
    notification fails and the system log says so."""
    receiver = Receiver("basic")
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context(self_signed("receiver", "127.0.0.1")))
    await site.start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}/notify"
    try:
        w401 = control[W401]
        for port, validate in ((6, "0"), (7, "1")):
            action = await add_action(w401, "com.axis.action.fixed.notification.https", upload_url=url, login=USER,
                                      password=PASSWORD, validate_server_cert=validate)  # fmt: skip
            await add_rule(w401, f"https {validate}", action,
                           start=event("StartEvent", VIRTUAL_INPUT, items(port=str(port), active="1")))  # fmt: skip
            await text_of(w401.url, f"/axis-cgi/virtualinput/activate.cgi?schemaversion=1&port={port}")
        await settle(lambda: bool(receiver.got) and bool(w401.journal.events(topics=(FAILED,))))
        assert receiver.got == [("GET", "/notify", "")]
        assert "CERTIFICATE_VERIFY_FAILED" in w401.journal.events(topics=(FAILED,))[-1].data["description"]
    finally:
        await runner.cleanup()


# The manuals' other recipient types (Recipients > Type), with the parameters the event and action
# services doc lists for each template (events.md §4.5: recipients are stored parameter sets)
STORED = {
    "com.axis.recipient.smtp": {"email_to": "guard@example.com", "email_from": "kit@example.com",
                                "host": "smtp.example.com", "port": "587", "login": "kit", "password": "pw",
                                "encryption": "tls", "validate_server_cert": "1", "qos": "0"},
    "com.axis.recipient.ftp": {"host": "192.0.2.10", "upload_path": "clips", "port": "21", "login": "u",
                               "password": "p", "passive": "1", "temporary": "0", "qos": "0"},
    "com.axis.recipient.sftp": {"host": "192.0.2.11", "upload_path": "clips", "port": "22", "login": "u",
                                "password": "p", "ssh_host_pub_key_sha256": "x" * 43, "ssh_auth_type": "2",
                                "temporary": "", "qos": "0"},
    "com.axis.recipient.tcp": {"host": "192.0.2.12", "port": "50000", "qos": "0"},
    "com.axis.recipient.networkshare": {"upload_path": "events", "share_id": "35419", "qos": "0"},
}  # fmt: skip


async def test_email_ftp_sftp_tcp_and_share_recipients_are_stored(control: Control) -> None:
    """Stored, listed as given and removable (README: axisim sends nothing to them); a missing
    required parameter is the recorded fault (events.md §4.1)."""
    w401 = control[W401]
    templates = await ok(w401, f'<GetRecipientTemplates xmlns="{ACTION1}"/>')
    offered = {t.findtext("aa:TemplateToken", namespaces=NS): {p.get("Name") for p in t.iter(f"{{{ACTION1}}}Parameter")}
               for t in templates.iter(f"{{{ACTION1}}}RecipientTemplate")}  # fmt: skip
    ids = {}
    for token, values in STORED.items():
        assert set(values) <= offered[token], token
        reply = await ok(w401, f'<AddRecipientConfiguration xmlns="{ACTION1}"><NewRecipientConfiguration>'
                         f"<Name>{token.rsplit('.', 1)[1]}</Name><TemplateToken>{token}</TemplateToken>"
                         f"{parameters(**values)}</NewRecipientConfiguration></AddRecipientConfiguration>")  # fmt: skip
        ids[token] = reply.findtext("aa:ConfigurationID", namespaces=NS)
    listed = await ok(w401, f'<GetRecipientConfigurations xmlns="{ACTION1}"/>')
    for item in listed.iter(f"{{{ACTION1}}}RecipientConfiguration"):
        token = item.findtext("aa:TemplateToken", namespaces=NS)
        assert item.findtext("aa:ConfigurationID", namespaces=NS) == ids[token]
        assert {p.get("Name"): p.get("Value") for p in item.iter(f"{{{ACTION1}}}Parameter")} == STORED[token]
    await ok(w401, f'<RemoveRecipientConfiguration xmlns="{ACTION1}"><ConfigurationID>{ids["com.axis.recipient.sftp"]}'
             "</ConfigurationID></RemoveRecipientConfiguration>")  # fmt: skip
    listed = await ok(w401, f'<GetRecipientConfigurations xmlns="{ACTION1}"/>')
    assert len(listed.findall(".//aa:RecipientConfiguration", NS)) == len(STORED) - 1
    no_host = ("<Name>no host</Name><TemplateToken>com.axis.recipient.sftp</TemplateToken>"
               f"{parameters(port='22')}")  # fmt: skip
    reason, _ = await fault(w401, f'<AddRecipientConfiguration xmlns="{ACTION1}"><NewRecipientConfiguration>'
                            f"{no_host}</NewRecipientConfiguration></AddRecipientConfiguration>")  # fmt: skip
    assert reason == "Configuration parameter missing: host"
