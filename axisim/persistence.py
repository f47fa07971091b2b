"""The state directory: everything a device was told, saved after each change, atomically.

`device.json` holds the device's difference from its model (parameter overlay,
added and removed groups), its accounts (each by its Digest HA1, never a
password) and its firmware; `https/` holds its
certificate and `files/` its uploads (audio clips), named by content digest.
Each save writes a temporary file, fsyncs it, renames it over the
old one and fsyncs the directory, so a process killed at any moment leaves
either the previous state or the new one, never half of one.

Starting with a state directory is two steps, so a start that fails leaves the
directory as it was: `load_into` reads and checks everything (device.json, the
certificate pair) and writes nothing, not even the directory; `start_saving`,
called once the device is listening, creates what is missing and saves from then
on. A directory written for another model or device, or damaged in any way,
raises StateError naming the file and the fault, and nothing in it is changed.
`attach` does both at once (tests, and a device that needs no listener).
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
from .tls import Certificate, CertificateError, server_context

FORMAT = 2  # 2: accounts keep their Digest HA1, not their password
READABLE_FORMATS = (1, 2)  # format 1 (plain passwords) is read, and saved again as 2 once listening
MAX_DEPTH = 32  # device.json nests a few levels; anything deeper is damage, not data
STATE_FILE = "device.json"
CERT_FILE = "https/cert.pem"
KEY_FILE = "https/key.pem"
FILES_DIR = "files"  # uploads by content digest (axisim/files.py)


class StateError(Exception):
    """A state directory that cannot be used; the message says what is wrong and where."""


# what a damaged but well-formed JSON document can make a loader raise; each becomes a StateError
DAMAGE = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError)


def _too_deep(document: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether the document nests deeper than `limit` (iterative: no recursion to exhaust)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


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
        "certificates": device.certificates.to_state(),
    }


class StateDir:
    """One device's state directory: `load_into` (reads only), then `start_saving`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.saves = 0
        self.saving = False  # nothing is written before start_saving
        self._certificate: Certificate | None = None  # read by load_into, or made before saving started
        self._certificate_on_disk = False
        self._certificate_read = False
        self._rewrite = False  # the loaded file needs saving in the current form (older format)
        self._loaded: dict[str, Any] | None = None  # the snapshot as loaded: changes made before saving show

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    def _problem(self, what: str) -> StateError:
        return StateError(f"state directory {self.path}: {what}; nothing was changed in it")

    def check(self) -> None:
        """The directory can be used (or created) and written: checked without writing anything."""
        if self.path.exists():
            if not self.path.is_dir():
                raise self._problem("is not a directory")
            if not os.access(self.path, os.W_OK | os.X_OK):
                raise self._problem("is not writable")
            return
        parent = self.path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise self._problem(f"cannot be created ({parent} is not a writable directory)")

    def prepare(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._problem(f"cannot be created ({exc.strerror or exc})") from exc
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise self._problem("is not writable")

    def _read_document(self) -> dict[str, Any]:
        try:
            document = json.loads(self.state_file.read_bytes())
        except RecursionError as exc:
            raise self._problem(f"{STATE_FILE} is damaged (nested too deeply)") from exc
        except (OSError, ValueError) as exc:
            raise self._problem(f"{STATE_FILE} is damaged ({exc})") from exc
        if _too_deep(document):
            raise self._problem(f"{STATE_FILE} is damaged (nested deeper than {MAX_DEPTH} levels)")
        if not isinstance(document, dict) or document.get("format") not in READABLE_FORMATS:
            raise self._problem(f"{STATE_FILE} is not an axisim state file of format {FORMAT}")
        return document

    def load_into(self, device: Device) -> bool:
        """Bring the device to the saved state; False when there is none yet (a new device).
        Reads and checks everything, the certificate too, and writes nothing."""
        self.check()
        for folder in (FILES_DIR, "https"):
            if (self.path / folder).exists() and not (self.path / folder).is_dir():
                raise self._problem(f"{folder} is not a directory")
        self._read_certificate()
        files = self.path / FILES_DIR
        if files.is_dir():
            device.files.attach(files)  # an existing folder: nothing is created or moved
        if not self.state_file.exists():
            return False
        document = self._read_document()
        for key, mine in (("model", device.model.id), ("variant", device.variant.name), ("serial", device.serial)):
            if document.get(key) != mine:
                raise self._problem(
                    f"it was written for {key} {document.get(key)!r}, not {mine!r}"
                    + (" (use the same --seed and --index)" if key == "serial" else "")
                )
        try:
            accounts, plain = AccountStore.from_state(document.get("accounts"), device.identity.realm)
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
            device.certificates.load_state(document.get("certificates"))
        except DAMAGE as exc:
            raise self._problem(f"{STATE_FILE} is damaged: {exc or type(exc).__name__}") from exc
        device.accounts = accounts
        self._rewrite = plain or document.get("format") != FORMAT  # no plain password stays on disk
        device.firmware = firmware
        device.params.set_base({FIRMWARE_VERSION: firmware.active})
        device.settings_changed()
        self._loaded = snapshot(device)
        return True

    def start_saving(self, device: Device) -> None:
        """The device is listening: create what is missing, save, and save after every change."""
        if self.saving:
            return
        self.prepare()
        try:
            device.files.attach(self.path / FILES_DIR)
            # a device that listened before saving started (a fleet starting) may have been changed
            if not self.state_file.exists() or self._rewrite or snapshot(device) != self._loaded:
                self.save(device)
            self.saving = True
            if self._certificate is not None and not self._certificate_on_disk:
                self.save_certificate(self._certificate)
        except OSError as exc:
            raise StateError(f"state directory {self.path}: cannot be written ({exc.strerror or exc})") from exc
        device.on_change.append(lambda: self.save(device))

    def save(self, device: Device) -> None:
        data = json.dumps(snapshot(device), indent=1, sort_keys=True).encode("utf-8")
        _write_atomic(self.state_file, data)
        self.saves += 1

    def attach(self, device: Device) -> bool:
        """Load (if saved before), then save after every change. Returns whether state was loaded."""
        loaded = self.load_into(device)
        self.start_saving(device)
        return loaded

    # -- certificate ---------------------------------------------------------

    def _read_certificate(self) -> None:
        """Both halves of the pair or neither: one alone, or a pair that does not work, is damage."""
        self._certificate_read = True
        cert, key = self.path / CERT_FILE, self.path / KEY_FILE
        present = [name for name, path in ((CERT_FILE, cert), (KEY_FILE, key)) if path.exists()]
        if not present:
            return
        if len(present) == 1:
            missing = KEY_FILE if present == [CERT_FILE] else CERT_FILE
            raise self._problem(f"{missing} is missing ({present[0]} is there)")
        try:
            certificate = Certificate(cert.read_bytes(), key.read_bytes())
            server_context(certificate)  # about a millisecond: a broken pair is found now, not at bind
        except OSError as exc:
            raise self._problem(f"the certificate cannot be read ({exc.strerror or exc})") from exc
        except CertificateError as exc:
            raise self._problem(f"{CERT_FILE} and {KEY_FILE} are damaged ({exc})") from exc
        self._certificate, self._certificate_on_disk = certificate, True

    def certificate(self) -> Certificate | None:
        """The saved certificate (read by load_into), or None when there is none yet."""
        if not self._certificate_read:
            self._read_certificate()
        return self._certificate

    def save_certificate(self, certificate: Certificate) -> None:
        """Keep a new certificate; it is written now if saving has started, else when it starts."""
        self._certificate, self._certificate_on_disk = certificate, False
        if not self.saving:
            return
        (self.path / "https").mkdir(exist_ok=True)
        _write_atomic(self.path / KEY_FILE, certificate.key_pem)
        _write_atomic(self.path / CERT_FILE, certificate.cert_pem, mode=0o644)
        self._certificate_on_disk = True
