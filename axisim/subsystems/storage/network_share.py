"""The speaker's network share (C1410 Mk II "Network storage"): the share's settings and the NAS.

`ShareSettings` is the storage subsystem's share half: add, bind, unbind, remove,
modify and test, over the `NetworkShare.N0` and `Storage.S0` parameters. There is
no real NAS, so `NasBehaviour` says what a connection test or a mount would meet
(the simulator's Python API and, later, the control API set it); the outcomes are
the network-share API's job errors (VAPIX edge storage, codes 700-760).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .media import Disk, Job, StorageError

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..base import DeviceView

STORAGE = "Storage.S0"
SHARE = "NetworkShare.N0"
SHARE_ID = re.compile(r"[A-Za-z0-9-]+")  # networkshare/add.cgi's documented shareid

# outcome -> (network-share API error code, description), VAPIX edge storage "Network share" table
TEST_OUTCOMES: dict[str, tuple[int, str] | None] = {
    "ok": None,
    "no_such_host": (700, "No such hostname."),
    "mount_error": (710, "Error while mounting network share."),
    "write_error": (740, "Problem writing to the share."),
    "read_error": (750, "Problem reading data written to the share."),
    "connect_error": (760, "Problem connecting to the share."),
}
# "If you select Auto, the device tries to negotiate one of the secure versions SMB: 3.02, 3.0,
# or 2.1. Select 1.0 or 2.0 to connect to older NAS" (C1410 Mk II manual, Network storage)
SMB_VERSIONS = ("Auto", "1.0", "2.0", "2.1", "3.0", "3.02")
DEFAULT_NAS_BYTES = 2 * 10**12


@dataclass
class NasBehaviour:
    """What the share's server does when the speaker connects."""

    outcome: str = "ok"
    capacity: int = DEFAULT_NAS_BYTES  # bytes the share offers this device
    required_password: str | None = None  # when set, a login with another password fails to mount
    min_smb: str = "1.0"  # the oldest SMB version the NAS speaks

    def problem(self, password: str, smb_version: str) -> tuple[int, str] | None:
        """Why a connection with these credentials fails, or None when it works."""
        fault = TEST_OUTCOMES[self.outcome]
        if fault is not None:
            return fault
        if self.required_password is not None and password != self.required_password:
            return TEST_OUTCOMES["mount_error"]
        if smb_version != "Auto" and _smb_key(smb_version) < _smb_key(self.min_smb):
            return TEST_OUTCOMES["mount_error"]
        return None

    def to_state(self) -> dict[str, object]:
        return {"outcome": self.outcome, "capacity": self.capacity,
                "required_password": self.required_password, "min_smb": self.min_smb}  # fmt: skip

    @classmethod
    def from_state(cls, data: dict[str, object]) -> NasBehaviour:
        outcome = str(data["outcome"])
        if outcome not in TEST_OUTCOMES:
            raise ValueError(f"NAS outcome {outcome!r}")
        password = data["required_password"]
        return cls(outcome, int(data["capacity"]), None if password is None else str(password),  # type: ignore[call-overload]
                   str(data["min_smb"]))  # fmt: skip


def _smb_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def smb_option(version: str) -> str:
    """The version as `Storage.S#.ExtraMountOptions` carries it (the API has no SMB parameter)."""
    return "" if version == "Auto" else f"vers={version}"


def smb_version_of(options: str) -> str:
    for option in options.split(","):
        key, _, value = option.strip().partition("=")
        if key == "vers" and value in SMB_VERSIONS:
            return value
    return "Auto"


class ShareSettings:
    """The share side of `StorageSubsystem` (which provides the attributes below)."""

    device: DeviceView
    kind: str
    disk: Disk
    nas: NasBehaviour
    bound: bool
    jobs: dict[int, Job]
    _param: Callable[[str], str]
    _set: Callable[..., None]
    _settled: Callable[..., None]
    _audit: Callable[..., None]
    _event: Callable[[str], None]
    _job: Callable[..., Job]
    busy: Callable[[], Job | None]
    enabled: bool
    mount: Callable[..., Job]


    def share(self) -> dict[str, str] | None:
        """The configured share (settings from NetworkShare.N0), or None."""
        if self.kind != "share" or not self._param(f"{SHARE}.ShareId"):
            return None
        return {key: self._param(f"{SHARE}.{key}") for key in ("ShareId", "Name", "Address", "Share", "Username")}

    def smb_version(self) -> str:
        return smb_version_of(self._param(f"{STORAGE}.ExtraMountOptions"))

    def _require_share_model(self) -> None:
        if self.kind != "share":
            raise StorageError("no_share", "The device has no network share")

    def add_share(
        self, address: str, share: str, user: str = "", password: str = "", *, nicename: str = "",
        share_id: str | None = None, smb_version: str = "Auto", test: bool = True, actor: Actor | None = None,
    ) -> str:  # fmt: skip
        """ "Add network storage"; with `test` (the default) a failing connection refuses it
        ("Add share without testing" is test=False)."""
        self._require_share_model()
        if self.share() is not None:
            raise StorageError("max_shares", "Maximum number of network shares is already reached. "
                               "No more shares can be added.")  # fmt: skip
        if not address or not share:
            raise StorageError("invalid", "Invalid request.")
        if smb_version not in SMB_VERSIONS:
            raise StorageError("invalid", f"SMB version {smb_version!r}")
        if share_id is not None and not SHARE_ID.fullmatch(share_id):
            raise StorageError("share_id", "Invalid ShareId")
        if test:
            problem = self.nas.problem(password, smb_version)
            if problem is not None:
                raise StorageError(f"test_{problem[0]}", problem[1])
        new_id = share_id or str(10000 + int(hashlib.sha256(f"{self.device.serial}:{address}/{share}".encode())
                                             .hexdigest(), 16) % 90000)  # fmt: skip
        self._set(f"{SHARE}.ShareId", new_id, actor, (f"{SHARE}.Address", address), (f"{SHARE}.Share", share),
                  (f"{SHARE}.Username", user), (f"{SHARE}.Password", password),
                  (f"{SHARE}.Name", nicename or "undefined"),
                  (f"{STORAGE}.ExtraMountOptions", smb_option(smb_version)))  # fmt: skip
        return new_id

    def modify_share(self, share_id: str, actor: Actor | None = None, **fields: str) -> None:
        self._own_share(share_id)
        if self.bound and set(fields) - {"Name"}:
            raise StorageError("bound_modify", "The network share is bound and cannot be modified. "
                               "Use /axis-cgi/disks/networkshare/unbind.cgi to unbind the share.")  # fmt: skip
        changes = [(f"{SHARE}.{key}", value) for key, value in fields.items()]
        if changes:
            self._set(*changes[0], actor, *changes[1:])

    def _own_share(self, share_id: str) -> None:
        self._require_share_model()
        configured = self.share()
        if configured is None or configured["ShareId"] != share_id:
            raise StorageError("unknown_share", "Invalid ShareId")

    def bind(self, share_id: str, automount: bool = True, actor: Actor | None = None) -> str:
        """Bind the share to the speaker's disk (`NetworkShare`); mounts it unless told not to."""
        self._own_share(share_id)
        if self.bound:
            raise StorageError("already_bound", "The network share is already bound to a disk.")
        self.bound = True
        self._audit(actor, f"Network share {share_id} bound to {self.disk.disk_id}")
        self._settled()
        if automount and self.enabled:
            self.mount(actor=actor)
        return self.disk.disk_id

    def unbind(self, share_id: str, actor: Actor | None = None) -> None:
        self._own_share(share_id)
        if self.disk.mounted or self.busy():
            raise StorageError("mounted_unbind", "The network share is mounted and cannot be unbound. "
                               "Unmount the share using Disk Management API.")  # fmt: skip
        self.bound = False
        self._audit(actor, f"Network share {share_id} unbound")
        self._settled()

    def remove_share(self, share_id: str, actor: Actor | None = None) -> None:
        """The API's remove: refused while bound (error 500)."""
        self._own_share(share_id)
        if self.bound:
            raise StorageError("bound_remove", "The network share is bound and cannot be removed. "
                               "Use /axis-cgi/disks/networkshare/unbind.cgi to unbind the share.")  # fmt: skip
        names = ("Address", "Share", "Username", "Password", "ShareId")
        self._set(f"{SHARE}.Name", "", actor, *((f"{SHARE}.{n}", "") for n in names),
                  (f"{STORAGE}.ExtraMountOptions", ""))  # fmt: skip

    def remove_network_storage(self, actor: Actor | None = None) -> None:
        """The web interface's "Remove network storage": unmount, unbind, remove the settings."""
        configured = self.share()
        if configured is None:
            raise StorageError("unknown_share", "No network share")
        if self.busy():
            raise StorageError("busy", "Another disk job is running")
        self.disk.mounted = False
        self.bound = False
        self.remove_share(configured["ShareId"], actor)

    def test_share(self, actor: Actor | None = None, **override: str) -> Job:
        """Test the connection (stored settings, overridden by `address`, `share`, `user`, `pass`)."""
        self._require_share_model()
        if sum(1 for j in self.jobs.values() if j.action == "test" and not j.done) >= 2:
            raise StorageError("too_many", "Too many tests or jobs started, wait for some to finish.")
        password = override.get("pass", self._param(f"{SHARE}.Password"))
        address = override.get("address", self._param(f"{SHARE}.Address"))
        if not address:
            raise StorageError("invalid", "Invalid request.")
        problem = self.nas.problem(password, self.smb_version())

        def done() -> str:
            if problem is not None:
                raise StorageError(f"test_{problem[0]}", problem[1])
            return "Connection OK"

        return self._job("test", self.timings.test_s, done)

    def set_nas(self, outcome: str | None = None, *, capacity: int | None = None,
                required_password: str | None = None, min_smb: str | None = None) -> None:  # fmt: skip
        """What the (simulated) NAS does; a share that stops working is unmounted."""
        self._require_share_model()
        nas = NasBehaviour(
            outcome if outcome is not None else self.nas.outcome,
            capacity if capacity is not None else self.nas.capacity,
            required_password if required_password is not None else self.nas.required_password,
            min_smb if min_smb is not None else self.nas.min_smb,
        )
        nas.problem("", "Auto")  # KeyError for an unknown outcome
        self.nas = nas
        self._share_follows_settings()
        self._settled()

    def nas_problem(self) -> tuple[int, str] | None:
        """Why the NAS refuses the configured share now (a mount meets this), or None."""
        return self.nas.problem(self._param(f"{SHARE}.Password"), self.smb_version())

    def _share_follows_settings(self) -> None:
        if self.share() is None and self.bound:
            self.bound = False
            self.disk.mounted = False
            self._event("Network share removed")
        elif self.disk.mounted and self.nas_problem():
            self.disk.mounted = False
            self._event("Network share not reachable: unmounted")
