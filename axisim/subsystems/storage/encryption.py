"""Disk encryption (VAPIX disk properties and the web interface's Encrypt/Decrypt tools).

The device holds the password (`Disk.encryption_key`), the disk is encrypted with one
(`Disk.encrypted_with`): enabling gives the device a password, the next format encrypts
with it; a factory default forgets it and the disk waits for it. A kind that cannot encrypt
(a network share) refuses every call here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .media import Job, StorageError, check_passphrase, passphrase_digest, passphrase_matches

if TYPE_CHECKING:
    from axisim.logs import Actor

    from .host import StorageHost
    from .jobs import DiskJobs

MOUNTED = "The disk is mounted. Encryption can only be enabled/disabled when the disk is unmounted."


class Encryption:
    def __init__(self, host: StorageHost, tools: DiskJobs) -> None:
        self.host = host
        self.tools = tools

    def _encryptable(self) -> None:
        if not self.host.medium.encryption_supported:
            raise StorageError("no_encryption", "The disk does not support disk encryption.")

    def enable(self, passphrase: str, actor: Actor | None = None) -> None:
        """Give the device the disk's password: the next format encrypts with it, or an encrypted
        disk whose password was forgotten opens with it."""
        self._encryptable()
        check_passphrase(passphrase)
        disk = self.host.disk
        if disk.encryption_key is not None:
            raise StorageError("already_enabled", "Encryption is already enabled.")
        if disk.mounted:
            raise StorageError("mounted", MOUNTED)
        if disk.encrypted_with is not None and passphrase_matches(passphrase, disk.encrypted_with):
            disk.encryption_key, disk.wrong_key = disk.encrypted_with, False
        else:
            disk.encryption_key = passphrase_digest(passphrase)
            disk.wrong_key = disk.encrypted
        self.host.audit(actor, f"Disk encryption enabled for {disk.disk_id}")
        self.host.settled()

    def disable(self, actor: Actor | None = None) -> None:
        """The disk stays encrypted until it is formatted ("no passphrase" until then)."""
        self._encryptable()
        disk = self.host.disk
        if disk.mounted:
            raise StorageError("mounted", MOUNTED)
        if disk.encryption_key is None:
            raise StorageError("not_enabled", "Encryption is not enabled.")
        disk.encryption_key, disk.wrong_key = None, False
        self.host.audit(actor, f"Disk encryption disabled for {disk.disk_id}")
        self.host.settled()

    def change_passphrase(self, old: str, new: str, actor: Actor | None = None) -> None:
        """ "Changing the password doesn't disrupt ongoing recordings."""
        self._encryptable()
        disk = self.host.disk
        if not disk.mounted:
            raise StorageError("unmounted", "The disk is unmounted. Passphrase can only be changed when the disk "
                               "is mounted.")  # fmt: skip
        if not disk.encrypted or disk.encryption_key is None:
            raise StorageError("not_enabled", "The disk is not encrypted.")
        try:
            check_passphrase(new)
        except StorageError as exc:
            raise StorageError("invalid_new_passphrase", "Invalid new passphrase.") from exc
        if not passphrase_matches(old, disk.encrypted_with or ""):
            raise StorageError("old_mismatch", "The oldpassphrase does not match the existing passphrase.")
        disk.encrypted_with = disk.encryption_key = passphrase_digest(new)
        self.host.audit(actor, f"Disk encryption password changed for {disk.disk_id}")
        self.host.settled()

    def encrypt(self, passphrase: str, actor: Actor | None = None) -> Job:
        """The web interface's "Encrypt" tool: unmount, enable encryption, format (erases all files)."""
        self._encryptable()
        check_passphrase(passphrase)
        self.tools.usable(opened=False)
        disk = self.host.disk
        if disk.encrypted:
            raise StorageError("already_enabled", "Encryption is already enabled.")
        self.tools.writable()
        was_mounted, disk.mounted = disk.mounted, False
        disk.encryption_key = None
        self.enable(passphrase, actor)
        return self.tools.format(actor=actor, mounted_after=was_mounted)

    def decrypt(self, actor: Actor | None = None) -> Job:
        """The "Decrypt" tool: "All files on the storage device will be erased."""
        self._encryptable()
        disk = self.host.disk
        if not disk.encrypted:
            raise StorageError("not_enabled", "The disk is not encrypted.")
        self.tools.usable()
        self.tools.writable()
        was_mounted, disk.mounted = disk.mounted, False
        self.disable(actor)
        return self.tools.format(actor=actor, mounted_after=was_mounted)
