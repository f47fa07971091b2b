"""param.cgi over HTTP, byte for byte (vapix-wire.md §1, §8)."""

from __future__ import annotations

import pytest

from tests.conftest import MODELS, DeviceClientFactory

PARAM = "/axis-cgi/param.cgi"


async def test_list_brand_is_exact_text_plain(device_client: DeviceClientFactory) -> None:
    # §1.1 [REC]: 200, Content-Type exactly text/plain, LF lines, trailing LF, root. echoed
    client = await device_client("S3008")
    response = await client.get(f"{PARAM}?action=list&group=root.Brand")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    body = await response.read()
    assert body == (
        b"root.Brand.Brand=AXIS\n"
        b"root.Brand.ProdFullName=AXIS S3008 Recorder\n"
        b"root.Brand.ProdNbr=S3008\n"
        b"root.Brand.ProdShortName=AXIS S3008\n"
        b"root.Brand.ProdType=Recorder\n"
        b"root.Brand.ProdVariant=\n"
        b"root.Brand.WebURL=https://www.axis.com\n"
    )


async def test_post_form_labelled_text_plain_is_parsed(device_client: DeviceClientFactory) -> None:
    # §0.3: the Home Assistant client posts a form body with Content-Type text/plain
    client = await device_client("S3008")
    body = await client.text(
        "POST", PARAM, data=b"action=list&group=root.Brand.ProdNbr", headers={"Content-Type": "text/plain"}
    )
    assert body == "root.Brand.ProdNbr=S3008\n"


async def test_prefix_mirrors_request_and_comma_lists(device_client: DeviceClientFactory) -> None:
    client = await device_client("C1410MkII")
    body = await client.text("GET", f"{PARAM}?action=list&group=Brand.ProdNbr%2Croot.Network.SSH.Enabled")
    assert body == "Brand.ProdNbr=C1410 Mk II\nroot.Network.SSH.Enabled=no\n"


async def test_unknown_group_error_exact(device_client: DeviceClientFactory) -> None:
    # §1.1 [REC] AXIS OS 12.9 speaker without image: HTTP 200 and one error line
    client = await device_client("C1410MkII")
    response = await client.get(f"{PARAM}?action=list&group=Properties.Image.Resolution")
    assert response.status == 200
    assert await response.read() == b"# Error: Error -1 getting param in group 'Properties.Image.Resolution'\n"


async def test_update_reply_is_exactly_ok_and_takes_effect(device_client: DeviceClientFactory) -> None:
    # §1.2 [REC]: body is the two bytes OK; a following list shows the new value
    client = await device_client("S3016")
    response = await client.get(f"{PARAM}?action=update&root.Network.SSH.Enabled=yes")
    assert response.status == 200 and response.headers["Content-Type"] == "text/plain"
    assert await response.read() == b"OK"
    assert await client.text("GET", f"{PARAM}?action=list&group=root.Network.SSH.Enabled") == (
        "root.Network.SSH.Enabled=yes\n"
    )


async def test_update_several_with_one_failure(device_client: DeviceClientFactory) -> None:
    # §1.2: one error line per refused parameter, root.-qualified; a refused request changes nothing,
    # the valid parameters in it included (issue 16 D15)
    client = await device_client("S3008")
    body = await client.text(
        "GET", f"{PARAM}?action=update&Network.FTP.Enabled=yes&Network.SSH.Enabled=maybe&Brand.ProdNbr=X"
    )
    assert body == (
        "# Error: Error setting 'root.Network.SSH.Enabled' to 'maybe'!\n"
        "# Error: Error setting 'root.Brand.ProdNbr' to 'X'!\n"
    )
    listed = await client.text(
        "GET", f"{PARAM}?action=list&group=Network.FTP.Enabled,Network.SSH.Enabled,Brand.ProdNbr"
    )
    assert listed == "Network.FTP.Enabled=no\nNetwork.SSH.Enabled=no\nBrand.ProdNbr=S3008\n"


async def test_unknown_parameter_update(device_client: DeviceClientFactory) -> None:
    # §1.2 [DOC]: the name is echoed with root. even when requested without it
    client = await device_client("S3008")
    body = await client.text("GET", f"{PARAM}?action=update&Network.RTP.OnvifReplayExt=yes")
    assert body == "# Error: Error setting 'root.Network.RTP.OnvifReplayExt' to 'yes'!\n"


async def test_hostname_change_shows_everywhere(device_client: DeviceClientFactory) -> None:
    client = await device_client("S4000")
    assert await client.text("GET", f"{PARAM}?action=update&Network.HostName=lobby-nvr") == "OK"
    body = await client.text("GET", f"{PARAM}?action=list&group=Network.HostName,Network.VolatileHostName.HostName")
    assert body == "Network.HostName=lobby-nvr\nNetwork.VolatileHostName.HostName=lobby-nvr\n"
    assert client.device.hostname == "lobby-nvr"


async def test_passwords_are_masked(device_client: DeviceClientFactory) -> None:
    client = await device_client("W401")
    secrets = [d for d in client.device.params.all() if d.type.secret]
    assert secrets, "every model has at least one secret parameter"
    name = secrets[0].name
    assert await client.text("GET", f"{PARAM}?action=update&{name}=hunter2") == "OK"
    assert await client.text("GET", f"{PARAM}?action=list&group={name}") == f"{name}=******\n"


@pytest.mark.parametrize("model", MODELS)
async def test_full_list_matches_definitions(device_client: DeviceClientFactory, model: str) -> None:
    client = await device_client(model)
    body = await client.text("GET", f"{PARAM}?action=list")
    lines = body.split("\n")
    assert lines[-1] == "" and all(line.startswith("root.") for line in lines[:-1])
    assert len(lines) - 1 == len(client.device.params.all()) >= 250
    assert f"root.Properties.System.SerialNumber={client.device.serial}" in lines
    assert f"root.Network.HostName={client.device.identity.hostname}" in lines
    assert "root.Properties.API.HTTP.Version=3" in lines


async def test_viewer_sees_less_than_admin(device_client: DeviceClientFactory) -> None:
    from axisim.device import AccountSpec

    client = await device_client("S3008", accounts=[AccountSpec("root", "pass"), AccountSpec("eve", "pw", "viewer")])
    admin = await client.text("GET", f"{PARAM}?action=list")
    viewer = await client.text("GET", f"{PARAM}?action=list", auth=("eve", "pw"))
    assert 0 < len(viewer.splitlines()) < len(admin.splitlines())
    # Network.HostName is 7766: administrators read it, viewers do not
    refused = await client.text("GET", f"{PARAM}?action=list&group=Network.HostName", auth=("eve", "pw"))
    assert refused.startswith("# Error: Error -1 getting param in group")


async def test_viewer_cannot_update(device_client: DeviceClientFactory) -> None:
    from axisim.device import AccountSpec

    client = await device_client("S3008", accounts=[AccountSpec("root", "pass"), AccountSpec("eve", "pw", "viewer")])
    response = await client.get(f"{PARAM}?action=update&Network.SSH.Enabled=yes", auth=("eve", "pw"))
    assert response.status == 401  # §4.1: real devices answer 401 to a role too low
    assert client.device.params.value("Network.SSH.Enabled") == "no"


async def test_listdefinitions_is_the_fixture_format(device_client: DeviceClientFactory) -> None:
    from param_tree import parse_definitions

    client = await device_client("C1410MkII")
    response = await client.get(
        f"{PARAM}?action=listdefinitions&listformat=xmlschema&group=root.Brand,root.Network.SSH"
    )
    assert response.status == 200 and response.headers["Content-Type"] == "text/xml"
    body = await response.read()
    assert body.startswith(b'<?xml version="1.0" encoding="iso-8859-1" ?>\n<parameterDefinitions\n')
    assert b"http://127.0.0.1/pub/parameterdefinitions.xsd" in body
    document = parse_definitions(body)
    assert document.model == "AXIS C1410 Mk II"
    assert [d.name for d in document.definitions][-1] == "Network.SSH.Enabled"


@pytest.mark.parametrize("model", MODELS)
async def test_listdefinitions_loads_back_to_the_same_tree(device_client: DeviceClientFactory, model: str) -> None:
    from param_tree import parse_definitions

    client = await device_client(model)
    body = await (await client.get(f"{PARAM}?action=listdefinitions&listformat=xmlschema")).read()
    served = {d.name: d for d in parse_definitions(body).definitions}
    device = client.device
    assert set(served) == {d.name for d in device.params.all()}
    for definition in device.params.all():
        again = served[definition.name]
        assert (again.type, again.security, again.nice_name) == (
            definition.type,
            definition.security,
            definition.nice_name,
        )
        assert again.value == definition.type.display(device.params.value(definition.name))


async def test_add_and_remove_media_clip_groups(device_client: DeviceClientFactory) -> None:
    # §1.3-1.4 [DOC]: "<entry> OK", then the group lists; remove answers OK
    client = await device_client("C1410MkII")
    device = client.device
    template = device.model.tree.templates["mediaclip"]
    before = device.params.instance_numbers(template)
    body = await client.text("GET", f"{PARAM}?action=add&template=mediaclip&group=MediaClip&MediaClip.M.Name=Doorbell")
    key, _, ok = body.partition(" ")
    assert ok == "OK" and key.startswith("M")
    number = int(key[1:])
    assert number not in before
    listed = await client.text("GET", f"{PARAM}?action=list&group=root.MediaClip.{key}.Name")
    assert listed == f"root.MediaClip.{key}.Name=Doorbell\n"
    assert await client.text("GET", f"{PARAM}?action=remove&group=MediaClip.{key}") == "OK"
    gone = await client.text("GET", f"{PARAM}?action=list&group=root.MediaClip.{key}")
    assert gone == f"# Error: Error -1 getting param in group 'root.MediaClip.{key}'\n"


async def test_add_honours_max_groups(device_client: DeviceClientFactory) -> None:
    client = await device_client("C1410MkII")
    device = client.device
    template = device.model.tree.templates["mediaclip"]
    limit = int(device.params.value(template.max_groups))
    for _ in range(limit - len(device.params.instance_numbers(template))):
        body = await client.text("GET", f"{PARAM}?action=add&template=mediaclip&group=MediaClip")
        assert body.endswith(" OK")
    count = len(device.params.all())
    body = await client.text("GET", f"{PARAM}?action=add&template=mediaclip&group=MediaClip")
    assert body.startswith("# Request failed: ")
    assert len(device.params.all()) == count


async def test_remove_refuses_static_groups_and_changes_nothing(device_client: DeviceClientFactory) -> None:
    client = await device_client("C1410MkII")
    count = len(client.device.params.all())
    clip = next(d.name for d in client.device.params.all() if d.name.startswith("MediaClip.M")).rsplit(".", 1)[0]
    body = await client.text("GET", f"{PARAM}?action=remove&group={clip},Network.SSH")
    assert body.startswith("# Request failed: ")
    assert len(client.device.params.all()) == count


async def test_manual_curl_examples_ftp_and_ssh(device_client: DeviceClientFactory) -> None:
    # the C1410 Mk II manual's "API commands": enable/disable FTP and SSH, list all parameters
    client = await device_client("C1410MkII")
    for name in ("Network.FTP.Enabled", "Network.SSH.Enabled"):
        for value in ("yes", "no", "yes"):
            assert await client.text("GET", f"{PARAM}?action=update&{name}={value}") == "OK"
            assert await client.text("GET", f"{PARAM}?action=list&group={name}") == f"{name}={value}\n"
    assert "root.Network.FTP.Enabled=yes\n" in await client.text("GET", f"{PARAM}?action=list")


async def test_admin_path_alias(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    assert (
        await client.text("GET", "/axis-cgi/admin/param.cgi?action=list&group=Brand.ProdNbr") == "Brand.ProdNbr=S3008\n"
    )
