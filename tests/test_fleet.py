"""Fleets as a user runs them: plans and fleet files, identities, listeners, inventories, state, the CLI.

Expectations come from the rules a user relies on (DESIGN.md "Identity": serial = MAC without
colons under an Axis OUI, hostname `axis-<serial lower>`, realm `AXIS_<serial>`, the same seed
gives the same fleet), not from copies of the implementation's output.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import math
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from axisim.device import make_device
from axisim.fleet import Fleet, raise_file_limit
from axisim.fleet_file import load_fleet_file
from axisim.fleet_plan import (
    Addressing,
    FleetError,
    FleetPlan,
    Group,
    Options,
    loopback_address,
    make_plan,
    parse_account,
    parse_mix,
)
from axisim.identity import AXIS_OUIS
from axisim.model import load_model
from axisim.persistence import StateError
from tests.conftest import MODELS, connection_refused, digest_request

BASIC_INFO = "/axis-cgi/basicdeviceinfo.cgi"
ALL_PROPERTIES = {"apiVersion": "1.0", "method": "getAllProperties"}
HOSTNAME_PARAM = "Network.HostName"
TIMEOUT = aiohttp.ClientTimeout(total=10)
REQUIRED_INVENTORY_FIELDS = {
    "index", "model", "variant", "serial", "mac", "hostname", "address", "http_port", "https_port", "url",
    "username", "password",
}  # fmt: skip


# -- helpers ----------------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def can_bind(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def mac_of(serial: str) -> str:
    return ":".join(serial[i : i + 2] for i in range(0, len(serial), 2))


def serials_of(fleet: Fleet) -> list[str]:
    return [d.serial for d in fleet]


def all_models_plan(per_model: int, seed: str = "axisim", order: list[str] | None = None) -> FleetPlan:
    return make_plan([Group(m, per_model) for m in order or MODELS], seed=seed, addressing=Addressing(base_port=0))


async def param(session: aiohttp.ClientSession, url: str, auth: tuple[str, str], name: str) -> str:
    reply = await digest_request(session, "GET", f"{url}/axis-cgi/param.cgi?action=list&group={name}", auth)
    assert reply.status == 200, (reply.status, reply.text)
    key, _, value = reply.text.strip().partition("=")
    assert key.removeprefix("root.") == name, reply.text
    return value


async def set_param(session: aiohttp.ClientSession, url: str, auth: tuple[str, str], name: str, value: str) -> None:
    reply = await digest_request(session, "GET", f"{url}/axis-cgi/param.cgi?action=update&{name}={value}", auth)
    assert (reply.status, reply.text.strip()) == (200, "OK"), (reply.status, reply.text)


StartFleet = Callable[..., Awaitable[Fleet]]


@pytest.fixture
async def start_fleet() -> AsyncIterator[StartFleet]:
    """Factory: `await start_fleet(plan)` -> a started Fleet, stopped after the test whatever happens."""
    fleets: list[Fleet] = []

    async def start(plan: FleetPlan, progress: Callable[[int, int], None] | None = None) -> Fleet:
        fleet = Fleet.from_plan(plan)
        fleets.append(fleet)
        await fleet.start(progress)
        return fleet

    yield start
    for fleet in fleets:
        await fleet.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
        yield client


# -- identities of a large plan (no listeners) --------------------------------------------------------


@pytest.fixture(scope="module")
def big_fleet() -> Fleet:
    """5,000 devices, 1,000 of each model, built but never started."""
    return Fleet.from_plan(all_models_plan(1000))


def test_large_fleet_identities_are_unique(big_fleet: Fleet) -> None:
    assert len(big_fleet) == 5000
    for what, values in {
        "serial": [d.serial for d in big_fleet],
        "mac": [d.identity.mac for d in big_fleet],
        "hostname": [d.device.hostname for d in big_fleet],
        "realm": [d.device.digest.realm for d in big_fleet],
    }.items():
        duplicates = [v for v, n in Counter(values).items() if n > 1]
        assert not duplicates, f"duplicate {what}s: {duplicates[:5]}"


def test_large_fleet_identities_follow_the_identity_rule(big_fleet: Fleet) -> None:
    per_model = Counter(d.device.model.id for d in big_fleet)
    assert per_model == dict.fromkeys(MODELS, 1000)
    for device in big_fleet:
        serial = device.serial
        assert re.fullmatch(r"[0-9A-F]{12}", serial), serial
        assert serial[:6] in AXIS_OUIS
        assert serial[:6] == load_model(device.device.model.id).oui.upper(), (device.device.model.id, serial)
        assert device.identity.mac == mac_of(serial)
        assert device.identity.mac.replace(":", "") == serial
        assert device.device.hostname == f"axis-{serial.lower()}"
        assert device.device.digest.realm == f"AXIS_{serial}"
        row = device.inventory()
        assert (row["serial"], row["mac"], row["hostname"]) == (serial, mac_of(serial), f"axis-{serial.lower()}")


def test_large_fleet_finds_every_device_by_serial_in_any_case_and_by_index(big_fleet: Fleet) -> None:
    for index in (0, 1, 999, 1000, 2500, 4999):
        device = big_fleet[index]
        assert big_fleet.get(device.serial) is device
        assert big_fleet.get(device.serial.lower()) is device
        assert big_fleet.get(str(index)) is device
    assert big_fleet.get("B8A44F000000Z") is None
    assert big_fleet.get(str(len(big_fleet))) is None


def test_the_same_plan_gives_the_same_fleet_and_another_seed_another() -> None:
    first = serials_of(Fleet.from_plan(all_models_plan(100, seed="site-a")))
    again = serials_of(Fleet.from_plan(all_models_plan(100, seed="site-a")))
    other = serials_of(Fleet.from_plan(all_models_plan(100, seed="site-b")))
    assert first == again
    assert other != first
    # a different seed is a different fleet, not the same fleet reshuffled or shifted by a few
    assert len(set(first) & set(other)) < len(first) // 2


def test_a_fleet_device_is_the_device_serve_starts_with_the_same_seed_and_index() -> None:
    fleet = Fleet.from_plan(make_plan([Group("W401", 3), Group("S3016", 3)], seed="lab"))
    for device in fleet:
        alone = make_device(device.device.model.id, seed="lab", index=device.spec.index)
        assert alone.serial == device.serial


@pytest.mark.parametrize(
    "groups",
    [
        [("S3008", 300), ("S3016", 300), ("S4000", 300)],  # three models under the same OUI
        [("S4000", 300), ("S3016", 300), ("S3008", 300)],  # the same mix, reversed
        [("S3008", 1), ("S3016", 599), ("S4000", 2), ("W401", 50), ("C1410MkII", 50)],
        [("S3008", 300), ("S3008", 300), ("S3008", 1)],  # a model named twice
    ],
)
def test_reordering_or_resizing_the_mix_never_duplicates_identities(groups: list[tuple[str, int]]) -> None:
    fleet = Fleet.from_plan(make_plan([Group(m, n) for m, n in groups], seed="mix"))
    serials = serials_of(fleet)
    assert len(serials) == sum(n for _, n in groups)
    assert len(set(serials)) == len(serials)
    assert len({d.identity.mac for d in fleet}) == len(serials)


# -- parse_mix, parse_account -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("S3008:3,W401", 10),
        ("S3008,S3016,S4000", 10),
        ("S3008,W401,C1410MkII", 2),
        ("S3008:7,S3016:2,W401:1", 1000),
        ("S3008:5,S3016:3,S4000:3,W401:2,C1410MkII:1", 101),
        ("S3008", 7),
        (" S3008:2 , W401 ,", 9),
    ],
)
def test_parse_mix_shares_the_count_exactly_and_in_proportion(text: str, count: int) -> None:
    mix = parse_mix(text, count)
    assert parse_mix(text, count) == mix  # deterministic
    assert sum(n for _, n in mix) == count
    weights = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, _, weight = item.partition(":")
        weights.append((name.strip(), int(weight) if weight else 1))
    assert [name.strip() for name, _ in mix] == [name for name, _ in weights]
    total = sum(w for _, w in weights)
    for (_, share), (_, weight) in zip(mix, weights, strict=True):
        exact = count * weight / total
        assert math.floor(exact) <= share <= math.ceil(exact), (text, count, mix)


@pytest.mark.parametrize("text", ["S3008:x", "S3008:0", "S3008:-1", "S3008:1.5", "", " , ", "S3008,W401:two"])
def test_parse_mix_refuses_bad_mixes(text: str) -> None:
    with pytest.raises(FleetError):
        parse_mix(text, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("root:pass", ("root", "pass", "admin")), ("eve:pw:viewer", ("eve", "pw", "viewer")),
     ("op:pw:operator+ptz", ("op", "pw", "operator+ptz"))],
)  # fmt: skip
def test_parse_account_reads_name_password_role(text: str, expected: tuple[str, str, str]) -> None:
    account = parse_account(text)
    assert (account.name, account.password, account.role) == expected


@pytest.mark.parametrize("text", ["root", "root:", ":pass", "root:pass:superuser", "root:pass:ptz"])
def test_parse_account_refuses_bad_accounts(text: str) -> None:
    with pytest.raises(FleetError, match="NAME:PASSWORD"):
        parse_account(text)


# -- make_plan ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "addressing", "message"),
    [
        ([Group("Q9999", 3)], Addressing(), "unknown model"),
        ([Group("S3008", 3, "3TB")], Addressing(), "no variant"),
        ([Group("S3008", 0), Group("W401", 0)], Addressing(), "no devices"),
        ([], Addressing(), "no devices"),
        ([Group("S3008", 65_001)], Addressing(mode="loopback", base_port=80), "at most"),
        ([Group("S3008", 600)], Addressing(base_port=65_000), "65535"),
        ([Group("S3008", 1)], Addressing(base_port=65_536), "65535"),
        ([Group("S3008", 2)], Addressing(host="localhost"), "not an IP address"),
        ([Group("S3008", 2)], Addressing(host="not-an-ip"), "not an IP address"),
        ([Group("S3008", 2)], Addressing(mode="loopback", base_port=0), "fixed port"),
        ([Group("S3008", 2)], Addressing(mode="loopback", base_port=80, first_address="10.0.0.1"), "loopback"),
        ([Group("S3008", 2)], Addressing(mode="loopback", base_port=80, first_address="127.0.1.0"), "loopback"),
        ([Group("S3008", 20)], Addressing(mode="loopback", base_port=80, first_address="127.255.255.250"), "out of"),
        pytest.param(
            [Group("S3008", 2)], Addressing(base_port=-5), "port",
        ),
        pytest.param(
            [Group("S3008", 2)], Addressing(mode="loopback", base_port=70_000), "port",
        ),
    ],
)  # fmt: skip
def test_make_plan_refuses_fleets_that_cannot_start(groups: list[Group], addressing: Addressing, message: str) -> None:
    with pytest.raises(FleetError, match=message):
        make_plan(groups, addressing=addressing)


def test_make_plan_accepts_the_last_port_exactly() -> None:
    plan = make_plan([Group("S3008", 536)], addressing=Addressing(base_port=65_000))
    ports = [spec.port for spec in plan.devices()]
    assert ports == list(range(65_000, 65_536))


# -- loopback addressing --------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["127.0.1.1", "127.0.5.250", "127.3.255.200"])
def test_loopback_addresses_are_unique_host_addresses_on_one_port(first: str) -> None:
    addressing = Addressing("loopback", base_port=8080, first_address=first)
    plan = make_plan([Group("S3008", 300), Group("W401", 300)], addressing=addressing)
    specs = plan.devices()
    addresses = [ipaddress.IPv4Address(s.host) for s in specs]
    assert str(addresses[0]) == first
    assert len(set(addresses)) == len(specs) == 600
    assert all(a.is_loopback and str(a).startswith("127.") for a in addresses)
    assert all(int(a) % 256 not in (0, 255) for a in addresses), "a network or broadcast address was handed out"
    assert addresses == sorted(addresses)  # in fleet order, no jumps back
    assert {s.port for s in specs} == {8080}
    assert [loopback_address(first, i) for i in range(len(specs))] == [s.host for s in specs]


def test_loopback_address_refuses_a_non_loopback_or_non_host_start() -> None:
    for bad in ("192.168.0.1", "127.0.0.255", "127.0.0.0", "not-an-address"):
        with pytest.raises(FleetError):
            loopback_address(bad, 0)


# -- fleet files ------------------------------------------------------------------------------------------


FLEET_FILE = """\
seed = "site-a"
base_port = 21000
state_dir = "state"
accounts = ["root:pass:admin", "viewer:view:viewer"]
boot_time = 1.5

[[group]]
model = "S3008"
variant = "4TB"
count = 3

[[group]]
model = "W401"
count = 2
accounts = [{ name = "admin", password = "secret", role = "admin" }]
https = true
ready_time = 2

[[group]]
model = "c1410 mk ii"
"""


def test_fleet_file_groups_defaults_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    path = site / "fleet.toml"
    path.write_text(FLEET_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # state_dir is relative to the file, not to where axisim runs
    plan = load_fleet_file(path)
    assert plan.seed == "site-a"
    assert plan.size == 6
    assert plan.state_dir is not None and plan.state_dir.resolve() == (site / "state").resolve()
    s3008, w401, c1410 = plan.groups
    assert (s3008.model, s3008.variant, s3008.count) == ("S3008", "4TB", 3)
    assert (w401.model, w401.count) == ("W401", 2)
    assert (c1410.model, c1410.count) == ("C1410MkII", 1)  # count defaults to 1, names are normalised
    top_accounts = (parse_account("root:pass:admin"), parse_account("viewer:view:viewer"))
    assert s3008.options.accounts == top_accounts == c1410.options.accounts
    assert w401.options.accounts == (parse_account("admin:secret:admin"),)
    assert (s3008.options.boot_time, s3008.options.ready_time, s3008.options.https) == (1.5, 0.0, False)
    assert (w401.options.boot_time, w401.options.ready_time, w401.options.https) == (1.5, 2.0, True)

    specs = plan.devices()
    assert [s.port for s in specs] == list(range(21000, 21006))
    assert [s.index for s in specs] == list(range(6))
    assert {s.seed for s in specs} == {"site-a"}
    assert [s.https_port is not None for s in specs] == [False, False, False, True, True, False]
    fleet = Fleet.from_plan(plan)
    for spec, device in zip(specs, fleet, strict=True):
        assert spec.state_dir is not None
        assert spec.state_dir.parent.resolve() == (site / "state").resolve()
        assert spec.state_dir.name == device.serial
    assert [d.credentials for d in fleet] == [("root", "pass")] * 3 + [("admin", "secret")] * 2 + [("root", "pass")]


def test_fleet_file_loopback_addressing(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        'addressing = "loopback"\nport = 8081\nfirst_address = "127.0.9.253"\nhttps_port = 8444\n'
        '[[group]]\nmodel = "S3016"\ncount = 4\nhttps = true\n',
        encoding="utf-8",
    )
    specs = load_fleet_file(path).devices()
    assert [s.host for s in specs] == ["127.0.9.253", "127.0.9.254", "127.0.10.1", "127.0.10.2"]
    assert {(s.port, s.https_port) for s in specs} == {(8081, 8444)}


def test_fleet_file_without_seed_is_the_default_fleet(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text('[[group]]\nmodel = "S3008"\ncount = 3\n', encoding="utf-8")
    from_file = Fleet.from_plan(load_fleet_file(path))
    default = Fleet.from_plan(make_plan([Group("S3008", 3)]))
    assert serials_of(from_file) == serials_of(default)


GROUP = '[[group]]\nmodel = "S3008"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'\n" + GROUP, "unknown key(s) colour"),
        (GROUP + "colour = 'red'\n", "group 1: unknown key(s) colour"),
        (GROUP + GROUP + "count = '3'\n", "group 2: count is a whole number"),
        (GROUP + "count = true\n", "count is a whole number"),
        (GROUP + "count = -1\n", "count is a whole number"),
        (GROUP + "https = 'yes'\n", "https is true or false"),
        (GROUP + "boot_time = -1\n", "boot_time is a number of seconds"),
        ("ready_time = 'soon'\n" + GROUP, "ready_time is a number of seconds"),
        (GROUP + "accounts = 'root:pass'\n", "accounts is a list"),
        (GROUP + "accounts = ['nocolon']\n", "NAME:PASSWORD"),
        ("accounts = ['root:pass:superuser']\n" + GROUP, "NAME:PASSWORD"),
        (GROUP + "accounts = [{ name = 'root' }]\n", "an account is"),
        (GROUP + "accounts = [5]\n", "an account is"),
        ("seed = 'x'\n", "[[group]]"),
        ("group = []\n", "[[group]]"),
        ("group = 5\n", "[[group]]"),
        ("group = [5]\n", "a group is a table"),
        ("[group]\nmodel = 'S3008'\n", "[[group]]"),
        ("[[group]]\ncount = 2\n", "model (and variant) are strings"),
        (GROUP + "variant = 4\n", "model (and variant) are strings"),
        ("[[group]]\nmodel = 'Q9999'\n", "unknown model"),
        (GROUP + "variant = '3TB'\n", "no variant"),
        (GROUP + "count = 0\n", "no devices"),
        ("seed = 5\n" + GROUP, "seed is a string"),
        ("state_dir = 5\n" + GROUP, "state_dir is a path"),
        ("addressing = 'dhcp'\n" + GROUP, "addressing is 'ports', 'loopback' or 'interface'"),
        ("base_port = 70000\n" + GROUP, "base_port is a TCP port"),
        ("base_port = -1\n" + GROUP, "base_port is a TCP port"),
        ("base_port = 65535\n" + GROUP + "count = 2\n", "run past 65535"),
        ("addressing = 'loopback'\nport = 0\n" + GROUP, "fixed port"),
        ("https_port = 0\n" + GROUP, "https_port is a TCP port"),
        ("host = 'example.com'\n" + GROUP, "not an IP address"),
        ("host = 5\n" + GROUP, "host and first_address are addresses"),
        ("seed = \n" + GROUP, "is not valid TOML"),
        ("[[group]\nmodel = 'S3008'\n", "is not valid TOML"),
        (GROUP + "model = 'W401'\n", "is not valid TOML"),  # a key given twice
        pytest.param(
            "boot_time = nan\n" + GROUP, "boot_time is a number of seconds",
        ),
    ],
)  # fmt: skip
def test_bad_fleet_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FleetError) as raised:
        load_fleet_file(path)
    assert message in str(raised.value)


def test_unreadable_fleet_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(FleetError, match="cannot read") as raised:
        load_fleet_file(missing)
    assert str(missing) in str(raised.value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"seed = '\xff\xfe'\n")
    with pytest.raises(FleetError, match="not valid TOML"):
        load_fleet_file(binary)


# -- a started fleet ------------------------------------------------------------------------------------------


MIXED_GROUPS = [
    Group("S3008", 2, "8TB"),
    Group("S3016", 2),
    Group("S4000", 1),
    Group("C1410MkII", 2),
    Group("W401", 2, options=Options(accounts=(parse_account("boss:w-secret:admin"), parse_account("eve:pw:viewer")))),
    Group("S3008", 1, options=Options(https=True)),
]


async def test_every_device_answers_digest_with_the_inventory_credentials(
    start_fleet: StartFleet, session: aiohttp.ClientSession
) -> None:
    progress: list[tuple[int, int]] = []
    fleet = await start_fleet(
        make_plan(MIXED_GROUPS, addressing=Addressing(base_port=0)), lambda done, total: progress.append((done, total))
    )
    assert len(fleet) == 10
    assert progress[-1] == (10, 10)
    assert all(total == 10 for _, total in progress)
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})

    inventory = fleet.inventory()
    assert len({row["http_port"] for row in inventory}) == len(inventory)
    for row in inventory:
        assert row["url"] == f"http://{row['address']}:{row['http_port']}"
        url = row["url"] + BASIC_INFO
        anonymous = await digest_request(session, "POST", url, None, json=ALL_PROPERTIES)
        assert anonymous.status == 401
        assert f'realm="AXIS_{row["serial"]}"' in anonymous.challenge
        reply = await digest_request(session, "POST", url, (row["username"], row["password"]), json=ALL_PROPERTIES)
        assert reply.status == 200, (row, reply.text)
        properties = reply.json()["data"]["propertyList"]
        assert properties["SerialNumber"] == row["serial"]
        wrong = await digest_request(
            session, "POST", url, (row["username"], row["password"] + "x"), json=ALL_PROPERTIES
        )
        assert wrong.status == 401
        assert await param(session, row["url"], (row["username"], row["password"]), HOSTNAME_PARAM) == row["hostname"]


async def test_a_groups_own_accounts_are_its_devices_accounts(
    start_fleet: StartFleet, session: aiohttp.ClientSession
) -> None:
    fleet = await start_fleet(make_plan(MIXED_GROUPS, addressing=Addressing(base_port=0)))
    w401s = [d for d in fleet if d.device.model.id == "W401"]
    others = [d for d in fleet if d.device.model.id != "W401"]
    assert len(w401s) == 2
    for device in w401s:
        assert device.credentials == ("boss", "w-secret")
        url = device.url + BASIC_INFO
        assert (await digest_request(session, "POST", url, ("eve", "pw"), json=ALL_PROPERTIES)).status == 200
        assert (await digest_request(session, "POST", url, ("root", "pass"), json=ALL_PROPERTIES)).status == 401
        who = await digest_request(session, "GET", device.url + "/axis-cgi/usergroup.cgi", ("eve", "pw"))
        assert who.text.splitlines()[0] == "eve" and "viewer" in who.text
    for device in others[:3]:
        assert device.credentials == ("root", "pass")
        assert (
            await digest_request(session, "POST", device.url + BASIC_INFO, ("eve", "pw"), json=ALL_PROPERTIES)
        ).status == 401


async def test_inventory_json_and_csv_agree(start_fleet: StartFleet, tmp_path: Path) -> None:
    fleet = await start_fleet(make_plan(MIXED_GROUPS, seed="inv", addressing=Addressing(base_port=0)))
    json_path, csv_path = fleet.write_inventory(tmp_path / "out" / "site")
    assert (json_path.name, csv_path.name) == ("site.json", "site.csv")
    from_json = json.loads(json_path.read_text(encoding="utf-8"))["devices"]
    with csv_path.open(encoding="utf-8", newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    assert len(from_json) == len(from_csv) == len(fleet) == 10
    assert set(from_json[0]) >= REQUIRED_INVENTORY_FIELDS
    assert set(from_csv[0]) >= REQUIRED_INVENTORY_FIELDS
    for device, row, line in zip(fleet, from_json, from_csv, strict=True):
        assert {k: "" if v is None else str(v) for k, v in row.items() if k in line} == line
        assert row["serial"] == device.serial
        assert row["mac"] == mac_of(device.serial)
        assert row["hostname"] == f"axis-{device.serial.lower()}"
        assert row["model"] == device.device.model.id
        assert row["variant"] == device.device.variant.name
        assert (row["username"], row["password"]) == device.credentials
        assert (row["address"], row["http_port"]) == ("127.0.0.1", device.port)
        assert row["url"] == device.url
        assert row["https_port"] == (device.running.https_port if device.running else None)
    assert [r["variant"] for r in from_json[:2]] == ["8TB", "8TB"]
    https_rows = [r for r in from_json if r["https_port"]]
    assert len(https_rows) == 1 and https_rows[0]["https_port"] != https_rows[0]["http_port"]
    assert json.loads(fleet.inventory_json())["devices"] == from_json


async def test_https_devices_answer_on_their_inventory_https_port(start_fleet: StartFleet) -> None:
    plan = make_plan([Group("S3008", 2, options=Options(https=True))], addressing=Addressing(base_port=0))
    fleet = await start_fleet(plan)
    async with httpx.AsyncClient(verify=False, timeout=10) as client:  # a self-signed certificate per device
        for row in fleet.inventory():
            url = f"https://{row['address']}:{row['https_port']}/axis-cgi/param.cgi?action=list&group=Network.HostName"
            reply = await client.get(url, auth=httpx.DigestAuth(row["username"], row["password"]))
            assert reply.status_code == 200
            assert reply.text.strip().endswith(f"={row['hostname']}")


# -- loopback: every device on its own address ----------------------------------------------------------------


async def test_loopback_fleet_listens_on_distinct_addresses_with_one_port(
    start_fleet: StartFleet, session: aiohttp.ClientSession
) -> None:
    port = free_port()
    first = "127.0.1.252"  # crosses into 127.0.2.x, so .255 and .0 would be handed out if they were not skipped
    if not (can_bind(first, port) and can_bind("127.0.2.1", port)):
        pytest.skip("this system does not route 127.0.x.y beyond 127.0.0.1")
    plan = make_plan(
        [Group("S3008", 3), Group("W401", 2), Group("C1410MkII", 1)],
        addressing=Addressing("loopback", base_port=port, first_address=first),
    )
    fleet = await start_fleet(plan)
    inventory = fleet.inventory()
    addresses = [row["address"] for row in inventory]
    assert len(set(addresses)) == 6
    assert all(ipaddress.IPv4Address(a).is_loopback and int(a.rsplit(".", 1)[1]) not in (0, 255) for a in addresses)
    assert {row["http_port"] for row in inventory} == {port}
    seen = set()
    for row in inventory:
        assert row["url"] == f"http://{row['address']}:{port}"
        auth = (row["username"], row["password"])
        reply = await digest_request(session, "POST", row["url"] + BASIC_INFO, auth, json=ALL_PROPERTIES)
        assert reply.status == 200
        seen.add(reply.json()["data"]["propertyList"]["SerialNumber"])
        assert await param(session, row["url"], auth, "Network.IPAddress") == row["address"]
    assert seen == {row["serial"] for row in inventory}


# -- state directories -------------------------------------------------------------------------------------------


def state_plan(state_dir: Path) -> FleetPlan:
    groups = [Group("S3008", 2), Group("W401", 1), Group("C1410MkII", 1)]
    return make_plan(groups, seed="state", addressing=Addressing(base_port=0), state_dir=state_dir)


async def test_each_device_keeps_its_own_state_across_fleet_restarts(
    start_fleet: StartFleet, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    plan = state_plan(tmp_path / "state")
    fleet = await start_fleet(plan)
    for device in fleet:
        saved = json.loads((tmp_path / "state" / device.serial / "device.json").read_text(encoding="utf-8"))
        assert (saved["serial"], saved["model"]) == (device.serial, device.device.model.id)
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == sorted(serials_of(fleet))

    changed = fleet[1]
    await set_param(session, changed.url, changed.credentials, HOSTNAME_PARAM, "renamed-by-test")
    await fleet.stop()

    again = await start_fleet(plan)
    assert serials_of(again) == serials_of(fleet)
    for device in again:
        hostname = await param(session, device.url, device.credentials, HOSTNAME_PARAM)
        expected = "renamed-by-test" if device.serial == changed.serial else f"axis-{device.serial.lower()}"
        assert hostname == expected, device.serial


async def test_reset_brings_a_device_back_to_factory_and_wipes_its_state(
    start_fleet: StartFleet, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    plan = state_plan(tmp_path / "state")
    fleet = await start_fleet(plan)
    for device in fleet:
        await set_param(session, device.url, device.credentials, HOSTNAME_PARAM, f"custom-{device.spec.index}")
    target, bystander = fleet[2], fleet[0]
    state_file = tmp_path / "state" / target.serial / "device.json"
    assert "custom-2" in state_file.read_text(encoding="utf-8")
    url = target.url

    await target.reset()
    assert target.url == url  # back on the same port
    factory = f"axis-{target.serial.lower()}"
    assert await param(session, target.url, target.credentials, HOSTNAME_PARAM) == factory
    assert "custom-2" not in state_file.read_text(encoding="utf-8")
    assert await param(session, bystander.url, bystander.credentials, HOSTNAME_PARAM) == "custom-0"

    await fleet.stop()
    restarted = await start_fleet(plan)
    assert await param(session, restarted[2].url, restarted[2].credentials, HOSTNAME_PARAM) == factory
    assert await param(session, restarted[0].url, restarted[0].credentials, HOSTNAME_PARAM) == "custom-0"

    await restarted.reset()
    for device in restarted:
        assert await param(session, device.url, device.credentials, HOSTNAME_PARAM) == f"axis-{device.serial.lower()}"
        saved = (tmp_path / "state" / device.serial / "device.json").read_text(encoding="utf-8")
        assert "custom-" not in saved


async def test_reset_of_a_stopped_fleet_wipes_state_without_listening(tmp_path: Path) -> None:
    plan = state_plan(tmp_path / "state")
    fleet = Fleet.from_plan(plan)
    await fleet.start()
    try:
        device = fleet[0]
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            await set_param(client, device.url, device.credentials, HOSTNAME_PARAM, "before-reset")
    finally:
        await fleet.stop()
    await fleet.reset()
    assert all(d.running is None for d in fleet)
    assert not (tmp_path / "state" / fleet[0].serial / "device.json").exists()
    fresh = Fleet.from_plan(plan)
    await fresh.start()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            hostname = await param(client, fresh[0].url, fresh[0].credentials, HOSTNAME_PARAM)
    finally:
        await fresh.stop()
    assert hostname == f"axis-{fresh[0].serial.lower()}"


async def test_a_damaged_state_file_stops_the_start_and_leaves_nothing_listening(tmp_path: Path) -> None:
    plan = state_plan(tmp_path / "state")
    first = Fleet.from_plan(plan)
    await first.start()
    await first.stop()
    broken = tmp_path / "state" / first[2].serial / "device.json"
    broken.write_text("not json", encoding="utf-8")

    fleet = Fleet.from_plan(plan)
    try:
        with pytest.raises((FleetError, StateError)) as raised:
            await fleet.start()
        assert first[2].serial in str(raised.value)
        assert all(d.running is None for d in fleet)
        for device in fleet:
            port = device.inventory()["http_port"]
            if port:  # the devices started before the damaged one are closed again
                assert await connection_refused(f"http://127.0.0.1:{port}/")
        assert broken.read_text(encoding="utf-8") == "not json"  # left for the user to look at
    finally:
        await fleet.stop()


# -- open files ------------------------------------------------------------------------------------------------------


@pytest.fixture
def file_limit() -> Any:
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield before
    resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_raise_file_limit_is_enough_for_a_small_fleet(file_limit: tuple[int, int]) -> None:
    limit, needed = raise_file_limit(10)
    assert needed >= 10
    assert limit == resource.RLIM_INFINITY or limit >= needed
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= min(file_limit[0], needed)


def test_raise_file_limit_says_what_an_impossible_fleet_needs(file_limit: tuple[int, int]) -> None:
    _, hard = file_limit
    if hard == resource.RLIM_INFINITY or hard >= 10**9:
        pytest.skip("the hard open-file limit here is unlimited")
    with pytest.raises(FleetError) as raised:
        raise_file_limit(10**9)
    message = str(raised.value)
    numbers = [int(n) for n in re.findall(r"\d+", message)]
    assert any(n >= 10**9 for n in numbers), message  # how many files it needs
    assert str(hard) in message  # what the system allows
    assert "ulimit" in message or "fewer devices" in message  # what to do


# -- the command line --------------------------------------------------------------------------------------------------


def axisim(*args: str) -> list[str]:
    return [sys.executable, "-m", "axisim", *args]


def read_lines_until(process: subprocess.Popen[bytes], prefix: str, timeout: float = 60) -> list[str]:
    """stdout lines up to and including the first starting with `prefix`, within `timeout` seconds."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                lines.append(line.decode())
                if lines[-1].startswith(prefix):
                    return lines
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"axisim fleet ended early: {lines} {stderr}")
            buffer += chunk
    raise AssertionError(f"no {prefix!r} line within {timeout} s: {lines}")


def test_cli_fleet_end_to_end(tmp_path: Path) -> None:
    stem = tmp_path / "inv"
    process = subprocess.Popen(
        axisim(
            "fleet", "--count", "3", "--models", "S3008,W401", "--base-port", "0", "--control-port", "0",
            "--inventory", str(stem), "--quiet",
        ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    try:
        lines = read_lines_until(process, "control:")
        summary = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}
        assert summary["fleet"].startswith("3 devices")
        control = summary["control"]
        assert control.startswith("http://127.0.0.1:") and control.endswith("/devices")

        json_path, csv_path = stem.with_name("inv.json"), stem.with_name("inv.csv")
        assert str(json_path) in summary["inventory"] and str(csv_path) in summary["inventory"]
        devices = json.loads(json_path.read_text(encoding="utf-8"))["devices"]
        with csv_path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(devices) == len(rows) == 3
        assert [r["serial"] for r in rows] == [d["serial"] for d in devices]
        assert Counter(d["model"] for d in devices) == {m: n for m, n in parse_mix("S3008,W401", 3) if n}
        assert len({d["http_port"] for d in devices}) == 3

        # the same seed in another process: the same serials, in the same order
        plan = make_plan([Group(m, n) for m, n in parse_mix("S3008,W401", 3) if n])
        assert [d["serial"] for d in devices] == serials_of(Fleet.from_plan(plan))

        for row in devices:
            reply = httpx.post(
                row["url"] + BASIC_INFO, json=ALL_PROPERTIES, auth=httpx.DigestAuth(row["username"], row["password"]),
                timeout=10,
            )  # fmt: skip
            assert reply.status_code == 200
            assert reply.json()["data"]["propertyList"]["SerialNumber"] == row["serial"]

        listed = httpx.get(control, timeout=10)
        assert listed.status_code == 200
        rows_listed = listed.json()["devices"]
        assert [r["serial"] for r in rows_listed] == [d["serial"] for d in devices]
        assert all(r["reachable"] for r in rows_listed)
        assert all(r["requests"] >= 1 for r in rows_listed)  # the control API saw the requests just made
        one = httpx.get(control + "/" + devices[1]["serial"].lower(), timeout=10)
        assert one.status_code == 200 and one.json()["serial"] == devices[1]["serial"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _damaged_state(tmp_path: Path) -> Path:
    """A state directory whose one device's state file is damaged."""
    plan = make_plan([Group("S3008", 1)], addressing=Addressing(base_port=0))
    serial = Fleet.from_plan(plan)[0].serial
    (tmp_path / "state" / serial).mkdir(parents=True)
    (tmp_path / "state" / serial / "device.json").write_text("not json", encoding="utf-8")
    return tmp_path / "state"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(lambda p: ["--models", "S3008:x"], id="bad-weight"),
        pytest.param(lambda p: ["--models", "S3008:0"], id="zero-weight"),
        pytest.param(lambda p: ["--models", ""], id="empty-mix"),
        pytest.param(lambda p: ["--models", "Q9999"], id="unknown-model"),
        pytest.param(lambda p: ["--count", "0"], id="no-devices"),
        pytest.param(lambda p: ["--count", "70000"], id="too-many"),
        pytest.param(lambda p: ["--host", "no-such-host.invalid"], id="unresolvable-host"),  # localhost is fine
        pytest.param(lambda p: ["--base-port", "65535", "--count", "2"], id="past-65535"),
        pytest.param(lambda p: ["--loopback", "--base-port", "0"], id="loopback-port-0"),
        pytest.param(lambda p: ["--user", "root", "--password", ""], id="empty-password"),
        pytest.param(lambda p: ["--file", str(p / "missing.toml")], id="missing-file"),
        pytest.param(lambda p: ["--file", str(_write(p, "f.toml", "colour = 1\n" + GROUP))], id="unknown-key"),
        pytest.param(lambda p: ["--file", str(_write(p, "f.toml", "seed = \n"))], id="invalid-toml"),
        pytest.param(lambda p: ["--file", str(_write(p, "f.toml", "seed = 'x'\n"))], id="no-groups"),
        pytest.param(lambda p: ["--file", str(_write(p, "f.toml", GROUP + "accounts = ['x']\n"))], id="bad-account"),
        pytest.param(
            lambda p: ["--base-port", "-5", "--count", "2"], id="negative-port",
        ),
        pytest.param(
            lambda p: ["--loopback", "--base-port", "70000"], id="loopback-port-70000",
        ),
        pytest.param(
            lambda p: ["--password", "x" * 100], id="password-too-long",
        ),
        pytest.param(
            lambda p: ["--file", str(_write(p, "f.toml", GROUP + "accounts = ['op:pw:operator']\n"))],
            id="no-administrator",
        ),
        pytest.param(
            lambda p: ["--state-dir", str(_damaged_state(p))], id="damaged-state",
        ),
        pytest.param(
            lambda p: ["--state-dir", str(_write(p, "plain-file", "") / "state")], id="state-dir-not-a-directory",
        ),
    ],
)  # fmt: skip
def test_cli_fleet_refuses_bad_input_in_one_line(tmp_path: Path, case: Callable[[Path], list[str]]) -> None:
    arguments = case(tmp_path)
    if "--count" not in arguments and "--file" not in arguments:
        arguments += ["--count", "1"]
    if "--base-port" not in arguments and "--file" not in arguments:
        arguments += ["--base-port", "0"]
    try:
        result = subprocess.run(
            axisim("fleet", "--control-port", "0", "--quiet", "--inventory", str(tmp_path / "inv"), *arguments),
            capture_output=True, text=True, timeout=30, cwd=tmp_path,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"axisim fleet {arguments} started instead of refusing")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("axisim: "), result.stderr
    assert not (tmp_path / "inv.json").exists()


# -- HTTPS ports: fixed by the plan (issue 16, item 1) -----------------------------------------------------------


def test_https_ports_are_fixed_by_the_plan() -> None:
    https = Options(https=True)
    ports = make_plan([Group("S3008", 3, options=https), Group("W401", 1)], addressing=Addressing(base_port=30000))
    assert [(s.port, s.https_port) for s in ports.devices()] == [(30000, 30004), (30001, 30005), (30002, 30006),
                                                                   (30003, None)]  # fmt: skip
    pinned = make_plan([Group("S3008", 2, options=https)], addressing=Addressing(base_port=30000, https_port=40000))
    assert [s.https_port for s in pinned.devices()] == [40000, 40001]
    loopback = make_plan([Group("S3008", 2, options=https)], addressing=Addressing("loopback", base_port=8081))
    assert {(s.port, s.https_port) for s in loopback.devices()} == {(8081, 8444)}  # as `axisim serve --port 8081`
    anywhere = make_plan([Group("S3008", 2, options=https)], addressing=Addressing(base_port=0))
    assert [s.https_port for s in anywhere.devices()] == [0, 0]


@pytest.mark.parametrize(
    ("addressing", "message"),
    [
        (Addressing(base_port=65_532), "run past 65535"),
        (Addressing(base_port=30000, https_port=30001), "overlap"),
        (Addressing("loopback", base_port=65_500), "run past 65535"),
        (Addressing("loopback", base_port=8080, https_port=8080), "overlap"),
    ],
)
def test_https_ports_that_cannot_be_had_are_refused_before_starting(addressing: Addressing, message: str) -> None:
    with pytest.raises(FleetError, match=message):
        make_plan([Group("S3008", 3, options=Options(https=True))], addressing=addressing)
