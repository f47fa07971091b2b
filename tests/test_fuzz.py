"""Bounded fuzzing of every endpoint of every model, and of the control API (issue 16).

Every route a model serves (from `cgi_handlers.ROUTES`, filtered as `build_app` filters it)
and every control API route (from its router) gets hypothesis-generated requests, as an
administrator (Digest) and anonymously: query keys the handler reads mixed with hostile
values, JSON bodies (valid envelopes with the API's method names and random params, deep
nesting, NaN, huge numbers, wrong top-level types), malformed multipart bodies, odd
Content-Type and Content-Encoding headers; then a systematic table of the known hostile
values over every endpoint and parameter. After each request: no 5xx, nothing logged at
ERROR by axisim or aiohttp, the device still answers, and a refused request changed no
parameter or account. Reproducible: derandomized, no example database, a fixed budget.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import aiohttp
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from yarl import URL

from axisim.control.http import build_control_app, start_control
from axisim.device import Device
from axisim.digest_client import authorization
from axisim.fleet import Fleet
from axisim.lifecycle import State
from axisim.logs import Actor
from axisim.model import SOURCES, model_ids
from axisim.simulated import DeviceSpec, SimulatedDevice
from axisim.subsystems.firewall import FirewallSubsystem
from cgi_handlers import certificate_service, webserver_service
from tests.fuzz_corpus import (
    CONTENT_ENCODINGS,
    CONTENT_TYPES,
    HOSTILE_QUERY_VALUES,
    REPLAYED,
    Endpoint,
    deep_json,
    endpoints,
    malformed_multipart,
    one_model_each,
)

# the built-in models and a recorded one (its replayed paths too): a model folder of its own, among the
# model sources while this module collects and runs (the bench fixture), never beyond
RECORDED = Path(__file__).resolve().parent / "data" / "recorded" / "M3106LVEMkII"
with SOURCES.using(folders=[RECORDED]):
    MODELS = model_ids()
    ENDPOINTS = endpoints(MODELS)
EXAMPLES_PER_ENDPOINT = 12  # x ~245 endpoints: the module stays around a minute on two cores
ROOT = ("root", "pass")
TIMEOUT = aiohttp.ClientTimeout(total=15)
HEALTH = "/axis-cgi/basicdeviceinfo.cgi"
HEALTH_BODY = b'{"apiVersion":"1.0","method":"getAllUnrestrictedProperties"}'
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_ENDPOINT,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure's example is reported as found, in bounded time
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# -- the bench: one device per model and the control API, on loopback -----------------------------


class ErrorLog(logging.Handler):
    """Collects ERROR records of axisim and aiohttp (a traceback is a simulator bug)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("axisim", "aiohttp"):
            self.records.append(record)

    def take(self) -> list[str]:
        taken = [f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
                 for r in self.records]  # fmt: skip
        self.records.clear()
        return taken


@dataclass
class Request:
    """One fuzz request, printable as the reproduction hypothesis reports."""

    method: str
    target: str  # path and raw query, exactly as sent
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    admin: bool = True

    def __repr__(self) -> str:
        body = self.body if self.body is None or len(self.body) < 300 else self.body[:300] + b"..."
        target = self.target if len(self.target) < 300 else self.target[:300] + "..."
        return f"Request({self.method} {target} admin={self.admin} headers={self.headers} body={body!r})"


@dataclass
class Reply:
    status: int
    body: bytes


class Bench:
    """A fleet with one device of each model, its control API, and a client session, on one loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.errors = ErrorLog()
        self.baseline: dict[str, tuple[Device, Any]] = {}
        self.fleet = Fleet([DeviceSpec(model=model, index=i) for i, model in enumerate(MODELS)])
        self.run(self._start())

    async def _start(self) -> None:
        await self.fleet.start()
        self.control_runner, port = await start_control(self.fleet, "127.0.0.1", 0)
        self.control_url = f"http://127.0.0.1:{port}"
        # a new connection per request: a restart's listener shutdown then never waits for idle keep-alives
        self.session = aiohttp.ClientSession(timeout=TIMEOUT, connector=aiohttp.TCPConnector(force_close=True))

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        async def stop() -> None:
            await self.session.close()
            await self.control_runner.cleanup()
            await self.fleet.stop()

        self.run(stop())
        self.loop.close()

    def device(self, model: str) -> SimulatedDevice:
        return next(d for d in self.fleet if d.device.model.id == model)

    async def send(self, base: str, request: Request, device: Device | None = None) -> Reply:
        headers = dict(request.headers)
        if request.admin and device is not None:
            challenge = device.digest.challenge()
            headers["Authorization"] = authorization(
                challenge, user=ROOT[0], password=ROOT[1], method=request.method, uri=request.target
            )
        url = URL(base + request.target, encoded=True)
        async with self.session.request(
            request.method, url, data=request.body, headers=headers, skip_auto_headers=("Content-Type",)
        ) as response:
            return Reply(response.status, await response.read())

    def usable(self, sim: SimulatedDevice) -> bool:
        """Ready, reachable, linked, and root still logs in with the password this test knows
        (a fuzz request may legitimately restart, power off, factory-default or change root)."""
        device = sim.device
        if self.baseline.get(sim.serial, (None,))[0] is not device:  # a new device (a reset): its root is the known one
            self.baseline[sim.serial] = (device, copy.copy(device.accounts.accounts.get(ROOT[0])))
        root = self.baseline[sim.serial][1]
        return (
            sim.reachable
            and device.lifecycle.state is State.READY
            and device.link_up
            and device.schemes(False).digest
            and device.accounts.accounts.get(ROOT[0]) == root
        )

    async def healthy(self, sim: SimulatedDevice) -> None:
        """Back to a usable device, without faults; a reset (a factory-new device on the same port) otherwise."""
        await sim.wait_ready(10)
        sim.clear_faults()
        if not self.usable(sim):
            await sim.reset()
            await sim.wait_ready(10)


@pytest.fixture(scope="module")
def recorded() -> Iterator[None]:
    with SOURCES.using(folders=[RECORDED]):
        yield


@pytest.fixture(scope="module")
def bench(recorded: None) -> Iterator[Bench]:
    made = Bench()
    logging.getLogger().addHandler(made.errors)
    try:
        yield made
    finally:
        logging.getLogger().removeHandler(made.errors)
        made.close()


# -- what counts as a refusal, and what it must not change -----------------------------------------

_REFUSAL_MARKS = (b"# Error", b"# Request failed", b"Error:", b"<GeneralError", b'"error"', b"<Error", b"Fault")


def refused(reply: Reply) -> bool:
    return reply.status >= 400 or any(mark in reply.body[:4096] for mark in _REFUSAL_MARKS)


def snapshot(device: Device) -> tuple[Any, ...]:
    return (dict(device.params.changes()["values"]), sorted(device.accounts.accounts))


async def exercise(bench: Bench, sim: SimulatedDevice, request: Request) -> None:
    """One request and every check that follows it; AssertionError names what went wrong."""
    await bench.healthy(sim)
    bench.errors.take()
    device = sim.device
    assert device.lifecycle.state is State.READY
    before = snapshot(device)
    reply = await bench.send(sim.url, request, device)
    assert reply.status < 500, f"{reply.status} for {request!r}: {reply.body[:500]!r}"
    logged = bench.errors.take()
    assert not logged, f"logged an error for {request!r}: {logged}"
    if refused(reply) and sim.device is device:
        assert snapshot(device) == before, f"a refused request changed the state: {request!r} -> {reply.body[:300]!r}"
    await sim.wait_ready(10)
    # failed logins by the hundred (the fuzzer's admin after a factory default removed it) block the
    # bench's address: brute-force blocking at work (axisim/dos_guard.py), not a device that broke
    sim.clear_blocks()
    firewall = device.subsystems.get("firewall")
    if isinstance(firewall, FirewallSubsystem) and firewall.activated:  # a fuzzed rule set may lock the bench out
        firewall.set_activated(False, Actor("fuzz"))
    if sim.reachable and device.lifecycle.state is State.READY and device.link_up:
        health = await bench.send(sim.url, Request("POST", HEALTH, HEALTH_BODY, admin=False), device)
        assert health.status == 200, f"the device stopped answering after {request!r}: {health.status}"
    assert not bench.errors.take(), f"logged an error after {request!r}"


# -- strategies -------------------------------------------------------------------------------------

_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20)
)
json_values = st.recursive(
    _json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


def encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def query_values(endpoint: Endpoint) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_QUERY_VALUES),
        st.sampled_from(endpoint.words or ("x",)).map(encoded),
        st.text(max_size=30).map(encoded),
        st.binary(max_size=20).map(lambda raw: quote(raw, safe="")),
        st.integers().map(str),
    )


def queries(endpoint: Endpoint) -> st.SearchStrategy[str]:
    keys = st.one_of(
        st.sampled_from(endpoint.keys or ("action",)),
        st.sampled_from(("action", "%FF", "", "a_b", "x" * 100, "%00")),
    )
    pairs = st.lists(st.tuples(keys, query_values(endpoint)), max_size=6)
    actions = st.sampled_from(("", *(f"action={encoded(a)}&" for a in endpoint.actions)))
    return st.builds(lambda action, items: action + "&".join(f"{k}={v}" for k, v in items), actions, pairs)


def json_bodies(endpoint: Endpoint) -> st.SearchStrategy[bytes]:
    names = endpoint.actions + endpoint.words if endpoint.actions else endpoint.words or ("x",)
    envelope = st.fixed_dictionaries(
        {
            "apiVersion": st.one_of(st.sampled_from(("1.0", "1", "1.3", "2.0", "99.0", "", "1.x")), json_values),
            "method": st.one_of(st.sampled_from(names), json_values),
        },
        optional={
            "params": st.one_of(st.dictionaries(st.sampled_from(endpoint.keys or names), json_values), json_values),
            "context": json_values,
        },
    )
    command = st.builds(  # /vapix services: {"axcall:<Command>": {...}}
        lambda ns, name, message: {f"{ns}:{name}": message},
        st.sampled_from(("axcall", "axast", "x")), st.sampled_from(names), json_values,
    )  # fmt: skip
    word = st.sampled_from(names)
    member = st.one_of(
        json_values, word, st.lists(st.dictionaries(word, st.one_of(json_values, word), max_size=5), max_size=3)
    )
    dca = st.fixed_dictionaries(  # the Device Configuration APIs' {"data": ...}, with the API's own names
        {"data": st.one_of(json_values, word, st.dictionaries(word, member, max_size=4))}
    )
    documents = st.one_of(envelope, command, dca, json_values)
    return st.one_of(
        documents.map(lambda document: json.dumps(document, allow_nan=True).encode()),
        st.sampled_from(list(deep_json().values())),
    )


def bodies(endpoint: Endpoint) -> st.SearchStrategy[tuple[bytes | None, dict[str, str]]]:
    content_types = st.sampled_from(CONTENT_TYPES)
    plain = st.tuples(st.none(), st.just({}))
    form = st.tuples(queries(endpoint).map(str.encode), st.builds(lambda t: {"Content-Type": t}, content_types))
    raw = st.tuples(st.binary(max_size=64), st.builds(lambda t: {"Content-Type": t}, content_types))
    encoded_body = st.tuples(
        st.binary(max_size=32),
        st.builds(lambda e: {"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": e},
                  st.sampled_from(CONTENT_ENCODINGS)),
    )  # fmt: skip
    choices = [plain, form, raw, encoded_body]
    if endpoint.json:
        choices.append(st.tuples(json_bodies(endpoint), st.just({"Content-Type": "application/json"})))
    if endpoint.multipart or endpoint.json:
        multipart = st.sampled_from(list(malformed_multipart().values()))
        choices.append(st.tuples(multipart, st.just({"Content-Type": "multipart/form-data; boundary=B"})))
    return st.one_of(*choices)


def requests(endpoint: Endpoint) -> st.SearchStrategy[Request]:
    methods = st.one_of(st.sampled_from(endpoint.methods), st.sampled_from(("PUT", "DELETE", "PATCH", "OPTIONS")))

    def build(method: str, query: str, body: tuple[bytes | None, dict[str, str]], admin: bool) -> Request:
        target = endpoint.path + (f"?{query}" if query else "")
        content, headers = body if method != "GET" else (None, {})
        return Request(method, target, content, headers, admin)

    return st.builds(build, methods, queries(endpoint), bodies(endpoint), st.booleans())


# -- the tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_random_requests(bench: Bench, endpoint: Endpoint) -> None:
    sim = bench.device(endpoint.model)

    @FUZZ_SETTINGS
    @given(request=requests(endpoint))
    def one(request: Request) -> None:
        bench.run(exercise(bench, sim, request))

    one()


def systematic(endpoint: Endpoint) -> Iterator[Request]:
    """Every hostile value on every key the endpoint reads (with its actions in turn), the hostile
    JSON bodies on JSON endpoints, the malformed multipart bodies on upload endpoints."""
    bases = ["", *(f"action={encoded(a)}&" for a in endpoint.actions)]
    keys = [k for k in endpoint.keys if k != "action"] or ["x"]
    for i, value in enumerate(HOSTILE_QUERY_VALUES):
        spread = "&".join(f"{encoded(k)}={value}" for k in keys)
        yield Request(endpoint.methods[0], f"{endpoint.path}?{bases[i % len(bases)]}{spread}"[:7000])
        yield Request(
            endpoint.methods[0], f"{endpoint.path}?action={value}", admin=i % 2 == 0 or not endpoint.anonymous
        )
    for i, key in enumerate(keys):  # a valid value and a refused one for one key: a refused request changes nothing
        base = bases[i % len(bases)] if "action=update&" not in bases else "action=update&"
        yield Request(endpoint.methods[0], f"{endpoint.path}?{base}{encoded(key)}=yes&{encoded(key)}=NaN")
        yield Request(endpoint.methods[0], f"{endpoint.path}?{base}{encoded(key)}=1&{encoded(key)}=%FF")
    for base in bases[1:]:  # the sharpest values under every action
        for value in HOSTILE_QUERY_VALUES[:4]:
            spread = "&".join(f"{encoded(k)}={value}" for k in keys)
            yield Request(endpoint.methods[0], f"{endpoint.path}?{base}{spread}")
    post = "POST" in endpoint.methods
    if post and endpoint.json:
        for body in deep_json().values():
            yield Request(
                "POST", endpoint.path, body, {"Content-Type": "application/json"}, admin=not endpoint.anonymous
            )
    if post and (endpoint.multipart or endpoint.json):
        for body in malformed_multipart().values():
            for query in ("", "?action=upload&media=audio"):
                yield Request("POST", endpoint.path + query, body, {"Content-Type": "multipart/form-data; boundary=B"})
    if post:
        for encoding in CONTENT_ENCODINGS:
            yield Request("POST", endpoint.path, b"\x00\xffnot compressed", {"Content-Encoding": encoding})


@pytest.mark.parametrize("endpoint", one_model_each(ENDPOINTS), ids=lambda e: e.id)
def test_systematic_hostile_values(bench: Bench, endpoint: Endpoint) -> None:
    sim = bench.device(endpoint.model)
    failures = []
    for request in systematic(endpoint):
        try:
            bench.run(exercise(bench, sim, request))
        except (AssertionError, aiohttp.ClientError, TimeoutError) as exc:
            failures.append(f"{exc!s:.600}" if isinstance(exc, AssertionError) else f"{exc!r} for {request!r}")
    assert not failures, f"{len(failures)} failing requests:\n" + "\n".join(failures[:10])


# -- SOAP operations (/vapix/services): the certificate and web server services -----------------------

SOAP_SERVICES = {**certificate_service.OPERATIONS, **webserver_service.OPERATIONS}
SOAP_WORDS = (
    "CertificateID", "Certificate", "Data", "PrivateKey", "Id", "Subject", "CN", "C", "O", "KeyType", "Password",
    "ValidNotBefore", "ValidNotAfter", "NVTCertificate", "CACertificate", "CertificateWithPrivateKey", "Status",
    "CertificateStatus", "CertSetName", "Configuration", "Tls", "ConnectionPolicies", "Admin", "CertificateSet",
    "Certificates", "Ciphers", "Cipher",
)  # fmt: skip
SOAP_VALUES = (
    "", "x", "true", "false", "NaN", "RSA-4096", "NIST-P256", "WebServer", "Https", "2030-01-01T00:00:00Z", "soon",
    "Self-signed HTTPS", "A" * 3000, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "AAAA", "====",
    "CN=x,O=y", "CN=", "\u202e\U0001f4a9", "&amp;&lt;", "x" * 200,
)  # fmt: skip


def soap_elements(depth: int) -> st.SearchStrategy[str]:
    names = st.sampled_from(SOAP_WORDS)
    prefixes = st.sampled_from(("tds:", "tt:", "acert:", "acertificates:", "aweb:", ""))
    texts = st.one_of(st.sampled_from(SOAP_VALUES).map(escape), st.text(max_size=20).map(escape))
    inner = texts if depth == 0 else st.one_of(texts, st.lists(soap_elements(depth - 1), max_size=3).map("".join))
    return st.builds(lambda p, n, content: f"<{p}{n}>{content}</{p}{n}>", prefixes, names, inner)


def soap_requests(namespace: str, name: str) -> st.SearchStrategy[Request]:
    declared = (
        'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:acert="http://www.axis.com/vapix/ws/cert" '
        'xmlns:acertificates="http://www.axis.com/vapix/ws/certificates" '
        'xmlns:aweb="http://www.axis.com/vapix/ws/webserver"'
    )

    def build(children: list[str], admin: bool) -> Request:
        body = (f"<s:Envelope {declared}><s:Body><op:{name} xmlns:op=\"{namespace}\">{''.join(children)}"
                f"</op:{name}></s:Body></s:Envelope>")  # fmt: skip
        headers = {"Content-Type": "application/soap+xml"}
        return Request("POST", "/vapix/services", body.encode("utf-8", "surrogatepass"), headers, admin)

    return st.builds(build, st.lists(soap_elements(2), max_size=4), st.booleans())


@pytest.mark.parametrize(("namespace", "name"), sorted(SOAP_SERVICES), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_certificate_soap_operations(bench: Bench, namespace: str, name: str) -> None:
    """Random children under each operation: no 5xx, no error logged, and a fault changes no certificate."""
    sim = bench.device("S3008")

    async def check(request: Request) -> None:
        await bench.healthy(sim)
        bench.errors.take()
        store = sim.device.certificates
        before = store.to_state()
        reply = await bench.send(sim.url, request, sim.device)
        assert reply.status < 500, f"{reply.status} for {request!r}: {reply.body[:500]!r}"
        assert not bench.errors.take(), f"logged an error for {request!r}"
        if refused(reply):
            assert store.to_state() == before, f"a refused request changed the certificates: {request!r}"
        await exercise(bench, sim, Request("POST", HEALTH, HEALTH_BODY, admin=False))  # still answering

    @FUZZ_SETTINGS
    @given(request=soap_requests(namespace, name))
    def one(request: Request) -> None:
        bench.run(check(request))

    one()


# -- the control API --------------------------------------------------------------------------------

CONTROL_WORDS = (
    "path", "query", "status", "body", "content_type", "latency_ms", "jitter_ms", "drop", "hang", "count",
    "port", "state", "input", "level", "seconds", "on", "off", "plug", "unplug", "link",
)  # fmt: skip


# the query parameters the control API reads (the site page's listing, journal and parameters among them)
CONTROL_QUERY_NAMES = ("limit", "offset", "q", "status", "faulted", "since", "topic", "rule", "group", "heartbeat")
STREAMING_ROUTES = {("GET", "/devices/{device}/events/feed")}  # never complete: fuzzed in test_control_events.py


def control_routes() -> list[tuple[str, str]]:
    app = build_control_app(Fleet([]))
    routes = {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    return sorted(routes - STREAMING_ROUTES)


def control_requests(method: str, path: str) -> st.SearchStrategy[Request]:
    fillers = st.one_of(st.sampled_from(("0", "1", "4", "5", "-1", "%FF", "%C2%B2", "9" * 5000, "x")),
                        st.text(max_size=10).map(encoded))  # fmt: skip
    json_document = st.one_of(
        st.dictionaries(st.sampled_from(CONTROL_WORDS), json_values, max_size=5), json_values
    ).map(lambda d: json.dumps(d, allow_nan=True).encode())
    body = st.one_of(st.none(), json_document, st.sampled_from(list(deep_json().values())), st.binary(max_size=32))
    query = st.one_of(st.just(""), st.builds(
        lambda name, v: f"?{name}={v}", st.sampled_from(CONTROL_QUERY_NAMES), st.sampled_from(HOSTILE_QUERY_VALUES)
    ))  # fmt: skip

    def build(values: list[str], content: bytes | None, suffix: str) -> Request:
        target = path
        for value in values:
            target = target.replace("{" + target.split("{", 1)[1].split("}", 1)[0] + "}", value, 1)
        return Request(method, target + suffix, content if method != "GET" else None, admin=False)

    holes = path.count("{")
    return st.builds(build, st.lists(fillers, min_size=holes, max_size=holes), body, query)


async def exercise_control(bench: Bench, request: Request) -> None:
    for sim in bench.fleet:
        await bench.healthy(sim)
    bench.errors.take()
    reply = await bench.send(bench.control_url, request)
    assert reply.status < 500, f"{reply.status} for {request!r}: {reply.body[:500]!r}"
    assert not bench.errors.take(), f"logged an error for {request!r}"
    assert (await bench.send(bench.control_url, Request("GET", "/devices", admin=False))).status == 200


@pytest.mark.parametrize(("method", "path"), control_routes(), ids=lambda v: str(v))
def test_control_api(bench: Bench, method: str, path: str) -> None:
    @FUZZ_SETTINGS
    @given(request=control_requests(method, path))
    def one(request: Request) -> None:
        bench.run(exercise_control(bench, request))

    one()
    for value in HOSTILE_QUERY_VALUES:  # and the systematic table: each hostile value in each hole
        bench.run(exercise_control(bench, Request(method, fill(path, value) + f"?limit={value}", admin=False)))
        query = "&".join(f"{name}={value}" for name in CONTROL_QUERY_NAMES)  # and in every query parameter
        bench.run(exercise_control(bench, Request(method, fill(path, "0") + f"?{query}", admin=False)))
    if method != "GET":
        for body in deep_json().values():
            bench.run(exercise_control(bench, Request(method, fill(path, "0"), body, admin=False)))


def fill(path: str, value: str) -> str:
    while "{" in path:
        path = path[: path.index("{")] + value + path[path.index("}") + 1 :]
    return path


@pytest.mark.parametrize("model", MODELS)
def test_unrouted_paths(bench: Bench, model: str) -> None:
    """The catch-all route (404 and 405 pages) under random paths, methods and bodies."""
    sim = bench.device(model)
    names = ("axis-cgi", "vapix", "..", ".", "%2e%2e", "%FF", "", "index.html", "x" * 300)
    segments = st.one_of(st.sampled_from(names), st.text(max_size=12).map(encoded))
    paths = st.lists(segments, min_size=0, max_size=5).map(lambda parts: "/" + "/".join(parts))
    methods = st.sampled_from(("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"))

    @FUZZ_SETTINGS
    @given(method=methods, path=paths, body=st.one_of(st.none(), st.binary(max_size=64)), admin=st.booleans())
    def one(method: str, path: str, body: bytes | None, admin: bool) -> None:
        bench.run(exercise(bench, sim, Request(method, path, body if method != "GET" else None, admin=admin)))

    one()


def test_every_served_route_is_fuzzed(recorded: None) -> None:
    """The endpoint list comes from the code: every route each model's application serves, and every
    path a recorded model answers from its recording."""
    from axisim.device import make_device
    from axisim.pipeline import build_app

    for model in MODELS:
        served = {r.resource.canonical for r in build_app(make_device(model)).router.routes()} - {REPLAYED}
        fuzzed = {re.sub(r"\{(\w+):[^}]*\}", r"{\1}", e.route) for e in ENDPOINTS if e.model == model}
        assert served == fuzzed - {REPLAYED}
    replayed = {e.path for e in ENDPOINTS if e.route == REPLAYED}
    assert replayed == {"/axis-cgi/lightcontrol.cgi", "/axis-cgi/streamprofile.cgi", "/axis-cgi/network_settings.cgi",
                        "/local/vmd/control.cgi", "/axis-cgi/temperaturecontrol.cgi", "/axis-cgi/admin/paramlist.cgi",
                        "/axis-cgi/pirsensor.cgi"}  # fmt: skip
