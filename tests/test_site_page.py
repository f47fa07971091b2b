"""The site page (issue 24) in a real browser: Playwright driving Debian's Chromium, headless, against
a small fleet and its control API on 127.0.0.1, and against a site of two shards behind the
aggregator. What a tester does with it: find a device, fail a drive and see the recorder's RAID API
(curl, through HTTP to the device) and the page's live event feed report it, add a fault and see the
client's next request fail, take the device off the network, watch a request made by curl appear in
the journal; every stimulus of every model offered as a form from the control API's declaration and
checked as the API checks it; device data shown as text, never markup; screenshots at a laptop size
and a narrow window with no horizontal overflow.

Playwright's own browser download is not used (nor reachable in CI): the test launches the Chromium
that `.ci/run` installs from Debian (`apt-get install chromium`). Every wait has a timeout; a failed
test leaves a screenshot in a temporary folder and prints its path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from axisim.control.http import start_control
from axisim.fleet import Fleet
from axisim.fleet_plan import Addressing, Group, make_plan
from axisim.simulated import SimulatedDevice
from tests.test_control_listing import site_api

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the browser tests need playwright (pip install '.[test]')"
)
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and Path(p).exists()), None)  # fmt: skip
if CHROMIUM is None:
    pytest.skip("no Chromium here: `apt-get install chromium` (.ci/run installs it)", allow_module_level=True)

async_playwright, expect = playwright_api.async_playwright, playwright_api.expect
pytestmark = pytest.mark.asyncio(loop_scope="module")

MODELS = ("S3008", "S3016", "W401", "C1410MkII", "S4000")  # indexes 0-4
WAIT_MS = 8000  # the longest any step waits for the page (polls are 1-3 s)
LAPTOP, NARROW = (1366, 768), (390, 844)
SHOTS = Path(tempfile.mkdtemp(prefix="axisim-page-"))
ROOT = ("root", "pass")


@dataclass
class Bench:
    fleet: Fleet
    control: str
    browser: Any

    def device(self, model: str) -> SimulatedDevice:
        return next(d for d in self.fleet if d.spec.model == model)

    @contextlib.asynccontextmanager
    async def page(self, name: str, path: str = "/", size: tuple[int, int] = LAPTOP,
                   base: str | None = None) -> AsyncIterator[Any]:  # fmt: skip
        """A page of the site page; on a failure a screenshot is saved and its path printed."""
        context = await self.browser.new_context(viewport={"width": size[0], "height": size[1]})
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # the reset confirmations
        try:
            await page.goto((base or self.control) + path, timeout=WAIT_MS)
            yield page
            assert not [p for p in problems if "page error" in p], problems
        except BaseException:
            shot = SHOTS / f"{name}-failed.png"
            with contextlib.suppress(Exception):
                await page.screenshot(path=str(shot), full_page=True, timeout=WAIT_MS)
                print(f"screenshot of the failure: {shot}\nbrowser console: {problems}")
            raise
        finally:
            await context.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bench() -> AsyncIterator[Bench]:
    fleet = Fleet.from_plan(make_plan([Group(m, 1) for m in MODELS], addressing=Addressing("ports", "127.0.0.1", 0)))
    await fleet.start()
    runner = None
    try:
        runner, port = await start_control(fleet)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, timeout=30000)
            try:
                yield Bench(fleet, f"http://127.0.0.1:{port}", browser)
            finally:
                await browser.close()
    finally:
        if runner is not None:
            await runner.cleanup()
        await fleet.stop()


async def curl(*args: str) -> tuple[int, str]:
    """Real curl: (HTTP status, body); 0 when the connection failed."""
    process = await asyncio.create_subprocess_exec(
        "curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 10)
    body, _, code = out.decode().rpartition("\n")
    return int(code or 0), body


async def as_root(device: SimulatedDevice, path: str, *args: str) -> tuple[int, str]:
    return await curl("--digest", "-u", ":".join(ROOT), *args, device.url + path)


async def control_json(bench: Bench, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.request(method, bench.control + path, json=body) as reply,
    ):
        return reply.status, await reply.json()


def device_page(device: SimulatedDevice) -> str:
    return f"/#/device/{device.serial}"


async def run_stimulus(page: Any, event: str, **fields: str) -> Any:
    form = page.locator(f'form[data-event="{event}"]')
    for name, value in fields.items():
        await form.locator(f'[name="{name}"]').fill(value)
    await form.get_by_role("button", name="Run").click()
    return form


# -- the site --------------------------------------------------------------------------------------


async def test_find_a_device_in_the_site_list_and_open_it(bench: Bench) -> None:
    w401 = bench.device("W401")
    async with bench.page("find") as page:
        rows = page.locator("#devices tbody tr")
        await expect(rows).to_have_count(len(MODELS), timeout=WAIT_MS)
        await expect(page.locator("#summary")).to_contain_text("5 devices · 5 ready", timeout=WAIT_MS)
        await page.locator("#q").fill("w401")  # the control API filters (GET /devices?q=w401)
        await expect(rows).to_have_count(1, timeout=WAIT_MS)
        await expect(rows.first).to_contain_text(w401.serial, timeout=WAIT_MS)
        await expect(page.locator("#range")).to_have_text("1–1 of 1", timeout=WAIT_MS)
        assert "q=w401" in page.url  # the filter is in the address: reload or share it
        await rows.first.click()
        await expect(page.locator("#device-title")).to_contain_text(f"W401 standard · {w401.serial}", timeout=WAIT_MS)
        await expect(page.locator("#identity")).to_contain_text(w401.url, timeout=WAIT_MS)
        await page.go_back()
        await expect(page.locator("#q")).to_have_value("w401", timeout=WAIT_MS)
        await page.locator("#q").fill("no such device")
        await expect(page.locator("#empty")).to_be_visible(timeout=WAIT_MS)


# -- one device ------------------------------------------------------------------------------------


async def test_fail_a_drive_and_see_the_raid_api_and_the_event_feed_report_it(bench: Bench) -> None:
    recorder = bench.device("S3016")
    async with bench.page("fail-drive", device_page(recorder)) as page:
        await expect(page.locator("#feed-state")).to_have_text("(live)", timeout=WAIT_MS)
        form = await run_stimulus(page, "storage.fail_drive", bay="1")
        call = form.locator(".call")
        await expect(call.locator("code")).to_have_text(
            f"curl -X POST '{bench.control}/devices/{recorder.serial}/events/storage/fail_drive' -d '{{\"bay\":1}}'",
            timeout=WAIT_MS,
        )
        await expect(call.locator(".result")).to_contain_text('"raid": "degraded"', timeout=WAIT_MS)
        # the recorder's own RAID API, asked by curl over HTTP (disks/raid.cgi getStatus)
        asked = '{"apiVersion":"1.0","method":"getStatus"}'
        status, body = await as_root(recorder, "/axis-cgi/disks/raid.cgi", "-d", asked)
        (raid,) = json.loads(body)["data"]["raids"]
        assert status == 200 and raid["status"] == "degraded"
        assert [c["componentStatus"] for c in raid["components"]] == ["connected", "missing", "connected", "connected"]
        # and the page's live feed (the control API's Server-Sent Events) shows the device's events
        raid_event = page.locator('#events li[data-topic="tnsaxis:Storage/RAID"]').first
        await expect(raid_event).to_contain_text("raidstate=degraded", timeout=WAIT_MS)
        await expect(raid_event).to_contain_text("component1status=missing", timeout=WAIT_MS)
        await expect(page.locator('#events li[data-topic="tnsaxis:Storage/RAID/RAIDDegraded"]').first).to_contain_text(
            "state=1", timeout=WAIT_MS)  # fmt: skip
        await expect(page.locator("#state")).to_contain_text('"failed": true', timeout=WAIT_MS)  # subsystem state, live


async def test_arguments_are_refused_as_the_control_api_refuses_them(bench: Bench) -> None:
    recorder = bench.device("S4000")
    path = f"/devices/{recorder.serial}/events/storage/fail_drive"
    async with bench.page("bad-argument", device_page(recorder)) as page:
        form = page.locator('form[data-event="storage.fail_drive"]')
        for typed, body in (("x", {"bay": "x"}), ("1.5", {"bay": 1.5}), ("", {})):
            status, refusal = await control_json(bench, "POST", path, body)
            assert status == 400
            await run_stimulus(page, "storage.fail_drive", bay=typed)
            await expect(form.locator(".error")).to_have_text(refusal["error"], timeout=WAIT_MS)
        await expect(form.locator(".call")).to_be_hidden(timeout=WAIT_MS)  # nothing was sent
        assert (await page.locator("#calls-list li").count()) == 0
        assert not any(d["failed"] for d in recorder.state()["subsystems"]["storage"]["drives"])
        # what the page lets through but the subsystem refuses comes back as the API's message
        form = await run_stimulus(page, "storage.fail_drive", bay="9")
        await expect(form.locator(".call .result")).to_contain_text("400: ", timeout=WAIT_MS)


async def test_every_stimulus_of_every_model_is_a_form_from_the_declaration(bench: Bench) -> None:
    async with bench.page("stimuli") as page:
        for device in bench.fleet:
            await page.goto(bench.control + device_page(device), timeout=WAIT_MS)
            await expect(page.locator("#device-title")).to_contain_text(device.serial, timeout=WAIT_MS)
            declared = (await control_json(bench, "GET", f"/devices/{device.serial}/events"))[1]["events"]
            forms = page.locator("form[data-event]")
            await expect(forms).to_have_count(len(declared), timeout=WAIT_MS)
            shown = await forms.evaluate_all(
                "forms => forms.map(f => [f.dataset.event, [...f.elements].filter(e => e.name).map(e => e.name)])"
            )
            assert shown == [[f"{e['subsystem']}.{e['event']}", list(e["args"])] for e in declared], device.spec.model


async def test_a_fault_from_the_page_fails_the_clients_next_request(bench: Bench) -> None:
    unit = bench.device("W401")
    param = "/axis-cgi/param.cgi?action=list&group=Brand.ProdNbr"
    async with bench.page("fault", device_page(unit)) as page:
        faults = page.locator("#fault-form")
        await faults.locator('[name="path"]').fill("/axis-cgi/param.cgi")
        await faults.locator('[name="status"]').fill("503")
        await faults.get_by_role("button", name="Add fault").click()
        listed = page.locator("#faults li[data-fault]")
        await expect(listed).to_have_count(1, timeout=WAIT_MS)
        await expect(listed).to_contain_text("/axis-cgi/param.cgi: status 503", timeout=WAIT_MS)
        assert (await as_root(unit, param))[0] == 503  # the client's next request
        await expect(listed).to_contain_text("1 hit", timeout=WAIT_MS)
        # the call the page shows is one a user can paste: run it, and the device has a second fault
        line = await page.locator("#fault-output code").inner_text()
        assert line.startswith("curl -X POST ") and "/faults" in line
        pasted = await asyncio.create_subprocess_exec("bash", "-c", line + " -sS", stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(pasted.communicate(), 10)
        assert json.loads(out)["status"] == 503 and len(unit.faults.all()) == 2
        await expect(listed).to_have_count(2, timeout=WAIT_MS)
        await page.get_by_role("button", name="Remove all").click()
        await expect(listed).to_have_count(0, timeout=WAIT_MS)
        assert (await as_root(unit, param))[0] == 200

        await faults.locator('[name="effect"]').select_option("drop")
        await faults.get_by_role("button", name="Add fault").click()
        await expect(listed).to_contain_text("/axis-cgi/param.cgi: drop", timeout=WAIT_MS)
        assert (await as_root(unit, param))[0] == 0  # connection closed without an answer
        await listed.get_by_role("button", name="Remove").click()
        await expect(listed).to_have_count(0, timeout=WAIT_MS)

        await page.locator("#offline").click()  # off the network: connections refused
        await expect(page.locator("#device-status")).to_have_text("offline", timeout=WAIT_MS)
        assert (await as_root(unit, param))[0] == 0
        await expect(page.locator("#offline")).to_have_text("Bring online", timeout=WAIT_MS)
        await page.locator("#offline").click()
        await expect(page.locator("#device-status")).to_have_text("ready", timeout=WAIT_MS)
        assert (await as_root(unit, param))[0] == 200


async def test_a_request_made_by_curl_appears_in_the_journal(bench: Bench) -> None:
    speaker = bench.device("C1410MkII")
    async with bench.page("journal", device_page(speaker)) as page:
        await expect(page.locator("#journal-total")).to_contain_text("request", timeout=WAIT_MS)
        path = "/axis-cgi/param.cgi?action=list&group=Brand.ProdShortName"
        assert (await as_root(speaker, path))[0] == 200
        row = page.locator("#journal tbody tr", has=page.locator(f'td.path:text-is("{path}")')).first
        await expect(row).to_contain_text("root", timeout=WAIT_MS)  # the digest user, and status 200
        await expect(row.locator("td.status-code")).to_have_text("200", timeout=WAIT_MS)
        assert (await as_root(speaker, "/axis-cgi/no-such-thing.cgi"))[0] == 404
        await expect(page.locator("#unsupported")).to_contain_text("/axis-cgi/no-such-thing.cgi", timeout=WAIT_MS)


async def test_what_a_device_holds_is_shown_as_text_never_markup(bench: Bench) -> None:
    speaker = bench.device("C1410MkII")
    caller = "sip:<img src=x onerror=pwned=1>@192.168.0.20"
    async with bench.page("escaping", device_page(speaker)) as page:
        await expect(page.locator("#feed-state")).to_have_text("(live)", timeout=WAIT_MS)
        await run_stimulus(page, "sip.incoming_call", **{"from": caller})  # the call event names the caller
        call = page.locator('#events li[data-topic="tnsaxis:Call/StateChange"]').first
        await expect(call).to_contain_text(f"RemoteURI={caller}", timeout=WAIT_MS)
        assert (await as_root(speaker, "/<b>x</b>"))[0] == 404  # a path with markup, in the journal
        await expect(page.locator("#unsupported")).to_contain_text("/<b>x</b>", timeout=WAIT_MS)
        assert await page.locator("main img, main b").count() == 0
        assert await page.evaluate("window.pwned") is None


async def test_the_pages_fit_a_laptop_and_a_narrow_window(bench: Bench) -> None:
    recorder = bench.device("S3016")
    for name, size in (("laptop", LAPTOP), ("narrow", NARROW)):
        views = (("site", "/", "#devices tbody tr"), ("device", device_page(recorder), "form[data-event]"))
        for view, path, ready in views:
            async with bench.page(f"{view}-{name}", path, size) as page:
                await expect(page.locator(ready).first).to_be_visible(timeout=WAIT_MS)
                shot = SHOTS / f"{view}-{name}.png"
                await page.screenshot(path=str(shot), full_page=True, timeout=WAIT_MS)
                print(f"screenshot: {shot}")
                width, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                assert width <= inner, f"{view} at {size}: {width} px wide in a {inner} px window ({shot})"


# -- behind the site's aggregator (fleet --workers, axisim site) -----------------------------------


async def test_the_page_works_on_a_site_of_two_shards(bench: Bench) -> None:
    async with site_api() as site, bench.page("site", "/", base=site.base) as page:
        rows = page.locator("#devices tbody tr")
        await expect(rows).to_have_count(6, timeout=WAIT_MS)  # both shards, in site order
        assert await rows.locator("td:first-child").all_inner_texts() == ["0", "1", "2", "3", "4", "5"]
        last = site.device(5)  # a W401 of shard 1, reached through the aggregator
        await rows.nth(5).click()
        await expect(page.locator("#device-title")).to_contain_text(last.serial, timeout=WAIT_MS)
        await expect(page.locator("#feed-state")).to_have_text("(live)", timeout=WAIT_MS)
        await run_stimulus(page, "io.close_input", port="1")
        event = page.locator('#events li[data-topic="tns1:Device/tnsaxis:IO/Port"]').first
        await expect(event).to_contain_text("state=1", timeout=WAIT_MS)
