"""The models are found after every kind of install, from any working directory (issue 16, item 5).

A wheel is built from a copy of the source tree (so the checkout stays clean) and installed the
ways users install: into a virtual environment, with `pip install --user`, with `pip install
--target`, and imported straight from the zipped wheel. Each then runs `axisim models` from an
unrelated working directory, without the repository on PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODELS = ["C1410MkII", "S3008", "S3016", "S4000", "W401"]
TIMEOUT = 60
SKIP_COPY = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".tox", ".venv")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONUSERBASE", "AXISIM_FIXTURES")}
    env.update(extra)
    return env


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=TIMEOUT
    )


def listed_models(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return sorted(line.split()[0] for line in result.stdout.splitlines() if line.strip())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """axisim's wheel, built offline with the setuptools and wheel already installed."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(REPO, source, symlinks=True, ignore=SKIP_COPY)
    out = base / "dist"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, "."],
        cwd=source,
    )
    wheels = sorted(out.glob("axisim-*.whl"))
    if built.returncode != 0 or not wheels:
        pytest.skip(f"cannot build a wheel offline here (is the `wheel` package installed?): {built.stderr[-400:]}")
    return wheels[0]


def test_wheel_ships_every_model(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for model in MODELS:
        assert f"axisim/fixtures/{model}/params.xml" in names
        assert f"axisim/fixtures/{model}/model.toml" in names
    for asset in ("index.html", "page.js", "page.css"):  # the site page (axisim/control/page.py)
        assert f"axisim/control/page_assets/{asset}" in names
    assert not any(name.startswith("fixtures/") or "/data/" in name for name in names), "no data_files outside"
    assert any(name.endswith(".dist-info/LICENSE") for name in names), "the MIT licence travels with the wheel"


def test_venv_install_finds_models_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    created = run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    # pip comes from the system site; --ignore-installed leaves any system copy of axisim alone
    installed = run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", wheel], cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert listed_models(run([venv / "bin" / "axisim", "models"], cwd=elsewhere)) == MODELS
    where = run([python, "-c", "import axisim; print(axisim.__file__)"], cwd=elsewhere)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's copy answered, not the checkout


def test_user_install_finds_models(wheel: Path, tmp_path: Path) -> None:
    """The issue's reproduction: `pip install --user .` then `axisim models`."""
    userbase = tmp_path / "userbase"
    installed = run(
        [sys.executable, "-m", "pip", "install", "-q", "--user", "--no-deps", "--no-index", "--ignore-installed",
         "--no-warn-script-location", wheel],
        cwd=tmp_path, PYTHONUSERBASE=str(userbase),
    )  # fmt: skip
    if "externally-managed-environment" in installed.stderr:
        pytest.skip("this Python refuses --user installs (externally managed)")
    assert installed.returncode == 0, installed.stderr
    result = run([userbase / "bin" / "axisim", "models"], cwd=tmp_path, PYTHONUSERBASE=str(userbase))
    assert listed_models(result) == MODELS


def test_target_install_and_zipped_wheel_find_models(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    installed = run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", target, wheel],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    command = [sys.executable, "-m", "axisim", "models"]
    assert listed_models(run(command, cwd=tmp_path, PYTHONPATH=str(target))) == MODELS
    # a pure-Python wheel is a zip Python can import from: the models are read through importlib.resources
    assert listed_models(run(command, cwd=tmp_path, PYTHONPATH=str(wheel))) == MODELS
    # and so is the site page the control API serves
    page = [sys.executable, "-c", "from axisim.control.page import asset; print(asset('index.html').decode())"]
    for path in (target, wheel):
        served = run(page, cwd=tmp_path, PYTHONPATH=str(path))
        assert served.returncode == 0 and '<script type="module" src="page/page.js">' in served.stdout, served.stderr
