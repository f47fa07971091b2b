"""A site cut into shards (issue 22): N shards hold exactly the devices of one process with the
whole site (identities, addresses, credentials, state directories), each shard a contiguous run of
global indexes, chosen by `--shard K/N` or by the environment a Kubernetes pod gets."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest

from axisim.cli import parser
from axisim.device import identity_for
from axisim.fleet_cli import plan_from_args, shard_from, site_plan
from axisim.fleet_plan import Addressing, FleetError, Group, Options, Shard, make_plan, parse_shard
from tests.test_cli import free_ports
from tests.test_fleet import read_lines_until

MIX = [Group("S3008", 7), Group("W401", 5), Group("C1410MkII", 3), Group("S3016", 2)]


def spec_rows(plan) -> list[dict]:
    return [asdict(spec) for spec in plan.devices()]


@pytest.mark.parametrize("mode", ["ports", "loopback"])
@pytest.mark.parametrize("count", [1, 2, 3, 5, 17])
def test_the_union_of_the_shards_is_the_whole_site(tmp_path: Path, mode: str, count: int) -> None:
    addressing = Addressing(mode, base_port=20000 if mode == "ports" else 8080)
    options = Options(https=True)
    groups = [Group(g.model, g.count, None, options) for g in MIX]
    whole = make_plan(groups, seed="site", addressing=addressing, state_dir=tmp_path)
    shards = [
        make_plan(groups, seed="site", addressing=addressing, state_dir=tmp_path, shard=Shard(k, count))
        for k in range(count)
    ]
    union = [row for plan in shards for row in spec_rows(plan)]
    assert union == spec_rows(whole)
    sizes = [len(plan.devices()) for plan in shards]
    assert max(sizes) - min(sizes) <= 1
    for k, plan in enumerate(shards):  # contiguous, and the owner of each index is the shard serving it
        indexes = [spec.index for spec in plan.devices()]
        assert indexes == list(plan.span)
        assert all(Shard(0, count).owner(i, whole.size) == k for i in indexes)


def test_a_shard_of_a_site_larger_than_one_process_holds(tmp_path: Path) -> None:
    """100,000 devices in loopback mode: one process refuses, 2 shards of 50,000 each are planned."""
    groups = [Group("S3008", 100_000)]
    addressing = Addressing("loopback", base_port=8080)
    with pytest.raises(FleetError, match="cut the site"):
        make_plan(groups, addressing=addressing)
    plan = make_plan(groups, addressing=addressing, shard=Shard(1, 2))
    assert plan.span == range(50_000, 100_000)


@pytest.mark.parametrize("text", ["", "1", "2/2", "-1/2", "a/b", "1/0", "0/5000", "1/2/3", " /2", "１/2"])
def test_bad_shards_are_refused_with_what_to_write(text: str) -> None:
    with pytest.raises(FleetError, match="K/N"):
        parse_shard(text)


def test_more_shards_than_devices_is_refused() -> None:
    with pytest.raises(FleetError, match="every shard needs one"):
        make_plan([Group("S3008", 2)], shard=Shard(0, 3))


def args_for(*argv: str) -> argparse.Namespace:
    return parser().parse_args(["fleet", *argv])


def test_the_shard_comes_from_the_command_line_then_the_environment() -> None:
    """A StatefulSet gives each pod its ordinal (label apps.kubernetes.io/pod-index through the
    downward API): AXISIM_SHARD_INDEX, with AXISIM_SHARD_COUNT from the manifest."""
    assert shard_from(args_for(), {}) == Shard()
    assert shard_from(args_for(), {"AXISIM_SHARD": "2/3"}) == Shard(2, 3)
    assert shard_from(args_for(), {"AXISIM_SHARD_INDEX": "4", "AXISIM_SHARD_COUNT": "8"}) == Shard(4, 8)
    assert shard_from(args_for("--shard", "1/3"), {"AXISIM_SHARD": "2/3"}) == Shard(1, 3)
    with pytest.raises(FleetError, match="both"):
        shard_from(args_for(), {"AXISIM_SHARD_INDEX": "4"})
    with pytest.raises(FleetError, match="K/N"):
        shard_from(args_for(), {"AXISIM_SHARD_INDEX": "8", "AXISIM_SHARD_COUNT": "8"})


def test_a_fleet_file_site_is_sharded_too(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('seed = "f"\n[[group]]\nmodel = "S3008"\ncount = 4\n[[group]]\nmodel = "W401"\ncount = 4\n')
    whole = plan_from_args(args_for("--file", str(site)))
    parts = [plan_from_args(args_for("--file", str(site), "--shard", f"{k}/3")) for k in range(3)]
    assert [row for plan in parts for row in spec_rows(plan)] == spec_rows(whole)


def test_two_shard_processes_serve_the_site_one_process_would(tmp_path: Path) -> None:
    """Through the wire: each shard process serves its own devices with the site's identities and
    ports, its control API names them by global index, /healthz says which shard it is, and
    nothing is served twice."""
    count = 5
    base = free_ports(*range(count))
    whole = make_plan([Group("S3008", count)], addressing=Addressing("ports", base_port=base))
    expected = {spec.index: spec.port for spec in whole.devices()}
    processes = []
    try:
        for k in range(2):
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "axisim", "fleet", "--count", str(count), "--base-port", str(base),
                    "--no-rtsp", "--control-port", "0", "--inventory", str(tmp_path / f"inv{k}"), "--quiet",
                    "--shard", f"{k}/2",
                ],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
            )  # fmt: skip
            processes.append(process)
        controls = []
        for process in processes:
            assert process.stdout is not None
            for _ in range(10):
                line = process.stdout.readline()
                if line.startswith("control:"):
                    controls.append(line.split()[1].removesuffix("/devices"))
                    break
            else:
                raise AssertionError(process.stderr.read() if process.stderr else "no control line")
        seen: dict[int, str] = {}
        for k, control in enumerate(controls):
            health = httpx.get(f"{control}/healthz", timeout=5).json()
            assert health["shard"] == f"{k}/2" and health["site"] == count and health["ready"] is True
            rows = json.loads((tmp_path / f"inv{k}.json").read_text(encoding="utf-8"))["devices"]
            for row in rows:
                assert row["index"] not in seen
                seen[row["index"]] = row["serial"]
                assert row["http_port"] == expected[row["index"]]
                info = httpx.post(
                    f"{row['url']}/axis-cgi/basicdeviceinfo.cgi",
                    json={"apiVersion": "1.0", "method": "getAllProperties"},
                    auth=httpx.DigestAuth(row["username"], row["password"]), timeout=5,
                ).json()  # fmt: skip
                assert info["data"]["propertyList"]["SerialNumber"] == row["serial"]
                by_index = httpx.get(f"{control}/devices/{row['index']}", timeout=5).json()
                assert by_index["serial"] == row["serial"]
            other = next(i for i in range(count) if i not in {r["index"] for r in rows})
            assert httpx.get(f"{control}/devices/{other}", timeout=5).status_code == 404
        assert sorted(seen) == list(range(count))
        assert seen == {i: identity_for("S3008", "axisim", i).serial for i in range(count)}
    finally:
        for process in processes:
            process.terminate()
            process.communicate(timeout=10)


def test_shards_in_one_folder_write_their_own_inventories(tmp_path: Path) -> None:
    base = free_ports(0, 1)
    for k in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "axisim", "fleet", "--count", "2", "--base-port", str(base), "--no-rtsp",
             "--control-port", "0", "--quiet", "--shard", f"{k}/2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        )  # fmt: skip
        try:
            read_lines_until(process, "control:")
        finally:
            process.terminate()
            process.communicate(timeout=10)
    for k in range(2):
        rows = json.loads((tmp_path / f"axisim-inventory-shard-{k}-of-2.json").read_text(encoding="utf-8"))["devices"]
        assert [r["index"] for r in rows] == [k]
    assert not (tmp_path / "axisim-inventory.json").exists()


def test_a_site_larger_than_one_process_is_checked_as_its_workers_shards() -> None:
    """`fleet --count 100000 --workers 6` is six processes of at most 16,667 devices each: the site is
    checked shard by shard (it was once checked as one process and refused), and one worker for the
    same site is refused with the advice to shard it."""
    plan = site_plan(args_for("--count", "100000", "--loopback", "--workers", "6"))
    assert plan.size == 100_000 and plan.shard == Shard(0, 6)
    assert len(plan.span) in (16_666, 16_667)  # the remainder goes to some shards
    with pytest.raises(FleetError, match="cut the site of 100000 into shards"):
        site_plan(args_for("--count", "100000", "--loopback", "--workers", "1"))


def test_a_fleet_file_site_larger_than_one_process_runs_on_workers(tmp_path: Path) -> None:
    """The same for a fleet file: its site is checked as the workers' shards, not as one process."""
    site = tmp_path / "site.toml"
    site.write_text('addressing = "loopback"\n[[group]]\nmodel = "W401"\ncount = 100000\n', encoding="utf-8")
    plan = site_plan(args_for("--file", str(site), "--workers", "4"))
    assert plan.size == 100_000 and plan.shard == Shard(0, 4) and len(plan.span) == 25_000
    with pytest.raises(FleetError, match="into shards"):
        plan_from_args(args_for("--file", str(site)))
