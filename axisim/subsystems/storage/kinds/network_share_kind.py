"""The speaker's network share (C1410 Mk II "Network storage") as its storage medium: add, bind,
unbind, remove, modify and test, over the `NetworkShare.N0` and `Storage.S0` parameters, and a
disk that is there only while the share is bound and mounts only when the NAS lets it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from param_tree import ParamDef, ParamType

from ..host import STORAGE
from ..media import Disk, Job, StorageError
from ..network_share import SHARE, SHARE_ID, SMB_VERSIONS, NasBehaviour, smb_option, smb_version_of
from ..published import ADMIN_RW, GROUP, published_def
from .base import Apply, StorageKind

if TYPE_CHECKING:
    from axisim.logs import Actor

    from ..host import StorageHost
    from ..topics import Data


class NetworkShareKind(StorageKind):
    name = "share"
    default_disk_id = "NetworkShare"
    filesystems = ("cifs",)
    encryption_supported = False
    required_fs_supported = False
    drive_health = False

    def __init__(self, host: StorageHost, facts: dict[str, Any]) -> None:
        super().__init__(host, facts)
        self.nas = NasBehaviour()
        self.bound = False

    @classmethod
    def definitions(cls, facts: dict[str, Any]) -> list[ParamDef]:
        text = ParamType("string", maxlen=255)
        return [
            published_def(f"{SHARE}.Address", "", text, ADMIN_RW),
            published_def(f"{SHARE}.Name", "", text, ADMIN_RW),
            published_def(f"{SHARE}.Password", "", ParamType("password", maxlen=255), ADMIN_RW),
            published_def(f"{SHARE}.Port", "0", ParamType("int", min=0, max=65535), ADMIN_RW),
            published_def(f"{SHARE}.Share", "", text, ADMIN_RW),
            published_def(f"{SHARE}.ShareId", "", ParamType("string", maxlen=64), ADMIN_RW),
            published_def(f"{SHARE}.Username", "", text, ADMIN_RW),
            published_def(f"{GROUP}.Bound", "no"),
        ]

    @classmethod
    def bay_count(cls, facts: dict[str, Any]) -> int:
        return 0

    def as_share(self) -> NetworkShareKind:
        return self

    def prepare(self, disk: Disk) -> None:
        disk.filesystem, disk.mounted = "cifs", False

    def capacity(self) -> int:
        return self.nas.capacity if self.bound else 0

    def absent(self) -> bool:
        return not self.bound

    def mount_problem(self) -> tuple[int, str] | None:
        return self.nas_problem()

    def published(self) -> dict[str, str]:
        return {f"{GROUP}.Bound": "yes" if self.bound else "no"}

    def health(self) -> Data:
        return {**super().health(), "wear": -1 if self.bound else -3}

    def settings_changed(self) -> None:
        self._follow_settings()

    # -- the share -------------------------------------------------------------------------------

    def _param(self, name: str) -> str:
        return self.host.param(name)

    def share(self) -> dict[str, str] | None:
        """The configured share (settings from NetworkShare.N0), or None."""
        if not self._param(f"{SHARE}.ShareId"):
            return None
        return {key: self._param(f"{SHARE}.{key}") for key in ("ShareId", "Name", "Address", "Share", "Username")}

    def smb_version(self) -> str:
        return smb_version_of(self._param(f"{STORAGE}.ExtraMountOptions"))

    def add_share(
        self, address: str, share: str, user: str = "", password: str = "", *, nicename: str = "",
        share_id: str | None = None, smb_version: str = "Auto", test: bool = True, actor: Actor | None = None,
    ) -> str:  # fmt: skip
        """ "Add network storage"; with `test` (the default) a failing connection refuses it
        ("Add share without testing" is test=False)."""
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
        new_id = share_id or str(10000 + int(hashlib.sha256(f"{self.host.device.serial}:{address}/{share}"
                                                            .encode()).hexdigest(), 16) % 90000)  # fmt: skip
        self.host.set(f"{SHARE}.ShareId", new_id, actor, (f"{SHARE}.Address", address), (f"{SHARE}.Share", share),
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
            self.host.set(*changes[0], actor, *changes[1:])

    def _own_share(self, share_id: str) -> None:
        configured = self.share()
        if configured is None or configured["ShareId"] != share_id:
            raise StorageError("unknown_share", "Invalid ShareId")

    def bind(self, share_id: str, automount: bool = True, actor: Actor | None = None) -> str:
        """Bind the share to the speaker's disk (`NetworkShare`); mounts it unless told not to."""
        self._own_share(share_id)
        if self.bound:
            raise StorageError("already_bound", "The network share is already bound to a disk.")
        self.bound = True
        self.host.audit(actor, f"Network share {share_id} bound to {self.host.disk.disk_id}")
        self.host.settled()
        if automount and self.host.enabled:
            self.host.tools.mount(actor=actor)
        return self.host.disk.disk_id

    def unbind(self, share_id: str, actor: Actor | None = None) -> None:
        self._own_share(share_id)
        if self.host.disk.mounted or self.host.tools.busy():
            raise StorageError("mounted_unbind", "The network share is mounted and cannot be unbound. "
                               "Unmount the share using Disk Management API.")  # fmt: skip
        self.bound = False
        self.host.audit(actor, f"Network share {share_id} unbound")
        self.host.settled()

    def remove_share(self, share_id: str, actor: Actor | None = None) -> None:
        """The API's remove: refused while bound (error 500)."""
        self._own_share(share_id)
        if self.bound:
            raise StorageError("bound_remove", "The network share is bound and cannot be removed. "
                               "Use /axis-cgi/disks/networkshare/unbind.cgi to unbind the share.")  # fmt: skip
        names = ("Address", "Share", "Username", "Password", "ShareId")
        self.host.set(f"{SHARE}.Name", "", actor, *((f"{SHARE}.{n}", "") for n in names),
                      (f"{STORAGE}.ExtraMountOptions", ""))  # fmt: skip

    def remove_network_storage(self, actor: Actor | None = None) -> None:
        """The web interface's "Remove network storage": unmount, unbind, remove the settings."""
        configured = self.share()
        if configured is None:
            raise StorageError("unknown_share", "No network share")
        if self.host.tools.busy():
            raise StorageError("busy", "Another disk job is running")
        self.host.disk.mounted = False
        self.bound = False
        self.remove_share(configured["ShareId"], actor)

    def test_share(self, actor: Actor | None = None, **override: str) -> Job:
        """Test the connection (stored settings, overridden by `address`, `share`, `user`, `pass`)."""
        if sum(1 for j in self.host.tools.running() if j.action == "test") >= 2:
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

        return self.host.tools.start("test", self.host.timings.test_s, done)

    def set_nas(self, outcome: str | None = None, *, capacity: int | None = None,
                required_password: str | None = None, min_smb: str | None = None) -> None:  # fmt: skip
        """What the (simulated) NAS does; a share that stops working is unmounted."""
        nas = NasBehaviour(
            outcome if outcome is not None else self.nas.outcome,
            capacity if capacity is not None else self.nas.capacity,
            required_password if required_password is not None else self.nas.required_password,
            min_smb if min_smb is not None else self.nas.min_smb,
        )
        nas.problem("", "Auto")  # KeyError for an unknown outcome
        self.nas = nas
        self._follow_settings()
        self.host.settled()

    def nas_problem(self) -> tuple[int, str] | None:
        """Why the NAS refuses the configured share now (a mount meets this), or None."""
        return self.nas.problem(self._param(f"{SHARE}.Password"), self.smb_version())

    def _follow_settings(self) -> None:
        disk = self.host.disk
        if self.share() is None and self.bound:
            self.bound = False
            disk.mounted = False
            self.host.event("Network share removed")
        elif disk.mounted and self.nas_problem():
            disk.mounted = False
            self.host.event("Network share not reachable: unmounted")

    # -- persistence -----------------------------------------------------------------------------

    def save(self, state: dict[str, Any]) -> None:
        state["share"] = {"bound": self.bound, "nas": self.nas.to_state()}

    def loader(self, state: dict[str, Any]) -> Apply:
        saved = state.get("share")
        nas, bound = NasBehaviour.from_state(saved["nas"]), bool(saved["bound"])

        def apply() -> None:
            self.nas, self.bound = nas, bound

        return apply
