"""Other authentication stacks against a real listener: curl --digest and requests' HTTPDigestAuth.

The C1410 Mk II manual's "API commands" are run verbatim with curl, as the README shows them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

import pytest
import requests

from axisim.device import make_device
from axisim.server import start_device

pytestmark = pytest.mark.integration


def curl(url: str, *extra: str) -> tuple[int, str]:
    result = subprocess.run(
        ["curl", "-s", "--digest", "-u", "root:pass", "-w", "\n%{http_code}", *extra, url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_manual_api_commands_with_curl() -> None:
    device = make_device("C1410MkII")
    running = await start_device(device, "127.0.0.1", 0)
    base = running.url
    try:
        status, body = await asyncio.to_thread(curl, f"{base}/axis-cgi/param.cgi?action=list")
        assert status == 200 and f"root.Properties.System.SerialNumber={device.serial}\n" in body
        for name in ("FTP", "SSH"):
            for value in ("yes", "no"):
                url = f"{base}/axis-cgi/param.cgi?action=update&Network.{name}.Enabled={value}"
                assert await asyncio.to_thread(curl, url) == (200, "OK")
                assert device.params.value(f"Network.{name}.Enabled") == value
        status, body = await asyncio.to_thread(
            curl, f"{base}/axis-cgi/param.cgi", "--data", "action=list&group=root.Brand.ProdNbr%2Croot.Brand.Brand"
        )
        assert (status, body) == (200, "root.Brand.ProdNbr=C1410 Mk II\nroot.Brand.Brand=AXIS\n")
    finally:
        await running.stop()


async def test_requests_digest_auth() -> None:
    device = make_device("S4000")
    running = await start_device(device, "127.0.0.1", 0)
    try:

        def session_calls() -> list[tuple[int, str]]:
            with requests.Session() as session:
                session.auth = requests.auth.HTTPDigestAuth("root", "pass")
                out = []
                for group in (
                    "root.Brand.ProdNbr",
                    "root.Properties.Firmware.Version",
                    "root.Brand.ProdNbr,root.Brand.Brand",
                ):
                    response = session.get(
                        f"{running.url}/axis-cgi/param.cgi", params={"action": "list", "group": group}
                    )
                    out.append((response.status_code, response.text))
                return out

        results = await asyncio.to_thread(session_calls)
        assert results == [
            (200, "root.Brand.ProdNbr=S4000\n"),
            (200, "root.Properties.Firmware.Version=12.6.94\n"),
            (200, "root.Brand.ProdNbr=S4000\nroot.Brand.Brand=AXIS\n"),
        ]
    finally:
        await running.stop()


async def test_curl_digest_post_to_basicdeviceinfo() -> None:
    """The README's example: curl's Digest probe is an empty POST; it must get the challenge."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    device = make_device("S3008")
    running = await start_device(device, "127.0.0.1", 0, https_port=None)
    try:
        body = '{"apiVersion":"1.0","method":"getAllProperties"}'
        process = await asyncio.create_subprocess_exec(
            "curl", "-s", "--max-time", "10", "--digest", "-u", "root:pass", "-d", body,
            f"{running.url}/axis-cgi/basicdeviceinfo.cgi", stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
        assert json.loads(out)["data"]["propertyList"]["SerialNumber"] == device.serial
    finally:
        await running.stop()
