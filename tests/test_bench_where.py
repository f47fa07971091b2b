"""`python3 -m bench.where` (bench/where.py): the breakdown of benchmark 5's server CPU per request
runs end to end, with each part switched off in the server process still answering every request
right (the load run refuses to report figures after any error). Bounded: 3 devices, 0.2 s each."""

from __future__ import annotations

import re

import pytest

from bench import where


def test_the_breakdown_measures_every_variant_and_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert where.main(["--duration", "0.2", "--repeat", "1", "--size", "3", "--client", "raw"]) == 0
    out = capsys.readouterr().out
    for row in ("axisim ", "axisim without lean ", "axisim without digest ", "axisim without journal ",
                "axisim without digest,journal ",
                "bare aiohttp (baseline) ", "plain asyncio, no framework (floor) "):  # fmt: skip
        assert re.search(rf"^{re.escape(row)}\s+[\d.]+ µs\s+[-+][\d.]+ µs", out, re.MULTILINE), (row, out)
    assert len(re.findall(r"^/axis-cgi/\S+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", out, re.MULTILINE)) == 5, out


def test_an_unknown_switch_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown --without"):
        where.switch_off(["digest", "nothing"])
