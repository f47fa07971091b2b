"""Benchmarks 1-3: one simulated device against a bare aiohttp handler serving the same bytes,
and Digest against anonymous on one device, all under the same load generator."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from .loadgen import LoadGenerator, LoadResult, cpu_note
from .probe import Target, challenge, expect, probe, with_digest
from .report import Row, rate
from .servers import BenchError, ServerProcess

PARAM_PATH = "/axis-cgi/param.cgi"
BRAND = PARAM_PATH + "?action=list&group=root.Brand"
FULL = PARAM_PATH + "?action=list"
ADMIN_BRAND = "/axis-cgi/admin/param.cgi?action=list&group=root.Brand"  # admin only: a 401 even with anonymous viewing
BRAND_MODEL = "S3016"


@contextlib.contextmanager
def bare_server(body: bytes) -> Iterator[ServerProcess]:
    """The baseline process serving `body` as text/plain on param.cgi."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "body"
        path.write_bytes(body)
        args = ("bare", "--body-file", str(path), "--path", PARAM_PATH, "--content-type", "text/plain")
        with ServerProcess("bench.serve", *args) as bare:
            yield bare


def same_body(target: Target, body: bytes) -> None:
    """The baseline must send exactly what the device sent, or the comparison means nothing."""

    async def check(session: aiohttp.ClientSession) -> None:
        reply = await expect(session, target)
        if reply.body != body:
            raise BenchError(f"the bare server at {target.url} does not send the device's body")

    probe(check)


def compare(
    number: str,
    name: str,
    axisim: LoadResult,
    baseline: LoadResult,
    target: float | None,
    names: tuple[str, str] = ("axisim", "baseline"),
) -> Row:
    """A row of two rates, their ratio and, if there is one, whether the ratio meets the target."""
    ratio = axisim.rate / baseline.rate if baseline.rate else 0.0
    row = Row(number, name, rate(axisim.rate), rate(baseline.rate), ratio, errors=axisim.errors + baseline.errors,
              client_bound=axisim.client_bound or baseline.client_bound)  # fmt: skip
    if target is not None:
        row.target, row.met = f">= {target:g}", ratio >= target
    notes = [cpu_note(axisim, baseline, names)]
    if row.errors:
        notes.append(f"errors: {names[0]} {axisim.errors:,} of {axisim.requests:,}, "
                     f"{names[1]} {baseline.errors:,} of {baseline.requests:,}")  # fmt: skip
    row.note = "; ".join(note for note in notes if note)
    row.data = {"axisim": axisim.as_dict(), "baseline": baseline.as_dict()}
    return row


def brand_anonymous(load: LoadGenerator) -> list[Row]:
    """1: the smallest useful request, without authentication, against the same bytes from bare aiohttp."""
    with ServerProcess("bench.serve", "axisim", "--model", BRAND_MODEL, "--anonymous") as device:
        target = Target("GET", device.info["url"] + BRAND)
        body = probe(lambda s: expect(s, target, starts=b"root.Brand.Brand=")).body
        with bare_server(body) as bare:
            baseline = Target("GET", bare.info["url"] + BRAND)
            same_body(baseline, body)
            measured = load.run([target], device)
            base = load.run([baseline], bare)
    return [compare("1", f"param.cgi list root.Brand ({BRAND_MODEL}, anonymous)", measured, base, 0.8)]


async def _full_list_sizes(session: aiohttp.ClientSession, urls: dict[str, str]) -> dict[str, int]:
    sizes = {}
    for model, url in urls.items():
        target = Target("GET", url + FULL)
        reply = await expect(session, with_digest(target, await challenge(session, target)), starts=b"root.")
        sizes[model] = len(reply.body)
    return sizes


def full_list(load: LoadGenerator) -> list[Row]:
    """2: the largest reply a client commonly asks for, as the admin with Digest."""
    with ServerProcess("bench.serve", "models") as models:
        sizes = probe(lambda s: _full_list_sizes(s, dict(models.info["urls"])))
    largest = max(sizes, key=lambda model: sizes[model])
    with ServerProcess("bench.serve", "axisim", "--model", largest) as device:
        plain = Target("GET", device.info["url"] + FULL)
        target = with_digest(plain, probe(lambda s: challenge(s, plain)))
        body = probe(lambda s: expect(s, target, starts=b"root.")).body
        with bare_server(body) as bare:
            baseline = Target("GET", bare.info["url"] + FULL, dict(target.headers))  # same request, header ignored
            same_body(baseline, body)
            measured = load.run([target], device)
            base = load.run([baseline], bare)
    row = compare("2", f"param.cgi list, all ({largest}, {len(body):,} B, Digest)", measured, base, 0.5)
    row.data["sizes"] = sizes
    return [row]


def digest_vs_anonymous(load: LoadGenerator) -> list[Row]:
    """3: what Digest costs per request (a replayed header: parsing and MD5, no extra round trip)."""
    with ServerProcess("bench.serve", "axisim", "--model", BRAND_MODEL, "--anonymous") as device:
        anonymous = Target("GET", device.info["url"] + BRAND)
        admin = Target("GET", device.info["url"] + ADMIN_BRAND)
        nonce = probe(lambda s: challenge(s, admin))
        digest = with_digest(anonymous, nonce)
        probe(lambda s: expect(s, anonymous, starts=b"root.Brand.Brand="))
        probe(lambda s: expect(s, digest, starts=b"root.Brand.Brand="))
        # this device serves a wrong header as anonymous, so prove the header is accepted where
        # anonymous is not: the same nonce and credentials on the admin-only path
        probe(lambda s: expect(s, with_digest(admin, nonce), starts=b"root.Brand.Brand="))
        with_auth = load.run([digest], device)
        without = load.run([anonymous], device)
    row = compare("3", "root.Brand: Digest admin ÷ anonymous", with_auth, without, None, ("Digest", "anonymous"))
    row.axisim, row.baseline = f"{row.axisim} (Digest)", f"{row.baseline} (anon)"
    return [row]
