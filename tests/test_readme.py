"""The README's examples work as pasted (issue 16, items 6-8).

Every fenced block of README.md and docs/*.md is run here, against live devices on free ports of 127.0.0.1:
`sh` blocks with bash (`set -e`; `curl` is a shell function that fails on an HTTP error or an
error reply), `python` blocks with Python, and the pytest plugin's examples with pytest in an
empty folder with no configuration (and again under asyncio_mode=strict). An HTML comment before a
block, invisible on the rendered page, says what the block needs:

    <!-- readme-test: serve --model W401 --boot-time 1 -->   start `axisim serve ...` first
    <!-- readme-test: fleet --file site.toml -->             start `axisim fleet ...` first
    <!-- readme-test: file site.toml -->                     the block is a file the next blocks use
    <!-- readme-test: after-python -->                       run the previous python block (which
                                                              serves a device) in the background first
    <!-- readme-test: pytest -->                             the block is a test file for pytest
    <!-- readme-test: skip (reason) -->                      cannot run here (installs, runs forever)

The ports of the text (8080, 8081, 8443, 8079, and the MQTT broker's 1883) are replaced by free
ones; a block that runs a tool of `TOOLS` (Mosquitto) is skipped, saying so, where it is not
installed. The endpoints table is checked against what a built application serves for each model;
`python3 -m tests.test_readme` prints the table anew.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PORTS = ("8080", "8081", "8443", "8079", "1883")  # 1883: the MQTT broker a block starts
TOOLS = ("mosquitto", "mosquitto_sub")  # what a block may run besides bash, curl and axisim: skipped without
BLOCK_TIMEOUT = 60
NOTE = re.compile(r"<!--\s*readme-test:\s*(.*?)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")

pytest_plugins = ["pytester"]


@dataclass
class Block:
    line: int  # where the block starts in its file (1-based)
    lang: str
    text: str
    note: str  # the readme-test annotation, "" when there is none
    page: str = "README.md"  # README.md or docs/<page>.md

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def verb(self) -> str:
        return self.note.split(maxsplit=1)[0] if self.note else ""

    @property
    def args(self) -> str:
        return self.note.split(maxsplit=1)[1] if " " in self.note else ""


def readme_blocks(text: str | None = None, page: str = "README.md") -> list[Block]:
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        note = NOTE.search(before)
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        body = "\n".join(lines[index + 1 : end]) + "\n"
        blocks.append(Block(index + 1, opened.group(1), body, note.group(1) if note else "", page))
        index = end + 1
    return blocks


def all_blocks() -> list[Block]:
    """README.md's blocks, then each docs/*.md page's (the per-subsystem pages moved there)."""
    blocks = readme_blocks()
    for page in sorted((REPO / "docs").glob("*.md")):
        blocks += readme_blocks(page.read_text(encoding="utf-8"), page.relative_to(REPO).as_posix())
    return blocks


BLOCKS = all_blocks()
RUNNABLE = [b for b in BLOCKS if b.lang in ("sh", "python") and b.verb not in ("file",)]


# -- ports, processes ------------------------------------------------------------------------------
HANDED_OUT: set[int] = set()
HANDING_OUT = threading.Lock()


# the ports axisim derives from a device's port: a small fleet's next device and its HTTPS and RTSP
# blocks (+1, +2), HTTPS (+363), the RTSP fallback (+474)
DERIVED = (0, 1, 2, 363, 474)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port of 127.0.0.1 whose derived ports are free too, never the same twice in this
    process (blocks run side by side)."""
    with HANDING_OUT:
        for _ in range(100):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            block = {port + offset for offset in DERIVED}
            if max(block) <= 65535 and not block & HANDED_OUT and all(_bindable(p) for p in block - {port}):
                HANDED_OUT.update(block)
                return port
    raise AssertionError("no free port")


def with_ports(text: str, ports: dict[str, int]) -> str:
    return re.sub(r"\b(" + "|".join(ports) + r")\b", lambda m: str(ports[m.group(1)]), text)


def env() -> dict[str, str]:
    variables = dict(os.environ)
    variables["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), variables.get("PYTHONPATH")]))
    return variables


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the device stopped: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def start(command: list[str], cwd: Path, port: int, seconds: float = 20.0) -> subprocess.Popen[bytes]:
    """Start a device or fleet (its output to a file: a pipe nobody reads could stall it)."""
    log = cwd / f".readme-server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env(), stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_listening(port, process, log, seconds)
    except BaseException:
        stop(process)
        raise
    return process


# `axisim` as the blocks call it: this checkout's, on the free ports that replace the text's ones (exec, so
# that `kill %1` stops the device itself)
AXISIM = r"""#!/usr/bin/env bash
sub=$1 args=" $* "
shift
case "$sub" in
    serve)
        [[ $args == *" --port "* ]] || set -- "$@" --port "$README_PORT"
        [[ $args == *" --port "* || $args == *" --https-port "* || $args == *" --no-https "* ]] \
            || set -- "$@" --https-port "$README_HTTPS_PORT";;
    fleet)
        [[ $args == *" --control-port "* ]] || set -- "$@" --control-port "$README_CONTROL_PORT";;
esac
exec "$README_PYTHON" -m axisim "$sub" "$@"
"""

PRELUDE = r"""
set -eo pipefail
# curl as typed, failing the block on a transport error, an HTTP error status or a VAPIX error reply
curl() {
    local reply code body rc=0
    reply=$(command curl -sS --max-time 20 -w '\n%{http_code}' "$@") || rc=$?
    code=${reply##*$'\n'}
    body=${reply%$'\n'*}
    [ "$body" != "$code" ] && printf '%s\n' "$body"
    if [ "$rc" != 0 ]; then echo "readme-test: curl exit $rc: curl $*" >&2; return "$rc"; fi
    if [ "$code" -ge 400 ]; then echo "readme-test: HTTP $code: curl $*" >&2; return 22; fi
    case "$body" in
        "# Error"*|"# Request failed"*|"Error"*|*'"error":'*|*'"Fault":'*|*"<Error>"*|*'result="ERROR"'*)
            echo "readme-test: error reply: curl $*" >&2; return 23;;
    esac
}
"""


def run_shell(text: str, cwd: Path, ports: dict[str, int]) -> subprocess.CompletedProcess[str]:
    """Run a block with bash; whatever it left running in the background is stopped with it."""
    script = cwd / "block.sh"
    script.write_text(PRELUDE + text + "\n", encoding="utf-8")
    bin_dir = cwd / ".readme-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "axisim").write_text(AXISIM, encoding="utf-8")
    (bin_dir / "axisim").chmod(0o755)
    variables = env() | {
        "README_PORT": str(ports["8080"]), "README_HTTPS_PORT": str(ports["8443"]),
        "README_CONTROL_PORT": str(ports["8079"]), "README_PYTHON": sys.executable,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }  # fmt: skip
    out, err = cwd / ".readme-stdout", cwd / ".readme-stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            ["bash", str(script)], cwd=cwd, env=variables, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            returncode = -1
            stderr.write(f"\nreadme-test: the block ran longer than {BLOCK_TIMEOUT} s\n")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever the block left running
            process.wait(5)
    return subprocess.CompletedProcess(process.args, returncode, out.read_text(), err.read_text())


def previous_python(block: Block) -> Block:
    before = [b for b in BLOCKS if b.page == block.page and b.line < block.line and b.lang == "python"]
    assert before, f"{block.where}: after-python with no python block before it"
    return before[-1]


def prepare(folder: Path, ports: dict[str, int]) -> None:
    """The README's files (`file` blocks) in a fresh folder, as a reader's would hold them."""
    for block in BLOCKS:
        if block.verb == "file":
            (folder / block.args).write_text(with_ports(block.text, ports), encoding="utf-8")


def run_block(block: Block, folder: Path) -> str | None:
    """Run one sh or python block against what its annotation starts: None when it worked, else why not."""
    ports = {name: free_port() for name in PORTS}
    prepare(folder, ports)
    if "tests/data/" in block.note + block.text:  # an example "from the repository's root" (its test fixtures)
        (folder / "tests").symlink_to(REPO / "tests", target_is_directory=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        if block.verb == "serve":
            args = shlex.split(block.args)
            https = [] if "--no-https" in args else ["--https-port", str(ports["8443"])]
            command = [sys.executable, "-m", "axisim", "serve", *args, "--port", str(ports["8080"]), *https]
            processes.append(start(command, folder, ports["8080"]))
        elif block.verb == "fleet":
            args = shlex.split(with_ports(block.args, ports))
            command = [sys.executable, "-m", "axisim", "fleet", *args, "--control-port", str(ports["8079"])]
            # a site of worker processes answers once every worker has started (blocks run side by side)
            processes.append(start(command, folder, ports["8079"], 60.0 if "--workers" in args else 20.0))
        elif block.verb == "after-python":
            server = folder / "server.py"
            server.write_text(with_ports(previous_python(block).text, ports), encoding="utf-8")
            processes.append(start([sys.executable, str(server)], folder, ports["8080"]))
        elif block.verb:
            return f"unknown readme-test annotation {block.note!r}"
        text = with_ports(block.text, ports)
        if block.lang == "sh":
            result = run_shell(text, folder, ports)
        else:
            (folder / "example.py").write_text(text, encoding="utf-8")
            result = subprocess.run(
                [sys.executable, "example.py"], cwd=folder, env=env(), capture_output=True, text=True,
                timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        for process in processes:
            stop(process)
    return None if result.returncode == 0 else f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def serves_forever(block: Block) -> bool:
    return block.lang == "python" and "asyncio.Event().wait()" in block.text


def missing_tools(block: Block) -> list[str]:
    """The tools of `TOOLS` the block runs (a command word) that this machine lacks."""
    used = [t for t in TOOLS if re.search(rf"(?:^|[;&|(]\s*){re.escape(t)}\s", block.text, flags=re.M)]
    return [t for t in used if shutil.which(t) is None]


LIVE = [b for b in RUNNABLE if b.verb not in ("skip", "pytest") and not serves_forever(b) and not missing_tools(b)]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Every live block's outcome, the blocks run side by side (each its own folder, ports and devices),
    so the README's waits (a format job, the speaker test) overlap instead of adding up."""
    if shutil.which("curl") is None:
        return {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        futures = {b.where: pool.submit(run_block, b, tmp_path_factory.mktemp(block_id(b))) for b in LIVE}
        return {where: future.result() for where, future in futures.items()}


def block_id(block: Block) -> str:
    page = "" if block.page == "README.md" else block.page.removeprefix("docs/").removesuffix(".md") + "-"
    return f"{page}line{block.line}-{block.lang}"


@pytest.mark.parametrize("block", RUNNABLE, ids=[block_id(b) for b in RUNNABLE])
def test_readme_block_runs(block: Block, outcomes: dict[str, str | None], pytester: pytest.Pytester) -> None:
    if block.verb == "skip":
        pytest.skip(block.args or "marked skip in the README")
    if block.verb == "pytest":
        return run_pytest_example(block, pytester)
    if serves_forever(block):
        pytest.skip("serves until stopped: run by the sh block after it (after-python)")
    if missing_tools(block):
        pytest.skip(f"the block runs {', '.join(missing_tools(block))}, not installed here (.ci/run installs it)")
    if block.where not in outcomes:
        pytest.skip("curl is not installed")
    failure = outcomes[block.where]
    assert failure is None, f"{block.where}: {block.note}\n{failure}"


# -- the pytest plugin's examples: an empty folder, no configuration -------------------------------
def run_pytest_example(block: Block, pytester: pytest.Pytester) -> None:
    needed = re.findall(r"^(?:from|import) (\w+)", block.text, flags=re.M)
    missing = [name for name in needed if name not in ("pytest", "asyncio") and not importable(name)]
    if missing:
        pytest.skip(f"the example needs {', '.join(missing)}, not installed here")
    pytester.makepyfile(test_readme_example=block.text)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=block.text.count("async def test_"))
    # nothing asks the reader to configure anything (pytest-asyncio's loop-scope deprecation warning)
    assert "PytestDeprecationWarning" not in str(result.stdout) + str(result.stderr)


def importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_plugin_examples_also_run_in_strict_mode(pytester: pytest.Pytester) -> None:
    """A project that set pytest-asyncio's strict mode keeps it, and the axisim tests still run."""
    examples = [b for b in BLOCKS if b.verb == "pytest"]
    assert examples, "the README shows the pytest plugin"
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    pytester.makepyfile(test_readme_example=examples[0].text)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=examples[0].text.count("async def test_"))


def test_every_shell_and_python_block_is_run_or_says_why_not() -> None:
    for block in BLOCKS:
        if block.lang in ("sh", "python"):
            assert block.verb in ("", "serve", "fleet", "after-python", "pytest", "skip"), block
            if block.verb == "skip":
                assert block.args.startswith("("), f"{block.where}: a skip says why: skip (reason)"
        elif block.verb:
            assert block.verb == "file", block


def test_readme_starts_with_two_commands() -> None:
    """The first two blocks install and start a device, and install and run the tests."""
    first, second = BLOCKS[0], BLOCKS[1]
    assert "pip install" in first.text and "axisim serve" in first.text
    assert "pip install" in second.text and "pytest" in second.text


# -- the endpoints table ---------------------------------------------------------------------------
MODELS = ["S3008", "S3016", "S4000", "C1410MkII", "W401"]
TABLE_START, TABLE_END = "<!-- endpoints table -->", "<!-- end of endpoints table -->"
NOT_PROBED = ("restart", "factorydefault")  # served by every model (routes); probing would reset the device


async def served_paths(model: str) -> set[str]:
    """The VAPIX paths a built application serves for a model: routed, and not answered with Apache's 404."""
    from aiohttp.test_utils import TestClient, TestServer

    from axisim.device import make_device
    from axisim.pipeline import build_app
    from tests.conftest import DeviceClient

    device = make_device(model)
    app = build_app(device)
    paths = [r.get_info().get("path", "") for r in app.router.resources()]
    paths = [p for p in paths if p.startswith(("/axis-cgi/", "/vapix/"))]
    served = set()
    async with TestClient(TestServer(app)) as client:
        for path in paths:
            if any(word in path for word in NOT_PROBED):
                served.add(path)
                continue
            for method in ("GET", "POST"):
                reply = await DeviceClient(client, device).request(method, path)
                body = (await reply.read()).decode("latin-1")
                if not (reply.status == 404 and "was not found on this server" in body):
                    served.add(path)
                    break
    return served


def table_rows(served: dict[str, set[str]]) -> list[str]:
    """One row per directory and set of models: `/axis-cgi/disks/{list, format}.cgi | ✓ | ...`."""
    paths = sorted(set().union(*served.values()))
    models_of = lambda p: tuple(m for m in MODELS if p in served[m])  # noqa: E731
    key = lambda p: (-len(models_of(p)), [MODELS.index(m) for m in models_of(p)], p.rsplit("/", 1)[0])  # noqa: E731
    rows = []
    for _, group in itertools.groupby(sorted(paths, key=key), key=key):
        group = list(group)
        folder, models = group[0].rsplit("/", 1)[0], models_of(group[0])
        names = [p.rsplit("/", 1)[1] for p in group]
        suffix = ".cgi" if all(n.endswith(".cgi") for n in names) else ""
        if len(names) == 1:
            cell = f"`{folder}/{names[0]}`"
        else:
            cell = f"`{folder}/{{{', '.join(n.removesuffix(suffix) for n in names)}}}{suffix}`"
        rows.append(f"| {cell} | " + " | ".join("✓" if m in models else "" for m in MODELS) + " |")
    return rows


def expand(cell: str) -> list[str]:
    match = re.fullmatch(r"`(.*)\{(.*)\}(.*)`", cell)
    if not match:
        return [cell.strip("`")]
    return [match.group(1) + name.strip() + match.group(3) for name in match.group(2).split(",")]


def readme_table() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text, "the README has the endpoints table"
    table = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    listed: dict[str, set[str]] = {m: set() for m in MODELS}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != len(MODELS) + 1 or not cells[0].startswith("`"):
            continue
        for path in expand(cells[0]):
            for model, mark in zip(MODELS, cells[1:], strict=True):
                if mark:
                    listed[model].add(path)
    return listed


def test_endpoints_table_matches_what_each_model_serves() -> None:
    async def probe() -> dict[str, set[str]]:
        return {model: await served_paths(model) for model in MODELS}

    served = asyncio.run(probe())
    listed = readme_table()
    for model in MODELS:
        assert listed[model] == served[model], (model, listed[model] ^ served[model])


def main() -> Iterator[str]:
    served = asyncio.run(_all_served())
    yield "| endpoint | " + " | ".join(MODELS) + " |"
    yield "|---|" + "---|" * len(MODELS)
    yield from table_rows(served)


async def _all_served() -> dict[str, set[str]]:
    return {model: await served_paths(model) for model in MODELS}


if __name__ == "__main__":
    print("\n".join(main()))
