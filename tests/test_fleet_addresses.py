"""Interface addressing where the addresses cannot be added (README "Discovery"): the fleet adds
nothing, starts nothing, and prints the exact `ip addr add` commands to run. The permitted case, across
network namespaces, is in tests/test_discovery_netns.py."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def test_addresses_that_cannot_be_added_are_printed_as_commands(tmp_path: Path) -> None:
    stub = tmp_path / "bin" / "ip"  # `ip` refusing as it does without CAP_NET_ADMIN
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\necho 'RTNETLINK answers: Operation not permitted' >&2\nexit 2\n")
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{stub.parent}:{os.environ['PATH']}", "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-m", "axisim", "fleet", "--count", "2", "--interface", "lo", "--first-address",
         "10.254.0.20", "--control-port", "0", "--inventory", str(tmp_path / "inventory")],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "ip addr add 10.254.0.20/32 dev lo\nip addr add 10.254.0.21/32 dev lo" in done.stderr
    assert not (tmp_path / "inventory.json").exists()  # no device started


def test_an_interface_that_does_not_exist_is_named(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "axisim", "fleet", "--count", "1", "--interface", "nosuch0", "--first-address",
         "10.254.0.20", "--control-port", "0", "--inventory", str(tmp_path / "inventory")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert (done.returncode, done.stderr.strip()) == (2, "axisim: there is no network interface 'nosuch0'")
