"""Where devices serve RTSP: `axisim serve` (554, else the HTTP port + 474; --rtsp-port, --no-rtsp)
and fleets (on in fleets of up to 100 devices, per group in a fleet file, --rtsp / --no-rtsp;
ports mode: a block after the HTTPS one; loopback mode: 554 on each device's own address); the
control API's listing and the inventory name each device's RTSP port."""

from __future__ import annotations

import argparse
import asyncio
import errno
import random
import socket
from pathlib import Path

import pytest

from axisim.cli import parser
from axisim.fleet import Fleet
from axisim.fleet_cli import plan_from_args
from axisim.fleet_file import load_fleet_file
from axisim.fleet_plan import RTSP_AUTO_MAX, Addressing, FleetError, Group, Options, make_plan
from axisim.rtsp import RTSP_OFFSET, RTSP_PORT, default_ports

from .test_cli import Served


def fleet_args(*argv: str) -> argparse.Namespace:
    return parser().parse_args(["fleet", *argv])


def test_serve_defaults_to_554_then_the_http_port_plus_474() -> None:
    assert RTSP_OFFSET == 474
    assert default_ports(8080) == (RTSP_PORT, 8554)
    assert default_ports(0) == (RTSP_PORT, 0)
    assert default_ports(65500) == (RTSP_PORT, 0)  # no room beside it: any free port


def test_serve_prints_the_rtsp_url_and_no_rtsp_turns_it_off() -> None:
    served = Served("--model", "W401", "--no-https", "--rtsp-port", "0")
    try:
        url = served.banner["rtsp"]
        assert url.startswith("rtsp://127.0.0.1:") and url.endswith("/axis-media/media.amp?video=0&audio=0&event=on")
    finally:
        served.stop()
    served = Served("--model", "W401", "--no-https", "--no-rtsp")
    try:
        assert "rtsp" not in served.banner
    finally:
        served.stop()


def test_ports_mode_puts_rtsp_in_a_block_after_https() -> None:
    plan = make_plan([Group("W401", 3)], addressing=Addressing(base_port=30000))
    assert [s.rtsp_ports for s in plan.devices()] == [(30006,), (30007,), (30008,)]
    chosen = make_plan([Group("W401", 2)], addressing=Addressing(base_port=30000, rtsp_port=40000))
    assert [s.rtsp_ports for s in chosen.devices()] == [(40000,), (40001,)]
    free = make_plan([Group("W401", 2)], addressing=Addressing(base_port=0))
    assert [s.rtsp_ports for s in free.devices()] == [(0,), (0,)]


def test_loopback_mode_gives_every_device_554_or_the_remapped_port() -> None:
    plan = make_plan([Group("W401", 2)], addressing=Addressing("loopback", base_port=8080))
    assert [s.rtsp_ports for s in plan.devices()] == [(554, 8554), (554, 8554)]
    fixed = make_plan([Group("W401", 2)], addressing=Addressing("loopback", base_port=8080, rtsp_port=9554))
    assert [s.rtsp_ports for s in fixed.devices()] == [(9554,), (9554,)]


def test_rtsp_is_off_by_default_in_large_fleets_and_on_per_group() -> None:
    small = make_plan([Group("S3008", RTSP_AUTO_MAX)], addressing=Addressing(base_port=0))
    assert all(s.rtsp_ports for s in small.devices())
    large = make_plan(
        [Group("S3008", RTSP_AUTO_MAX), Group("W401", 2, None, Options(rtsp=True))], addressing=Addressing(base_port=0)
    )
    assert [bool(s.rtsp_ports) for s in large.devices()] == [False] * RTSP_AUTO_MAX + [True, True]
    off = make_plan([Group("W401", 2, None, Options(rtsp=False))], addressing=Addressing(base_port=0))
    assert not any(s.rtsp_ports for s in off.devices())


def test_fleet_file_rtsp_per_group_and_rtsp_port(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        'base_port = 31000\nrtsp = false\nrtsp_port = 32000\n'
        '[[group]]\nmodel = "S3008"\ncount = 2\n'
        '[[group]]\nmodel = "W401"\ncount = 2\nrtsp = true\n'
    )  # fmt: skip
    plan = load_fleet_file(path)
    assert [s.rtsp_ports for s in plan.devices()] == [(), (), (32002,), (32003,)]
    everyone = plan_from_args(fleet_args("--file", str(path), "--rtsp"))
    assert [s.rtsp_ports for s in everyone.devices()] == [(32000,), (32001,), (32002,), (32003,)]
    nobody = plan_from_args(fleet_args("--file", str(path), "--no-rtsp"))
    assert not any(s.rtsp_ports for s in nobody.devices())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rtsp = "yes"\n[[group]]\nmodel = "W401"\n', "rtsp is true or false"),
        ('[[group]]\nmodel = "W401"\nrtsp = 1\n', "rtsp is true or false"),
        ('rtsp_port = 70000\n[[group]]\nmodel = "W401"\n', "rtsp_port is a TCP port"),
        ('base_port = 31000\nrtsp_port = 31001\n[[group]]\nmodel = "W401"\ncount = 3\n', "overlap the HTTP"),
        ('base_port = 65400\n[[group]]\nmodel = "W401"\ncount = 60\n', "RTSP ports .* run past 65535"),
    ],
)
def test_bad_rtsp_settings_are_refused_before_starting(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(FleetError, match=message):
        load_fleet_file(path)


def test_cli_flags() -> None:
    on = plan_from_args(fleet_args("--count", "200", "--rtsp", "--base-port", "0"))
    assert all(s.rtsp_ports for s in on.devices())
    assert not any(s.rtsp_ports for s in plan_from_args(fleet_args("--count", "2", "--no-rtsp")).devices())
    assert not any(s.rtsp_ports for s in plan_from_args(fleet_args("--count", "200", "--base-port", "0")).devices())
    with pytest.raises(SystemExit):
        fleet_args("--rtsp", "--no-rtsp")


def _can_bind_554(host: str) -> int:
    with socket.socket() as probe:
        try:
            probe.bind((host, RTSP_PORT))
        except OSError as exc:
            return exc.errno or -1
    return 0


async def _options(host: str, port: int) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    try:
        writer.write(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    finally:
        writer.close()


async def test_loopback_fleet_devices_each_own_554() -> None:
    """Every device on its own 127.0.x.y owns 554 (events.md §3.1: the axis library dials 554)."""
    first = f"127.0.{random.randint(100, 250)}.1"
    probe = _can_bind_554(first)
    if probe == errno.EACCES:
        pytest.skip("port 554 cannot be bound here (not root)")
    if probe:
        pytest.skip(f"{first}:554 is taken")
    plan = make_plan(
        [Group("W401", 2, None, Options(rtsp=True))],
        addressing=Addressing("loopback", base_port=18080, first_address=first),
    )
    fleet = Fleet.from_plan(plan)
    try:
        await fleet.start()
    except FleetError as exc:
        pytest.skip(f"the loopback addresses are taken: {exc}")
    try:
        rows = fleet.inventory()
        assert [r["rtsp_port"] for r in rows] == [RTSP_PORT, RTSP_PORT]
        assert len({r["address"] for r in rows}) == 2
        for row in rows:
            assert (await _options(row["address"], RTSP_PORT)).startswith(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n")
        assert "rtsp_port" in fleet.inventory_csv().splitlines()[0].split(",")
    finally:
        await fleet.stop()


async def test_serve_falls_back_to_the_remapped_port_when_554_cannot_be_had() -> None:
    """554 taken (or not bindable without privileges): the device serves RTSP on the HTTP port + 474."""
    from axisim.simulated import DeviceSpec, SimulatedDevice

    host = f"127.0.{random.randint(100, 250)}.{random.randint(2, 253)}"
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind((host, RTSP_PORT))
            holder.listen()
        except OSError as exc:
            if exc.errno != errno.EACCES:
                pytest.skip(f"{host}:554 is not free: {exc}")
        with socket.socket() as http_probe:  # an HTTP port whose +474 is free
            http_probe.bind((host, 0))
            http_port = http_probe.getsockname()[1]
        if http_port + RTSP_OFFSET > 65535:
            pytest.skip("no room for the remapped port")
        device = SimulatedDevice(
            DeviceSpec(model="W401", host=host, port=http_port, rtsp_ports=default_ports(http_port))
        )
        await device.start()
        try:
            assert device.rtsp_port == http_port + RTSP_OFFSET
            assert (await _options(host, http_port + RTSP_OFFSET)).startswith(b"RTSP/1.0 200 OK\r\n")
            assert device.inventory()["rtsp_port"] == http_port + RTSP_OFFSET
        finally:
            await device.stop()
