"""Server subprocesses: every server under test runs alone in its own process on a free port,
so it never shares an event loop (or a core) with the load generator or the other server.

Used as a context manager: the process is stopped on the way out, errors included."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """Something broke (a server did not start, a reply was wrong): the run exits non-zero."""


class ServerProcess:
    """`python -m <module> <args>` that prints one JSON line when it is ready and exits when
    its stdin closes."""

    def __init__(self, module: str, *args: str, timeout: float = 60.0) -> None:
        self.command = [sys.executable, "-m", module, *args]
        self.timeout = timeout
        self.process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}  # what it announced
        self._stderr: IO[str] | None = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> dict[str, Any]:
        """Start the process and return what it announced; BenchError if it never does."""
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115 (stop closes)
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.timeout
        line = ""
        while not line:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                break
            ready, _, _ = select.select([self.process.stdout], [], [], min(remaining, 0.5))
            if ready:
                line = self.process.stdout.readline()
                if not line:
                    break  # stdout closed: it died
        if not line:
            detail = self._stderr_tail()
            self.stop()
            raise BenchError(f"server did not start: {' '.join(self.command[2:])}\n{detail}")
        try:
            self.info = dict(json.loads(line))
        except ValueError as exc:
            self.stop()
            raise BenchError(f"server {' '.join(self.command[2:])} announced {line!r}") from exc
        return self.info

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server has used so far: per request, a cost that does not depend
        on how fast the load generator is (or on what else the machine runs)."""
        if self.process is None:
            return None
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def _stderr_tail(self, chars: int = 2000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-chars:]

    def stop(self) -> None:
        """Close stdin (the polite way), then terminate, then kill: never leave a listener behind."""
        process, self.process = self.process, None
        if process is not None:
            try:
                if process.stdin is not None:
                    process.stdin.close()
                process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                process.terminate()
                try:
                    process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
