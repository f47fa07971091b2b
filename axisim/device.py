"""Device: one simulated Axis device, its identity, parameters, accounts and boot.

Knows no HTTP: handlers in `cgi_handlers` call these methods and format the
replies. Every change a request makes goes through here, so later layers
(persistence, logs, subsystems) have one place to hook in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from fnmatch import fnmatchcase

from param_tree import ParamStore, Role, UpdateError, printable, strip_root

from .access_policy import POLICY, GroupPolicy
from .accounts import AccountError, AccountSpec, initial_accounts
from .auth import DigestAuthority, Schemes, schemes_for
from .certificates import CertificateStore
from .clock import SimClock
from .device_subsystems import DeviceSubsystems
from .dos_guard import BLOCKED_IP, SWITCH, BruteForceGuard, Limits
from .events import SYSTEM_READY, Event, EventBus, TopicDecl, event_of
from .files import FileStore
from .firmware import Firmware, Image
from .identity import Identity
from .lifecycle import BootTimes, Lifecycle, RestartKind, State
from .logs import SYSTEM, Actor, DeviceLogs, Severity
from .model import DeviceModel, Variant, load_model

HOSTNAME = "Network.HostName"
AUTH_POLICY = "Network.HTTP.AuthenticationPolicy"
ANONYMOUS_VIEWER = "System.BoaProtViewer"  # "Allow anonymous viewing": anonymous | password

# What a soft factory default keeps (every manual, Maintenance: "The only settings
# saved after restore are ..."), as parameter-name patterns. Broadcast follows from
# address and mask, so it is kept with them as vapix-wire.md §2.1 lists it.
KEPT_ON_RESTORE = (
    "Network.BootProto",  # boot protocol (DHCP or static)
    "Network.Interface.*.Link.BootProto",
    "Network.IPAddress",  # static IP address
    "Network.DefaultRouter",  # default router
    "Network.Routing.DefaultRouter",
    "Network.SubnetMask",  # subnet mask
    "Network.Broadcast",
    "Network.Interface.*.dot1x.*",  # 802.1X settings
    "RemoteService.*",  # O3C settings
    "Network.DNSServer1",  # DNS server IP address
    "Network.DNSServer2",
    "Network.Resolver.NameServer1",
    "Network.Resolver.NameServer2",
    "Network.Resolver.NameServerList",
)
FIRMWARE_VERSION = "Properties.Firmware.Version"
AUDIT_LOG = "audit_log"  # the variant fact (model.toml) of a model with an audit log (the S4000)


class Device:
    def __init__(
        self,
        model: DeviceModel,
        identity: Identity,
        *,
        variant: str | None = None,
        accounts: Iterable[AccountSpec] = (),
        strict_nc: bool = False,
        boot_times: BootTimes | None = None,
        switched_off: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.switched_off = frozenset(switched_off)  # APIs this device is served without (e.g. "websocket-events")
        self.variant: Variant = model.variant(variant)
        self.identity = identity
        self.params = ParamStore(model.tree, model.identity_values(identity.placeholders()))
        self.accounts = initial_accounts(accounts, identity.realm)
        self.digest = DigestAuthority(identity.realm, strict_nc=strict_nc)
        self.firmware = Firmware(active=self.param(FIRMWARE_VERSION, model.firmware))
        self.lifecycle = Lifecycle(boot_times)
        self.clock = SimClock()  # jobs, syncs and pulses run on it; tests move it forward
        self.bus = EventBus(self.clock)  # what happens to the device, for whoever subscribes
        self.logs = DeviceLogs(
            lambda: self.hostname, audit=bool(self.variant.facts.get(AUDIT_LOG)), wall=self.clock.wall
        )
        self.certificates = CertificateStore(self.clock.wall, self.changed)  # keys, CA certificates, HTTPS's choice
        self.files = FileStore()  # uploads (audio clips); on disk once a state directory is attached
        self.on_change: list[Callable[[], None]] = []  # persistence listens here
        self.on_factory_default: list[Callable[[RestartKind], None]] = []  # e.g. certificates
        self.vetoes: list[Callable[[dict[str, str]], list[str]]] = []  # the server's: ports it cannot listen on
        self.link_up = True  # a network link (cable or WLAN) reaches the device; the wlan subsystem says
        # the firewall's verdict (client address, local port) -> passes, while it is activated; the
        # server drops what it refuses. None: every connection passes (one attribute test a request)
        self.packet_filter: Callable[[str, int], bool] | None = None
        self.brute_force = BruteForceGuard(
            lambda: self.params.memo(SWITCH, lambda: Limits.read(self.param)), self.clock.now, self.logs, self.bus
        )  # System.PreventDoSAttack: asked by the request pipeline before authentication
        self.subsystems = DeviceSubsystems()
        self.subsystems.start(model.subsystems, self)  # in manifest order: each sees those listed before it
        self.logs.system_event(f"{self.model.short_name or model.id} started, AXIS OS {self.firmware.active}")

    # -- identity and state --------------------------------------------------

    @property
    def serial(self) -> str:
        return self.identity.serial

    @property
    def hostname(self) -> str:
        return self.param(HOSTNAME, self.identity.hostname)

    def local_time(self) -> datetime:
        """The device's wall time in its time zone (the `time` subsystem sets the zone of the logs)."""
        return self.logs.stamper.zone.local(self.clock.wall())

    @property
    def needs_setup(self) -> bool:
        return self.accounts.needs_setup

    @property
    def boot_id(self) -> str:
        return self.lifecycle.boot_id

    @property
    def uptime(self) -> int:
        return self.lifecycle.uptime

    @property
    def anonymous_role(self) -> Role:
        """What a caller without credentials may do: view, if anonymous viewing is allowed."""
        return self.params.memo(
            ANONYMOUS_VIEWER, lambda: Role.VIEWER if self.param(ANONYMOUS_VIEWER) == "anonymous" else Role.ANONYMOUS
        )

    def schemes(self, https: bool = False) -> Schemes:
        return self.params.memo((AUTH_POLICY, https), lambda: schemes_for(self.param(AUTH_POLICY, "digest"), https))

    def allows(self, role: Role, secure: bool) -> bool:
        """`System.BoaGroupPolicy`: whether a caller of `role` may be served over HTTP (HTTPS)."""
        return self.params.memo(POLICY, lambda: GroupPolicy.read(self.param)).allows(role, secure)

    def changed(self) -> None:
        for listener in self.on_change:
            listener()

    # -- parameters ----------------------------------------------------------

    def update_params(
        self, changes: list[tuple[str, str]], role: Role, actor: Actor = SYSTEM, *, atomic: bool = False
    ) -> list[tuple[str, str]]:
        """Apply the valid changes; return the refused (name, value) pairs.

        `atomic`: all or nothing, as param.cgi's update (a refused request changes nothing, issue
        16 D15); the APIs whose documents say the valid part of a request still applies (io port
        management, §5.3) leave it off. Every value is checked, so a name given twice with one
        refused value refuses the request; given twice with valid values, the last one holds, as
        applying the pairs in request order would (§1.2 says nothing of repeats)."""
        applied, refused = self.params.validate(changes, role)
        for name in self.subsystems.vetoed(applied):
            refused.append((name, applied.pop(name)))
        for veto in self.vetoes:
            for name in veto(applied):
                refused.append((name, applied.pop(name)))
        if refused and atomic:
            return refused
        self.params.set_values(applied)
        if applied:
            self.settings_changed(applied)
            shown = ", ".join(f"{name}={self._shown(name, value)}" for name, value in applied.items())
            self.logs.configuration(actor.who, actor.client, f"Parameters changed: {shown}")
            self.changed()
        return refused

    def settings_changed(self, applied: dict[str, str] | None = None) -> None:
        """Tell the subsystems (None: anything may have changed: a reset, a state load)."""
        self.subsystems.params_changed(applied)

    def _shown(self, name: str, value: str) -> str:
        definition = self.params.definition(name)
        return printable(definition.type.display(value) if definition else value)

    def add_group(self, template: str, group: str, role: Role, force: bool = False, actor: Actor = SYSTEM) -> str:
        key = self.params.add_group(template, group, role, force=force)
        self.settings_changed(None)
        self.logs.configuration(actor.who, actor.client, f"Parameter group added: {group}.{key}")
        self.changed()
        return key

    def remove_groups(self, groups: list[str], role: Role, actor: Actor = SYSTEM) -> None:
        reason = self.subsystems.removal_refused([strip_root(g) for g in groups])
        if reason:
            raise UpdateError(reason)
        self.params.remove_groups(groups, role)
        self.settings_changed(None)
        self.logs.configuration(actor.who, actor.client, f"Parameter groups removed: {', '.join(groups)}")
        self.changed()

    # -- accounts ------------------------------------------------------------

    @contextlib.contextmanager
    def _account_change(self, actor: Actor, what: str) -> Iterator[None]:
        """pwdgrp.cgi errors tell the caller to "consult the system log file": the reason is there."""
        try:
            yield
        except AccountError as exc:
            self.logs.system.write(
                Severity.WARNING, "accounts", f"Could not {what} (by {actor.who}): {exc}"
            )
            raise

    def add_account(
        self, name: str, password: str, groups: frozenset[str], primary: str, comment: str, actor: Actor
    ) -> None:
        with self._account_change(actor, f"add {name}"):
            self.accounts.add(name, password, groups, primary, comment)
        roles = ":".join(g for g in ("admin", "operator", "viewer", "ptz") if g in groups)
        self.logs.configuration(actor.who, actor.client, f"Account added: {name} ({roles})", source="accounts")
        self.changed()

    def update_account(
        self, name: str, password: str | None, groups: frozenset[str] | None, comment: str | None, actor: Actor
    ) -> None:
        with self._account_change(actor, f"change {name}"):
            self.accounts.update(name, password, groups, comment)
        what = [w for w, v in (("password", password), ("roles", groups), ("comment", comment)) if v is not None]
        self.logs.configuration(
            actor.who, actor.client, f"Account changed: {name} ({', '.join(what) or 'nothing'})", source="accounts"
        )
        self.changed()

    def remove_account(self, name: str, actor: Actor) -> None:
        with self._account_change(actor, f"remove {name}"):
            self.accounts.remove(name)
        self.logs.configuration(actor.who, actor.client, f"Account removed: {name}", source="accounts")
        self.changed()

    # -- lifecycle -----------------------------------------------------------

    def restart(self, kind: RestartKind, actor: Actor = SYSTEM) -> None:
        """Restart, optionally after a factory default; the reset happens before going offline,
        so a simulator killed during the reboot comes back reset, as a real device would.
        A device without power does nothing."""
        if self.lifecycle.is_off:
            return
        if kind is RestartKind.REBOOT:
            self.logs.system_event(f"Restart requested by {actor.who} from {actor.client}")
        else:
            self.logs.system_event(
                f"Factory default ({kind.value}) requested by {actor.who} from {actor.client}",
                severity=Severity.NOTICE,
            )
            self._factory_default(kind)
        self.subsystems.going_down(kind)
        self.changed()
        self.lifecycle.go_offline()
        if self.lifecycle.cycle is not None:
            self.lifecycle.cycle()  # the server takes the listeners down and brings the device back
        else:
            self.boot()
            self.ready()

    def power_off(self, reason: str) -> None:
        """The device loses its power (or shuts itself down): offline until `power_on()`."""
        if self.lifecycle.is_off:
            return
        self.logs.system_event(f"Power off: {reason}", severity=Severity.NOTICE)
        self.subsystems.going_down(RestartKind.REBOOT)  # a power cycle keeps the settings
        self.changed()
        self.lifecycle.go_offline(State.OFF)
        if self.lifecycle.power is not None:
            self.lifecycle.power(False)  # the server takes the listeners down

    def power_on(self) -> None:
        """Power returns: the device boots as after a restart."""
        if not self.lifecycle.is_off:
            return
        self.lifecycle.go_offline()
        if self.lifecycle.power is not None:
            self.lifecycle.power(True)  # the server boots the device after its boot time
        else:
            self.boot()
            self.ready()

    def _factory_default(self, kind: RestartKind) -> None:
        keep: list[str] = []
        if kind is RestartKind.SOFT:
            keep = [d.name for d in self.params.all() if any(fnmatchcase(d.name, p) for p in KEPT_ON_RESTORE)]
        self.params.reset(keep)
        # accounts are not on the manuals' list of what a restore keeps, so both kinds
        # leave a device that needs its first administrator (vapix-wire.md §2.1)
        self.accounts.clear()
        if not self.firmware.rolling_back:
            self.firmware.purge()  # a factory default leaves nothing to roll back to
        self.certificates.factory_default()  # the server then installs a new self-signed one
        self.settings_changed()
        for listener in self.on_factory_default:
            listener(kind)

    def boot(self) -> None:
        """The device comes back: staged firmware becomes active, new boot id, uptime from zero."""
        if self.firmware.boot(self.clock.wall()):
            self.params.set_base({FIRMWARE_VERSION: self.firmware.active})
            self.logs.system_event(f"Entity Management: Upgrade completed ({self.firmware.active}).", source="fwmgr")
        self.lifecycle.booted()
        self.digest.new_secret()
        self.brute_force.forget()
        self.subsystems.booted()
        self.logs.system_event(f"System booted, AXIS OS {self.firmware.active}, boot id {self.boot_id}")
        self.bus.publish(SYSTEM_READY, data={"ready": False}, publisher="device")
        self.changed()

    def ready(self) -> None:
        self.lifecycle.mark_ready()
        self.logs.system_event("System ready")
        self.bus.publish(SYSTEM_READY, data={"ready": True}, publisher="device")

    # -- events --------------------------------------------------------------

    def event_topics(self) -> list[TopicDecl]:
        """Every topic this device can emit: its own and its subsystems' (what GetEventInstances declares)."""
        if self.model.topics is not None:  # a recorded model: what the recorded device declared (events.xml)
            return list(self.model.topics)
        blocking = [BLOCKED_IP] if SWITCH in self.params else []  # models with brute-force blocking
        return [SYSTEM_READY, *blocking, *self.subsystems.topics()]

    def event_states(self) -> list[Event]:
        """The current state of every property instance (a new subscriber's Initialized events)."""
        ready = self.lifecycle.state is State.READY
        states = self.subsystems.states()
        if self.model.topics is not None and SYSTEM_READY.topic not in {d.topic for d in self.model.topics}:
            return states
        return [event_of(SYSTEM_READY, {}, {"ready": ready}, self.clock.wall(), "device"), *states]

    def upgrade(self, image: Image, factory_default_mode: str, actor: Actor = SYSTEM) -> None:
        """Stage an accepted image and restart into it (ImageError when refused)."""
        self.firmware.accept(image, factory_default_mode)
        self.logs.system_event(
            f"Firmware upgrade to {image.version} requested by {actor.who} from {actor.client}",
            source="fwmgr",
        )
        kinds = {"soft": RestartKind.SOFT, "hard": RestartKind.HARD}
        self.restart(kinds.get(factory_default_mode, RestartKind.REBOOT), actor)

    def rollback(self, actor: Actor = SYSTEM) -> bool:
        """Restart into the previous firmware; False when there is none."""
        if not self.firmware.rollback():
            return False
        self.logs.system_event(
            f"Firmware rollback to {self.firmware.pending} requested by {actor.who}", source="fwmgr"
        )
        self.restart(RestartKind.REBOOT, actor)
        return True

    def purge_firmware(self, actor: Actor = SYSTEM) -> None:
        """Forget the inactive firmware: nothing left to roll back to."""
        self.firmware.purge()
        self.logs.system_event(f"Inactive firmware purged by {actor.who}", source="fwmgr")
        self.changed()

    # -- parameters, read --------------------------------------------------

    def param(self, name: str, default: str = "") -> str:
        """A parameter's current value, or `default` where the model has no such parameter."""
        return self.params.get(name, default)



DEFAULT_ACCOUNT = AccountSpec("root", "pass", "admin+ptz")  # a real root account is in every role group


def default_seed(model_id: str) -> str:
    """The seed of a device started without one: per model, so that models sharing an OUI
    (S3008, S3016, S4000) started alone do not share a serial, MAC, host name and realm."""
    return f"axisim-{model_id}"


def identity_for(model: str, seed: str | None = None, index: int = 0, ip: str = "127.0.0.1") -> Identity:
    """Who the device of `model` at `index` under `seed` is (the model gives the OUI).
    Without a seed, the model's own (`default_seed`); with one, every model of an OUI shares
    the seed's stride, so a fleet's indexes give unique serials."""
    loaded = load_model(model)
    return Identity.derive(loaded.oui, index=index, seed=default_seed(loaded.id) if seed is None else seed, ip=ip)


def make_device(
    model: str,
    *,
    variant: str | None = None,
    accounts: Iterable[AccountSpec] = (DEFAULT_ACCOUNT,),
    seed: str | None = None,
    index: int = 0,
    ip: str = "127.0.0.1",
    strict_nc: bool = False,
    boot_times: BootTimes | None = None,
    switched_off: Iterable[str] = (),
) -> Device:
    """A device of a named model with a deterministic identity (seed, index; no seed: the model's)."""
    return Device(
        load_model(model), identity_for(model, seed, index, ip), variant=variant, accounts=accounts,
        strict_nc=strict_nc, boot_times=boot_times, switched_off=switched_off,
    )  # fmt: skip
