"""Record each built-in model from a served axisim, serve the recording, and run the same client checks
against both (issue 23, "Tests"): the recorded requests get identical replies, param.cgi behaves
identically, and the `axis` library (Home Assistant's client) sets up the same way on both.

Both devices are served with the same identity (the built-in model's seed, index 0, 127.0.0.1), so
"modulo identity" is exact: the recorded device's replies carry the placeholder identity, which the
replay replaces with the served device's (/work/record-format.md "Identity forms"); what is left to
normalise is what changes between any two requests to one device (`VOLATILE`: boot id, clock,
the listening port a parameter reports, a Digest nonce).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from axis.device import AxisDevice
from axis.models.configuration import Configuration

from axisim.device import default_seed
from axisim.model import SOURCES, add_fixture
from axisim.record import Options, record
from axisim.simulated import DeviceSpec, SimulatedDevice
from tests.conftest import MODELS, Reply, digest_request

ROOT = ("root", "pass")
VOLATILE = [
    (re.compile(rb'"bootid": "[^"]*"'), b'"bootid": "<boot>"'),
    (re.compile(rb'"uptime": "\d+"'), b'"uptime": "<uptime>"'),
    (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), b"<time>"),
    (re.compile(rb'(name="(?:BoaPort|Port)" value=")\d+'), rb"\1<port>"),
    (re.compile(rb"(root\.(?:System\.BoaPort|HTTPS\.Port|Network\.RTSP\.Port))=\d+"), rb"\1=<port>"),
    (re.compile(rb'nonce="[^"]*"'), b'nonce="<nonce>"'),
]


def normalised(body: bytes) -> bytes:
    for pattern, replacement in VOLATILE:
        body = pattern.sub(replacement, body)
    return body


@dataclass
class Pair:
    built_in: SimulatedDevice
    recorded: SimulatedDevice
    folder: Path


@asynccontextmanager
async def recorded_pair(model: str, tmp_path: Path) -> AsyncIterator[Pair]:
    """The built-in `model` served, recorded with `axisim record`, and the recording served beside it
    with the same identity."""
    built_in = SimulatedDevice(DeviceSpec(model=model))
    await built_in.start()
    try:
        stderr = io.StringIO()
        status = await record(Options(url=built_in.url, user="root", password="pass", out=tmp_path,
                                      model_id=f"{model}Rec", err=stderr, out_stream=io.StringIO()))  # fmt: skip
        assert status == 0, stderr.getvalue()
        folder = tmp_path / f"{model}Rec"
        add_fixture(folder)
        try:
            recorded = SimulatedDevice(DeviceSpec(model=f"{model}Rec", seed=default_seed(model)))
            assert recorded.serial == built_in.serial
            await recorded.start()
            try:
                built_in.journal.clear()
                yield Pair(built_in, recorded, folder)
            finally:
                await recorded.stop()
        finally:
            SOURCES.remove(folder)
    finally:
        await built_in.stop()


async def ask(session: aiohttp.ClientSession, url: str, entry: dict[str, Any], auth: Any = ROOT) -> Reply:
    target = entry["path"] + ("?" + entry["query"] if entry["query"] else "")
    options: dict[str, Any] = {}
    if entry["request_body"]:
        options = {"data": entry["request_body"].encode(), "headers": {"Content-Type": entry["request_content_type"]}}
    return await digest_request(session, entry["method"], url + target, auth, **options)


def same(a: Reply, b: Reply) -> bool:
    kept = ("Content-Type", "Content-Disposition")
    return (
        a.status == b.status
        and normalised(a.body) == normalised(b.body)
        and all(a.headers.get(h) == b.headers.get(h) for h in kept)
    )


@pytest.mark.parametrize("model", MODELS)
async def test_every_recorded_request_gets_the_same_reply_from_both(model: str, tmp_path: Path) -> None:
    async with recorded_pair(model, tmp_path) as pair:
        index = json.loads((pair.folder / "replies" / "index.json").read_text())
        differ = []
        async with aiohttp.ClientSession() as session:
            for entry in index:
                a = await ask(session, pair.built_in.url, entry)
                b = await ask(session, pair.recorded.url, entry)
                if not same(a, b):
                    differ.append((entry["method"], entry["path"], entry["request_body"], a.status, b.status,
                                   normalised(a.body)[:400], normalised(b.body)[:400]))  # fmt: skip
        unsupported = pair.recorded.journal.unsupported()
    assert differ == []
    assert unsupported == []
    assert len(index) > 30


PARAM = "/axis-cgi/param.cgi"
PARAM_ASKS: list[tuple[str, dict[str, str], tuple[str, str] | None]] = [
    ("GET", {"action": "list"}, ROOT),
    ("GET", {"action": "list", "group": "root.Brand,Properties.System,root.NoSuchGroup"}, ROOT),
    ("GET", {"action": "list", "group": "Network.*.HostName"}, ROOT),
    ("GET", {"action": "list", "group": "root.Network"}, ("eye", "eye")),  # what a viewer may read
    ("POST", {"action": "listdefinitions", "listformat": "xmlschema", "group": "root.Brand,root.HTTPS"}, ROOT),
    ("POST", {"action": "update", "Network.UPnP.FriendlyName": "Lobby"}, ROOT),
    ("POST", {"action": "update", "System.BoaProtViewer": "maybe"}, ROOT),  # not one of the bool's values
    ("POST", {"action": "update", "No.Such.Param": "1"}, ROOT),
    ("POST", {"action": "update", "Brand.ProdNbr": "X"}, ROOT),  # read-only
    ("POST", {"action": "update", "Network.UPnP.FriendlyName": "Op"}, ("eye", "eye")),  # a viewer may not
    ("GET", {"action": "list", "group": "root.Network.UPnP"}, ROOT),
    ("GET", {"action": "nonsense"}, ROOT),
]


@pytest.mark.parametrize("model", MODELS)
async def test_param_cgi_behaves_the_same_on_both(model: str, tmp_path: Path) -> None:
    accounts = ("eye", "eye", "viewer")
    async with recorded_pair(model, tmp_path) as pair:
        for device in (pair.built_in, pair.recorded):
            device.device.accounts.add(*accounts)
        replies: list[list[tuple[int, bytes]]] = []
        async with aiohttp.ClientSession() as session:
            for device in (pair.built_in, pair.recorded):
                got = []
                for method, form, auth in PARAM_ASKS:
                    options = {"params": form} if method == "GET" else {"data": form}
                    reply = await digest_request(session, method, device.url + PARAM, auth, **options)
                    got.append((reply.status, normalised(reply.body)))
                replies.append(got)
        after = [device.device.params.changes() for device in (pair.built_in, pair.recorded)]
    for (method, form, _), a, b in zip(PARAM_ASKS, *replies, strict=True):
        assert a == b, (method, form)
    assert after[0] == after[1]
    assert after[0]["values"] == {"Network.UPnP.FriendlyName": "Lobby"}  # the one valid update, on both


@pytest.mark.integration
@pytest.mark.parametrize("model", MODELS)
async def test_the_axis_library_sets_up_the_same_on_both(model: str, tmp_path: Path) -> None:
    async with recorded_pair(model, tmp_path) as pair:
        seen = [await _library_view(device) for device in (pair.built_in, pair.recorded)]
        unsupported = pair.recorded.journal.unsupported()
        asked = [sorted({(e.method, e.path) for e in d.journal.entries()}) for d in (pair.built_in, pair.recorded)]
    assert seen[0] == seen[1]
    assert seen[0]["serial"] == pair.built_in.serial
    assert asked[0] == asked[1]
    assert unsupported == []


async def _library_view(device: SimulatedDevice) -> dict[str, Any]:
    """What the library made of the device after its whole setup."""
    async with httpx.AsyncClient() as session:
        config = Configuration(session, "127.0.0.1", port=device.port, username="root", password="pass")
        axis = AxisDevice(config)
        await axis.vapix.initialize()
        await axis.vapix.initialize_users()
        await axis.vapix.load_user_groups()
        await axis.vapix.initialize_event_instances()
        vapix = axis.vapix
        return {
            "serial": vapix.serial_number, "product": vapix.product_number, "type": vapix.product_type,
            "firmware": vapix.firmware_version, "apis": sorted(vapix.api_discovery.keys()),
            "users": sorted(vapix.users.keys()), "access": vapix.access_rights,
            "ports": sorted((k, p.direction, p.state) for k, p in vapix.ports.items()),
            "events": sorted((e.topic, e.source) for e in vapix.event_instances.values()),
            "mqtt": vapix.mqtt.initialized if "mqtt-client" in vapix.api_discovery else None,
        }  # fmt: skip
