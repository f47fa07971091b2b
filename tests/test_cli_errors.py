"""Every command-line input refused in one line (`axisim: ...`, exit status 2), never a traceback;
busy ports named by the option that changes them (exit status 1)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def repo_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "axisim", *args], capture_output=True, text=True, timeout=30, env=repo_env(), cwd=cwd
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"axisim {' '.join(args)} started instead of refusing")


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("axisim: "), result.stderr
    return lines[0]


SERVE = [
    ("--port", "99999"),
    ("--port", "-1"),
    ("--port", "65536"),
    ("--port", "x"),
    ("--port", "\u00b2"),
    ("--port", "9" * 5000),
    ("--https-port", "99999"),
    ("--https-port", "-1"),
    ("--index", "-1"),
    ("--index", "99999999999"),
    ("--index", "\u00b2"),
    ("--boot-time", "nan"),
    ("--boot-time", "inf"),
    ("--boot-time", "-1"),
    ("--ready-time", "1e9"),
    ("--ready-time", "x"),
    ("--host", "no-such-host.invalid"),
    ("--host", "bad host"),
    ("--host", ""),
    ("--seed", "\udcff"),  # a byte that is not UTF-8 on the command line
    ("--seed", "x" * 300),
    ("--seed", ""),
]


@pytest.mark.parametrize("args", SERVE, ids=[" ".join(a)[:30] for a in SERVE])
def test_serve_refuses_each_bad_input_in_one_line(args: tuple[str, ...]) -> None:
    result = run("serve", *args)
    line = one_line(result)
    assert result.returncode == 2
    assert args[0] in line  # names the option


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--port", "65500"), "--https-port"),  # 65500 + 363 is past 65535
        (("--port", "30001", "--https-port", "30001"), "--https-port"),
    ],
)
def test_serve_refuses_ports_that_do_not_fit_together(args: tuple[str, ...], names: str) -> None:
    result = run("serve", *args)
    assert result.returncode == 2
    assert names in one_line(result)


FLEET = [
    ("--control-port", "99999"),
    ("--control-port", "-1"),
    ("--base-port", "99999"),
    ("--https-base-port", "70000"),
    ("--count", "\u00b2"),
    ("--count", "0"),
    ("--count", "-3"),
    ("--boot-time", "nan"),
    ("--ready-time", "-1"),
    ("--host", "no-such-host.invalid"),
    ("--control-host", "no-such-host.invalid"),
    ("--seed", "\udcff"),
]


@pytest.mark.parametrize("args", FLEET, ids=[" ".join(a) for a in FLEET])
def test_fleet_refuses_each_bad_input_in_one_line(args: tuple[str, ...], tmp_path: Path) -> None:
    result = run("fleet", "--quiet", "--inventory", str(tmp_path / "inv"), *args, cwd=tmp_path)
    line = one_line(result)
    assert result.returncode == 2
    assert args[0] in line


RECORD = [
    ("url", "ftp://192.168.0.90"),
    ("url", "192.168.0.90"),
    ("url", "http://"),
    ("url", "http://root:pass@192.168.0.90"),
    ("url", "http://192.168.0.90:99999"),
    ("url", "http://192.168.0.90/?x=1"),
    ("--timeout", "nan"),
    ("--timeout", "-1"),
    ("--timeout", "1e9"),
    ("--max-body", "0"),
    ("--max-body", "2G"),
    ("--max-body", "x"),
    ("--max-calls", "0"),
    ("--max-calls", "\u00b2"),
]


@pytest.mark.parametrize("args", RECORD, ids=[" ".join(a)[:30] for a in RECORD])
def test_record_refuses_each_bad_input_in_one_line(args: tuple[str, ...], tmp_path: Path) -> None:
    """`axisim record` (README "Record a device"): nothing is sent, nothing written."""
    url = args[1] if args[0] == "url" else "http://127.0.0.1:9"
    options = () if args[0] == "url" else args
    result = run("record", url, "--user", "root", "--password", "pass", "--out", str(tmp_path), *options)
    line = one_line(result)
    assert result.returncode == 2
    assert args[0] in line
    assert list(tmp_path.iterdir()) == []


def test_fleet_refuses_https_ports_past_65535(tmp_path: Path) -> None:
    result = run("fleet", "--count", "2", "--https", "--base-port", "65534", "--control-port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "--https-base-port" in one_line(result)


# -- busy ports -------------------------------------------------------------------------------------------------


@pytest.fixture
def busy() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 someone else listens on."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder
    holder.close()


def test_a_busy_http_port_names_port(busy: socket.socket) -> None:
    port = busy.getsockname()[1]
    result = run("serve", "--port", str(port), "--no-https")
    assert result.returncode == 1
    assert one_line(result) == f"axisim: port {port} is in use; choose another with --port"


def test_a_busy_https_port_names_https_port(busy: socket.socket) -> None:
    port = busy.getsockname()[1]
    result = run("serve", "--port", "0", "--https-port", str(port))
    assert result.returncode == 1
    assert one_line(result) == f"axisim: port {port} is in use; choose another with --https-port (or --no-https)"


def test_a_busy_device_port_of_a_fleet_names_base_port(busy: socket.socket, tmp_path: Path) -> None:
    port = busy.getsockname()[1]
    result = run("fleet", "--count", "1", "--base-port", str(port), "--control-port", "0", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    line = one_line(result)
    assert f"port {port} is in use" in line and line.endswith("choose others with --base-port")


def test_a_busy_https_port_of_a_fleet_names_https_base_port(busy: socket.socket, tmp_path: Path) -> None:
    port = busy.getsockname()[1]
    result = run(
        "fleet", "--count", "1", "--https", "--base-port", "0", "--https-base-port", str(port), "--control-port", "0",
        "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    line = one_line(result)
    assert f"port {port} is in use" in line and line.endswith("choose others with --https-base-port")


def test_a_busy_control_port_names_control_port(busy: socket.socket, tmp_path: Path) -> None:
    port = busy.getsockname()[1]
    result = run("fleet", "--count", "1", "--base-port", "0", "--control-port", str(port), "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert one_line(result) == f"axisim: port {port} (the control API) is in use; choose another with --control-port"
