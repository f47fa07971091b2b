"""pwdgrp.cgi and usergroup.cgi (vapix-wire.md §4.3, §4.4)."""

from __future__ import annotations

from axisim.device import AccountSpec
from tests.conftest import DeviceClientFactory

PWDGRP = "/axis-cgi/pwdgrp.cgi"


def page(text: str) -> bytes:
    # §4.4 [REC]: rs4acap cassettes pwdgrp_*, identical across AXIS OS 10.12-12.9
    return (
        f"<html><head><title>User accounts</title></head><body bgcolor=#ffffff>{text}\r\n</body>\r\n\r\n</html>\r\n"
    ).encode()


async def reply(client, query: str, auth=("root", "pass")) -> tuple[int, bytes]:
    response = await client.get(f"{PWDGRP}?{query}", auth=auth)
    return response.status, await response.read()


async def test_add_update_remove_exact_replies(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    status, body = await reply(client, "action=add&user=cassettetest&pwd=secret&grp=users&sgrp=viewer")
    assert (status, body) == (200, page("Created account cassettetest."))
    assert (await reply(client, "action=add&user=cassettetest&pwd=secret&grp=users&sgrp=viewer"))[1] == page(
        "Error: this user name already exists, consult the system log file."
    )
    assert (await reply(client, "action=add&user=other&pwd=&grp=users&sgrp=viewer"))[1] == page(
        "Error: invalid password."
    )
    assert (await reply(client, "action=add&user=user!&pwd=x&grp=users&sgrp=viewer"))[1] == page(
        "Error: account user name."
    )
    assert (await reply(client, "action=update&user=cassettetest&pwd=newpass"))[1] == page(
        "Modified account cassettetest."
    )
    assert (await reply(client, "action=remove&user=cassettetest"))[1] == page("Removed account cassettetest.")
    assert (await reply(client, "action=remove&user=nonexistent_user"))[1] == page("Error: account user name.")
    assert [a for a in client.device.accounts.accounts] == ["root"]


async def test_new_password_and_roles_take_effect(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await reply(client, "action=add&user=op&pwd=first&grp=users&sgrp=operator:viewer")
    update = "/axis-cgi/param.cgi?action=update&Network.Bonjour.Enabled=no"
    refused = await client.text("GET", update, auth=("op", "first"))  # 7766: administrators write it
    assert refused == "# Error: Error setting 'root.Network.Bonjour.Enabled' to 'no'!\n"
    assert await client.text("GET", "/axis-cgi/usergroup.cgi", auth=("op", "first")) == "op\nusers operator viewer\n"
    await reply(client, "action=update&user=op&pwd=second")
    assert (await client.get("/axis-cgi/usergroup.cgi", auth=("op", "first"))).status == 401
    await reply(client, "action=update&user=op&sgrp=admin:operator:viewer:ptz")
    assert await client.text("GET", "/axis-cgi/usergroup.cgi", auth=("op", "second")) == (
        "op\nusers admin operator ptz viewer\n"
    )


async def test_password_rules_from_the_manual(device_client: DeviceClientFactory) -> None:
    # passwords 1-64 printable ASCII (32-126)
    client = await device_client("S3008")
    ok = "a" * 64
    assert (await reply(client, f"action=add&user=u1&pwd={ok}&sgrp=viewer"))[1] == page("Created account u1.")
    for bad in ("a" * 65, "tab%09x", "%C3%A9t%C3%A9", "%FF"):
        assert (await reply(client, f"action=add&user=u2&pwd={bad}&sgrp=viewer"))[1] == page("Error: invalid password.")
    assert client.device.accounts.get("u2") is None


async def test_hundred_account_limit(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    for index in range(99):
        client.device.accounts.add(f"user{index}", "pw", frozenset({"viewer"}))
    assert len(client.device.accounts) == 100
    _, body = await reply(client, "action=add&user=onemore&pwd=pw&sgrp=viewer")
    assert body == page("Error: consult the system log file.")
    assert len(client.device.accounts) == 100


async def test_root_account_cannot_be_removed(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await reply(client, "action=add&user=admin2&pwd=pw&sgrp=admin:operator:viewer")
    assert (await reply(client, "action=remove&user=root", auth=("admin2", "pw")))[1] == page(
        "Error: consult the system log file."
    )
    assert client.device.accounts.get("root") is not None


async def test_get_lists_role_groups(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    await reply(client, "action=add&user=joe&pwd=pw&sgrp=operator:viewer:ptz")
    await reply(client, "action=add&user=frank&pwd=pw&sgrp=viewer")
    response = await client.get(f"{PWDGRP}?action=get")
    assert response.headers["Content-Type"] == "text/plain"
    assert await response.read() == (
        b'admin="root"\r\noperator="root,joe"\r\nviewer="root,frank,joe"\r\nptz="root,joe"\r\ndigusers="root,frank,joe"\r\n'
    )


async def test_only_admins_manage_accounts(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008", accounts=[AccountSpec("root", "pass"), AccountSpec("op", "pw", "operator")])
    status, _ = await reply(client, "action=add&user=x&pwd=pw&sgrp=viewer", auth=("op", "pw"))
    assert status == 401
    assert client.device.accounts.get("x") is None


async def test_bad_actions(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    assert (await reply(client, "user=x"))[1] == page("Error: action operation type.")
    assert (await reply(client, "action=explode"))[1] == page("Error: malformed action operation, explode.")


async def test_device_without_accounts_needs_setup(device_client: DeviceClientFactory) -> None:
    # a fresh device has no account: every protected endpoint answers 401 until the first admin exists
    client = await device_client("C1410MkII", accounts=[])
    ready = await (
        await client.client.post("/axis-cgi/systemready.cgi", json={"apiVersion": "1", "method": "systemready"})
    ).json()
    assert ready["data"]["needsetup"] == "yes"
    assert (await client.client.get("/axis-cgi/param.cgi?action=list")).status == 401
    response = await client.client.get(f"{PWDGRP}?action=get")
    assert (response.status, await response.read()) == (401, page("Error: initial admin user must be created first."))
    response = await client.client.get(f"{PWDGRP}?action=add&user=root&pwd=pw&grp=root&sgrp=viewer")
    assert (response.status, await response.read()) == (401, page("Error: not a valid initial admin user."))
    response = await client.client.get(
        f"{PWDGRP}?action=add&user=root&pwd=s3cret&grp=root&sgrp=admin:operator:viewer:ptz"
    )
    assert (response.status, await response.read()) == (200, page("Created account root."))
    ready = await (
        await client.client.post("/axis-cgi/systemready.cgi", json={"apiVersion": "1", "method": "systemready"})
    ).json()
    assert ready["data"]["needsetup"] == "no"
    # now anonymous account creation is over
    response = await client.client.get(f"{PWDGRP}?action=add&user=eve&pwd=pw&sgrp=admin:operator:viewer")
    assert response.status == 401
    body = await client.text("GET", "/axis-cgi/usergroup.cgi", auth=("root", "s3cret"))
    assert body == "root\nroot admin operator ptz viewer\n"
