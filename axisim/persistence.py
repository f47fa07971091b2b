"""The state directory: everything a device was told, saved after each change, atomically.

`device.json` holds the device's difference from its model (parameter overlay,
added and removed groups), its accounts and its firmware; `https/` holds its
certificate and `files/` its uploads (audio clips), named by content digest.
Each save writes a temporary file, fsyncs it, renames it over the
old one and fsyncs the directory, so a process killed at any moment leaves
either the previous state or the new one, never half of one.

Loading checks everything before touching the device: a directory written for
another model or device, or damaged, raises StateError and nothing in it is
overwritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import __version__
from .accounts import AccountStore
from .device import FIRMWARE_VERSION, Device
from .firmware import Firmware
from .tls import Certificate

FORMAT = 1
STATE_FILE = "device.json"
CERT_FILE = "https/cert.pem"
KEY_FILE = "https/key.pem"
FILES_DIR = "files"  # uploads by content digest (axisim/files.py)


class StateError(Exception):
    """A state directory that cannot be used; the message says what is wrong and where."""


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def snapshot(device: Device) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "writer": f"axisim {__version__}",
        "model": device.model.id,
        "variant": device.variant.name,
        "serial": device.serial,
        "params": device.params.changes(),
        "accounts": device.accounts.to_state(),
        "firmware": device.firmware.to_state(),
        "subsystems": {name: subsystem.to_state() for name, subsystem in device.subsystems.items()},
    }


class StateDir:
    """One device's state directory."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.saves = 0

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    def _problem(self, what: str) -> StateError:
        return StateError(f"state directory {self.path}: {what}; nothing was changed in it")

    def prepare(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._problem(f"cannot be created ({exc.strerror or exc})") from exc
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise self._problem("is not writable")

    def load_into(self, device: Device) -> bool:
        """Bring the device to the saved state; False when there is none yet (a new device)."""
        if not self.state_file.exists():
            return False
        try:
            document = json.loads(self.state_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise self._problem(f"{STATE_FILE} is damaged ({exc})") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise self._problem(f"{STATE_FILE} is not an axisim state file of format {FORMAT}")
        for key, mine in (("model", device.model.id), ("variant", device.variant.name), ("serial", device.serial)):
            if document.get(key) != mine:
                raise self._problem(
                    f"it was written for {key} {document.get(key)!r}, not {mine!r}"
                    + (" (use the same --seed and --index)" if key == "serial" else "")
                )
        try:
            accounts = AccountStore.from_state(document.get("accounts"))
            firmware = Firmware.from_state(document.get("firmware"))
            params = document.get("params")
            if not isinstance(params, dict):
                raise ValueError("parameters: missing")
            subsystems = document.get("subsystems", {})
            if not isinstance(subsystems, dict):
                raise ValueError("subsystems: missing")
            device.params.restore(params)  # checks everything before changing anything
            for name, subsystem in device.subsystems.items():
                subsystem.load_state(subsystems.get(name))
        except ValueError as exc:
            raise self._problem(f"{STATE_FILE} is damaged: {exc}") from exc
        device.accounts = accounts
        device.firmware = firmware
        device.params.set_base({FIRMWARE_VERSION: firmware.active})
        device.settings_changed()
        return True

    def save(self, device: Device) -> None:
        data = json.dumps(snapshot(device), indent=1, sort_keys=True).encode("utf-8")
        _write_atomic(self.state_file, data)
        self.saves += 1

    def attach(self, device: Device) -> bool:
        """Load (if saved before), then save after every change. Returns whether state was loaded."""
        self.prepare()
        device.files.attach(self.path / FILES_DIR)
        loaded = self.load_into(device)
        if not loaded:
            self.save(device)
        device.on_change.append(lambda: self.save(device))
        return loaded

    # -- certificate ---------------------------------------------------------

    def certificate(self) -> Certificate | None:
        cert, key = self.path / CERT_FILE, self.path / KEY_FILE
        if not cert.exists() or not key.exists():
            return None
        try:
            return Certificate(cert.read_bytes(), key.read_bytes())
        except OSError as exc:
            raise self._problem(f"the certificate cannot be read ({exc.strerror or exc})") from exc

    def save_certificate(self, certificate: Certificate) -> None:
        (self.path / "https").mkdir(exist_ok=True)
        _write_atomic(self.path / KEY_FILE, certificate.key_pem)
        _write_atomic(self.path / CERT_FILE, certificate.cert_pem, mode=0o644)
