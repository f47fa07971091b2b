"""Run a site as N worker processes behind one control API (`axisim fleet --workers N`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import ipaddress
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

from ..fleet import write_inventory
from ..fleet_plan import FleetPlan, Shard
from ..listen_site import BACKLOG, bound_socket
from .aggregate import Site, build_site_app
from .workers import Worker, worker_argv


def _report(message: str) -> None:
    print(f"axisim: {message}", file=sys.stderr, flush=True)


def _control_socket(host: str, port: int) -> socket.socket:
    """The control API's listening socket on host:port (0: a free one); a name is resolved first."""
    if not host:
        host = "0.0.0.0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        host = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]
    sock = bound_socket(host, port)
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


async def run_site(args: argparse.Namespace, plan: FleetPlan, count: int, inventory_stem: Path) -> int:
    """Start `count` workers, serve the site's control API, restart workers that die; until
    SIGTERM or SIGINT, which stops every worker."""
    with tempfile.TemporaryDirectory(prefix="axisim-site-") as scratch:
        try:
            # bound before any worker starts: a worker's devices on free ports cannot take it
            control = _control_socket(args.control_host, args.control_port)
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be had: {exc.strerror or exc}"
            _report(f"port {args.control_port} (the control API) {reason}; choose another with --control-port")
            return 1
        argv = worker_argv(list(getattr(args, "argv", [])))
        workers = [Worker(Shard(k, count), argv, Path(scratch) / f"shard-{k}") for k in range(count)]
        began = time.perf_counter()
        starts = await asyncio.gather(*(w.start() for w in workers), return_exceptions=True)
        failed = [r for r in starts if isinstance(r, BaseException)]
        if failed:
            control.close()
            await asyncio.gather(*(w.stop() for w in workers))
            for problem in failed:
                _report(str(problem))
            return 1
        elapsed = time.perf_counter() - began
        site = Site(workers, plan.size)
        runner = web.AppRunner(build_site_app(site), access_log=None)
        await runner.setup()
        await web.SockSite(runner, control).start()
        port = control.getsockname()[1]
        watchers: list[asyncio.Task[None]] = []
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            # the rows are not kept: about 2 KB a device in a process that holds no device
            json_path, csv_path = write_inventory(await site.inventory(), inventory_stem)
            sizes = ", ".join(str(len(w.shard.span(plan.size))) for w in workers)
            print(f"site:      {plan.size} devices in {count} workers ({sizes}), seed {plan.seed!r}, "
                  f"started in {elapsed:.2f} s")  # fmt: skip
            print(f"inventory: {json_path} and {csv_path}")
            if plan.state_dir:
                print(f"state:     {plan.state_dir}/<serial>")
            for worker in workers:
                pid = worker.process.pid if worker.process else "-"
                print(f"worker:    {worker.shard} pid {pid} control {worker.control}")
            print(f"control:   http://{args.control_host}:{port}/devices")
            print(f"page:      http://{args.control_host}:{port}/  (the site page: open it in a browser)")
            sys.stdout.flush()
            watchers = [asyncio.create_task(w.keep_running(_report)) for w in workers]
            await stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            for task in watchers:
                task.cancel()
            for task in watchers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runner.cleanup()
            await asyncio.gather(*(w.stop() for w in workers))
    return 0
