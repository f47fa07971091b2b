"""Access policy through the wire: who may use HTTP or HTTPS (System.BoaGroupPolicy), HTTPS on and
off (HTTPS.Enabled), the ports the listeners move to (System.BoaPort, HTTPS.Port), and the RTSP
listener's (Network.RTSP.Port, Network.RTSP.Enabled).

Sources: every manual, Network > "HTTP and HTTPS" ("Allow access through: ... HTTP, HTTPS, or both";
"HTTP port: ... port 80 or any port in the range 1024-65535"); param-trees.md §3.1
(`System.BoaGroupPolicy.{admin,operator,viewer}` in {http, https, both}) and §5.4 (HTTPS.Enabled,
HTTPS.Port) and §5.3 (`RTSP.{Enabled,Port=554}`; the port's type `554,1024-65535`, AXIS OS 12.11's
Network list has the group); vapix-wire.md §1.2 (param.cgi's error line) and §4.1 (authentication);
events.md §3 (an RTSP OPTIONS needs no authentication). The 403 for a role that may not use HTTP is
inferred (axisim/access_policy.py says from what).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from axisim.accounts import AccountSpec
from axisim.control.http import start_control
from axisim.device import DEFAULT_ACCOUNT
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.simulated import DeviceSpec, SimulatedDevice
from tests.conftest import Reply, digest_request
from tests.rtsp_wire import RtspWire

ROOT = ("root", "pass")
VIEWER = ("eve", "viewpass")
PARAM = "/axis-cgi/param.cgi"
NO_VERIFY = ssl.create_default_context()
NO_VERIFY.check_hostname = False
NO_VERIFY.verify_mode = ssl.CERT_NONE


async def call(url: str, path: str, auth: tuple[str, str] | None = ROOT) -> Reply:
    """One request as curl --digest sends it, on a fresh connection (keep-alive hides nothing)."""
    connector = aiohttp.TCPConnector(force_close=True, ssl=NO_VERIFY)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=5)) as session:
        return await digest_request(session, "GET", url + path, auth)


async def update(url: str, query: str) -> str:
    reply = await call(url, f"{PARAM}?action=update&{query}")
    assert reply.status == 200, (reply.status, reply.text)
    return reply.text


async def param(url: str, name: str) -> str:
    reply = await call(url, f"{PARAM}?action=list&group={name}")
    assert reply.status == 200, (reply.status, reply.text)
    return reply.text.strip().split("=", 1)[1]


async def served(url: str) -> bool:
    """A fresh connection gets an answer (refused, reset or closed unanswered: False)."""
    try:
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession() as fresh, fresh.get(url, ssl=NO_VERIFY, timeout=timeout):
            return True
    except (aiohttp.ClientError, TimeoutError):
        return False


async def closed(url: str) -> bool:
    return not await served(url + "/axis-cgi/systemready.cgi")


async def eventually(check: Callable[[], Awaitable[bool]], tries: int = 40) -> bool:
    """Bounded: `tries` x 50 ms."""
    for _ in range(tries):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def device() -> AsyncIterator[SimulatedDevice]:
    spec = DeviceSpec(
        "S3008", accounts=(DEFAULT_ACCOUNT, AccountSpec(*VIEWER, "viewer")), https_port=0, seed="policy"
    )
    simulated = SimulatedDevice(spec)
    await simulated.start()
    try:
        yield simulated
    finally:
        await simulated.stop()


# -- System.BoaGroupPolicy -----------------------------------------------------------------------


async def test_https_only_admin_is_refused_over_http_served_over_https(device: SimulatedDevice) -> None:
    # manuals, "Allow access through": per user group, HTTP, HTTPS or both
    assert await update(device.url, "System.BoaGroupPolicy.admin=https") == "OK"
    refused = await call(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")
    assert refused.status == 403
    assert "<title>403 Forbidden</title>" in refused.text  # Apache's page, as for a blocked client
    assert device.https_url is not None
    served = await call(device.https_url, f"{PARAM}?action=list&group=Brand.ProdNbr")
    assert served.status == 200 and served.text == "Brand.ProdNbr=S3008\n"
    # a viewer keeps HTTP (its own policy is still "both"); anonymous APIs stay open
    viewer = await call(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr", auth=VIEWER)
    assert viewer.status == 200
    ready = await call(device.url, "/axis-cgi/systemready.cgi", auth=None)
    assert ready.status != 403
    # the refusal is in the access log, with the user and the path
    assert device.device.logs.access.lines(containing="HTTP not allowed for this user group")
    # over HTTPS the admin puts HTTP back
    reply = await call(device.https_url, f"{PARAM}?action=update&System.BoaGroupPolicy.admin=both")
    assert reply.text == "OK"
    assert (await call(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status == 200


async def test_curl_sees_the_refusal_and_http_only_refuses_https(device: SimulatedDevice) -> None:
    assert await update(device.url, "System.BoaGroupPolicy.viewer=https&System.BoaGroupPolicy.operator=http") == "OK"
    curl = await asyncio.create_subprocess_exec(
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", ":".join(VIEWER), "--max-time", "5",
        f"{device.url}{PARAM}?action=list&group=Brand.ProdNbr", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(curl.communicate(), 10)
    assert out == b"403"
    assert device.https_url is not None
    assert (await call(device.https_url, f"{PARAM}?action=list&group=Brand", auth=VIEWER)).status == 200
    # an admin's own policy ("both") is not the operator's: the admin keeps both schemes
    assert (await call(device.https_url, f"{PARAM}?action=list&group=Brand")).status == 200


async def test_a_refused_policy_value_changes_nothing(device: SimulatedDevice) -> None:
    reply = await call(device.url, f"{PARAM}?action=update&System.BoaGroupPolicy.admin=ftp")
    assert reply.text == "# Error: Error setting 'root.System.BoaGroupPolicy.admin' to 'ftp'!\n"
    assert await param(device.url, "System.BoaGroupPolicy.admin") == "both"


# -- HTTPS.Enabled -----------------------------------------------------------------------------------


async def test_https_off_closes_the_https_listener_and_on_opens_it(device: SimulatedDevice) -> None:
    https = device.https_url
    assert https is not None
    assert await update(device.url, "HTTPS.Enabled=no") == "OK"
    assert await eventually(lambda: closed(https))
    assert device.https_url is None and device.inventory()["https_port"] is None
    assert await param(device.url, "HTTPS.Enabled") == "no"
    assert await update(device.url, "HTTPS.Enabled=yes") == "OK"

    assert await eventually(lambda: _answers(https))
    assert (await call(https, f"{PARAM}?action=list&group=HTTPS.Enabled")).text == "HTTPS.Enabled=yes\n"


async def test_an_https_port_set_while_https_is_off_is_where_it_opens(device: SimulatedDevice) -> None:
    assert await update(device.url, "HTTPS.Enabled=no") == "OK"
    port = free_port()
    assert await update(device.url, f"HTTPS.Port={port}") == "OK"
    assert await param(device.url, "HTTPS.Port") == str(port)  # stored; nothing listens while off
    assert device.https_url is None
    assert await update(device.url, "HTTPS.Enabled=yes") == "OK"
    assert await eventually(lambda: _answers(f"https://127.0.0.1:{port}"))
    assert device.https_url == f"https://127.0.0.1:{port}"


# -- the same settings through the web server's SOAP service --------------------------------------------


async def web_server(url: str, configuration: str) -> Reply:
    """aweb:SetWebServerTlsConfiguration (developer.axis.com "Certificate management API") on `url`."""
    aweb, soap = "http://www.axis.com/vapix/ws/webserver", "http://www.w3.org/2003/05/soap-envelope"
    document = (
        f'<s:Envelope xmlns:s="{soap}" xmlns:aweb="{aweb}"><s:Body><aweb:SetWebServerTlsConfiguration>'
        f"<aweb:Configuration>{configuration}</aweb:Configuration></aweb:SetWebServerTlsConfiguration></s:Body></s:Envelope>"
    )
    connector = aiohttp.TCPConnector(force_close=True, ssl=NO_VERIFY)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=5)) as session:
        headers = {"Content-Type": "application/soap+xml"}
        return await digest_request(session, "POST", url + "/vapix/services", ROOT, data=document, headers=headers)


async def test_the_web_server_service_sets_https_and_the_admin_policy_as_param_cgi_does(
    device: SimulatedDevice,
) -> None:
    """Tls=false closes the HTTPS listener (HTTPS.Enabled=no), true opens it; ConnectionPolicies
    Admin=Https makes the administrator's HTTP requests 403 while HTTPS serves them; a value the API
    does not know is a SOAP fault and changes nothing."""
    https = device.https_url
    assert https is not None
    assert (await web_server(device.url, "<aweb:Tls>false</aweb:Tls>")).status == 200
    assert await eventually(lambda: closed(https))
    assert await param(device.url, "HTTPS.Enabled") == "no"
    assert (await web_server(device.url, "<aweb:Tls>true</aweb:Tls>")).status == 200
    assert await eventually(lambda: _answers(https))

    policy = "<aweb:ConnectionPolicies><aweb:Admin>Https</aweb:Admin></aweb:ConnectionPolicies>"
    assert (await web_server(device.url, policy)).status == 200
    assert (await call(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status == 403
    assert await param(https, "System.BoaGroupPolicy.admin") == "https"
    refused = await web_server(https, "<aweb:ConnectionPolicies><aweb:Admin>Ftp</aweb:Admin></aweb:ConnectionPolicies>")
    assert refused.status == 400 and b"Fault" in refused.body
    assert await param(https, "System.BoaGroupPolicy.admin") == "https"
    both = "<aweb:ConnectionPolicies><aweb:Admin>HttpAndHttps</aweb:Admin></aweb:ConnectionPolicies>"
    assert (await web_server(https, both)).status == 200
    assert (await call(device.url, f"{PARAM}?action=list&group=Brand.ProdNbr")).status == 200


# -- the ports ------------------------------------------------------------------------------------------


async def test_http_port_moves_after_the_reply(device: SimulatedDevice) -> None:
    old, new = device.url, free_port()
    assert await update(old, f"System.BoaPort={new}") == "OK"  # the reply comes on the old port
    assert await eventually(lambda: closed(old))
    assert device.port == new and device.url == f"http://127.0.0.1:{new}"
    assert await param(device.url, "System.BoaPort") == str(new)
    assert device.inventory()["http_port"] == new


async def test_https_port_moves(device: SimulatedDevice) -> None:
    old, new = device.https_url, free_port()
    assert old is not None
    assert await update(device.url, f"HTTPS.Port={new}") == "OK"
    assert await eventually(lambda: closed(old))
    assert device.https_url == f"https://127.0.0.1:{new}"
    assert await param(device.https_url, "HTTPS.Port") == str(new)


async def test_a_port_the_simulator_cannot_have_is_refused_and_nothing_changes(device: SimulatedDevice) -> None:
    with socket.socket() as holder:  # another program listens there
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        reply = await call(device.url, f"{PARAM}?action=update&System.BoaPort={taken}&Network.FTP.Enabled=yes")
        # vapix-wire.md §1.2: one error line per refused pair; param.cgi's update is all or nothing
        assert reply.status == 200
        assert reply.text == f"# Error: Error setting 'root.System.BoaPort' to '{taken}'!\n"
    assert await param(device.url, "System.BoaPort") == str(device.port)
    assert await param(device.url, "Network.FTP.Enabled") == "no"
    # the HTTPS port is the device's own: refused too
    assert device.https_url is not None
    https_port = device.https_url.rsplit(":", 1)[1]
    clash = await call(device.url, f"{PARAM}?action=update&System.BoaPort={https_port}")
    assert clash.text == f"# Error: Error setting 'root.System.BoaPort' to '{https_port}'!\n"
    assert (await call(device.url, "/axis-cgi/systemready.cgi", auth=None)).status == 200


async def test_a_keep_alive_client_gets_its_reply_then_the_old_port_closes(device: SimulatedDevice) -> None:
    new = free_port()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        reply = await digest_request(session, "GET", f"{device.url}{PARAM}?action=update&System.BoaPort={new}", ROOT)
        assert reply.status == 200 and reply.text == "OK"
    assert await eventually(lambda: _answers(f"http://127.0.0.1:{new}"))


async def _answers(url: str) -> bool:
    return await served(url + "/axis-cgi/systemready.cgi")


async def test_a_restart_comes_back_on_the_moved_port(device: SimulatedDevice) -> None:
    new = free_port()
    assert await update(device.url, f"System.BoaPort={new}") == "OK"
    assert await eventually(lambda: _answers(f"http://127.0.0.1:{new}"))
    assert (await call(device.url, "/axis-cgi/restart.cgi")).status == 200
    assert await device.wait_ready(10)
    assert device.port == new and await param(device.url, "System.BoaPort") == str(new)


async def test_https_turned_on_for_a_device_started_without_it() -> None:
    simulated = SimulatedDevice(DeviceSpec("W401", seed="no-https"))  # https_port None: HTTP only
    await simulated.start()
    try:
        assert simulated.https_url is None
        assert await param(simulated.url, "HTTPS.Enabled") == "no"
        port = free_port()
        assert await update(simulated.url, f"HTTPS.Port={port}&HTTPS.Enabled=yes") == "OK"
        assert await eventually(lambda: _answers(f"https://127.0.0.1:{port}"))
        assert simulated.https_url == f"https://127.0.0.1:{port}"
        assert simulated.inventory()["https_port"] == port
    finally:
        await simulated.stop()


async def test_basic_policy_and_https_only_admin(device: SimulatedDevice) -> None:
    # vapix-wire.md §4.1: the authentication policy picks the schemes; the group policy the listener
    assert await update(device.url, "Network.HTTP.AuthenticationPolicy=basic&System.BoaGroupPolicy.admin=https")
    assert device.https_url is not None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        basic = {"Authorization": aiohttp.encode_basic_auth(*ROOT)}
        path = f"{PARAM}?action=list&group=Brand.ProdNbr"
        async with session.get(device.url + path, headers=basic) as over_http:
            assert over_http.status == 403
        async with session.get(device.https_url + path, headers=basic, ssl=NO_VERIFY) as over_https:
            assert over_https.status == 200


# -- Network.RTSP ------------------------------------------------------------------------------------


@pytest.fixture
async def streaming() -> AsyncIterator[SimulatedDevice]:
    """A device serving the RTSP event stream (on a free port, as `axisim serve` falls back from 554)."""
    simulated = SimulatedDevice(DeviceSpec("C1410MkII", https_port=None, rtsp_ports=(0,), seed="rtsp-port"))
    await simulated.start()
    try:
        yield simulated
    finally:
        await simulated.stop()


async def rtsp_answers(port: int) -> bool:
    """An RTSP OPTIONS (no authentication needed) on a fresh connection gets 200."""
    try:
        wire = await RtspWire.open("127.0.0.1", port)
    except OSError:
        return False
    try:
        return (await wire.request("OPTIONS")).status == 200
    except (OSError, TimeoutError, ValueError):
        return False
    finally:
        await wire.close()


async def test_rtsp_port_moves_after_the_reply_and_is_refused_where_it_cannot_listen(
    streaming: SimulatedDevice,
) -> None:
    old = streaming.rtsp_port
    assert old and await rtsp_answers(old)
    assert await param(streaming.url, "Network.RTSP.Port") == str(old)  # where it listens, not 554
    new = free_port()
    assert await update(streaming.url, f"Network.RTSP.Port={new}") == "OK"
    assert await eventually(lambda: rtsp_answers(new))
    assert not await rtsp_answers(old)
    assert await param(streaming.url, "Network.RTSP.Port") == str(new)
    assert streaming.rtsp_port == new and streaming.inventory()["rtsp_port"] == new

    with socket.socket() as holder:  # another program has this port: refused, nothing changes
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        reply = await call(streaming.url, f"{PARAM}?action=update&Network.RTSP.Port={taken}&Network.SSH.Enabled=yes")
        assert reply.text == f"# Error: Error setting 'root.Network.RTSP.Port' to '{taken}'!\n"
    clash = await call(streaming.url, f"{PARAM}?action=update&Network.RTSP.Port={streaming.port}")  # its HTTP port
    assert clash.text == f"# Error: Error setting 'root.Network.RTSP.Port' to '{streaming.port}'!\n"
    below = await call(streaming.url, f"{PARAM}?action=update&Network.RTSP.Port=600")  # outside 554,1024-65535
    assert below.text == "# Error: Error setting 'root.Network.RTSP.Port' to '600'!\n"
    assert await param(streaming.url, "Network.RTSP.Port") == str(new)
    assert await param(streaming.url, "Network.SSH.Enabled") == "no"
    assert await rtsp_answers(new)


async def test_rtsp_off_closes_the_listener_and_on_opens_it_on_its_port(streaming: SimulatedDevice) -> None:
    port = streaming.rtsp_port
    assert port and await rtsp_answers(port)
    assert await update(streaming.url, "Network.RTSP.Enabled=no") == "OK"
    assert await eventually(lambda: _not(rtsp_answers(port)))
    assert streaming.rtsp_url is None and streaming.inventory()["rtsp_port"] is None
    new = free_port()
    assert await update(streaming.url, f"Network.RTSP.Port={new}") == "OK"  # stored while off
    assert await param(streaming.url, "Network.RTSP.Port") == str(new)
    assert await update(streaming.url, "Network.RTSP.Enabled=yes") == "OK"
    assert await eventually(lambda: rtsp_answers(new))
    assert streaming.rtsp_port == new


async def test_rtsp_turned_off_stays_off_across_a_restart_of_the_simulator(tmp_path: Path) -> None:
    """Saved in the state directory: the next start serves no RTSP until it is turned on again."""
    spec = DeviceSpec("W401", https_port=None, rtsp_ports=(0,), seed="rtsp-saved", state_dir=tmp_path / "state")
    first = SimulatedDevice(spec)
    await first.start()
    try:
        assert await update(first.url, "Network.RTSP.Enabled=no") == "OK"
    finally:
        await first.stop()
    again = SimulatedDevice(spec)
    await again.start()
    try:
        assert again.rtsp_url is None and again.inventory()["rtsp_port"] is None
        assert await param(again.url, "Network.RTSP.Enabled") == "no"
        port = free_port()  # it opens on Network.RTSP.Port (the factory 554 needs root)
        assert await update(again.url, f"Network.RTSP.Port={port}&Network.RTSP.Enabled=yes") == "OK"
        assert await eventually(lambda: rtsp_answers(port))
        assert again.rtsp_port == port
    finally:
        await again.stop()


async def test_rtsp_cannot_be_turned_on_for_a_device_started_without_it() -> None:
    simulated = SimulatedDevice(DeviceSpec("W401", seed="no-rtsp"))  # no rtsp_ports: no RTSP listener
    await simulated.start()
    try:
        assert await param(simulated.url, "Network.RTSP.Enabled") == "no"
        reply = await call(simulated.url, f"{PARAM}?action=update&Network.RTSP.Enabled=yes")
        assert reply.text == "# Error: Error setting 'root.Network.RTSP.Enabled' to 'yes'!\n"
        assert await param(simulated.url, "Network.RTSP.Enabled") == "no"
        assert simulated.rtsp_url is None
    finally:
        await simulated.stop()


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


# -- a fleet's control API ---------------------------------------------------------------------------


async def test_the_control_api_lists_the_moved_port() -> None:
    fleet = Fleet.from_plan(make_plan([Group("S3008", 2)], addressing=Addressing("ports", "127.0.0.1", 0)))
    await fleet.start()
    runner = None
    try:
        runner, port = await start_control(fleet, "127.0.0.1", 0)
        new = free_port()
        assert await update(fleet[1].url, f"System.BoaPort={new}") == "OK"
        assert await eventually(lambda: _answers(f"http://127.0.0.1:{new}"))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async with session.get(f"http://127.0.0.1:{port}/devices") as listed:
                devices = (await listed.json())["devices"]
            async with session.get(f"http://127.0.0.1:{port}/inventory.json") as inventory:
                rows = json.loads(await inventory.text())["devices"]
        assert devices[1]["http_port"] == new and devices[1]["url"] == f"http://127.0.0.1:{new}"
        assert devices[0]["http_port"] != new
        assert [row["http_port"] for row in rows][1] == new
    finally:
        if runner is not None:
            with contextlib.suppress(Exception):
                await runner.cleanup()
        await fleet.stop()
