"""Network share (`/axis-cgi/disks/networkshare/*.cgi`, the C1410 Mk II) and disk properties
(`/axis-cgi/disks/properties/*.cgi`, the S3008): VAPIX edge storage API, "Network share" and
"Disk properties" (research notes disks-api.md §5 and §6).

The share's API and the `NetworkShare.N0` / `Storage.S0` parameters are one state; errors are
HTTP 200 `text/xml` bodies and change nothing.
"""

from __future__ import annotations

import pytest
from lxml import etree

from axisim.device import DEFAULT_ACCOUNT, AccountSpec, make_device
from axisim.lifecycle import RestartKind
from axisim.subsystems.storage import StorageSubsystem
from axisim.subsystems.storage.media import StorageError, passphrase_matches
from tests.conftest import DeviceClient, DeviceClientFactory

SPEAKER = "C1410MkII"
RECORDER = "S3008"
SHARE_API = "/axis-cgi/disks/networkshare"
PROPERTIES_API = "/axis-cgi/disks/properties"
SHARE_HEAD = (
    '<?xml version="1.0" encoding="utf-8" ?>\n<NetworkShareResponse SchemaVersion="1.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/networkshare1.xsd">\n'
)
PROPERTIES_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<DiskPropertiesResponse xmlns="http://www.axis.com/vapix/http_cgi/disks/properties1" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.axis.com/vapix/http_cgi/disks/properties1 '
    'http://www.axis.com/vapix/http_cgi/disks/properties/disk_properties1.xsd" SchemaVersion="{version}">\n'
)
PROPERTIES_SUCCESS = (
    PROPERTIES_HEAD.format(version="1.0")
    + "    <Success>\n        <GeneralSuccess />\n    </Success>\n</DiskPropertiesResponse>\n"
)
# the documented error descriptions (VAPIX edge storage API, "Disk properties", error codes)
PROPERTY_TEXT = {
    20: "Invalid request.",
    30: "Specified file system is not supported.",
    40: "Specified version is not supported.",
    50: "Invalid disk ID.",
    100: "The disk does not support disk encryption.",
    110: "Invalid passphrase.",
    120: "Invalid new passphrase.",
    130: "The oldpassphrase does not match the existing passphrase.",
    140: "Encryption is already enabled.",
    150: "The disk is unmounted. Passphrase can only be changed when the disk is mounted.",
    160: "The disk is mounted. Encryption can only be enabled/disabled when the disk is unmounted.",
}
GENERAL_SUCCESS = "<GeneralSuccess />"
NAS_QUERY = "nicename=Rec%20NAS&address=nas.example.com&share=recordings&user=cam&pass=s3cret&shareid=nas1"
PASSPHRASE = "first-secret"


# -- helpers -------------------------------------------------------------------------------


def share_reply(inner: str) -> str:
    return f"{SHARE_HEAD}    {inner}\n</NetworkShareResponse>\n"


def share_error(code: int, text: str) -> str:
    return share_reply(
        f"<GeneralError><ErrorCode>{code}</ErrorCode><ErrorDescription>{text}</ErrorDescription></GeneralError>"
    )


def property_error(code: int) -> str:
    return (
        f"{PROPERTIES_HEAD.format(version='1.0')}    <Error>\n        <GeneralError>\n"
        f"            <ErrorCode>{code}</ErrorCode>\n"
        f"            <ErrorDescription>{PROPERTY_TEXT[code]}</ErrorDescription>\n"
        "        </GeneralError>\n    </Error>\n</DiskPropertiesResponse>\n"
    )


def storage_of(client: DeviceClient) -> StorageSubsystem:
    storage = client.device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    return storage


async def xml_text(client: DeviceClient, path: str, **kwargs: object) -> str:
    response = await client.get(path, **kwargs)  # type: ignore[arg-type]
    assert response.status == 200, (response.status, await response.text())
    assert response.headers["Content-Type"] == "text/xml"
    return await response.text()


async def share_cgi(client: DeviceClient, name: str, query: str = "", **kwargs: object) -> str:
    """One network share CGI with `schemaversion=1`."""
    separator = "&" if query else ""
    return await xml_text(client, f"{SHARE_API}/{name}.cgi?schemaversion=1{separator}{query}", **kwargs)


async def prop_cgi(client: DeviceClient, name: str, query: str = "", diskid: str = "HDD_DISK") -> str:
    """One disk properties CGI with `schemaversion=1` and the disk id."""
    return await xml_text(client, f"{PROPERTIES_API}/{name}.cgi?schemaversion=1&diskid={diskid}&{query}")


async def params(client: DeviceClient, group: str) -> str:
    return await client.text("GET", f"/axis-cgi/param.cgi?action=list&group={group}")


async def listed_shares(client: DeviceClient) -> str:
    return await share_cgi(client, "list", "shareid=all")


async def disk(client: DeviceClient) -> dict[str, str]:
    """The one disk disks/list.cgi shows."""
    root = etree.fromstring((await xml_text(client, "/axis-cgi/disks/list.cgi?diskid=all")).encode())
    disks = root.findall("disks/disk")
    assert len(disks) == 1
    return dict(disks[0].attrib)


async def job_started(client: DeviceClient, path: str) -> dict[str, str]:
    root = etree.fromstring((await xml_text(client, path)).encode())
    job = root.find("job")
    assert job is not None
    return dict(job.attrib)


async def progress(client: DeviceClient, job_id: str) -> int:
    """job.cgi of a running test: exactly <JobSuccess><Progress>n</Progress></JobSuccess>."""
    reply = await share_cgi(client, "job", f"jobid={job_id}")
    value = etree.fromstring(reply.encode()).findtext("JobSuccess/Progress")
    assert value is not None and value.isdigit(), reply
    assert reply == share_reply(f"<JobSuccess><Progress>{value}</Progress></JobSuccess>")
    return int(value)


async def speaker_with_share(device_client: DeviceClientFactory, **nas: object) -> DeviceClient:
    """A C1410 Mk II with the share `nas1` added (nothing bound)."""
    client = await device_client(SPEAKER)
    if nas:
        storage_of(client).set_nas(**nas)  # type: ignore[arg-type]
    assert await share_cgi(client, "add", NAS_QUERY) == share_reply('<AddSuccess ShareId="nas1" />')
    return client


async def speaker_with_bound_share(device_client: DeviceClientFactory, **nas: object) -> DeviceClient:
    """... bound and mounted (bind mounts; the mount job takes 2 s)."""
    client = await speaker_with_share(device_client, **nas)
    assert await share_cgi(client, "bind", "shareid=nas1") == share_reply('<BindSuccess DiskID="NetworkShare" />')
    client.device.clock.advance(3)
    assert (await disk(client))["status"] == "OK"
    return client


async def unmount(client: DeviceClient, diskid: str) -> None:
    job = await job_started(client, f"/axis-cgi/disks/mount.cgi?action=unmount&diskid={diskid}")
    assert job["result"] == "OK", job
    client.device.clock.advance(2)


async def mount(client: DeviceClient, diskid: str) -> None:
    job = await job_started(client, f"/axis-cgi/disks/mount.cgi?action=mount&diskid={diskid}")
    assert job["result"] == "OK", job
    client.device.clock.advance(2)


async def encrypted_recorder(device_client: DeviceClientFactory) -> DeviceClient:
    """An S3008 whose disk is encrypted with PASSPHRASE and mounted again (the documented order:
    unmount, enable, format, mount)."""
    client = await device_client(RECORDER)
    await unmount(client, "HDD_DISK")
    assert await prop_cgi(client, "enablediskencryption", f"passphrase={PASSPHRASE}") == PROPERTIES_SUCCESS
    job = await job_started(client, "/axis-cgi/disks/format.cgi?diskid=HDD_DISK")
    assert job["result"] == "OK", job
    client.device.clock.advance(20)
    await mount(client, "HDD_DISK")
    return client


# -- network share: add, list, parameters ---------------------------------------------------


async def test_added_share_is_listed_without_password_and_is_the_parameters(
    device_client: DeviceClientFactory,
) -> None:
    """VAPIX edge storage API, Network share: add.cgi answers AddSuccess ShareId; list.cgi lists
    NiceName, ShareId, Address, Share and User, never the password, and no DiskId while unbound."""
    client = await device_client(SPEAKER)
    assert await listed_shares(client) == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="0"></NetworkShares></ListSuccess>'
    )
    added = await share_cgi(
        client, "add", "nicename=My%20Share&address=nas.example.com&share=rec&user=u1&pass=topsecret"
    )
    share_id = etree.fromstring(added.encode()).find("AddSuccess").get("ShareId")
    assert share_id and share_id.isdigit()  # the device makes one up
    assert added == share_reply(f'<AddSuccess ShareId="{share_id}" />')
    listed = await listed_shares(client)
    assert listed == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="1">'
        f'<NetworkShare NiceName="My Share" ShareId="{share_id}" Address="nas.example.com" Share="rec" User="u1" />'
        "</NetworkShares></ListSuccess>"
    )
    assert "topsecret" not in listed
    assert await share_cgi(client, "list", f"shareid={share_id}") == listed
    assert await share_cgi(client, "list", "shareid=other") == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="0"></NetworkShares></ListSuccess>'
    )
    assert await params(client, "NetworkShare") == (
        "NetworkShare.N0.Address=nas.example.com\nNetworkShare.N0.Name=My Share\nNetworkShare.N0.Password=******\n"
        f"NetworkShare.N0.Port=0\nNetworkShare.N0.Share=rec\nNetworkShare.N0.ShareId={share_id}\n"
        "NetworkShare.N0.Username=u1\n"
    )


async def test_share_settings_changed_through_parameters_are_listed(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: NetworkShare.N0 is the share list.cgi shows."""
    client = await speaker_with_share(device_client)
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&NetworkShare.N0.Address=10.0.0.9") == "OK"
    root = etree.fromstring((await listed_shares(client)).encode())
    assert root.find("ListSuccess/NetworkShares/NetworkShare").get("Address") == "10.0.0.9"


@pytest.mark.parametrize(
    "path, with_share, code, text",
    [
        (
            "add.cgi?schemaversion=1&nicename=B&address=nas2&share=s",
            True,
            230,
            "Maximum number of network shares is already reached. No more shares can be added.",
        ),
        ("add.cgi?schemaversion=1&nicename=B&share=s", False, 20, "Invalid request."),
        ("add.cgi?schemaversion=1&nicename=B&address=&share=s", False, 20, "Invalid request."),
        ("add.cgi?schemaversion=1&address=nas2&share=s", False, 20, "Invalid request."),
        ("add.cgi?schemaversion=1&nicename=B&address=nas2", False, 20, "Invalid request."),
        ("add.cgi?schemaversion=1&nicename=B&address=nas2&share=s&shareid=a%20b", False, 200, "Invalid ShareId"),
        ("add.cgi?schemaversion=1&nicename=B&address=nas2&share=s&shareid=a_b", False, 200, "Invalid ShareId"),
        ("add.cgi?nicename=B&address=nas2&share=s", False, 20, "Invalid request."),
        ("add.cgi?schemaversion=2&nicename=B&address=nas2&share=s", False, 40, "Specified version is not supported."),
        ("add.cgi?schemaversion=x&nicename=B&address=nas2&share=s", False, 20, "Invalid request."),
        ("list.cgi?schemaversion=1", True, 20, "Invalid request."),
        ("list.cgi?shareid=all", True, 20, "Invalid request."),
        ("remove.cgi?schemaversion=1&shareid=unknown", True, 20, "Invalid request."),
        ("modify.cgi?schemaversion=1&shareid=unknown&nicename=X", True, 20, "Invalid request."),
        ("bind.cgi?schemaversion=1&shareid=nas1&automaticmount=maybe", True, 20, "Invalid request."),
        ("job.cgi?schemaversion=1&jobid=99", True, 20, "Invalid request."),
        ("test.cgi?schemaversion=1", False, 20, "Invalid request."),
    ],
)
async def test_share_errors_answer_general_error_and_change_nothing(
    device_client: DeviceClientFactory, path: str, with_share: bool, code: int, text: str
) -> None:
    """VAPIX edge storage API, Network share, error codes 20, 40, 200, 230."""
    client = await speaker_with_share(device_client) if with_share else await device_client(SPEAKER)
    before = (await listed_shares(client), await params(client, "NetworkShare"), await params(client, "Storage.S0"))
    assert await xml_text(client, f"{SHARE_API}/{path}") == share_error(code, text)
    after = (await listed_shares(client), await params(client, "NetworkShare"), await params(client, "Storage.S0"))
    assert after == before
    assert not storage_of(client).bound


async def test_refused_add_stores_nothing(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: an add.cgi that answers an error adds no share."""
    client = await device_client(SPEAKER)
    address = "a" * 300  # longer than NetworkShare.N0.Address takes (255)
    reply = await share_cgi(client, "add", f"nicename=N&address={address}&share=rec&shareid=nas1")
    assert reply == share_error(20, "Invalid request.")
    assert await listed_shares(client) == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="0"></NetworkShares></ListSuccess>'
    )


async def test_refused_modify_changes_nothing(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: a modify.cgi that answers an error modifies nothing."""
    client = await speaker_with_share(device_client)
    before = await params(client, "NetworkShare")
    reply = await share_cgi(client, "modify", f"shareid=nas1&nicename=Renamed&address={'a' * 300}")
    assert reply == share_error(20, "Invalid request.")
    assert await params(client, "NetworkShare") == before


async def test_non_ascii_share_id_is_invalid(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: add.cgi shareid must match [A-Za-z0-9-]+, else 200."""
    client = await device_client(SPEAKER)
    reply = await share_cgi(client, "add", "nicename=N&address=nas&share=rec&shareid=%C3%A41")  # "ä1"
    assert reply == share_error(200, "Invalid ShareId")
    assert storage_of(client).share() is None


async def test_given_share_id_with_dash_is_kept(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: shareid [A-Za-z0-9-]+ is the share's id."""
    client = await device_client(SPEAKER)
    reply = await share_cgi(client, "add", "nicename=N&address=nas&share=rec&shareid=485279c5-6676-4abd")
    assert reply == share_reply('<AddSuccess ShareId="485279c5-6676-4abd" />')
    assert await params(client, "NetworkShare.N0.ShareId") == "NetworkShare.N0.ShareId=485279c5-6676-4abd\n"


# -- network share: bind, unbind, remove, modify ---------------------------------------------


async def test_bind_mounts_the_share_with_the_nas_capacity(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: bind.cgi answers BindSuccess DiskID="NetworkShare"; the
    mounted share is disks/list.cgi's NetworkShare disk (cifs, total size in kB)."""
    client = await speaker_with_share(device_client, capacity=500 * 10**9)
    assert (await disk(client))["status"] == "disconnected"
    assert await share_cgi(client, "bind", "shareid=nas1") == share_reply('<BindSuccess DiskID="NetworkShare" />')
    client.device.clock.advance(3)
    listed = await disk(client)
    assert {k: listed[k] for k in ("diskid", "status", "filesystem", "totalsize", "freesize", "group")} == {
        "diskid": "NetworkShare",
        "status": "OK",
        "filesystem": "cifs",
        "totalsize": str(500 * 10**9 // 1024),
        "freesize": str(500 * 10**9 // 1024),
        "group": "S0",
    }
    assert await listed_shares(client) == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="1">'
        '<NetworkShare NiceName="Rec NAS" ShareId="nas1" Address="nas.example.com" Share="recordings" User="cam" '
        'DiskId="NetworkShare" /></NetworkShares></ListSuccess>'
    )
    assert await params(client, "DiskManagement.S0.Bound") == "DiskManagement.S0.Bound=yes\n"


async def test_bind_without_automatic_mount_leaves_it_connected(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: bind.cgi automaticmount=no."""
    client = await speaker_with_share(device_client)
    reply = await share_cgi(client, "bind", "shareid=nas1&automaticmount=no")
    assert reply == share_reply('<BindSuccess DiskID="NetworkShare" />')
    client.device.clock.advance(3)
    assert ((await disk(client))["status"], (await disk(client))["totalsize"]) == ("connected", "0")


async def test_bound_share_refuses_bind_unbind_remove_and_modify(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: errors 310, 400, 500 and 600; the NiceName can always
    be changed."""
    client = await speaker_with_bound_share(device_client)
    assert await share_cgi(client, "bind", "shareid=nas1") == share_error(
        310, "The network share is already bound to a disk."
    )
    assert await share_cgi(client, "unbind", "shareid=nas1") == share_error(
        400, "The network share is mounted and cannot be unbound. Unmount the share using Disk Management API."
    )
    assert await share_cgi(client, "remove", "shareid=nas1") == share_error(
        500,
        "The network share is bound and cannot be removed. Use /axis-cgi/disks/networkshare/unbind.cgi to "
        "unbind the share.",
    )
    before = await params(client, "NetworkShare")
    assert await share_cgi(client, "modify", "shareid=nas1&address=other.example.com") == share_error(
        600,
        "The network share is bound and cannot be modified. Use /axis-cgi/disks/networkshare/unbind.cgi to "
        "unbind the share.",
    )
    assert await share_cgi(client, "modify", "shareid=nas1&nicename=Renamed&pass=new") == share_error(
        600,
        "The network share is bound and cannot be modified. Use /axis-cgi/disks/networkshare/unbind.cgi to "
        "unbind the share.",
    )
    assert await params(client, "NetworkShare") == before
    assert await share_cgi(client, "modify", "shareid=nas1&nicename=Renamed") == share_reply(GENERAL_SUCCESS)
    assert await params(client, "NetworkShare.N0.Name") == "NetworkShare.N0.Name=Renamed\n"
    root = etree.fromstring((await listed_shares(client)).encode())
    assert root.find("ListSuccess/NetworkShares/NetworkShare").get("NiceName") == "Renamed"
    assert (await disk(client))["status"] == "OK"


async def test_unbound_share_can_be_modified(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: modify.cgi on an unbound share."""
    client = await speaker_with_share(device_client)
    reply = await share_cgi(client, "modify", "shareid=nas1&address=10.1.2.3&share=other&user=u2&pass=pw2")
    assert reply == share_reply(GENERAL_SUCCESS)
    assert await params(client, "NetworkShare") == (
        "NetworkShare.N0.Address=10.1.2.3\nNetworkShare.N0.Name=Rec NAS\nNetworkShare.N0.Password=******\n"
        "NetworkShare.N0.Port=0\nNetworkShare.N0.Share=other\nNetworkShare.N0.ShareId=nas1\n"
        "NetworkShare.N0.Username=u2\n"
    )


async def test_unmount_unbind_remove_clears_the_share(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: unmount with the Disk management API, then unbind.cgi
    and remove.cgi answer GeneralSuccess and the settings are gone."""
    client = await speaker_with_bound_share(device_client)
    await unmount(client, "NetworkShare")
    assert (await disk(client))["status"] == "connected"
    assert await share_cgi(client, "unbind", "shareid=nas1") == share_reply(GENERAL_SUCCESS)
    assert (await disk(client))["status"] == "disconnected"
    assert await share_cgi(client, "remove", "shareid=nas1") == share_reply(GENERAL_SUCCESS)
    assert await listed_shares(client) == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="0"></NetworkShares></ListSuccess>'
    )
    assert await params(client, "NetworkShare") == (
        "NetworkShare.N0.Address=\nNetworkShare.N0.Name=\nNetworkShare.N0.Password=\nNetworkShare.N0.Port=0\n"
        "NetworkShare.N0.Share=\nNetworkShare.N0.ShareId=\nNetworkShare.N0.Username=\n"
    )
    assert await params(client, "DiskManagement.S0.Bound") == "DiskManagement.S0.Bound=no\n"


# -- network share: test.cgi and job.cgi ----------------------------------------------------


async def test_connection_test_job_progresses_then_succeeds(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: test.cgi answers TestSuccess JobId; job.cgi shows
    <Progress> until the test ends, then GeneralSuccess."""
    client = await speaker_with_share(device_client)
    reply = await share_cgi(client, "test")
    job_id = etree.fromstring(reply.encode()).find("TestSuccess").get("JobId")
    assert reply == share_reply(f'<TestSuccess JobId="{job_id}" />')
    # the simulated clock runs with real time too: allow for the milliseconds the test itself takes
    assert 0 <= await progress(client, job_id) < 10
    client.device.clock.advance(1.5)
    assert 50 <= await progress(client, job_id) < 60
    client.device.clock.advance(1.5)
    assert await share_cgi(client, "job", f"jobid={job_id}") == share_reply(
        "<JobSuccess><GeneralSuccess /></JobSuccess>"
    )


@pytest.mark.parametrize(
    "nas, code, text",
    [
        ({"outcome": "no_such_host"}, 700, "No such hostname."),
        ({"outcome": "mount_error"}, 710, "Error while mounting network share."),
        ({"outcome": "write_error"}, 740, "Problem writing to the share."),
        ({"outcome": "read_error"}, 750, "Problem reading data written to the share."),
        ({"outcome": "connect_error"}, 760, "Problem connecting to the share."),
        ({"required_password": "the-right-one"}, 710, "Error while mounting network share."),
    ],
)
async def test_failed_connection_test_reports_the_documented_code(
    device_client: DeviceClientFactory, nas: dict[str, str], code: int, text: str
) -> None:
    """VAPIX edge storage API, Network share: job.cgi of a failed test answers JobSuccess with a
    GeneralError of code 700-760 (a wrong stored password fails to mount: 710)."""
    client = await speaker_with_share(device_client)  # stored password: s3cret
    storage_of(client).set_nas(**nas)  # type: ignore[arg-type]
    job_id = etree.fromstring((await share_cgi(client, "test")).encode()).find("TestSuccess").get("JobId")
    client.device.clock.advance(3)
    assert await share_cgi(client, "job", f"jobid={job_id}") == share_reply(
        f"<JobSuccess><GeneralError><ErrorCode>{code}</ErrorCode><ErrorDescription>{text}</ErrorDescription>"
        "</GeneralError></JobSuccess>"
    )


async def test_connection_test_with_the_right_overriding_password_succeeds(
    device_client: DeviceClientFactory,
) -> None:
    """VAPIX edge storage API, Network share: test.cgi arguments override the stored settings."""
    client = await speaker_with_share(device_client, required_password="right")
    job_id = etree.fromstring((await share_cgi(client, "test", "pass=right")).encode()).find("TestSuccess").get("JobId")
    client.device.clock.advance(3)
    assert await share_cgi(client, "job", f"jobid={job_id}") == share_reply(
        "<JobSuccess><GeneralSuccess /></JobSuccess>"
    )


async def test_too_many_connection_tests_answer_730(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: error 730."""
    client = await speaker_with_share(device_client)
    for _ in range(2):
        assert "<TestSuccess JobId=" in await share_cgi(client, "test")
    assert await share_cgi(client, "test") == share_error(
        730, "Too many tests or jobs started, wait for some to finish."
    )
    client.device.clock.advance(3)
    assert "<TestSuccess JobId=" in await share_cgi(client, "test")


# -- network share: the Python API ("Add network storage") ----------------------------------


def test_add_share_tests_the_connection_unless_told_not_to() -> None:
    """VAPIX edge storage API, Network share (codes 700-760) and the manual's "Add share without
    testing"; the SMB version is Storage.S0.ExtraMountOptions."""
    device = make_device(SPEAKER)
    storage = device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    storage.set_nas(outcome="connect_error")
    with pytest.raises(StorageError) as refused:
        storage.add_share("nas.example.com", "rec", "cam", "pw", nicename="NAS", smb_version="3.0")
    assert (refused.value.reason, refused.value.message) == ("test_760", "Problem connecting to the share.")
    assert storage.share() is None
    assert device.params.value("NetworkShare.N0.ShareId") == ""
    share_id = storage.add_share(
        "nas.example.com", "rec", "cam", "pw", nicename="NAS", smb_version="3.0", share_id="n1", test=False
    )
    assert share_id == "n1"
    assert storage.share() == {
        "ShareId": "n1", "Name": "NAS", "Address": "nas.example.com", "Share": "rec", "Username": "cam",
    }  # fmt: skip
    assert device.params.value("NetworkShare.N0.Password") == "pw"
    assert device.params.value("Storage.S0.ExtraMountOptions") == "vers=3.0"
    assert storage.smb_version() == "3.0"


def test_auto_smb_version_stores_no_mount_option() -> None:
    """VAPIX edge storage API, Storage.S#.ExtraMountOptions: "Auto" negotiates, no vers= option."""
    device = make_device(SPEAKER)
    storage = device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    storage.add_share("nas", "rec", nicename="NAS", smb_version="2.1", share_id="n1")
    assert device.params.value("Storage.S0.ExtraMountOptions") == "vers=2.1"
    storage.remove_share("n1")
    assert device.params.value("Storage.S0.ExtraMountOptions") == ""
    storage.add_share("nas", "rec", nicename="NAS", smb_version="Auto", share_id="n2")
    assert device.params.value("Storage.S0.ExtraMountOptions") == ""
    assert storage.smb_version() == "Auto"
    storage.remove_share("n2")
    with pytest.raises(StorageError) as refused:
        storage.add_share("nas", "rec", nicename="NAS", smb_version="4.0", share_id="n3")
    assert refused.value.reason == "invalid"
    assert storage.share() is None


def test_nas_too_old_for_the_smb_version_refuses_the_tested_add() -> None:
    """VAPIX edge storage API, Network share: a mount that fails is 710."""
    device = make_device(SPEAKER)
    storage = device.subsystems["storage"]
    assert isinstance(storage, StorageSubsystem)
    storage.set_nas(min_smb="3.0")
    with pytest.raises(StorageError) as refused:
        storage.add_share("nas", "rec", nicename="NAS", smb_version="2.0")
    assert refused.value.reason == "test_710"
    assert storage.add_share("nas", "rec", nicename="NAS", smb_version="Auto", share_id="n1") == "n1"


async def test_share_on_an_unreachable_nas_does_not_mount(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share (700 No such hostname) and Disk management mount.cgi:
    a share whose server does not answer cannot be mounted."""
    client = await speaker_with_share(device_client, outcome="no_such_host")
    assert await share_cgi(client, "bind", "shareid=nas1") == share_reply('<BindSuccess DiskID="NetworkShare" />')
    client.device.clock.advance(3)
    assert (await disk(client))["status"] == "connected"


async def test_nas_that_stops_answering_unmounts_the_share(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, disk status: a share that cannot be reached is no longer mounted."""
    client = await speaker_with_bound_share(device_client)
    storage_of(client).set_nas(outcome="connect_error")
    assert ((await disk(client))["status"], (await disk(client))["totalsize"]) == ("connected", "0")


# -- network share: Ignore network storage, write protect ------------------------------------


async def test_ignore_network_storage_unmounts_and_mounts_again(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Storage.S#.Enabled (the manual's "Ignore network storage")."""
    client = await speaker_with_bound_share(device_client)
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&Storage.S0.Enabled=no") == "OK"
    listed = await disk(client)
    assert (listed["status"], listed["totalsize"]) == ("connected", "0")
    assert await params(client, "DiskManagement.S0.Mounted") == "DiskManagement.S0.Mounted=no\n"
    assert await client.text("GET", "/axis-cgi/param.cgi?action=update&Storage.S0.Enabled=yes") == "OK"
    listed = await disk(client)
    assert (listed["status"], listed["totalsize"]) == ("OK", str(2 * 10**12 // 1024))


async def test_write_protected_share_cannot_be_formatted(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, lock.cgi: "A locked disk cannot be formatted or written to";
    format.cgi filesystem=cifs removes the recordings once unlocked."""
    client = await speaker_with_bound_share(device_client)
    storage = storage_of(client)
    storage.add_recording(10**6)
    storage.add_recording(10**6)
    assert await xml_text(client, "/axis-cgi/disks/lock.cgi?action=lock&diskid=NetworkShare") == (
        '<?xml version="1.0"?>\n<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.axis.com/vapix/http_cgi/disk/lock1.xsd">\n'
        '<lock diskid="NetworkShare" result="OK" />\n</root>\n'
    )
    assert await params(client, "Storage.S0.Locked") == "Storage.S0.Locked=yes\n"
    assert (await disk(client))["locked"] == "yes"
    refused = await job_started(client, "/axis-cgi/disks/format.cgi?diskid=NetworkShare&filesystem=cifs")
    assert refused == {
        "action": "format", "diskid": "NetworkShare", "result": "ERROR", "description": "The disk is write protected",
    }  # fmt: skip
    assert len(storage.disk.recordings) == 2
    await xml_text(client, "/axis-cgi/disks/lock.cgi?action=unlock&diskid=NetworkShare")
    assert await params(client, "Storage.S0.Locked") == "Storage.S0.Locked=no\n"
    started = await job_started(client, "/axis-cgi/disks/format.cgi?diskid=NetworkShare&filesystem=cifs")
    assert started["result"] == "OK" and "jobid" in started
    client.device.clock.advance(20)
    assert storage.disk.recordings == []
    assert await params(client, "DiskManagement.S0.Recordings") == "DiskManagement.S0.Recordings=0\n"
    listed = await disk(client)
    assert (listed["status"], listed["filesystem"], listed["freesize"]) == ("OK", "cifs", listed["totalsize"])


# -- models and roles --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "add", "remove", "modify", "bind", "unbind", "test", "job", "schemaversions"])
async def test_recorder_has_no_network_share_api(device_client: DeviceClientFactory, name: str) -> None:
    """VAPIX edge storage API, Network share: only products with a share (the speaker) answer."""
    client = await device_client(RECORDER)
    response = await client.get(f"{SHARE_API}/{name}.cgi?schemaversion=1&shareid=all")
    assert response.status == 404


async def test_speaker_share_cannot_be_encrypted(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: error 100 "The disk does not support disk encryption."."""
    client = await device_client(SPEAKER)
    for name, query in [
        ("enablediskencryption", "passphrase=abc"),
        ("disablediskencryption", ""),
        ("changediskpassphrase", "oldpassphrase=a&newpassphrase=b"),
    ]:
        assert await prop_cgi(client, name, query, diskid="NetworkShare") == property_error(100), name
    assert await prop_cgi(client, "setrequiredfs", "filesystem=ext4", diskid="NetworkShare") == property_error(30)


async def test_share_schema_versions(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share: schemaversions.cgi, not wrapped in <Success>."""
    client = await device_client(SPEAKER)
    assert await xml_text(client, f"{SHARE_API}/schemaversions.cgi") == share_reply(
        "<SchemaVersionsSuccess><SchemaVersion><VersionNumber>1.0</VersionNumber>"
        "<Deprecated>false</Deprecated></SchemaVersion></SchemaVersionsSuccess>"
    )


async def test_operator_lists_and_binds_but_only_administrators_add(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Network share security levels: list/bind Admin+Operator, add Admin."""
    client = await device_client(SPEAKER, accounts=[DEFAULT_ACCOUNT, AccountSpec("op", "pw", "operator")])
    operator = ("op", "pw")
    added = await client.get(f"{SHARE_API}/add.cgi?schemaversion=1&{NAS_QUERY}", auth=operator)
    assert added.status == 401
    assert storage_of(client).share() is None
    assert await share_cgi(client, "list", "shareid=all", auth=operator) == share_reply(
        '<ListSuccess><NetworkShares NumberOfShares="0"></NetworkShares></ListSuccess>'
    )
    assert await share_cgi(client, "add", NAS_QUERY) == share_reply('<AddSuccess ShareId="nas1" />')
    assert 'NumberOfShares="1"' in await share_cgi(client, "list", "shareid=all", auth=operator)
    removed = await client.get(f"{SHARE_API}/remove.cgi?schemaversion=1&shareid=nas1", auth=operator)
    assert removed.status == 401
    bound = await share_cgi(client, "bind", "shareid=nas1", auth=operator)
    assert bound == share_reply('<BindSuccess DiskID="NetworkShare" />')


# -- disk properties: encryption (S3008) ---------------------------------------------------


async def test_enable_encryption_needs_an_unmounted_disk_then_format_encrypts(
    device_client: DeviceClientFactory,
) -> None:
    """VAPIX edge storage API, Disk properties: enable only when unmounted (160); the disk is "not
    encrypted" until formatted; 140 when already enabled; formatted and mounted it is encrypted."""
    client = await device_client(RECORDER)
    assert await prop_cgi(client, "enablediskencryption", "passphrase=abc") == property_error(160)
    await unmount(client, "HDD_DISK")
    assert (await disk(client))["status"] == "connected"
    assert await prop_cgi(client, "enablediskencryption", f"passphrase={PASSPHRASE}") == PROPERTIES_SUCCESS
    listed = await disk(client)
    assert (listed["encryptionenabled"], listed["diskencrypted"], listed["status"]) == (
        "true", "false", "not encrypted",
    )  # fmt: skip
    assert await prop_cgi(client, "enablediskencryption", "passphrase=again") == property_error(140)
    job = await job_started(client, "/axis-cgi/disks/format.cgi?diskid=HDD_DISK")
    assert job["result"] == "OK"
    client.device.clock.advance(20)
    await mount(client, "HDD_DISK")
    listed = await disk(client)
    assert (listed["encryptionenabled"], listed["diskencrypted"], listed["status"]) == ("true", "true", "OK")
    assert await params(client, "DiskManagement.S0.Encrypted") == "DiskManagement.S0.Encrypted=yes\n"


async def test_not_encrypted_disk_cannot_be_mounted_before_format(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, disk status "not encrypted": "Format and mount the disk before use"."""
    client = await device_client(RECORDER)
    await unmount(client, "HDD_DISK")
    await prop_cgi(client, "enablediskencryption", f"passphrase={PASSPHRASE}")
    job = await job_started(client, "/axis-cgi/disks/mount.cgi?action=mount&diskid=HDD_DISK")
    assert job["result"] == "ERROR"
    assert (await disk(client))["status"] == "not encrypted"


@pytest.mark.parametrize(
    "query, code",
    [
        ("passphrase=", 110),
        (f"passphrase={'x' * 513}", 110),
        ("", 20),
    ],
)
async def test_enable_encryption_refuses_a_bad_passphrase(
    device_client: DeviceClientFactory, query: str, code: int
) -> None:
    """VAPIX edge storage API, Disk properties: 110 "Invalid passphrase." (empty or over 512 bytes);
    a missing required passphrase is 20 "Invalid request."."""
    client = await device_client(RECORDER)
    await unmount(client, "HDD_DISK")
    assert await prop_cgi(client, "enablediskencryption", query) == property_error(code)
    listed = await disk(client)
    assert (listed["encryptionenabled"], listed["status"]) == ("false", "connected")


async def test_passphrase_of_512_bytes_is_accepted(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: passphrase "max 512 bytes"."""
    client = await device_client(RECORDER)
    await unmount(client, "HDD_DISK")
    assert await prop_cgi(client, "enablediskencryption", f"passphrase={'x' * 512}") == PROPERTIES_SUCCESS


async def test_change_passphrase_needs_the_mounted_disk_and_the_old_passphrase(
    device_client: DeviceClientFactory,
) -> None:
    """VAPIX edge storage API, Disk properties: changediskpassphrase 150 when unmounted, 130 for a
    wrong old passphrase, 120 for an invalid new one; "Changing it does not disrupt ongoing recordings"."""
    client = await encrypted_recorder(device_client)
    storage = storage_of(client)
    storage.add_recording(10**6)
    await unmount(client, "HDD_DISK")
    query = f"oldpassphrase={PASSPHRASE}&newpassphrase=second-secret"
    assert await prop_cgi(client, "changediskpassphrase", query) == property_error(150)
    await mount(client, "HDD_DISK")
    wrong = "oldpassphrase=not-it&newpassphrase=second-secret"
    assert await prop_cgi(client, "changediskpassphrase", wrong) == property_error(130)
    empty_new = f"oldpassphrase={PASSPHRASE}&newpassphrase="
    assert await prop_cgi(client, "changediskpassphrase", empty_new) == property_error(120)
    assert await prop_cgi(client, "changediskpassphrase", f"oldpassphrase={PASSPHRASE}") == property_error(20)
    assert passphrase_matches(PASSPHRASE, storage.disk.encrypted_with or "")
    assert await prop_cgi(client, "changediskpassphrase", query) == PROPERTIES_SUCCESS
    assert passphrase_matches("second-secret", storage.disk.encrypted_with or "")
    assert await params(client, "DiskManagement.S0.Recordings") == "DiskManagement.S0.Recordings=1\n"
    assert (await disk(client))["status"] == "OK"


async def test_disable_encryption_needs_an_unmounted_disk(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: disablediskencryption 160 while mounted; an encrypted
    disk with encryption disabled is "no passphrase"."""
    client = await encrypted_recorder(device_client)
    assert await prop_cgi(client, "disablediskencryption") == property_error(160)
    assert (await disk(client))["encryptionenabled"] == "true"
    await unmount(client, "HDD_DISK")
    assert await prop_cgi(client, "disablediskencryption") == PROPERTIES_SUCCESS
    listed = await disk(client)
    assert (listed["encryptionenabled"], listed["diskencrypted"], listed["status"]) == (
        "false", "true", "no passphrase",
    )  # fmt: skip


# -- disk properties: required file system, retention, alert levels ---------------------------


async def test_required_file_system_is_ext4_or_none(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: setrequiredfs filesystem none|ext4, else 30."""
    client = await device_client(RECORDER)
    assert await prop_cgi(client, "setrequiredfs", "filesystem=vfat") == property_error(30)
    assert await params(client, "Storage.S0.RequiredFileSystem") == "Storage.S0.RequiredFileSystem=none\n"
    assert await prop_cgi(client, "setrequiredfs", "filesystem=ext4") == PROPERTIES_SUCCESS
    assert await params(client, "Storage.S0.RequiredFileSystem") == "Storage.S0.RequiredFileSystem=ext4\n"
    assert (await disk(client))["requiredfilesystem"] == "ext4"
    assert await prop_cgi(client, "setrequiredfs", "filesystem=none") == PROPERTIES_SUCCESS
    assert (await disk(client))["requiredfilesystem"] == "none"


async def test_cleanup_max_age_and_policy(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: maxage 0-7000 days, cleanuppolicy fifo|none."""
    client = await device_client(RECORDER)
    assert await prop_cgi(client, "setcleanupmaxage", "maxage=8000") == property_error(20)
    assert await prop_cgi(client, "setcleanupmaxage", "maxage=-1") == property_error(20)
    assert await prop_cgi(client, "setcleanupmaxage") == property_error(20)
    assert await params(client, "Storage.S0.CleanupMaxAge") == "Storage.S0.CleanupMaxAge=7000\n"
    assert await prop_cgi(client, "setcleanupmaxage", "maxage=30") == PROPERTIES_SUCCESS
    assert await params(client, "Storage.S0.CleanupMaxAge") == "Storage.S0.CleanupMaxAge=30\n"
    assert (await disk(client))["cleanupmaxage"] == "30"
    assert await prop_cgi(client, "setcleanuppolicy", "cleanuppolicy=bogus") == property_error(20)
    assert (await disk(client))["cleanuppolicy"] == "fifo"
    assert await prop_cgi(client, "setcleanuppolicy", "cleanuppolicy=none") == PROPERTIES_SUCCESS
    assert await params(client, "Storage.S0.CleanupPolicyActive") == "Storage.S0.CleanupPolicyActive=none\n"
    assert (await disk(client))["cleanuppolicy"] == "none"


async def test_max_age_removes_older_recordings(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Storage.S#.CleanupMaxAge: recordings older than maxage days go."""
    client = await device_client(RECORDER)
    storage = storage_of(client)
    storage.add_recording(10**6, age_days=40)
    storage.add_recording(10**6, age_days=1)
    assert await prop_cgi(client, "setcleanupmaxage", "maxage=30") == PROPERTIES_SUCCESS
    assert len(storage.disk.recordings) == 1


@pytest.mark.parametrize(
    "path, code",
    [
        ("enablediskencryption.cgi?schemaversion=1&diskid=SD_DISK&passphrase=abc", 50),
        ("setcleanupmaxage.cgi?schemaversion=1&diskid=NetworkShare&maxage=3", 50),
        ("getdiskalertlevels.cgi?schemaversion=1&diskid=other", 50),
        ("getdiskalertlevels.cgi?schemaversion=1", 20),
        ("setcleanupmaxage.cgi?diskid=HDD_DISK&maxage=3", 20),
        ("getdiskalertlevels.cgi?diskid=HDD_DISK", 20),
        ("setcleanupmaxage.cgi?schemaversion=2&diskid=HDD_DISK&maxage=3", 40),
        ("setcleanupmaxage.cgi?schemaversion=one&diskid=HDD_DISK&maxage=3", 20),
    ],
)
async def test_property_request_errors(device_client: DeviceClientFactory, path: str, code: int) -> None:
    """VAPIX edge storage API, Disk properties: 50 Invalid disk ID, 20 Invalid request, 40 version."""
    client = await device_client(RECORDER)
    before = await params(client, "Storage.S0")
    assert await xml_text(client, f"{PROPERTIES_API}/{path}") == property_error(code)
    assert await params(client, "Storage.S0") == before


async def test_alert_levels_answer_schema_1_1(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: getdiskalertlevels answers AlertLevels, SchemaVersion 1.1."""
    client = await device_client(RECORDER)
    expected = (
        f"{PROPERTIES_HEAD.format(version='1.1')}    <Success>\n        <GetAlertLevelsSuccess>\n"
        '            <AlertLevels Wear="50" Temperature="333"/>\n'
        "        </GetAlertLevelsSuccess>\n    </Success>\n</DiskPropertiesResponse>\n"
    )
    assert await prop_cgi(client, "getdiskalertlevels") == expected
    assert await prop_cgi(client, "setdiskalertlevels", "wear=80&temperature=340") == PROPERTIES_SUCCESS
    assert await prop_cgi(client, "getdiskalertlevels") == expected.replace('"50"', '"80"').replace('"333"', '"340"')
    assert await prop_cgi(client, "setdiskalertlevels", "temperature=hot") == property_error(20)


async def test_property_schema_versions(device_client: DeviceClientFactory) -> None:
    """VAPIX edge storage API, Disk properties: schemaversions.cgi."""
    client = await device_client(RECORDER)
    root = etree.fromstring((await xml_text(client, f"{PROPERTIES_API}/schemaversions.cgi")).encode())
    ns = {"p": "http://www.axis.com/vapix/http_cgi/disks/properties1"}
    assert root.findtext("p:Success/p:SchemaVersionsSuccess/p:SchemaVersion/p:VersionNumber", namespaces=ns) == "1.1"
    assert root.findtext("p:Success/p:SchemaVersionsSuccess/p:SchemaVersion/p:Deprecated", namespaces=ns) == "false"


# -- a factory default forgets the passphrase, not the disk --------------------------------


async def test_hard_factory_default_forgets_the_passphrase_and_keeps_the_recordings(
    device_client: DeviceClientFactory,
) -> None:
    """VAPIX edge storage API, disk status "no passphrase" / "wrong passphrase"; the manual's hard
    reset keeps the encrypted disk, which opens again with its passphrase."""
    client = await encrypted_recorder(device_client)
    storage = storage_of(client)
    storage.add_recording(10**6)
    storage.add_recording(2 * 10**6)
    client.device.restart(RestartKind.HARD)
    created = await client.get(
        "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=pass&grp=root&sgrp=admin:operator:viewer:ptz", auth=None
    )
    assert "Created account root." in await created.text()
    listed = await disk(client)
    assert (listed["status"], listed["encryptionenabled"], listed["diskencrypted"]) == (
        "no passphrase", "false", "true",
    )  # fmt: skip
    assert len(storage.disk.recordings) == 2
    assert await params(client, "DiskManagement.S0.Recordings") == "DiskManagement.S0.Recordings=2\n"
    assert await prop_cgi(client, "enablediskencryption", "passphrase=not-the-one") == PROPERTIES_SUCCESS
    assert (await disk(client))["status"] == "wrong passphrase"
    refused = await job_started(client, "/axis-cgi/disks/mount.cgi?action=mount&diskid=HDD_DISK")
    assert refused["result"] == "ERROR"
    storage.mount(passphrase=PASSPHRASE)
    client.device.clock.advance(2)
    listed = await disk(client)
    assert (listed["status"], listed["encryptionenabled"], listed["diskencrypted"]) == ("OK", "true", "true")
    assert [r.size for r in storage.disk.recordings] == [10**6, 2 * 10**6]


async def test_factory_defaulted_encrypted_disk_opens_with_the_right_passphrase_over_the_api(
    device_client: DeviceClientFactory,
) -> None:
    """VAPIX edge storage API, Disk properties: enablediskencryption with the disk's passphrase, then
    mount.cgi, opens it without a format."""
    client = await encrypted_recorder(device_client)
    storage_of(client).add_recording(10**6)
    client.device.restart(RestartKind.HARD)
    await client.get(
        "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=pass&grp=root&sgrp=admin:operator:viewer:ptz", auth=None
    )
    assert await prop_cgi(client, "enablediskencryption", f"passphrase={PASSPHRASE}") == PROPERTIES_SUCCESS
    assert (await disk(client))["status"] == "connected"
    await mount(client, "HDD_DISK")
    assert (await disk(client))["status"] == "OK"
    assert len(storage_of(client).disk.recordings) == 1
