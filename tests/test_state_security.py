"""Issue 16: the logs a client can write into, strict nonces, the state directory and stored secrets."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from axisim.device import AccountSpec, make_device
from axisim.digest_client import authorization
from axisim.persistence import CERT_FILE, KEY_FILE, STATE_FILE, StateDir, StateError
from axisim.server import RunningDevice, start_device
from tests.conftest import ROOT, DeviceClientFactory, digest_request

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


# -- 3. nothing is written before the device listens ----------------------------------------------

REPO = Path(__file__).resolve().parent.parent
SERVE = [sys.executable, "-m", "axisim", "serve", "--host", "127.0.0.1", "--boot-time", "0", "--ready-time", "0"]


def run_serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`axisim serve` that ends by itself (a refused start) within `timeout` seconds."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 someone else listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize("which", ["--port", "--https-port"])
def test_a_start_on_a_busy_port_writes_nothing_and_a_retry_with_another_model_works(
    tmp_path: Path, busy_port: int, which: str
) -> None:
    state = tmp_path / "state"
    ports = ["--port", str(busy_port), "--https-port", "0"] if which == "--port" else [
        "--port", "0", "--https-port", str(busy_port)]  # fmt: skip
    failed = run_serve("--model", "S3008", "--state-dir", str(state), *ports)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    assert not state.exists()
    # the retry with another model is not refused as "written for model S3008": it starts and saves
    process = subprocess.Popen(
        [*SERVE, "--model", "W401", "--state-dir", str(state), "--port", "0", "--https-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(7)]
        assert any(line.startswith("state:") and "(new)" in line for line in banner), banner
        assert json.loads((state / STATE_FILE).read_text())["model"] == "W401"
        assert (state / CERT_FILE).is_file() and (state / KEY_FILE).is_file()
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_failed_start_leaves_a_used_state_directory_exactly_as_it_was(tmp_path: Path, busy_port: int) -> None:
    device = make_device("S3008")
    StateDir(tmp_path).attach(device)
    (tmp_path / "https").mkdir()
    from axisim.tls import self_signed

    pair = self_signed(device.hostname, "127.0.0.1")
    (tmp_path / CERT_FILE).write_bytes(pair.cert_pem)
    (tmp_path / KEY_FILE).write_bytes(pair.key_pem)
    before = tree(tmp_path)
    failed = run_serve("--model", "S3008", "--state-dir", str(tmp_path), "--port", str(busy_port))
    assert failed.returncode == 1, failed.stderr
    assert tree(tmp_path) == before


# -- D14: a damaged state directory is one line naming the file, and is left alone -----------------


def test_deeply_nested_state_file_is_a_one_line_error(tmp_path: Path) -> None:
    StateDir(tmp_path).attach(make_device("S3008"))
    document = json.loads((tmp_path / STATE_FILE).read_text())
    (tmp_path / STATE_FILE).write_text(json.dumps(document)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}")
    before = tree(tmp_path)
    result = run_serve("--state-dir", str(tmp_path), "--port", "0", "--no-https")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "device.json is damaged (nested" in result.stderr
    assert tree(tmp_path) == before
    for depth in (40, 900):  # deep, but not deep enough for the JSON parser to give up
        (tmp_path / STATE_FILE).write_text(json.dumps(document)[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}")
        with pytest.raises(StateError, match="nested deeper than"):
            StateDir(tmp_path).load_into(make_device("S3008"))


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda d: (d / KEY_FILE).unlink(), "https/key.pem is missing (https/cert.pem is there)"),
        (lambda d: (d / CERT_FILE).unlink(), "https/cert.pem is missing (https/key.pem is there)"),
        (lambda d: (d / KEY_FILE).write_bytes(b"not a key"), "https/cert.pem and https/key.pem are damaged"),
        (lambda d: [(d / "files").rmdir(), (d / "files").write_bytes(b"")], "files is not a directory"),
    ],
)
def test_a_damaged_certificate_or_folder_is_a_damaged_state_directory(tmp_path: Path, damage, problem: str) -> None:  # type: ignore[no-untyped-def]
    device = make_device("S3008")
    state = StateDir(tmp_path)
    state.attach(device)
    from axisim.tls import self_signed

    state.save_certificate(self_signed(device.hostname, "127.0.0.1"))
    damage(tmp_path)
    before = tree(tmp_path)
    result = run_serve("--state-dir", str(tmp_path), "--port", "0", "--https-port", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert problem in result.stderr and result.stderr.count("\n") == 1
    assert tree(tmp_path) == before


def test_every_damaged_value_in_a_state_file_is_a_state_error(tmp_path: Path) -> None:
    """Each value of a saved device.json replaced by values of other types: a StateError or a load."""
    device = make_device("C1410MkII")  # audio, SIP, I/O: the most varied state
    StateDir(tmp_path / "good").attach(device)
    document = json.loads((tmp_path / "good" / STATE_FILE).read_text())

    def paths(value: object, at: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
        yield at
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            yield from paths(item, (*at, key))

    target = tmp_path / "bad"
    target.mkdir()
    for at in list(paths(document))[1:]:
        for value in (None, [], {}, "x", -1, 10**30, 1.5, True):
            copy = json.loads(json.dumps(document))
            holder = copy
            for key in at[:-1]:
                holder = holder[key]
            holder[at[-1]] = value
            (target / STATE_FILE).write_text(json.dumps(copy))
            with contextlib.suppress(StateError):  # anything else fails the test
                StateDir(target).load_into(make_device("C1410MkII"))


# -- D16: no password in the state directory -------------------------------------------------------


async def _login(session: aiohttp.ClientSession, url: str, user: str, password: str) -> tuple[int, int]:
    """(Digest status, Basic status) of one request as `user`."""
    digest = await digest_request(session, "GET", url + PARAM, (user, password))
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    async with session.get(url + PARAM, headers={"Authorization": f"Basic {token}"}) as basic:
        return digest.status, basic.status


async def test_device_json_keeps_no_password_and_both_schemes_work_after_a_restart(tmp_path: Path) -> None:
    from axisim.simulated import DeviceSpec, SimulatedDevice

    spec = DeviceSpec("S3008", state_dir=tmp_path / "state")
    first = SimulatedDevice(spec)
    await first.start()
    try:
        async with aiohttp.ClientSession() as session:
            for query in (
                "action=update&Network.HTTP.AuthenticationPolicy=basic_digest",
                "action=add&user=alice&pwd=Alice-Secret1&grp=users&sgrp=viewer",
                "action=add&user=bob&pwd=Bob-Secret22&grp=users&sgrp=operator:viewer",
                "action=update&user=bob&pwd=Bob-Newer333",
                "action=update&user=root&pwd=Root-Newer444",
            ):
                cgi = "param.cgi" if "Network." in query else "pwdgrp.cgi"
                reply = await digest_request(session, "GET", f"{first.url}/axis-cgi/{cgi}?{query}", ROOT)
                assert reply.status == 200 and "Error" not in reply.text, (query, reply.text)
            listing = await digest_request(session, "GET", f"{first.url}/axis-cgi/pwdgrp.cgi?action=get", ROOT)
    finally:
        await first.stop()
    assert "Secret" not in listing.text and "Newer" not in listing.text  # pwdgrp.cgi never shows one
    saved = (tmp_path / "state" / STATE_FILE).read_text()
    assert '"pass"' not in saved and '"password"' not in saved
    for secret in ("Alice-Secret1", "Bob-Secret22", "Bob-Newer333", "Root-Newer444"):
        assert secret not in saved
    accounts = json.loads(saved)["accounts"]
    assert all(set(a) == {"name", "ha1", "groups", "primary", "comment"} for a in accounts)

    again = SimulatedDevice(spec)
    await again.start()
    try:
        async with aiohttp.ClientSession() as session:
            assert await _login(session, again.url, "alice", "Alice-Secret1") == (200, 200)
            assert await _login(session, again.url, "bob", "Bob-Newer333") == (200, 200)
            assert await _login(session, again.url, "root", "Root-Newer444") == (200, 200)
            assert await _login(session, again.url, "bob", "Bob-Secret22") == (401, 401)
            assert await _login(session, again.url, "root", "pass") == (401, 401)
    finally:
        await again.stop()


async def test_a_state_file_with_plain_passwords_is_read_and_saved_without_them(tmp_path: Path) -> None:
    """Format 1 kept passwords; such a directory still starts, and loses them once the device listens."""
    from axisim.simulated import DeviceSpec, SimulatedDevice

    state = tmp_path / "state"
    spec = DeviceSpec("S3008", state_dir=state)
    device = make_device("S3008")
    StateDir(state).attach(device)
    document = json.loads((state / STATE_FILE).read_text())
    document["format"] = 1
    document["accounts"] = [
        {"name": "root", "password": "Old-Plain1", "groups": ["admin", "operator", "ptz", "viewer"],
         "primary": "root", "comment": ""},
    ]  # fmt: skip
    (state / STATE_FILE).write_text(json.dumps(document))
    simulated = SimulatedDevice(spec)
    await simulated.start()
    try:
        saved = json.loads((state / STATE_FILE).read_text())
        assert saved["format"] == 2 and "Old-Plain1" not in (state / STATE_FILE).read_text()
        async with aiohttp.ClientSession() as session:
            reply = await digest_request(session, "GET", simulated.url + PARAM, ("root", "Old-Plain1"))
            assert reply.status == 200
    finally:
        await simulated.stop()


# -- D8: strict nonces refuse every replay in bounded memory ------------------------------------------


async def test_strict_mode_refuses_a_replay_after_the_nonce_table_overflows(device_client: DeviceClientFactory) -> None:
    client = await device_client(
        "S3008", strict_nc=True, accounts=[AccountSpec("root", "pass", "admin"), AccountSpec("eve", "view", "viewer")]
    )
    client.device.digest.nc_table_size = 8
    add = "/axis-cgi/pwdgrp.cgi?action=add&user=mallory&pwd=Mallory1&grp=users&sgrp=admin:operator:viewer"
    challenge = (await client.client.get(add)).headers["WWW-Authenticate"]
    captured = authorization(challenge, user="root", password="pass", method="GET", uri=add)
    response = await client.client.get(add, headers={"Authorization": captured})
    assert response.status == 200 and "mallory" in await response.text()
    assert client.device.accounts.remove("mallory") is None  # so that a replay would add it again
    assert (await client.client.get(add, headers={"Authorization": captured})).status == 401
    # root keeps a nonce of its own in use, as a client does between requests
    root_challenge = (await client.client.get(PARAM)).headers["WWW-Authenticate"]
    header = authorization(root_challenge, user="root", password="pass", method="GET", uri=PARAM, nc=1)
    assert (await client.client.get(PARAM, headers={"Authorization": header})).status == 200
    for _ in range(12):  # a viewer logging in over and over, each time with a fresh nonce
        fresh = (await client.client.get(PARAM)).headers["WWW-Authenticate"]
        header = authorization(fresh, user="eve", password="view", method="GET", uri=PARAM)
        assert (await client.client.get(PARAM, headers={"Authorization": header})).status == 200
    assert len(client.device.digest._seen_nc) <= 8  # bounded
    replay = await client.client.get(add, headers={"Authorization": captured})
    assert replay.status == 401 and replay.headers["WWW-Authenticate"].endswith(", stale=true")
    assert client.device.accounts.get("mallory") is None
    # root's next request on its dropped nonce is stale too; a new challenge lets it on, as a client does
    header = authorization(root_challenge, user="root", password="pass", method="GET", uri=PARAM, nc=2)
    response = await client.client.get(PARAM, headers={"Authorization": header})
    assert response.status == 401 and response.headers["WWW-Authenticate"].endswith(", stale=true")
    header = authorization(response.headers["WWW-Authenticate"], user="root", password="pass", method="GET", uri=PARAM)
    assert (await client.client.get(PARAM, headers={"Authorization": header})).status == 200
    assert (await client.get(PARAM)).status == 200  # the curl --digest style client of the other tests


async def test_strict_mode_uses_a_qop_less_nonce_once(device_client: DeviceClientFactory) -> None:
    """RFC 2069 requests carry no nc; in strict mode each nonce serves one, then the client asks anew."""
    from axisim.auth import parse_digest_params
    from axisim.digest_client import md5

    client = await device_client("S3008", strict_nc=True)
    challenge = (await client.client.get(PARAM)).headers["WWW-Authenticate"]
    params = parse_digest_params(challenge.partition(" ")[2])
    ha1 = md5(f"root:{params['realm']}:pass")
    response = md5(f"{ha1}:{params['nonce']}:{md5('GET:' + PARAM)}")
    header = (
        f'Digest username="root", realm="{params["realm"]}", nonce="{params["nonce"]}", uri="{PARAM}", '
        f'response="{response}", algorithm=MD5'
    )
    assert (await client.client.get(PARAM, headers={"Authorization": header})).status == 200
    replay = await client.client.get(PARAM, headers={"Authorization": header})
    assert replay.status == 401 and replay.headers["WWW-Authenticate"].endswith(", stale=true")


def test_strict_mode_with_the_default_table_refuses_a_replay_after_4100_logins() -> None:
    """The issue's reproduction without the network: 4,100 viewer logins used to evict the admin's nonce."""
    from axisim.auth import NC_TABLE_SIZE, Outcome

    device = make_device(
        "S3008", strict_nc=True, accounts=[AccountSpec("root", "pass", "admin"), AccountSpec("eve", "view", "viewer")]
    )
    digest, accounts = device.digest, device.accounts

    def login(user: str, password: str, nonce_header: str | None = None) -> tuple[str, str]:
        header = nonce_header or authorization(
            digest.challenge(), user=user, password=password, method="GET", uri=PARAM
        )
        return header, digest.verify(header.partition(" ")[2], "GET", PARAM, accounts).outcome.value

    captured, first = login("root", "pass")
    assert first == Outcome.OK.value
    assert login("root", "pass", captured)[1] == Outcome.INVALID.value
    for _ in range(NC_TABLE_SIZE + 4):
        assert login("eve", "view")[1] == Outcome.OK.value
    assert len(digest._seen_nc) <= NC_TABLE_SIZE
    assert login("root", "pass", captured)[1] == Outcome.STALE.value


async def test_a_fleet_writes_state_directories_only_once_every_device_listens(tmp_path: Path) -> None:
    """A fleet that cannot start leaves its state directories as they were, so a retry with other
    models (the same serials under the same OUI) is not refused; changes made while it starts are kept."""
    from axisim.fleet import Fleet
    from axisim.fleet_plan import Addressing, FleetError, Group, make_plan

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        plan = make_plan([Group("S3008", 2)], addressing=Addressing(base_port=port - 1), state_dir=tmp_path / "fleet")
        with pytest.raises(FleetError, match="is in use"):
            await Fleet.from_plan(plan).start()
    assert not (tmp_path / "fleet").exists()
    retry = Fleet.from_plan(
        make_plan([Group("S3016", 2)], addressing=Addressing(base_port=0), state_dir=tmp_path / "fleet")
    )
    await retry.start()
    await retry.stop()
    assert sorted(p.name for p in (tmp_path / "fleet").iterdir()) == sorted(d.serial for d in retry)
    # a device changed between listening and saving (other devices still starting) keeps the change
    again = Fleet.from_plan(
        make_plan([Group("S3016", 2)], addressing=Addressing(base_port=0), state_dir=tmp_path / "fleet")
    )
    await again[0].start(save=False)
    try:
        from param_tree import Role

        again[0].device.update_params([("Network.FTP.Enabled", "yes")], Role.ADMIN)
        await again[0].start_saving()
    finally:
        await again[0].stop()
    saved = json.loads((tmp_path / "fleet" / again[0].serial / STATE_FILE).read_text())
    assert saved["params"]["values"].get("Network.FTP.Enabled") == "yes"
