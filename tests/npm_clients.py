"""The npm discovery clients (`axis-discovery-bonjour`, `axis-discovery-ssdp`) the tests browse with.

They live in tests/npm (package.json and package-lock.json committed, node_modules not): installed
with `npm ci` on first use (and by .ci/run), then tests/npm/browse.js runs in the LAN namespace and
prints one JSON line per event the packages emit. `NpmWatch` keeps what each package lists now.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.netns import JsonLines

NPM_DIR = Path(__file__).parent / "npm"
PACKAGES = ("axis-discovery-bonjour", "axis-discovery-ssdp")
INSTALL_SECONDS = 180


def unavailable() -> str | None:
    """Why the npm clients cannot run here (None: they can; installs them when missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed (apt-get install nodejs npm)"
    if all((NPM_DIR / "node_modules" / name / "package.json").exists() for name in PACKAGES):
        return None
    try:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NPM_DIR, capture_output=True,
            timeout=INSTALL_SECONDS,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"npm ci in tests/npm failed: {exc}"
    if done.returncode != 0:
        return f"npm ci in tests/npm failed: {done.stderr.decode(errors='replace')[-300:]}"
    return None


class NpmWatch(JsonLines):
    """tests/npm/browse.js running: `listed[package][MAC]` is the device as the package reports it now
    (the SSDP package's first hello carries only address and MAC; the one after its root description
    the rest: merged)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__(process)
        self.listed: dict[str, dict[str, dict[str, Any]]] = {"bonjour": {}, "ssdp": {}}
        self.events: list[tuple[str, str, str]] = []  # (package, event, MAC), in order

    def take(self, message: dict[str, Any]) -> None:
        package, event, device = message["package"], message["event"], message["device"]
        mac = device["macAddress"]
        self.events.append((package, event, mac))
        if event == "hello":
            known = self.listed[package].setdefault(mac, {})
            known.update({k: v for k, v in device.items() if v is not None})
        else:
            self.listed[package].pop(mac, None)

    def complete(self, package: str, count: int) -> bool:
        """`count` devices listed, each with its port (the SSDP package: from the description)."""
        listed = self.listed[package].values()
        return len(listed) == count and all("port" in device for device in listed)
