"""pytest fixtures that start simulated Axis devices inside the test's event loop.

Registered through the `pytest11` entry point, so installing axisim is enough:

    async def test_my_client(axisim_device):                 # an S3008, root/pass, free port
        client = MyClient(axisim_device.url, *axisim_device.credentials)
        assert await client.serial() == axisim_device.serial

    @pytest.mark.axisim(model="W401")                        # choose the model (and variant, accounts)
    async def test_inputs(axisim_device):
        axisim_device.event("io", "close_input", port=1)     # the Python control API

    @pytest.mark.axisim(model="W401")
    async def test_input_event(axisim_device):               # await an event of the device
        async with axisim_device.expect_event("tns1:Device/tnsaxis:IO/Port", source={"port": 0},
                                              data={"state": "1"}, timeout=2.0) as seen:
            axisim_device.event("io", "close_input", port=1)  # or whatever your client does
        print(seen.event)

`expect_event` (and `wait_for_event`, an awaitable) subscribe when called, before the block (or the
caller) triggers anything, so an event published at once is never missed: there is no race to win.
See SimulatedDevice.wait_for_event.

    async def test_site(axisim_fleet_factory):
        fleet = await axisim_fleet_factory("S3008:2,W401", count=3)
        ...fleet.control_url...                               # the control API over HTTP too

    @pytest.mark.axisim(fixture="tests/recorded/M3106LVEMkII")  # a model folder of your own (recorded)
    async def test_recorded(axisim_device): ...
    # or model="M3106LVEMkII", fixtures_dir="tests/recorded"; fleets take fixtures_dir= too; the
    # folders are among the model sources for the test only

Every device and fleet is stopped when the test ends. The fixtures are async and run under
pytest-asyncio (a dependency of axisim): an async test that uses one of them is marked
`asyncio` here, so it runs with no configuration, in pytest-asyncio's strict mode as in auto.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any

import pytest

from .control.http import start_control
from .device import AccountSpec
from .fleet import Fleet
from .fleet_plan import Addressing, Group, Options, make_plan, parse_account, parse_mix
from .model import SOURCES
from .simulated import DeviceSpec, SimulatedDevice

try:
    from pytest_asyncio import fixture as async_fixture

    HAVE_PYTEST_ASYNCIO = True
except ImportError:  # pragma: no cover - without pytest-asyncio the fixtures cannot run
    async_fixture = pytest.fixture
    HAVE_PYTEST_ASYNCIO = False

FIXTURES = frozenset({"axisim_device", "axisim_device_factory", "axisim_fleet_factory"})

DeviceFactory = Callable[..., Awaitable[SimulatedDevice]]
FleetFactory = Callable[..., Awaitable[Fleet]]


LOOP_SCOPE = "asyncio_default_fixture_loop_scope"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # A project with no configuration gets pytest-asyncio's coming default (a loop per test, as the
    # axisim fixtures are per test) instead of its deprecation warning asking to set one; a value the
    # project sets is kept. pytest offers no public setter for another plugin's ini value.
    cache = getattr(config, "_inicache", None)
    if HAVE_PYTEST_ASYNCIO and isinstance(cache, dict):
        try:
            if not config.getini(LOOP_SCOPE):
                cache[LOOP_SCOPE] = "function"
        except ValueError:  # an older pytest-asyncio without the option
            pass
    config.addinivalue_line(
        "markers", "axisim(model='S3008', variant=None, accounts=['root:pass:admin'], **options): "
        "what the axisim_device fixture starts",
    )  # fmt: skip


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_pycollect_makeitem(collector: Any, name: str, obj: object) -> Generator[None, Any, None]:
    """Mark async tests that use an axisim fixture `asyncio`, so they run without `asyncio_mode`.

    A wrapper innermost of all (trylast): the mark is on the items before pytest-asyncio's own
    wrapper looks for it to turn them into asyncio tests; an explicit mark is left as it is.
    """
    outcome = yield
    if not HAVE_PYTEST_ASYNCIO or not inspect.iscoroutinefunction(obj):
        return
    items = outcome.get_result()
    for item in items if isinstance(items, list) else [items]:
        if (
            isinstance(item, pytest.Function)
            and FIXTURES.intersection(item.fixturenames)
            and item.get_closest_marker("asyncio") is None
        ):
            item.add_marker(pytest.mark.asyncio)


def _accounts(accounts: Any) -> tuple[AccountSpec, ...]:
    """`["root:pass:admin", ("viewer", "view", "viewer"), AccountSpec(...)]`."""
    if accounts is None:
        return Options().accounts
    specs = []
    for item in accounts:
        if isinstance(item, AccountSpec):
            specs.append(item)
        elif isinstance(item, str):
            specs.append(parse_account(item))
        else:
            specs.append(AccountSpec(*item))
    return tuple(specs)


def _options(
    accounts: Any = None, https: bool = False, strict_nonce: bool = False, boot_time: float = 0.0,
    ready_time: float = 0.0, rtsp: bool = False, websocket_events: bool = True, discovery: bool = False,
) -> Options:
    """What a test asks of its devices (accounts, HTTPS, nonce checking, boot times, the RTSP event
    stream on a free port: `rtsp=True`, its URL `device.rtsp_url`; `websocket_events=False` for a
    device without the WebSocket event stream; `discovery=True`: announced over mDNS)."""
    return Options(
        _accounts(accounts), https, strict_nonce, boot_time, ready_time, rtsp=rtsp, websocket_events=websocket_events,
        discovery=discovery,
    )  # fmt: skip


def device_spec(
    model: str = "S3008", *, variant: str | None = None, seed: str | None = None, index: int = 0, **options: Any
) -> DeviceSpec:
    """What a test asks for, as a DeviceSpec on a free port of 127.0.0.1 (no seed: the model's default,
    so devices of different models in one test have different serials)."""
    chosen = _options(**options)
    return chosen.spec(
        model, variant, seed=seed, index=index, host="127.0.0.1", port=0, rtsp_ports=(0,) if chosen.rtsp else ()
    )  # fmt: skip


@async_fixture
async def axisim_device_factory() -> AsyncIterator[DeviceFactory]:
    """`await axisim_device_factory("S3016", variant="16TB", accounts=["admin:secret:admin"])`;
    `fixture="path/to/MODEL"` serves that model folder, `fixtures_dir=` adds folders of models, for
    the test (axisim.model.FixtureSources)."""
    started: list[SimulatedDevice] = []
    with contextlib.ExitStack() as sources:

        async def make(
            model: str = "S3008", *, fixture: str | None = None, fixtures_dir: str | list[str] | None = None,
            **options: Any,
        ) -> SimulatedDevice:
            ids = sources.enter_context(SOURCES.using(_folders(fixtures_dir), [fixture] if fixture else []))
            simulated = SimulatedDevice(device_spec(ids[0] if ids else model, **options))
            await simulated.start()
            started.append(simulated)
            return simulated

        yield make
        for simulated in started:
            await simulated.stop()


def _folders(fixtures_dir: str | list[str] | None) -> list[str]:
    return [fixtures_dir] if isinstance(fixtures_dir, str) else list(fixtures_dir or ())


@async_fixture
async def axisim_device(request: pytest.FixtureRequest, axisim_device_factory: DeviceFactory) -> SimulatedDevice:
    """One device; `@pytest.mark.axisim(model=..., ...)` or indirect parametrization chooses it."""
    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker("axisim")
    if marker is not None:
        options.update(marker.kwargs)
        if marker.args:
            options["model"] = marker.args[0]
    param = getattr(request, "param", None)
    if isinstance(param, str):
        options["model"] = param
    elif isinstance(param, dict):
        options.update(param)
    return await axisim_device_factory(**options)


@async_fixture
async def axisim_fleet_factory() -> AsyncIterator[FleetFactory]:
    """`await axisim_fleet_factory("S3008:2,W401", count=6)`: a fleet on free ports with its control
    API (`fleet.control_url`); options as for a device (accounts, https, boot_time ...)."""
    started: list[tuple[Fleet, Any]] = []
    sources = contextlib.ExitStack()

    async def make(
        models: str = "S3008", count: int = 3, seed: str = "axisim-pytest", variant: str | None = None,
        fixtures_dir: str | list[str] | None = None, **options: Any,
    ) -> Fleet:
        sources.enter_context(SOURCES.using(_folders(fixtures_dir)))
        shared = _options(**options)
        groups = [Group(model, n, variant, shared) for model, n in parse_mix(models, count) if n]
        fleet = Fleet.from_plan(make_plan(groups, seed=seed, addressing=Addressing("ports", "127.0.0.1", 0)))
        await fleet.start()
        try:
            runner, port = await start_control(fleet, "127.0.0.1", 0)
        except BaseException:
            await fleet.stop()
            raise
        fleet.control_url = f"http://127.0.0.1:{port}"
        started.append((fleet, runner))
        return fleet

    with sources:
        yield make
        for fleet, runner in started:
            await runner.cleanup()
            await fleet.stop()
