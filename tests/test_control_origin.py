"""The control API refuses what another site's page sends it (axisim/control/origin.py).

A browser lets any page POST to http://127.0.0.1:<control port> without asking (a form, a
`fetch` in no-cors mode); it only hides the reply. Such requests carry `Origin` and
`Sec-Fetch-Site` (Fetch standard, "Origin header" and Fetch Metadata), so they are refused and
change nothing, while curl, scripts and the site page itself keep working.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest

from tests.conftest import connection_refused
from tests.test_control import S3008, W401, Control, answers, controlled, refused


@pytest.fixture
async def control() -> AsyncIterator[Control]:
    async with controlled("S3008", "W401") as running:
        yield running


async def post_from(control: Control, path: str, headers: dict[str, str], body: str = "") -> tuple[int, object]:
    """A POST as a browser sends it for a page: a form body, the page's marks in the headers."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    async with control.session.post(control.base + path, data=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


@pytest.mark.parametrize(
    "marks",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Origin": "http://127.0.0.1:1"},  # another port of the same host: another origin
    ],
)
async def test_a_page_of_another_site_cannot_take_a_device_offline(control: Control, marks: dict[str, str]) -> None:
    status, document = await post_from(control, f"/devices/{W401}/offline", marks)
    assert status == 403
    refused(document)
    assert "another site" in document["error"]  # type: ignore[index]
    assert await answers(control[W401])  # still on the network


async def test_a_page_of_another_site_cannot_reset_or_clear_faults(control: Control) -> None:
    fault = await control.add_fault(S3008, path="/axis-cgi/param.cgi", status=503)
    cross = {"Origin": "http://evil.example"}
    assert (await post_from(control, "/reset", cross))[0] == 403
    async with control.session.delete(control.base + f"/devices/{S3008}/faults", headers=cross) as response:
        assert response.status == 403
    assert [f["id"] for f in await control.faults(S3008)] == [fault["id"]]  # nothing was cleared


async def test_reading_stays_open_and_the_same_origin_may_act(control: Control) -> None:
    cross = {"Origin": "http://evil.example"}
    async with control.session.get(control.base + "/devices", headers=cross) as response:
        assert response.status == 200  # the browser hides this reply from the other page
    same = {"Origin": control.base, "Sec-Fetch-Site": "same-origin"}  # what the site page's fetch sends
    status, _ = await post_from(control, f"/devices/{W401}/offline", same)
    assert status == 200
    assert await connection_refused(control[W401].url)
    status, _ = await post_from(control, f"/devices/{W401}/online", {"Origin": control.base})
    assert status == 200 and await answers(control[W401])


async def test_curl_without_marks_acts_and_with_a_foreign_origin_is_refused(control: Control) -> None:
    def curl(*extra: str) -> tuple[int, str]:
        done = subprocess.run(
            ["curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}", "-X", "POST", *extra,
             control.base + f"/devices/{W401}/offline"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return int(done.stdout), done.stderr

    status, body = await asyncio.to_thread(curl, "-H", "Origin: https://evil.example")
    assert status == 403 and '"error"' in body
    assert await answers(control[W401])
    status, _ = await asyncio.to_thread(curl)
    assert status == 200
    assert await connection_refused(control[W401].url)
