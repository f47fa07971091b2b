"""Benchmark 6: what the device event bus costs. In process, no HTTP: a W401 input toggled
through its subsystem (the same call a control-API stimulus makes), timed three ways, and the
memory a journal subscription adds per device, as a fleet of 10,000 would pay it.

- nobody subscribed (every device of a fleet that no stream, rule or MQTT client watches);
- the control API's journal subscribed (every SimulatedDevice of a fleet);
- baseline: the same toggles with the bus's publish replaced by a no-op (as if there were no bus).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable

from axisim.control.journal import Journal
from axisim.device import Device, make_device
from axisim.events import EventBus

from .report import Row

TOGGLES = 20_000  # close + open of one input each
MEMORY_DEVICES = 200
TARGET_RATIO = 1.5  # nobody subscribed: at most 1.5x the cost of no bus at all


def _toggle_time(device: Device, count: int) -> float:
    io = device.subsystems["io"]
    close, open_ = io.close_input, io.open_input  # type: ignore[attr-defined]
    started = time.perf_counter()
    for _ in range(count):
        close(1)
        open_(1)
    return (time.perf_counter() - started) / count


def _best(measure: Callable[[], float], rounds: int = 3) -> float:
    return min(measure() for _ in range(rounds))


def _without_bus(device: Device) -> Callable[[], float]:
    def measure() -> float:
        original = EventBus.publish
        EventBus.publish = lambda *args, **kwargs: None  # type: ignore[method-assign]
        try:
            return _toggle_time(device, TOGGLES)
        finally:
            EventBus.publish = original  # type: ignore[method-assign]

    return measure


def _subscription_bytes() -> float:
    """Bytes per device that a journal subscription and its first event add (tracemalloc)."""
    devices = [make_device("W401", index=i) for i in range(MEMORY_DEVICES)]
    journals = [Journal() for _ in devices]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for device, journal in zip(devices, journals, strict=True):
        device.bus.subscribe(journal.record_event)
        device.subsystems["io"].close_input(1)  # type: ignore[attr-defined]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / MEMORY_DEVICES


def events(_settings: object) -> list[Row]:
    idle = make_device("W401")
    watched = make_device("W401")
    watched.bus.subscribe(Journal().record_event)
    baseline_s = _best(_without_bus(idle))
    idle_s = _best(lambda: _toggle_time(idle, TOGGLES))
    watched_s = _best(lambda: _toggle_time(watched, TOGGLES))
    per_device = _subscription_bytes()
    return [
        Row(
            "6", "input toggle, bus with nobody subscribed", f"{idle_s * 1e6:.1f} µs", f"{baseline_s * 1e6:.1f} µs",
            idle_s / baseline_s, f"<= {TARGET_RATIO:g}x", idle_s / baseline_s <= TARGET_RATIO,
            note="baseline: the same toggles with EventBus.publish a no-op; a toggle is close_input + open_input",
        ),
        Row(
            "6", "  with the journal subscribed", f"{watched_s * 1e6:.1f} µs", f"{baseline_s * 1e6:.1f} µs",
            watched_s / baseline_s,
        ),
        Row(
            "6", "  journal subscription + first event, per device", f"{per_device / 1024:.2f} KB", "0 KB",
            note=f"x 10,000 devices = {per_device * 10_000 / 2**20:.1f} MB (tracemalloc over {MEMORY_DEVICES} W401s)",
        ),
    ]  # fmt: skip
