"""`POST /axis-cgi/network_settings.cgi` (`id=network-settings`): the network settings API.

Source: the VAPIX Network settings API document (developer.axis.com/vapix/network-video/
network-settings-api, "API specification" and "General error codes"); getNetworkInfo's shape as
recorded on AXIS OS 10.12 (vapix-wire.md §5.10, rs4acap `network_settings_1_get_network_info`).
JSON, every method for administrators, HTTP 200 for errors; the reply echoes the request's
apiVersion and context. Served: getSupportedVersions, getNetworkInfo, setHostnameConfiguration,
setIPv4AddressConfiguration, setIPv6AddressConfiguration, setResolverConfiguration and
setGlobalProxyConfiguration, for the wired interface `eth0`. The other methods (VLAN, 802.1X, WLAN,
setDeviceConfiguration) answer 4000. A bad value
is error 4004 with the method's documented sub-code and changes nothing; an unknown device name
is 5000. The settings live in the parameters (`axisim/subsystems/network/`), so param.cgi
shows every change made here and the reverse.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axisim.subsystems.network import (
    MAX_NAME_SERVERS,
    MAX_SEARCH_DOMAINS,
    MAX_STATIC_IPV4,
    Address,
    NetworkInfo,
    NetworkSubsystem,
    SettingRefused,
    obscured,
)
from param_tree import Role

from .ajr import ajr_call
from .api_errors import ApiError
from .request_context import actor_of, subsystem_of
from .routing import Api, Route

NETWORK_SETTINGS = Api("network-settings", "1.37", "Network Settings")  # AXIS OS 12.9 (vapix-wire.md §5.1)
MAJOR, MINOR = (int(part) for part in NETWORK_SETTINGS.version.split("."))
DEVICE = "eth0"
ERRORS = {
    1000: "Internal error",
    2000: "Invalid request",
    2001: "Request body too large",
    3000: "Invalid JSON data",
    4000: "Method does not exist",
    4001: "The specified version is not supported",
    4002: "Authorization failed",
    4003: "Missing parameter(s)",
    4004: "Invalid parameter(s)",
    5000: "No device found for the given device name",
}
# each method's sub-codes (the API document's "Sub-codes" tables), by the field SettingRefused names
SUB_CODES = {
    "setHostnameConfiguration": {"staticHostname": 100, "useDhcpHostname": 101},
    "setIPv4AddressConfiguration": {
        "deviceName": 100, "configurationMode": 101, "staticDefaultRouter": 102, "staticAddressConfigurations": 103,
        "address": 104, "prefixLength": 105, "broadcast": 106, "combination": 107, "useStaticDHCPFallback": 108,
        "linkLocalMode": 109, "useDHCPStaticRoutes": 110, "enabled": 111,
    },
    "setIPv6AddressConfiguration": {"deviceName": 100, "enabled": 101},
    "setResolverConfiguration": {
        "useDhcpResolverInfo": 100, "staticNameServers": 101, "staticSearchDomains": 102, "staticDomainName": 103,
    },
    "setGlobalProxyConfiguration": {"httpProxy": 100, "httpsProxy": 101, "noProxy": 102},
}  # fmt: skip


def _invalid(method: str, field: str) -> ApiError:
    return ApiError(4004, extra={"details": {"subCode": SUB_CODES[method][field]}})


class _Params:
    """A set method's `params`, each read with its type; a wrong one is 4004 with its sub-code."""

    def __init__(self, method: str, document: dict[str, Any]) -> None:
        values = document.get("params")
        values = {} if values is None else values
        if not isinstance(values, dict):
            raise ApiError(4004)
        self.method, self.values = method, values

    def get(self, key: str, kind: type | tuple[type, ...], field: str | None = None) -> Any:
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _invalid(self.method, field or key)
        return value

    def strings(self, key: str) -> list[str] | None:
        value = self.get(key, list)
        if value is not None and not all(isinstance(item, str) for item in value):
            raise _invalid(self.method, key)
        return value

    def device(self) -> None:
        """The interface a method configures: required; only eth0 exists (5000 for another name)."""
        name = self.values.get("deviceName")
        if name is None:
            raise ApiError(4003)
        if not isinstance(name, str):
            raise _invalid(self.method, "deviceName")
        if name != DEVICE:
            raise ApiError(5000)


def _static_ipv4(params: _Params) -> list[tuple[str, int, str | None]] | None:
    configurations = params.get("staticAddressConfigurations", list)
    if configurations is None:
        return None
    if not 1 <= len(configurations) <= MAX_STATIC_IPV4 or not all(isinstance(c, dict) for c in configurations):
        raise _invalid(params.method, "staticAddressConfigurations")
    static = []
    for item in configurations:
        one = _Params(params.method, {"params": item})
        address, prefix = one.get("address", str), one.get("prefixLength", int)
        if address is None or prefix is None:
            raise _invalid(params.method, "address" if address is None else "prefixLength")
        static.append((address, prefix, one.get("broadcast", str)))
    return static


def _set(method: str, network: NetworkSubsystem, params: _Params, actor: Any) -> None:
    if method == "setHostnameConfiguration":
        network.set_hostname(actor, use_dhcp=params.get("useDhcpHostname", bool),
                             static=params.get("staticHostname", str))  # fmt: skip
    elif method == "setIPv4AddressConfiguration":
        params.device()
        if params.get("enabled", bool) is False:  # the simulator's devices always speak IPv4 [choice]
            raise _invalid(method, "enabled")
        network.set_ipv4(
            actor, mode=params.get("configurationMode", str), link_local=params.get("linkLocalMode", str),
            router=params.get("staticDefaultRouter", str), static=_static_ipv4(params),
            dhcp_fallback=params.get("useStaticDHCPFallback", bool),
            dhcp_routes=params.get("useDHCPStaticRoutes", bool),
        )  # fmt: skip
    elif method == "setIPv6AddressConfiguration":
        params.device()
        network.set_ipv6(actor, enabled=params.get("enabled", bool))
    elif method == "setGlobalProxyConfiguration":
        network.set_proxies(actor, http=params.get("httpProxy", str), https=params.get("httpsProxy", str),
                            no_proxy=params.get("noProxy", str))  # fmt: skip
    else:
        network.set_resolver(
            actor, use_dhcp=params.get("useDhcpResolverInfo", bool), name_servers=params.strings("staticNameServers"),
            search_domains=params.strings("staticSearchDomains"), domain_name=params.get("staticDomainName", str),
        )  # fmt: skip


def _address(address: Address, *, broadcast: bool = True) -> dict[str, Any]:
    shown: dict[str, Any] = {"address": address.address, "prefixLength": address.prefix,
                             "origin": address.origin, "scope": address.scope}  # fmt: skip
    if broadcast and address.broadcast:
        shown["broadcast"] = address.broadcast
    return shown


def network_info(info: NetworkInfo) -> dict[str, Any]:
    """getNetworkInfo's `data`: the system section and the wired interface eth0."""
    static = info.static_ipv4
    eth0: dict[str, Any] = {
        "name": DEVICE, "type": "wired", "macAddress": info.mac, "partOfBridge": "", "link": info.link,
        "state": "up", "staticState": "up",
        "IPv4": {
            "enabled": True, "configurationMode": info.ipv4_mode, "linkLocalMode": info.link_local_mode,
            "addresses": [_address(a) for a in info.ipv4],
            "maxSupportedStaticAddressConfigurations": MAX_STATIC_IPV4,
            "staticAddressConfigurations": [
                {"address": static.address, "prefixLength": static.prefix, "broadcast": static.broadcast}
            ],
            "defaultRouter": info.default_router, "staticDefaultRouter": info.static_default_router,
            "useStaticDHCPFallback": info.static_dhcp_fallback, "useDHCPStaticRoutes": info.dhcp_static_routes,
        },
        "IPv6": {
            "enabled": info.ipv6_enabled, "configurationMode": info.ipv6_mode,
            "addresses": [_address(a, broadcast=False) for a in info.ipv6],
        },
        "wired": {
            "linkMode": info.media,
            "8021X": {
                "enabled": info.dot1x_enabled, "status": info.dot1x_status, "mode": "WPA-Enterprise-EAPTLS",
                "configurations": [{"mode": "WPA-Enterprise-EAPTLS",
                                    "params": {"identity": info.dot1x_identity, "eapolVersion": info.eapol_version}}],
                "supportedModes": ["WPA-Enterprise-EAPTLS"],
            },
        },
    }  # fmt: skip
    system = {
        "tcpEcnMode": info.tcp_ecn,
        "deviceSwitching": {"mode": "auto", "devices": [DEVICE], "manualActiveDevices": [DEVICE],
                            "activeDevices": [DEVICE] if info.link else []},
        "hostname": {"useDhcpHostname": info.use_dhcp_hostname, "hostname": info.hostname,
                     "staticHostname": info.static_hostname},
        "resolver": {
            "useDhcpResolverInfo": info.use_dhcp_resolver, "nameServers": list(info.name_servers),
            "staticNameServers": list(info.name_servers), "maxSupportedStaticNameServers": MAX_NAME_SERVERS,
            "searchDomains": list(info.search_domains), "staticSearchDomains": list(info.search_domains),
            "maxSupportedStaticSearchDomains": MAX_SEARCH_DOMAINS, "domainName": info.domain_name,
            "staticDomainName": info.domain_name,
        },
        "globalProxies": {"httpProxy": obscured(info.proxies[0]), "httpsProxy": obscured(info.proxies[1]),
                          "noProxy": info.proxies[2]},
    }  # fmt: skip
    return {"system": system, "devices": [eth0]}


def _supported(version: Any) -> bool:
    """`<major>.<minor>` of major 1 up to the served minor."""
    if not isinstance(version, str):
        return False
    major, _, minor = version.partition(".")
    return major.isdigit() and minor.isdigit() and int(major) == MAJOR and int(minor) <= MINOR


def _dispatch(request: web.Request, document: dict[str, Any]) -> Any:
    method = document.get("method")
    if method == "getSupportedVersions":  # the one method whose apiVersion is ignored
        return {"supportedVersions": [NETWORK_SETTINGS.version]}
    if "apiVersion" not in document:
        raise ApiError(4003)
    if not _supported(document["apiVersion"]):
        raise ApiError(4001)
    network = subsystem_of(request, NetworkSubsystem)
    if method == "getNetworkInfo":
        return network_info(network.info())
    if not isinstance(method, str) or method not in SUB_CODES:
        raise ApiError(4000)
    try:
        _set(method, network, _Params(method, document), actor_of(request))
    except SettingRefused as exc:
        raise _invalid(method, exc.what) from exc
    return {}


def _answered(document: dict[str, Any]) -> str:
    """The reply carries the request's apiVersion when it is one (the API document's examples)."""
    version = document.get("apiVersion")
    return version if _supported(version) else NETWORK_SETTINGS.version


async def network_settings_cgi(request: web.Request) -> web.Response:
    return await ajr_call(request, NETWORK_SETTINGS.version, ERRORS, 3000,
                          lambda document: _dispatch(request, document), _answered)  # fmt: skip


ROUTES = [Route("/axis-cgi/network_settings.cgi", network_settings_cgi, Role.ADMIN, ("POST",), NetworkSubsystem.name)]
APIS = [NETWORK_SETTINGS]
