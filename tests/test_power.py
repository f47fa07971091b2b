"""W401 power: DC input, PoE over the Ethernet cable, ignition and delayed shutdown (issue 7).

Manual (W401), "Power setting" / "Delayed shutdown": with **Delayed shutdown** on, the
device keeps running for the delay time (1-60 minutes) after the ignition goes off,
then shuts down; "If the device has been without power before it is turned on, a
delay occurs before Delayed shutdown is activated" (axisim: the model fact
delayed_shutdown_arming_s = 60 s). power-settings.cgi per the VAPIX Power settings API
(research notes §2): delayTime in seconds, errors 100/300/301/4001/4002, HTTP 200.

Device time only moves through `device.clock.advance()`; nothing here sleeps for a delay.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from axisim.device import AccountSpec, Device, make_device
from axisim.digest_client import authorization
from axisim.lifecycle import BootTimes, RestartKind, State
from axisim.persistence import StateDir
from axisim.server import RunningDevice, start_device
from axisim.subsystems.power import PowerSubsystem
from param_tree import Role
from tests.conftest import DeviceClient, DeviceClientFactory, connection_refused

CGI = "/axis-cgi/power-settings.cgi"
PARAM = "/axis-cgi/param.cgi"
ENABLED = "PowerSettings.DelayedPowerDown.Enabled"
DELAY = "PowerSettings.DelayedPowerDown.DelayTime"
ARMING = 60  # fixtures/W401/model.toml delayed_shutdown_arming_s
ACCOUNTS = [AccountSpec("root", "pass"), AccountSpec("op", "pw", "operator"), AccountSpec("view", "pw", "viewer")]
OPERATOR, VIEWER = ("op", "pw"), ("view", "pw")
CAPABILITIES = (
    "powerSavingSupport", "delayedPowerDownSupport", "powerProfileSupport", "powerConsumerSupport",
    "powerStatusSupport", "powerConfigurationSupport", "dynamicPowerModeSupport", "powerHistorySupport",
    "disablePowerWarningOverlaySupport", "ioPortPowerSupport",
)  # fmt: skip


def power(device: Device) -> PowerSubsystem:
    subsystem = device.subsystems["power"]
    assert isinstance(subsystem, PowerSubsystem)
    return subsystem


def status(device: Device) -> dict[str, str]:
    """PowerSettings.Status.* without the group prefix."""
    names = ("DCInput", "PoE", "Ignition", "DelayedPowerDown", "ShutdownIn")
    return {name: device.params.value(f"PowerSettings.Status.{name}") for name in names}


def enable(device: Device, delay: int = 300) -> None:
    assert device.update_params([(ENABLED, "yes"), (DELAY, str(delay))], Role.OPERATOR) == []


def armed_device(delay: int = 300) -> Device:
    """A W401 on DC and PoE, delayed shutdown on, past its start-up delay."""
    device = make_device("W401")
    enable(device, delay)
    device.clock.advance(ARMING)
    assert status(device)["DelayedPowerDown"] == "armed"
    return device


def lose_all_power(device: Device) -> None:
    power(device).set_dc(False)
    power(device).set_cable(False)


async def call(
    client: DeviceClient,
    method: str,
    params: Any = None,
    *,
    auth: tuple[str, str] = ("root", "pass"),
    api: str | None = "1.8",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"method": method, **extra}
    if api is not None:
        body["apiVersion"] = api
    if params is not None:
        body["params"] = params
    response = await client.post(CGI, json=body, auth=auth)
    assert response.status == 200, (response.status, await response.text())  # errors too are HTTP 200
    reply = await response.json()
    assert reply["apiVersion"] == "1.8"
    return reply


# -- power-settings.cgi ------------------------------------------------------------


async def test_supported_versions_and_capabilities(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    # research §2: getSupportedVersions carries no apiVersion
    versions = await call(client, "getSupportedVersions", api=None)
    assert versions["data"] == {"apiVersions": ["1.8"]}
    # all ten documented booleans; the W401 has delayed power down and a power status only
    capabilities = await call(client, "getCapabilities", {})
    assert capabilities["data"] == {
        name: name in ("delayedPowerDownSupport", "powerStatusSupport") for name in CAPABILITIES
    }


async def test_delayed_power_down_mode_round_trip(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    got = await call(client, "getDelayedPowerDownMode", context="c1")
    assert got == {
        "apiVersion": "1.8",
        "context": "c1",
        "method": "getDelayedPowerDownMode",
        "data": {"delayedPowerDownMode": False, "delayTime": 300},
    }
    # research §2: set replies "data": {}; delayTime is in seconds (the manual's 10 minutes = 600)
    done = await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": 600})
    assert done["data"] == {} and "error" not in done
    got = await call(client, "getDelayedPowerDownMode", api="1.1")  # any 1.x request is answered as 1.8
    assert got["data"] == {"delayedPowerDownMode": True, "delayTime": 600}
    # one state: the parameters show what the API set
    assert (client.device.params.value(ENABLED), client.device.params.value(DELAY)) == ("yes", "600")


@pytest.mark.parametrize("delay", [0, 59, 3601, 86400])
async def test_delay_outside_one_to_sixty_minutes_is_refused(device_client: DeviceClientFactory, delay: int) -> None:
    # manual: "Set a delay time between 1 and 60 minutes" -> 60..3600 s; research §2: error 301
    client = await device_client("W401")
    reply = await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": delay})
    assert reply["error"] == {"code": 301, "message": "Unable to set delayed power down mode."}
    assert client.device.params.value(DELAY) == "300"


async def test_a_refused_set_changes_nothing(device_client: DeviceClientFactory) -> None:
    # an error reply means the request was not carried out (research §2: 301 "Unable to set ...")
    client = await device_client("W401")
    reply = await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": 59})
    assert reply["error"]["code"] == 301
    got = await call(client, "getDelayedPowerDownMode")
    assert got["data"] == {"delayedPowerDownMode": False, "delayTime": 300}


@pytest.mark.parametrize("delay", [60, 3600])
async def test_delay_limits_are_inclusive(device_client: DeviceClientFactory, delay: int) -> None:
    client = await device_client("W401")
    reply = await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": delay})
    assert reply["data"] == {}
    assert (await call(client, "getDelayedPowerDownMode"))["data"] == {"delayedPowerDownMode": True, "delayTime": delay}


async def test_delay_time_is_ignored_when_turning_it_off_and_kept_when_omitted(
    device_client: DeviceClientFactory,
) -> None:
    # research §2: delayTime "is not used if delayedPowerDownMode is false"
    client = await device_client("W401")
    await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": 900})
    off = await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": False, "delayTime": 5})
    assert off["data"] == {}
    assert (await call(client, "getDelayedPowerDownMode"))["data"] == {"delayedPowerDownMode": False, "delayTime": 900}
    on = await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True})
    assert on["data"] == {}
    assert (await call(client, "getDelayedPowerDownMode"))["data"] == {"delayedPowerDownMode": True, "delayTime": 900}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"delayTime": 600}, 4001),  # the mode is mandatory
        ({"delayedPowerDownMode": "yes"}, 4002),
        ({"delayedPowerDownMode": 1}, 4002),
        ({"delayedPowerDownMode": True, "delayTime": "600"}, 4002),
        ({"delayedPowerDownMode": True, "delayTime": 600.0}, 4002),
        ({"delayedPowerDownMode": True, "delayTime": True}, 4002),
        (["delayedPowerDownMode", True], 4002),  # params must be an object
    ],
)
async def test_set_with_bad_params(device_client: DeviceClientFactory, params: Any, code: int) -> None:
    client = await device_client("W401")
    reply = await call(client, "setDelayedPowerDownMode", params)
    assert reply["error"]["code"] == code
    assert reply["method"] == "setDelayedPowerDownMode"
    assert client.device.params.value(ENABLED) == "no"


async def test_bad_requests_answer_the_general_errors(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    unknown = await call(client, "rebootPowerSupply")
    assert unknown["error"] == {"code": 4002, "message": "The type of a provided JSON parameter was incorrect."}
    newer = await call(client, "getDelayedPowerDownMode", api="2.0")
    assert newer["error"] == {"code": 100, "message": "The requested API version is not supported."}
    response = await client.post(CGI, data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert await response.json() == {
        "apiVersion": "1.8",
        "error": {"code": 4002, "message": "The type of a provided JSON parameter was incorrect."},
    }


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("getPowerSavingMode", "Power saving mode is not supported."),
        ("setPowerSavingMode", "Power saving mode is not supported."),
        ("getPowerConsumers", "Power consumers is not supported."),
        ("setPowerProfile", "Power profiles is not supported."),
        ("getActivePowerConfiguration", "Power configurations are not supported."),
        ("getDynamicPowerMode", "Dynamic power mode is not supported."),
        ("getPowerHistory", "Power history is not supported."),
        ("setPowerWarningOverlay", "Disable Power Warning Overlay is not supported."),
        ("getIoPortPower", "IO Port Power is not supported."),
    ],
)
async def test_features_the_w401_lacks_answer_300(
    device_client: DeviceClientFactory, method: str, message: str
) -> None:
    # research §2: each method's documented 300 message
    client = await device_client("W401")
    reply = await call(client, method, {})
    assert reply["error"] == {"code": 300, "message": message}


async def test_roles(device_client: DeviceClientFactory) -> None:
    # research §2 "Security level": delayed power down and power status are for operators
    client = await device_client("W401", accounts=ACCOUNTS)
    viewer = await client.post(CGI, json={"apiVersion": "1.8", "method": "getDelayedPowerDownMode"}, auth=VIEWER)
    assert viewer.status == 401
    done = await call(
        client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": 120}, auth=OPERATOR
    )
    assert done["data"] == {}
    assert (await call(client, "getPowerStatus", auth=OPERATOR))["data"]["psePoeClass"] == 4
    # power history is an administrator's method: an operator is challenged, not told "not supported"
    history = await client.post(CGI, json={"apiVersion": "1.8", "method": "getPowerHistory"}, auth=OPERATOR)
    assert history.status == 401
    assert (await call(client, "getPowerSavingMode", auth=OPERATOR))["error"]["code"] == 300


async def test_power_status_follows_poe_and_lldp(device_client: DeviceClientFactory) -> None:
    # research §2 getPowerStatus: -1 where a value is not available
    client = await device_client("W401")
    usage = {"currentPower": 3.0, "averagePower": 3.0, "maxPower": 3.0}
    on_poe = await call(client, "getPowerStatus")
    assert on_poe["data"] == {"usage": usage, "psePoeClass": 4, "lldpPoeClass": -1, "powerRequested": -1}
    assert await client.text("GET", f"{PARAM}?action=update&Network.LLDP.POE.Enabled=yes") == "OK"
    lldp = await call(client, "getPowerStatus")
    assert lldp["data"] == {"usage": usage, "psePoeClass": 4, "lldpPoeClass": 4, "powerRequested": 25.5}
    power(client.device).set_cable(True, poe=False)  # a switch port without PoE: running on the DC input
    on_dc = await call(client, "getPowerStatus")
    assert on_dc["data"] == {"usage": usage, "psePoeClass": -1, "lldpPoeClass": -1, "powerRequested": -1}
    # cable unplugged (no network then, unless on WLAN): the same status from the Python API
    power(client.device).set_cable(False)
    status = power(client.device).power_status()
    assert (status.draw_w, status.pse_class, status.lldp_class, status.requested_w) == (3.0, None, None, None)


async def test_only_the_w401_has_power_settings(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    response = await client.post(CGI, json={"apiVersion": "1.8", "method": "getCapabilities"})
    assert response.status == 404
    assert "power" not in client.device.subsystems
    assert not [d for d in client.device.params.all() if d.name.startswith("PowerSettings.")]


# -- the physical world: DC, cable, PoE --------------------------------------------


def test_status_parameters_follow_the_physical_world() -> None:
    device = make_device("W401")
    assert status(device) == {
        "DCInput": "connected",
        "PoE": "connected",
        "Ignition": "on",
        "DelayedPowerDown": "disabled",
        "ShutdownIn": "",
    }
    power(device).set_dc(False)  # still on PoE
    power(device).set_ignition(False)
    assert device.lifecycle.state is State.READY
    assert status(device) == {
        "DCInput": "disconnected",
        "PoE": "connected",
        "Ignition": "off",
        "DelayedPowerDown": "disabled",
        "ShutdownIn": "",
    }
    power(device).set_dc(True)
    power(device).set_cable(True, poe=False)  # a cable to a switch port without PoE
    assert status(device)["PoE"] == "disconnected"
    assert device.lifecycle.state is State.READY


def test_losing_dc_and_poe_powers_off_and_power_back_boots() -> None:
    device = make_device("W401")
    boot_id = device.boot_id
    power(device).set_dc(False)
    assert device.lifecycle.state is State.READY  # PoE still supplies it
    power(device).set_cable(False)
    assert device.lifecycle.state is State.OFF
    assert status(device)["DelayedPowerDown"] == "off"
    power(device).set_dc(True)
    assert device.lifecycle.state is State.READY  # no server hook: boots at once
    assert device.boot_id != boot_id
    lines = device.logs.system.lines()
    assert any("Power off: no power on the DC input or PoE" in line for line in lines)
    assert any("Power on" in line for line in lines)


def test_a_cable_without_poe_does_not_power_the_device() -> None:
    device = make_device("W401")
    power(device).set_cable(True, poe=False)
    power(device).set_dc(False)
    assert device.lifecycle.state is State.OFF
    power(device).set_cable(True, poe=True)  # the switch starts giving PoE
    assert device.lifecycle.state is State.READY
    assert status(device)["DCInput"] == "disconnected" and status(device)["PoE"] == "connected"


def test_restart_while_off_does_nothing() -> None:
    device = make_device("W401")
    lose_all_power(device)
    device.restart(RestartKind.REBOOT)
    assert device.lifecycle.state is State.OFF


async def test_requests_to_a_device_without_power_are_dropped(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    power(client.device).set_cable(True, poe=False)  # the network stays, the power goes
    power(client.device).set_dc(False)
    assert client.device.lifecycle.state is State.OFF
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.get(f"{PARAM}?action=list&group=Brand.ProdNbr")
    power(client.device).set_dc(True)
    assert await client.text("GET", f"{PARAM}?action=list&group=Brand.ProdNbr") == "Brand.ProdNbr=W401\n"


# -- delayed shutdown --------------------------------------------------------------


def test_ignition_is_ignored_while_delayed_shutdown_is_off() -> None:
    # manual: "only turn on Delayed shutdown when the ignition is physically connected"
    device = make_device("W401")
    device.clock.advance(ARMING)
    power(device).set_ignition(False)
    device.clock.advance(2 * 3600)
    assert device.lifecycle.state is State.READY
    assert status(device)["DelayedPowerDown"] == "disabled" and status(device)["ShutdownIn"] == ""


def test_shuts_down_when_the_delay_after_ignition_off_has_passed() -> None:
    device = armed_device(delay=120)
    power(device).set_ignition(False)
    assert status(device)["DelayedPowerDown"] == "countdown"
    assert status(device)["ShutdownIn"] == "120"
    device.clock.advance(119)
    assert device.lifecycle.state is State.READY
    assert status(device)["ShutdownIn"] == "1"
    device.clock.advance(1)
    assert device.lifecycle.state is State.OFF
    assert status(device)["DelayedPowerDown"] == "off" and status(device)["ShutdownIn"] == ""
    assert any("Power off: delayed shutdown" in line for line in device.logs.system.lines())


def test_ignition_on_before_expiry_cancels_the_countdown() -> None:
    device = armed_device(delay=120)
    power(device).set_ignition(False)
    device.clock.advance(100)
    power(device).set_ignition(True)
    assert status(device)["DelayedPowerDown"] == "armed" and status(device)["ShutdownIn"] == ""
    device.clock.advance(3600)
    assert device.lifecycle.state is State.READY
    # the next ignition off counts the whole delay again
    power(device).set_ignition(False)
    assert status(device)["ShutdownIn"] == "120"


def test_ignition_on_boots_the_device_after_a_delayed_shutdown() -> None:
    device = armed_device(delay=60)
    boot_id = device.boot_id
    power(device).set_ignition(False)
    device.clock.advance(60)
    assert device.lifecycle.state is State.OFF
    device.clock.advance(3600)  # parked overnight: stays off
    assert device.lifecycle.state is State.OFF
    power(device).set_ignition(True)
    assert device.lifecycle.state is State.READY
    assert device.boot_id != boot_id
    assert status(device)["Ignition"] == "on" and status(device)["ShutdownIn"] == ""


def test_start_up_delay_before_delayed_shutdown_acts() -> None:
    # manual: "If the device has been without power before it is turned on, a delay occurs
    # before Delayed shutdown is activated": the countdown starts when that delay ends
    device = make_device("W401")
    enable(device, delay=300)
    assert status(device)["DelayedPowerDown"] == "starting"
    power(device).set_ignition(False)
    assert status(device)["DelayedPowerDown"] == "starting"
    assert status(device)["ShutdownIn"] == str(ARMING + 300)
    device.clock.advance(300 + 1)  # the delay alone has passed, counted from ignition off
    assert device.lifecycle.state is State.READY
    assert status(device)["DelayedPowerDown"] == "countdown"
    device.clock.advance(ARMING - 1)
    assert device.lifecycle.state is State.OFF


def test_power_returning_starts_the_start_up_delay_again() -> None:
    device = armed_device(delay=300)
    device.clock.advance(3600)
    power(device).set_ignition(False)
    device.clock.advance(100)
    lose_all_power(device)
    assert device.lifecycle.state is State.OFF
    power(device).set_dc(True)  # power back with the ignition still off: boots, then waits
    assert device.lifecycle.state is State.READY
    assert status(device)["DelayedPowerDown"] == "starting"
    assert status(device)["ShutdownIn"] == str(ARMING + 300)
    device.clock.advance(ARMING + 299)
    assert device.lifecycle.state is State.READY
    device.clock.advance(1)
    assert device.lifecycle.state is State.OFF


def test_changing_the_delay_during_a_countdown_recomputes_it() -> None:
    device = armed_device(delay=600)
    power(device).set_ignition(False)
    device.clock.advance(100)
    assert status(device)["ShutdownIn"] == "500"
    assert device.update_params([(DELAY, "1200")], Role.OPERATOR) == []
    assert status(device)["ShutdownIn"] == "1100"
    device.clock.advance(1000)
    assert device.lifecycle.state is State.READY
    # a delay shorter than the time the ignition has been off: the countdown is over
    assert device.update_params([(DELAY, "300")], Role.OPERATOR) == []
    assert device.lifecycle.state is State.OFF


async def test_turning_delayed_shutdown_off_during_a_countdown_cancels_it(
    device_client: DeviceClientFactory,
) -> None:
    client = await device_client("W401")
    device = client.device
    await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": True, "delayTime": 120})
    device.clock.advance(ARMING)
    power(device).set_ignition(False)
    device.clock.advance(60)
    assert status(device)["ShutdownIn"] == "60"
    await call(client, "setDelayedPowerDownMode", {"delayedPowerDownMode": False})
    assert status(device)["DelayedPowerDown"] == "disabled" and status(device)["ShutdownIn"] == ""
    device.clock.advance(3600)
    assert device.lifecycle.state is State.READY


def test_a_reboot_is_not_a_power_loss() -> None:
    # a restart keeps the device powered: the running countdown goes on, no new start-up delay
    device = armed_device(delay=300)
    power(device).set_ignition(False)
    device.clock.advance(100)
    device.restart(RestartKind.REBOOT)
    assert device.lifecycle.state is State.READY
    assert status(device)["DelayedPowerDown"] == "countdown" and status(device)["ShutdownIn"] == "200"
    device.clock.advance(200)
    assert device.lifecycle.state is State.OFF


def test_factory_default_turns_delayed_shutdown_off() -> None:
    device = armed_device(delay=900)
    power(device).set_ignition(False)
    device.restart(RestartKind.SOFT)
    assert (device.params.value(ENABLED), device.params.value(DELAY)) == ("no", "300")
    assert status(device)["DelayedPowerDown"] == "disabled" and status(device)["ShutdownIn"] == ""
    assert status(device)["Ignition"] == "off"  # the wiring is not a setting
    device.clock.advance(3600)
    assert device.lifecycle.state is State.READY


def test_power_returning_after_a_delayed_shutdown_boots_the_device() -> None:
    # manual: a device "without power before it is turned on" boots and delays Delayed shutdown
    device = armed_device(delay=60)
    power(device).set_ignition(False)
    device.clock.advance(60)
    assert device.lifecycle.state is State.OFF
    lose_all_power(device)  # the vehicle's battery is disconnected
    power(device).set_dc(True)  # and connected again, ignition still off
    assert device.lifecycle.state is State.READY
    assert status(device)["DelayedPowerDown"] == "starting"


def test_turning_delayed_shutdown_on_while_the_ignition_is_off_counts_the_full_delay() -> None:
    # the ignition is ignored while delayed shutdown is off, so its going off then starts nothing
    device = make_device("W401")
    device.clock.advance(ARMING)
    power(device).set_ignition(False)
    device.clock.advance(3600)
    enable(device, delay=600)
    assert device.lifecycle.state is State.READY
    assert status(device)["ShutdownIn"] == "600"


# -- persistence -------------------------------------------------------------------


def test_settings_and_wiring_survive_a_simulator_restart(tmp_path: Path) -> None:
    first = make_device("W401")
    StateDir(tmp_path).attach(first)
    enable(first, delay=900)
    power(first).set_cable(True, poe=False)
    power(first).set_ignition(False)
    again = make_device("W401")
    assert StateDir(tmp_path).attach(again)
    assert (again.params.value(ENABLED), again.params.value(DELAY)) == ("yes", "900")
    restored = power(again)
    assert (restored.dc, restored.cable, restored.poe, restored.ignition) == (True, True, False, False)
    # starting the simulator is a power-up: the ignition is off, so the countdown follows the start-up delay
    assert again.lifecycle.state is State.READY
    assert status(again) == {
        "DCInput": "connected",
        "PoE": "disconnected",
        "Ignition": "off",
        "DelayedPowerDown": "starting",
        "ShutdownIn": str(ARMING + 900),
    }


def test_a_saved_state_without_power_comes_back_on_dc(tmp_path: Path) -> None:
    first = make_device("W401")
    StateDir(tmp_path).attach(first)
    lose_all_power(first)
    assert first.lifecycle.state is State.OFF
    again = make_device("W401")
    assert StateDir(tmp_path).attach(again)
    restored = power(again)
    assert (restored.dc, restored.cable) == (True, False)  # documented choice: powered on the DC input
    assert again.lifecycle.state is State.READY
    assert status(again)["DCInput"] == "connected" and status(again)["PoE"] == "disconnected"


# -- param.cgi ---------------------------------------------------------------------


async def test_param_cgi_lists_the_power_settings(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401", accounts=ACCOUNTS)
    power(client.device).set_ignition(False)
    expected = (
        "PowerSettings.DelayedPowerDown.DelayTime=300\n"
        "PowerSettings.DelayedPowerDown.Enabled=no\n"
        "PowerSettings.Status.DCInput=connected\n"
        "PowerSettings.Status.DelayedPowerDown=disabled\n"
        "PowerSettings.Status.Ignition=off\n"
        "PowerSettings.Status.PoE=connected\n"
        "PowerSettings.Status.ShutdownIn=\n"
    )
    assert await client.text("GET", f"{PARAM}?action=list&group=PowerSettings") == expected
    assert await client.text("GET", f"{PARAM}?action=list&group=PowerSettings", auth=VIEWER) == expected


@pytest.mark.parametrize("query", [f"{DELAY}=59", f"{DELAY}=3601", f"{DELAY}=ten", f"{ENABLED}=maybe"])
async def test_param_cgi_refuses_bad_values(device_client: DeviceClientFactory, query: str) -> None:
    client = await device_client("W401")
    name, value = query.split("=")
    body = await client.text("GET", f"{PARAM}?action=update&{query}")
    assert body == f"# Error: Error setting 'root.{name}' to '{value}'!\n"
    assert (client.device.params.value(ENABLED), client.device.params.value(DELAY)) == ("no", "300")


async def test_param_cgi_status_is_read_only(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    body = await client.text("GET", f"{PARAM}?action=update&PowerSettings.Status.Ignition=off")
    assert body == "# Error: Error setting 'root.PowerSettings.Status.Ignition' to 'off'!\n"
    assert status(client.device)["Ignition"] == "on" and power(client.device).ignition


async def test_an_operator_sets_delayed_shutdown_by_param_cgi(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401", accounts=ACCOUNTS)
    update = f"{PARAM}?action=update&{ENABLED}=yes&{DELAY}=60"
    assert await client.text("GET", update, auth=OPERATOR) == "OK"
    assert (await call(client, "getDelayedPowerDownMode"))["data"] == {"delayedPowerDownMode": True, "delayTime": 60}
    denied = await client.get(f"{PARAM}?action=update&{ENABLED}=no", auth=VIEWER)
    assert denied.status == 401
    assert client.device.params.value(ENABLED) == "yes"
    # and it acts: one minute after the ignition goes off (past the start-up delay)
    client.device.clock.advance(ARMING)
    power(client.device).set_ignition(False)
    client.device.clock.advance(60)
    assert client.device.lifecycle.state is State.OFF


# -- a served device: real listeners -----------------------------------------------


@pytest.fixture
async def served() -> Any:
    device = make_device("W401", boot_times=BootTimes(offline_seconds=0.3, booting_seconds=0.2))
    running = await start_device(device, "127.0.0.1", 0, https_port=None)
    yield running
    await running.stop()


async def _until(check: Any, seconds: float = 5.0) -> bool:
    """Poll `await check()` every 50 ms until true or the deadline passes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


async def _systemready(url: str) -> dict[str, str] | None:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{url}/axis-cgi/systemready.cgi",
                json={"apiVersion": "1", "method": "systemready"},
                timeout=aiohttp.ClientTimeout(total=2),
            ) as response,
        ):
            return (await response.json())["data"]
    except aiohttp.ClientError:
        return None


async def _ready(url: str) -> bool:
    state = await _systemready(url)
    return state is not None and state["systemready"] == "yes"


async def _param(url: str, query: str) -> str:
    async with aiohttp.ClientSession() as session:
        target = f"{url}{PARAM}?{query}"
        first = await session.get(target)
        await first.read()
        uri = first.request_info.url.raw_path_qs
        header = authorization(first.headers["WWW-Authenticate"], user="root", password="pass", method="GET", uri=uri)
        async with session.get(target, headers={"Authorization": header}) as response:
            return await response.text()


async def test_served_delayed_shutdown_closes_the_listener_and_ignition_brings_it_back(
    served: RunningDevice,
) -> None:
    device, url = served.device, served.url
    assert await _param(url, f"action=update&{ENABLED}=yes&{DELAY}=60") == "OK"
    boot_id = device.boot_id
    device.clock.advance(ARMING)
    power(device).set_ignition(False)
    device.clock.advance(60)
    assert device.lifecycle.state is State.OFF
    assert await _until(lambda: connection_refused(f"{url}/axis-cgi/systemready.cgi"))
    # no power-up while the ignition stays off
    await asyncio.sleep(0.6)  # longer than the boot time
    assert await connection_refused(f"{url}/axis-cgi/systemready.cgi")
    power(device).set_ignition(True)
    assert await _until(lambda: _ready(url))
    state = await _systemready(url)
    assert state is not None and state["bootid"] == device.boot_id != boot_id
    assert await _param(url, f"action=list&group={ENABLED}") == f"{ENABLED}=yes\n"


async def test_served_power_loss_and_return(served: RunningDevice) -> None:
    device, url = served.device, served.url
    boot_id = device.boot_id
    lose_all_power(device)
    assert await _until(lambda: connection_refused(f"{url}/axis-cgi/systemready.cgi"))
    power(device).set_cable(True)  # PoE returns
    assert await _until(lambda: _ready(url))
    assert device.lifecycle.state is State.READY and device.boot_id != boot_id
    assert await _param(url, "action=list&group=PowerSettings.Status.PoE") == "PowerSettings.Status.PoE=connected\n"


async def test_served_brief_power_glitch_reboots_the_device(served: RunningDevice) -> None:
    device, url = served.device, served.url
    boot_id = device.boot_id
    power(device).set_cable(True, poe=False)  # the network stays connected throughout
    power(device).set_dc(False)
    assert device.lifecycle.state is State.OFF
    power(device).set_dc(True)  # the supply comes back at once
    ready = await _until(lambda: _ready(url), seconds=4)
    assert ready, f"not ready after 4 s (state {device.lifecycle.state})"
    assert device.boot_id != boot_id
