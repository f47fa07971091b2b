"""Date, time and time zone (vapix-wire.md §5.5 Time; the manuals' "Date and time"), through the wire.

`time.cgi` (time-service 1.1) and `param.cgi` (`Time.POSIXTimeZone`, `Time.DST.Enabled`) change one
state; the device's logs, its server report and `getDateTimeInfo` follow the zone; setting the date
moves the device's wall clock only (systemready's uptime and boot id stay); bad zones and dates get
the API's error (4004, 4003 when missing) and change nothing; the control API reads, advances and
sets the clock; the settings survive a restart of the simulator and a factory default resets the
zone but keeps the time (§2.1: "system time" is kept). Devices are served on loopback ports and
called with Digest as curl --digest does (§4.1); the `axis` library has no time client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from axisim.control.http import start_control
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.logs import Actor
from axisim.simulated import DeviceSpec, SimulatedDevice
from axisim.timezone import Zone, parse_posix, posix_of
from tests.conftest import MODELS, Reply, digest_request

ROOT = ("root", "pass")
TIME = "/axis-cgi/time.cgi"
TIMEOUT = aiohttp.ClientTimeout(total=10)
ROOT_ACTOR = Actor("root", "127.0.0.1")
SUMMER = "2026-07-01T12:00:00Z"  # a fixed date, so the zone's offset is known (+02:00 in Stockholm)


async def call(device: SimulatedDevice, path: str, *, method: str = "GET", auth: Any = ROOT, data: Any = None) -> Reply:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await digest_request(session, method, device.url + path, auth, data=data)


async def time_api(device: SimulatedDevice, method: str, auth: Any = ROOT, version: str = "1.1", **params: Any) -> Any:
    """One time.cgi request (§5.5): the JSON reply document (HTTP 200 for errors too)."""
    document: dict[str, Any] = {"apiVersion": version, "context": "t", "method": method}
    if params:
        document["params"] = params
    reply = await call(device, TIME, method="POST", auth=auth, data=json.dumps(document))
    assert reply.status == 200, (reply.status, reply.text)
    return reply.json()


async def info(device: SimulatedDevice) -> dict[str, Any]:
    return (await time_api(device, "getDateTimeInfo"))["data"]


async def params(device: SimulatedDevice, group: str = "Time") -> dict[str, str]:
    reply = await call(device, f"/axis-cgi/param.cgi?action=list&group={group}")
    return dict(line.split("=", 1) for line in reply.text.splitlines() if "=" in line)


async def system_log(device: SimulatedDevice) -> list[str]:
    return (await call(device, "/axis-cgi/systemlog.cgi")).text.splitlines()


async def systemready(device: SimulatedDevice) -> dict[str, Any]:
    body = json.dumps({"apiVersion": "1.0", "method": "systemready"})
    return (await call(device, "/axis-cgi/systemready.cgi", method="POST", auth=None, data=body)).json()["data"]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[SimulatedDevice]:
    device = SimulatedDevice(DeviceSpec("S3008", state_dir=tmp_path / "state"))
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


def utc_of(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# -- the API's shapes (§5.5) ----------------------------------------------------------------------


async def test_factory_time_is_utc_and_the_api_is_advertised_on_every_model(served: SimulatedDevice) -> None:
    data = await info(served)
    assert set(data) == {
        "dateTime", "localDateTime", "maxYearSupported", "timeZone", "posixTimeZone", "dstEnabled",
        "dhcpTimeZone", "dhcpTimeZoneUtilized",
    }  # fmt: skip
    assert data["posixTimeZone"] == "UTC0" and data["maxYearSupported"] == 2069
    assert abs((utc_of(data["dateTime"]) - datetime.now(UTC)).total_seconds()) < 5
    assert data["localDateTime"].endswith("+00:00")
    body = json.dumps({"apiVersion": "1.0", "method": "getApiList"})
    listed = (await call(served, "/axis-cgi/apidiscovery.cgi", method="POST", data=body)).json()["data"]["apiList"]
    assert {"id": "time-service", "version": "1.1"}.items() <= next(
        a for a in listed if a["id"] == "time-service"
    ).items()
    assert (await call(served, "/axis-cgi/date.cgi")).status == 404  # AXIS OS 12 has no legacy date.cgi
    supported = await time_api(served, "getSupportedVersions")
    assert "1.1" in supported["data"]["apiVersions"]
    everything = (await time_api(served, "getAll"))["data"]
    assert "Europe/Stockholm" in everything["timeZones"] and everything["posixTimeZone"] == "UTC0"


@pytest.mark.parametrize("model", MODELS)
async def test_every_model_serves_the_time_api(model: str) -> None:
    device = SimulatedDevice(DeviceSpec(model))
    await device.start()
    try:
        assert (await info(device))["posixTimeZone"] == "UTC0"
    finally:
        await device.stop()


# -- time zone: time.cgi and param.cgi are one state; the logs follow -------------------------------


async def test_iana_zone_sets_the_posix_parameter_and_the_logs_carry_its_offset(served: SimulatedDevice) -> None:
    assert (await time_api(served, "setDateTime", dateTime=SUMMER))["data"] == {"dateTime": SUMMER}
    reply = await time_api(served, "setTimeZone", timeZone="Europe/Stockholm")
    assert reply == {"apiVersion": "1.1", "context": "t", "method": "setTimeZone",
                     "data": {"timeZone": "Europe/Stockholm"}}  # fmt: skip
    data = await info(served)
    assert data["timeZone"] == "Europe/Stockholm" and data["posixTimeZone"] == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert data["localDateTime"].startswith("2026-07-01T14:00:") and data["localDateTime"].endswith("+02:00")
    assert (await params(served))["Time.POSIXTimeZone"] == "CET-1CEST,M3.5.0,M10.5.0/3"
    # a line written now carries the zone's offset and local time
    await call(served, "/axis-cgi/param.cgi?action=update&Network.FTP.Enabled=yes")
    line = next(line for line in await system_log(served) if "Network.FTP.Enabled=yes" in line)
    assert line.startswith("2026-07-01T14:00:") and "+02:00 " in line, line


async def test_posix_zone_through_param_cgi_is_what_time_cgi_reports(served: SimulatedDevice) -> None:
    await time_api(served, "setTimeZone", timeZone="Europe/Stockholm")
    await time_api(served, "setDateTime", dateTime="2026-01-15T08:00:00Z")
    # the case: CET-1CEST without dates (glibc's default rule); winter: +01:00
    assert (await call(served, "/axis-cgi/param.cgi?action=update&Time.POSIXTimeZone=CET-1CEST")).text == "OK"
    data = await info(served)
    assert data["posixTimeZone"] == "CET-1CEST" and data["timeZone"] == ""  # the IANA name no longer holds
    assert data["localDateTime"].startswith("2026-01-15T09:00:") and data["localDateTime"].endswith("+01:00")
    line = next(line for line in await system_log(served) if "Time.POSIXTimeZone=CET-1CEST (by" in line)
    assert "+01:00 " in line and line.startswith("2026-01-15T09:00:"), line
    # DST off through param.cgi: summer stays at the standard offset
    await call(served, "/axis-cgi/param.cgi?action=update&Time.DST.Enabled=no")
    await time_api(served, "setDateTime", dateTime=SUMMER)
    data = await info(served)
    assert data["dstEnabled"] is False and data["localDateTime"].endswith("+01:00")


async def test_set_posix_zone_echoes_and_the_report_uses_the_zone(served: SimulatedDevice) -> None:
    await time_api(served, "setDateTime", dateTime=SUMMER)
    reply = await time_api(served, "setPosixTimeZone", posixTimeZone="EST5EDT,M3.2.0,M11.1.0", enableDst=True)
    assert reply["data"] == {"posixTimeZone": "EST5EDT,M3.2.0,M11.1.0", "dstEnabled": True}
    assert (await info(served))["localDateTime"].startswith("2026-07-01T08:00:")
    report = (await call(served, "/axis-cgi/serverreport.cgi")).text
    assert "Report time:       2026-07-01T08:00:" in report and "-04:00" in report.split("Report time:")[1][:40]
    assert (await time_api(served, "resetTimeZone"))["data"] == {"status": "success"}
    data = await info(served)
    assert data["posixTimeZone"] == "UTC0" and data["localDateTime"].endswith("+00:00")


# -- bad input: the API's error, nothing changed ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("setTimeZone", {"timeZone": "Mars/Olympus_Mons"}, 4004),
        ("setTimeZone", {"timeZone": 42}, 4004),
        ("setTimeZone", {}, 4003),
        ("setPosixTimeZone", {"posixTimeZone": "CET"}, 4004),  # no offset
        ("setPosixTimeZone", {"posixTimeZone": "CET-1CEST,M13.5.0,M10.5.0"}, 4004),  # month 13
        ("setPosixTimeZone", {"posixTimeZone": "X" * 200}, 4004),
        ("setPosixTimeZone", {"posixTimeZone": "CET-1", "enableDst": "yes"}, 4004),
        ("setDateTime", {"dateTime": "2026-02-30T00:00:00Z"}, 4004),
        ("setDateTime", {"dateTime": "2070-01-01T00:00:00Z"}, 4004),  # past maxYearSupported
        ("setDateTime", {"dateTime": "2026-07-01 12:00:00"}, 4004),
        ("setDateTime", {"dateTime": 1782907200}, 4004),
        ("setDateTime", {}, 4003),
    ],
)
async def test_bad_zones_and_dates_are_refused_and_change_nothing(
    served: SimulatedDevice, method: str, params: dict[str, Any], code: int
) -> None:
    await time_api(served, "setTimeZone", timeZone="Europe/Stockholm")
    before = await info(served)
    reply = await time_api(served, method, **params)
    assert reply["error"]["code"] == code and "data" not in reply
    after = await info(served)
    moved = (utc_of(after["dateTime"]) - utc_of(before["dateTime"])).total_seconds()
    assert 0 <= moved < 5
    assert {k: after[k] for k in ("timeZone", "posixTimeZone", "dstEnabled")} == {
        k: before[k] for k in ("timeZone", "posixTimeZone", "dstEnabled")
    }


async def test_bad_posix_zone_through_param_cgi_is_refused(served: SimulatedDevice) -> None:
    reply = await call(served, "/axis-cgi/param.cgi?action=update&Time.POSIXTimeZone=not-a-zone")
    assert reply.text == "# Error: Error setting 'root.Time.POSIXTimeZone' to 'not-a-zone'!\n"  # §1.2
    assert (await params(served))["Time.POSIXTimeZone"] == "UTC0"


async def test_protocol_errors(served: SimulatedDevice) -> None:
    assert (await call(served, TIME)).json()["error"]["code"] == 2000  # only POST
    reply = await call(served, TIME, method="POST", data="{not json")
    assert reply.json()["error"]["code"] == 3000
    assert (await time_api(served, "fly"))["error"]["code"] == 4000
    assert (await time_api(served, "getDateTimeInfo", version="2.0"))["error"]["code"] == 4001
    assert (await time_api(served, "resetTimeZone", version="1.0"))["error"]["code"] == 4000  # new in 1.1


async def test_viewers_read_only_administrators_set(served: SimulatedDevice) -> None:
    served.device.add_account("eve", "viewpass", frozenset({"viewer"}), "users", "", ROOT_ACTOR)
    assert "dateTime" in (await time_api(served, "getDateTimeInfo", auth=("eve", "viewpass")))["data"]
    document = json.dumps({"apiVersion": "1.1", "method": "setDateTime", "params": {"dateTime": SUMMER}})
    reply = await call(served, TIME, method="POST", auth=("eve", "viewpass"), data=document)
    assert reply.status == 401
    assert not (await info(served))["dateTime"].startswith("2026-07-01")


# -- the clock: a set date moves the wall time only --------------------------------------------------


async def test_set_date_moves_the_clock_not_uptime_or_boot(served: SimulatedDevice) -> None:
    before = await systemready(served)
    await time_api(served, "setDateTime", dateTime="2031-03-04T05:06:07Z")
    moved = utc_of((await info(served))["dateTime"])
    assert 0 <= (moved - utc_of("2031-03-04T05:06:07Z")).total_seconds() < 5
    after = await systemready(served)
    assert after["bootid"] == before["bootid"] and int(after["uptime"]) - int(before["uptime"]) < 5
    line = next(line for line in await system_log(served) if "Date and time set to 2031-03-04T05:06:07Z" in line)
    assert line.startswith("2031-03-04T05:06:")
    await time_api(served, "setDateTime", dateTime="2001-01-01T00:00:00Z")  # backwards too
    assert (await info(served))["dateTime"].startswith("2001-01-01T00:00:")


async def test_event_times_stay_utc(served: SimulatedDevice) -> None:
    await time_api(served, "setDateTime", dateTime=SUMMER)
    await time_api(served, "setTimeZone", timeZone="Asia/Tokyo")
    event = served.device.event_states()[0]  # events.md §3: UtcTime is UTC ("Z"), whatever the zone
    assert datetime.fromtimestamp(event.time, UTC).strftime("%Y-%m-%dT%H") == "2026-07-01T12"


# -- control API -------------------------------------------------------------------------------------


async def test_control_api_reads_advances_and_sets_the_clock() -> None:
    plan = make_plan([Group("W401", 1)], addressing=Addressing("ports", "127.0.0.1", 0))
    fleet = Fleet.from_plan(plan)
    await fleet.start()
    runner = None
    try:
        runner, port = await start_control(fleet, "127.0.0.1", 0)
        base = f"http://127.0.0.1:{port}/devices/0/clock"
        device = fleet[0]
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.post(base, json={"set": "2030-06-01T10:00:00+02:00"}) as response:
                assert response.status == 200
                shown = await response.json()
            assert shown["utc"].startswith("2030-06-01T08:00:") and shown["serial"] == device.serial
            assert (await info(device))["dateTime"].startswith("2030-06-01T08:0")
            async with session.post(base, json={"advance": 86400}) as response:
                assert (await response.json())["utc"].startswith("2030-06-02T08:0")
            assert (await info(device))["dateTime"].startswith("2030-06-02T08:0")
            for bad in ({"advance": -5}, {"advance": "soon"}, {"set": "tomorrow"}, {"set": "2030-01-01T00:00:00"},
                        {"advance": 1, "set": "2030-01-01T00:00:00Z"}, {}):  # fmt: skip
                async with session.post(base, json=bad) as response:
                    assert response.status == 400, bad
                    assert "error" in await response.json()
            async with session.get(base) as response:
                assert (await response.json())["utc"].startswith("2030-06-02T08:0")
        # the Python twin
        assert device.set_clock("2040-01-01T00:00:00Z")["utc"].startswith("2040-01-01T00:00:")
        assert device.advance_clock(60)["utc"].startswith("2040-01-01T00:01:")
    finally:
        if runner is not None:
            await runner.cleanup()
        await fleet.stop()


# -- persistence and factory default ---------------------------------------------------------------


async def test_zone_and_clock_survive_a_restart_of_the_simulator(tmp_path: Path) -> None:
    spec = DeviceSpec("S4000", state_dir=tmp_path)
    first = SimulatedDevice(spec)
    await first.start()
    try:
        await time_api(first, "setTimeZone", timeZone="America/New_York")
        await time_api(first, "setDateTime", dateTime="2035-05-05T05:05:05Z")
    finally:
        await first.stop()
    again = SimulatedDevice(spec)
    await again.start()
    try:
        data = await info(again)
        assert data["timeZone"] == "America/New_York" and data["posixTimeZone"] == "EST5EDT,M3.2.0,M11.1.0"
        assert data["dateTime"].startswith("2035-05-05T05:0") and data["localDateTime"].endswith("-04:00")
    finally:
        await again.stop()


async def test_factory_default_resets_the_zone_and_keeps_the_time(served: SimulatedDevice) -> None:
    await time_api(served, "setTimeZone", timeZone="Europe/Stockholm")
    await time_api(served, "setDateTime", dateTime="2033-03-03T03:03:03Z")
    reply = await call(served, "/axis-cgi/factorydefault.cgi")
    assert reply.status == 200
    assert await served.wait_ready(30)
    served.device.add_account("root", "pass", frozenset({"admin", "operator", "viewer", "ptz"}), "root", "", ROOT_ACTOR)
    data = await info(served)
    assert data["posixTimeZone"] == "UTC0" and data["timeZone"] == ""
    assert data["dateTime"].startswith("2033-03-03T03:0")  # §2.1: the system time is kept


# -- the zone logic (axisim/timezone.py) ------------------------------------------------------------


def epoch(text: str) -> float:
    return utc_of(text).timestamp()


@pytest.mark.parametrize(
    ("posix", "moment", "east"),
    [
        ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T00:59:59Z", 3600),
        ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", 7200),
        ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T00:59:59Z", 7200),
        ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T01:00:00Z", 3600),
        ("AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-01-10T00:00:00Z", 39600),  # southern summer
        ("AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-07-10T00:00:00Z", 36000),
        ("IST-5:30", "2026-07-10T00:00:00Z", 19800),
        ("<-03>3", "2026-07-10T00:00:00Z", -10800),
        ("XXX3YYY,J60/2,J300/2", "2026-06-01T00:00:00Z", -7200),
        ("UTC0", "2026-06-01T00:00:00Z", 0),
    ],
)
def test_posix_rules_give_the_database_offsets(posix: str, moment: str, east: int) -> None:
    assert Zone(parse_posix(posix)).offset(epoch(moment)) == east


def test_iana_names_map_to_the_database_posix_strings() -> None:
    assert posix_of("Europe/Stockholm") == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert posix_of("Asia/Kolkata") == "IST-5:30"


# -- NTP (ntp.cgi; the manuals' "Date and time": servers from DHCP or one or two manual ones) --------

NTP = "/axis-cgi/ntp.cgi"


async def ntp_api(device: SimulatedDevice, method: str, **params: Any) -> Any:
    document: dict[str, Any] = {"apiVersion": "1.5", "method": method}
    if params:
        document["params"] = params
    reply = await call(device, NTP, method="POST", data=json.dumps(document))
    assert reply.status == 200, (reply.status, reply.text)
    return reply.json()


async def ntp_client(device: SimulatedDevice) -> dict[str, Any]:
    return (await ntp_api(device, "getNTPInfo"))["data"]["client"]


async def test_ntp_from_dhcp_is_synchronised_by_default(served: SimulatedDevice) -> None:
    client = await ntp_client(served)
    router = (await params(served, "Network.DefaultRouter"))["Network.DefaultRouter"]
    assert client["enabled"] is True and client["serversSource"] == "DHCP"
    assert client["advertisedServers"] == [router] and client["servers"] == [router] and client["synced"] is True


async def test_static_ntp_servers_and_param_cgi_are_one_state(served: SimulatedDevice) -> None:
    reply = await ntp_api(served, "setNTPClientConfiguration", serversSource="static",
                          staticServers=["10.0.0.5", "ntp.example.com"])  # fmt: skip
    assert reply["data"] == {}
    client = await ntp_client(served)
    assert client["serversSource"] == "static" and client["servers"] == ["10.0.0.5", "ntp.example.com"]
    assert client["synced"] is True
    time_params = await params(served)
    assert time_params["Time.ObtainFromDHCP"] == "no" and time_params["Time.NTP.Server"] == "10.0.0.5"
    await ntp_api(served, "setNTPClientConfiguration", staticServers=[])
    assert (await ntp_client(served))["synced"] is False  # static, but no server
    await ntp_api(served, "setNTPClientConfiguration", serversSource="DHCP")
    assert (await ntp_client(served))["synced"] is True
    assert (await call(served, "/axis-cgi/param.cgi?action=update&Time.SyncSource=None")).text == "OK"
    client = await ntp_client(served)
    assert client["enabled"] is False and client["synced"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"staticServers": ["bad host!"]},
        {"staticServers": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]},
        {"staticServers": "10.0.0.1"},
        {"serversSource": "ntp"},
        {"enabled": "yes"},
    ],
)
async def test_bad_ntp_settings_are_refused(served: SimulatedDevice, params: dict[str, Any]) -> None:
    before = await ntp_client(served)
    reply = await ntp_api(served, "setNTPClientConfiguration", **params)
    assert reply["error"]["code"] == 4004
    assert await ntp_client(served) == before


# -- schedules run in the device's local time (events.md §4.6: "local time, no zone") -------------


async def test_schedules_follow_the_device_time_zone(served: SimulatedDevice) -> None:
    from tests.test_rules_schedules import INTERVAL, add_schedule

    def active() -> str:
        states = [e for e in served.device.event_states() if e.topic == INTERVAL and e.source["id"] == mornings]
        assert len(states) == 1
        return states[0].data["active"]

    await time_api(served, "setDateTime", dateTime="2026-07-01T22:30:00Z")  # 22:30 UTC = 07:30 in Tokyo
    mornings = await add_schedule(served, "mornings", "DTSTART:20260101T06:00 DTEND:20260101T09:00 RRULE:FREQ=DAILY")
    assert active() == "0"
    seen: list[str] = []
    subscription = served.device.bus.subscribe(
        lambda e: seen.append(e.data["active"]) if e.source["id"] == mornings else None, [INTERVAL]
    )  # the built-in schedules (com.axis.schedules.*) are declared too
    try:
        await time_api(served, "setTimeZone", timeZone="Asia/Tokyo")
        assert active() == "1" and seen == ["1"]  # the change is published at once
        await time_api(served, "setDateTime", dateTime="2026-07-02T01:00:00Z")  # 10:00 in Tokyo
        assert active() == "0" and seen == ["1", "0"]
    finally:
        subscription.cancel()
