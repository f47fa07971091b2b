"""Device: one simulated Axis device, its identity, parameters, accounts and boot.

Knows no HTTP: handlers in `cgi_handlers` call these methods and format the
replies. Every change a request makes goes through here, so later layers
(persistence, logs, subsystems) have one place to hook in.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from param_tree import ParamStore, Role

from .accounts import AccountStore, groups_for_role
from .auth import DigestAuthority, Schemes, schemes_for
from .identity import Identity
from .model import DeviceModel, Variant, load_model

HOSTNAME = "Network.HostName"
VOLATILE_HOSTNAME = "Network.VolatileHostName.HostName"
AUTH_POLICY = "Network.HTTP.AuthenticationPolicy"
ANONYMOUS_VIEWER = "System.BoaProtViewer"  # "Allow anonymous viewing": anonymous | password

# basicdeviceinfo property -> parameter, in the key order real devices reply with
# (vapix-wire.md §5.2 [REC]: 12.9 unrestricted reply; 8.45 getAllProperties).
UNRESTRICTED_PROPERTIES = {
    "ProdNbr": "Brand.ProdNbr",
    "HardwareID": "Properties.System.HardwareID",
    "ProdFullName": "Brand.ProdFullName",
    "Version": "Properties.Firmware.Version",
    "ProdType": "Brand.ProdType",
    "Brand": "Brand.Brand",
    "WebURL": "Brand.WebURL",
    "ProdVariant": "Brand.ProdVariant",
    "SerialNumber": "Properties.System.SerialNumber",
    "ProdShortName": "Brand.ProdShortName",
    "BuildDate": "Properties.Firmware.BuildDate",
}
ALL_PROPERTY_ORDER = (
    "Architecture", "HardwareID", "ProdVariant", "WebURL", "ProdNbr", "SerialNumber", "Brand",
    "SocSerialNumber", "Soc", "BuildDate", "ProdShortName", "Version", "ProdFullName", "ProdType",
)  # fmt: skip
RESTRICTED_PROPERTIES = {"Architecture": "Properties.System.Architecture", "Soc": "Properties.System.Soc"}


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """An account to create at start: name, password, role (admin|operator|viewer[+ptz])."""

    name: str
    password: str
    role: str = "admin"


class Device:
    def __init__(
        self,
        model: DeviceModel,
        identity: Identity,
        *,
        variant: str | None = None,
        accounts: Iterable[AccountSpec] = (),
        strict_nc: bool = False,
    ) -> None:
        self.model = model
        self.variant: Variant = model.variant(variant)
        self.identity = identity
        self.params = ParamStore(model.tree, model.identity_values(identity.placeholders()))
        self.accounts = AccountStore()
        for index, spec in enumerate(accounts):
            primary = "root" if index == 0 and spec.name == "root" else "users"
            self.accounts.add(spec.name, spec.password, groups_for_role(spec.role), primary)
        self.digest = DigestAuthority(identity.realm, strict_nc=strict_nc)
        self.boot_id = str(uuid.uuid4())
        self._booted_at = time.monotonic()

    # -- identity and state --------------------------------------------------

    @property
    def serial(self) -> str:
        return self.identity.serial

    @property
    def hostname(self) -> str:
        return self.param(HOSTNAME, self.identity.hostname)

    @property
    def needs_setup(self) -> bool:
        return self.accounts.needs_setup

    @property
    def uptime(self) -> int:
        return int(time.monotonic() - self._booted_at)

    @property
    def anonymous_role(self) -> Role:
        """What a caller without credentials may do: view, if anonymous viewing is allowed."""
        return Role.VIEWER if self.param(ANONYMOUS_VIEWER) == "anonymous" else Role.ANONYMOUS

    def schemes(self, https: bool = False) -> Schemes:
        return schemes_for(self.param(AUTH_POLICY, "digest"), https)

    # -- parameters ----------------------------------------------------------

    def update_params(self, changes: list[tuple[str, str]], role: Role) -> list[tuple[str, str]]:
        """Apply the valid changes; return the refused (name, value) pairs."""
        applied, refused = self.params.update(changes, role)
        if HOSTNAME in applied and VOLATILE_HOSTNAME in self.params:
            # the running host name follows the configured one
            self.params.set_values({VOLATILE_HOSTNAME: applied[HOSTNAME]})
        return refused

    # -- discovery -----------------------------------------------------------

    def param(self, name: str, default: str = "") -> str:
        """A parameter's current value, or `default` where the model has no such parameter."""
        return self.params.value(name) if name in self.params else default

    def unrestricted_properties(self) -> dict[str, str]:
        return {key: self.param(name) for key, name in UNRESTRICTED_PROPERTIES.items()}

    def all_properties(self) -> dict[str, str]:
        found = self.unrestricted_properties()
        found.update({key: self.param(name) for key, name in RESTRICTED_PROPERTIES.items()})
        found["SocSerialNumber"] = self.identity.soc_serial
        return {key: found[key] for key in ALL_PROPERTY_ORDER}

    def api_list(self) -> list[dict[str, str]]:
        return self.model.apis

    def api_version(self, api_id: str, default: str) -> str:
        """The version the model advertises for one API (apidiscovery id)."""
        return next((api["version"] for api in self.model.apis if api.get("id") == api_id), default)


DEFAULT_ACCOUNT = AccountSpec("root", "pass", "admin+ptz")  # a real root account is in every role group


def make_device(
    model: str,
    *,
    variant: str | None = None,
    accounts: Iterable[AccountSpec] = (DEFAULT_ACCOUNT,),
    seed: str = "axisim",
    index: int = 0,
    ip: str = "127.0.0.1",
    strict_nc: bool = False,
) -> Device:
    """A device of a named model with a deterministic identity (seed, index)."""
    loaded = load_model(model)
    identity = Identity.derive(loaded.oui, index=index, seed=seed, ip=ip)
    return Device(loaded, identity, variant=variant, accounts=accounts, strict_nc=strict_nc)
