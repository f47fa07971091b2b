"""`axisim site --shards N --shard-url TEMPLATE` (issue 22, "Kubernetes and containers"): the
site's control API as a process of its own over shards it finds by URL, as a Deployment finds a
StatefulSet's pods through a headless Service. Through the wire, in real processes: two
`fleet --shard K/2` processes, their control APIs on 127.0.0.10 and 127.0.0.11 (as axisim-0.axisim
and axisim-1.axisim would be), the template `http://127.0.0.1{k}:PORT`."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from axisim.cli import main
from axisim.device import identity_for
from axisim.site.remote import shard_urls
from tests.test_cli import free_ports

COUNT = 6
MODELS = ["S3008", "S3008", "S3008", "W401", "W401", "W401"]


def control_port() -> int:
    """A port free on both 127.0.0.10 and 127.0.0.11 (bounded tries)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.10", 0))
            chosen = probe.getsockname()[1]
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.11", chosen))
            except OSError:
                continue
        return chosen
    raise AssertionError("no control port free on both addresses")


def port_outside(base: int, count: int) -> int:
    """A free port of 127.0.0.1 that is not one of the devices' (bounded tries)."""
    for _ in range(20):
        chosen = free_ports(0)
        if not base <= chosen < base + count:
            return chosen
    raise AssertionError("no free port")


def started(command: list[str], cwd: Path) -> subprocess.Popen[str]:
    """Start an axisim process and wait for its `control:` line (bounded: 30 lines)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "axisim", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )  # fmt: skip
    assert process.stdout is not None
    for _ in range(30):
        line = process.stdout.readline()
        if line.startswith("control:"):
            return process
        if not line:
            break
    process.kill()
    raise AssertionError(process.communicate(timeout=10)[1])


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_for(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


@dataclass
class RemoteSite:
    tmp: Path
    base: int  # the devices' first port
    port: int  # every shard's control port, on its own address
    control: str  # the site's control API
    shards: list[subprocess.Popen[str]]
    site: subprocess.Popen[str]

    def shard_command(self, k: int) -> list[str]:
        return [
            "fleet", "--count", str(COUNT), "--models", "S3008,W401", "--base-port", str(self.base), "--no-rtsp",
            "--shard", f"{k}/2", "--control-host", f"127.0.0.1{k}", "--control-port", str(self.port),
            "--inventory", str(self.tmp / f"shard{k}"), "--quiet",
        ]  # fmt: skip

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.control + path, timeout=10)

    def post(self, path: str, body: object = None) -> httpx.Response:
        return httpx.post(self.control + path, json=body, timeout=10)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteSite]:
    tmp = tmp_path_factory.mktemp("remote-site")
    base = free_ports(*range(COUNT))
    site_port = port_outside(base, COUNT)
    running = RemoteSite(tmp, base, control_port(), f"http://127.0.0.1:{site_port}", [], None)  # type: ignore[arg-type]
    try:
        running.shards = [started(running.shard_command(k), tmp) for k in range(2)]
        running.site = started(
            ["site", "--shards", "2", "--shard-url", f"http://127.0.0.1{{k}}:{running.port}",
             "--control-port", str(site_port), "--poll", "0.2"], tmp,
        )  # fmt: skip
        wait_for(lambda: running.get("/healthz").status_code == 200)
        yield running
    finally:
        for process in [*running.shards, *([running.site] if running.site else [])]:
            stop(process)


def basic_serial(row: dict) -> str:
    reply = httpx.post(
        f"{row['url']}/axis-cgi/basicdeviceinfo.cgi", json={"apiVersion": "1.0", "method": "getAllProperties"},
        auth=httpx.DigestAuth(row["username"], row["password"]), timeout=10,
    )  # fmt: skip
    reply.raise_for_status()
    return reply.json()["data"]["propertyList"]["SerialNumber"]


def test_the_site_process_serves_two_shard_processes_as_one_site(remote: RemoteSite) -> None:
    health = remote.get("/healthz").json()
    assert health["ready"] is True and health["site"] == COUNT  # the size learned from the shards' /healthz
    assert [(s["shard"], s["control"]) for s in health["shards"]] == [
        ("0/2", f"http://127.0.0.10:{remote.port}"), ("1/2", f"http://127.0.0.11:{remote.port}")
    ]  # fmt: skip
    devices = remote.get("/devices").json()["devices"]
    expected = [identity_for(m, "axisim", i).serial for i, m in enumerate(MODELS)]
    assert [d["index"] for d in devices] == list(range(COUNT)) and [d["serial"] for d in devices] == expected
    rows = remote.get("/inventory.json").json()["devices"]
    union = [r for k in range(2) for r in json.loads((remote.tmp / f"shard{k}.json").read_text())["devices"]]
    assert rows == union  # row for row, the shards' own inventories in site order
    for row in rows:  # every device answers at its own port, and the site names it by index and serial
        assert basic_serial(row) == row["serial"]
        assert remote.get(f"/devices/{row['index']}").json()["serial"] == row["serial"]
        assert remote.get(f"/devices/{row['serial'].lower()}").json()["index"] == row["index"]
    assert remote.get("/devices/99").status_code == 404
    assert remote.get("/devices/NOSUCHSERIAL").status_code == 404


def test_requests_reach_the_owning_shard_and_reset_reaches_every_shard(remote: RemoteSite) -> None:
    rows = remote.get("/inventory.json").json()["devices"]
    last = rows[-1]  # a W401 of shard 1/2
    fault = remote.post(f"/devices/{last['serial']}/faults", {"path": "/axis-cgi/basicdeviceinfo.cgi", "status": 503})
    assert fault.status_code in (200, 201), fault.text
    with pytest.raises(httpx.HTTPStatusError):
        basic_serial(last)
    assert basic_serial(rows[0]) == rows[0]["serial"]  # shard 0/2 untouched
    assert remote.post(f"/devices/{last['index']}/events/io/close_input", {"port": 1}).status_code == 200
    log = remote.get(f"/devices/{last['index']}/events/log?limit=5").json()
    assert "IO/Port" in json.dumps(log)
    reset = remote.post("/reset").json()
    assert reset["shards"] == 2
    assert basic_serial(last) == last["serial"]  # the reset cleared the fault


def test_the_site_refuses_another_sites_page_before_any_shard_acts(remote: RemoteSite) -> None:
    """axisim/control/origin.py on the site's control API: a browser page of another origin cannot
    fault a device through it; the site's own page (same origin) can."""
    rows = remote.get("/inventory.json").json()["devices"]
    last = rows[-1]
    path = f"/devices/{last['serial']}/faults"
    fault = {"path": "/axis-cgi/basicdeviceinfo.cgi", "status": 503}
    cross = httpx.post(remote.control + path, json=fault, headers={"Origin": "http://evil.example"}, timeout=10)
    assert cross.status_code == 403 and "another site" in cross.json()["error"]
    assert remote.get(path).json()["faults"] == []
    assert basic_serial(last) == last["serial"]  # no fault reached the shard
    same = httpx.post(remote.control + path, json=fault, headers={"Origin": remote.control}, timeout=10)
    assert same.status_code in (200, 201), same.text
    assert remote.post("/reset").status_code == 200


def test_a_shard_that_goes_away_is_reported_and_seen_when_it_returns(remote: RemoteSite) -> None:
    rows = remote.get("/inventory.json").json()["devices"]
    stop(remote.shards[1])
    # /healthz is 503 as soon as its own look at the shards fails; the poller marks the shard not
    # ready at its next poll: wait for that
    wait_for(lambda: remote.get("/healthz").json()["shards"][1]["ready"] is False, 15)
    health = remote.get("/healthz").json()
    assert remote.get("/healthz").status_code == 503
    assert health["shards"][0]["ready"] is True and health["shards"][1]["ready"] is False
    assert "127.0.0.11" in health["shards"][1]["problem"]
    refused = remote.get(f"/devices/{rows[-1]['index']}")
    assert refused.status_code == 503 and "shard 1/2" in refused.json()["error"]
    assert remote.get(f"/devices/{rows[0]['serial']}").status_code == 200  # shard 0/2 keeps serving
    assert remote.get("/").status_code == 200  # the API itself answers (the Deployment's probes read it)
    remote.shards[1] = started(remote.shard_command(1), remote.tmp)
    wait_for(lambda: remote.get("/healthz").status_code == 200, 30)
    assert remote.get("/healthz").json()["shards"][1]["restarts"] == 1
    assert remote.get(f"/devices/{rows[-1]['serial']}").json()["index"] == rows[-1]["index"]
    assert basic_serial(rows[-1]) == rows[-1]["serial"]


def test_a_site_no_shard_answers_for_and_a_wrong_shard_are_503_not_guesses(tmp_path: Path) -> None:
    """Before any shard answers the site's size is unknown; a URL that reaches the wrong shard
    (the template or --shards disagreeing with the StatefulSet) is never counted as ready."""
    count, base, port = 4, free_ports(0, 1, 2, 3), control_port()
    site_port = port_outside(base, count)
    shard = started(
        ["fleet", "--count", str(count), "--base-port", str(base), "--no-rtsp", "--shard", "0/2",
         "--control-host", "127.0.0.10", "--control-port", str(port), "--inventory", str(tmp_path / "s"), "--quiet"],
        tmp_path,
    )  # fmt: skip
    try:
        # both URLs name shard 0/2's address; 127.0.0.12 answers nothing
        site = started(
            ["site", "--shards", "3", "--shard-url", f"http://127.0.0.1{{k}}:{port}", "--control-port",
             str(site_port), "--poll", "0.2"], tmp_path,
        )  # fmt: skip
        try:
            control = f"http://127.0.0.1:{site_port}"

            def polled() -> bool:
                shards = httpx.get(control + "/healthz", timeout=5).json()["shards"]
                return all(s["problem"] != "not polled yet" for s in shards)

            wait_for(polled)
            health = httpx.get(control + "/healthz", timeout=5)
            assert health.status_code == 503
            shards = health.json()["shards"]
            assert "serves shard '0/2', not 0/3" in shards[0]["problem"]
            assert "127.0.0.11" in shards[1]["problem"] and "127.0.0.12" in shards[2]["problem"]
            early = httpx.get(control + "/devices/0", timeout=5)
            assert early.status_code == 503 and "not known" in early.json()["error"]
        finally:
            stop(site)
    finally:
        stop(shard)


def test_shard_urls_come_from_the_template() -> None:
    assert shard_urls("http://axisim-{k}.axisim:8079/", 3) == [
        "http://axisim-0.axisim:8079", "http://axisim-1.axisim:8079", "http://axisim-2.axisim:8079"
    ]  # fmt: skip
    assert shard_urls("http://one:8079", 1) == ["http://one:8079"]
    for bad in ("http://axisim.axisim:8079", "axisim-{k}:8079", "ftp://axisim-{k}", "http://[{k}"):
        with pytest.raises(ValueError, match="--shard-url"):
            shard_urls(bad, 2)


def test_a_bad_template_is_refused_before_anything_listens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "--shards", "2", "--shard-url", "http://axisim:8079", "--control-port", "0"]) == 2
    assert "has no {k}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["site", "--shards", "0", "--shard-url", "http://axisim-{k}:8079"])
    assert refused.value.code == 2
