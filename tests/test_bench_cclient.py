"""The C load generator of the benchmarks (bench/cclient.c through bench/native.py) counts what the
server answered: every reply once, by status, over several listeners, with bodies, chunked replies
and connections the server closes. Not a timing test: it proves the figures `python3 -m bench`
prints for benchmarks 5 and 10 count real, complete replies (bench/README.md, "Load generator")."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bench import native
from bench.loadgen import LoadGenerator

pytestmark = pytest.mark.skipif(native.available() is not None, reason=f"no C client: {native.available()}")

DURATION = 0.6  # seconds of load: bounded


@pytest.fixture
async def listeners() -> AsyncIterator[tuple[list[str], Counter[str]]]:
    """Two listeners on loopback sharing one app that counts what it answered, by route."""
    answered: Counter[str] = Counter()

    async def ok(request: web.Request) -> web.Response:
        answered["ok"] += 1
        return web.Response(text="OK\n")

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        answered["echo"] += 1
        return web.Response(body=body[::-1], content_type="application/json")

    async def chunked(request: web.Request) -> web.StreamResponse:
        reply = web.StreamResponse()
        reply.enable_chunked_encoding()
        await reply.prepare(request)
        await reply.write(b"one ")
        await reply.write(b"two\n")
        await reply.write_eof()
        answered["chunked"] += 1
        return reply

    async def large(request: web.Request) -> web.Response:
        answered["large"] += 1
        return web.Response(body=b"x" * 300_000)  # past the client's first 64 KB buffer

    async def closing(request: web.Request) -> web.Response:
        answered["closing"] += 1
        reply = web.Response(text="bye\n")
        reply.force_close()
        return reply

    async def missing(request: web.Request) -> web.Response:
        answered["missing"] += 1
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_post("/echo", echo)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/closing", closing)
    app.router.add_get("/large", large)
    app.router.add_get("/missing", missing)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    urls = []
    for _ in range(2):
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        urls.append(f"http://127.0.0.1:{port}")
    try:
        yield urls, answered
    finally:
        await runner.cleanup()


def targets(urls: list[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for url in urls:
        out += [
            {"method": "GET", "url": f"{url}/ok", "headers": {}, "body": None},
            {"method": "POST", "url": f"{url}/echo", "headers": {"Content-Type": "application/json"},
             "body": '{"method":"getAllProperties"}'},
            {"method": "GET", "url": f"{url}/chunked", "headers": {}, "body": None},
            {"method": "GET", "url": f"{url}/closing", "headers": {}, "body": None},
            {"method": "GET", "url": f"{url}/large", "headers": {}, "body": None},
            {"method": "GET", "url": f"{url}/missing", "headers": {}, "body": None},
        ]  # fmt: skip
    return out


async def test_every_reply_is_counted_once_by_status(listeners: tuple[list[str], Counter[str]]) -> None:
    urls, answered = listeners
    spec = {"targets": targets(urls), "connections": 6, "duration": DURATION, "seed": "test"}
    result = await asyncio.to_thread(native.run, spec, 30.0)
    assert result["socket_errors"] == 0
    assert result["requests"] == sum(answered.values()) > 50
    assert result["statuses"] == {"200": sum(answered.values()) - answered["missing"], "404": answered["missing"]}
    assert result["non2xx"] == answered["missing"] > 0
    assert set(answered) == {"ok", "echo", "chunked", "closing", "large", "missing"}  # the mix reached each
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert result["cpu_s"] > 0 and result["seconds"] >= DURATION


async def test_a_refused_connection_is_a_socket_error_not_a_reply(unused_tcp_port: int) -> None:
    spec = {"targets": [{"method": "GET", "url": f"http://127.0.0.1:{unused_tcp_port}/", "headers": {},
                         "body": None}], "connections": 2, "duration": 0.2, "seed": "test"}  # fmt: skip
    result = await asyncio.to_thread(native.run, spec, 30.0)
    assert result["requests"] == 0 and result["socket_errors"] > 0
    assert result["p50_ms"] is None


def test_a_malformed_spec_is_refused_with_why() -> None:
    built = native.build()
    assert isinstance(built, Path)
    done = subprocess.run([str(built)], input=b"16 1000 7 1 1\nnot-an-address 80\n", capture_output=True, timeout=10)
    assert done.returncode == 2 and b"bad address" in done.stderr


def test_without_a_compiler_the_bench_falls_back_to_the_raw_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no binary built before
    monkeypatch.setenv("CC", "/bin/false")
    native.build.cache_clear()
    try:
        load = LoadGenerator(4, 1.0, use_wrk=False)
        assert load.engine == "raw"
        assert "could not build" in (load.fallback_reason or "")
        assert "raw asyncio" in load.describe() and "was not built" in load.describe()
    finally:
        native.build.cache_clear()
