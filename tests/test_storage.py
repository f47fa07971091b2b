"""Storage subsystem through its Python API: sizes, RAID failure and recovery, tools, resets.

Rules from the manuals' Storage sections (S3008 000_*, S3016 001_*, S4000 002_*):
RAID levels 0/1/5/6/10 with Online/Degraded/Syncing/Failed; "Repair: Active
recordings will pause during the repair... may result in lost data"; "Format:
Erase all recordings"; "Changing the password doesn't disrupt ongoing recordings";
"A hard reset will not remove your recordings"; "If your hard drive is encrypted,
it must be mounted manually after the recorder is reset". Time is the device's
SimClock, moved with `advance`, never slept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from axisim.device import Device, make_device
from axisim.lifecycle import RestartKind
from axisim.persistence import StateDir
from axisim.subsystems.storage import StorageSubsystem
from axisim.subsystems.storage.media import TB, StorageError
from param_tree import Role

GB = 10**9


def storage_of(device: Device) -> StorageSubsystem:
    storage = device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    return storage


def recorder(model: str = "S3016", variant: str | None = None) -> tuple[Device, StorageSubsystem]:
    device = make_device(model, variant=variant)
    return device, storage_of(device)


def settle(device: Device, seconds: float = 100.0) -> None:
    device.clock.advance(seconds)


# -- hardware per model and variant -----------------------------------------------------


@pytest.mark.parametrize("variant, terabytes", [("2TB", 2), ("4TB", 4), ("8TB", 8)])
def test_s3008_has_one_drive_of_its_variant_size(variant: str, terabytes: int) -> None:
    device, storage = recorder("S3008", variant)
    assert storage.kind == "hdd" and len(storage.drives) == 1
    assert storage.total() == terabytes * TB
    assert device.params.value("DiskManagement.S0.TotalSize") == str(terabytes * TB // 1024)
    drive = storage.drives[0]
    assert drive is not None and drive.serial and drive.capacity == terabytes * TB
    assert storage.disk.disk_id == "HDD_DISK" and storage.status() == "OK"


@pytest.mark.parametrize("model", ["S3016", "S4000"])
@pytest.mark.parametrize("variant, terabytes", [("8TB", 8), ("16TB", 16), ("32TB", 32)])
def test_raid_recorders_offer_their_variant_size_in_raid5(model: str, variant: str, terabytes: int) -> None:
    device, storage = recorder(model, variant)
    assert storage.level == "raid5" and len(storage.drives) == 4
    assert terabytes * TB - 4 <= storage.total() <= terabytes * TB  # 3 data drives of capacity/3
    assert device.params.value("DiskManagement.S0.RaidLevel") == "raid5"
    assert device.params.value("DiskManagement.S0.RaidStatus") == "Online"
    serials = {d.serial for d in storage.drives if d}
    assert len(serials) == 4  # every drive its own serial number


@pytest.mark.parametrize("level, data_drives", [("raid0", 4), ("raid1", 1), ("raid5", 3), ("raid6", 2), ("raid10", 2)])
def test_usable_size_per_raid_level(level: str, data_drives: int) -> None:
    device, storage = recorder("S3016", "16TB")
    drive = storage.drives[0]
    assert drive is not None
    storage.change_raid_level(level)
    settle(device, 30)
    assert storage.level == level and storage.disk.mounted
    assert storage.total() == data_drives * drive.capacity


def test_the_speaker_has_no_drive_but_a_share() -> None:
    device = make_device("C1410MkII")
    storage = storage_of(device)
    assert storage.kind == "share" and storage.drives == []
    assert storage.status() == "disconnected" and storage.total() == 0
    with pytest.raises(StorageError):
        storage.fail_drive(0)


# -- RAID failure and recovery ------------------------------------------------------------

# level, bays that fail one after another, the status after each failure
FAILURES = [
    ("raid0", [0], ["failure"]),
    ("raid1", [0, 1, 2, 3], ["degraded", "degraded", "degraded", "failure"]),
    ("raid5", [2, 0], ["degraded", "failure"]),
    ("raid6", [1, 3, 0], ["degraded", "degraded", "failure"]),
    ("raid10", [0, 3, 1], ["degraded", "degraded", "failure"]),  # 0 and 1 are one mirrored pair
]


@pytest.mark.parametrize("level, bays, statuses", FAILURES)
def test_drive_failures_degrade_or_fail_each_level(level: str, bays: list[int], statuses: list[str]) -> None:
    device, storage = recorder()
    storage.change_raid_level(level)
    settle(device, 10**6)  # formatted and the first sync done
    storage.add_recording(GB)
    for bay, expected in zip(bays, statuses, strict=True):
        storage.fail_drive(bay)
        assert storage.raid_status() == expected
    # degraded keeps recording; a failed RAID is "not recording" and its data is gone
    assert storage.status() == "failed" and not storage.disk.mounted and storage.disk.recordings == []
    assert device.params.value("DiskManagement.S0.RaidStatus") == "Failed"
    with pytest.raises(StorageError):
        storage.add_recording(GB)


@pytest.mark.parametrize("level", ["raid1", "raid5", "raid6", "raid10"])
def test_a_replaced_drive_syncs_and_the_raid_returns_online(level: str) -> None:
    device, storage = recorder()
    storage.change_raid_level(level)
    settle(device, 10**6)
    storage.add_recording(5 * GB)
    old = storage.drives[1]
    storage.fail_drive(1)
    assert storage.raid_status() == "degraded"
    storage.add_recording(GB)  # recording continues without redundancy
    new = storage.insert_drive(1)
    assert new.serial != (old.serial if old else "") and new.syncing
    assert storage.raid_status() == "syncing" and storage.sync_progress() == 0
    hours = storage.sync_time_remaining() / 3600
    assert hours > 1  # "The syncing process may take several hours"
    settle(device, storage.sync_time_remaining() / 2)
    assert 40 <= storage.sync_progress() <= 60
    assert device.params.value("DiskManagement.S0.RaidStatus") == "Syncing"
    settle(device, storage.sync_time_remaining() + 1)
    assert storage.raid_status() == "active" and storage.sync_progress() == 100
    assert len(storage.disk.recordings) == 2  # nothing lost
    assert device.params.value("DiskManagement.S0.RaidStatus") == "Online"


def test_a_failed_raid_stays_failed_until_it_is_recreated() -> None:
    device, storage = recorder()
    storage.fail_drive(0)
    storage.fail_drive(1)
    assert storage.raid_status() == "failure"
    with pytest.raises(StorageError) as refused:
        storage.recreate_raid("raid5")
    assert refused.value.reason == "component"  # the broken drives are still in
    storage.insert_drive(0)
    storage.insert_drive(1)
    assert storage.raid_status() == "failure"  # replacing drives does not bring the data back
    storage.recreate_raid("raid5")
    assert storage.raid_status() == "syncing" and storage.status() == "connected" and storage.disk.filesystem == ""
    storage.format("ext4")
    with pytest.raises(StorageError) as busy:
        storage.mount()
    assert busy.value.reason == "busy"  # the format job is running
    settle(device, storage.timings.format_s)
    storage.mount()
    settle(device)
    assert storage.status() == "OK" and storage.raid_status() == "syncing"


def test_a_second_failure_during_a_rebuild_fails_raid5() -> None:
    device, storage = recorder()
    storage.fail_drive(0)
    storage.insert_drive(0)
    settle(device, 60)
    storage.fail_drive(2)  # drive 0 holds no complete copy yet
    assert storage.raid_status() == "failure"


def test_the_sync_speed_is_configurable() -> None:
    _device, storage = recorder()
    storage.fail_drive(3)
    storage.insert_drive(3)
    slow = storage.sync_time_remaining()
    storage.set_sync_speed(storage.timings.sync_bytes_per_s * 10)
    assert storage.sync_time_remaining() == pytest.approx(slow / 10, rel=0.01)


def test_the_s3008_without_its_drive_and_with_a_new_one() -> None:
    _device, storage = recorder("S3008")
    storage.add_recording(GB)
    storage.remove_drive(0)
    assert storage.status() == "disconnected" and storage.total() == 0
    storage.insert_drive(0)
    assert storage.status() == "connected" and storage.disk.filesystem == ""  # a new drive is empty
    storage.set_autoformat(True)
    storage.remove_drive(0)
    storage.insert_drive(0)
    assert storage.disk.filesystem == "ext4" and storage.status() == "OK"  # "Autoformat ... ext4"


def test_temperature_and_health_are_reported() -> None:
    device, storage = recorder("S3016")
    storage.set_temperature(2, 65)
    assert device.params.value("DiskManagement.S0.D2.Temperature") == "65"
    assert device.params.value("DiskManagement.S0.Temperature") == "65"
    assert any("too hot" in line for line in device.logs.system.lines())
    storage.fail_drive(1)
    assert device.params.value("DiskManagement.S0.OverallHealth") == "Failed"
    assert device.params.value("DiskManagement.S0.D1.Status") == "Failed"


# -- tools ---------------------------------------------------------------------------------


def test_format_runs_as_a_job_with_progress_and_erases_recordings() -> None:
    device, storage = recorder("S3008")
    storage.add_recording(GB)
    job = storage.format("vfat")
    assert not storage.disk.mounted  # recording stops while formatting
    settle(device, storage.timings.format_s / 2)
    assert job.progress(device.clock.now()) == 50 and not job.done
    settle(device, storage.timings.format_s / 2)
    assert job.done and job.result == "OK" and job.progress(device.clock.now()) == 100
    assert storage.disk.recordings == [] and storage.disk.filesystem == "vfat" and storage.disk.mounted
    assert device.params.value("Storage.S0.FileSystem") == "vfat"


def test_one_job_at_a_time() -> None:
    _device, storage = recorder("S3008")
    storage.check()
    with pytest.raises(StorageError) as refused:
        storage.format()
    assert refused.value.reason == "busy"


def test_check_repairs_automatically_and_repair_may_lose_data() -> None:
    device, storage = recorder("S3008")
    for _ in range(3):
        storage.add_recording(GB)
    storage.damage_filesystem(recordings=1)
    assert storage.status() == "failed"
    job = storage.check()
    settle(device)
    assert job.result == "OK" and "1 recordings lost" in job.description
    assert len(storage.disk.recordings) == 2 and storage.status() == "OK"

    storage.set_retention(0)
    device.update_params([("Storage.S0.AutoRepair", "no")], Role.ADMIN)
    storage.damage_filesystem(recordings=1)
    job = storage.check()
    settle(device)
    assert job.result == "ERROR" and storage.status() == "failed"
    job = storage.repair()
    with pytest.raises(StorageError):
        storage.add_recording(GB)  # "Active recordings will pause during the repair"
    settle(device)
    assert job.result == "OK" and len(storage.disk.recordings) == 1 and storage.status() == "OK"
    storage.add_recording(GB)


def test_unmount_stops_recording_and_mount_resumes() -> None:
    device, storage = recorder("S3008")
    storage.unmount()
    settle(device)
    assert storage.status() == "connected" and device.params.value("DiskManagement.S0.Mounted") == "no"
    with pytest.raises(StorageError):
        storage.add_recording(GB)
    storage.mount()
    settle(device)
    storage.add_recording(GB)
    assert storage.status() == "OK"


def test_write_protect_refuses_format_and_recording_and_keeps_old_recordings() -> None:
    device, storage = recorder("S3008")
    storage.add_recording(GB, age_days=10)
    storage.set_write_protect(True)
    assert device.params.value("Storage.S0.Locked") == "yes"
    for refused in (storage.format, lambda: storage.add_recording(GB)):
        with pytest.raises(StorageError) as error:
            refused()
        assert error.value.reason == "locked"
    storage.set_retention(1)
    assert len(storage.disk.recordings) == 1  # a locked disk's recordings are not removed
    storage.set_write_protect(False)
    assert storage.disk.recordings == []  # now the 10-day-old recording goes: retention is 1 day


def test_encrypt_and_decrypt_erase_and_change_password_keeps_recordings() -> None:
    device, storage = recorder("S3008")
    storage.add_recording(GB)
    storage.encrypt("first secret")
    settle(device)
    assert storage.disk.encrypted and storage.disk.recordings == [] and storage.status() == "OK"
    assert device.params.value("DiskManagement.S0.Encrypted") == "yes"
    storage.add_recording(GB)
    with pytest.raises(StorageError) as refused:
        storage.change_passphrase("wrong", "second secret")
    assert refused.value.reason == "old_mismatch"
    storage.change_passphrase("first secret", "second secret")
    assert len(storage.disk.recordings) == 1 and storage.disk.mounted  # undisturbed
    storage.decrypt()
    settle(device)
    assert not storage.disk.encrypted and storage.disk.recordings == [] and storage.status() == "OK"


def test_changing_the_raid_level_erases_and_can_encrypt() -> None:
    device, storage = recorder("S4000")
    storage.add_recording(GB)
    job = storage.change_raid_level("raid6", passphrase="rack secret")
    settle(device, storage.timings.format_s)
    assert job.description == "RAID configured"  # "Wait until ... RAID configured is shown"
    assert storage.level == "raid6" and storage.disk.encrypted and storage.disk.recordings == []
    assert storage.raid_status() == "syncing"  # recording possible, redundancy not yet achieved
    storage.add_recording(GB)
    with pytest.raises(StorageError) as refused:
        storage.change_raid_level("raid7")
    assert refused.value.reason == "level" and storage.level == "raid6" and len(storage.disk.recordings) == 1


def test_a_full_disk_removes_the_oldest_recordings_unless_cleanup_is_off() -> None:
    _device, storage = recorder("S3008")
    storage.set_retention(0)
    size = storage.total() // 3
    first = storage.add_recording(size)
    storage.add_recording(size)
    storage.add_recording(size)
    storage.add_recording(size)
    assert first not in storage.disk.recordings and len(storage.disk.recordings) == 3
    storage.set_cleanup_policy("none")
    with pytest.raises(StorageError) as refused:
        storage.add_recording(size)
    assert refused.value.reason == "full"


# -- resets and persistence ------------------------------------------------------------------


@pytest.mark.parametrize("kind", [RestartKind.SOFT, RestartKind.HARD])
def test_a_factory_default_keeps_recordings_but_an_encrypted_disk_waits_for_its_password(kind: RestartKind) -> None:
    device, storage = recorder("S3016")
    storage.encrypt("vault")
    settle(device)
    storage.add_recording(GB)
    storage.set_write_protect(True)
    device.restart(kind)
    assert device.params.value("Storage.S0.Locked") == "no"  # settings reset
    assert storage.status() == "no passphrase" and not storage.disk.mounted
    assert len(storage.disk.recordings) == 1  # "A hard reset will not remove your recordings"
    with pytest.raises(StorageError) as refused:
        storage.mount(passphrase="not it")
    assert refused.value.reason == "wrong_passphrase" and storage.status() == "wrong passphrase"
    storage.mount(passphrase="vault")
    settle(device)
    assert storage.status() == "OK" and len(storage.disk.recordings) == 1


def test_a_reboot_remounts_an_encrypted_disk_by_itself() -> None:
    device, storage = recorder("S3008")
    storage.encrypt("vault")
    settle(device)
    device.restart(RestartKind.REBOOT)
    assert storage.status() == "OK"


def test_a_factory_default_keeps_the_raid_level_and_a_plain_disk_mounted() -> None:
    device, storage = recorder("S3016")
    storage.change_raid_level("raid10")
    settle(device, 10**6)
    storage.add_recording(GB)
    device.restart(RestartKind.HARD)
    assert storage.level == "raid10" and storage.status() == "OK" and len(storage.disk.recordings) == 1
    assert device.params.value("DiskManagement.S0.RaidLevel") == "raid10"


def test_storage_state_survives_a_simulator_restart(tmp_path: Path) -> None:
    device, storage = recorder("S3016")
    StateDir(tmp_path).attach(device)
    storage.encrypt("vault")
    settle(device)
    storage.add_recording(GB)
    storage.fail_drive(2)
    storage.insert_drive(2, serial="NEWDRIVE1")
    settle(device, 600)
    progress = storage.sync_progress()
    saved = (tmp_path / "device.json").read_text()
    assert "vault" not in saved  # the password is stored as a salted digest only

    again = make_device("S3016")
    assert StateDir(tmp_path).attach(again)
    restored = storage_of(again)
    assert restored.disk.encrypted and restored.status() == "OK" and len(restored.disk.recordings) == 1
    assert restored.raid_status() == "syncing" and restored.sync_progress() == progress
    drive = restored.drives[2]
    assert drive is not None and drive.serial == "NEWDRIVE1"
    assert again.params.value("DiskManagement.S0.D2.SerialNumber") == "NEWDRIVE1"


def test_damaged_storage_state_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    device, storage = recorder("S3016")
    StateDir(tmp_path).attach(device)
    storage.add_recording(GB)
    state = storage.to_state()
    fresh = storage_of(make_device("S3016"))
    for broken in ({**state, "drives": state["drives"][:2]}, {**state, "raid": {"level": "raid7"}}, {"disk": 1}):
        with pytest.raises(ValueError):
            fresh.load_state(broken)
        assert fresh.disk.recordings == [] and fresh.level == "raid5"
