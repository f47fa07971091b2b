"""The import contract (.importlinter) holds on the tree and fails when a layer is crossed.

Runs import-linter (`lint-imports`, a test extra) on a copy of the source tree, so a broken
module never touches the working tree; offline and bounded in time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("axisim", "cgi_handlers", "param_tree")


def _copy_tree(target: Path) -> Path:
    for package in PACKAGES:
        # the models (axisim/fixtures, a link) are data, not imports
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "fixtures"))
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]
    return subprocess.run(
        [*command, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _inject(module: Path, line: str) -> None:
    """A module-level import at the end of the module (what import-linter sees is the same anywhere)."""
    assert module.is_file(), module
    module.write_text(module.read_text(encoding="utf-8") + "\n" + line + "  # noqa\n", encoding="utf-8")


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("axisim/lifecycle.py", "import aiohttp", "The core and the subsystems import no aiohttp"),
        ("axisim/subsystems/poe/switch.py", "import cgi_handlers", "The core and the subsystems import no aiohttp"),
        ("axisim/subsystems/io/plugin.py", "import axisim.subsystems.wlan", "Subsystems do not import each other"),
        ("param_tree/__init__.py", "import axisim", "param_tree imports nothing of the project"),
        ("cgi_handlers/param.py", "import axisim.server", "cgi_handlers imports nothing of the top layer"),
        ("axisim/record/plan.py", "import cgi_handlers", "The recorder is a client of a device"),
        ("axisim/device.py", "import axisim.record", "The core and the subsystems import no aiohttp"),
    ],
)
def test_a_crossed_layer_breaks_the_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    tree = _copy_tree(tmp_path)
    _inject(tree / module, line)
    result = _lint(tree)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), result.stdout


def test_a_device_is_what_its_plugins_see() -> None:
    """axisim.subsystems.base.DeviceView (the narrow interface the plugins type their device with)
    names only what axisim.device.Device has, with the same call signatures."""
    import inspect

    from axisim.device import make_device
    from axisim.subsystems.base import DeviceView

    device = make_device("W401")
    members = set(DeviceView.__annotations__) | {
        name for name, value in vars(DeviceView).items() if not name.startswith("_") and callable(value)
    } | {name for name, value in vars(DeviceView).items() if isinstance(value, property)}
    assert {"params", "clock", "bus", "logs", "update_params", "variant"} <= members
    for name in sorted(members):
        assert hasattr(device, name), name
        wanted = getattr(DeviceView, name, None)
        if callable(wanted) and not isinstance(wanted, property):
            declared = list(inspect.signature(wanted).parameters)[1:]
            assert list(inspect.signature(getattr(device, name)).parameters) == declared, name
