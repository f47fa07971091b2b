"""Settings the firmware checks beyond their declared type (param_tree/checks.py), through param.cgi.

vapix-wire.md §1.2: a refused update answers `# Error: Error setting 'root.<name>' to '<value>'!` and
changes nothing (the whole request is refused). The rules are the manuals': Network > Hostname
("Allowed characters are A–Z, a–z, 0–9 and -"), Network > DNS update TTL (a number of seconds), and
SNMP v3 ("The SNMP v3 password can only be set once ... To set the password again, you must reset the
device to factory default settings"), SNMP v1 and v2c ("Traps are automatically turned off if you change
to SNMP v3 or turn off SNMP").
"""

from __future__ import annotations

import pytest

from axisim.device import make_device
from axisim.lifecycle import RestartKind
from axisim.logs import SYSTEM
from param_tree import ParamStore
from tests.conftest import MODELS, DeviceClient, DeviceClientFactory

PARAM = "/axis-cgi/param.cgi"


def refusal(name: str, value: str) -> str:
    return f"# Error: Error setting 'root.{name}' to '{value}'!\n"


async def listed(client: DeviceClient, group: str) -> str:
    return await client.text("GET", f"{PARAM}?action=list&group={group}")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("value", ["bad_host!", "gate.local", "", "a" * 64, "caf%C3%A9", "two%20words"])
async def test_host_name_outside_the_manuals_characters_is_refused(
    device_client: DeviceClientFactory, model: str, value: str
) -> None:
    client = await device_client(model)
    before = await listed(client, "Network.HostName")
    reply = await client.text("POST", PARAM, data=f"action=update&Network.HostName={value}")
    assert reply.startswith("# Error: Error setting 'root.Network.HostName' to '")
    assert await listed(client, "Network.HostName") == before


async def test_host_name_with_allowed_characters_is_taken(device_client: DeviceClientFactory) -> None:
    client = await device_client("C1410MkII")
    name = "Gate-2-" + "x" * 56  # 63 characters: the declared maxlen
    assert await client.text("GET", f"{PARAM}?action=update&Network.HostName={name}") == "OK"
    assert await listed(client, "Network.HostName") == f"Network.HostName={name}\n"


async def test_bad_host_name_refuses_the_whole_request(device_client: DeviceClientFactory) -> None:
    """The exact reply for the issue's example; the valid TTL in the same request is not applied."""
    client = await device_client("S3008")
    body = await client.text("GET", f"{PARAM}?action=update&Network.DNSUpdate.TTL=60&Network.HostName=bad_host!")
    assert body == refusal("Network.HostName", "bad_host!")
    assert await listed(client, "Network.DNSUpdate.TTL") == "Network.DNSUpdate.TTL=30\n"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "2147483648", " 30", ""])
async def test_dns_update_ttl_must_be_a_number_in_range(device_client: DeviceClientFactory, value: str) -> None:
    client = await device_client("W401")
    body = await client.text("POST", PARAM, data=f"action=update&Network.DNSUpdate.TTL={value}")
    assert body == refusal("Network.DNSUpdate.TTL", value)
    assert await listed(client, "Network.DNSUpdate.TTL") == "Network.DNSUpdate.TTL=30\n"


async def test_dns_update_ttl_takes_seconds(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    assert await client.text("GET", f"{PARAM}?action=update&Network.DNSUpdate.TTL=3600") == "OK"
    assert await listed(client, "Network.DNSUpdate.TTL") == "Network.DNSUpdate.TTL=3600\n"


@pytest.mark.parametrize("model", MODELS)
async def test_snmp_v3_initial_password_only_once(device_client: DeviceClientFactory, model: str) -> None:
    """Set once: InitialUserPasswdSet turns yes and a second value is refused, the first kept; a factory
    default makes it settable again."""
    client = await device_client(model)
    assert await listed(client, "SNMP.InitialUserPasswdSet") == "SNMP.InitialUserPasswdSet=no\n"
    assert await client.text("GET", f"{PARAM}?action=update&SNMP.InitialUserPasswd=first-secret") == "OK"
    assert await listed(client, "SNMP.InitialUserPasswdSet") == "SNMP.InitialUserPasswdSet=yes\n"
    again = await client.text("GET", f"{PARAM}?action=update&SNMP.InitialUserPasswd=second-secret")
    assert again == refusal("SNMP.InitialUserPasswd", "second-secret")
    assert client.device.param("SNMP.InitialUserPasswd") == "first-secret"
    client.device.restart(RestartKind.SOFT)
    client.device.add_account("root", "pass", frozenset({"admin", "operator", "viewer"}), "root", "", SYSTEM)
    assert await listed(client, "SNMP.InitialUserPasswdSet") == "SNMP.InitialUserPasswdSet=no\n"
    assert await client.text("GET", f"{PARAM}?action=update&SNMP.InitialUserPasswd=second-secret") == "OK"


@pytest.mark.parametrize("model", MODELS)
async def test_snmp_traps_turn_off_with_v3_or_snmp_off(device_client: DeviceClientFactory, model: str) -> None:
    """Traps set up for v1/v2c go off when SNMP changes to v3, and again when SNMP is turned off; the
    trap's own settings (address, community) stay."""
    client = await device_client(model)
    traps_on = "SNMP.Enabled=yes&SNMP.V1=yes&SNMP.V2c=yes&SNMP.Trap.Enabled=yes&SNMP.Trap.T0.Address=192.168.0.5"
    assert await client.text("GET", f"{PARAM}?action=update&{traps_on}") == "OK"
    assert await listed(client, "SNMP.Trap.Enabled") == "SNMP.Trap.Enabled=yes\n"
    assert await client.text("GET", f"{PARAM}?action=update&SNMP.V1=no&SNMP.V2c=no&SNMP.V3=yes") == "OK"
    assert await listed(client, "SNMP.Trap.Enabled") == "SNMP.Trap.Enabled=no\n"
    assert await listed(client, "SNMP.Trap.T0.Address") == "SNMP.Trap.T0.Address=192.168.0.5\n"

    assert await client.text("GET", f"{PARAM}?action=update&SNMP.V3=no&SNMP.V1=yes&SNMP.Trap.Enabled=yes") == "OK"
    assert await listed(client, "SNMP.Trap.Enabled") == "SNMP.Trap.Enabled=yes\n"
    assert await client.text("GET", f"{PARAM}?action=update&SNMP.Enabled=no") == "OK"
    assert await listed(client, "SNMP.Trap.Enabled") == "SNMP.Trap.Enabled=no\n"
    # a change that is not to v3 or off leaves the traps alone
    assert await client.text("GET", f"{PARAM}?action=update&SNMP.Enabled=yes&SNMP.Trap.Enabled=yes") == "OK"
    assert await client.text("GET", f"{PARAM}?action=update&SNMP.V1ReadCommunity=site&SNMP.Enabled=yes") == "OK"
    assert await listed(client, "SNMP.Trap.Enabled") == "SNMP.Trap.Enabled=yes\n"


def test_a_saved_state_with_a_bad_value_is_refused_on_load() -> None:
    """The same check guards a state directory being loaded (ParamStore.restore): nothing is taken."""
    device = make_device("S3008")
    store: ParamStore = device.params
    with pytest.raises(ValueError, match=r"Network\.HostName"):
        store.restore({"values": {"Network.HostName": "bad_host!"}, "groups": {}, "removed": []})
    assert device.hostname != "bad_host!"


async def test_listdefinitions_still_shows_the_declared_types(device_client: DeviceClientFactory) -> None:
    """The checks are the firmware's, not the declaration's: listdefinitions is unchanged."""
    client = await device_client("S3008")
    body = await client.text("GET", f"{PARAM}?action=listdefinitions&listformat=xmlschema&group=Network.DNSUpdate")
    assert '<parameter name="TTL" value="30" securityLevel="7766" niceName="TTL">' in body
    assert "<string />" in body
