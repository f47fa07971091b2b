"""Firmware of a simulated device: the active and inactive versions, upgrade images, rollback.

A simulator cannot run a real AXIS OS image, so it accepts an image that names
the model and a version, in either of two forms:
- content whose first line is `AXISIM-FIRMWARE model=<ProdNbr> version=<x.y.z>`;
- an Axis-style file name, `<ProdNbr>_<x>_<y>_<z>.bin` (spaces in the product number
  become underscores, as in `C1410_Mk_II_12_7_1.bin`), whatever the content.
Anything else is an image that does not match the device (error 421), which is
also what a real device answers for a garbage file (research notes, rs4acap).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

HEADER = b"AXISIM-FIRMWARE"
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){1,3}$")
_FILENAME = re.compile(r"^(?:AXIS_)?(?P<model>.+?)_(?P<version>[0-9]+(?:_[0-9]+){1,3})\.bin$", re.IGNORECASE)
MAX_IMAGE_BYTES = 512 * 1024 * 1024


class ImageError(Exception):
    """An upgrade the device refuses; `kind` picks the fwmgr error code."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # mismatch | downgrade


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).upper().removeprefix("AXIS")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True, slots=True)
class Image:
    model: str
    version: str


def read_image(filename: str | None, content: bytes, product_numbers: tuple[str, ...]) -> Image:
    """The image's model and version, or ImageError('mismatch') when it is not for this device."""
    found: Image | None = None
    if content.startswith(HEADER):
        fields = dict(
            part.split("=", 1)
            for part in content.split(b"\n", 1)[0].decode("ascii", "replace").split()[1:]
            if "=" in part
        )
        model, version = fields.get("model", ""), fields.get("version", "")
        if model and _VERSION.match(version):
            found = Image(model, version)
    elif filename:
        match = _FILENAME.match(filename.rsplit("/", 1)[-1])
        if match:
            found = Image(match.group("model").replace("_", " "), match.group("version").replace("_", "."))
    wanted = {_normal(p) for p in product_numbers if p}
    if found is None or _normal(found.model) not in wanted:
        raise ImageError("mismatch")
    return found


def _now_iso(wall: float | None = None) -> str:
    """An upgrade's time in UTC, on the device clock when given (a date set on the device shows)."""
    return datetime.fromtimestamp(time.time() if wall is None else wall, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class Firmware:
    """What the device runs and what it could roll back to."""

    active: str
    inactive: str | None = None
    last_upgrade_at: str | None = None
    pending: str | None = None  # accepted image, active after the next boot
    rolling_back: bool = False
    keep_previous: bool = True  # an upgrade with factory default cannot be rolled back (manuals)

    def accept(self, image: Image, factory_default_mode: str) -> None:
        """Stage an image for the next boot (ImageError for a refused downgrade)."""
        if version_key(image.version) < version_key(self.active) and factory_default_mode != "hard":
            raise ImageError("downgrade")
        self.pending = image.version
        self.keep_previous = factory_default_mode == "none"

    def boot(self, wall: float | None = None) -> bool:
        """Switch to a staged image (at the device's wall time `wall`); True when the version changed."""
        if self.pending is None:
            return False
        if self.rolling_back:  # only the latest upgrade can be undone, and only once
            self.active, self.inactive, self.last_upgrade_at = self.pending, None, None
        else:
            previous = self.active if self.keep_previous else None
            self.inactive, self.active, self.last_upgrade_at = previous, self.pending, _now_iso(wall)
        self.pending, self.rolling_back, self.keep_previous = None, False, True
        return True

    def rollback(self) -> bool:
        """Make the previous version the one to boot; False when there is none."""
        if self.inactive is None:
            return False
        self.pending, self.rolling_back = self.inactive, True
        return True

    def purge(self) -> None:
        self.inactive = None
        self.last_upgrade_at = None

    @property
    def part(self) -> str:
        """The active image's part number: a stable number per version."""
        return str(int(hashlib.sha1(self.active.encode()).hexdigest()[:8], 16))

    def to_state(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "inactive": self.inactive,
            "lastUpgradeAt": self.last_upgrade_at,
            "pending": self.pending,
            "rollingBack": self.rolling_back,
            "keepPrevious": self.keep_previous,
        }

    @classmethod
    def from_state(cls, state: Any) -> Firmware:
        if not isinstance(state, dict) or not isinstance(state.get("active"), str):
            raise ValueError("firmware: 'active' version missing")
        active, when = state["active"], state.get("lastUpgradeAt")
        inactive, pending = state.get("inactive"), state.get("pending")
        for version in (active, inactive, pending):
            if version is not None and not (isinstance(version, str) and _VERSION.match(version)):
                raise ValueError(f"firmware: {version!r} is not a version like 12.6.94")
        if when is not None and not isinstance(when, str):
            raise ValueError("firmware: 'lastUpgradeAt' must be a string")
        flags = bool(state.get("rollingBack", False)), bool(state.get("keepPrevious", True))
        return cls(active, inactive, when, pending, *flags)
