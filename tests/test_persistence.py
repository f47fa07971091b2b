"""The state directory in-process: what is saved, what is refused, certificates across resets.

The process-level cases (restart, kill mid-burst, TLS clients) are in test_state_dir.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from axisim.device import Actor, make_device
from axisim.lifecycle import BootTimes, RestartKind
from axisim.persistence import STATE_FILE, StateDir, StateError
from axisim.server import start_device
from param_tree import Role


def test_added_and_removed_groups_and_accounts_come_back(tmp_path: Path) -> None:
    speaker = make_device("C1410MkII")
    StateDir(tmp_path).attach(speaker)
    key = speaker.add_group("mediaclip", "MediaClip", Role.ADMIN)
    speaker.update_params([(f"MediaClip.{key}.Name", "Doorbell")], Role.ADMIN)
    existing = sorted({".".join(d.path[:2]) for d in speaker.params.all() if re.match(r"MediaClip\.M\d+\.", d.name)})
    assert f"MediaClip.{key}" in existing and len(existing) > 1
    speaker.remove_groups([existing[0]], Role.ADMIN)
    speaker.add_account("alice", "secret1", frozenset({"viewer"}), "users", "", Actor("root", "127.0.0.1"))
    listing = [(d.name, speaker.params.value(d.name)) for d in speaker.params.all()]

    again = make_device("C1410MkII")
    assert StateDir(tmp_path).attach(again)
    assert [(d.name, again.params.value(d.name)) for d in again.params.all()] == listing
    alice = again.accounts.get("alice")
    assert alice is not None and alice.password_matches("secret1") and alice.role is Role.VIEWER
    assert not list(tmp_path.glob("*.tmp"))
    assert (tmp_path / STATE_FILE).stat().st_mode & 0o777 == 0o600  # it holds passwords


def test_every_change_is_saved_at_once(tmp_path: Path) -> None:
    device = make_device("S3008")
    state = StateDir(tmp_path)
    state.attach(device)
    saves = state.saves
    device.update_params([("Network.FTP.Enabled", "yes")], Role.ADMIN)
    assert state.saves == saves + 1
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved["params"]["values"] == {"Network.FTP.Enabled": "yes"}
    device.update_params([("Network.FTP.Enabled", "maybe")], Role.ADMIN)  # refused: nothing to save
    assert state.saves == saves + 1
    device.restart(RestartKind.HARD)
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved["params"]["values"] == {} and saved["accounts"] == []


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda d: d["params"]["values"].update({"Network.FTP.Enabled": "maybe"}), "not a valid value"),
        (lambda d: d["params"]["values"].update({"No.Such.Param": "1"}), "not a parameter of this model"),
        (lambda d: d["params"]["groups"].update({"MediaClip.M9": "nosuchtemplate"}), "cannot be made"),
        (lambda d: d["accounts"].append({"name": "bob", "password": "", "groups": ["viewer"], "primary": "users"}),
         "account 2 is not valid"),
        (lambda d: d["firmware"].update({"active": "latest"}), "not a version"),
        (lambda d: d.update({"format": 99}), "not an axisim state file"),
        (lambda d: d.update({"serial": "B8A44F000000"}), "written for serial"),
        (lambda d: d.update({"variant": "8TB"}), "written for variant"),
    ],
)  # fmt: skip
def test_damaged_or_foreign_state_is_refused_untouched(
    tmp_path: Path, damage: Callable[[dict[str, Any]], None], problem: str
) -> None:
    device = make_device("S3008")
    StateDir(tmp_path).attach(device)
    device.update_params([("Network.FTP.Enabled", "yes")], Role.ADMIN)
    document = json.loads((tmp_path / STATE_FILE).read_text())
    damage(document)
    (tmp_path / STATE_FILE).write_text(json.dumps(document))
    before = (tmp_path / STATE_FILE).read_bytes()
    fresh = make_device("S3008")
    with pytest.raises(StateError, match=problem) as caught:
        StateDir(tmp_path).attach(fresh)
    assert str(tmp_path) in str(caught.value)
    assert (tmp_path / STATE_FILE).read_bytes() == before
    assert fresh.params.value("Network.FTP.Enabled") == "no"  # nothing half-loaded


def test_truncated_state_file_is_refused(tmp_path: Path) -> None:
    StateDir(tmp_path).attach(make_device("S3008"))
    raw = (tmp_path / STATE_FILE).read_bytes()
    (tmp_path / STATE_FILE).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(StateError, match="damaged"):
        StateDir(tmp_path).attach(make_device("S3008"))
    assert (tmp_path / STATE_FILE).read_bytes() == raw[: len(raw) // 2]


async def _served_certificate(port: int) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    return der


async def test_factory_default_makes_a_new_certificate(tmp_path: Path) -> None:
    """Manuals: "If you reset the device to factory default, all certificates are deleted"."""
    device = make_device("S3008", boot_times=BootTimes(0.05, 0.0))
    state = StateDir(tmp_path)
    state.attach(device)
    running = await start_device(device, "127.0.0.1", 0, https_port=0, state=state)
    try:
        first = await _served_certificate(running.https_port or 0)
        saved = (tmp_path / "https" / "cert.pem").read_bytes()
        device.restart(RestartKind.REBOOT)
        assert await running.wait_ready(10)
        assert await _served_certificate(running.https_port or 0) == first  # a reboot keeps it
        device.restart(RestartKind.SOFT)
        assert await running.wait_ready(10)
        assert await _served_certificate(running.https_port or 0) != first
        assert (tmp_path / "https" / "cert.pem").read_bytes() != saved
    finally:
        await running.stop()
