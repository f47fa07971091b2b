"""PoE on the S3008 and S3016: the manuals' worked examples, parameters, restart (issue 4).

Figures are the manuals' own: S3008 "Allocate power" and "Allocate power by LLDP",
S3016 "Allocate power".
"""

from __future__ import annotations

import pytest

from axisim.device import Device, make_device
from axisim.lifecycle import RestartKind
from axisim.persistence import StateDir
from axisim.subsystems.poe import PoeSubsystem, PoweredDevice
from param_tree import Role
from tests.conftest import DeviceClientFactory


def poe(device: Device) -> PoeSubsystem:
    subsystem = device.subsystems["poe"]
    assert isinstance(subsystem, PoeSubsystem)
    return subsystem


def camera(poe_class: int, draw: float, lldp: float | None = None, n: int = 0) -> PoweredDevice:
    return PoweredDevice(poe_class, draw, lldp, model="AXIS M3085-V", mac=f"B8:A4:4F:00:00:{n:02X}")


def totals(device: Device) -> tuple[str, str, str]:
    value = device.params.value
    return value("PoE.AllocatedPower"), value("PoE.PowerConsumption"), value("PoE.BudgetExceeded")


def test_s3008_by_class_two_class3_and_four_class2() -> None:
    """S3008: (2 x 15.5) + (4 x 7) = 59 W reserved; (2 x 7.5) + (4 x 5) = 35 W drawn."""
    device = make_device("S3008", variant="2TB")
    switch = poe(device)
    for port in (1, 2):
        switch.plug(port, camera(3, 7.5, n=port))
    for port in (3, 4, 5, 6):
        switch.plug(port, camera(2, 5.0, n=port))
    assert totals(device) == ("59.0", "35.0", "no")
    assert device.params.value("PoE.TotalPowerLimit") == "65.0"
    # a seventh device of class 2 needs 7 W; 6 W are left: it stays unpowered, the recorder shows the fault
    switch.plug(7, camera(2, 5.0, n=7))
    assert totals(device) == ("59.0", "35.0", "yes")
    assert device.params.value("PoE.P6.Status") == "Error: Power budget exceeded"
    assert device.params.value("PoE.P6.AllocatedPower") == "0.0"
    # a class-1 device (4 W) on port 8 still fits in what is left
    switch.plug(8, camera(1, 3.0, n=8))
    assert totals(device)[:2] == ("63.0", "38.0")
    # unplugging frees 15.5 W; the waiting port 7 is re-evaluated and powered
    switch.unplug(1)
    assert totals(device) == ("54.5", "35.5", "no")
    assert device.params.value("PoE.P6.Status") == "Connected - PoE"


def test_s3008_by_lldp_eight_class3_devices() -> None:
    """S3008 by LLDP: 8 x 7.5 = 60 W reserved; 8 x 7 = 56 W drawn."""
    device = make_device("S3008", variant="4TB")
    for port in range(1, 9):
        poe(device).plug(port, camera(3, 7.0, lldp=7.5, n=port))
    assert totals(device) == ("60.0", "56.0", "no")
    assert device.params.value("PoE.P0.Class") == "3"


def test_s3008_without_lldp_falls_back_to_class() -> None:
    device = make_device("S3008")
    for port in range(1, 9):
        poe(device).plug(port, camera(3, 7.0, lldp=None, n=port))
    # by class each reserves 15.5 W: only four fit in 65 W
    assert totals(device) == ("62.0", "28.0", "yes")
    assert [device.params.value(f"PoE.P{i}.Status") for i in range(8)] == ["Connected - PoE"] * 4 + [
        "Error: Power budget exceeded"
    ] * 4


def test_s3008_8tb_budget_is_60w() -> None:
    device = make_device("S3008", variant="8TB")
    assert device.params.value("PoE.TotalPowerLimit") == "60.0"
    for port in range(1, 9):
        poe(device).plug(port, camera(3, 7.0, lldp=7.5, n=port))
    assert totals(device) == ("60.0", "56.0", "no")  # exactly the budget
    two_tb = make_device("S3008", variant="2TB")
    for port in range(1, 5):
        poe(two_tb).plug(port, camera(3, 7.5, n=port))
    eight_tb = make_device("S3008", variant="8TB")
    for port in range(1, 5):
        poe(eight_tb).plug(port, camera(3, 7.5, n=port))
    assert totals(two_tb)[0] == "62.0" and totals(eight_tb) == ("46.5", "22.5", "yes")


def test_s3016_nine_class4_and_two_class3() -> None:
    """S3016: (9 x 30) + (2 x 15.5) = 301 W reserved; (9 x 15) + (2 x 7.5) = 150 W drawn."""
    device = make_device("S3016")
    for port in range(1, 10):
        poe(device).plug(port, camera(4, 15.0, n=port))
    for port in (10, 11):
        poe(device).plug(port, camera(3, 7.5, n=port))
    assert totals(device) == ("301.0", "150.0", "no")
    assert device.params.value("PoE.TotalPowerLimit") == "305.0"
    poe(device).plug(12, camera(2, 5.0, n=12))  # 7 W > 4 W left
    assert device.params.value("PoE.P11.Status") == "Error: Power budget exceeded"


def test_class4_device_on_a_class3_port_is_limited() -> None:
    device = make_device("S3008")
    poe(device).plug(1, camera(4, 12.0, n=1))
    assert device.params.value("PoE.P0.Class") == "3"
    assert device.params.value("PoE.P0.AllocatedPower") == "15.5"


def test_friendly_name_is_model_and_mac_by_default() -> None:
    device = make_device("S3008")
    poe(device).plug(2, camera(2, 5.0, n=2))
    assert device.params.value("PoE.P1.FriendlyName") == "AXIS M3085-V B8:A4:4F:00:00:02"
    device.update_params([("PoE.P1.FriendlyName", "Gate")], Role.OPERATOR)
    assert device.params.value("PoE.P1.FriendlyName") == "Gate"


async def test_parameters_disable_a_port_and_the_budget_follows(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    device = client.device
    for port in range(1, 5):
        poe(device).plug(port, camera(3, 7.5, n=port))
    poe(device).plug(5, camera(3, 7.5, n=5))  # waits: 62 W reserved, 3 W left
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&PoE.P1.Enabled=no") == "OK"
    listed = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE.P1,PoE.P4.Status,PoE.AllocatedPower")
    assert "PoE.P1.Enabled=no\n" in listed and "PoE.P1.Status=Disabled\n" in listed
    assert "PoE.P4.Status=Connected - PoE\n" in listed  # the freed power went to the waiting port
    assert "PoE.AllocatedPower=62.0\n" in listed


@pytest.mark.parametrize(
    "query",
    [
        "PoE.P0.Enabled=maybe",
        "PoE.P8.Enabled=no",  # the S3008 has ports P0-P7
        "PoE.AllocatedPower=1.0",  # read-only
        "PoE.KeepPowerOnRestart=on",
        "PoE.P0.Mode=poweronly",  # the S3008 has no port modes
        "PoE.P0.FriendlyName=" + "x" * 65,
    ],
)
async def test_bad_parameter_values_change_nothing(device_client: DeviceClientFactory, query: str) -> None:
    client = await device_client("S3008")
    poe(client.device).plug(1, camera(2, 5.0, n=1))
    before = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE")
    reply = await client.text("GET", f"/axis-cgi/param.cgi?action=update&{query}")
    assert reply.startswith("# Error: Error setting")
    assert await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE") == before


async def test_viewers_cannot_read_or_change_poe(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await client.text("GET", "/axis-cgi/pwdgrp.cgi?action=add&user=eve&pwd=evepw&grp=users&sgrp=viewer")
    listed = await client.text("GET", "/axis-cgi/param.cgi?action=list&group=PoE", auth=("eve", "evepw"))
    assert listed.startswith("# Error: Error -1 getting param in group 'PoE'")


def test_s3016_port_modes() -> None:
    device = make_device("S3016")
    poe(device).plug(1, camera(2, 5.0, n=1))
    assert device.update_params([("PoE.P0.Mode", "poweronly")], Role.OPERATOR) == []
    port = poe(device).switch.port(1)
    assert port.powered and port.power_only and not port.link_up  # power, no network


def test_s4000_has_no_poe() -> None:
    device = make_device("S4000")
    assert "poe" not in device.subsystems
    assert not [d for d in device.params.all() if d.name.startswith("PoE.")]


@pytest.mark.parametrize("keep", [True, False])
def test_restart_with_and_without_keep_power(keep: bool) -> None:
    device = make_device("S3008")
    device.update_params([("PoE.KeepPowerOnRestart", "yes" if keep else "no")], Role.OPERATOR)
    for port in (1, 2):
        poe(device).plug(port, camera(3, 7.5, n=port))
    seen_during: list[bool] = []
    device.lifecycle.cycle = lambda: seen_during.append(poe(device).switch.port(1).powered)
    device.restart(RestartKind.REBOOT)
    assert seen_during == [keep]  # offline window: powered only with keep-power
    device.boot()
    device.ready()
    assert poe(device).switch.port(1).powered and totals(device)[:2] == ("31.0", "15.0")


def test_factory_default_resets_settings_but_not_what_is_plugged() -> None:
    device = make_device("S3016")
    poe(device).plug(3, camera(4, 15.0, n=3))
    device.update_params(
        [("PoE.P2.Enabled", "no"), ("PoE.KeepPowerOnRestart", "yes"), ("PoE.P0.Mode", "poweronly")], Role.OPERATOR
    )
    assert totals(device)[0] == "0.0"
    device.restart(RestartKind.SOFT)
    assert device.params.value("PoE.P2.Enabled") == "yes"
    assert device.params.value("PoE.KeepPowerOnRestart") == "no"
    assert device.params.value("PoE.P0.Mode") == "powerandethernet"
    assert totals(device)[:2] == ("30.0", "15.0")  # the camera is still plugged and powered again


def test_settings_and_plugged_devices_survive_a_simulator_restart(tmp_path: object) -> None:
    first = make_device("S3008")
    StateDir(tmp_path).attach(first)  # type: ignore[arg-type]
    poe(first).plug(4, camera(2, 5.0, lldp=6.5, n=4))
    first.update_params([("PoE.P0.Enabled", "no"), ("PoE.P3.FriendlyName", "Door")], Role.OPERATOR)
    again = make_device("S3008")
    assert StateDir(tmp_path).attach(again)  # type: ignore[arg-type]
    value = again.params.value
    assert (value("PoE.P0.Enabled"), value("PoE.P3.FriendlyName"), value("PoE.P3.AllocatedPower")) == (
        "no", "Door", "6.5",
    )  # fmt: skip
    assert value("PoE.P3.PowerConsumption") == "5.0"
