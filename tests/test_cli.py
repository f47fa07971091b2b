"""The command line as a user runs it: `axisim models`, `axisim serve` in a real process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import MODELS
from tests.test_fleet import read_lines_until


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "axisim", *args], capture_output=True, text=True, timeout=60)


def test_models_lists_every_model_and_variant() -> None:
    result = run_cli("models")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(MODELS)
    s3008 = next(line for line in lines if line.startswith("S3008"))
    assert "AXIS S3008 Recorder" in s3008 and "2TB, 4TB, 8TB" in s3008


class Served:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "axisim", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.banner: dict[str, str] = {}
        assert self.process.stdout is not None
        while "accounts" not in self.banner:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(self.process.stderr.read() if self.process.stderr else "no output")
            key, _, value = line.partition(":")
            self.banner[key.strip()] = value.strip()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def serve() -> Iterator[type[Served]]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = Served(*args)
        started.append(served)
        return served

    yield start  # type: ignore[misc]
    for served in started:
        served.stop()


@pytest.mark.parametrize(("model", "variant"), [("S3008", "8TB"), ("S3016", "32TB"), ("C1410MkII", None)])
def test_serve_prints_identity_and_answers_digest(serve, model: str, variant: str | None) -> None:
    served = serve("--model", model, *(["--variant", variant] if variant else []))
    assert served.banner["url"].startswith("http://127.0.0.1:")
    assert served.banner["accounts"].startswith("root/pass")
    serial = served.banner["serial"]
    url = served.banner["url"] + "/axis-cgi/param.cgi?action=list&group=root.Properties.System.SerialNumber"
    response = httpx.get(url, auth=httpx.DigestAuth("root", "pass"))
    assert response.status_code == 200
    assert response.text == f"root.Properties.System.SerialNumber={serial}\n"
    if variant:
        assert f"({variant})" in served.banner["model"]


def test_serve_without_account_needs_setup(serve) -> None:
    served = serve("--no-account", "--model", "W401")
    base = served.banner["url"]
    assert httpx.get(base + "/axis-cgi/param.cgi?action=list").status_code == 401
    created = httpx.get(
        base + "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=pw&grp=root&sgrp=admin:operator:viewer:ptz"
    )
    assert created.status_code == 200 and "Created account root." in created.text
    listed = httpx.get(
        base + "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr", auth=httpx.DigestAuth("root", "pw")
    )
    assert listed.text == "Brand.ProdNbr=W401\n"


def test_serve_extra_accounts_and_identity_seed(serve) -> None:
    first = serve("--account", "eve:pw:viewer", "--seed", "site-a", "--index", "3")
    second = serve("--seed", "site-a", "--index", "3")
    assert first.banner["serial"] == second.banner["serial"]
    who = httpx.get(first.banner["url"] + "/axis-cgi/usergroup.cgi", auth=httpx.DigestAuth("eve", "pw"))
    assert who.text == "eve\nusers viewer\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--model", "Q9999"), "unknown model"),
        (("--variant", "3TB"), "has no variant"),
        (("--account", "bad"), "NAME:PASSWORD"),
        (("--password", ""), "passwords are 1-64 printable ASCII characters"),
    ],
)
def test_serve_refuses_bad_options_clearly(args: tuple[str, ...], message: str) -> None:
    result = run_cli("serve", "--port", "0", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# -- ports side by side (issue 16, item 1) ------------------------------------------------------------------------


def free_ports(*offsets: int) -> int:
    """A port P such that P + each offset is free on 127.0.0.1 (bounded tries)."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
        probe.close()
        if base + max(offsets) > 65535:
            continue
        holders = []
        try:
            for offset in offsets:
                holder = socket.socket()
                holders.append(holder)
                holder.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for holder in holders:
                holder.close()
    pytest.skip("no free block of ports found")


def param_value(url: str, name: str, **kwargs: object) -> str:
    reply = httpx.get(
        f"{url}/axis-cgi/param.cgi?action=list&group={name}", auth=httpx.DigestAuth("root", "pass"), timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    return reply.text.strip().split("=", 1)[1]


def test_two_devices_with_different_ports_never_collide(serve) -> None:
    """The README's second device beside a first: HTTPS follows HTTP (+363), each reports its own ports."""
    port = free_ports(0, 1, 363, 364, 474, 475)  # HTTP, HTTPS (+363) and the RTSP fallback (+474)
    first = serve("--port", str(port))
    second = serve("--model", "C1410MkII", "--port", str(port + 1))
    for served, http, https in ((first, port, port + 363), (second, port + 1, port + 364)):
        assert served.banner["url"] == f"http://127.0.0.1:{http}"
        assert served.banner["https"] == f"https://127.0.0.1:{https}"
        assert param_value(served.banner["url"], "System.BoaPort") == str(http)
        assert param_value(served.banner["url"], "HTTPS.Port") == str(https)
        over_tls = param_value(served.banner["https"], "Properties.System.SerialNumber", verify=False)
        assert over_tls == served.banner["serial"]  # HTTPS reaches this device, not the other


def test_serve_without_https_reports_its_http_port(serve) -> None:
    served = serve("--no-https")
    assert "https" not in served.banner
    port = served.banner["url"].rsplit(":", 1)[1]
    assert param_value(served.banner["url"], "System.BoaPort") == port


def test_serve_accepts_a_host_name(serve) -> None:
    served = serve("--host", "localhost")
    assert served.banner["url"].startswith(("http://127.0.0.1:", "http://[::1]:"))
    assert httpx.get(served.banner["url"] + "/index.html", timeout=10).status_code == 200


def test_fleet_https_ports_follow_the_http_ports_the_same_on_every_run(tmp_path: Path) -> None:
    """Ports mode: the HTTPS block starts right after the HTTP block (base + count + index)."""
    base = free_ports(*range(9))  # 3 HTTP, 3 HTTPS, then the RTSP block (on in fleets up to 100)
    for run in range(2):
        process = subprocess.Popen(
            [
                sys.executable, "-m", "axisim", "fleet", "--count", "3", "--https", "--base-port", str(base),
                "--control-port", "0", "--inventory", str(tmp_path / f"inv{run}"), "--quiet",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        )  # fmt: skip
        try:
            read_lines_until(process, "control:")
            rows = json.loads((tmp_path / f"inv{run}.json").read_text(encoding="utf-8"))["devices"]
            assert [(r["http_port"], r["https_port"]) for r in rows] == [(base + i, base + 3 + i) for i in range(3)]
            for row in rows:
                https = f"https://127.0.0.1:{row['https_port']}"
                assert param_value(https, "HTTPS.Port", verify=False) == str(row["https_port"])
                assert param_value(row["url"], "System.BoaPort") == str(row["http_port"])
        finally:
            process.terminate()
            process.communicate(timeout=10)
