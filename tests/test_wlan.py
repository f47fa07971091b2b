"""WLAN of the W401 (issue 7): the wireless settings, networks in range, and cable first.

Manual (W401, "Network" note and "WLAN"): "If both power connector and PoE are connected,
the network will be connected via ethernet cable", "The device is currently connected via
ethernet cable. The device will switch to the wireless connection when you disconnect the
ethernet cable", and "Configure custom network: Add a wireless network that doesn't
broadcast its SSID (name)" / "configure a network ahead of time".
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from axisim.device import Device, make_device
from axisim.lifecycle import RestartKind, State
from axisim.persistence import StateDir
from axisim.subsystems.wlan import WlanError, WlanSubsystem
from param_tree import Role
from tests.conftest import DeviceClient, DeviceClientFactory

PARAM = "/axis-cgi/param.cgi"
W = "Network.Wireless"
I1 = "Network.Interface.I1"
STATE = f"{W}.Status.State"
ACTIVE = "Network.Status.ActiveInterface"
SSID = "Depot"
PHRASE = "correct horse"


def wlan(device: Device) -> WlanSubsystem:
    subsystem = device.subsystems["wlan"]
    assert isinstance(subsystem, WlanSubsystem)
    return subsystem


def set_cable(device: Device, connected: bool) -> None:
    device.subsystems["power"].set_cable(connected)  # type: ignore[attr-defined]


def configure(device: Device, values: dict[str, str]) -> None:
    """Settings through the Python API (the admin's native access), all accepted."""
    assert device.update_params(list(values.items()), Role.ADMIN) == []


def wpa(device: Device, ssid: str = SSID, passphrase: str = PHRASE) -> None:
    configure(device, {f"{W}.ESSID": ssid, f"{W}.W0.Enabled": "yes", f"{W}.W0.Passphrase": passphrase})


def status(device: Device) -> tuple[str, str]:
    return device.param(STATE), device.param(ACTIVE)


async def update(client: DeviceClient, *pairs: tuple[str, str]) -> str:
    return await client.text("GET", f"{PARAM}?{urlencode([('action', 'update'), *pairs])}")


async def listed(client: DeviceClient, group: str) -> str:
    return await client.text("GET", f"{PARAM}?action=list&group={group}")


# -- 1. cable first, wireless when the cable is unplugged ---------------------------------------


async def test_configured_network_is_standby_behind_the_cable_and_takes_over_when_unplugged(
    device_client: DeviceClientFactory,
) -> None:
    # Manual: "The device is currently connected via ethernet cable. The device will switch to
    # the wireless connection when you disconnect the ethernet cable."
    client = await device_client("W401")
    device = client.device
    body = await update(client, (f"{W}.ESSID", SSID), (f"{W}.W0.Enabled", "yes"), (f"{W}.W0.Passphrase", PHRASE))
    assert body == "OK"
    assert await listed(client, f"{STATE},{ACTIVE}") == f"{STATE}=searching\n{ACTIVE}=wired\n"

    wlan(device).add_network(SSID, passphrase=PHRASE, signal=-48, channel=11, ipv4_subnet="10.20.0.0/16")
    assert await listed(client, f"{STATE},{ACTIVE},{W}.Status.SignalStrength,{W}.Status.Channel") == (
        f"{STATE}=standby\n{ACTIVE}=wired\n{W}.Status.SignalStrength=-48\n{W}.Status.Channel=11\n"
    )
    assert device.param(f"{I1}.Active.IPAddress") == ""  # the cable carries the traffic

    set_cable(device, False)
    body = await listed(client, f"{STATE},{ACTIVE},{I1}.Active.IPAddress,{I1}.Active.SubnetMask")
    lines = dict(line.split("=", 1) for line in body.splitlines())
    assert lines[STATE] == "connected" and lines[ACTIVE] == "wireless"
    assert ipaddress.IPv4Address(lines[f"{I1}.Active.IPAddress"]) in ipaddress.IPv4Network("10.20.0.0/16")
    assert lines[f"{I1}.Active.SubnetMask"] == "255.255.0.0"
    assert device.param(f"{W}.Status.SignalStrength") == "-48" and device.param(f"{W}.Status.Channel") == "11"

    set_cable(device, True)
    assert status(device) == ("standby", "wired")
    assert device.param(f"{I1}.Active.IPAddress") == ""
    assert device.param(f"{W}.Status.SignalStrength") == "-48"  # still associated, on standby


def test_without_wireless_settings_the_radio_is_disabled() -> None:
    # Manual note: with the cable connected the network goes via the cable; nothing else is configured
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE)
    assert status(device) == ("disabled", "wired")
    assert device.link_up


def test_network_leaving_range_drops_the_wireless_link() -> None:
    # Manual: the device "will switch to the wireless connection" -- only while that network is there
    device = make_device("W401")
    wpa(device)
    wlan(device).add_network(SSID, passphrase=PHRASE)
    set_cable(device, False)
    assert status(device) == ("connected", "wireless") and device.link_up
    wlan(device).remove_network(SSID)
    assert status(device) == ("searching", "none")
    assert not device.link_up
    assert device.param(f"{I1}.Active.IPAddress") == "" and device.param(f"{W}.Status.SignalStrength") == ""


# -- 2. hidden networks, the scan list, configuring ahead of time ----------------------------------


def test_hidden_network_is_joined_only_by_name() -> None:
    # Manual: "Configure custom network: Add a wireless network that doesn't broadcast its SSID (name)"
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE, hidden=True)
    wpa(device)
    set_cable(device, False)
    assert status(device) == ("searching", "none")
    configure(device, {f"{W}.Hidden": "yes"})
    assert status(device) == ("connected", "wireless")


def test_scan_lists_broadcasting_networks_strongest_first() -> None:
    # Manual: "Refresh: Update the list of available wireless networks" -- a hidden one is never listed
    device = make_device("W401")
    radio = wlan(device)
    radio.add_network("Weak", passphrase=PHRASE, signal=-80)
    radio.add_network("Secret", passphrase=PHRASE, signal=-30, hidden=True)
    radio.add_network("Strong", security="none", signal=-40)
    radio.add_network("Middle", passphrase=PHRASE, signal=-60)
    assert [n.ssid for n in radio.visible()] == ["Strong", "Middle", "Weak"]
    configure(device, {f"{W}.Hidden": "yes", f"{W}.ESSID": "Secret"})
    assert "Secret" not in [n.ssid for n in radio.visible()]  # joining it does not make it broadcast


def test_network_configured_ahead_of_time_connects_when_it_comes_into_range() -> None:
    # Manual: "If you'd like to join a hidden network or configure a network ahead of time,
    # use Configure custom network"
    device = make_device("W401")
    set_cable(device, False)
    wpa(device)
    assert status(device) == ("searching", "none") and not device.link_up
    wlan(device).add_network(SSID, passphrase=PHRASE)
    assert status(device) == ("connected", "wireless") and device.link_up


# -- 3. security -----------------------------------------------------------------------------------


async def test_wrong_passphrase_leaves_the_device_unreachable_until_corrected(
    device_client: DeviceClientFactory,
) -> None:
    # Manual: the device switches to the wireless connection when the cable is disconnected --
    # which needs the network's settings ("Contact your network administrator to get the required settings")
    client = await device_client("W401")
    device = client.device
    wlan(device).add_network(SSID, passphrase=PHRASE)
    assert (
        await update(client, (f"{W}.ESSID", SSID), (f"{W}.W0.Enabled", "yes"), (f"{W}.W0.Passphrase", "wrong pass"))
        == "OK"
    )
    assert status(device) == ("authentication failed", "wired")
    assert device.param(f"{W}.Status.SignalStrength") == ""

    set_cable(device, False)
    assert status(device) == ("authentication failed", "none")
    with pytest.raises(aiohttp.ClientError):
        await client.get(f"{PARAM}?action=list&group={STATE}")
    assert device.lifecycle.state is State.READY  # still running, just out of reach

    assert device.update_params([(f"{W}.W0.Passphrase", PHRASE)], Role.ADMIN) == []
    assert status(device) == ("connected", "wireless")
    assert await listed(client, f"{STATE},{ACTIVE}") == f"{STATE}=connected\n{ACTIVE}=wireless\n"


@pytest.mark.parametrize(
    "network, settings",
    [
        ({"security": "none"}, {"W0.Enabled": "yes", "W0.Passphrase": PHRASE}),  # WPA settings, open network
        ({"passphrase": PHRASE}, {}),  # open settings, WPA network
        ({"passphrase": PHRASE}, {"W1.Enabled": "yes"}),  # enterprise settings, WPA-PSK network
        ({"security": "wpa-enterprise"}, {"W0.Enabled": "yes", "W0.Passphrase": PHRASE}),
    ],
)
def test_security_mismatch_fails_authentication(network: dict[str, str], settings: dict[str, str]) -> None:
    device = make_device("W401")
    wlan(device).add_network(SSID, **network)  # type: ignore[arg-type]
    set_cable(device, False)
    changes = [(f"{W}.ESSID", SSID)] + [(f"{W}.{name}", value) for name, value in settings.items()]
    assert device.update_params(changes, Role.ADMIN) == []
    assert status(device) == ("authentication failed", "none")
    assert not device.link_up


def test_open_network_connects_without_security_settings() -> None:
    device = make_device("W401")
    wlan(device).add_network("Cafe", security="none", ipv4_subnet="172.16.5.0/24")
    set_cable(device, False)
    configure(device, {f"{W}.ESSID": "Cafe"})
    assert status(device) == ("connected", "wireless")
    assert device.param(f"{I1}.Active.IPAddress") in {str(a) for a in ipaddress.IPv4Network("172.16.5.0/24").hosts()}


def test_enterprise_network_with_w1_connects() -> None:
    # WPA-Enterprise (W1): no RADIUS server is simulated, so matching security is enough
    device = make_device("W401")
    wlan(device).add_network("Corp", security="wpa-enterprise")
    set_cable(device, False)
    configure(device, {f"{W}.ESSID": "Corp", f"{W}.W1.Enabled": "yes"})
    assert status(device) == ("connected", "wireless")


def psk(passphrase: str, ssid: str) -> str:
    """IEEE 802.11i: PSK = PBKDF2-HMAC-SHA1(passphrase, SSID, 4096 rounds, 256 bits)."""
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid.encode(), 4096, 32).hex()


@pytest.mark.parametrize("upper", [False, True])
def test_hex_key_of_the_passphrase_connects(upper: bool) -> None:
    # param-trees.md §5.3: W0.GenerationMethod psk-phrase | psk-hex, and W0.Key
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE)
    set_cable(device, False)
    key = psk(PHRASE, SSID)
    changes = [
        (f"{W}.ESSID", SSID),
        (f"{W}.W0.Enabled", "yes"),
        (f"{W}.W0.GenerationMethod", "psk-hex"),
        (f"{W}.W0.Key", key.upper() if upper else key),
    ]
    assert device.update_params(changes, Role.ADMIN) == []
    assert status(device) == ("connected", "wireless")


def test_wrong_hex_key_fails_even_with_the_right_passphrase() -> None:
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE)
    set_cable(device, False)
    wpa(device)  # the right passphrase is there, but psk-hex uses the key
    wrong = psk(PHRASE, "Another SSID")  # the passphrase's key for another network
    configure(device, {f"{W}.W0.GenerationMethod": "psk-hex", f"{W}.W0.Key": wrong})
    assert status(device) == ("authentication failed", "none")
    configure(device, {f"{W}.W0.GenerationMethod": "psk-phrase"})
    assert status(device) == ("connected", "wireless")


# -- 4. validation through param.cgi ------------------------------------------------------------


@pytest.mark.parametrize(
    "pairs, refused",
    [
        ([(f"{W}.W0.Enabled", "yes"), (f"{W}.W1.Enabled", "yes")], [f"{W}.W0.Enabled", f"{W}.W1.Enabled"]),
        ([(f"{W}.W0.Passphrase", "seven77")], [f"{W}.W0.Passphrase"]),
        ([(f"{W}.W0.Passphrase", "x" * 64)], [f"{W}.W0.Passphrase"]),
        ([(f"{W}.W0.Key", "0123456789abcdef" * 3 + "0123456789abcde")], [f"{W}.W0.Key"]),  # 63 digits
        ([(f"{W}.W0.Key", "g" * 64)], [f"{W}.W0.Key"]),  # not hex
        ([(f"{W}.ESSID", "S" * 33)], [f"{W}.ESSID"]),
    ],
)
async def test_invalid_wireless_settings_are_refused_untouched(
    device_client: DeviceClientFactory, pairs: list[tuple[str, str]], refused: list[str]
) -> None:
    client = await device_client("W401")
    before = await listed(client, W)
    expected = "".join(f"# Error: Error setting 'root.{n}' to '{v}'!\n" for n, v in pairs if n in refused)
    assert await update(client, *pairs) == expected
    assert await listed(client, W) == before
    assert client.device.param(f"{W}.W0.Passphrase") == "" and client.device.param(f"{W}.W0.Key") == ""


async def test_second_security_method_refused_while_one_is_on(device_client: DeviceClientFactory) -> None:
    # one method at a time: enabling W1 while W0 is on is refused, and so is the rest of the request
    # (a refused param.cgi update changes nothing, issue 16 D15)
    client = await device_client("W401")
    assert await update(client, (f"{W}.W0.Enabled", "yes")) == "OK"
    body = await update(client, (f"{W}.W1.Enabled", "yes"), (f"{W}.ESSID", SSID))
    assert body == f"# Error: Error setting 'root.{W}.W1.Enabled' to 'yes'!\n"
    assert await listed(client, f"{W}.W0.Enabled,{W}.W1.Enabled,{W}.ESSID") == (
        f"{W}.W0.Enabled=yes\n{W}.W1.Enabled=no\n{W}.ESSID=\n"
    )
    # switching methods in one request is fine
    assert await update(client, (f"{W}.W0.Enabled", "no"), (f"{W}.W1.Enabled", "yes")) == "OK"


async def test_wireless_secrets_are_masked_in_list(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    key = psk(PHRASE, SSID)
    assert await update(client, (f"{W}.W0.Passphrase", PHRASE), (f"{W}.W0.Key", key)) == "OK"
    body = await listed(client, W)
    assert f"{W}.W0.Passphrase=******\n" in body and f"{W}.W0.Key=******\n" in body
    assert PHRASE not in body and key not in body
    assert client.device.param(f"{W}.W0.Passphrase") == PHRASE  # stored, only hidden from list


def test_essid_longer_than_32_bytes_is_refused() -> None:
    device = make_device("W401")
    ssid = "é" * 20  # 20 characters, 40 bytes in UTF-8
    assert len(ssid.encode()) > 32
    with pytest.raises(WlanError):
        wlan(device).add_network(ssid, security="none")
    assert device.update_params([(f"{W}.ESSID", ssid)], Role.ADMIN) == [(f"{W}.ESSID", ssid)]


def test_manual_ipv6_address_must_be_an_address() -> None:
    device = make_device("W401")
    refused = device.update_params([(f"{I1}.Manual.IPv6Address", "garbage")], Role.ADMIN)
    assert refused == [(f"{I1}.Manual.IPv6Address", "garbage")]


# -- 5. addresses of the wireless interface ---------------------------------------------------------


def connected(**network: str) -> Device:
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE, **network)  # type: ignore[arg-type]
    wpa(device)
    set_cable(device, False)
    assert status(device) == ("connected", "wireless")
    return device


def test_static_ipv4_uses_the_manual_address() -> None:
    device = connected(ipv4_subnet="192.168.77.0/24")
    configure(device, {f"{I1}.Manual.IPAddress": "192.168.77.9", f"{I1}.Manual.SubnetMask": "255.255.255.0"})
    assert device.param(f"{I1}.Active.IPAddress") != "192.168.77.9"  # still DHCP
    configure(device, {f"{I1}.Link.BootProto": "none"})
    assert device.param(f"{I1}.Active.IPAddress") == "192.168.77.9"
    assert device.param(f"{I1}.Active.SubnetMask") == "255.255.255.0"
    configure(device, {f"{I1}.Link.BootProto": "dhcp"})
    assert ipaddress.IPv4Address(device.param(f"{I1}.Active.IPAddress")) in ipaddress.IPv4Network("192.168.77.0/24")


def test_ipv4_disabled_gives_no_ipv4_address() -> None:
    device = connected()
    assert device.param(f"{I1}.Active.IPAddress") != ""
    configure(device, {f"{I1}.Link.IPv4Enabled": "no"})
    assert device.param(f"{I1}.Active.IPAddress") == "" and device.param(f"{I1}.Active.SubnetMask") == ""
    assert status(device) == ("connected", "wireless")


def eui64(prefix: ipaddress.IPv6Network, mac: str) -> ipaddress.IPv6Address:
    """RFC 4291 appendix A: flip the universal/local bit, put ff:fe in the middle."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    identifier = bytes([*octets[:3], 0xFF, 0xFE, *octets[3:]])
    return ipaddress.IPv6Address(int(prefix.network_address) | int.from_bytes(identifier, "big"))


def test_ipv6_slaac_address_from_the_prefix_and_mac() -> None:
    device = connected(ipv6_prefix="2001:db8:42:7::/64")
    assert device.param(f"{I1}.Active.IPv6Address") == ""  # IPv6Enabled=no by default
    configure(device, {f"{I1}.Link.IPv6Enabled": "yes"})
    address = ipaddress.IPv6Address(device.param(f"{I1}.Active.IPv6Address"))
    prefix = ipaddress.IPv6Network("2001:db8:42:7::/64")
    assert address in prefix
    assert address == eui64(prefix, device.identity.mac)
    assert address.packed[11:13] == b"\xff\xfe"


def test_manual_ipv6_address_wins_over_slaac() -> None:
    device = connected()
    configure(device, {f"{I1}.Link.IPv6Enabled": "yes", f"{I1}.Manual.IPv6Address": "fd00:50::1234"})
    assert device.param(f"{I1}.Active.IPv6Address") == "fd00:50::1234"


# -- 6. interface select mode -------------------------------------------------------------------


def test_select_mode_wired_never_uses_the_wireless() -> None:
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE)
    wpa(device)
    configure(device, {"Network.InterfaceSelectMode": "wired"})
    assert status(device) == ("disabled", "wired")
    set_cable(device, False)
    assert status(device) == ("disabled", "none") and not device.link_up
    configure(device, {"Network.InterfaceSelectMode": "auto"})
    assert status(device) == ("connected", "wireless") and device.link_up


def test_select_mode_wireless_uses_the_wireless_with_the_cable_in() -> None:
    device = make_device("W401")
    wlan(device).add_network(SSID, passphrase=PHRASE)
    wpa(device)
    configure(device, {"Network.InterfaceSelectMode": "wireless"})
    assert status(device) == ("connected", "wireless")
    assert device.param(f"{I1}.Active.IPAddress") != ""
    wlan(device).remove_network(SSID)
    assert status(device) == ("searching", "none")  # the cable is not used as a fallback
    assert not device.link_up


# -- 7. the simulated world refuses impossible networks ------------------------------------------


@pytest.mark.parametrize(
    "ssid, options",
    [
        ("S" * 33, {"security": "none"}),
        ("é" * 17, {"security": "none"}),  # 34 bytes
        ("", {"security": "none"}),
        (SSID, {"passphrase": "seven77"}),
        (SSID, {"passphrase": "x" * 64}),
        (SSID, {"security": "wep", "passphrase": PHRASE}),
        (SSID, {"passphrase": PHRASE, "ipv4_subnet": "10.0.0.1/8"}),
    ],
)
def test_add_network_rejects_invalid_networks(ssid: str, options: dict[str, str]) -> None:
    device = make_device("W401")
    with pytest.raises(WlanError):
        wlan(device).add_network(ssid, **options)  # type: ignore[arg-type]
    assert wlan(device).networks == {}


# -- 8. persistence and factory default ---------------------------------------------------------


def test_networks_and_settings_survive_a_simulator_restart(tmp_path: Path) -> None:
    device = make_device("W401")
    StateDir(tmp_path).attach(device)
    radio = wlan(device)
    radio.add_network(SSID, passphrase=PHRASE, signal=-61, channel=36, ipv4_subnet="10.9.8.0/24")
    radio.add_network("Hidden", security="none", hidden=True)
    wpa(device)
    set_cable(device, False)
    settings = [(d.name, device.params.value(d.name)) for d in device.params.all() if d.name.startswith(f"{W}.")]

    again = make_device("W401")
    assert StateDir(tmp_path).attach(again)
    assert wlan(again).networks == radio.networks
    assert [(d.name, again.params.value(d.name)) for d in again.params.all() if d.name.startswith(f"{W}.")] == settings
    assert status(again) == ("connected", "wireless") and again.link_up
    assert again.param(f"{I1}.Active.IPAddress") == device.param(f"{I1}.Active.IPAddress")


def test_factory_default_clears_wireless_settings_but_not_the_networks(tmp_path: Path) -> None:
    device = make_device("W401")
    StateDir(tmp_path).attach(device)
    wlan(device).add_network(SSID, passphrase=PHRASE)
    wpa(device)
    configure(device, {f"{W}.Hidden": "yes"})
    assert status(device) == ("standby", "wired")
    device.restart(RestartKind.SOFT)
    assert device.param(f"{W}.ESSID") == "" and device.param(f"{W}.W0.Enabled") == "no"
    assert device.param(f"{W}.W0.Passphrase") == "" and device.param(f"{W}.Hidden") == "no"
    assert status(device) == ("disabled", "wired")
    assert list(wlan(device).networks) == [SSID]  # the physical world stays

    again = make_device("W401")
    assert StateDir(tmp_path).attach(again)
    assert list(wlan(again).networks) == [SSID] and again.param(f"{W}.ESSID") == ""
