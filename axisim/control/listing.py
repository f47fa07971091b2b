"""Paging and filtering of the device list (`GET /devices?q=&status=&faulted=&offset=&limit=`).

A site page shows 50 rows of a 10,000-device fleet and polls them every few seconds, so the control
API answers one page, filtered on its side, with the totals the page needs (how many match, how
many devices are ready, booting, offline or faulted). No parameter: every device, as before.

The filter is the same in a fleet's control API and in the site's (axisim/site/aggregate.py), which
passes it to each shard and stitches the pages together: `Query` is the one reading of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from param_tree import whole_number

STATUSES = ("ready", "booting", "offline")
MAX_QUERY = 200  # characters of a search
MAX_TERMS = 8


class ListingError(ValueError):
    """A query parameter the listing cannot use (a 400 with this message)."""


def status_of(state: str, reachable: bool) -> str:
    """What a client of the device sees: `ready`, `booting` (it answers, systemready says no) or
    `offline` (no answer: taken off the network, its listeners closed, or no power)."""
    if not reachable or state in ("offline", "off"):
        return "offline"
    return "booting" if state == "booting" else "ready"


def _text_of(row: Mapping[str, Any]) -> str:
    """What a search looks in: `#<index>`, model, variant, serial, MAC, host name, address:port."""
    return (
        f"#{row.get('index')} {row.get('model', '')} {row.get('variant', '')} {row.get('serial', '')} "
        f"{row.get('mac', '')} {row.get('hostname', '')} {row.get('address', '')}:{row.get('http_port')}"
    ).lower()


@dataclass(frozen=True)
class Query:
    """One reading of the listing's query parameters; `Query()` lists everything."""

    terms: tuple[str, ...] = ()  # every one is found in the row's text (case-insensitive)
    status: str | None = None  # one of STATUSES
    faulted: bool | None = None  # True: with a fault; False: without
    offset: int = 0
    limit: int | None = None  # None: every matching row

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Query:
        text = query.get("q", "")
        if len(text) > MAX_QUERY:
            raise ListingError(f"q is at most {MAX_QUERY} characters")
        terms = tuple(text.lower().split())
        if len(terms) > MAX_TERMS:
            raise ListingError(f"q is at most {MAX_TERMS} words")
        status = query.get("status") or None
        if status is not None and status not in STATUSES:
            raise ListingError(f"status is one of {', '.join(STATUSES)}")
        faulted_text = query.get("faulted")
        faulted = {None: None, "": None, "true": True, "1": True, "false": False, "0": False}.get(faulted_text, ...)
        if faulted is ...:
            raise ListingError("faulted is true or false")
        offset = whole_number(query.get("offset", "0"))
        if offset is None:
            raise ListingError("offset is a whole number")
        limit = None
        if "limit" in query:
            limit = whole_number(query["limit"])
            if limit is None:
                raise ListingError("limit is a whole number")
        return cls(terms, status, faulted, offset, limit)  # type: ignore[arg-type]

    @property
    def filters(self) -> bool:
        return bool(self.terms) or self.status is not None or self.faulted is not None

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether a row (inventory, `status`, `faults` count) is kept."""
        if self.status is not None and row["status"] != self.status:
            return False
        if self.faulted is not None and (row["faults"] > 0) != self.faulted:
            return False
        if self.terms:
            text = _text_of(row)
            return all(term in text for term in self.terms)
        return True

    def window(self, total: int) -> range:
        """The positions among `total` matching rows this query's page holds."""
        start = min(self.offset, total)
        stop = total if self.limit is None else min(total, start + self.limit)
        return range(start, stop)

    def to_params(self, offset: int | None = None, limit: int | None = None) -> dict[str, str]:
        """The query parameters that ask a shard the same thing (for its own offset and limit)."""
        params: dict[str, str] = {}
        if self.terms:
            params["q"] = " ".join(self.terms)
        if self.status is not None:
            params["status"] = self.status
        if self.faulted is not None:
            params["faulted"] = "true" if self.faulted else "false"
        params["offset"] = str(self.offset if offset is None else offset)
        chosen = self.limit if limit is None else limit
        if chosen is not None:
            params["limit"] = str(chosen)
        return params


def summary(statuses: Iterable[str], faulted: int) -> dict[str, Any]:
    """The counts a site page shows above the list: devices by status, and those with a fault."""
    counts = dict.fromkeys(STATUSES, 0)
    for status in statuses:
        counts[status] += 1
    return {"statuses": counts, "faulted": faulted}


def merge_summaries(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The summary of a site from its shards' summaries."""
    counts = dict.fromkeys(STATUSES, 0)
    faulted = 0
    for part in parts:
        for status, count in part.get("statuses", {}).items():
            counts[status] = counts.get(status, 0) + int(count)
        faulted += int(part.get("faulted", 0))
    return {"statuses": counts, "faulted": faulted}
