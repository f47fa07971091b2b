"""`axisim fleet --workers N` (issue 22): the site as N shard processes behind one control API.
Through the wire, in real processes: one inventory, requests routed to the owning shard (streams
too), a reset fanned out, /healthz ready only when every shard is, a killed worker reported and
restarted while the others keep serving, and no worker outliving the site."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from axisim.device import identity_for
from axisim.site.workers import worker_argv
from tests.test_cli import free_ports

COUNT = 6


class Site:
    """A `fleet --workers 2` process; its printed lines and its stderr collected as they come."""

    def __init__(self, tmp_path: Path) -> None:
        base = free_ports(*range(COUNT))
        control = free_ports(0)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "axisim", "fleet", "--count", str(COUNT), "--models", "S3008,W401",
                "--base-port", str(base), "--no-rtsp", "--workers", "2", "--control-port", str(control),
                "--inventory", str(tmp_path / "site"),
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )  # fmt: skip
        self.control = f"http://127.0.0.1:{control}"
        self.workers: dict[str, int] = {}
        assert self.process.stdout is not None
        for _ in range(30):
            line = self.process.stdout.readline()
            if line.startswith("worker:"):
                _, shard, _, pid, *_ = line.split()
                self.workers[shard] = int(pid)
            if line.startswith("control:") or not line:
                break
        else:
            raise AssertionError("no control line")
        if not line:
            raise AssertionError(self.process.stderr.read() if self.process.stderr else "exited")
        self.errors: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()
        self.rows = json.loads((tmp_path / "site.json").read_text(encoding="utf-8"))["devices"]

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line)

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.control + path, timeout=10, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, body: object = None) -> httpx.Response:
        return httpx.post(self.control + path, json=body, timeout=10)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    started = Site(tmp_path)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.stop()


def serial_of(row: dict) -> str:
    reply = httpx.post(
        f"{row['url']}/axis-cgi/basicdeviceinfo.cgi", json={"apiVersion": "1.0", "method": "getAllProperties"},
        auth=httpx.DigestAuth(row["username"], row["password"]), timeout=10,
    )  # fmt: skip
    reply.raise_for_status()
    return reply.json()["data"]["propertyList"]["SerialNumber"]


def wait_for(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def test_one_control_api_for_the_site_of_two_workers(site: Site) -> None:
    health = site.get("/healthz")
    assert health.status_code == 200 and health.json()["ready"] is True
    assert [s["shard"] for s in health.json()["shards"]] == ["0/2", "1/2"]
    devices = site.get("/devices").json()["devices"]
    assert [d["index"] for d in devices] == list(range(COUNT)) == [r["index"] for r in site.rows]
    models = ["S3008", "S3008", "S3008", "W401", "W401", "W401"]
    assert [d["serial"] for d in devices] == [identity_for(m, "axisim", i).serial for i, m in enumerate(models)]
    for row in site.rows:  # every device answers, each with its own identity, from one shard or the other
        assert serial_of(row) == row["serial"]
        assert site.get(f"/devices/{row['index']}").json()["serial"] == row["serial"]
        assert site.get(f"/devices/{row['serial'].lower()}").json()["index"] == row["index"]
    assert site.get("/devices/99").status_code == 404
    assert site.get("/inventory.csv").text.count("\n") == COUNT + 1


def test_faults_and_the_event_feed_reach_the_owning_shard_and_reset_fans_out(site: Site) -> None:
    last = site.rows[-1]  # a W401 in shard 1
    fault = site.post(f"/devices/{last['serial']}/faults", {"path": "/axis-cgi/basicdeviceinfo.cgi", "status": 503})
    assert fault.status_code in (200, 201), fault.text
    with pytest.raises(httpx.HTTPStatusError):
        serial_of(last)
    assert serial_of(site.rows[0]) == site.rows[0]["serial"]  # shard 0 untouched
    got: list[str] = []
    with httpx.stream("GET", f"{site.control}/devices/{last['index']}/events/feed?heartbeat=0.2", timeout=10) as feed:
        assert site.post(f"/devices/{last['index']}/events/io/close_input", {"port": 1}).status_code == 200
        for line in feed.iter_lines():
            if line.startswith("data:"):
                got.append(line)
                if "IO/Port" in line:
                    break
    assert any("IO/Port" in g and last["serial"] in g.upper() for g in got) or any("IO/Port" in g for g in got)
    assert site.post("/reset").json()["shards"] == 2
    assert serial_of(last) == last["serial"]


def test_a_killed_worker_is_reported_and_restarted_while_the_other_serves(site: Site) -> None:
    first, last = site.rows[0], site.rows[-1]
    os.kill(site.workers["1/2"], signal.SIGKILL)
    wait_for(lambda: site.get("/healthz").status_code == 503, 20)
    assert serial_of(first) == first["serial"]  # shard 0 keeps serving
    wait_for(lambda: site.get("/healthz").status_code == 200, 60)
    assert serial_of(last) == last["serial"]  # back, with the same device on the same port
    assert site.get("/healthz").json()["shards"][1]["restarts"] == 1
    wait_for(lambda: any("exited with status -9" in e for e in site.errors), 10)


def test_no_worker_outlives_the_site(site: Site) -> None:
    pids = list(site.workers.values())
    site.stop()
    assert site.process.returncode == 0

    def gone() -> bool:
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            return False
        return True

    wait_for(gone, 10)


def test_the_options_the_parent_sets_are_not_passed_to_workers() -> None:
    argv = ["--count", "4", "--workers", "2", "--control-port=1", "--quiet", "--shard", "0/1", "--inventory", "x"]
    assert worker_argv(argv) == ["--count", "4"]
    assert worker_argv(["--workers", "--https", "--control-host", "::1"]) == ["--https"]


def test_a_control_port_in_use_stops_the_site_before_any_worker_starts(tmp_path: Path) -> None:
    """The control port is bound before the workers fork: taken, the site says so at once and no
    worker is left; free, no worker's device on a free port can take it in the meantime."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "axisim", "fleet", "--count", "4", "--base-port", "0", "--no-rtsp",
             "--workers", "2", "--control-port", str(port), "--inventory", str(tmp_path / "site")],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"port {port} (the control API) is in use; choose another with --control-port" in done.stderr
    assert "starting devices" not in done.stderr  # no worker was started
    assert time.monotonic() - began < 30
    assert not (tmp_path / "site.json").exists()
