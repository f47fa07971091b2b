"""Files a device keeps that are not parameters (uploaded audio clips), by content digest.

A device without a state directory keeps them in memory; once a state directory is
attached they live under its `files/` folder, written atomically, so device.json
only names them by digest and a thousand devices do not hold each other's uploads
in memory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DIGEST_LENGTH = 64


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_digest(value: object) -> bool:
    return isinstance(value, str) and len(value) == DIGEST_LENGTH and all(c in "0123456789abcdef" for c in value)


class FileStore:
    def __init__(self) -> None:
        self._memory: dict[str, bytes] = {}
        self.directory: Path | None = None

    def attach(self, directory: Path) -> None:
        """Keep files in `directory` from now on (those held in memory move there)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        for digest, data in list(self._memory.items()):
            self._write(digest, data)
        self._memory.clear()

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        if self.directory is None:
            self._memory[digest] = data
        elif not (self.directory / digest).exists():
            self._write(digest, data)
        return digest

    def get(self, digest: str) -> bytes | None:
        if self.directory is None:
            return self._memory.get(digest)
        try:
            return (self.directory / digest).read_bytes()
        except OSError:
            return None

    def __contains__(self, digest: str) -> bool:
        if self.directory is None:
            return digest in self._memory
        return is_digest(digest) and (self.directory / digest).is_file()

    def discard(self, digest: str) -> None:
        self._memory.pop(digest, None)
        if self.directory is not None and is_digest(digest):
            (self.directory / digest).unlink(missing_ok=True)

    def _write(self, digest: str, data: bytes) -> None:
        assert self.directory is not None
        temporary = self.directory / f"{digest}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / digest)
