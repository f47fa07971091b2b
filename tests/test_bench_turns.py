"""Benchmarks 5 and 10 load their two sides in turn and report each side's median run
(bench/loadgen.py Turns), so a slow spell of a shared machine falls on both sides alike."""

from __future__ import annotations

from typing import Any

from bench.loadgen import LoadResult, Turns


class Scripted:
    """A load generator that answers from a script and records the order it was asked in."""

    def __init__(self, rates: dict[str, list[float]]) -> None:
        self.rates = {name: list(values) for name, values in rates.items()}
        self.order: list[str] = []

    def run(self, targets: list[Any], server: Any, *, seed: str, client: bool) -> LoadResult:
        self.order.append(server)
        return LoadResult("client", int(self.rates[server].pop(0) * 3), 3.0, 0, 1 if server == "b" else 0, 1.0, 2.0)


def test_sides_alternate_and_each_reports_its_median_run() -> None:
    load = Scripted({"a": [100, 300, 200], "b": [50, 40, 45]})
    turns = Turns(load, 3, "seed")  # type: ignore[arg-type]
    medians = turns.measure({"a": ([], "a"), "b": ([], "b")})  # type: ignore[dict-item]
    assert load.order == ["a", "b", "a", "b", "a", "b"]
    assert (medians["a"].rate, medians["b"].rate) == (200, 45)
    assert turns.ratios("a", "b") == "2.00, 7.50, 4.44"
    assert turns.errors == 3  # every round's errors count, not only the median's
