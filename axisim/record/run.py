"""`axisim record`: read a device, anonymise what it said, write a fixture folder.

The order: the API list (the one request a dry run sends), the plan from it, every planned read
with a progress line on stderr each, the calls that follow from replies, then the files built in
memory, anonymised and checked, and only then written. A call that fails is recorded as failed
and the rest goes on; the recording stops only when the device cannot be reached at all, refuses
the credentials for param.cgi, or has no parameter definitions to serve.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import yarl

from .. import __version__
from . import plan, quirks
from .anonymise import Anonymiser, find
from .client import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT_S, RecordingClient, Reply
from .plan import Call, Plan
from .recording import Recording
from .write import Fixture, fixture_files, identity_forms, leaks, model_id_of, write_folder

DEFAULT_MAX_CALLS = 500
EXIT_UNREACHABLE = 1
EXIT_REFUSED = 3  # the anonymisation check found an original identifier: nothing written


@dataclass
class Options:
    url: str
    user: str
    password: str
    out: Path = Path(".")
    model_id: str | None = None
    dry_run: bool = False
    keep_identity: bool = False
    force: bool = False
    timeout: float = DEFAULT_TIMEOUT_S
    max_body: int = DEFAULT_MAX_BODY
    max_calls: int = DEFAULT_MAX_CALLS
    verify_tls: bool = True
    err: TextIO = field(default_factory=lambda: sys.stderr)
    out_stream: TextIO = field(default_factory=lambda: sys.stdout)


class RecordError(Exception):
    """The recording cannot go on (says why); `status` is the exit status."""

    def __init__(self, message: str, status: int = EXIT_UNREACHABLE) -> None:
        super().__init__(message)
        self.status = status


class Recorder:
    def __init__(self, options: Options, client: RecordingClient) -> None:
        self.options = options
        self.client = client
        self.recording = Recording(options.url, started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.total = 0
        self.stopped = ""

    def _progress(self, call: Call, reply: Reply) -> None:
        self.total += 1
        outcome = f"FAILED ({reply.failed})" if reply.failed else str(reply.status)
        line = f"[{self.total:3d}] {outcome:<8} {reply.elapsed_ms:8.1f} ms  {call.describe()}"
        print(line, file=self.options.err, flush=True)

    async def call(self, call: Call) -> Reply | None:
        """Send `call` (once: a call already recorded is not sent again); None past --max-calls."""
        known = self.recording.reply(call)
        if known is not None:
            return known
        if len(self.recording.exchanges) >= self.options.max_calls:
            self.stopped = f"--max-calls {self.options.max_calls} reached"
            return None
        reply = await self.client.send(call)
        self.recording.add(call, reply)
        self.recording.challenge = self.client.challenge
        self._progress(call, reply)
        return reply

    async def discover(self) -> Plan:
        reply = await self.call(plan.API_LIST)
        assert reply is not None
        if reply.status == 0:
            raise RecordError(f"cannot reach {self.options.url}: {reply.failed}")
        # a 404 is old firmware without apidiscovery (vapix-wire.md §5.1): the reads every device has
        return plan.make_plan(self.recording.apis() if reply.status == 200 else [])

    async def run(self, planned: Plan) -> None:
        for call in planned.calls:
            await self.call(call)
            if call == plan.DEFINITIONS:
                self._check_definitions()
        for follow in planned.follow:
            body = self.recording.ok_body(follow.after)
            for more in follow.expand(body) if body is not None else []:
                await self.call(more)

    def _check_definitions(self) -> None:
        reply = self.recording.reply(plan.DEFINITIONS)
        if reply is None or (reply.status == 200 and reply.failed is None):
            return
        if reply.status == 401:
            raise RecordError("the device refused the credentials for param.cgi (check --user and --password)")
        raise RecordError(f"param.cgi listdefinitions failed ({reply.failed or f'HTTP {reply.status}'}): no fixture")


async def record(options: Options) -> int:
    """Run `axisim record`; the exit status."""
    err = options.err
    host = yarl.URL(options.url).host or ""
    try:
        async with RecordingClient(
            options.url, options.user, options.password, timeout=options.timeout, max_body=options.max_body,
            verify_tls=options.verify_tls,
        ) as client:  # fmt: skip
            recorder = Recorder(options, client)
            planned = await recorder.discover()
            if options.dry_run:
                print_plan(planned, options.out_stream)
                return 0
            await recorder.run(planned)
    except RecordError as exc:
        print(f"axisim: {exc}", file=err)
        return exc.status
    recording = recorder.recording
    found = find(recording, host, options.user, options.password)
    anonymiser = None if options.keep_identity else Anonymiser.for_found(found)
    if options.keep_identity:
        print("axisim: WARNING: --keep-identity: the fixture holds the device's real serial, MAC, addresses, "
              "names and secrets; do not share it", file=err)  # fmt: skip
    model_id = model_id_of(recording, options.model_id)
    flags, notes = quirks.detect(recording)
    fixture = Fixture(
        model_id=model_id, forms=identity_forms(found, anonymiser), oui=found.oui, prefix_len=found.prefix_len,
        anonymised=anonymiser is not None, axisim_version=__version__, quirks=flags, quirk_notes=notes,
        not_recorded={**planned.nothing, **{api: "no known read-only call" for api in planned.unknown}},
        stopped=recorder.stopped, replaced=anonymiser.replaced() if anonymiser else {},
    )  # fmt: skip
    files = fixture_files(recording, fixture, anonymiser)
    if anonymiser is not None:
        found_leaks = leaks(files, anonymiser)
        if found_leaks:
            for path, what in found_leaks:
                print(f"axisim: {path} still holds {', '.join(what)}", file=err)
            print("axisim: refusing to write a fixture that holds an original identifier", file=err)
            return EXIT_REFUSED
    folder = options.out / model_id
    try:
        write_folder(files, folder, options.force)
    except (FileExistsError, OSError) as exc:
        print(f"axisim: {exc}", file=err)
        return 2
    failed = sum(1 for e in recording.exchanges if e.reply.failed)
    print(f"recorded: {len(recording.exchanges)} calls, {failed} failed", file=options.out_stream)
    print(f"fixture:  {folder}", file=options.out_stream)
    return 0


def print_plan(planned: Plan, out: TextIO) -> None:
    """The dry run: every call the recording would make, one a line."""
    for line in planned.lines():
        print(line, file=out)
    for api, why in sorted(planned.nothing.items()):
        print(f"# {api}: nothing to read ({why})", file=out)
    for api in planned.unknown:
        print(f"# {api}: advertised, no known read-only call (not recorded)", file=out)
