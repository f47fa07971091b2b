"""The command line as a user runs it: `axisim models`, `axisim serve` in a real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MODELS


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
