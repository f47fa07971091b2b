"""Many simulated devices in one process, each on its own listener (DESIGN.md "The house").

A device costs its overlay on a shared model (a few tens of KB with its aiohttp app), so a
thousand fit in one process; what runs out first is open files, which `raise_file_limit`
raises as far as the system lets and reports when it is not enough.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import resource
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from param_tree import whole_number

from .fleet_plan import FleetError, FleetPlan
from .persistence import StateError
from .rtsp import RtspListenError
from .server import ListenError
from .simulated import DeviceSpec, SimulatedDevice

INVENTORY_FIELDS = (
    "index", "model", "variant", "serial", "mac", "hostname", "address", "http_port", "https_port", "rtsp_port",
    "url", "username", "password",
)  # fmt: skip
FILES_PER_LISTENER = 1
SPARE_FILES = 256  # the control API, client connections, state files, logs
# from this many devices a fleet keeps what it built out of the collector's passes (gc.freeze) until
# it stops: otherwise the first collection after building walks every device (0.2 s over 5,000),
# and each full one later stalls every request (~370 ms over 1,000 W401s: bench 7's p99)
FREEZE_MIN = 100


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a fleet is built and its devices start listening, back
    as it was after. Both make only live objects (no garbage: measured over a mixed 10,000, with
    HTTPS and RTSP), yet every full pass the collector makes on the way walks all the devices built
    so far: 1.6 s of 5.2 s over 10,000. A large fleet then freezes what it built (`Fleet`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def raise_file_limit(listeners: int) -> tuple[int, int]:
    """Raise the soft open-file limit to the hard one: every listener and every client
    connection holds a file (idle ones until the keep-alive timeout closes them), so a device
    or a fleet takes as many as the system lets it. Returns (limit now, files needed);
    FleetError when the system allows fewer than the listeners need."""
    needed = listeners * FILES_PER_LISTENER + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        targets = (hard,) if hard != resource.RLIM_INFINITY else (hard, 1 << 20)  # unlimited may be refused
        for target in targets:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            except (ValueError, OSError):
                continue
            soft = target
            break
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise FleetError(
            f"this fleet needs about {needed} open files ({listeners} listeners and {SPARE_FILES} spare) but the "
            f"system allows this process {soft} (hard limit {hard}); raise it (ulimit -Hn, or LimitNOFILE= for a "
            "systemd service) or start fewer devices"
        )
    return soft, needed


class Fleet:
    """The devices of a plan: start them, find them, reset them, list them."""

    def __init__(self, specs: list[DeviceSpec], plan: FleetPlan | None = None) -> None:
        self.plan = plan
        self.control_url: str | None = None  # set by whoever serves the control API for it
        with collector_paused():
            self.devices = [SimulatedDevice(spec) for spec in specs]
            self._frozen = len(self.devices) >= FREEZE_MIN
            if self._frozen:
                gc.freeze()
        self._by_serial = {d.serial: d for d in self.devices}
        self._by_index = {d.spec.index: d for d in self.devices}  # global site indexes (a shard's start late)
        if len(self._by_serial) != len(self.devices):
            raise FleetError("two devices of the fleet have the same serial; use distinct indexes")

    @classmethod
    def from_plan(cls, plan: FleetPlan) -> Fleet:
        return cls(plan.devices(), plan)

    def __len__(self) -> int:
        return len(self.devices)

    def __iter__(self) -> Iterator[SimulatedDevice]:
        return iter(self.devices)

    def __getitem__(self, index: int) -> SimulatedDevice:
        return self.devices[index]

    def get(self, key: str) -> SimulatedDevice | None:
        """A device by serial (any case) or by its index in the site (a shard's own indexes only)."""
        found = self._by_serial.get(key.upper())
        if found is None:
            index = whole_number(key)
            found = self._by_index.get(index) if index is not None else None
        return found

    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Start every device; on a failure, stop those already started and raise."""
        listeners = sum(1 + (d.spec.https_port is not None) + bool(d.spec.rtsp_ports) for d in self.devices)
        raise_file_limit(listeners)
        try:
            with collector_paused():
                await self._listen(progress)
                if self._frozen:
                    gc.freeze()
            for number, device in enumerate(self.devices, 1):
                try:
                    await device.start_saving()
                except StateError as exc:
                    raise FleetError(f"device {number} of {len(self.devices)} ({device.serial}): {exc}") from exc
        except BaseException:
            await self.stop()
            raise

    async def _listen(self, progress: Callable[[int, int], None] | None) -> None:
        """Every device listening, in order (FleetError naming the first that cannot)."""
        total = len(self.devices)
        step = max(1, total // 20)
        for number, device in enumerate(self.devices, 1):
            try:
                await device.start(save=False)  # state directories are written once all listen
            except StateError as exc:
                raise FleetError(f"device {number} of {total} ({device.serial}): {exc}") from exc
            except (ListenError, RtspListenError) as exc:
                raise FleetError(f"device {number} of {total} ({device.serial}): {exc.describe()}") from exc
            except OSError as exc:
                where = f"{device.spec.host}:{device.spec.port or 'any'}"
                raise FleetError(
                    f"device {number} of {total} ({device.serial}) cannot listen on {where}: {exc.strerror or exc}"
                ) from exc
            if progress is not None and (number % step == 0 or number == total):
                progress(number, total)

    async def stop(self) -> None:
        for device in self.devices:
            await device.stop()
        if self._frozen:  # what the devices leave behind is collected again
            self._frozen = False
            gc.unfreeze()

    async def reset(self) -> None:
        """Every device back to factory state (see SimulatedDevice.reset)."""
        for device in self.devices:
            await device.reset()

    # -- the inventory a VMS imports ---------------------------------------------------

    def inventory(self) -> list[dict[str, Any]]:
        return [d.inventory() for d in self.devices]

    def inventory_json(self) -> str:
        return inventory_json(self.inventory())

    def inventory_csv(self) -> str:
        return inventory_csv(self.inventory())

    def write_inventory(self, stem: Path) -> tuple[Path, Path]:
        """`<stem>.json` and `<stem>.csv`."""
        return write_inventory(self.inventory(), stem)


def inventory_json(rows: list[dict[str, Any]]) -> str:
    """The inventory a VMS imports, as JSON (a fleet's, or a site's merged from its shards)."""
    return json.dumps({"devices": rows}, indent=1) + "\n"


def inventory_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=INVENTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in INVENTORY_FIELDS})
    return out.getvalue()


def write_inventory(rows: list[dict[str, Any]], stem: Path) -> tuple[Path, Path]:
    """`<stem>.json` and `<stem>.csv`."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".csv")
    json_path.write_text(inventory_json(rows), encoding="utf-8")
    csv_path.write_text(inventory_csv(rows), encoding="utf-8")
    return json_path, csv_path
