"""A remembered `param.cgi` list body never outlives the parameters it shows (vapix-wire.md §1.1-1.2):
the device renders each list once per parameter state, role and group, and every update, from any
role, must be seen by the next list of every role."""

from __future__ import annotations

import itertools

from axisim.device import AccountSpec
from param_tree import ParamStore
from tests.conftest import DeviceClient, DeviceClientFactory

PARAM = "/axis-cgi/param.cgi"
NAME = "TemperatureControl.Sensor.S0.Name"  # security 7714: viewers read it, operators write it
ACCOUNTS = [AccountSpec("root", "pass"), AccountSpec("op", "pw", "operator"), AccountSpec("eve", "pw", "viewer")]
ROLES = {"admin": ("root", "pass"), "operator": ("op", "pw"), "viewer": ("eve", "pw")}


async def listed(client: DeviceClient, auth: tuple[str, str] | None) -> str:
    return await client.text("GET", f"{PARAM}?action=list&group=root.{NAME}", auth=auth)


async def update(client: DeviceClient, auth: tuple[str, str], value: str) -> None:
    assert await client.text("GET", f"{PARAM}?action=update&root.{NAME}={value}", auth=auth) == "OK"


async def test_every_role_sees_an_update_in_its_next_list(device_client: DeviceClientFactory) -> None:
    # §1.2 [REC]: after OK, a following list shows the new value, whoever asks
    client = await device_client("S3008", accounts=ACCOUNTS)
    for auth in ROLES.values():  # every role's list remembered first
        assert await listed(client, auth) == f"root.{NAME}=Main unit\n"
    for writer, value in (("operator", "Cabinet"), ("admin", "Rack"), ("operator", "Main%20unit")):
        await update(client, ROLES[writer], value)
        shown = value.replace("%20", " ")
        for role, auth in ROLES.items():
            assert await listed(client, auth) == f"root.{NAME}={shown}\n", (writer, role)


async def test_an_update_reaches_anonymous_viewers_and_turning_them_off_is_seen(
    device_client: DeviceClientFactory,
) -> None:
    # §1.1: with System.BoaProtViewer=anonymous a list needs no credentials; the policy is a
    # parameter too, so switching it off must end anonymous lists at once
    client = await device_client("S3008", accounts=ACCOUNTS)
    assert (await client.get(f"{PARAM}?action=list&group=root.{NAME}", auth=None)).status == 401
    assert await client.text("GET", f"{PARAM}?action=update&root.System.BoaProtViewer=anonymous") == "OK"
    assert await listed(client, None) == f"root.{NAME}=Main unit\n"
    await update(client, ROLES["operator"], "Cabinet")
    assert await listed(client, None) == f"root.{NAME}=Cabinet\n"
    assert await client.text("GET", f"{PARAM}?action=update&root.System.BoaProtViewer=password") == "OK"
    assert (await client.get(f"{PARAM}?action=list&group=root.{NAME}", auth=None)).status == 401


async def test_a_list_holding_a_provided_value_shows_the_value_of_the_moment(
    device_client: DeviceClientFactory,
) -> None:
    # a value read at each read (ParamStore.provide, a RAID sync's progress) next to remembered ones
    client = await device_client("S3008", accounts=ACCOUNTS)
    params: ParamStore = client.device.params
    progress = itertools.count()  # a new value at each read
    params.provide(NAME, lambda: str(next(progress)))
    first = await listed(client, ROLES["viewer"])
    second = await listed(client, ROLES["viewer"])
    assert first != second and first.startswith(f"root.{NAME}=") and second.startswith(f"root.{NAME}=")
    brand = await client.text("GET", f"{PARAM}?action=list&group=root.Brand.ProdNbr")
    assert brand == "root.Brand.ProdNbr=S3008\n"  # beside a provider, other lists stay right
    params.provide(NAME, None)
    assert await listed(client, ROLES["viewer"]) == f"root.{NAME}=Main unit\n"
