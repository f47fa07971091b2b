"""The network settings API and the Network parameters agree (issue 20, "Network settings").

Through the wire: `POST /axis-cgi/network_settings.cgi` as the VAPIX Network settings API
document gives it (developer.axis.com/vapix/network-video/network-settings-api: the request and
reply examples, "API specification", the sub-code tables and "General error codes"), and
param.cgi (vapix-wire.md §1.2). The `axis` library has no network settings client, so the JSON
requests go through aiohttp's client with Digest, as curl --digest would send them.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from axisim.device import make_device
from axisim.logs import SYSTEM
from axisim.persistence import StateDir
from axisim.pipeline import build_app
from tests.conftest import MODELS, DeviceClient, DeviceClientFactory, DeviceTestServer

CGI = "/axis-cgi/network_settings.cgi"
PARAM = "/axis-cgi/param.cgi"
STATIC = {"address": "192.168.7.20", "prefixLength": 24}


async def call(client: DeviceClient, method: str, params: dict[str, Any] | None = None, version: str = "1.0") -> Any:
    document: dict[str, Any] = {"apiVersion": version, "context": "abc", "method": method}
    if params is not None:
        document["params"] = params
    return json.loads(await client.text("POST", CGI, json=document))


async def info(client: DeviceClient) -> dict[str, Any]:
    reply = await call(client, "getNetworkInfo")
    assert reply["method"] == "getNetworkInfo" and reply["context"] == "abc"
    return reply["data"]  # type: ignore[no-any-return]


def eth0(data: dict[str, Any]) -> dict[str, Any]:
    (device,) = data["devices"]
    assert device["name"] == "eth0" and device["type"] == "wired"
    return device  # type: ignore[no-any-return]


async def params(client: DeviceClient, group: str) -> dict[str, str]:
    body = await client.text("GET", f"{PARAM}?action=list&group={group}")
    return dict(line.split("=", 1) for line in body.splitlines())


async def update(client: DeviceClient, query: str) -> str:
    return await client.text("GET", f"{PARAM}?action=update&{query}")


def eui64_link_local(mac: str) -> str:
    """RFC 4291 appendix A, written out independently of axisim's."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    identifier = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + identifier)))


@pytest.mark.parametrize("model", MODELS)
async def test_static_ipv4_through_the_api_shows_in_param_cgi_and_eth0(
    device_client: DeviceClientFactory, model: str
) -> None:
    """The document's "Assign a static IPv4 address" example; the device keeps answering where it was started."""
    client = await device_client(model)
    reply = await call(client, "setIPv4AddressConfiguration", {
        "deviceName": "eth0", "configurationMode": "static", "staticDefaultRouter": "192.168.7.1",
        "staticAddressConfigurations": [STATIC],
    })  # fmt: skip
    assert reply == {"apiVersion": "1.0", "context": "abc", "method": "setIPv4AddressConfiguration", "data": {}}
    network = await params(client, "Network")
    assert network["Network.BootProto"] == "none"
    assert network["Network.IPAddress"] == "192.168.7.20"
    assert network["Network.SubnetMask"] == "255.255.255.0"
    assert network["Network.Broadcast"] == "192.168.7.255"
    assert network["Network.DefaultRouter"] == "192.168.7.1"
    assert network["Network.eth0.IPAddress"] == "192.168.7.20"
    assert network["Network.eth0.SubnetMask"] == "255.255.255.0"
    assert network["Network.eth0.Broadcast"] == "192.168.7.255"
    assert network["Network.Routing.DefaultRouter"] == "192.168.7.1"
    ipv4 = eth0(await info(client))["IPv4"]
    assert ipv4["configurationMode"] == "static"
    assert ipv4["addresses"] == [{"address": "192.168.7.20", "prefixLength": 24, "origin": "static",
                                  "scope": "global", "broadcast": "192.168.7.255"}]  # fmt: skip
    assert ipv4["defaultRouter"] == ipv4["staticDefaultRouter"] == "192.168.7.1"


async def test_static_ipv4_through_param_cgi_shows_in_the_api(device_client: DeviceClientFactory) -> None:
    """param.cgi and the API are two views of one setting (the document, "Obsoletes"); the broadcast follows."""
    client = await device_client("W401")
    query = "Network.BootProto=none&Network.IPAddress=10.1.2.3&Network.SubnetMask=255.255.0.0"
    assert await update(client, query) == "OK"
    ipv4 = eth0(await info(client))["IPv4"]
    assert ipv4["configurationMode"] == "static"
    assert ipv4["addresses"][0] == {"address": "10.1.2.3", "prefixLength": 16, "origin": "static",
                                    "scope": "global", "broadcast": "10.1.255.255"}  # fmt: skip
    static = {"address": "10.1.2.3", "prefixLength": 16, "broadcast": "10.1.255.255"}
    assert ipv4["staticAddressConfigurations"] == [static]
    network = await params(client, "Network")
    assert (network["Network.eth0.IPAddress"], network["Network.Broadcast"]) == ("10.1.2.3", "10.1.255.255")


async def test_dhcp_toggle_returns_to_the_lease_and_keeps_the_static_configuration(
    device_client: DeviceClientFactory,
) -> None:
    """"Enable IPv4 address configuration via DHCP": the simulated DHCP lease is where the device listens."""
    client = await device_client("S4000")
    lease = eth0(await info(client))["IPv4"]["addresses"]
    assert lease[0]["origin"] == "dhcp" and lease[0]["address"] == client.client.server.host
    await call(client, "setIPv4AddressConfiguration", {"deviceName": "eth0", "configurationMode": "static",
                                                       "staticAddressConfigurations": [STATIC]})  # fmt: skip
    assert eth0(await info(client))["IPv4"]["addresses"][0]["origin"] == "static"
    await call(client, "setIPv4AddressConfiguration", {"deviceName": "eth0", "configurationMode": "dhcp",
                                                       "useStaticDHCPFallback": True})  # fmt: skip
    ipv4 = eth0(await info(client))["IPv4"]
    assert (ipv4["configurationMode"], ipv4["addresses"], ipv4["useStaticDHCPFallback"]) == ("dhcp", lease, True)
    assert ipv4["staticAddressConfigurations"][0]["address"] == "192.168.7.20"
    network = await params(client, "Network")
    assert network["Network.BootProto"] == "dhcp"
    assert network["Network.eth0.IPAddress"] == lease[0]["address"]


@pytest.mark.parametrize("model", MODELS)
async def test_enabling_ipv6_gives_the_eui64_link_local_address(device_client: DeviceClientFactory, model: str) -> None:
    """The document's "Set IPv6 address configuration"; a static address set through param.cgi joins it."""
    client = await device_client(model)
    mac = (await params(client, "Network.eth0.MACAddress"))["Network.eth0.MACAddress"]
    assert eth0(await info(client))["IPv6"] == {"enabled": False, "configurationMode": "dhcp", "addresses": []}
    reply = await call(client, "setIPv6AddressConfiguration", {"deviceName": "eth0", "enabled": True}, "1.6")
    assert reply == {"apiVersion": "1.6", "context": "abc", "method": "setIPv6AddressConfiguration", "data": {}}
    link_local = {"address": eui64_link_local(mac), "prefixLength": 64, "origin": "linkLocal", "scope": "link"}
    assert eth0(await info(client))["IPv6"]["addresses"] == [link_local]
    assert await update(client, "Network.IPv6.IPAddress=2001:db8::20") == "OK"
    addresses = (await params(client, "Network.eth0.IPv6.IPAddresses"))["Network.eth0.IPv6.IPAddresses"]
    assert addresses.split() == [eui64_link_local(mac), "2001:db8::20"]
    assert eth0(await info(client))["IPv6"]["addresses"][1]["address"] == "2001:db8::20"
    await call(client, "setIPv6AddressConfiguration", {"deviceName": "eth0", "enabled": False})
    assert (await params(client, "Network.eth0.IPv6.IPAddresses"))["Network.eth0.IPv6.IPAddresses"] == ""


async def test_link_local_ipv4_always_on(device_client: DeviceClientFactory) -> None:
    """"Enable a link-local IPv4 address configuration to always be on": a 169.254/16 address joins the lease."""
    client = await device_client("C1410MkII")
    await call(client, "setIPv4AddressConfiguration", {"deviceName": "eth0", "linkLocalMode": "on"}, "1.21")
    ipv4 = eth0(await info(client))["IPv4"]
    assert ipv4["linkLocalMode"] == "on"
    (link_local,) = [a for a in ipv4["addresses"] if a["origin"] == "linkLocal"]
    assert ipaddress.IPv4Address(link_local["address"]) in ipaddress.IPv4Network("169.254.0.0/16")
    zeroconf = await params(client, "Network.ZeroConf")
    assert zeroconf["Network.ZeroConf.IPAddress"] == link_local["address"]
    await call(client, "setIPv4AddressConfiguration", {"deviceName": "eth0", "linkLocalMode": "fallback"})
    assert [a["origin"] for a in eth0(await info(client))["IPv4"]["addresses"]] == ["dhcp"]


async def test_hostname_through_the_api_and_param_cgi(device_client: DeviceClientFactory) -> None:
    """"Assign a static hostname": the same setting as Network.HostName, and the host name in use follows."""
    client = await device_client("S3016")
    reply = await call(client, "setHostnameConfiguration", {"useDhcpHostname": False, "staticHostname": "gate-7"})
    assert reply["data"] == {}
    network = await params(client, "Network")
    assert network["Network.HostName"] == network["Network.VolatileHostName.HostName"] == "gate-7"
    assert network["Network.VolatileHostName.ObtainFromDHCP"] == "no"
    assert await update(client, "Network.HostName=gate-8") == "OK"
    hostname = (await info(client))["system"]["hostname"]
    assert hostname == {"useDhcpHostname": False, "hostname": "gate-8", "staticHostname": "gate-8"}


@pytest.mark.parametrize("value", ["bad_host!", "a" * 64, "", "two words", "gate.local", 7])
async def test_bad_hostname_is_refused_with_sub_code_100(device_client: DeviceClientFactory, value: Any) -> None:
    """The manuals' rule ("Allowed characters are A–Z, a–z, 0–9 and -", 63 at most) is param_tree's one check."""
    client = await device_client("C1410MkII")
    before = await info(client)
    reply = await call(client, "setHostnameConfiguration", {"useDhcpHostname": False, "staticHostname": value})
    assert reply["error"] == {"code": 4004, "message": "Invalid parameter(s)", "details": {"subCode": 100}}
    assert await info(client) == before  # useDhcpHostname, valid in the same request, is not applied either


async def test_resolver_through_the_api_and_param_cgi(device_client: DeviceClientFactory) -> None:
    """"Assign a static DNS resolver configuration" (the document's example, its two name servers)."""
    client = await device_client("S3008")
    reply = await call(client, "setResolverConfiguration", {
        "useDhcpResolverInfo": False, "staticNameServers": ["208.67.222.222", "208.67.220.220"],
        "staticSearchDomains": ["axis.com", "axis.se"], "staticDomainName": "mylocaldoma.in",
    })  # fmt: skip
    assert reply["data"] == {}
    resolver = (await info(client))["system"]["resolver"]
    assert resolver["useDhcpResolverInfo"] is False
    assert resolver["nameServers"] == resolver["staticNameServers"] == ["208.67.222.222", "208.67.220.220"]
    assert resolver["searchDomains"] == resolver["staticSearchDomains"] == ["axis.com", "axis.se"]
    assert resolver["domainName"] == resolver["staticDomainName"] == "mylocaldoma.in"
    network = await params(client, "Network")
    assert (network["Network.DNSServer1"], network["Network.DNSServer2"]) == ("208.67.222.222", "208.67.220.220")
    assert network["Network.Resolver.NameServerList"] == "208.67.222.222 208.67.220.220"
    assert network["Network.Resolver.ObtainFromDHCP"] == "no"
    assert network["Network.Resolver.Search"] == "axis.com axis.se"
    assert network["Network.DomainName"] == "mylocaldoma.in"
    assert await update(client, "Network.DNSServer2=0.0.0.0") == "OK"
    assert (await info(client))["system"]["resolver"]["staticNameServers"] == ["208.67.222.222"]


async def test_global_proxies_are_stored_and_shown_with_the_password_obscured(
    device_client: DeviceClientFactory,
) -> None:
    """"Assign a global proxy configuration" and the manuals' formats ("http(s)://user:pass@host:port");
    getNetworkInfo obscures "sensitive information such as passwords"."""
    client = await device_client("C1410MkII")
    reply = await call(client, "setGlobalProxyConfiguration", {
        "httpProxy": "http://208.67.222.1:8080", "httpsProxy": "https://cam:secret@proxy.example:3128",
        "noProxy": "192.168.0.0/24,.axis.com",
    })  # fmt: skip
    assert reply["data"] == {}
    proxies = (await info(client))["system"]["globalProxies"]
    assert proxies == {"httpProxy": "http://208.67.222.1:8080", "httpsProxy": "https://cam:******@proxy.example:3128",
                       "noProxy": "192.168.0.0/24,.axis.com"}  # fmt: skip
    system_log = await client.text("GET", "/axis-cgi/systemlog.cgi")
    assert "Network settings changed: http_proxy, https_proxy, no_proxy" in system_log


IPV4 = "setIPv4AddressConfiguration"
BAD = [
    (IPV4, {"staticAddressConfigurations": [{"address": "300.1.1.1", "prefixLength": 24}]}, 104),
    (IPV4, {"staticAddressConfigurations": [{"address": "10.0.0.5", "prefixLength": 33}]}, 105),
    (IPV4, {"staticAddressConfigurations": [{"address": "10.0.0.5", "prefixLength": "24"}]}, 105),
    (IPV4, {"staticAddressConfigurations": [{**STATIC, "broadcast": "nope"}]}, 106),
    (IPV4, {"staticAddressConfigurations": [{**STATIC, "broadcast": "192.168.7.127"}]}, 107),
    (IPV4, {"staticAddressConfigurations": [{"address": "192.168.7.0", "prefixLength": 24}]}, 107),
    (IPV4, {"staticAddressConfigurations": [STATIC, STATIC]}, 103),
    (IPV4, {"staticAddressConfigurations": []}, 103),
    ("setIPv4AddressConfiguration", {"configurationMode": "auto"}, 101),
    ("setIPv4AddressConfiguration", {"staticDefaultRouter": "224.0.0.1"}, 102),
    ("setIPv4AddressConfiguration", {"linkLocalMode": "sometimes"}, 109),
    ("setIPv4AddressConfiguration", {"useStaticDHCPFallback": "yes"}, 108),
    ("setIPv6AddressConfiguration", {"enabled": "yes"}, 101),
    ("setResolverConfiguration", {"useDhcpResolverInfo": 0}, 100),
    ("setResolverConfiguration", {"staticNameServers": ["not-an-ip"]}, 101),
    ("setResolverConfiguration", {"staticNameServers": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]}, 101),
    ("setResolverConfiguration", {"staticSearchDomains": ["-bad.example"]}, 102),
    ("setResolverConfiguration", {"staticDomainName": "bad_domain"}, 103),
    ("setHostnameConfiguration", {"useDhcpHostname": 1}, 101),
    ("setGlobalProxyConfiguration", {"httpProxy": "proxy.example"}, 100),  # no scheme, no port
    ("setGlobalProxyConfiguration", {"httpsProxy": "ftp://proxy.example:21"}, 101),
    ("setGlobalProxyConfiguration", {"httpProxy": "http://proxy.example:3128", "noProxy": "*.axis.com"}, 102),
]


@pytest.mark.parametrize(("method", "given", "sub_code"), BAD)
async def test_bad_value_gets_4004_with_its_sub_code_and_changes_nothing(
    device_client: DeviceClientFactory, method: str, given: dict[str, Any], sub_code: int
) -> None:
    """Each method's "Sub-codes" table. A valid change in the same request is not applied either."""
    client = await device_client("S3008")
    before, listed = await info(client), await params(client, "Network")
    ipv4 = method == "setIPv4AddressConfiguration"
    valid = {"configurationMode": "static"} if ipv4 and "configurationMode" not in given else {}
    device = {"deviceName": "eth0"} if method.startswith("setIPv") else {}
    reply = await call(client, method, {**device, **valid, **given})
    assert reply["error"] == {"code": 4004, "message": "Invalid parameter(s)", "details": {"subCode": sub_code}}
    assert reply["method"] == method
    assert await info(client) == before
    assert await params(client, "Network") == listed


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"apiVersion": "1.0", "method": "setIPv6AddressConfiguration",
          "params": {"deviceName": "wlan0", "enabled": True}}, 5000),
        ({"apiVersion": "1.0", "method": "setIPv4AddressConfiguration", "params": {"configurationMode": "dhcp"}}, 4003),
        ({"apiVersion": "2.0", "method": "getNetworkInfo"}, 4001),
        ({"apiVersion": "1.99", "method": "getNetworkInfo"}, 4001),
        ({"method": "getNetworkInfo"}, 4003),
        ({"apiVersion": "1.0", "method": "addVlan", "params": {"masterDeviceName": "eth0", "VlanId": 4}}, 4000),
        ({"apiVersion": "1.0", "method": "noSuchMethod"}, 4000),
    ],
)
async def test_general_errors(device_client: DeviceClientFactory, document: dict[str, Any], code: int) -> None:
    """"General error codes" and the 5000 of each set method; HTTP 200 for all of them."""
    client = await device_client("W401")
    reply = json.loads(await client.text("POST", CGI, json=document))
    assert reply["error"]["code"] == code and reply["error"]["message"]


async def test_invalid_json_and_supported_versions(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3016")
    reply = json.loads(await client.text("POST", CGI, data=b"{not json", headers={"Content-Type": "application/json"}))
    assert reply["error"] == {"code": 3000, "message": "Invalid JSON data"}
    versions = json.loads(await client.text("POST", CGI, json={"context": "abc", "method": "getSupportedVersions"}))
    assert versions["data"] == {"supportedVersions": ["1.37"]}


async def test_only_administrators(device_client: DeviceClientFactory) -> None:
    """Every method's "Security level: Administrator"."""
    client = await device_client("S3008")
    client.device.add_account("op", "operator1", frozenset({"operator", "viewer"}), "users", "", SYSTEM)
    response = await client.post(CGI, json={"apiVersion": "1.0", "method": "getNetworkInfo"}, auth=("op", "operator1"))
    assert response.status == 401


@pytest.mark.parametrize(
    "query",
    [
        "Network.SubnetMask=255.0.255.0",
        "Network.IPAddress=224.0.0.5",
        "Network.BootProto=none&Network.IPAddress=192.168.0.0&Network.SubnetMask=255.255.255.0",
        "Network.Broadcast=10.9.9.9",
        "Network.IPAddress=2001:db8::1",
        "Network.DefaultRouter=255.255.255.255",
        "Network.IPv6.IPAddress=10.0.0.1",
        "Network.IPv6.IPAddress=fe80::1",
        "Network.DNSServer1=224.0.0.251",
        "Network.DomainName=bad_domain",
        "Network.DNSUpdate.DNSName=cam.example.com",
    ],
)
async def test_param_cgi_refuses_what_the_api_refuses(device_client: DeviceClientFactory, query: str) -> None:
    """The same rules on the param.cgi path (vapix-wire.md §1.2's refusal, nothing changed)."""
    client = await device_client("C1410MkII")
    listed = await params(client, "Network")
    assert (await update(client, query)).startswith("# Error: Error setting 'root.Network.")
    assert await params(client, "Network") == listed


async def test_settings_survive_a_restart_of_the_simulator(
    tmp_path: Path, device_client: DeviceClientFactory, aiohttp_client: Any
) -> None:
    """The state directory keeps the parameters and the search domains (the API-only setting)."""
    client = await device_client("S3008")
    StateDir(tmp_path).attach(client.device)
    await call(client, "setIPv4AddressConfiguration", {"deviceName": "eth0", "configurationMode": "static",
                                                       "staticAddressConfigurations": [STATIC]})  # fmt: skip
    await call(client, "setResolverConfiguration", {"staticSearchDomains": ["site.example"]})
    await call(client, "setIPv6AddressConfiguration", {"deviceName": "eth0", "enabled": True})
    before = await info(client)
    again = make_device("S3008")
    assert StateDir(tmp_path).attach(again)
    served = DeviceClient(await aiohttp_client(DeviceTestServer(build_app(again))), again)
    assert await info(served) == before
    assert (await params(served, "Network.eth0"))["Network.eth0.IPAddress"] == "192.168.7.20"


@pytest.mark.parametrize(("kind", "kept"), [("soft", True), ("hard", False)])
async def test_factory_default_keeps_the_manuals_network_settings(
    device_client: DeviceClientFactory, kind: str, kept: bool
) -> None:
    """Every manual, Maintenance: a restore keeps "boot protocol, static IP address, default router,
    subnet mask, ... DNS server IP address"; the host name, IPv6 and search domains are not on the list.
    A hard factory default keeps nothing."""
    client = await device_client("W401")
    await call(client, "setIPv4AddressConfiguration", {"deviceName": "eth0", "configurationMode": "static",
                                                       "staticDefaultRouter": "192.168.7.1",
                                                       "staticAddressConfigurations": [STATIC]})  # fmt: skip
    resolver = {"staticNameServers": ["10.0.0.53"], "staticSearchDomains": ["x.example"]}
    await call(client, "setResolverConfiguration", resolver)
    await call(client, "setHostnameConfiguration", {"staticHostname": "gate-9"})
    await call(client, "setIPv6AddressConfiguration", {"deviceName": "eth0", "enabled": True})
    await call(client, "setGlobalProxyConfiguration", {"httpProxy": "http://proxy.example:3128"})
    cgi = "factorydefault.cgi" if kind == "soft" else "hardfactorydefault.cgi"
    assert (await client.post(f"/axis-cgi/{cgi}")).status == 200
    client.device.add_account("root", "pass", frozenset({"admin", "operator", "viewer"}), "root", "", SYSTEM)
    data = await info(client)
    ipv4 = eth0(data)["IPv4"]
    assert (ipv4["configurationMode"] == "static") is kept
    assert (ipv4["addresses"][0]["address"] == "192.168.7.20") is kept
    assert (ipv4["staticDefaultRouter"] == "192.168.7.1") is kept
    assert (data["system"]["resolver"]["nameServers"] == ["10.0.0.53"]) is kept
    assert data["system"]["resolver"]["searchDomains"] == []
    assert data["system"]["globalProxies"]["httpProxy"] == ""
    assert data["system"]["hostname"]["hostname"] == client.device.identity.hostname
    assert eth0(data)["IPv6"]["enabled"] is False
    network = await params(client, "Network")
    assert (network["Network.eth0.IPAddress"] == "192.168.7.20") is kept
    assert (network["Network.Resolver.NameServerList"] == "10.0.0.53") is kept
    assert network["Network.Resolver.Search"] == ""
    assert network["Network.VolatileHostName.HostName"] == client.device.identity.hostname
