"""Issue 16: the logs a client can write into, strict nonces, the state directory and stored secrets."""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import AsyncIterator

import aiohttp
import pytest

from axisim.device import make_device
from axisim.server import RunningDevice, start_device
from tests.conftest import ROOT, digest_request

PARAM = "/axis-cgi/param.cgi?action=list&group=root.Brand.ProdNbr"


async def raw_request(port: int, head: bytes) -> bytes:
    """Send one request exactly as given (bytes no HTTP client would send) and read the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


@pytest.fixture
async def s4000() -> AsyncIterator[RunningDevice]:
    """A listening S4000 (the model with an audit log), HTTP only."""
    running = await start_device(make_device("S4000"), "127.0.0.1", 0, https_port=None)
    yield running
    await running.stop()


# -- D7: one sanitiser where lines enter the logs (Apache ap_escape_logitem) --------------------------


async def test_a_non_utf8_user_name_does_not_poison_the_logs(s4000: RunningDevice) -> None:
    nonce_challenge = await raw_request(s4000.port, b"GET " + PARAM.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    nonce = nonce_challenge.split(b'nonce="')[1].split(b'"')[0]
    realm = s4000.device.identity.realm.encode()
    header = (
        b'Authorization: Digest username="x\xff", realm="' + realm + b'", nonce="' + nonce + b'", uri="'
        + PARAM.encode() + b'", response="00000000000000000000000000000000", qop=auth, nc=00000001, cnonce="c"\r\n'
    )  # fmt: skip
    answer = await raw_request(s4000.port, b"GET " + PARAM.encode() + b" HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 401")
    async with aiohttp.ClientSession() as session:
        for path in ("/axis-cgi/accesslog.cgi", "/axis-cgi/auditlog.cgi", "/axis-cgi/serverreport.cgi"):
            reply = await digest_request(session, "GET", s4000.url + path, ROOT)
            assert reply.status == 200, (path, reply.status)
            assert "x\\xff" in reply.text, path
        reply = await digest_request(session, "GET", s4000.url + "/axis-cgi/debug/debug.tgz", ROOT)
        assert reply.status == 200
        with tarfile.open(fileobj=io.BytesIO(reply.body)) as archive:
            texts = [archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()]  # type: ignore[union-attr]
        assert any(b"x\\xff" in text for text in texts)
        # an administrator's refused pwdgrp.cgi add of a non-UTF-8 name goes to the system log, escaped
        reply = await digest_request(
            session, "GET", s4000.url + "/axis-cgi/pwdgrp.cgi?action=add&user=u%FF&pwd=secret&grp=users&sgrp=viewer",
            ROOT,
        )  # fmt: skip
        assert reply.status == 200 and "Error" in reply.text
        # and a name with CR LF in it cannot start a forged line of its own
        forged = "/axis-cgi/pwdgrp.cgi?action=add&user=a%0D%0A2025-01-01T00:00:00.000%20forged&pwd=s&sgrp=viewer"
        assert (await digest_request(session, "GET", s4000.url + forged, ROOT)).status == 200
        reply = await digest_request(session, "GET", s4000.url + "/axis-cgi/systemlog.cgi", ROOT)
        assert reply.status == 200 and "u\\xff" in reply.text and "a\\r\\n2025-01-01" in reply.text
        assert not any(line.startswith("2025-01-01") for line in reply.text.splitlines())
    for log in (s4000.device.logs.system, s4000.device.logs.access):
        assert all(line.isprintable() for line in log.lines())


def test_the_sanitiser_escapes_bounds_and_keeps_printable_text() -> None:
    from axisim.logs import MAX_FIELD, TRUNCATED, sanitise

    assert sanitise("root from 10.0.0.1") == "root from 10.0.0.1"
    assert sanitise("Jörg 日本") == "Jörg 日本"
    assert sanitise("x\udcff") == "x\\xff"  # a byte that was not UTF-8
    assert sanitise("a\r\nb\x1b[31m\x00\t") == "a\\r\\nb\\x1b[31m\\x00\\t"
    assert sanitise("back\\slash") == "back\\\\slash"  # so `\xff` typed as text cannot pass for a byte
    assert sanitise("\u202eevil\ud800") == "\\u202eevil\\ud800"
    long = sanitise("a" * 5000)
    assert long == "a" * MAX_FIELD + TRUNCATED
    cut = sanitise("a" * (MAX_FIELD - 2) + "\x00")  # an escape that does not fit is left out whole
    assert cut == "a" * (MAX_FIELD - 2) + TRUNCATED


# -- 4. default identities differ per model and stay deterministic ---------------------------------


def test_models_sharing_an_oui_started_alone_get_different_serials() -> None:
    from axisim.device import identity_for
    from axisim.fleet import Fleet
    from axisim.fleet_plan import Addressing, Group, make_plan
    from axisim.identity import Identity
    from axisim.model import load_model, model_ids

    alone = {model: make_device(model).serial for model in model_ids()}
    assert len(set(alone.values())) == len(alone)  # S3008, S3016, S4000 share B8A44F
    assert alone == {model: make_device(model).serial for model in model_ids()}  # deterministic
    for model in model_ids():  # the same seed and index give the same identity, whoever asks
        assert make_device(model, seed="lab", index=4).serial == identity_for(model, "lab", 4).serial
    # no default device is any device of a default fleet (of the CLI or the pytest plugin)
    for seed in ("axisim", "axisim-pytest"):
        for oui in {load_model(m).oui for m in model_ids()}:
            fleet = {Identity.derive(oui, index, seed).serial for index in range(65_000)}
            assert not fleet & set(alone.values()), (seed, oui)
    fleet = Fleet.from_plan(make_plan([Group("S3008", 1), Group("S3016", 1)], addressing=Addressing(base_port=0)))
    assert fleet[0].serial == make_device("S3008", seed="axisim", index=0).serial
    assert fleet[0].serial not in alone.values()
