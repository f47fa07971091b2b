"""`axisim serve --state-dir` in real processes: what a device was told survives restarts and kills,
a directory that does not fit is refused without being touched, and HTTPS keeps its certificate."""

from __future__ import annotations

import json
import queue
import random
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from axisim.digest_client import authorization
from axisim.tls import self_signed

SEED = 20240611  # fixed: a failing round replays identically
TIMEOUT = 10.0  # seconds for any single network call or process wait
SERVE = [
    sys.executable, "-m", "axisim", "serve", "--host", "127.0.0.1", "--port", "0",
    "--boot-time", "0", "--ready-time", "0",
]  # fmt: skip
ROOT = httpx.DigestAuth("root", "pass")
NAME = "Network.UPnP.FriendlyName"  # a writable string, maxlen 63 in fixtures/S3008/params.xml


class Server:
    """One `axisim serve` process; its banner lines are parsed into `banner`."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process = subprocess.Popen([*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.process.stdout, self._lines.put, True), daemon=True).start()
        errors = threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr.append), daemon=True)
        errors.start()
        self.banner: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while "accounts" not in self.banner:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise AssertionError(f"no banner from axisim serve {args}; stderr: {''.join(self.stderr)}") from None
            if line is None:
                self.process.wait(timeout=TIMEOUT)
                errors.join(timeout=TIMEOUT)
                raise AssertionError(f"axisim serve {args} exited {self.process.returncode}: {''.join(self.stderr)}")
            key, _, value = line.partition(":")
            self.banner[key.strip()] = value.strip()

    @staticmethod
    def _pump(stream, put: Callable, mark_end: bool = False) -> None:  # type: ignore[type-arg]
        for line in iter(stream.readline, ""):
            put(line)
        if mark_end:
            put(None)

    @property
    def url(self) -> str:
        return self.banner["url"]

    @property
    def https_port(self) -> int:
        return int(self.banner["https"].rsplit(":", 1)[1])

    def get(self, path: str, auth: httpx.Auth | None = ROOT) -> httpx.Response:
        return httpx.get(self.url + path, auth=auth, timeout=TIMEOUT)

    def params(self, *names: str) -> str:
        response = self.get("/axis-cgi/param.cgi?action=list&group=" + ",".join(names))
        assert response.status_code == 200, response.text
        return response.text

    def update(self, values: dict[str, str]) -> None:
        query = "&".join(f"{name}={value}" for name, value in values.items())
        response = self.get("/axis-cgi/param.cgi?action=update&" + query)
        assert (response.status_code, response.text) == (200, "OK"), response.text

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=TIMEOUT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=TIMEOUT)


Start = Callable[..., Server]


@pytest.fixture
def serve() -> Iterator[Start]:
    started: list[Server] = []

    def start(*args: str) -> Server:
        server = Server(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=30)


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def saved_values(state: Path) -> dict[str, str]:
    return json.loads((state / "device.json").read_bytes())["params"]["values"]


# -- 1. restart ------------------------------------------------------------------


def test_parameters_and_accounts_survive_a_restart(serve: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = serve("--state-dir", str(state))
    assert first.banner["state"] == f"{state} (new)"
    names = (NAME, "Network.FTP.Enabled", "Network.UPnP.Enabled")  # the last one stays as it was
    first.update({"Network.FTP.Enabled": "yes"})
    first.update({NAME: "Lobby-cam_2"})
    added = first.get("/axis-cgi/pwdgrp.cgi?action=add&user=alice&pwd=secret1&grp=users&sgrp=viewer")
    assert added.status_code == 200 and "Created account alice." in added.text
    before = first.params(*names)
    assert before == "Network.UPnP.FriendlyName=Lobby-cam_2\nNetwork.FTP.Enabled=yes\nNetwork.UPnP.Enabled=no\n"
    first.terminate()

    second = serve("--state-dir", str(state))
    assert second.banner["state"] == f"{state} (restored)"
    assert second.banner["serial"] == first.banner["serial"]
    assert "alice" in second.banner["accounts"]
    assert second.params(*names) == before
    # the port parameter reports the new process's port, not one saved by the old
    assert second.params("System.BoaPort") == f"System.BoaPort={second.url.rsplit(':', 1)[1]}\n"
    who = second.get("/axis-cgi/usergroup.cgi", auth=httpx.DigestAuth("alice", "secret1"))
    assert (who.status_code, who.text) == (200, "alice\nusers viewer\n")
    wrong = second.get("/axis-cgi/usergroup.cgi", auth=httpx.DigestAuth("alice", "secret2"))
    assert wrong.status_code == 401
    # a viewer still may not change parameters: the role came back too, not just the password
    refused = second.get(f"/axis-cgi/param.cgi?action=update&{NAME}=x", auth=httpx.DigestAuth("alice", "secret1"))
    assert refused.status_code == 401
    assert second.params(NAME) == f"{NAME}=Lobby-cam_2\n"


# -- 2. kills ---------------------------------------------------------------------


def value_index(server: Server) -> int:
    text = server.params(NAME)
    prefix = f"{NAME}=v"
    assert text.startswith(prefix) and text.endswith("\n"), text
    return int(text[len(prefix) : -1])


class Burst(threading.Thread):
    """Sends `NAME=v<i>` for i in range(start, stop), one after another, until the device goes away."""

    def __init__(self, server: Server, start: int, stop: int) -> None:
        super().__init__(daemon=True)
        self.server, self.start_at, self.stop_at = server, start, stop
        self.sent = start - 1  # last value whose request was (at least partly) sent
        self.acked = start - 1  # last value the device answered OK to
        self.errors: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, auth=ROOT, timeout=TIMEOUT) as client:
            for i in range(self.start_at, self.stop_at):
                self.sent = i
                try:
                    response = client.get(f"/axis-cgi/param.cgi?action=update&{NAME}=v{i}")
                except httpx.TransportError:
                    return  # killed
                if (response.status_code, response.text) != (200, "OK"):
                    self.errors.append(f"v{i}: {response.status_code} {response.text!r}")
                    return
                self.acked = i


def test_sigkill_during_a_burst_keeps_a_prefix_of_the_updates(serve: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    server = serve("--state-dir", str(state))
    server.update({NAME: "v0"})
    acked, sent = 0, 0
    for round_ in range(3):
        rng = random.Random(SEED + round_)
        burst = Burst(server, sent + 1, sent + 1 + 40)
        wanted = sent + rng.randint(1, 39)  # kill once this many updates were acknowledged
        burst.start()
        deadline = time.monotonic() + 20
        while burst.acked < wanted and burst.is_alive() and time.monotonic() < deadline:
            time.sleep(0.0005)
        floor = burst.acked  # acknowledged before the kill: must not be lost
        time.sleep(rng.uniform(0, 0.004))  # land anywhere in the next request's handling
        server.kill()
        burst.join(timeout=TIMEOUT)
        assert not burst.is_alive() and not burst.errors, burst.errors
        assert floor >= wanted, f"seed {SEED + round_}: the burst stalled at {floor}"
        acked, sent = floor, burst.sent
        if round_ == 0:  # a leftover from a save cut short must not matter
            (state / "device.json.tmp").write_bytes(b'{"format": 1, "model": "S3')
        json.loads((state / "device.json").read_bytes())  # whole, whatever the moment of the kill
        server = serve("--state-dir", str(state))
        assert server.banner["state"].endswith("(restored)")
        loaded = value_index(server)
        assert acked <= loaded <= sent, f"seed {SEED + round_}: acked v{acked}, sent up to v{sent}, loaded v{loaded}"
        assert saved_values(state)[NAME] == f"v{loaded}"
        sent = loaded  # the next round continues from what the device holds
    server.update({NAME: "final"})
    assert not list(state.glob("*.tmp")), "a successful save leaves no temporary file"
    assert saved_values(state)[NAME] == "final"


def pipelined_request(challenge: str, value: int) -> bytes:
    uri = f"/axis-cgi/param.cgi?action=update&{NAME}=v{value}"
    auth = authorization(challenge, user="root", password="pass", method="GET", uri=uri, nc=value + 1)
    return f"GET {uri} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n\r\n".encode()


def test_sigkill_with_requests_in_flight_keeps_a_prefix_of_the_updates(serve: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    server = serve("--state-dir", str(state))
    server.update({NAME: "v0"})
    acked = sent = 0
    for round_ in range(4):
        rng = random.Random(SEED * 7 + round_)
        for _ in range(rng.randint(1, 3)):  # some acknowledged one by one: on disk before the answer
            sent += 1
            server.update({NAME: f"v{sent}"})
            acked = sent
            assert saved_values(state)[NAME] == f"v{sent}"
        challenge = server.get("/axis-cgi/param.cgi?action=list", auth=None).headers["WWW-Authenticate"]
        pipelined = rng.randint(1, 6)  # then some sent at once on one connection, answered in order
        wait_for = rng.randint(0, pipelined - 1)  # kill after this many of them were answered
        requests = b"".join(pipelined_request(challenge, sent + 1 + i) for i in range(pipelined))
        with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=TIMEOUT) as sock:
            sock.sendall(requests)
            sent += pipelined
            received = b""
            deadline = time.monotonic() + TIMEOUT
            while received.count(b"HTTP/1.1 ") < wait_for and time.monotonic() < deadline:
                chunk = sock.recv(65536)
                assert chunk, "the device closed the connection early"
                received += chunk
            time.sleep(rng.choice((0, rng.uniform(0, 0.004))))
            server.kill()
        answered = received.count(b"HTTP/1.1 ")
        assert answered >= wait_for and received.count(b"HTTP/1.1 200 OK") == answered, received
        acked = max(acked, sent - pipelined + answered)
        json.loads((state / "device.json").read_bytes())
        server = serve("--state-dir", str(state))
        loaded = value_index(server)
        assert acked <= loaded <= sent, (
            f"seed {SEED * 7 + round_}: acked v{acked}, sent up to v{sent}, loaded v{loaded}"
        )
        sent = acked = loaded


# -- 3. refused directories ------------------------------------------------------


@pytest.fixture
def used_state(serve: Start, tmp_path: Path) -> Path:
    """A state directory an S3008 (2TB, default seed) wrote, with a change in it."""
    state = tmp_path / "state"
    server = serve("--state-dir", str(state))
    server.update({"Network.FTP.Enabled": "yes"})
    server.terminate()
    assert (state / "device.json").is_file() and (state / "https" / "cert.pem").is_file()
    return state


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--model", "C1410MkII"), "it was written for model 'S3008', not 'C1410MkII'"),
        (("--variant", "8TB"), "it was written for variant '2TB', not '8TB'"),
        (("--seed", "elsewhere"), "(use the same --seed and --index)"),
    ],
)
def test_state_dir_of_another_device_is_refused_untouched(
    used_state: Path, args: tuple[str, ...], problem: str
) -> None:
    before = files(used_state)
    result = run_serve("--state-dir", str(used_state), *args)
    assert result.returncode == 2, result.stderr
    assert f"state directory {used_state}" in result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.stderr and "url:" not in result.stdout
    assert files(used_state) == before


def test_damaged_state_file_is_refused_untouched(used_state: Path) -> None:
    document = used_state / "device.json"
    whole = document.read_bytes()
    document.write_bytes(whole[: len(whole) // 2])
    before = files(used_state)
    result = run_serve("--state-dir", str(used_state))
    assert result.returncode == 2, result.stderr
    assert f"state directory {used_state}" in result.stderr
    assert "device.json is damaged" in result.stderr
    assert "Traceback" not in result.stderr and "url:" not in result.stdout
    assert files(used_state) == before


# -- 4. HTTPS ----------------------------------------------------------------------


def handshake(port: int, context: ssl.SSLContext, server_hostname: str) -> tuple[bytes, dict]:  # type: ignore[type-arg]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der, tls.getpeercert()


def subject_cn(peer: dict) -> str:  # type: ignore[type-arg]
    return next(value for rdn in peer["subject"] for key, value in rdn if key == "commonName")


def test_https_serves_the_state_dirs_certificate_across_restarts(serve: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    server = serve("--state-dir", str(state))
    hostname = f"axis-{server.banner['serial'].lower()}"
    cert_file = state / "https" / "cert.pem"
    trust = ssl.create_default_context(cafile=str(cert_file))
    assert trust.check_hostname and trust.verify_mode is ssl.CERT_REQUIRED
    der, peer = handshake(server.https_port, trust, "127.0.0.1")
    assert subject_cn(peer) == hostname
    assert der == ssl.PEM_cert_to_DER_cert(cert_file.read_text())
    by_name, _ = handshake(server.https_port, trust, hostname)  # SNI and the check by host name
    assert by_name == der
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server.https_port, trust, "not-this-device.example")

    with httpx.Client(verify=trust, auth=ROOT, timeout=TIMEOUT) as client:
        listed = client.get(f"{server.banner['https']}/axis-cgi/param.cgi?action=list&group=HTTPS.Port")
    assert (listed.status_code, listed.text) == (200, f"HTTPS.Port={server.https_port}\n")

    server.terminate()
    again = serve("--state-dir", str(state))
    assert again.banner["state"].endswith("(restored)")
    assert handshake(again.https_port, trust, hostname)[0] == der
    assert again.params("HTTPS.Port") == f"HTTPS.Port={again.https_port}\n"


def test_supplied_certificate_is_served_as_is(serve: Start, tmp_path: Path) -> None:
    state = tmp_path / "state"
    serve("--state-dir", str(state)).terminate()  # the device's own certificate, saved
    own = files(state / "https")
    supplied = self_signed("camera.example", "127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(supplied.cert_pem)
    key_file.write_bytes(supplied.key_pem)

    server = serve("--state-dir", str(state), "--cert", str(cert_file), "--key", str(key_file))
    trust = ssl.create_default_context(cafile=str(cert_file))
    der, peer = handshake(server.https_port, trust, "camera.example")
    assert der == ssl.PEM_cert_to_DER_cert(supplied.cert_pem.decode())
    assert subject_cn(peer) == "camera.example"
    assert files(state / "https") == own, "a supplied certificate does not replace the saved one"
