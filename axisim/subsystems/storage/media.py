"""What a storage disk holds and how its tools run: drives, recordings, encryption, jobs.

Pure state with no device and no HTTP, so the rules of the manuals' Storage
sections and of VAPIX edge storage are testable on their own. Times come from
the caller (the device's SimClock), so jobs and syncs progress without sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..base import Refusal

TB = 10**12
MAX_PASSPHRASE_BYTES = 512  # disk properties API: "max 512 bytes"


class StorageError(Refusal):
    """A tool or event refused; `reason` is a stable key the handlers map to wire errors."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Drive:
    """One hard drive in a bay (bays are 0-based, as RAID componentId is)."""

    bay: int
    serial: str
    capacity: int  # bytes
    temperature: float = 35.0  # degrees Celsius
    failed: bool = False
    syncing: bool = False  # a replacement being rebuilt into the RAID

    @property
    def status(self) -> str:
        """As the 'Hard drive status' view shows it."""
        if self.failed:
            return "Failed"
        return "Syncing" if self.syncing else "Online"

    def to_state(self) -> dict[str, object]:
        return {"bay": self.bay, "serial": self.serial, "capacity": self.capacity,
                "temperature": self.temperature, "failed": self.failed, "syncing": self.syncing}  # fmt: skip

    @classmethod
    def from_state(cls, data: dict[str, object]) -> Drive:
        return cls(int(data["bay"]), str(data["serial"]), int(data["capacity"]),  # type: ignore[call-overload]
                   float(data["temperature"]), bool(data["failed"]), bool(data["syncing"]))  # type: ignore[arg-type]  # fmt: skip


@dataclass
class Recording:
    id: str
    size: int  # bytes
    created: float  # unix time
    damaged: bool = False  # on a part of the file system a check or repair will find broken


def passphrase_digest(passphrase: str, salt: bytes | None = None) -> str:
    """Salted PBKDF2, so the state directory never holds an encryption password."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", passphrase.encode("utf-8", "surrogateescape"), salt, 20_000)
    return f"{salt.hex()}${digest.hex()}"


def passphrase_matches(passphrase: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    try:
        expected = passphrase_digest(passphrase, bytes.fromhex(salt))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


def check_passphrase(passphrase: str) -> None:
    if not passphrase or len(passphrase.encode("utf-8", "surrogateescape")) > MAX_PASSPHRASE_BYTES:
        raise StorageError("invalid_passphrase", "Invalid passphrase.")


@dataclass
class Disk:
    """The disk as the device's storage sees it: one HDD, a RAID, or a network share.

    `encryption_key` is the device's setting (what enablediskencryption stored);
    `encrypted_with` is what the disk itself is encrypted with. A factory default
    forgets the first and keeps the second: the disk then waits for its password.
    """

    disk_id: str
    group: str  # the Storage.S# instance
    filesystem: str = "ext4"  # "" when the disk holds none (a new drive, a recreated RAID)
    mounted: bool = True
    encrypted_with: str | None = None  # digest of the passphrase the disk is encrypted with
    encryption_key: str | None = None  # digest of the passphrase the device holds
    wrong_key: bool = False  # the device's passphrase did not open the disk
    recordings: list[Recording] = field(default_factory=list)
    fs_errors: bool = False
    next_recording: int = 1

    @property
    def encrypted(self) -> bool:
        return self.encrypted_with is not None

    @property
    def used(self) -> int:
        return sum(r.size for r in self.recordings)

    def erase(self) -> None:
        self.recordings.clear()
        self.fs_errors = False

    def key_opens(self) -> bool:
        return self.encrypted_with is None or self.encryption_key == self.encrypted_with

    def to_state(self) -> dict[str, object]:
        return {
            "filesystem": self.filesystem, "mounted": self.mounted, "encrypted_with": self.encrypted_with,
            "encryption_key": self.encryption_key, "wrong_key": self.wrong_key, "fs_errors": self.fs_errors,
            "next_recording": self.next_recording,
            "recordings": [[r.id, r.size, r.created, r.damaged] for r in self.recordings],
        }  # fmt: skip

    def load_state(self, data: dict[str, object]) -> None:
        recordings = [Recording(str(i), int(s), float(c), bool(d)) for i, s, c, d in data["recordings"]]  # type: ignore[attr-defined]
        filesystem = str(data["filesystem"])
        if filesystem not in ("", "ext4", "vfat", "cifs"):
            raise ValueError(f"file system {filesystem!r}")
        self.filesystem = filesystem
        self.mounted = bool(data["mounted"])
        self.encrypted_with = None if data["encrypted_with"] is None else str(data["encrypted_with"])
        self.encryption_key = None if data["encryption_key"] is None else str(data["encryption_key"])
        self.wrong_key = bool(data["wrong_key"])
        self.fs_errors = bool(data["fs_errors"])
        self.next_recording = int(data["next_recording"])  # type: ignore[call-overload]
        self.recordings = recordings


@dataclass
class Job:
    """A long disk tool: progress grows with the clock; `finish` applies its effect once."""

    id: int
    action: str  # format, checkdisk, repair, mount, unmount, test
    disk_id: str
    started: float
    duration: float
    finish: Callable[[], str]  # applies the effect, returns the description; StorageError -> ERROR
    result: str = "OK"
    description: str = ""
    reason: str = ""  # the StorageError reason of a job that ended in ERROR
    done: bool = False

    def progress(self, now: float) -> int:
        if self.done or self.duration <= 0:
            return 100
        return min(99, int((now - self.started) * 100 / self.duration))

    def due(self, now: float) -> bool:
        return not self.done and now >= self.started + self.duration

    def complete(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.description = self.finish()
        except StorageError as exc:
            self.result, self.description, self.reason = "ERROR", exc.message, exc.reason
