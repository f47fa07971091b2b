"""A hostile client's first requests: idle and slowloris connections, malformed HTTP, clients that
leave mid-body, and what every reply carries (Server header, Allow on 405), plus the web root.

The timeouts are Apache's (KeepAliveTimeout 5 s, mod_reqtimeout header=20): tests set short ones
through start_device. Every loop here is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from axisim.device import make_device
from axisim.server import RunningDevice, start_device
from tests.conftest import digest_request

ROOT = Path(__file__).resolve().parents[1]
KEEPALIVE = 0.4
HEADERS = 1.0
BOUND = 6.0  # no connection may outlive its timeout by this much


def repo_env() -> dict[str, str]:
    """The environment for a subprocess running this checkout's axisim."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@pytest.fixture
async def served() -> AsyncIterator[RunningDevice]:
    running = await start_device(
        make_device("S3008"), "127.0.0.1", 0, https_port=None, keepalive_timeout=KEEPALIVE, header_timeout=HEADERS
    )
    try:
        yield running
    finally:
        await running.stop()


async def exchange(port: int, *chunks: bytes, pause: float = 0.0, until: float = BOUND) -> tuple[bytes, float]:
    """Send the chunks (with a pause between), then read until the server closes or `until` passes.
    Returns what came back and how long the connection lived after the last chunk."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for number, chunk in enumerate(chunks):
            if number and pause:
                await asyncio.sleep(pause)
            if reader.at_eof() or writer.is_closing():
                break
            try:
                writer.write(chunk)
                await writer.drain()
            except ConnectionError:  # the server closed first (e.g. a slowloris's 408): read what it said
                break
        sent = time.monotonic()
        received = b""
        while time.monotonic() - sent < until:
            try:
                data = await asyncio.wait_for(reader.read(65536), until - (time.monotonic() - sent))
            except (TimeoutError, ConnectionError):
                break
            if not data:
                break
            received += data
        return received, time.monotonic() - sent
    finally:
        writer.close()


# -- D11: timeouts ---------------------------------------------------------------------------------------


async def test_a_connection_that_never_sends_a_request_is_closed_silently(served: RunningDevice) -> None:
    received, lived = await exchange(served.port)
    assert received == b""
    assert lived < HEADERS + BOUND / 2  # closed by the server, not by our bound


async def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(served: RunningDevice) -> None:
    request = b"GET /axis-cgi/param.cgi?action=list HTTP/1.1\r\nHost: camera\r\n\r\n"
    received, lived = await exchange(served.port, request)
    assert received.startswith(b"HTTP/1.1 401 ")  # answered, then kept alive ...
    assert lived < KEEPALIVE + BOUND / 2  # ... until the keep-alive timeout


async def test_a_slowloris_connection_gets_408_and_is_closed(served: RunningDevice) -> None:
    """Headers that never complete: 408 once the header timeout passes (mod_reqtimeout), then the close."""
    trickle = [b"GET /axis-cgi/param.cgi HTTP/1.1\r\n"] + [b"X-Slow-%d: x\r\n" % n for n in range(5)]
    started = time.monotonic()
    received, _ = await exchange(served.port, *trickle, pause=0.05, until=BOUND)
    assert received.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), received[:200]
    assert b"\r\nServer: Apache\r\n" in received and b"\r\nConnection: close\r\n" in received
    assert time.monotonic() - started < HEADERS + BOUND / 2


async def test_a_client_trickling_headers_for_ever_is_cut_off(served: RunningDevice) -> None:
    """A header line every 50 ms keeps the connection busy but never completes the request."""
    trickle = [b"GET / HTTP/1.1\r\n"] + [b"X-Slow-%d: x\r\n" % n for n in range(400)]  # 20 s of trickle
    started = time.monotonic()
    await exchange(served.port, *trickle, pause=0.05, until=BOUND)
    assert time.monotonic() - started < HEADERS + BOUND / 2


async def test_many_idle_connections_are_all_reaped_and_the_device_still_answers(served: RunningDevice) -> None:
    connections = [await asyncio.open_connection("127.0.0.1", served.port) for _ in range(50)]
    try:
        closed = await asyncio.wait_for(asyncio.gather(*(reader.read() for reader, _ in connections)), BOUND)
        assert closed == [b""] * 50
    finally:
        for _, writer in connections:
            writer.close()
    async with aiohttp.ClientSession() as session, session.get(served.url + "/index.html") as reply:
        assert reply.status == 200


# -- D13: malformed requests are the client's fault ------------------------------------------------------------

MALFORMED = {
    "garbage-request-line": [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"],
    "not-http": [b"HELLO THERE\r\n\r\n"],
    "header-without-colon": [b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n"],
    "header-with-nul": [b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"],
    "huge-request-line": [b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"],
    "bad-content-length": [b"POST /axis-cgi/param.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"],
    "truncated-chunked-body": [
        b"POST /axis-cgi/param.cgi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\naction\r\nzz\r\n"
    ],
    "undecodable-deflate-body-anonymous": [
        b"POST /axis-cgi/param.cgi HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\nContent-Length: 5\r\n\r\nxxxxx"
    ],
    "chunked-anonymous-json": [
        b"POST /axis-cgi/basicdeviceinfo.cgi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"a"\r\nnot-a-size\r\n'
    ],
}


@pytest.mark.parametrize("chunks", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_requests_get_a_4xx_and_log_no_traceback(
    served: RunningDevice, chunks: list[bytes], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    received, _ = await exchange(served.port, *chunks, until=3.0)
    status_line = received.split(b"\r\n", 1)[0]
    assert b" 500 " not in status_line, received[:300]
    if received:
        assert status_line.split(b" ")[1].startswith(b"4"), received[:300]
        assert b"\r\nServer: Apache\r\n" in received
    await asyncio.sleep(0.05)  # let the server finish its side
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text and "Traceback" not in capsys.readouterr().err


async def test_a_client_that_leaves_mid_body_is_not_a_simulator_bug(
    served: RunningDevice, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for path in ("/axis-cgi/param.cgi", "/axis-cgi/basicdeviceinfo.cgi", "/axis-cgi/firmwaremanagement.cgi"):
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw:
            raw.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\naction=".encode())
        await asyncio.sleep(0.2)  # the handler reads, the connection is gone
    async with aiohttp.ClientSession() as session:  # and the device goes on answering
        reply = await digest_request(
            session, "GET", served.url + "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr", ("root", "pass")
        )
        assert (reply.status, reply.text) == (200, "Brand.ProdNbr=S3008\n")
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "unhandled error" not in caplog.text


# -- replies: Server header, Allow on 405 -----------------------------------------------------------------------------


async def test_every_reply_carries_the_devices_server_header(served: RunningDevice) -> None:
    """vapix-wire.md §4.1 records Apache's Server header; AXIS OS 10.6+ can hide its version: `Apache`."""
    async with aiohttp.ClientSession() as session:
        for method, path in [
            ("GET", "/index.html"),  # 200
            ("GET", "/"),  # 302
            ("GET", "/axis-cgi/param.cgi?action=list"),  # 401
            ("GET", "/no/such/file"),  # 404
            ("DELETE", "/axis-cgi/param.cgi"),  # 405
        ]:
            async with session.request(method, served.url + path, allow_redirects=False) as reply:
                assert reply.headers.getall("Server") == ["Apache"], (method, path, reply.headers)
    received, _ = await exchange(served.port, b"BAD\x01REQUEST\r\n\r\n", until=3.0)  # aiohttp's own 400
    assert received.startswith(b"HTTP/1.") and b"\r\nServer: Apache\r\n" in received, received[:300]
    assert b"aiohttp" not in received and b"Python" not in received


async def test_405_names_the_allowed_methods(served: RunningDevice) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.delete(served.url + "/axis-cgi/param.cgi") as reply:
            assert reply.status == 405
            assert set(reply.headers["Allow"].split(",")) == {"GET", "POST"}
            assert "Method Not Allowed" in await reply.text()
        async with session.post(served.url + "/index.html") as reply:
            assert reply.status == 405
            assert set(reply.headers["Allow"].split(",")) == {"GET", "HEAD"}
        async with session.put(served.url + "/axis-cgi/basicdeviceinfo.cgi") as reply:
            assert reply.status == 405 and "Allow" in reply.headers


# -- item 10: the web root -----------------------------------------------------------------------------------------


async def test_the_web_root_redirects_to_the_admin_path_without_credentials(served: RunningDevice) -> None:
    """`Properties.API.HTTP.AdminPath` is /index.html on 9.80+ (vapix-wire.md, Properties table)."""
    device = served.device
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url + "/", allow_redirects=False) as reply:
            assert reply.status == 302
            assert reply.headers["Location"] == device.param("Properties.API.HTTP.AdminPath") == "/index.html"
            assert 'href="/index.html"' in await reply.text()
        async with session.get(served.url + "/") as reply:  # followed, anonymously
            assert reply.status == 200 and reply.url.path == "/index.html"
            assert reply.content_type == "text/html"
            page = await reply.text()
        assert device.param("Brand.ProdFullName") in page and device.serial in page
        async with session.head(served.url + "/index.html") as reply:
            assert reply.status == 200 and await reply.read() == b""


# -- item 9: open files -------------------------------------------------------------------------------------------


def _serve_with_file_limit(soft: int, hard: int) -> tuple[subprocess.Popen[str], str]:
    """`axisim serve` in a process whose open-file limit is (soft, hard); returns it and its URL."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    process = subprocess.Popen(
        [sys.executable, "-m", "axisim", "serve", "--port", "0", "--no-https"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=repo_env(), preexec_fn=limit,
    )  # fmt: skip
    assert process.stdout is not None
    for _ in range(20):
        line = process.stdout.readline()
        if line.startswith("url:"):
            return process, line.split(":", 1)[1].strip()
        if not line:
            break
    process.kill()
    raise AssertionError(process.communicate(timeout=10)[1])


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        return process.communicate(timeout=10)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate(timeout=10)[1]


def _idle_connections(url: str, count: int) -> list[socket.socket]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return [socket.create_connection((host, int(port)), timeout=5) for _ in range(count)]


def test_serve_raises_its_open_file_limit_so_idle_clients_do_not_starve_others() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1024:
        pytest.skip("the hard open-file limit here is too low to show the difference")
    process, url = _serve_with_file_limit(128, hard)
    idle = _idle_connections(url, 300)  # more than the soft limit it was started with
    try:
        assert httpx.get(url + "/index.html", timeout=10).status_code == 200
    finally:
        for connection in idle:
            connection.close()
        stderr = _stop(process)
    assert "Traceback" not in stderr, stderr[:2000]


def test_running_out_of_files_is_one_warning_not_a_stream_of_tracebacks() -> None:
    process, url = _serve_with_file_limit(64, 64)  # cannot be raised: the device runs out
    idle = _idle_connections(url, 100)
    try:
        time.sleep(2.5)  # asyncio retries its accept every second
    finally:
        for connection in idle:
            connection.close()
    try:
        for _ in range(50):  # the files come back once the idle connections are gone
            try:
                if httpx.get(url + "/index.html", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the device did not answer again once the idle connections closed")
    finally:
        stderr = _stop(process)
    assert "Traceback" not in stderr, stderr[:2000]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) <= 2, stderr[:2000]
    assert any("open files" in line for line in lines), stderr[:2000]


async def test_a_compressed_body_reaches_the_cgi_as_sent(
    served: RunningDevice, caplog: pytest.LogCaptureFixture
) -> None:
    """Apache decodes no request Content-Encoding unless an input DEFLATE filter is configured
    (off by default; issue 16 D6): the CGI reads the bytes sent, so a deflated form is not a form
    (the API's own error, the state untouched) and a plain form labelled deflate is read as sent."""
    caplog.set_level(logging.DEBUG)
    before = served.device.param("Network.HostName")
    form = b"action=update&Network.HostName=x"
    cases = [
        ("/axis-cgi/param.cgi", zlib.compress(form), b"# Request failed: Unknown action"),
        ("/axis-cgi/basicdeviceinfo.cgi", zlib.compress(b'{"apiVersion": "1.0", "method": "getAllProperties"}'),
         b'"Invalid JSON"'),
        ("/axis-cgi/pwdgrp.cgi", b"\x78\x9c\xff\xfe", b""),
    ]  # fmt: skip
    headers = {"Content-Encoding": "deflate", "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as session:
        for path, body, expected in cases:
            url = served.url + path
            reply = await digest_request(session, "POST", url, ("root", "pass"), data=body, headers=headers)
            assert reply.status == 200 and expected in reply.body, (path, reply.status, reply.body)
        assert served.device.param("Network.HostName") == before
        reply = await digest_request(
            session, "POST", served.url + "/axis-cgi/param.cgi", ("root", "pass"), data=form, headers=headers
        )  # fmt: skip
        assert (reply.status, reply.body) == (200, b"OK")
    assert served.device.param("Network.HostName") == "x"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
