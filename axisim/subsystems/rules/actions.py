"""What each action template does, through narrow calls on the device's other subsystems.

The rules subsystem imports no other subsystem (the independence contract): it finds them by word
in `device.subsystems` and calls the few methods the protocols below name. HTTP notifications and
MQTT publishing leave the device through what the top layer installs (the `Notifier`; the `mqtt`
subsystem's driver): the core never opens a socket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import unquote

from .definitions import Configuration


class ActionError(Exception):
    """An action that could not run; the reason goes to the system log and ActionFailed."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One HTTP(S) request a rule sends to its recipient (events.md §4.2 notification.http[s])."""

    url: str
    method: str = "GET"
    login: str = ""
    password: str = ""
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    verify: bool = True  # validate_server_cert (https)
    rule: str = ""


class Notifier(Protocol):
    """Sends a notification without blocking the device; calls `failed(reason)` if it does not arrive."""

    def send(self, notification: Notification, failed: Callable[[str], None]) -> None: ...


class MqttClient(Protocol):
    """What the rules use of the `mqtt` subsystem: publish one message now, False when not connected."""

    def send(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool: ...


class Outputs(Protocol):
    def output(self, number: int) -> str: ...  # what an output drives; refuses a port that is not one

    def run_action(self, text: str) -> None: ...


class Clips(Protocol):
    def play(self, clip: str | int | None = None, *, location: str | None = None, repeat: str | int = 0,
             volume: str | int = 100) -> int: ...  # fmt: skip

    def stop(self) -> None: ...

    def run_test(self) -> None: ...


class Phone(Protocol):
    def call(self, to: str, account_id: str | None = None) -> str: ...

    @property
    def calls(self) -> dict[str, Any]: ...  # call id -> a call with `direction` and `state`

    def answer(self, call_id: str) -> None: ...


class Recorder(Protocol):
    """What the rules use of the `storage` subsystem: start a recording, stop it (post-trigger time)."""

    def start_recording(self, disk_id: str, options: str = "", pre_seconds: float = 0.0) -> str: ...

    def stop_recording(self, recording_id: str, post_seconds: float = 0.0) -> None: ...


class Beacon(Protocol):
    """What the rules use of the `bluetooth` subsystem (the W401's "Broadcast signal")."""

    def broadcast(self, system_id: str, message_type: int) -> int: ...

    def stop_broadcast(self, handle: int) -> None: ...


@dataclass(slots=True)
class Running:
    """What an action left running: `stop` ends it (None: nothing to end); `seconds` (a fixed
    action's duration) stops it by itself."""

    what: str
    stop: Callable[[], None] | None = None
    seconds: float | None = None


ACTIVE_WORDS = {"active": True, "high": True, "1": True, "inactive": False, "low": False, "0": False}


class Actions:
    """Runs action configurations on one device."""

    def __init__(self, subsystems: dict[str, Any]) -> None:
        self.subsystems = subsystems
        self.notifier: Notifier | None = None  # installed by the top layer (axisim/notify.py)

    def _need(self, word: str) -> Any:
        subsystem = self.subsystems.get(word)
        if subsystem is None:
            raise ActionError(f"the device has no {word}")
        return subsystem

    def start(self, config: Configuration, rule: str, failed: Callable[[str], None]) -> Running:
        """Begin an action; ActionError when it cannot."""
        kind = config.token.removeprefix("com.axis.action.").partition(".")[2]  # fixed.io.toggle -> io.toggle
        unlimited = ".unlimited." in config.token
        try:
            if kind == "io.toggle":
                return self._toggle(config, unlimited)
            if kind == "play.audioclip":
                return self._play(config, unlimited)
            if kind == "stop.audioclip":
                cast(Clips, self._need("audio")).stop()
                return Running("stopped the audio clip")
            if kind == "speakertest":
                cast(Clips, self._need("audio")).run_test()
                return Running("started the speaker test")
            if kind == "sip.answer":
                return self._answer(cast(Phone, self._need("sip")))
            if kind == "sip":
                to = config.value("to_sip_address")
                call_id = cast(Phone, self._need("sip")).call(to, config.value("from_sip_account") or None)
                return Running(f"called {to} (call {call_id})")
            if kind in ("notification.http", "notification.https"):
                return self._notify(config, rule, failed)
            if kind == "mqttpublish":
                return self._publish(config)
            if kind == "recording.storage":
                return self._record(config)
            if kind == "bluetooth.broadcast":
                return self._broadcast(config)
        except ActionError:
            raise
        except Exception as exc:  # the subsystem refused (no such port, clip, account): the action failed
            raise ActionError(str(exc) or type(exc).__name__) from exc
        raise ActionError(f"{config.token} is not supported by axisim")

    def _toggle(self, config: Configuration, unlimited: bool) -> Running:
        outputs = cast(Outputs, self._need("io"))
        index, state = config.value("port"), config.value("state").lower()
        if not index.isdigit() or state not in ACTIVE_WORDS:
            raise ActionError(f"invalid port {index!r} or state {state!r}")
        number, on = int(index) + 1, ACTIVE_WORDS[state]  # the template's port is IOPort.I#, 0-based
        outputs.output(number)  # an input, or no such port: the action fails
        mark, back = ("/", "\\") if on else ("\\", "/")
        outputs.run_action(f"{number}:{mark}")
        what = f"set I/O port {index} {'active' if on else 'inactive'}"
        if unlimited:
            return Running(what, lambda: outputs.run_action(f"{number}:{back}"))
        seconds = _number(config.value("duration", "0"))
        if seconds:
            return Running(f"{what} for {seconds:g} s", lambda: outputs.run_action(f"{number}:{back}"), seconds)
        return Running(what)

    def _answer(self, phone: Phone) -> Running:
        ringing = [c.id for c in phone.calls.values() if c.direction == "Incoming" and c.state == "Calling"]
        if not ringing:
            raise ActionError("no incoming call is ringing")
        phone.answer(ringing[0])
        return Running(f"answered call {ringing[0]}")

    def _play(self, config: Configuration, unlimited: bool) -> Running:
        clips = cast(Clips, self._need("audio"))
        location = unquote(config.value("location"))
        repeat = "-1" if unlimited else (config.value("repeat") or "0")
        clips.play(location=location, repeat=repeat, volume=config.value("volume") or "100")
        return Running(f"played {location}", clips.stop if unlimited else None)

    def _notify(self, config: Configuration, rule: str, failed: Callable[[str], None]) -> Running:
        url = config.value("upload_url")
        query = config.value("parameters")
        if query:
            url += ("&" if "?" in url else "?") + query.lstrip("?")
        headers = tuple(
            (name.strip(), value.strip())
            for line in config.value("http_headers").replace("\r", "\n").split("\n")
            if ":" in line for name, _, value in [line.partition(":")]
        )  # fmt: skip
        method = (config.value("method") or ("POST" if config.value("body") else "GET")).upper()
        notification = Notification(
            url, method, config.value("login"), config.value("password"),
            config.value("body") or config.value("message"), headers,
            config.value("validate_server_cert", "1").lower() not in ("0", "no", "false"), rule,
        )  # fmt: skip
        if self.notifier is None:
            raise ActionError("no network to send the notification on")
        self.notifier.send(notification, failed)
        return Running(f"sent an HTTP notification to {url}")

    def _publish(self, config: Configuration) -> Running:
        client: MqttClient = self._need("mqtt")
        topic, payload = config.value("Topic"), config.value("Payload")
        qos = int(_number(config.value("QoS", "0")))
        if not client.send(topic, payload.encode(), qos, config.value("Retained").lower() in ("1", "yes", "true")):
            raise ActionError("the MQTT client is not connected")
        return Running(f"published to MQTT topic {topic}")


    def _record(self, config: Configuration) -> Running:
        recorder = cast(Recorder, self._need("storage"))
        disk_id = config.value("storage_id")
        pre, post = _number(config.value("pre_duration")) / 1000, _number(config.value("post_duration")) / 1000
        recording = recorder.start_recording(disk_id, unquote(config.value("stream_options")), pre)
        return Running(f"recording {recording} to {disk_id}", lambda: recorder.stop_recording(recording, post))


    def _broadcast(self, config: Configuration) -> Running:
        beacon = cast(Beacon, self._need("bluetooth"))
        system_id, message_type = config.value("system_id"), config.value("message_type")
        if not (message_type.isascii() and message_type.isdigit()):
            raise ActionError(f"invalid message type {message_type!r}")
        handle = beacon.broadcast(system_id, int(message_type))
        what = f"broadcast Bluetooth beacon System ID {system_id}, message type {message_type}"
        return Running(what, lambda: beacon.stop_broadcast(handle))


def _number(text: str) -> float:
    try:
        value = float(text or "0")
    except ValueError as exc:
        raise ActionError(f"invalid number {text!r}") from exc
    if not 0 <= value < 1e9:
        raise ActionError(f"invalid number {text!r}")
    return value
