"""Benchmark 8: `--fleet-size` (1000) W401s publishing to one Mosquitto broker from one process.

In process (no HTTP): each device's MQTT client is set up as mqtt/client.cgi and mqtt/event.cgi
would (broker, filter `onvif:Device/axis:IO/Port//.`), its link attached as `server.start_device`
does, and activated. Measured: the time until every client is connected, then the time until one
subscriber has received every event message after each device toggles input 1 `TOGGLES` times
(close + open: two messages). Baseline, same run, same broker and subscriber: as many bare aiomqtt
clients doing the same MQTT work (a last will, the connect message and the input states on connect,
then the same number of event messages of the same size). The broker is a
mosquitto process of its own on a free port (skipped, saying so, when mosquitto is absent).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiomqtt

from axisim.device import make_device
from axisim.mqtt_link import MqttLink
from axisim.subsystems.mqtt import ClientConfig, EventFilter, MqttSubsystem, PublicationConfig, Server

from .report import Row
from .servers import BenchError

TOGGLES = 5  # per device: 10 messages each
SETTLE_S = 1.0  # after connecting, before subscribing: the states each client sends on connect pass by
WAIT_S = 180.0  # the longest any phase may take
TOPIC = "onvif:Device/axis:IO/Port//."


def _mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if Path(p).exists()), None
    )


@contextlib.asynccontextmanager
async def _broker() -> AsyncIterator[int]:
    binary = _mosquitto()
    if binary is None:
        raise BenchError("mosquitto is not installed (Debian package mosquitto)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "mosquitto.conf"
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
                          "max_queued_messages 100000\n")  # fmt: skip
        process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                await asyncio.sleep(0.05)
            else:
                raise BenchError("mosquitto did not start")
            yield port
        finally:
            process.terminate()
            process.wait(5)


class Counter:
    """One subscriber counting the messages under `prefix/#`."""

    def __init__(self, port: int, topic: str) -> None:
        self.port, self.topic = port, topic
        self.count = 0
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port, max_queued_incoming_messages=0) as client:
            await client.subscribe(self.topic)
            self.ready.set()
            async for _ in client.messages:
                self.count += 1

    async def __aenter__(self) -> Counter:
        self.task = asyncio.get_running_loop().create_task(self.run())
        await asyncio.wait_for(self.ready.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await self.task

    async def until(self, total: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.count < total:
            if time.monotonic() > deadline:
                raise BenchError(f"the subscriber got {self.count} of {total} messages in {WAIT_S:g} s")
            await asyncio.sleep(0.01)


async def _until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} took more than {WAIT_S:g} s")
        await asyncio.sleep(0.01)


async def _timed(run: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await run()
    return time.perf_counter() - started


async def _devices(port: int, count: int) -> tuple[float, float, int]:
    """(connect s, publish s, state messages each sends on connect) for `count` W401s."""
    devices = [make_device("W401", index=i) for i in range(count)]
    clients: list[MqttSubsystem] = []
    links: list[MqttLink] = []
    for device in devices:
        mqtt = device.subsystems["mqtt"]
        assert isinstance(mqtt, MqttSubsystem)
        mqtt.configure(ClientConfig(server=Server("127.0.0.1", port), client_id=f"bench-{device.serial}",
                                    device_topic_prefix=f"axis/{device.serial}"))  # fmt: skip
        mqtt.configure_publication(PublicationConfig(filters=(EventFilter(TOPIC),)))
        link = MqttLink.attach(device)
        assert link is not None
        clients.append(mqtt)
        links.append(link)
    try:
        def activate() -> Awaitable[None]:
            for mqtt in clients:
                mqtt.activate()
            return _until(lambda: all(mqtt.connected for mqtt in clients), "connecting the devices")

        connect_s = await _timed(activate)
        await asyncio.sleep(SETTLE_S)
        on_connect = len([e for e in devices[0].event_states() if e.topic == "tns1:Device/tnsaxis:IO/Port"])
        async with Counter(port, "axis/+/event/#") as counter:

            async def toggle() -> None:
                for _ in range(TOGGLES):
                    for device in devices:
                        io = device.subsystems["io"]
                        io.close_input(1)  # type: ignore[attr-defined]
                        io.open_input(1)  # type: ignore[attr-defined]
                    await asyncio.sleep(0)
                await counter.until(count * TOGGLES * 2)

            publish_s = await _timed(toggle)
        return connect_s, publish_s, on_connect
    finally:
        await asyncio.gather(*(link.close() for link in links))


async def _bare(port: int, count: int, payload: bytes, on_connect: int) -> tuple[float, float]:
    """(connect s, publish s) for `count` bare aiomqtt clients doing the same MQTT work: a last will,
    a retained connect message and `on_connect` state messages once connected, then the events."""
    stack = contextlib.AsyncExitStack()
    async with stack:
        will = b'{"serialNumber":"000000000000","connected":false,"description":"Connection Lost","timestamp":null}'
        clients = [aiomqtt.Client("127.0.0.1", port, identifier=f"bare-{i}", keepalive=60, clean_session=True,
                                  will=aiomqtt.Will(f"bare/{i:012d}/event/connection", will, 1, True))
                   for i in range(count)]  # fmt: skip

        entered = 0

        async def hello(i: int, client: aiomqtt.Client) -> None:
            nonlocal entered
            await stack.enter_async_context(client)
            entered += 1
            await client.publish(f"bare/{i:012d}/event/connection", will.replace(b"false", b"true"), 1, True)
            for port_number in range(on_connect):
                await client.publish(f"bare/{i:012d}/event/state/{port_number}", payload)

        greetings = asyncio.gather(*(hello(i, client) for i, client in enumerate(clients)))
        connect_s = await _timed(lambda: _until(lambda: entered == count, "connecting the bare clients"))
        await greetings
        await asyncio.sleep(SETTLE_S)
        async with Counter(port, "bare/+/event/#") as counter:

            async def send(i: int, client: aiomqtt.Client) -> None:
                topic = f"bare/{i:012d}/event/tns:onvif/Device/tns:axis/IO/Port/$source/port/0"
                for _ in range(TOGGLES * 2):
                    await client.publish(topic, payload)

            async def publish() -> None:
                await asyncio.gather(*(send(i, client) for i, client in enumerate(clients)))
                await counter.until(count * TOGGLES * 2)

            publish_s = await _timed(publish)
    return connect_s, publish_s


PAYLOAD = (b'{"topic":"onvif:Device/axis:IO/Port","timestamp":1785325150144,'
           b'"message":{"source":{"port":"0"},"key":{},"data":{"state":"1"}}}')  # fmt: skip


async def _run(count: int) -> list[Row]:
    async with _broker() as port:
        connect_s, publish_s, on_connect = await _devices(port, count)
        bare_connect_s, bare_publish_s = await _bare(port, count, PAYLOAD, on_connect)
    messages = count * TOGGLES * 2
    rate, bare_rate = messages / publish_s, messages / bare_publish_s
    return [
        Row("8", f"{count:,} W401s connect to one broker", f"{connect_s:.2f} s", f"{bare_connect_s:.2f} s",
            connect_s / bare_connect_s,
            note=f"until all report connected; each device also sends its connect message and {on_connect} input "
            "states; baseline: as many bare aiomqtt clients with a will connecting at once and sending as many "
            "messages, same process and broker"),
        Row("8", f"  their input events published (x{TOGGLES * 2} each)", f"{rate:,.0f} msg/s",
            f"{bare_rate:,.0f} msg/s", rate / bare_rate,
            note=f"{messages:,} messages until one subscriber has all; baseline: the bare clients publishing "
            "the same number of same-size messages"),
    ]  # fmt: skip


def mqtt_fleet(count: int) -> list[Row]:
    return asyncio.run(_run(count))
