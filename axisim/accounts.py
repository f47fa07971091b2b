"""User accounts as `pwdgrp.cgi` manages them, with the manuals' limits.

Up to 100 accounts; names 1-14 characters [A-Za-z0-9]; passwords 1-64 printable
ASCII (32-126); the root account cannot be removed; a fresh device has no
account and needs its first administrator created (vapix-wire.md §4.4).

A password is never kept, in memory or in the state directory: an account holds
its Digest HA1, MD5(name:realm:password), which is what Digest checks, and Basic
checks the same HA1 from the password it is sent (one MD5, microseconds). The
realm (`AXIS_<serial>`) is fixed for a device, so the HA1 stays valid for its life.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from param_tree import Role

MAX_ACCOUNTS = 100
ROLE_GROUPS = ("admin", "operator", "viewer", "ptz")
_NAME = re.compile(r"^[A-Za-z0-9]{1,14}$")
_HA1 = re.compile(r"^[0-9a-f]{32}$")


def digest_ha1(name: str, realm: str, password: str) -> str:
    """RFC 2617 HA1 for MD5: what a Digest response is computed from, and all the device keeps."""
    return hashlib.md5(f"{name}:{realm}:{password}".encode("utf-8", "surrogateescape")).hexdigest()


REASONS = {
    "name": "account names are 1-14 letters and digits, and must exist to be changed",
    "exists": "an account with that name already exists",
    "password": "passwords are 1-64 printable ASCII characters",
    "groups": "roles are admin, operator, viewer, optionally with ptz; the last administrator stays one",
    "limit": f"a device holds at most {MAX_ACCOUNTS} accounts",
    "root": "the root account and the last administrator cannot be removed",
    "initial": "the first account must be an administrator",
}


class AccountError(Exception):
    """A refused account change; `kind` names the reason, the state is unchanged."""

    def __init__(self, kind: str) -> None:
        super().__init__(REASONS.get(kind, kind))
        self.kind = kind


@dataclass(slots=True)
class Account:
    name: str
    ha1: str  # MD5(name:realm:password), never the password
    groups: frozenset[str]  # secondary groups: admin, operator, viewer, ptz
    primary: str = "users"  # "root" for the device's root account
    comment: str = ""
    realm: str = ""

    def password_matches(self, password: str) -> bool:
        """A password sent in the clear (Basic) against the stored HA1."""
        return hmac.compare_digest(digest_ha1(self.name, self.realm, password), self.ha1)

    @property
    def role(self) -> Role:
        if "admin" in self.groups:
            return Role.ADMIN
        if "operator" in self.groups:
            return Role.OPERATOR
        if "viewer" in self.groups:
            return Role.VIEWER
        return Role.ANONYMOUS

    @property
    def is_root(self) -> bool:
        return self.primary == "root"


def parse_sgrp(text: str) -> frozenset[str]:
    """`admin:operator:viewer:ptz` in any order; every part must be a role group."""
    parts = [p for p in text.split(":")]
    if not text or any(p not in ROLE_GROUPS for p in parts):
        raise AccountError("groups")
    groups = frozenset(parts)
    # an administrator is also operator and viewer, an operator also viewer
    if "admin" in groups:
        groups |= {"operator", "viewer"}
    if "operator" in groups:
        groups |= {"viewer"}
    return groups


def groups_for_role(role: str) -> frozenset[str]:
    """Shorthand used by the CLI and fixtures: admin, operator, viewer (+ptz)."""
    base = {"admin": "admin", "administrator": "admin", "operator": "operator", "viewer": "viewer"}
    head, _, ptz = role.partition("+")
    if head not in base or ptz not in ("", "ptz"):
        raise AccountError("groups")
    return parse_sgrp(base[head] + (":ptz" if ptz else ""))


def check_password(password: str) -> None:
    if not 1 <= len(password) <= 64 or any(not 32 <= ord(c) <= 126 for c in password):
        raise AccountError("password")


@dataclass
class AccountStore:
    realm: str = ""  # the device's Digest realm, which every HA1 is computed for
    accounts: dict[str, Account] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.accounts)

    def get(self, name: str) -> Account | None:
        return self.accounts.get(name)

    @property
    def needs_setup(self) -> bool:
        return not any(a.role >= Role.ADMIN for a in self.accounts.values())

    def add(
        self, name: str, password: str, groups: frozenset[str], primary: str = "users", comment: str = ""
    ) -> Account:
        if not _NAME.match(name):
            raise AccountError("name")
        if name in self.accounts:
            raise AccountError("exists")
        check_password(password)
        return self._add(name, digest_ha1(name, self.realm, password), groups, primary, comment)

    def _add(self, name: str, ha1: str, groups: frozenset[str], primary: str, comment: str) -> Account:
        if not _NAME.match(name):
            raise AccountError("name")
        if name in self.accounts:
            raise AccountError("exists")
        if not isinstance(ha1, str) or not _HA1.match(ha1):
            raise AccountError("password")
        if not isinstance(comment, str):
            raise AccountError("comment")
        if primary not in ("users", "root"):
            raise AccountError("groups")
        if self.needs_setup and "admin" not in groups:
            raise AccountError("initial")
        if primary == "root" and any(a.is_root for a in self.accounts.values()):
            raise AccountError("groups")
        if len(self.accounts) >= MAX_ACCOUNTS:
            raise AccountError("limit")
        account = Account(name, ha1, groups, primary, comment, self.realm)
        self.accounts[name] = account
        return account

    def update(
        self, name: str, password: str | None = None, groups: frozenset[str] | None = None, comment: str | None = None
    ) -> Account:
        account = self.accounts.get(name)
        if account is None:
            raise AccountError("name")
        if password is not None:
            check_password(password)
        if groups is not None and "admin" not in groups and self._last_admin(account):
            raise AccountError("groups")
        if password is not None:
            account.ha1 = digest_ha1(name, self.realm, password)
        if groups is not None:
            account.groups = groups
        if comment is not None:
            account.comment = comment
        return account

    def remove(self, name: str) -> None:
        account = self.accounts.get(name)
        if account is None:
            raise AccountError("name")
        if account.is_root or self._last_admin(account):
            raise AccountError("root")
        del self.accounts[name]

    def _last_admin(self, account: Account) -> bool:
        admins = [a for a in self.accounts.values() if a.role >= Role.ADMIN]
        return admins == [account]

    def members(self, group: str) -> list[str]:
        """Account names in a role group, root first as devices list them."""
        return [name for name in self.members_all() if group in self.accounts[name].groups]

    def members_all(self) -> list[str]:
        """Every account (the `digusers` group), root first."""
        return sorted(self.accounts, key=lambda n: (not self.accounts[n].is_root, n))

    def clear(self) -> None:
        """No account at all: a device after a hard factory default, waiting for setup."""
        self.accounts.clear()

    def to_state(self) -> list[dict[str, object]]:
        """What device.json keeps of each account: no password, the HA1 for this device's realm."""
        return [
            {"name": a.name, "ha1": a.ha1, "groups": sorted(a.groups), "primary": a.primary, "comment": a.comment}
            for a in (self.accounts[n] for n in self.members_all())
        ]

    @classmethod
    def from_state(cls, state: object, realm: str) -> tuple[AccountStore, bool]:
        """Accounts saved by `to_state`, checked with the same rules as pwdgrp.cgi (ValueError), and
        whether any came with a plain password (an older state file: it is saved again without)."""
        if not isinstance(state, list):
            raise ValueError("accounts: a list of accounts is expected")
        store = cls(realm)
        plain = False
        admins_first = sorted(state, key=lambda a: not (isinstance(a, dict) and "admin" in a.get("groups", ())))
        for number, entry in enumerate(admins_first, 1):
            try:
                groups = entry["groups"]
                if not isinstance(groups, list) or not groups or not all(isinstance(g, str) for g in groups):
                    raise AccountError("groups")
                sgrp = parse_sgrp(":".join(groups))
                if "ha1" in entry:
                    store._add(entry["name"], entry["ha1"], sgrp, entry["primary"], entry.get("comment", ""))
                else:  # written before passwords were left out
                    store.add(entry["name"], entry["password"], sgrp, entry["primary"], entry.get("comment", ""))
                    plain = True
            except (AccountError, KeyError, TypeError, AttributeError) as exc:  # never echo a password back
                raise ValueError(f"accounts: account {number} is not valid ({exc})") from exc
        return store, plain


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """An account to create at start: name, password, role (admin|operator|viewer[+ptz])."""

    name: str
    password: str
    role: str = "admin"


def initial_accounts(specs: Iterable[AccountSpec], realm: str = "") -> AccountStore:
    """The accounts a device of Digest realm `realm` starts with; AccountError when one is not acceptable."""
    store = AccountStore(realm)
    for index, spec in enumerate(specs):
        primary = "root" if index == 0 and spec.name == "root" else "users"
        store.add(spec.name, spec.password, groups_for_role(spec.role), primary)
    return store
