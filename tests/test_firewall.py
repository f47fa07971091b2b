"""The device firewall through the wire: `/config/rest/firewall/v1` (developer.axis.com, VAPIX
"Firewall configuration service", on "Device Configuration APIs") and what it does to connections.

The manual (System > Security > Firewall): activate; default policy Allow/Deny; rules by address
(IPv4/IPv6/CIDR), protocol, port and policy; "Time in seconds: Set a time limit for testing the
rules"; unconfirmed rules "will appear under Pending rules once the timer runs out, and the
firewall will revert to the previously defined settings"; "Confirm rules"; delete all. Clients
are real sockets from 127.0.0.1 (the tester, who locks itself out) and 127.0.0.2 (another client),
with curl-style Digest (vapix-wire.md §4.1); the device clock moves through the control API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from axisim.pytest_plugin import device_spec
from axisim.simulated import SimulatedDevice
from tests.conftest import Reply, digest_request
from tests.rtsp_wire import RtspWire
from tests.test_control import controlled

API = "/config/rest/firewall/v1"
RULES = f"{API}/conf/rules"
PARAM = "/axis-cgi/param.cgi?action=list&group=Brand.ProdShortName"
TIMEOUT = aiohttp.ClientTimeout(total=10)
TESTER, OTHER = "127.0.0.1", "127.0.0.2"
ROOT = ("root", "pass")
REVERSED = {"ruleType": "FILTER", "ipRange": {"start": "10.0.0.9", "end": "10.0.0.1"}, "filter": {"policy": "DROP"}}

Client = Callable[..., Awaitable[Reply]]


@pytest.fixture
async def from_address() -> AsyncIterator[Callable[[str], Client]]:
    """`from_address("127.0.0.2")` -> a client whose connections leave from that address; a
    dropped connection comes back as status 0."""
    sessions: list[aiohttp.ClientSession] = []

    def make(address: str) -> Client:
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
        connector = aiohttp.TCPConnector(local_addr=(address, 0), ssl=insecure)
        session = aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)
        sessions.append(session)

        async def send(url: str, method: str = "GET", data: Any = None, auth: tuple[str, str] = ROOT) -> Reply:
            try:
                return await digest_request(session, method, url, auth, json=data)
            except (aiohttp.ClientConnectionError, ConnectionError):
                return Reply(0, {}, b"")

        return send

    yield make
    for session in sessions:
        await session.close()


def drop(address: str, **members: Any) -> dict[str, Any]:
    return {"ruleType": "FILTER", "ip": address, **members, "filter": {"policy": "DROP"}}


def set_rules(rules: list[dict[str, Any]], fallback: int, default: str = "ACCEPT") -> dict[str, Any]:
    return {"data": {"rules": rules, "defaultPolicy": default, "fallbackTime": fallback}}


def ok(reply: Reply, data: Any = None) -> Any:
    document = reply.json()
    assert reply.status == 200 and document["status"] == "success", (reply.status, reply.text)
    return document.get("data", data)


async def test_a_tested_rule_that_locks_the_tester_out_rolls_back_and_stays_pending(
    from_address: Callable[[str], Client],
) -> None:
    """The manual's flow: activate, add a rule that denies the tester with a test time, see the
    tester's requests dropped (no answer) while another client is served, let the device clock pass
    the time: the previous rules are back and the tested one is pending; confirm activates it;
    delete all lets the tester in again."""
    async with controlled("S3008") as control:
        url = control[0].url
        tester, other = from_address(TESTER), from_address(OTHER)
        ok(await tester(url + f"{API}/activated", "PATCH", {"data": True}))
        ok(await tester(url + f"{API}/conf/setRules", "POST", set_rules([drop(TESTER)], 300)))
        assert (await tester(url + PARAM)).status == 0  # dropped: no HTTP reply at all
        assert (await tester(url + RULES)).status == 0
        rules = ok(await other(url + RULES))
        assert rules["activeRules"] == rules["pendingRules"] == [
            {"ruleType": "FILTER", "ip": TESTER, "mac": None, "tcpPort": None, "udpPort": None, "port": None,
             "portRange": None, "pktType": None, "filter": {"policy": "DROP"}}
        ]  # fmt: skip
        assert rules["testTimeLeft"] == 300 and rules["pendingDefaultPolicy"] == "ACCEPT"
        await control.ok("POST", "/devices/0/clock", {"advance": 301})  # the test time runs out
        assert (await tester(url + PARAM)).status == 200
        rules = ok(await tester(url + RULES))
        assert rules["activeRules"] == [] and len(rules["pendingRules"]) == 1 and rules["testTimeLeft"] == 0
        ok(await tester(url + f"{API}/conf/confirmRules", "POST", {"data": {}}))  # "activate the pending rules"
        assert (await tester(url + PARAM)).status == 0
        assert ok(await other(url + RULES))["pendingRules"] == []
        # delete all, both pending and active
        ok(await other(url + f"{API}/conf/setRules", "POST", set_rules([], 0)))
        ok(await other(url + f"{API}/conf/clearPendingRules", "POST", {"data": {}}))
        assert (await tester(url + PARAM)).status == 200


async def test_confirmed_during_the_test_the_rule_stays(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    device = await axisim_device_factory("W401")
    tester, other = from_address(TESTER), from_address(OTHER)
    ok(await other(device.url + f"{API}/activated", "PATCH", {"data": True}))
    ok(await other(device.url + f"{API}/conf/setRules", "POST", set_rules([drop("127.0.0.0/31")], 30)))
    ok(await other(device.url + f"{API}/conf/confirmRules", "POST", {"data": {}}))
    device.advance_clock(31)
    assert (await tester(device.url + PARAM)).status == 0
    rules = ok(await other(device.url + RULES))
    assert (len(rules["activeRules"]), rules["pendingRules"], rules["testTimeLeft"]) == (1, [], 0)


async def test_a_short_test_ends_on_its_own(axisim_device_factory: Any, from_address: Callable[[str], Client]) -> None:
    """Nobody moves the clock: the test's own timer restores the previous rules (fallbackTime 1)."""
    device = await axisim_device_factory("S3016")
    tester = from_address(TESTER)
    ok(await tester(device.url + f"{API}/activated", "PATCH", {"data": True}))
    ok(await tester(device.url + f"{API}/conf/setRules", "POST", set_rules([drop(TESTER)], 1, default="ACCEPT")))
    assert (await tester(device.url + PARAM)).status == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and device.device.packet_filter is not None:
        if device.device.subsystems["firewall"].state.testing is False:
            break
        await asyncio.sleep(0.1)
    assert (await tester(device.url + PARAM)).status == 200
    assert ok(await tester(device.url + RULES))["pendingRules"][0]["ip"] == TESTER


async def test_default_deny_with_an_allowed_address_and_the_firewall_off(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    device = await axisim_device_factory("S4000")
    tester, other = from_address(TESTER), from_address(OTHER)
    allow_other = {"ruleType": "FILTER", "ip": OTHER, "filter": {"policy": "ACCEPT"}}
    ok(await other(device.url + f"{API}/conf/setRules", "POST", set_rules([allow_other], 0, default="DROP")))
    assert (await tester(device.url + PARAM)).status == 200  # rules set while off: nothing is filtered
    ok(await other(device.url + f"{API}/activated", "PATCH", {"data": True}))
    assert (await tester(device.url + PARAM)).status == 0
    assert ok(await other(device.url + f"{API}/activated")) is True
    ok(await other(device.url + f"{API}/activated", "PATCH", {"data": False}))
    assert (await tester(device.url + PARAM)).status == 200
    assert ok(await tester(device.url + f"{API}/conf/rules/activeDefaultPolicy")) == "DROP"


async def test_https_and_rtsp_are_dropped_too(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    device = await axisim_device_factory("W401", https=True, rtsp=True)
    tester, other = from_address(TESTER), from_address(OTHER)
    assert device.https_url is not None and device.rtsp_port is not None
    ok(await other(device.url + f"{API}/activated", "PATCH", {"data": True}))
    rtsp_only = drop("127.0.0.0/8", tcpPort=device.rtsp_port)  # one port: HTTP(S) still answers
    ok(await other(device.url + f"{API}/conf/setRules", "POST", set_rules([rtsp_only], 0)))
    assert (await tester(device.https_url + PARAM)).status == 200
    assert await _rtsp_dropped(TESTER, device.rtsp_port)
    ok(await other(device.url + f"{API}/conf/setRules", "POST", set_rules([drop(TESTER)], 0)))
    assert (await tester(device.https_url + PARAM)).status == 0
    assert (await tester(device.url + PARAM)).status == 0
    assert await _rtsp_dropped(TESTER, device.rtsp_port)
    assert not await _rtsp_dropped(OTHER, device.rtsp_port)
    assert (await other(device.https_url + PARAM)).status == 200


async def _rtsp_dropped(address: str, port: int) -> bool:
    """An RTSP OPTIONS from `address` gets no reply (the connection closes) rather than 200."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(TESTER, port, local_addr=(address, 0)), 5)
        wire = RtspWire(reader, writer, f"rtsp://{TESTER}:{port}")
        try:
            reply = await wire.request("OPTIONS", f"rtsp://{TESTER}:{port}/")
        finally:
            await wire.close()
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
        return True
    return reply.status != 200


# -- bad input ------------------------------------------------------------------------------------

BACKWARDS = {"portType": "TCP", "start": 9, "end": 8}
TOO_MANY = [drop(f"10.0.{i // 250}.{i % 250}") for i in range(129)]


@pytest.mark.parametrize(
    ("path", "method", "body", "status", "code"),
    [
        ("conf/setRules", "POST", set_rules([drop("10.0.0.300")], 0), 400, 100),  # "Invalid IP address"
        ("conf/setRules", "POST", set_rules([drop("10.0.0.0/40")], 0), 400, 100),  # a bad CIDR
        ("conf/setRules", "POST", set_rules([REVERSED], 0), 400, 101),  # "Invalid IP address range."
        ("conf/setRules", "POST", set_rules([drop(TESTER)], 30), 400, 103),  # a test while the firewall is off
        ("conf/setRules", "POST", set_rules(TOO_MANY, 0), 400, 103),
        ("conf/setRules", "POST", set_rules([drop(TESTER, portRange=BACKWARDS)], 0), 400, 104),  # "Invalid port range."
        ("conf/setRules", "POST", set_rules([drop(TESTER, tcpPort=0)], 0), 400, 5),  # Port is 1-65535
        ("conf/setRules", "POST", set_rules([drop(TESTER, tcpPort=65536)], 0), 400, 5),
        ("conf/setRules", "POST", set_rules([drop(TESTER, port={"portType": "SCTP", "portNum": 80})], 0), 400, 5),
        ("conf/setRules", "POST", set_rules([drop(TESTER)], 0, default="REJECT"), 400, 5),
        ("conf/setRules", "POST", set_rules([drop(TESTER)], -1), 400, 5),
        ("conf/setRules", "POST", {"data": {"rules": "all"}}, 400, 5),
        ("conf/setRules", "POST", {"data": []}, 400, 5),
        ("conf/setRules", "POST", {"rules": []}, 400, 3),  # no "data"
        ("conf/setRules", "POST", b'{"data": ', 400, 3),  # not JSON
        ("activated", "PATCH", {"data": "true"}, 400, 5),
        ("activated", "PATCH", {"data": 1}, 400, 5),
        ("activated", "POST", {"data": True}, 405, 2),
        ("conf/rules/activeRules", "PATCH", {"data": []}, 405, 2),  # read-only
        ("conf/nope", "GET", None, 404, 1),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    from_address: Callable[[str], Client], axisim_device_factory: Any,
    path: str, method: str, body: Any, status: int, code: int,
) -> None:  # fmt: skip
    device = await axisim_device_factory("C1410MkII")
    client = from_address(TESTER)
    before = ok(await client(device.url + API))
    if isinstance(body, bytes):
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            reply = await digest_request(session, method, device.url + f"{API}/{path}", ROOT, data=body)
    else:
        reply = await client(device.url + f"{API}/{path}", method, body)
    document = reply.json()
    assert (reply.status, document["status"], document["error"]["code"]) == (status, "error", code), reply.text
    assert ok(await client(device.url + API)) == before


async def test_administrators_only(axisim_device_factory: Any, from_address: Callable[[str], Client]) -> None:
    device = await axisim_device_factory("S3008", accounts=["root:pass:admin", "op:erator:operator"])
    client = from_address(TESTER)
    assert (await client(device.url + API, auth=("op", "erator"))).status == 401  # "Permissions: admin"
    refused = await client(device.url + f"{API}/activated", "PATCH", {"data": True}, auth=("op", "erator"))
    assert refused.status == 401 and device.device.packet_filter is None


# -- saved state and factory default ---------------------------------------------------------------


async def test_rules_survive_a_restart_and_a_test_does_not(
    tmp_path: Path, from_address: Callable[[str], Client]
) -> None:
    spec = dataclasses.replace(device_spec("S3008"), state_dir=tmp_path / "state")
    first = SimulatedDevice(spec)
    await first.start()
    other = from_address(OTHER)
    try:
        ok(await other(first.url + f"{API}/activated", "PATCH", {"data": True}))
        ok(await other(first.url + f"{API}/conf/setRules", "POST", set_rules([drop(TESTER)], 0, default="ACCEPT")))
        ok(await other(first.url + f"{API}/conf/setRules", "POST", set_rules([drop("10.9.9.9")], 600)))
        before = ok(await other(first.url + RULES))
    finally:
        await first.stop()
    second = SimulatedDevice(spec)
    await second.start()
    try:
        after = ok(await other(second.url + RULES))
        assert ok(await other(second.url + f"{API}/activated")) is True
        assert [r["ip"] for r in after["activeRules"]] == [TESTER]  # the rules from before the test
        assert after["pendingRules"] == before["pendingRules"] and after["testTimeLeft"] == 0
        assert (await from_address(TESTER)(second.url + PARAM)).status == 0
    finally:
        await second.stop()


async def test_factory_default_clears_the_firewall(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    device = await axisim_device_factory("S3016")
    tester, other = from_address(TESTER), from_address(OTHER)
    ok(await other(device.url + f"{API}/activated", "PATCH", {"data": True}))
    ok(await other(device.url + f"{API}/conf/setRules", "POST", set_rules([drop(TESTER)], 0)))
    assert (await tester(device.url + PARAM)).status == 0
    reply = await other(device.url + "/axis-cgi/factorydefault.cgi")  # Maintenance: the firewall is not kept
    assert reply.status == 200
    await device.wait_ready(10)
    assert (
        await tester(device.url + "/axis-cgi/systemready.cgi", "POST", {"apiVersion": "1.0", "method": "systemready"})
    ).status == 200
    firewall = device.device.subsystems["firewall"]
    assert firewall.rules()["activeRules"] == [] and not firewall.activated and device.device.packet_filter is None
