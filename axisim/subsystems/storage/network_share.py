"""The speaker's network share (C1410 Mk II "Network storage"): the share's names and the NAS.

The share's settings and tools are the storage kind `kinds.network_share_kind`. There is
no real NAS, so `NasBehaviour` says what a connection test or a mount would meet
(the simulator's Python API and the control API set it); the outcomes are the
network-share API's job errors (VAPIX edge storage, codes 700-760).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
