"""The wired network settings of every model: addresses, DHCP, host name, resolver, link-local.

The parameters (`Network.*`) hold the settings, so param.cgi and the network settings API
(`cgi_handlers/network_settings.py`) change the same values through `Device.update_params`:
both views agree, a refused value changes nothing, the change is logged and saved. This plugin

- refuses what breaks a rule across parameters (`refused`): an IPv4 address that is no host
  address of its subnet, a netmask that is not contiguous, a broadcast that is not the subnet's,
  an IPv6 address list with a non-IPv6 or link-local item, a router or name server that is no
  unicast address (the rules themselves are in `config.py`);
- publishes what is in use (`params_changed`): `Network.eth0.*` (a static address once
  `BootProto=none`, the lease where the device was started otherwise; `IPv6.IPAddresses` with the
  EUI-64 link-local address once IPv6 is enabled), the router, the resolver, the link-local
  IPv4 address, the volatile host name;
- keeps what the API has and no parameter holds (search domains, the DHCP fallback flags) in its
  saved state.

The simulator's listeners never move: what a device reports follows its settings.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from param_tree import Role

from ...lifecycle import RestartKind
from ...logs import Actor
from ..base import Subsystem
from . import config
from .config import Extras, NetworkInfo, SettingRefused

if TYPE_CHECKING:
    from ..base import DeviceView

SYSTEM = Actor("", "-")


class NetworkSubsystem(Subsystem):
    name = "network"

    def __init__(self, device: DeviceView) -> None:
        super().__init__(device)
        self.extras = Extras()
        self._publish()

    # -- reading -----------------------------------------------------------------------------

    def lease(self) -> config.Lease:
        """The simulated DHCP offer: the address this device was started on."""
        values = self.device.identity.placeholders()
        return config.Lease(values["ip"], values["netmask"], values["gateway"])

    def info(self) -> NetworkInfo:
        return config.read(self.device.param, self.lease(), self.device.identity.mac, self.device.link_up, self.extras)

    def _publish(self) -> None:
        params = self.device.params
        values = {name: value for name, value in config.published(self.info()).items() if name in params}
        if any(params.value(name) != value for name, value in values.items()):
            params.set_base(values)

    # -- device hooks ------------------------------------------------------------------------

    def params_changed(self, applied: dict[str, str] | None) -> None:
        if applied is None or any(name.startswith("Network.") for name in applied):
            if applied and config.BROADCAST not in applied and {config.IP_ADDRESS, config.SUBNET_MASK} & set(applied):
                self._follow_broadcast()
            self._publish()

    def _follow_broadcast(self) -> None:
        """Network.Broadcast follows a new address or mask (vapix-wire.md §2.1 keeps it with them)."""
        static = self.info().static_ipv4
        if config.BROADCAST in self.device.params and static.broadcast:
            self.device.params.set_values({config.BROADCAST: static.broadcast})

    def refused(self, proposed: dict[str, str]) -> set[str]:
        if not any(name.startswith("Network.") for name in proposed):
            return set()
        after = lambda name: proposed.get(name, self.device.param(name))  # noqa: E731
        refused: set[str] = set()
        if any(name in proposed for name in config.IPV4_NAMES) and config.IP_ADDRESS in self.device.params:
            refused |= self._ipv4_refused(proposed, after)
        if config.DEFAULT_ROUTER in proposed and not config.router_ok(proposed[config.DEFAULT_ROUTER]):
            refused.add(config.DEFAULT_ROUTER)
        for name in config.DNS_SERVERS:
            value = proposed.get(name)
            if value is not None and value != config.NO_SERVER and not config.name_server_ok(value):
                refused.add(name)
        addresses = proposed.get(config.IPV6_ADDRESSES)
        if addresses is not None and not all(config.ipv6_static_ok(a) for a in config.split_list(addresses)):
            refused.add(config.IPV6_ADDRESSES)
        router = proposed.get(config.IPV6_ROUTER)
        if router and (":" not in router or not config.name_server_ok(router)):  # an IPv6 unicast router
            refused.add(config.IPV6_ROUTER)
        return refused

    @staticmethod
    def _ipv4_refused(proposed: dict[str, str], after: Any) -> set[str]:
        mine = {name for name in config.IPV4_NAMES if name in proposed}
        prefix = config.prefix_of(after(config.SUBNET_MASK))
        if prefix is None:
            return mine
        broadcast = proposed.get(config.BROADCAST)  # checked only when given: it follows address and mask
        try:
            config.static_ipv4(after(config.IP_ADDRESS), prefix, broadcast)
        except SettingRefused:
            return mine
        return set()

    def going_down(self, kind: RestartKind) -> None:
        if kind is not RestartKind.REBOOT:  # not on the manuals' list of what a restore keeps
            self.extras = Extras()
            self._publish()  # the device told the subsystems of the reset before this

    def to_state(self) -> Any:
        return {**asdict(self.extras), "search_domains": list(self.extras.search_domains)}

    def load_state(self, state: Any) -> None:
        if state is None:
            return
        if not isinstance(state, dict):
            raise ValueError("network: not an object")
        domains = state.get("search_domains", [])
        flags = (state.get("static_dhcp_fallback", False), state.get("dhcp_static_routes", False))
        proxies = (state.get("http_proxy", ""), state.get("https_proxy", ""), state.get("no_proxy", ""))
        if not isinstance(domains, list) or not all(isinstance(d, str) and config.domain_ok(d) for d in domains):
            raise ValueError("network: search_domains is not a list of domain names")
        if len(domains) > config.MAX_SEARCH_DOMAINS or not all(isinstance(f, bool) for f in flags):
            raise ValueError("network: bad search_domains or flags")
        if not all(isinstance(p, str) for p in proxies) or not (
            config.proxy_ok(proxies[0]) and config.proxy_ok(proxies[1]) and config.no_proxy_ok(proxies[2])
        ):
            raise ValueError("network: bad global proxies")
        self.extras = Extras(tuple(domains), *flags, *proxies)
        self._publish()

    # -- the network settings API's changes (SettingRefused names the field) ------------------

    def _apply(self, changes: list[tuple[str, str]], actor: Actor, refusals: dict[str, str],
               extras: Extras | None = None) -> None:  # fmt: skip
        """Set the parameters all or nothing; a refused one raises SettingRefused(refusals[name])."""
        present = [(name, value) for name, value in changes if name in self.device.params]
        refused = self.device.update_params(present, Role.ADMIN, actor, atomic=True) if present else []
        if refused:
            name = refused[0][0]
            raise SettingRefused(refusals.get(name, "combination"), f"{name}={refused[0][1]!r} refused")
        if extras is not None and extras != self.extras:
            changed = [name for name, value in asdict(extras).items() if asdict(self.extras)[name] != value]
            self.extras = extras
            self._publish()
            self.device.logs.configuration(actor.who, actor.client, f"Network settings changed: {', '.join(changed)}")
            self.device.changed()

    def set_hostname(self, actor: Actor = SYSTEM, *, use_dhcp: bool | None = None, static: str | None = None) -> None:
        changes = []
        if use_dhcp is not None:
            changes.append((config.HOSTNAME_DHCP, _yes(use_dhcp)))
        if static is not None:
            changes.append((config.HOSTNAME, static))  # param_tree/checks.py's host name rule decides
        self._apply(changes, actor, {config.HOSTNAME: "staticHostname", config.HOSTNAME_DHCP: "useDhcpHostname"})

    def set_ipv4(
        self,
        actor: Actor = SYSTEM,
        *,
        mode: str | None = None,
        link_local: str | None = None,
        router: str | None = None,
        static: list[tuple[str, int, str | None]] | None = None,
        dhcp_fallback: bool | None = None,
        dhcp_routes: bool | None = None,
    ) -> None:
        """Any of: mode (static | dhcp), link-local mode (off | on | fallback), static default router,
        static addresses [(address, prefix, broadcast or None)] (at most one), the DHCP flags."""
        changes: list[tuple[str, str]] = []
        if mode is not None:
            if mode not in ("static", "dhcp"):
                raise SettingRefused("configurationMode")
            changes.append((config.BOOT_PROTO, "none" if mode == "static" else "dhcp"))
        if link_local is not None:
            if link_local not in ("off", "on", "fallback"):
                raise SettingRefused("linkLocalMode")
            changes.append((config.ZEROCONF, _yes(link_local != "off")))
            changes.append((config.ZEROCONF_FALLBACK, _yes(link_local == "fallback")))
        if router is not None:
            if not config.router_ok(router) or not router:
                raise SettingRefused("staticDefaultRouter")
            changes.append((config.DEFAULT_ROUTER, router))
        if static is not None:
            if not 1 <= len(static) <= config.MAX_STATIC_IPV4:
                raise SettingRefused("staticAddressConfigurations")
            address = config.static_ipv4(*static[0])
            changes += [(config.IP_ADDRESS, address.address), (config.SUBNET_MASK, config.mask_of(address.prefix)),
                        (config.BROADCAST, address.broadcast or "")]  # fmt: skip
        extras = replace(
            self.extras,
            static_dhcp_fallback=self.extras.static_dhcp_fallback if dhcp_fallback is None else dhcp_fallback,
            dhcp_static_routes=self.extras.dhcp_static_routes if dhcp_routes is None else dhcp_routes,
        )
        refusals = {config.BOOT_PROTO: "configurationMode", config.ZEROCONF: "linkLocalMode",
                    config.ZEROCONF_FALLBACK: "linkLocalMode", config.DEFAULT_ROUTER: "staticDefaultRouter",
                    config.IP_ADDRESS: "combination", config.SUBNET_MASK: "combination",
                    config.BROADCAST: "combination"}  # fmt: skip
        self._apply(changes, actor, refusals, extras)

    def set_ipv6(self, actor: Actor = SYSTEM, *, enabled: bool | None = None) -> None:
        if enabled is not None:
            self._apply([(config.IPV6_ENABLED, _yes(enabled))], actor, {config.IPV6_ENABLED: "enabled"})

    def set_resolver(
        self,
        actor: Actor = SYSTEM,
        *,
        use_dhcp: bool | None = None,
        name_servers: list[str] | None = None,
        search_domains: list[str] | None = None,
        domain_name: str | None = None,
    ) -> None:
        changes: list[tuple[str, str]] = []
        if use_dhcp is not None:
            changes.append((config.RESOLVER_DHCP, _yes(use_dhcp)))
        if name_servers is not None:
            if len(name_servers) > config.MAX_NAME_SERVERS or not all(config.name_server_ok(s) for s in name_servers):
                raise SettingRefused("staticNameServers")
            padded = [*name_servers, *[config.NO_SERVER] * config.MAX_NAME_SERVERS][: config.MAX_NAME_SERVERS]
            changes += list(zip(config.DNS_SERVERS, padded, strict=True))
        extras = self.extras
        if search_domains is not None:
            if len(search_domains) > config.MAX_SEARCH_DOMAINS or not all(map(config.domain_ok, search_domains)):
                raise SettingRefused("staticSearchDomains")
            extras = replace(extras, search_domains=tuple(search_domains))
        if domain_name is not None:
            changes.append((config.DOMAIN, domain_name))  # param_tree/checks.py's DNS name rule decides
        refusals = {config.RESOLVER_DHCP: "useDhcpResolverInfo", config.DOMAIN: "staticDomainName",
                    **dict.fromkeys(config.DNS_SERVERS, "staticNameServers")}  # fmt: skip
        self._apply(changes, actor, refusals, extras)

    def set_proxies(
        self, actor: Actor = SYSTEM, *, http: str | None = None, https: str | None = None, no_proxy: str | None = None
    ) -> None:
        """The global proxies (the manuals: "Restart the device to apply"): stored and reported only."""
        for what, value, ok in (("httpProxy", http, config.proxy_ok), ("httpsProxy", https, config.proxy_ok),
                                ("noProxy", no_proxy, config.no_proxy_ok)):  # fmt: skip
            if value is not None and not ok(value):
                raise SettingRefused(what)
        extras = self.extras
        extras = replace(extras, http_proxy=extras.http_proxy if http is None else http,
                         https_proxy=extras.https_proxy if https is None else https,
                         no_proxy=extras.no_proxy if no_proxy is None else no_proxy)  # fmt: skip
        self._apply([], actor, {}, extras)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
