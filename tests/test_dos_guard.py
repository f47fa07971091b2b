"""Brute-force blocking (`System.PreventDoSAttack`, axisim/dos_guard.py), seen from outside.

Every manual, Security > "Prevent brute-force attacks": blocking on, a blocking period in seconds,
and "the number of authentication failures allowed per second before the block starts ... on page
level and device level"; the parameters are mod_evasive's (param-trees.md §5.6 defaults: period
10, page 20/1 s, site 50/1 s). A blocked address gets Apache's 403 (mod_evasive's reply, the page
of Apache 2.4) until the period passes on the device clock with no request from it; events.md §1.5
`tns1:Device/tnsaxis:Network/BlockedIP` is published with the address. Clients are real sockets
from 127.0.0.1 and 127.0.0.2 to a served device, with curl-style Digest (vapix-wire.md §4.1).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from axisim.device import make_device
from axisim.dos_guard import BLOCKED_IP, MAX_BLOCKS, MAX_COUNTERS, DosGuard, Limits
from axisim.simulated import SimulatedDevice
from tests.conftest import MODELS, Reply, digest_request

ROOT = ("root", "pass")
WRONG = ("root", "guess")
PARAM = "/axis-cgi/param.cgi?action=list&group=Brand.ProdShortName"
TIMEOUT = aiohttp.ClientTimeout(total=10)
FORBIDDEN_PAGE = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>403 Forbidden</title>\n'
    "</head><body>\n<h1>Forbidden</h1>\n<p>You don't have permission to access this resource.</p>\n"
    "</body></html>\n"
)

Client = Callable[..., Awaitable[Reply]]


@pytest.fixture
async def from_address() -> AsyncIterator[Callable[[str], Client]]:
    """`from_address("127.0.0.2")` -> a client whose connections leave from that loopback address."""
    sessions: list[aiohttp.ClientSession] = []

    def make(address: str) -> Client:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)), timeout=TIMEOUT)
        sessions.append(session)

        async def send(url: str, auth: tuple[str, str] | None = ROOT, method: str = "GET", **kw: Any) -> Reply:
            return await digest_request(session, method, url, auth, **kw)

        return send

    yield make
    for session in sessions:
        await session.close()


async def wrong_logins(client: Client, url: str, count: int) -> list[int]:
    """`count` Digest logins with a wrong password (each answers its own challenge): the statuses."""
    return [(await client(url, WRONG)).status for _ in range(count)]


async def set_params(device: SimulatedDevice, client: Client, **values: str) -> None:
    query = "&".join(f"System.PreventDoSAttack.{name}={value}" for name, value in values.items())
    reply = await client(device.url + f"/axis-cgi/param.cgi?action=update&{query}")
    assert (reply.status, reply.text) == (200, "OK")


async def test_forty_wrong_logins_block_the_address_for_the_period(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    """40 wrong Digest logins in a second: the 21st (more than DoSPageCount=20 on one page) starts the
    block; from then on every request gets 403, the right password too, until DoSBlockingPeriod (10 s)
    passes on the device clock with no request; a request during the block restarts it (mod_evasive)."""
    device = await axisim_device_factory("C1410MkII")  # ActivatePasswordThrottling=On (12.x default)
    client = from_address("127.0.0.1")
    url = device.url + PARAM
    statuses = await wrong_logins(client, url, 40)
    assert statuses == [401] * 21 + [403] * 19
    refused = await client(url, ROOT)
    assert (refused.status, refused.text, refused.challenge) == (403, FORBIDDEN_PAGE, "")
    assert refused.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    clock = device.device.clock
    clock.advance(9.0)
    assert (await client(url, ROOT)).status == 403  # still blocked, and the period starts again
    clock.advance(9.0)
    assert (await client(url, ROOT)).status == 403
    clock.advance(10.0)
    let_in = await client(url, ROOT)
    assert (let_in.status, let_in.text) == (200, "Brand.ProdShortName=AXIS C1410 Mk II\n")
    assert device.blocks() == []


async def test_other_addresses_are_unaffected_and_the_logs_say_why(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    """The block is per client address: 127.0.0.2 logs in while 127.0.0.1 is blocked, and reads in the
    system log mod_evasive's line and in the access log the refused requests."""
    device = await axisim_device_factory("C1410MkII")
    blocked, other = from_address("127.0.0.1"), from_address("127.0.0.2")
    await wrong_logins(blocked, device.url + PARAM, 25)
    assert (await blocked(device.url + PARAM)).status == 403
    assert (await other(device.url + PARAM)).status == 200
    system = await other(device.url + "/axis-cgi/systemlog.cgi")
    alert = [line for line in system.text.splitlines() if "Blacklisting" in line]
    assert len(alert) == 1 and alert[0].endswith(
        "[ ALERT   ] mod_evasive[812]: Blacklisting address 127.0.0.1: possible DoS attack."
    )
    access = (await other(device.url + "/axis-cgi/accesslog.cgi")).text
    assert "[client 127.0.0.1] client denied by server configuration: /axis-cgi/param.cgi" in access
    assert access.count("[client 127.0.0.1] user root: authentication failure") == 21
    assert [b["address"] for b in device.blocks()] == ["127.0.0.1"]


async def test_device_level_count_blocks_failures_spread_over_pages(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    """"Page level and device level": 17 failures on each of three pages stay under DoSPageCount=20,
    but the 51st failure on the device exceeds DoSSiteCount=50."""
    device = await axisim_device_factory("C1410MkII")
    client = from_address("127.0.0.1")
    pages = ["/axis-cgi/param.cgi", "/axis-cgi/systemlog.cgi", "/axis-cgi/accesslog.cgi"]
    statuses = []
    for page in pages:
        statuses += await wrong_logins(client, device.url + page, 17)
    assert statuses == [401] * 51
    assert (await client(device.url + "/axis-cgi/param.cgi", WRONG)).status == 403  # the 52nd: blocked


async def test_blocked_ip_event_is_published_and_declared(
    axisim_device_factory: Any, from_address: Callable[[str], Client]
) -> None:
    """events.md §1.5: a pulse `Network/BlockedIP` with the blocked address, once per block."""
    device = await axisim_device_factory("C1410MkII")
    seen: list[Any] = []
    device.subscribe(seen.append, [BLOCKED_IP.topic])
    await wrong_logins(from_address("127.0.0.1"), device.url + PARAM, 30)
    assert [(e.topic, e.data, e.stateful) for e in seen] == [(BLOCKED_IP.topic, {"address": "127.0.0.1"}, False)]


@pytest.mark.parametrize("model", MODELS)
def test_models_with_the_setting_declare_blocked_ip(model: str) -> None:
    """GetEventInstances declares BlockedIP where the parameter tree has PreventDoSAttack (all five)."""
    device = make_device(model)
    assert "System.PreventDoSAttack.ActivatePasswordThrottling" in device.params
    assert BLOCKED_IP in device.event_topics()


async def test_setting_off_never_blocks(axisim_device_factory: Any, from_address: Callable[[str], Client]) -> None:
    """ActivatePasswordThrottling=Off through param.cgi: 60 wrong logins all get 401, the right one 200,
    and the device keeps no counters."""
    device = await axisim_device_factory("C1410MkII")
    client = from_address("127.0.0.1")
    await set_params(device, client, ActivatePasswordThrottling="Off")
    assert await wrong_logins(client, device.url + PARAM, 60) == [401] * 60
    assert (await client(device.url + PARAM)).status == 200
    assert device.device.brute_force._guard is None  # nothing allocated while the setting is off


async def test_settings_change_the_limits(axisim_device_factory: Any, from_address: Callable[[str], Client]) -> None:
    """DoSPageCount=3 and DoSBlockingPeriod=30 set through param.cgi: the 4th failure blocks, for 30 s;
    turning the setting off lifts the block at once."""
    device = await axisim_device_factory("C1410MkII")
    client = from_address("127.0.0.1")
    await set_params(device, client, DoSPageCount="3", DoSBlockingPeriod="30")
    assert await wrong_logins(client, device.url + PARAM, 5) == [401] * 4 + [403]
    device.device.clock.advance(29.0)
    assert (await client(device.url + PARAM)).status == 403
    device.device.params.set_values({"System.PreventDoSAttack.ActivatePasswordThrottling": "Off"})
    assert (await client(device.url + PARAM)).status == 200


async def test_control_api_lists_and_lifts_blocks(
    axisim_fleet_factory: Any, from_address: Callable[[str], Client]
) -> None:
    """GET /devices/<d>/blocks lists the blocked addresses; DELETE .../blocks/<address> (or .../blocks)
    lifts them, and the client is let in at once."""
    fleet = await axisim_fleet_factory("C1410MkII", count=1)
    device = fleet[0]
    client = from_address("127.0.0.1")
    await wrong_logins(client, device.url + PARAM, 21)
    async with aiohttp.ClientSession(timeout=TIMEOUT) as control:
        async with control.get(f"{fleet.control_url}/devices/0/blocks") as listed:
            document = await listed.json()
        assert document["serial"] == device.serial
        assert [b["address"] for b in document["blocks"]] == ["127.0.0.1"]
        assert 0 < document["blocks"][0]["seconds_left"] <= 10
        async with control.delete(f"{fleet.control_url}/devices/0/blocks/127.0.0.9") as unknown:
            assert unknown.status == 404 and "does not block 127.0.0.9" in (await unknown.json())["error"]
        async with control.delete(f"{fleet.control_url}/devices/0/blocks/127.0.0.1") as lifted:
            assert (lifted.status, (await lifted.json())["lifted"]) == (200, ["127.0.0.1"])
        assert (await client(device.url + PARAM)).status == 200
        await wrong_logins(client, device.url + PARAM, 21)
        async with control.delete(f"{fleet.control_url}/devices/0/blocks") as everything:
            assert (await everything.json())["lifted"] == ["127.0.0.1"]
    assert (await client(device.url + PARAM)).status == 200


async def test_a_reboot_forgets_the_blocks(axisim_device_factory: Any, from_address: Callable[[str], Client]) -> None:
    """The web server's tables live in memory: after a restart the address is let in."""
    device = await axisim_device_factory("C1410MkII")
    client = from_address("127.0.0.1")
    await wrong_logins(client, device.url + PARAM, 21)
    assert device.blocks() != []
    device.device.boot()
    device.device.ready()
    assert device.blocks() == [] and (await client(device.url + PARAM)).status == 200


# -- the rules alone (no clock: times are given) ----------------------------------------------------

LIMITS = Limits(period=10.0, page_count=2, page_interval=1.0, site_count=5, site_interval=1.0)


def test_a_pause_of_the_interval_starts_the_count_again() -> None:
    """mod_evasive's counter: hits less than the interval apart add up; a later one starts at one."""
    guard = DosGuard(LIMITS)
    assert not guard.failure("a", "/p", 0.0) and not guard.failure("a", "/p", 0.5)
    assert not guard.failure("a", "/p", 1.6)  # 1.1 s after the last: counts as the first again
    assert not guard.failure("a", "/p", 2.0)
    assert guard.failure("a", "/p", 2.5)  # the third within the interval: more than 2
    assert guard.blocked("a", 3.0) and not guard.blocked("b", 3.0)
    assert not guard.blocked("a", 13.0)  # 10 s after the last request (at 3.0)


def test_memory_is_bounded_under_many_addresses_and_pages() -> None:
    """Ten thousand addresses failing on ten thousand pages keep at most MAX_COUNTERS counters and
    MAX_BLOCKS blocks; an address that keeps failing keeps its counter (the stalest go first)."""
    guard = DosGuard(Limits(period=10.0, page_count=0, page_interval=1.0, site_count=50, site_interval=1.0))
    for n in range(10_000):
        guard.failure(f"10.0.{n // 256}.{n % 256}", f"/page{n}", 0.0)
        guard.failure("10.9.9.9", "/same", 0.0)
    assert len(guard._counters) <= MAX_COUNTERS and len(guard._blocks) <= MAX_BLOCKS
    assert ("10.9.9.9", "") in guard._counters and guard.blocked("10.9.9.9", 1.0)


def test_zero_settings_fall_back_to_mod_evasive_defaults() -> None:
    """mod_evasive reads 0 as its own default (page count 2, site count 50, intervals 1 s, period 10 s)."""
    values = {"System.PreventDoSAttack.ActivatePasswordThrottling": "On"}
    limits = Limits.read(lambda name: values.get(name, "0"))
    assert limits == Limits(10.0, 2, 1.0, 50, 1.0)
    assert Limits.read(lambda name: "") is None  # a model without the setting
