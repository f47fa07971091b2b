"""The C load generator (engine "c", bench/cclient.c): built once per source version with the
machine's C compiler into a cache folder, fed the same targets as bench/client.py, returning the
same result keys. Where no compiler builds it, `available()` says why and the bench falls back to
the raw Python client."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("cclient.c")


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "axisim-bench"


@cache
def build() -> Path | str:
    """The built client's path, or why it could not be built."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return "no C compiler (cc or gcc) on the PATH"
    source = SOURCE.read_bytes()
    binary = _cache_folder() / f"cclient-{hashlib.sha256(source).hexdigest()[:16]}"
    if binary.exists():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(f".{os.getpid()}.tmp")
    done = subprocess.run([compiler, "-O2", "-o", str(partial), str(SOURCE)], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        return f"{compiler} could not build {SOURCE.name}: {done.stderr.strip()[-500:]}"
    partial.replace(binary)
    return binary


def available() -> str | None:
    """None when the C client is built, else why not."""
    built = build()
    return None if isinstance(built, Path) else built


def encode(spec: dict[str, Any]) -> bytes:
    """The spec of bench/client.py in the C client's input format (raw requests, HTTP/1.1)."""
    from .client import prepare

    addresses: dict[tuple[str, int], int] = {}
    parts: list[bytes] = []
    for target in spec["targets"]:
        prepared = prepare(target)
        host, port = prepared.address
        index = addresses.setdefault((socket.gethostbyname(host), port), len(addresses))
        parts.append(b"%d %d\n" % (index, len(prepared.raw)) + prepared.raw)
    seed = int.from_bytes(hashlib.sha256(str(spec.get("seed", "bench")).encode()).digest()[:8], "big")
    header = (f"{int(spec.get('connections', 16))} {round(float(spec['duration']) * 1000)} {seed} "
              f"{len(parts)} {len(addresses)}\n")  # fmt: skip
    lines = "".join(f"{host} {port}\n" for host, port in addresses)
    return (header + lines).encode("ascii") + b"".join(parts)


def run(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One load run of the C client; raises RuntimeError with its stderr when it fails."""
    built = build()
    if not isinstance(built, Path):
        raise RuntimeError(built)
    done = subprocess.run([str(built)], input=encode(spec), capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the C client failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
