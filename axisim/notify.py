"""HTTP(S) notifications of action rules: the `Notifier` the rules subsystem calls, with aiohttp.

The top layer installs it when a device is built (`install(device)`, from SimulatedDevice), so the
core never imports aiohttp. A notification is a task on the running loop: the device never waits
for it. A recipient that answers an error, refuses the connection or takes longer than
`TIMEOUT_S` is reported back through `failed(reason)`, which the rules subsystem writes to the
system log and publishes as ActionFailed.

Authentication as the manuals describe the recipient ("Username", "Password"): the request goes
out without credentials; a 401 with a Basic challenge is answered with Basic, a Digest one with
Digest (MD5, qop=auth) [INF: the manuals do not name the scheme]. HTTPS validates the server's
certificate unless the configuration's `validate_server_cert` is off.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp
import yarl

from .digest_client import authorization
from .subsystems.rules import Notification, RulesSubsystem

if TYPE_CHECKING:
    from .device import Device

LOG = logging.getLogger("axisim")
TIMEOUT_S = 10.0  # [GUESS] the device's notification timeout is not documented
USER_AGENT = "AXIS OS"  # [GUESS] what a device's notification client says it is


class HttpNotifier:
    """Sends each notification on the running event loop; one shared by every device of a process."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, notification: Notification, failed: Callable[[str], None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            failed("no network (the device is not served)")
            return
        task = loop.create_task(self._deliver(notification, failed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, notification: Notification, failed: Callable[[str], None]) -> None:
        try:
            status = await self._request(notification)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            failed(f"{notification.url}: {type(exc).__name__}: {exc}".rstrip(": "))
            return
        except Exception as exc:  # never let a recipient break the device
            LOG.exception("notification to %s failed", notification.url)
            failed(f"{notification.url}: {exc}")
            return
        if status >= 400:
            failed(f"{notification.url}: HTTP {status}")

    async def _request(self, notification: Notification) -> int:
        url = yarl.URL(notification.url, encoded=True)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("not an http(s) URL")
        headers = {"User-Agent": USER_AGENT, **dict(notification.headers)}
        ssl: bool | None = None if notification.verify else False
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        data = notification.body.encode() if notification.body else None
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.request(notification.method, url, headers=headers, data=data, ssl=ssl) as first:
                await first.read()
                challenge = first.headers.get("WWW-Authenticate", "")
                if first.status != 401 or not notification.login:
                    return first.status
            if challenge.startswith("Digest"):
                target = url.raw_path_qs
                headers["Authorization"] = authorization(
                    challenge, user=notification.login, password=notification.password, method=notification.method,
                    uri=target,
                )  # fmt: skip
            else:
                pair = f"{notification.login}:{notification.password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            async with session.request(notification.method, url, headers=headers, data=data, ssl=ssl) as second:
                await second.read()
                return second.status


SHARED = HttpNotifier()


def install(device: Device) -> None:
    """Let the device's rules send HTTP notifications (every model has the rules subsystem)."""
    rules = device.subsystems.get("rules")
    if isinstance(rules, RulesSubsystem):
        rules.notifier = SHARED
