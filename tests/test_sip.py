"""SIP on the AXIS C1410 Mk II: settings, accounts, DTMF and calls, through param.cgi (`SIP.*`)
and the call service (`/vapix/call`, vapix-wire.md §6.3; research notes callservice.md).

Citations: "manual" is the C1410 Mk II user manual ("Set up direct SIP (P2P)", "Stop audio
with DTMF", "Set up audio for incoming SIP calls", the web interface's "SIP" section); "API"
is the Call service API as summarised in callservice.md. Time is the device's SimClock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from axisim.device import DEFAULT_ACCOUNT, AccountSpec, Actor, Device, make_device
from axisim.events import Event
from axisim.lifecycle import RestartKind
from axisim.persistence import StateDir
from axisim.subsystems.sip import SipSubsystem
from axisim.subsystems.sip.params import ACCOUNTS
from cgi_handlers import call_service
from tests.conftest import ROOT, DeviceClient, DeviceClientFactory

SPEAKER = "C1410MkII"
IP = "192.168.0.90"  # the API's examples: sip:192.168.0.90:5060
PARAM = "/axis-cgi/param.cgi"
CALL = "/vapix/call"
ADMIN = Actor("root", "127.0.0.1")
P2P = "peer-to-peer"  # API: "A default account with identifier peer-to-peer is created automatically"
PEER = "sip:192.168.0.91"
REMOTE = "sip:6002@example.axis.com"

# API §1.4: faults are Fault / FaultCode / FaultSubCode, HTTP 400
NOT_FOUND = ("env:Sender", "ter:InvalidArgVal", "ter:NotFound")
INVALID = ("env:Sender", "ter:InvalidArgVal", "ter:InvalidArgVal")
MISSING = ("env:Sender", "ter:InvalidArgs", None)
FAILURE = ("env:Receiver", "ter:Action", "ter:Failure")
UNKNOWN = ("env:Sender", "ter:ActionNotSupported", None)

# the API's "Add a registered account" example
REGISTERED = {"UserId": "6001", "Password": "secure", "Registrar": "192.168.0.1", "PublicDomain": "example.axis.com"}


# -- helpers -------------------------------------------------------------------------------


async def axcall(
    client: DeviceClient,
    command: str,
    message: dict[str, Any] | None = None,
    *,
    status: int = 200,
    auth: tuple[str, str] = ROOT,
) -> dict[str, Any]:
    """POST `{"axcall:<command>": message}` and return the JSON reply."""
    response = await client.post(CALL, data=json.dumps({f"axcall:{command}": message or {}}), auth=auth)
    text = await response.text()
    assert response.status == status, (command, response.status, text)
    return json.loads(text)


async def simple(client: DeviceClient, command: str, query: str = "", *, status: int = 200) -> dict[str, str]:
    """The simplified key-value format: one `key=value` per line."""
    path = f"{CALL}?format=simple&action=axcall:{command}" + (f"&{query}" if query else "")
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, (command, response.status, text)
    return dict(line.split("=", 1) for line in text.splitlines())


def fault(body: dict[str, Any], triple: tuple[str, str, str | None]) -> None:
    assert (body["Fault"], body["FaultCode"], body["FaultSubCode"]) == triple, body
    assert body["FaultReason"] and body["FaultMsg"] is None


async def listed(client: DeviceClient, group: str = "SIP") -> dict[str, str]:
    text = await client.text("GET", f"{PARAM}?action=list&group={group}")
    return dict(line.split("=", 1) for line in text.splitlines() if line)


async def update(client: DeviceClient, query: str) -> str:
    return await client.text("GET", f"{PARAM}?action=update&{query}")


def pick(found: dict[str, Any], *names: str, prefix: str = "") -> list[Any]:
    return [found[prefix + name] for name in names]


def error_setting(name: str, value: str) -> str:
    return f"# Error: Error setting 'root.{name}' to '{value}'!\n"  # vapix-wire.md §1.2


def sip_of(device: Device) -> SipSubsystem:
    sip = device.subsystems["sip"]
    assert isinstance(sip, SipSubsystem)
    return sip


def run(device: Device, command: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
    """A call-service command straight through the Python API (for devices with no HTTP)."""
    return call_service.command(sip_of(device), command, message or {}, ADMIN)


async def speaker(
    device_client: DeviceClientFactory, *, enabled: bool = True, incoming: bool = False, **options: Any
) -> DeviceClient:
    client = await device_client(SPEAKER, ip=IP, **options)
    config = {"SIPEnabled": enabled, "AllowIncomingCalls": incoming}
    assert await axcall(client, "SetSIPConfiguration", {"SIPConfiguration": config}) == {}
    return client


async def set_config(client: DeviceClient, **config: Any) -> None:
    assert await axcall(client, "SetSIPConfiguration", {"SIPConfiguration": config}) == {}


def attributes(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in pairs]


async def accounts(client: DeviceClient) -> dict[str, dict[str, Any]]:
    return {a["Id"]: a for a in (await axcall(client, "GetSIPAccounts"))["SIPAccount"]}


async def add_account(client: DeviceClient, **fields: Any) -> str:
    return (await axcall(client, "SetSIPAccount", {"SIPAccount": fields}))["SIPAccountId"]


async def status(client: DeviceClient, call_id: str) -> dict[str, Any]:
    return (await axcall(client, "GetCallStatus", {"CallId": call_id}))["CallStatus"]


async def state(client: DeviceClient, call_id: str) -> tuple[str, str]:
    found = await status(client, call_id)
    return found["CallState"], found["CallStateReason"]


async def call(client: DeviceClient, to: str = REMOTE, **extra: Any) -> str:
    return (await axcall(client, "Call", {"To": to, **extra}))["CallId"]


def duration(client: DeviceClient, call_id: str, since: str = "started") -> float:
    found = sip_of(client.device).calls[call_id]
    assert found.stopped is not None
    return found.stopped - getattr(found, since)


# -- 1. defaults and limits through param.cgi ----------------------------------------------


async def test_param_cgi_lists_the_manuals_defaults(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    settings = await listed(client)
    assert settings["SIP.Enabled"] == "no"  # API: SIPEnabled default false; manual: "select Enable SIP"
    assert settings["SIP.AllowIncomingCalls"] == "no"  # API: AllowIncomingCalls default false
    assert settings["SIP.Port"] == "5060"  # manual: "The default port number is 5060"
    assert settings["SIP.TLSPort"] == "5061"  # "... is 5061"
    assert settings["SIP.RTPStartPort"] == "4000"  # "The default start port number is 4000"
    assert settings["SIP.CallingTimeout"] == "60"  # API: CallingTimeout default 60
    assert settings["SIP.IncomingCallDuration"] == "600"  # manual: max 10 min
    assert settings["SIP.MaxCallDuration"] == "3600"  # manual: "End calls after ... max 60 minutes"
    assert settings["SIP.DTMFPayloadType"] == "101"
    assert settings["SIP.Account.A0.Id"] == P2P and settings["SIP.Account.A0.IsDefault"] == "yes"


@pytest.mark.parametrize(
    "name, default, accepted, refused",
    [
        # manual, Ports: "A port number must be between 1024 and 65535"
        ("SIP.Port", "5060", ["1024", "65535"], ["1023", "65536", "abc"]),
        ("SIP.TLSPort", "5061", ["1024", "65535"], ["1023", "65536"]),
        ("SIP.RTPStartPort", "4000", ["1024", "65535"], ["1023", "65536"]),
        ("SIP.IncomingCallDuration", "600", ["1", "600"], ["601"]),  # manual: "(max 10 min)"
        ("SIP.MaxCallDuration", "3600", ["0", "3600"], ["3601"]),  # "max 60 minutes"; Infinite call duration = 0
        ("SIP.CallingTimeout", "60", ["1", "600"], ["601", "0"]),  # API: "Default 60, maximum 600"
        ("SIP.DTMFPayloadType", "101", ["96", "127"], ["95", "128"]),  # RTP's dynamic payload types
    ],
)  # fmt: skip
async def test_param_cgi_limits(
    device_client: DeviceClientFactory, name: str, default: str, accepted: list[str], refused: list[str]
) -> None:
    client = await device_client(SPEAKER)
    for value in refused:
        assert await update(client, f"{name}={value}") == error_setting(name, value)
        assert (await listed(client, name))[name] == default  # state unchanged
    for value in accepted:
        assert await update(client, f"{name}={value}") == "OK"
        assert (await listed(client, name))[name] == value


async def test_sip_port_cannot_equal_the_tls_port(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert await update(client, "SIP.Port=5061") == error_setting("SIP.Port", "5061")
    assert await update(client, "SIP.TLSPort=5060") == error_setting("SIP.TLSPort", "5060")
    assert await update(client, "SIP.Port=5061&SIP.TLSPort=5060") == "OK"  # swapped in one request
    settings = await listed(client)
    assert (settings["SIP.Port"], settings["SIP.TLSPort"]) == ("5061", "5060")


async def test_audio_codecs_need_at_least_one_supported_codec(device_client: DeviceClientFactory) -> None:
    """Manual, Audio: "Select at least one audio codec"."""
    client = await device_client(SPEAKER)
    default = (await listed(client, "SIP.AudioCodecs"))["SIP.AudioCodecs"]
    for value in ("", "speex/8000", "PCMU/44100"):
        assert await update(client, f"SIP.AudioCodecs={value}") == error_setting("SIP.AudioCodecs", value)
        assert (await listed(client, "SIP.AudioCodecs"))["SIP.AudioCodecs"] == default
    assert await update(client, "SIP.AudioCodecs=PCMU/8000,G.722/16000") == "OK"
    codecs = await axcall(client, "GetAudioCodecs")
    assert codecs == {"AudioCodec": [{"Name": "PCMU", "SampleRate": 8000}, {"Name": "G.722", "SampleRate": 16000}]}


# -- 2. the same state through the call service ---------------------------------------------


async def test_get_configuration_follows_param_cgi(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    defaults = (await axcall(client, "GetSIPConfiguration"))["SIPConfiguration"]
    assert {k: defaults[k] for k in ("SIPEnabled", "AllowIncomingCalls", "SIPPort", "SIPTLSPort")} == {
        "SIPEnabled": False,  # the API's factory-default example
        "AllowIncomingCalls": False,
        "SIPPort": 5060,
        "SIPTLSPort": 5061,
    }
    assert (defaults["RTPStartPort"], defaults["CallingTimeout"]) == (4000, 60)
    query = "SIP.Enabled=yes&SIP.AllowIncomingCalls=yes&SIP.Port=5070&SIP.CallingTimeout=30&SIP.MaxCallDuration=0"
    assert await update(client, query) == "OK"
    config = (await axcall(client, "GetSIPConfiguration"))["SIPConfiguration"]
    assert pick(config, "SIPEnabled", "AllowIncomingCalls", "SIPPort", "CallingTimeout") == [True, True, 5070, 30]
    assert {"Name": "MaxCallDuration", "Value": "0"} in config["Attribute"]
    lines = await simple(client, "GetSIPConfiguration")
    assert lines["SIPConfiguration_SIPEnabled"] == "true"
    assert lines["SIPConfiguration_SIPPort"] == "5070"
    assert lines["SIPConfiguration_CallingTimeout"] == "30"
    assert not any(k.startswith("SIPConfiguration_STUNServers") for k in lines)  # API: empty lists left out
    index = next(k.split("_")[2] for k, v in lines.items() if v == '"MaxCallDuration"')
    assert lines[f"SIPConfiguration_Attribute_{index}_Value"] == '"0"'


async def test_set_configuration_shows_in_param_cgi(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await set_config(
        client, SIPEnabled=True, AllowIncomingCalls=True, SIPPort=5080, RTPStartPort=5000, CallingTimeout=90
    )
    settings = await listed(client)
    assert pick(settings, "Enabled", "AllowIncomingCalls", "Port", "RTPStartPort", prefix="SIP.") == [
        "yes", "yes", "5080", "5000"
    ]  # fmt: skip
    assert settings["SIP.CallingTimeout"] == "90" and settings["SIP.TLSPort"] == "5061"  # not sent: kept
    # the simple format sets the same state
    assert await simple(client, "SetSIPConfiguration", "SIPConfiguration_SIPTLSPort=5091") == {}
    assert (await listed(client, "SIP.TLSPort"))["SIP.TLSPort"] == "5091"


async def test_keep_current_false_resets_fields_not_sent(device_client: DeviceClientFactory) -> None:
    """API, SetSIPConfiguration: KeepCurrent true or null keeps fields not sent; false resets them."""
    client = await device_client(SPEAKER)
    await set_config(client, SIPPort=5070, AllowIncomingCalls=True, CallingTimeout=30)
    await set_config(client, SIPEnabled=True)  # KeepCurrent left out: kept
    assert (await listed(client, "SIP.Port"))["SIP.Port"] == "5070"
    message = {"SIPConfiguration": {"SIPEnabled": True}, "KeepCurrent": False}
    assert await axcall(client, "SetSIPConfiguration", message) == {}
    settings = await listed(client)
    assert pick(settings, "Enabled", "Port", "AllowIncomingCalls", "CallingTimeout", prefix="SIP.") == [
        "yes", "5060", "no", "60"
    ]  # fmt: skip


async def test_configuration_attributes_round_trip(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    sent = attributes(("MaxCallDuration", "1800"), ("IncomingCallDuration", "120"), ("DTMFPayloadType", "100"))
    await set_config(client, Attribute=sent)
    settings = await listed(client)
    assert (settings["SIP.MaxCallDuration"], settings["SIP.IncomingCallDuration"]) == ("1800", "120")
    assert settings["SIP.DTMFPayloadType"] == "100"
    shown = (await axcall(client, "GetSIPConfiguration"))["SIPConfiguration"]["Attribute"]
    assert all(item in shown for item in sent)
    refused = await axcall(
        client,
        "SetSIPConfiguration",
        {"SIPConfiguration": {"Attribute": attributes(("MaxCallDuration", "3601"))}},
        status=400,
    )
    fault(refused, INVALID)
    assert (await listed(client, "SIP.MaxCallDuration"))["SIP.MaxCallDuration"] == "1800"


@pytest.mark.parametrize(
    "config",
    [
        {"SIPPort": "abc"},
        {"SIPEnabled": "yes"},
        {"SIPEnabled": True, "SIPPort": "abc"},  # all or nothing: SIPEnabled is not applied either
        {"SIPEnabled": True, "SIPPort": 1023},
        {"SIPEnabled": True, "CallingTimeout": 601},
        {"SIPEnabled": True, "SIPPort": 5061},  # the TLS port
    ],
)
async def test_invalid_configuration_is_refused_and_changes_nothing(
    device_client: DeviceClientFactory, config: dict[str, Any]
) -> None:
    client = await device_client(SPEAKER)
    before = await listed(client)
    fault(await axcall(client, "SetSIPConfiguration", {"SIPConfiguration": config}, status=400), INVALID)
    assert await listed(client) == before


# -- 3. accounts ---------------------------------------------------------------------------


async def test_peer_to_peer_account_exists_and_is_default(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    found = await accounts(client)
    assert list(found) == [P2P]
    assert found[P2P]["IsDefault"] is True and found[P2P]["Registrar"] is None
    account_status = await axcall(client, "GetSIPAccountStatus", {"SIPAccountId": P2P})
    assert account_status == {  # the API's peer-to-peer example
        "SIPAccountStatus": {
            "SIPAccountId": P2P,
            "SIPURI": f"sip:{IP}:5060",
            "IsDefault": True,
            "RegURI": "",
            "Status": 0,
            "StatusText": "Does not register",
        }
    }


async def test_set_account_creates_sip_account_0_and_never_shows_the_password(
    device_client: DeviceClientFactory,
) -> None:
    client = await device_client(SPEAKER)
    reply = await axcall(client, "SetSIPAccount", {"SIPAccount": {"UserId": "6001", "Password": "secure"}})
    assert reply == {"SIPAccountId": "sip_account_0"}  # API: "Add a peer-to-peer account"
    account = (await axcall(client, "GetSIPAccount", {"SIPAccountId": "sip_account_0"}))["SIPAccount"]
    assert account["UserId"] == "6001" and account["Password"] is None
    assert account["IsDefault"] is False  # the peer-to-peer account stays default
    settings = await listed(client, "SIP.Account")
    assert settings["SIP.Account.A1.Id"] == "sip_account_0"
    assert settings["SIP.Account.A1.Password"] == "******"  # masked, like every password parameter
    assert "secure" not in json.dumps(await axcall(client, "GetSIPAccounts"))
    # the simple format: SIPAccount_UserId=..., a reply line per key
    assert await simple(client, "SetSIPAccount", "SIPAccount_UserId=6002&SIPAccount_Password=pw") == {
        "SIPAccountId": '"sip_account_1"'
    }
    lines = await simple(client, "GetSIPAccounts")
    assert lines["SIPAccount_2_Id"] == '"sip_account_1"' and lines["SIPAccount_2_UserId"] == '"6002"'
    assert lines["SIPAccount_2_Password"] == "null"


async def test_exactly_one_default_account(device_client: DeviceClientFactory) -> None:
    """Manual: "There must be a default account, and there can only be one default account."
    API: IsDefault, the last one set wins."""
    client = await device_client(SPEAKER)
    new = await add_account(client, UserId="6001", IsDefault=True)
    found = await accounts(client)
    assert (found[new]["IsDefault"], found[P2P]["IsDefault"]) == (True, False)
    assert await update(client, "SIP.Account.A0.IsDefault=yes") == "OK"  # param.cgi moves it back
    settings = await listed(client, "SIP.Account")
    assert (settings["SIP.Account.A0.IsDefault"], settings["SIP.Account.A1.IsDefault"]) == ("yes", "no")
    # the only default cannot stop being default, by either way in
    refused = await axcall(client, "SetSIPAccount", {"SIPAccount": {"Id": P2P, "IsDefault": False}}, status=400)
    fault(refused, INVALID)
    assert await update(client, "SIP.Account.A0.IsDefault=no") == error_setting("SIP.Account.A0.IsDefault", "no")
    assert [a["IsDefault"] for a in (await accounts(client)).values()] == [True, False]


async def test_default_account_cannot_be_removed_until_another_is_default(
    device_client: DeviceClientFactory,
) -> None:
    """Manual: the peer to peer account "You can delete it if you create at least one other account
    and set that account as default"."""
    client = await device_client(SPEAKER)
    other = await add_account(client, UserId="6001")
    fault(await axcall(client, "RemoveSIPAccount", {"SIPAccountId": P2P}, status=400), FAILURE)
    body = await client.text("GET", f"{PARAM}?action=remove&group=SIP.Account.A0")
    assert body.startswith("# Request failed:")
    assert list(await accounts(client)) == [P2P, other]
    assert await axcall(client, "RemoveSIPAccount", {"SIPAccountId": "no-such-account"}) == {}  # API: ignored
    assert list(await accounts(client)) == [P2P, other]
    await add_account(client, Id=other, IsDefault=True)
    assert await axcall(client, "RemoveSIPAccount", {"SIPAccountId": P2P}) == {}
    found = await accounts(client)
    assert list(found) == [other] and found[other]["IsDefault"] is True


async def test_call_without_account_uses_the_default_one(device_client: DeviceClientFactory) -> None:
    """Manual: "The default account is always used when a VAPIX® ... call is made without specifying
    which SIP account to call from"."""
    client = await speaker(device_client)
    other = await add_account(client, UserId="6001")
    first = await call(client)
    assert (await status(client, first))["SIPAccountId"] == P2P
    await axcall(client, "TerminateCall", {"CallId": first})
    await add_account(client, Id=other, IsDefault=True)
    second = await call(client)
    assert (await status(client, second))["SIPAccountId"] == other
    await axcall(client, "TerminateCall", {"CallId": second})
    named = await call(client, SIPAccountId=P2P)
    assert (await status(client, named))["SIPAccountId"] == P2P


@pytest.mark.parametrize("encryption", ["SRTPMandatory", "SRTPBestEffort"])
async def test_media_encryption_needs_tls(device_client: DeviceClientFactory, encryption: str) -> None:
    """Manual: "Media encryption (only with transport mode TLS)"."""
    client = await device_client(SPEAKER)
    account = {"UserId": "6001", "MediaEncryption": encryption}
    fault(await axcall(client, "SetSIPAccount", {"SIPAccount": account}, status=400), INVALID)
    assert list(await accounts(client)) == [P2P]
    new = await add_account(client, **account, Transport="tls")
    assert (await accounts(client))[new]["MediaEncryption"] == encryption
    assert await update(client, "SIP.Account.A1.Transport=udp") == error_setting("SIP.Account.A1.Transport", "udp")


async def test_sips_forces_tls_transport(device_client: DeviceClientFactory) -> None:
    """Manual: "SIPS uses the TLS transport mode"; API: SIPSEnabled true forces Transport to tls."""
    client = await speaker(device_client)
    new = await add_account(client, UserId="6001", SIPSEnabled=True, Transport="udp")
    assert (await accounts(client))[new]["Transport"] == "tls"
    assert await update(client, "SIP.Account.A0.SIPSEnabled=yes") == "OK"
    assert (await listed(client, "SIP.Account.A0.Transport"))["SIP.Account.A0.Transport"] == "tls"
    shown = await axcall(client, "GetSIPAccountStatus", {"SIPAccountId": P2P})
    assert shown["SIPAccountStatus"]["SIPURI"] == f"sips:{IP}:5061"


async def test_registered_account_status_follows_the_registrar(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    account = await add_account(client, **REGISTERED)
    assert account == "sip_account_0"
    found = (await axcall(client, "GetSIPAccountStatus", {"SIPAccountId": account}))["SIPAccountStatus"]
    assert found == {  # the API's "Add a registered account" example (the peer-to-peer account stays default)
        "SIPAccountId": "sip_account_0",
        "SIPURI": "sip:6001@example.axis.com",
        "IsDefault": False,
        "RegURI": "192.168.0.1",
        "Status": 200,
        "StatusText": "OK",
    }
    sip_of(client.device).set_registration(account, 403)
    found = (await axcall(client, "GetSIPAccountStatus", {"SIPAccountId": account}))["SIPAccountStatus"]
    assert (found["Status"], found["StatusText"]) == (403, "Forbidden")
    assert (await listed(client, "SIP.Account.A1.Status"))["SIP.Account.A1.Status"] == "403 Forbidden"
    fault(await axcall(client, "Call", {"To": REMOTE, "SIPAccountId": account}, status=400), FAILURE)
    await set_config(client, SIPEnabled=False)
    statuses = (await axcall(client, "GetSIPAccountStatuses"))["SIPAccountStatus"]
    assert [(s["Status"], s["StatusText"]) for s in statuses] == [(0, "SIP disabled")] * 2


async def test_get_unknown_account_is_not_found(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    for command in ("GetSIPAccount", "GetSIPAccountStatus"):
        fault(await axcall(client, command, {"SIPAccountId": "nope"}, status=400), NOT_FOUND)


# -- 4. DTMF -------------------------------------------------------------------------------


async def stop_audio_with_dtmf(client: DeviceClient, **config: Any) -> str:
    """Manual, "Stop audio with DTMF": sequence "1", description "stop audio", on the account."""
    event = (await axcall(client, "SetDTMFEvent", {"DTMFEvent": {"Name": "stop audio"}}))["DTMFEventId"]
    trigger = {"DTMFSequence": "1", "DTMFEventId": event}
    trigger_id = (await axcall(client, "SetDTMFTrigger", {"DTMFTrigger": trigger}))["DTMFTriggerId"]
    conf = {"Name": "stop audio", "DTMFTriggerId": [trigger_id], **config}
    conf_id = (await axcall(client, "SetDTMFConfiguration", {"DTMFConfiguration": conf}))["DTMFConfigurationId"]
    await add_account(client, Id=P2P, DTMFConfigurationId=conf_id)
    return event


async def active_call(client: DeviceClient) -> str:
    sip_of(client.device).set_remote("answer", after=1)
    call_id = await call(client, PEER)
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Active", "AcceptedByRemote")
    return call_id


async def test_dtmf_records_link_up(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    event = await stop_audio_with_dtmf(client)
    assert (await axcall(client, "GetDTMFEvents"))["DTMFEvent"] == [{"Id": event, "Name": "stop audio"}]
    (trigger,) = (await axcall(client, "GetDTMFTriggers"))["DTMFTrigger"]
    assert (trigger["DTMFSequence"], trigger["DTMFEventId"]) == ("1", event)
    (conf,) = (await axcall(client, "GetDTMFConfigurations"))["DTMFConfiguration"]
    assert conf["DTMFTriggerId"] == [trigger["Id"]]
    assert conf["RFC2833"] is True and conf["RFC2976"] is True  # API: both default true
    assert (await accounts(client))[P2P]["DTMFConfigurationId"] == conf["Id"]


@pytest.mark.parametrize("sequence", ["12E", "1 2", "", "1-2", "1" * 65])
async def test_dtmf_sequence_characters(device_client: DeviceClientFactory, sequence: str) -> None:
    """Manual: "Allowed characters: 0-9, A-D, #, and *"; API: at most 64 characters."""
    client = await device_client(SPEAKER)
    event = (await axcall(client, "SetDTMFEvent", {"DTMFEvent": {"Name": "stop audio"}}))["DTMFEventId"]
    refused = await axcall(
        client, "SetDTMFTrigger", {"DTMFTrigger": {"DTMFSequence": sequence, "DTMFEventId": event}}, status=400
    )
    fault(refused, INVALID)
    assert (await axcall(client, "GetDTMFTriggers"))["DTMFTrigger"] == []
    good = {"DTMFSequence": "#1234*ABCD", "DTMFEventId": event}  # every kind of allowed character
    assert "DTMFTriggerId" in await axcall(client, "SetDTMFTrigger", {"DTMFTrigger": good})


async def test_dtmf_trigger_refusals(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    first = (await axcall(client, "SetDTMFEvent", {"DTMFEvent": {"Name": "stop audio"}}))["DTMFEventId"]
    second = (await axcall(client, "SetDTMFEvent", {"DTMFEvent": {"Name": "open door"}}))["DTMFEventId"]
    made = await axcall(client, "SetDTMFTrigger", {"DTMFTrigger": {"DTMFSequence": "1", "DTMFEventId": first}})
    # API: "one sequence cannot trigger two events": a duplicate sequence is invalid ...
    duplicate = {"DTMFSequence": "1", "DTMFEventId": second}
    fault(await axcall(client, "SetDTMFTrigger", {"DTMFTrigger": duplicate}, status=400), INVALID)
    # ... a trigger of an event that does not exist too
    dangling = {"DTMFSequence": "2", "DTMFEventId": "no-such-event"}
    fault(await axcall(client, "SetDTMFTrigger", {"DTMFTrigger": dangling}, status=400), INVALID)
    # ... and an account naming an unknown DTMF configuration
    unknown = {"Id": P2P, "DTMFConfigurationId": "no-such-configuration"}
    fault(await axcall(client, "SetSIPAccount", {"SIPAccount": unknown}, status=400), INVALID)
    assert len((await axcall(client, "GetDTMFTriggers"))["DTMFTrigger"]) == 1
    # re-pointing the existing trigger is the way (API example)
    repointed = {"Id": made["DTMFTriggerId"], "DTMFEventId": second}
    assert await axcall(client, "SetDTMFTrigger", {"DTMFTrigger": repointed}) == made
    (trigger,) = (await axcall(client, "GetDTMFTriggers"))["DTMFTrigger"]
    assert (trigger["DTMFSequence"], trigger["DTMFEventId"]) == ("1", second)


async def test_dtmf_during_a_call_raises_the_event(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    event = await stop_audio_with_dtmf(client)
    call_id = await active_call(client)
    sip = sip_of(client.device)
    events: list[Event] = []
    client.device.bus.subscribe(events.append, ["tnsaxis:Call//."])
    assert sip.receive_dtmf(call_id, "1") == event
    raised = events[-1]
    assert raised.topic == "tnsaxis:Call/DTMF"  # API §5.3
    declared = next(d for d in sip.topics() if d.topic == raised.topic)
    names = dict(declared.source[0].values)  # the event's Name is its source value's nice name
    found = {**raised.source, "Name": names[raised.source["DTMFEventId"]], **raised.data}
    assert found == {"DTMFEventId": event, "Name": "stop audio", "CallId": call_id}
    assert sip.receive_dtmf(call_id, "2") is None  # no trigger for it
    assert sum(e.topic == "tnsaxis:Call/DTMF" for e in events) == 1


async def test_dtmf_only_over_the_enabled_protocols(device_client: DeviceClientFactory) -> None:
    """Manual, Protocols: "Use RTP (RFC2833)", "Use SIP INFO (RFC2976)"."""
    client = await speaker(device_client)
    event = await stop_audio_with_dtmf(client, RFC2833=False)
    call_id = await active_call(client)
    sip = sip_of(client.device)
    events: list[Event] = []
    client.device.bus.subscribe(events.append, ["tnsaxis:Call//."])
    assert sip.receive_dtmf(call_id, "1", method="rtp") is None
    assert not any(e.topic == "tnsaxis:Call/DTMF" for e in events)
    assert sip.receive_dtmf(call_id, "1", method="info") == event
    assert events[-1].topic == "tnsaxis:Call/DTMF"


# -- 5. calls ------------------------------------------------------------------------------


async def test_outgoing_call_answered_after_the_remotes_delay(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    sip_of(client.device).set_remote("answer", after=3)
    events: list[Event] = []
    client.device.bus.subscribe(events.append, ["tnsaxis:Call//."])
    call_id = await call(client)
    assert call_id.startswith("Out-0-")  # API: Out-<n>-<seconds.micro>-<random>
    found = await status(client, call_id)
    assert (found["CallState"], found["CallStateReason"]) == ("Calling", "Initiated")
    assert (found["Direction"], found["CallType"], found["RemoteURI"]) == ("Outgoing", "SIP", REMOTE)
    assert found["DeviceURI"] == f"sip:{IP}:5060" and "StopTime" not in found
    client.device.clock.advance(2)
    assert await state(client, call_id) == ("Calling", "Initiated")
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Active", "AcceptedByRemote")
    lines = await simple(client, "GetCallStatus", f"CallId={call_id}")
    assert (lines["CallStatus_CallState"], lines["CallStatus_CallType"]) == ('"Active"', '"SIP"')
    reasons = [e.data["Reason"] for e in events if e.topic == "tnsaxis:Call/StateChange"]
    assert reasons == ["Initiated", "AcceptedByRemote"]


async def test_simple_format_call(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    reply = await simple(client, "Call", f"To={REMOTE}")  # the API's example
    call_id = reply["CallId"].strip('"')
    assert call_id.startswith("Out-") and (await status(client, call_id))["RemoteURI"] == REMOTE


@pytest.mark.parametrize("outcome, reason", [("reject", "Busy"), ("fail", "Failed")])
async def test_outgoing_call_that_does_not_connect(
    device_client: DeviceClientFactory, outcome: str, reason: str
) -> None:
    client = await speaker(device_client)
    sip_of(client.device).set_remote(outcome, after=1)
    call_id = await call(client)
    client.device.clock.advance(1)
    found = await status(client, call_id)
    assert (found["CallState"], found["CallStateReason"]) == ("Terminated", reason)
    assert "StopTime" in found


@pytest.mark.parametrize("timeout", [None, 600])
async def test_unanswered_call_ends_at_the_calling_timeout(
    device_client: DeviceClientFactory, timeout: int | None
) -> None:
    """API: NoAnswer "on timeout (CallingTimeout)"; CallingTimeout default 60, maximum 600."""
    client = await speaker(device_client)
    if timeout is not None:
        assert await update(client, f"SIP.CallingTimeout={timeout}") == "OK"
    seconds = timeout or 60
    sip_of(client.device).set_remote("no_answer")
    call_id = await call(client)
    client.device.clock.advance(seconds - 1)
    assert await state(client, call_id) == ("Calling", "Initiated")
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Terminated", "NoAnswer")
    assert duration(client, call_id) == pytest.approx(seconds, abs=1e-6)


async def test_terminate_call(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    call_id = await active_call(client)
    assert await axcall(client, "TerminateCall", {"CallId": call_id}) == {}
    found = await status(client, call_id)
    assert (found["CallState"], found["CallStateReason"]) == ("Terminated", "Terminated") and "StopTime" in found
    # API, TerminateCall: NotFound when there is no ongoing call with the CallId
    fault(await axcall(client, "TerminateCall", {"CallId": call_id}, status=400), NOT_FOUND)
    fault(await axcall(client, "GetCallStatus", {"CallId": "Out-9-0-x"}, status=400), NOT_FOUND)


async def test_one_call_at_a_time(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    await active_call(client)
    fault(await axcall(client, "Call", {"To": REMOTE}, status=400), FAILURE)


async def test_max_call_duration_ends_an_active_call(device_client: DeviceClientFactory) -> None:
    """Manual: "End calls after: Set the maximum time that a call can last"."""
    client = await speaker(device_client)
    await set_config(client, Attribute=attributes(("MaxCallDuration", "120")))
    call_id = await active_call(client)
    client.device.clock.advance(119)
    assert await state(client, call_id) == ("Active", "AcceptedByRemote")
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Terminated", "Terminated")
    assert duration(client, call_id, since="answered") == pytest.approx(120, abs=1e-6)


async def test_max_call_duration_zero_is_infinite(device_client: DeviceClientFactory) -> None:
    """Manual: "Select Infinite call duration if you don't want to limit the length of a call"."""
    client = await speaker(device_client)
    assert await update(client, "SIP.MaxCallDuration=0") == "OK"
    call_id = await active_call(client)
    client.device.clock.advance(100_000)
    assert await state(client, call_id) == ("Active", "AcceptedByRemote")


async def test_max_call_duration_does_not_end_vms_calls(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    await set_config(client, Attribute=attributes(("MaxCallDuration", "60")))
    sip_of(client.device).set_remote("answer", after=1, uri="VMS_CALL")
    call_id = await call(client, "VMS_CALL")
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Active", "AcceptedByRemote")
    client.device.clock.advance(120)
    assert await state(client, call_id) == ("Active", "AcceptedByRemote")


@pytest.mark.parametrize("enabled, incoming", [(True, False), (False, True)])
async def test_incoming_call_denied(device_client: DeviceClientFactory, enabled: bool, incoming: bool) -> None:
    """API: incoming calls need SIPEnabled and AllowIncomingCalls; Denied is Idle -> Terminated."""
    client = await speaker(device_client, enabled=enabled, incoming=incoming)
    call_id = sip_of(client.device).incoming_call("sip:guest@example.com")
    found = await status(client, call_id)
    assert (found["CallState"], found["CallStateReason"], found["Direction"]) == ("Terminated", "Denied", "Incoming")


async def test_incoming_call_answered_automatically(device_client: DeviceClientFactory) -> None:
    """Manual: "Answer automatically: Select to automatically answer an incoming call" (on by default:
    "Set up audio for incoming SIP calls" has you uncheck it)."""
    client = await speaker(device_client, incoming=True)
    call_id = sip_of(client.device).incoming_call("sip:guest@example.com")
    assert call_id.startswith("In-")
    found = await status(client, call_id)
    assert (found["CallState"], found["CallStateReason"]) == ("Active", "AcceptedByDevice")
    assert (found["Direction"], found["RemoteURI"], found["SIPAccountId"]) == ("Incoming", "sip:guest@example.com", P2P)


async def no_auto_answer(device_client: DeviceClientFactory) -> DeviceClient:
    client = await speaker(device_client, incoming=True)
    await add_account(client, Id=P2P, Attribute=attributes(("AutoAnswer", "false")))
    assert (await listed(client, "SIP.Account.A0.AutoAnswer"))["SIP.Account.A0.AutoAnswer"] == "no"
    return client


async def test_incoming_call_rings_until_answered(device_client: DeviceClientFactory) -> None:
    client = await no_auto_answer(device_client)
    sip = sip_of(client.device)
    call_id = sip.incoming_call("sip:guest@example.com")
    client.device.clock.advance(30)
    assert await state(client, call_id) == ("Calling", "Initiated")
    sip.answer(call_id)
    assert await state(client, call_id) == ("Active", "AcceptedByDevice")
    sip.remote_hangup(call_id)
    assert await state(client, call_id) == ("Terminated", "Terminated")


async def test_unanswered_incoming_call_ends_at_the_calling_timeout(device_client: DeviceClientFactory) -> None:
    client = await no_auto_answer(device_client)
    call_id = sip_of(client.device).incoming_call("sip:guest@example.com")
    client.device.clock.advance(59)
    assert await state(client, call_id) == ("Calling", "Initiated")
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Terminated", "NoAnswer")


async def test_incoming_call_duration_ends_incoming_calls(device_client: DeviceClientFactory) -> None:
    """Manual: "Incoming call duration: Set the maximum time an incoming call can last"."""
    client = await speaker(device_client, incoming=True)
    assert await update(client, "SIP.IncomingCallDuration=30&SIP.MaxCallDuration=0") == "OK"
    call_id = sip_of(client.device).incoming_call("sip:guest@example.com")
    client.device.clock.advance(29)
    assert await state(client, call_id) == ("Active", "AcceptedByDevice")
    client.device.clock.advance(1)
    assert await state(client, call_id) == ("Terminated", "Terminated")
    # an outgoing call is not an incoming one: it lasts
    outgoing = await active_call(client)
    client.device.clock.advance(300)
    assert await state(client, outgoing) == ("Active", "AcceptedByRemote")


@pytest.mark.parametrize(
    "enabled, message, triple",
    [
        (False, {"To": REMOTE}, FAILURE),  # API: "Failed to initiate the call."
        (True, {"To": "tel:+4646272180"}, INVALID),  # not a SIP URI
        (True, {"To": "6002"}, INVALID),
        (True, {"To": REMOTE, "SIPAccountId": "no-such-account"}, NOT_FOUND),
        (True, {}, MISSING),
    ],
)
async def test_refused_calls(
    device_client: DeviceClientFactory, enabled: bool, message: dict[str, Any], triple: tuple[str, str, str | None]
) -> None:
    client = await speaker(device_client, enabled=enabled)
    fault(await axcall(client, "Call", message, status=400), triple)
    assert (await axcall(client, "GetCallStatuses"))["CallStatus"] == []


async def test_turning_sip_off_ends_the_call(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    call_id = await active_call(client)
    assert await update(client, "SIP.Enabled=no") == "OK"
    assert await state(client, call_id) == ("Terminated", "Terminated")


# -- 6. roles ------------------------------------------------------------------------------


async def test_roles(device_client: DeviceClientFactory) -> None:
    """Get* and calls for operators, changes for administrators; nothing for viewers."""
    users = [DEFAULT_ACCOUNT, AccountSpec("op", "pw", "operator"), AccountSpec("eve", "pw", "viewer")]
    client = await speaker(device_client, accounts=users)
    operator, viewer = ("op", "pw"), ("eve", "pw")
    for command in ("GetSIPConfiguration", "GetSIPAccounts"):
        response = await client.post(CALL, data=json.dumps({f"axcall:{command}": {}}), auth=viewer)
        assert response.status == 401
    assert (await axcall(client, "GetSIPConfiguration", auth=operator))["SIPConfiguration"]["SIPEnabled"] is True
    call_id = (await axcall(client, "Call", {"To": REMOTE}, auth=operator))["CallId"]
    assert await axcall(client, "TerminateCall", {"CallId": call_id}, auth=operator) == {}
    for command, message in [
        ("SetSIPConfiguration", {"SIPConfiguration": {"SIPPort": 5070}}),
        ("SetSIPAccount", {"SIPAccount": {"UserId": "6001"}}),
        ("RemoveSIPAccount", {"SIPAccountId": P2P}),
    ]:
        response = await client.post(CALL, data=json.dumps({f"axcall:{command}": message}), auth=operator)
        assert response.status == 401, command
    assert (await listed(client, "SIP.Port"))["SIP.Port"] == "5060"
    assert list(await accounts(client)) == [P2P]


# -- 7. persistence and factory default -----------------------------------------------------


def configure(device: Device) -> str:
    """SIP on, a registered default account instead of the peer-to-peer one, a DTMF event."""
    run(device, "SetSIPConfiguration", {"SIPConfiguration": {"SIPEnabled": True, "SIPPort": 5070}})
    run(device, "SetSIPConfiguration", {"SIPConfiguration": {"Attribute": attributes(("MaxCallDuration", "0"))}})
    account = run(device, "SetSIPAccount", {"SIPAccount": {**REGISTERED, "IsDefault": True}})["SIPAccountId"]
    run(device, "RemoveSIPAccount", {"SIPAccountId": P2P})
    run(device, "SetDTMFEvent", {"DTMFEvent": {"Name": "stop audio"}})
    return account


SNAPSHOT = ("GetSIPConfiguration", "GetSIPAccounts", "GetSIPAccountStatuses", "GetDTMFEvents", "GetAudioCodecs")


def test_sip_state_survives_a_state_dir_round_trip(tmp_path: Path) -> None:
    device = make_device(SPEAKER, ip=IP)
    StateDir(tmp_path).attach(device)
    account = configure(device)
    sip_of(device).set_registration(account, 403)
    before = {command: run(device, command) for command in SNAPSHOT}
    assert [a["Id"] for a in before["GetSIPAccounts"]["SIPAccount"]] == [account]

    again = make_device(SPEAKER, ip=IP)
    assert StateDir(tmp_path).attach(again)
    assert {command: run(again, command) for command in SNAPSHOT} == before
    assert before["GetSIPAccountStatuses"]["SIPAccountStatus"][0]["Status"] == 403
    key = sip_of(again).key_of(ACCOUNTS, account)
    assert key is not None and again.params.value(f"SIP.Account.{key}.Password") == "secure"


def test_reboot_ends_calls_and_keeps_the_settings() -> None:
    device = make_device(SPEAKER, ip=IP)
    account = configure(device)
    sip_of(device).set_remote("answer", after=0)
    call_id = run(device, "Call", {"To": REMOTE})["CallId"]
    assert run(device, "GetCallStatus", {"CallId": call_id})["CallStatus"]["CallState"] == "Active"
    before = {command: run(device, command) for command in SNAPSHOT}
    device.restart(RestartKind.REBOOT)
    assert (sip_of(device).calls[call_id].state, sip_of(device).calls[call_id].reason) == ("Terminated", "Terminated")
    assert {command: run(device, command) for command in SNAPSHOT} == before
    assert [a["Id"] for a in before["GetSIPAccounts"]["SIPAccount"]] == [account]


def test_factory_default_brings_back_only_the_peer_to_peer_account(tmp_path: Path) -> None:
    device = make_device(SPEAKER, ip=IP)
    StateDir(tmp_path).attach(device)
    configure(device)
    sip_of(device).set_remote("answer", after=0)
    call_id = run(device, "Call", {"To": REMOTE})["CallId"]
    device.restart(RestartKind.SOFT)
    assert sip_of(device).calls[call_id].state == "Terminated"  # the restart ends the call
    fresh = make_device(SPEAKER, ip=IP)
    expected = {command: run(fresh, command) for command in SNAPSHOT}
    assert {command: run(device, command) for command in SNAPSHOT} == expected
    assert [a["Id"] for a in expected["GetSIPAccounts"]["SIPAccount"]] == [P2P]
    again = make_device(SPEAKER, ip=IP)  # and so it is saved
    assert StateDir(tmp_path).attach(again)
    assert {command: run(again, command) for command in SNAPSHOT} == expected


async def test_factorydefault_cgi_resets_sip(device_client: DeviceClientFactory) -> None:
    client = await speaker(device_client)
    await add_account(client, UserId="6001", IsDefault=True)
    await update(client, "SIP.Port=5070&SIP.AllowIncomingCalls=yes")
    await client.text("GET", "/axis-cgi/factorydefault.cgi")
    device = client.device
    assert run(device, "GetSIPConfiguration") == run(make_device(SPEAKER), "GetSIPConfiguration")
    (account,) = run(device, "GetSIPAccounts")["SIPAccount"]
    assert (account["Id"], account["IsDefault"]) == (P2P, True)


# -- 8. requests the service cannot read -----------------------------------------------------


@pytest.mark.parametrize(
    "body, triple",
    [
        ("{not json", MISSING),
        ("[]", MISSING),
        ('{"axcall:GetSIPConfiguration": {}, "axcall:GetSIPAccounts": {}}', MISSING),  # one command per request
        ('{"axcall:Frobnicate": {}}', UNKNOWN),
        ('{"axast:GetSIPConfiguration": {}}', UNKNOWN),
    ],
)
async def test_unreadable_requests_are_faults(
    device_client: DeviceClientFactory, body: str, triple: tuple[str, str, str | None]
) -> None:
    client = await device_client(SPEAKER)
    response = await client.post(CALL, data=body)
    assert response.status == 400
    fault(json.loads(await response.text()), triple)


async def test_simple_format_fault(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    lines = await simple(client, "Frobnicate", status=400)
    assert (lines["Fault"], lines["FaultCode"], lines["FaultMsg"]) == (
        '"env:Sender"',
        '"ter:ActionNotSupported"',
        "null",
    )
    lines = await simple(client, "GetSIPAccount", "SIPAccountId=nope", status=400)
    assert lines["FaultSubCode"] == '"ter:NotFound"'


async def test_recorder_has_no_call_service(device_client: DeviceClientFactory) -> None:
    client = await device_client("S3008")
    response = await client.post(CALL, data=json.dumps({"axcall:GetSIPConfiguration": {}}))
    assert response.status == 404
