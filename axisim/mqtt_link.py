"""A served device's MQTT connection (events.md §5): one asyncio task per active client.

`MqttLink.attach(device, faults)` (called by server.start_device) makes the link the driver of
the device's `mqtt` subsystem; a device without MQTT, or whose client is inactive, has no task and
costs nothing. While the subsystem `wants_connection`, the task connects with aiomqtt (on
paho-mqtt), registering the last will; sends the connect message; publishes the device's bus
events that the event.cgi filters select; and reconnects with a doubling backoff when the
connection is lost (if `autoReconnect`). The client's own decisions disconnect cleanly (the
disconnect message, then MQTT DISCONNECT): a deactivation, new settings, the simulator stopping a
running device. Whatever takes the device's network away drops the socket without a word, so the
broker publishes the last will: a restart or factory default, a power-off, a lost link (cable,
WLAN), the control API's "offline" (`set_reachable(False)`) or its "mqtt" fault. The device
connects again, with its connect message, once it is back (booted, on the network).
`publish(device, ...)` is the seam for anyone who publishes on the device's behalf.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from typing import TYPE_CHECKING

import aiomqtt

from .certificates import CertificateRefused
from .events import Event
from .lifecycle import State
from .logs import Severity
from .mqtt_messages import Outgoing, connect_message, disconnect_message, event_messages, last_will
from .subsystems.mqtt import ClientConfig, MqttSubsystem, SubscriptionFilter
from .tls import Certificate, CertificateError, client_context

if TYPE_CHECKING:
    from .control.faults import Faults
    from .device import Device

LOG = logging.getLogger("axisim.mqtt")
BACKOFF_MIN = 0.5  # seconds before the first retry; doubles up to BACKOFF_MAX
BACKOFF_MAX = 30.0
OUTBOX_MAX = 10_000  # events waiting for the broker; more are dropped (a device's buffer is finite too)
STOP_WAIT = 5.0  # seconds a clean disconnect may take


class _Signals:
    """What a link's task waits on. A fleet's devices mostly have an inactive client, so these are
    made with the first task, not with the link (five asyncio objects were 3 KB a device)."""

    __slots__ = ("cut", "outbox", "resubscribe", "retry", "stop")

    def __init__(self, cut: bool) -> None:
        self.stop = asyncio.Event()
        self.outbox: asyncio.Queue[Outgoing] = asyncio.Queue(OUTBOX_MAX)
        self.cut = asyncio.Event()  # set while the control API's "mqtt" fault holds
        if cut:
            self.cut.set()
        self.retry = asyncio.Event()  # the fault went away: try again now
        self.resubscribe = asyncio.Event()  # event.cgi changed the subscriptions


class MqttLink:
    """The connection of one device's MQTT client; see the module docstring."""

    def __init__(self, device: Device, mqtt: MqttSubsystem, faults: Faults | None = None) -> None:
        self.device = device
        self.mqtt = mqtt
        self.faults = faults
        self._task: asyncio.Task[None] | None = None
        self._config: ClientConfig | None = None  # the settings the running task uses
        self._client: aiomqtt.Client | None = None
        self._abrupt = False
        self._pending = False
        self._cut = False  # while the control API's "mqtt" fault holds
        self._signals: _Signals | None = None  # made with the first task: an inactive client holds none
        self.connections = 0  # successful connects, for tests and the bench
        self._subscribed: tuple[SubscriptionFilter, ...] = ()  # what the broker was asked to send
        self.reachable = True  # False while the control API holds the device off the network
        self._last_failure = ""  # the reason last written to the system log

    @classmethod
    def attach(cls, device: Device, faults: Faults | None = None) -> MqttLink | None:
        """The link of a device that has an MQTT client (None otherwise), already reconciled."""
        mqtt = device.subsystems.get(MqttSubsystem.name)
        if not isinstance(mqtt, MqttSubsystem):
            return None
        link = cls(device, mqtt, faults)
        mqtt.driver = link
        if faults is not None:
            faults.listeners.append(link._faults_changed)
        link.changed()
        return link

    # -- the subsystem's driver interface ----------------------------------------------------------

    def changed(self) -> None:
        """Reconcile soon: the device's state settles first (a restart goes offline after its hooks)."""
        if not self._pending:
            self._pending = True
            asyncio.get_running_loop().call_soon(self._reconcile)

    def send(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool:
        return self._enqueue(Outgoing(topic, payload, qos, retain))

    def set_reachable(self, reachable: bool) -> None:
        """The device goes off the network (its connection drops unannounced) or comes back."""
        if reachable != self.reachable:
            self.reachable = reachable
            self.changed()

    @property
    def _networked(self) -> bool:
        """The device runs and reaches its network: a disconnect now is the client's own, clean one."""
        state = self.device.lifecycle.state
        return state in (State.READY, State.BOOTING) and self.device.link_up and self.reachable

    @property
    def _waits(self) -> _Signals:
        if self._signals is None:
            self._signals = _Signals(self._cut)
        return self._signals

    # -- lifecycle ------------------------------------------------------------------------------------

    def _reconcile(self) -> None:
        self._pending = False
        want = self.mqtt.wants_connection and self.reachable
        if self._task is not None and (not want or self.mqtt.config != self._config):
            abrupt = not self._networked
            old = self._task
            self._task = None
            asyncio.get_running_loop().create_task(self._finish(old, abrupt))
            return  # _finish reconciles again once the old session is gone
        if self._task is not None and self.mqtt.subscriptions != self._subscribed:
            self._waits.resubscribe.set()
        if self._task is not None and not self.mqtt.connected:
            self._waits.retry.set()  # "Save and Connect" again (or a new certificate): try now, not after the backoff
        if want and self._task is None:
            self._config = self.mqtt.config
            self._waits.stop = asyncio.Event()
            self._abrupt = False
            self._task = asyncio.get_running_loop().create_task(self._run(self._config))

    async def _finish(self, task: asyncio.Task[None], abrupt: bool) -> None:
        self._abrupt = abrupt
        self._waits.stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_WAIT)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.changed()

    async def close(self) -> None:
        """The simulator stops serving the device: disconnect cleanly, forget the driver."""
        if self.mqtt.driver is self:
            self.mqtt.driver = None
        if self.faults is not None and self._faults_changed in self.faults.listeners:
            self.faults.listeners.remove(self._faults_changed)
        task, self._task = self._task, None
        if task is not None:
            self._abrupt = not self._networked
            self._waits.stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_WAIT)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # -- faults -----------------------------------------------------------------------------------------

    def _unreachable(self) -> bool:
        return self.faults is not None and self.faults.mqtt_unreachable()

    def _faults_changed(self) -> None:
        self._cut = self._unreachable()
        if self._signals is None:
            return  # no task waits: the first one starts from self._cut
        if self._cut:
            self._signals.cut.set()
        else:
            self._signals.cut.clear()
            self._signals.retry.set()

    # -- the session ------------------------------------------------------------------------------------

    async def _run(self, config: ClientConfig) -> None:
        """Connect, serve, and retry with backoff until stopped (or once, without autoReconnect)."""
        backoff = BACKOFF_MIN
        waits = self._waits
        while not waits.stop.is_set():
            if self._unreachable():
                LOG.info("%s: MQTT broker unreachable (fault)", self.device.serial)
            else:
                try:
                    await self._session(config)
                    backoff = BACKOFF_MIN
                except (aiomqtt.MqttError, OSError, ssl.SSLError, CertificateError, CertificateRefused) as exc:
                    self._failed(config, exc)
                finally:
                    self._client = None
                    self.mqtt.set_connected(False)
            if waits.stop.is_set() or not config.auto_reconnect:
                return
            await self._pause(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _failed(self, config: ClientConfig, exc: Exception) -> None:
        """A connection that failed or was lost: the status says disconnected (set_connected), the
        system log says why, once per reason until a connection succeeds (retries do not flood it)."""
        server = config.server
        reason = str(exc.reason if isinstance(exc, CertificateRefused) else exc) or type(exc).__name__
        LOG.info("%s: MQTT connection to %s failed: %s", self.device.serial, server.host, reason)
        if reason != self._last_failure:
            self._last_failure = reason
            where = f"{server.protocol}://{server.host}:{server.effective_port}"
            self.device.logs.system_event(f"MQTT client: connection to {where} failed: {reason}",
                                          source="mqttd", severity=Severity.WARNING)  # fmt: skip

    async def _pause(self, seconds: float) -> None:
        """Wait before the next attempt; a stop, or the fault's removal, ends the wait early."""
        waits = self._waits
        waits.retry.clear()
        waiters = [asyncio.ensure_future(waits.stop.wait()), asyncio.ensure_future(waits.retry.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _tls_for(self, config: ClientConfig) -> ssl.SSLContext | None:
        """ssl and wss: validate the broker against the device's CA certificates (the one
        `CACertID` names, else all installed), and present `clientCertID`'s certificate if named.
        CertificateError / CertificateRefused: a named certificate is not installed or unusable."""
        if config.server.protocol not in ("ssl", "wss"):
            return None
        store = self.device.certificates
        trusted = None
        if config.validate_server_cert:
            chosen = [store.get_ca(config.ca_cert_id)] if config.ca_cert_id else store.ca_certificates()
            trusted = [ca.cert_pem for ca in chosen]
        own = None
        if config.client_cert_id:
            keyed = store.get(config.client_cert_id)
            own = Certificate(keyed.cert_pem, keyed.key_pem)
        return client_context(trusted, own, config.server.alpn_protocol)

    def _client_for(self, config: ClientConfig) -> aiomqtt.Client:
        server = config.server
        will = last_will(config, self.device.serial)
        tls = self._tls_for(config)
        websockets = server.protocol in ("ws", "wss")
        path = server.basepath or "/mqtt"  # paho's default path; a bare basepath gets its leading slash
        return aiomqtt.Client(
            server.host, server.effective_port, identifier=config.client_id or None,
            username=config.username or None, password=config.password or None,
            will=None if will is None else aiomqtt.Will(will.topic, will.payload, will.qos, will.retain),
            clean_session=config.clean_session, keepalive=config.keep_alive, timeout=float(config.connect_timeout),
            transport="websockets" if websockets else "tcp",
            websocket_path=(path if path.startswith("/") else "/" + path) if websockets else None, tls_context=tls,
        )  # fmt: skip

    async def _session(self, config: ClientConfig) -> None:
        client = self._client_for(config)
        async with client:
            outbox = self._waits.outbox
            while not outbox.empty():  # what the last connection left unsent is gone
                outbox.get_nowait()
            self._client = client
            self._last_failure = ""
            self.connections += 1
            self.mqtt.set_connected(True)
            hello = connect_message(config, self.device.serial, self.device.clock.wall())
            if hello is not None:
                await client.publish(hello.topic, hello.payload, hello.qos, hello.retain)
            self._subscribed = ()
            await self._subscribe(client)
            subscription = self.device.bus.subscribe(self._on_event, clients=True)
            for state in self.device.event_states():  # property states first, as a new event subscriber gets
                self._on_event(state)
            try:
                await self._serve(client)
            finally:
                subscription.cancel()
            if self._abrupt or self._waits.cut.is_set():
                self._drop(client)
                with contextlib.suppress(TimeoutError, aiomqtt.MqttError):
                    await asyncio.wait_for(self._receive(client), STOP_WAIT)
                return
            bye = disconnect_message(config, self.device.serial, self.device.clock.wall())
            if bye is not None:
                await client.publish(bye.topic, bye.payload, bye.qos, bye.retain)
        # leaving the context sends DISCONNECT: the broker discards the last will

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Send the outbox until stopped, unreachable (a fault) or disconnected (MqttError)."""
        waits = self._waits
        lost = asyncio.ensure_future(self._receive(client))
        stop = asyncio.ensure_future(waits.stop.wait())
        cut = asyncio.ensure_future(waits.cut.wait())
        waits.resubscribe.clear()
        resubscribe = asyncio.ensure_future(waits.resubscribe.wait())
        take = asyncio.ensure_future(waits.outbox.get())
        try:
            while True:
                done, _ = await asyncio.wait((take, lost, stop, cut, resubscribe), return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    lost.result()  # raises the MqttError of the lost connection
                if stop in done or cut in done or lost in done:
                    return
                if resubscribe in done:
                    waits.resubscribe.clear()
                    resubscribe = asyncio.ensure_future(waits.resubscribe.wait())
                    await self._subscribe(client)
                if take in done:
                    item = take.result()
                    await client.publish(item.topic, item.payload, item.qos, item.retain)
                    while not waits.outbox.empty():  # a burst goes out without a wait per message
                        item = waits.outbox.get_nowait()
                        await client.publish(item.topic, item.payload, item.qos, item.retain)
                    take = asyncio.ensure_future(waits.outbox.get())
        finally:
            for waiter in (lost, stop, cut, resubscribe, take):
                waiter.cancel()

    async def _receive(self, client: aiomqtt.Client) -> None:
        """Hand each broker message to the subscription that selects it, until the connection ends:
        the message iterator then raises MqttError."""
        async for message in client.messages:
            payload = message.payload
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes | bytearray) else str(payload or "")
            for item in self._subscribed:
                if message.topic.matches(self.mqtt.subscribed_topic(item)):
                    self.mqtt.message_received(item, str(message.topic), text)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        """(Re)subscribe to the subscriptions of event.cgi; the previous ones are dropped."""
        wanted = self.mqtt.subscriptions
        old = {self.mqtt.subscribed_topic(item) for item in self._subscribed}
        new = {self.mqtt.subscribed_topic(item) for item in wanted}
        self._subscribed = wanted
        for topic in sorted(old - new):
            await client.unsubscribe(topic)
        for item in wanted:
            await client.subscribe(self.mqtt.subscribed_topic(item), qos=item.qos)

    @staticmethod
    def _drop(client: aiomqtt.Client) -> None:
        """Close the socket without DISCONNECT (power cut, network gone): the broker sends the will."""
        sock = client._client.socket()  # aiomqtt has no ungraceful close: its paho client's socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # -- events -------------------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        mqtt = self.mqtt
        for message in event_messages(event, mqtt.publication, mqtt.topic_prefix, self.device.serial):
            self._enqueue(message)

    def _enqueue(self, message: Outgoing) -> bool:
        if self._client is None:
            return False
        try:
            self._waits.outbox.put_nowait(message)
        except asyncio.QueueFull:
            LOG.warning("%s: MQTT outbox full, message dropped", self.device.serial)
            return False
        return True


def publish(device: Device, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False) -> bool:
    """Publish one message through a device's MQTT client (the rules' "MQTT publish" action);
    False when the device has no client or it is not connected."""
    mqtt = device.subsystems.get(MqttSubsystem.name)
    if not isinstance(mqtt, MqttSubsystem):
        return False
    return mqtt.send(topic, payload.encode() if isinstance(payload, str) else payload, qos, retain)
