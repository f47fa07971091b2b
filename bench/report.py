"""The result table: one row per measurement, axisim next to its baseline, the ratio and the target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    number: str
    name: str
    axisim: str = ""
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: no target, just a measurement
    errors: int = 0  # non-2xx replies, socket errors, devices that did not answer
    failed: str | None = None  # the benchmark broke: why
    note: str = ""
    client_bound: bool = False  # the fallback client, not the server, set the pace of a measurement
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.failed:
            return "FAILED"
        if self.errors:
            return f"ERRORS ({self.errors:,})"
        status = "" if self.met is None else ("ok" if self.met else "MISSED")
        return f"{status} (client-bound)".lstrip() if self.client_bound else status

    @property
    def broken(self) -> bool:
        return bool(self.failed or self.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number, "name": self.name, "axisim": self.axisim, "baseline": self.baseline,
            "ratio": self.ratio, "target": self.target, "met": self.met, "errors": self.errors,
            "failed": self.failed, "status": self.status, "client_bound": self.client_bound, "data": self.data,
        }  # fmt: skip


def rate(value: float) -> str:
    return f"{value:,.0f} req/s"


def table(rows: list[Row]) -> str:
    """Aligned columns; failures and notes listed under the table."""
    header = ("#", "benchmark", "axisim", "baseline", "ratio", "target", "")
    cells = [
        (r.number, r.name, r.axisim if not r.failed else "-", r.baseline if not r.failed else "-",
         f"{r.ratio:.2f}" if r.ratio is not None else "", r.target, r.status)
        for r in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
             for line in [header, *cells]]  # fmt: skip
    for row in rows:
        if row.failed:
            lines.append(f"{row.number}: FAILED: {row.failed}")
        if row.note:
            lines.append(f"{row.number}: {row.note}")
    return "\n".join(lines)
