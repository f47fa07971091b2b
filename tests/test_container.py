"""The container image definition and the generated docker compose file (issue 22, "Kubernetes
and containers"). No image can be built here (no container registry is reachable), so the
Containerfile is checked for what a build needs: every COPY source exists and is not ignored, the
packages setup.cfg installs are all copied, the user is not root, and the ENTRYPOINT and CMD are
arguments axisim's own parser takes. `axisim compose` output is checked by `docker compose config`
where docker compose is installed, and always by loading it and parsing every service's command."""

from __future__ import annotations

import configparser
import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from axisim.cli import main, parser
from axisim.fleet_cli import plan_from_args

REPO = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """The Containerfile's instructions (continuation lines joined, comments dropped)."""
    joined: list[str] = []
    pending = ""
    for line in (REPO / "Containerfile").read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` (or a folder above it) out of the build context."""
    patterns = [
        p.strip() for p in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if p.strip() and not p.startswith("#")
    ]  # fmt: skip
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, p.removeprefix("**/")) for p in patterns for prefix in prefixes)


def test_every_copy_source_exists_and_reaches_the_build() -> None:
    copies = [args for verb, args in instructions() if verb == "COPY"]
    assert copies
    sources = [s for args in copies for s in shlex.split(args)[:-1] if not s.startswith("--")]
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file"
        assert not ignored(source), f"COPY {source}: .dockerignore leaves it out"
    # the link axisim/fixtures -> ../fixtures resolves inside the image too, and every model's files ship
    assert (REPO / "axisim" / "fixtures").is_symlink() and "fixtures/" in sources
    # every package setup.cfg installs is copied
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    packages = {p.strip().split(".")[0] for p in setup["options.packages.find"]["include"].split() if p.strip()}
    assert packages <= {s.rstrip("/") for s in sources}
    for needed in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):  # long_description, license_files
        assert needed in sources
    for left_out in ("tests", "bench", ".git", "deploy"):
        assert ignored(left_out)


def test_the_image_runs_axisim_as_a_user_with_a_cmd_axisim_takes() -> None:
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.12-slim")
    users = [args for verb, args in steps if verb == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    entrypoint = json.loads(next(args for verb, args in steps if verb == "ENTRYPOINT"))
    command = json.loads(next(args for verb, args in steps if verb == "CMD"))
    assert entrypoint == ["axisim"]
    args = parser().parse_args(command)
    assert args.command == "fleet" and args.control_host == "0.0.0.0"
    assert str(args.state_dir).startswith("/var/lib/axisim")  # the user's home, a volume in the manifests
    assert plan_from_args(args).size == args.count  # the whole site, unless AXISIM_SHARD* says otherwise
    exposed = " ".join(args for verb, args in steps if verb == "EXPOSE").split()
    assert str(args.control_port) in exposed


def generate(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["compose", *argv]) == 0
    text = capsys.readouterr().out
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    document["__text__"] = text
    return document


def parsed(command: list[str]):
    """A service's command as axisim parses it (compose's `$$` is a `$`; a container's host name
    resolves only inside it, so 127.0.0.1 stands in for it here)."""
    argv = [a.replace("$$", "$") for a in command]
    if "--host" in argv:
        argv[argv.index("--host") + 1] = "127.0.0.1"
    return parser().parse_args(argv)


def test_compose_has_one_service_per_shard_and_the_site(capsys: pytest.CaptureFixture[str]) -> None:
    document = generate(
        capsys, "--count", "100", "--shards", "3", "--models", "S3008,W401", "--https", "--password", "pa$s"
    )  # fmt: skip
    services = document["services"]
    assert sorted(services) == ["axisim-0", "axisim-1", "axisim-2", "site"]
    seen: list[int] = []
    for k in range(3):
        service = services[f"axisim-{k}"]
        assert service["image"] == "axisim:latest" and service["hostname"] == f"axisim-{k}"
        args = parsed(service["command"])
        assert args.command == "fleet" and args.shard == f"{k}/3" and args.count == 100 and args.https
        assert args.models == "S3008,W401" and args.password == "pa$s"  # compose reads $$ as $
        assert args.control_host == "0.0.0.0" and args.control_port == 8079
        assert service["command"][service["command"].index("--host") + 1] == f"axisim-{k}"  # its own address
        volume = service["volumes"][0].split(":")[0]
        assert volume in document["volumes"] and service["volumes"][0].endswith(":/var/lib/axisim")
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        seen.extend(plan_from_args(args).span)
    assert seen == list(range(100))  # the shards hold the site, each device once
    site = services["site"]
    args = parsed(site["command"])
    assert args.command == "site" and args.shards == 3 and site["ports"] == ["8079:8079"]
    assert [args.shard_url.replace("{k}", str(k)) for k in range(3)] == [f"http://axisim-{k}:8079" for k in range(3)]
    assert sorted(site["depends_on"]) == ["axisim-0", "axisim-1", "axisim-2"]


def docker_compose() -> list[str] | None:
    """`docker compose` (v2) or `docker-compose` (v1), whichever runs here."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        if probe.returncode == 0:
            return command
    return None


def test_compose_output_is_a_valid_compose_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = generate(capsys, "--count", "10", "--shards", "2", "--control-port", "18079", "--seed", "lab")
    (tmp_path / "compose.yaml").write_text(document["__text__"], encoding="utf-8")
    command = docker_compose()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` runs here; the structure is checked above")
    checked = subprocess.run(
        [*command, "-f", str(tmp_path / "compose.yaml"), "config"], capture_output=True, text=True, timeout=60,
        cwd=tmp_path,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    resolved = yaml.safe_load(checked.stdout)
    assert sorted(resolved["services"]) == ["axisim-0", "axisim-1", "site"]
    assert "--seed" in resolved["services"]["axisim-1"]["command"]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--count", "10", "--shards", "2", "--host", "10.0.0.1"], "compose sets --host"),
        (["--count", "10", "--shards", "2", "--state-dir=/x"], "compose sets --state-dir"),
        (["--count", "1", "--shards", "2"], "every shard needs one"),
        (["--count", "10", "--shards", "2", "--control-port", "0"], "fixed host port"),
    ],
)
def test_compose_refuses_what_it_cannot_generate(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:  # fmt: skip
    assert main(["compose", *argv]) == 2
    captured = capsys.readouterr()
    assert said in captured.err and captured.out == ""


def test_a_bad_fleet_option_is_refused_as_fleet_refuses_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compose", "--count", "10", "--shards", "2", "--models", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["compose", "--count", "10", "--shards", "2", "--base-port", "70000"])
    assert refused.value.code == 2 and "70000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--no-such-option"])  # only compose passes options on (to fleet)
    assert refused.value.code == 2 and "--no-such-option" in capsys.readouterr().err


def test_the_build_context_the_containerfile_copies_builds_the_package(tmp_path: Path) -> None:
    """`pip install /src` as the image runs it: only what the COPY lines bring (less .dockerignore's
    files), built offline into a wheel that holds every model."""
    src = tmp_path / "src"
    src.mkdir()
    for args in (args for verb, args in instructions() if verb == "COPY"):
        *sources, _ = shlex.split(args)
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                shutil.copytree(
                    origin, src / source.rstrip("/"), symlinks=True,
                    ignore=lambda folder, names: [n for n in names if n == "__pycache__" or n.endswith(".pyc")],
                )  # fmt: skip
            else:
                shutil.copy2(origin, src / source)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
         str(tmp_path / "out"), str(src)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    wheels = sorted((tmp_path / "out").glob("axisim-*.whl"))
    if built.returncode != 0 and ("bdist_wheel" in built.stderr or "No matching distribution" in built.stderr):
        pytest.skip(f"cannot build a wheel offline here: {built.stderr[-300:]}")
    assert built.returncode == 0 and wheels, built.stderr[-2000:]
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for model in ("S3008", "S3016", "S4000", "C1410MkII", "W401"):
        assert f"axisim/fixtures/{model}/params.xml" in names
    assert "axisim/site/remote.py" in names and "cgi_handlers/__init__.py" in names
