"""Shared fixtures: a simulated device behind aiohttp's test client, with Digest login."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from axisim.device import DEFAULT_ACCOUNT, Device, make_device
from axisim.device_runner import DeviceRunner
from axisim.digest_client import authorization
from axisim.pipeline import build_app
from tests.mqtt_broker import broker, subscriber  # noqa: F401 - the MQTT tests' Mosquitto broker and subscriber fixtures

ROOT = ("root", "pass")
MODELS = ["S3008", "S3016", "S4000", "C1410MkII", "W401"]


class DeviceClient:
    """Sends requests as a given account, answering Digest challenges like curl --digest."""

    def __init__(self, client: TestClient, device: Device) -> None:
        self.client = client
        self.device = device

    async def request(
        self, method: str, path: str, *, auth: tuple[str, str] | None = ROOT, **kwargs: Any
    ) -> ClientResponse:
        response = await self.client.request(method, path, **kwargs)
        if response.status != 401 or auth is None:
            return response
        challenge = response.headers.get("WWW-Authenticate", "")
        if not challenge.startswith("Digest"):
            return response
        await response.read()
        headers = dict(kwargs.pop("headers", {}) or {})
        uri = response.request_info.url.raw_path_qs  # the request-target exactly as sent
        headers["Authorization"] = authorization(challenge, user=auth[0], password=auth[1], method=method, uri=uri)
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def text(self, method: str, path: str, **kwargs: Any) -> str:
        response = await self.request(method, path, **kwargs)
        assert response.status == 200, (response.status, await response.text())
        return await response.text()


async def connection_refused(url: str) -> bool:
    """A fresh connection to a served device is refused (it is down, off or rebooting)."""
    try:
        async with aiohttp.ClientSession() as fresh, fresh.get(url, timeout=aiohttp.ClientTimeout(total=2)):
            return False
    except aiohttp.ClientConnectorError:
        return True


DeviceClientFactory = Callable[..., Awaitable[DeviceClient]]


class DeviceTestServer(TestServer):
    """aiohttp's test server with the connections `axisim serve` makes (DeviceRunner): the tests
    see the device's Server header, timeouts and body handling."""

    async def _make_runner(self, **kwargs: Any) -> DeviceRunner:
        return DeviceRunner(self.app, **kwargs)


@pytest.fixture
def device_client(aiohttp_client: Any) -> DeviceClientFactory:
    """Factory: `await device_client("S3008", accounts=[...])` -> DeviceClient."""

    async def make(model: str = "S3008", **options: Any) -> DeviceClient:
        options.setdefault("accounts", [DEFAULT_ACCOUNT])
        device = make_device(model, **options)
        client = await aiohttp_client(DeviceTestServer(build_app(device)))
        return DeviceClient(client, device)

    return make


@dataclass
class Reply:
    """What a client got from a listening device: the final answer, and the first answer's challenge."""

    status: int
    headers: dict[str, str]
    body: bytes
    challenge: str = ""  # the WWW-Authenticate of the first, unauthenticated answer

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


async def digest_request(
    session: aiohttp.ClientSession, method: str, url: str, auth: tuple[str, str] | None = None, **kwargs: Any
) -> Reply:
    """One request to a listening device as curl --digest sends it: unauthenticated first, then the
    answer to the challenge (the request-target exactly as sent)."""
    async with session.request(method, url, **kwargs) as first:
        body = await first.read()
        challenge = first.headers.get("WWW-Authenticate", "")
        if first.status != 401 or auth is None or not challenge.startswith("Digest"):
            return Reply(first.status, dict(first.headers), body, challenge)
        uri = first.request_info.url.raw_path_qs
    header = authorization(challenge, user=auth[0], password=auth[1], method=method, uri=uri)
    headers = {**kwargs.pop("headers", {}), "Authorization": header}
    async with session.request(method, url, headers=headers, **kwargs) as second:
        return Reply(second.status, dict(second.headers), await second.read(), challenge)
