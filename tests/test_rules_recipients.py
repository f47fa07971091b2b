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
