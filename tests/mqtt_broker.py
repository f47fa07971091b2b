"""A real Mosquitto broker for the MQTT tests, on a free 127.0.0.1 port with its own config, and an
MQTT subscriber (aiomqtt) that records what arrives. No system service: each test starts its own
broker process; the tests skip, saying why, when the mosquitto binary is absent (.ci/run installs it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

BINARY = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if Path(p).exists()), None
)
START_TRIES = 100  # x 0.05 s: a broker that does not listen within 5 s is a failure


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ServerFiles:
    """PEM files a TLS listener reads: the CA that issued the server certificate, the certificate, its key."""

    ca: Path
    certificate: Path
    key: Path


SECURE = ("ssl", "ws", "wss", "mtls")  # the extra listeners of a broker with `tls`: mtls requires a client certificate


@dataclass
class Broker:
    """One mosquitto process; `stop()` and `start()` again keep the ports (a broker restart).

    With `tls`, beside plain MQTT it listens for MQTT over TLS (`ssl`), WebSocket (`ws`), secure
    WebSocket (`wss`) and TLS that requires a client certificate the CA issued (`mtls`), each on
    its own port in `ports`. Mosquitto 2.0 binds a WebSocket listener to an interface name (its
    libwebsockets takes no address), so those name `lo`: still the loopback address alone."""

    directory: Path
    port: int = field(default_factory=free_port)
    tls: ServerFiles | None = None
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        lines = [f"listener {self.port} 127.0.0.1"]
        if self.tls is not None:
            if not self.ports:
                self.ports = {name: free_port() for name in SECURE}
            files = f"cafile {self.tls.ca}\ncertfile {self.tls.certificate}\nkeyfile {self.tls.key}"
            lines += [
                f"listener {self.ports['ssl']} 127.0.0.1\n{files}",
                f"listener {self.ports['ws']} lo\nprotocol websockets",
                f"listener {self.ports['wss']} lo\nprotocol websockets\n{files}",
                f"listener {self.ports['mtls']} 127.0.0.1\n{files}\nrequire_certificate true",
            ]
        # started as root, mosquitto drops to its own user, which cannot read the test's private files
        owner = ["user root"] if os.geteuid() == 0 else []
        return "\n".join([*lines, *owner, "allow_anonymous true", "persistence false", "log_dest none", ""])

    async def start(self) -> None:
        assert BINARY is not None
        config = self.directory / "mosquitto.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen([BINARY, "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)  # fmt: skip
        waiting = [self.port, *self.ports.values()]
        for _ in range(START_TRIES):
            for port in list(waiting):
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    waiting.remove(port)
            if not waiting:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {waiting}")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 5)
            self.process = None


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """An MQTT client subscribed to `#`, keeping every message; `wait(pred)` is bounded in time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Received] = []
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 5)

    async def _run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port, identifier="axisim-test-subscriber") as client:
            await client.subscribe("#", qos=1)
            self._ready.set()
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
                self.messages.append(Received(str(message.topic), payload, bool(message.retain)))
                self._arrived.set()

    async def wait(self, pred: Callable[[Received], bool], timeout: float = 10.0, since: int = 0) -> Received:
        """The first message from the `since`-th on (already here or arriving within `timeout`) that
        `pred` accepts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = since
        while True:
            for message in self.messages[seen:]:
                if pred(message):
                    return message
            seen = len(self.messages)
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no matching MQTT message within {timeout} s; got {self.messages!r}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    if BINARY is None:
        pytest.skip("the mosquitto binary is absent (Debian package mosquitto; .ci/run installs it)")
    running = Broker(tmp_path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def subscriber(broker: Broker) -> AsyncIterator[Subscriber]:
    listening = Subscriber(broker.port)
    await listening.start()
    try:
        yield listening
    finally:
        await listening.stop()
