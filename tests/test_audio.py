"""The C1410 Mk II's audio: media clips (`mediaclip.cgi`, `playclip.cgi`, `stopclip.cgi`, vapix-wire.md §6.4)
and the auto speaker test (`/vapix/axast`).

The sound files are built here with struct, independently of axisim's own generators, at the limits of
the manual's "Problems with sound files": .au mu-law 8 or 16 kHz; .wav PCM 8 or 16-bit, mono or stereo,
8 to 48 kHz; .mp3 mono or stereo, 64 to 320 kbps, 8 to 48 kHz.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from axisim.device import DEFAULT_ACCOUNT, AccountSpec, Device, make_device
from axisim.lifecycle import RestartKind
from axisim.persistence import FILES_DIR, StateDir
from axisim.pipeline import build_app
from axisim.subsystems.audio import TEST_SECONDS, AudioSubsystem
from tests.conftest import DeviceClient, DeviceClientFactory

SPEAKER = "C1410MkII"
MEDIACLIP = "/axis-cgi/mediaclip.cgi"
AXAST = "/vapix/axast"
MIB = 1024 * 1024
CAMERA_CLICKS = 25  # preinstalled, /etc/audioclips/camera_clicks16k.au, 1 s
DING_DONG = 28  # preinstalled, /etc/audioclips/ding_dong.mp3
NOT_CALIBRATED_REASON = "The Auto Speaker Test cannot be done without prior calibration."
UNCALIBRATED = {"SpeakerTestStatus": "Uncalibrated", "TestTimestamp": "", "CalibrationTimestamp": ""}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

# -- sound files, built from their specifications -------------------------------------------------------


def au(rate: int = 8000, encoding: int = 1, channels: int = 1, seconds: float = 0.5) -> bytes:
    """Sun .au: ".snd", data offset 24, data size, encoding (1 = mu-law, 3 = 16-bit linear PCM), rate, channels."""
    width = 2 if encoding == 3 else 1
    data = b"\xff" * (int(rate * seconds) * channels * width)
    return struct.pack(">4sIIIII", b".snd", 24, len(data), encoding, rate, channels) + data


def wav(rate: int = 8000, bits: int = 16, channels: int = 1, seconds: float = 0.5, encoding: int = 1) -> bytes:
    """RIFF/WAVE with a 16-byte fmt chunk (1 = PCM, 3 = IEEE float) and a data chunk."""
    align = channels * bits // 8
    data = b"\x00" * (int(rate * seconds) * align)
    fmt = struct.pack("<HHIIHH", encoding, channels, rate, rate * align, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


MP3_KBPS_INDEX = {32: 1, 40: 2, 48: 3, 56: 4, 64: 5, 80: 6, 96: 7, 112: 8, 128: 9, 160: 10, 192: 11, 320: 14}
MP3_RATE_INDEX = {44100: 0, 48000: 1, 32000: 2}


def mp3_frame(kbps: int, rate: int, mono: bool, padding: int = 0) -> bytes:
    """One MPEG-1 layer III frame (FF FB: sync, MPEG-1, layer III, no CRC) of 144*bitrate/rate + padding bytes."""
    header = bytes((
        0xFF, 0xFB,
        MP3_KBPS_INDEX[kbps] << 4 | MP3_RATE_INDEX[rate] << 2 | padding << 1,
        (3 if mono else 0) << 6,
    ))  # fmt: skip
    return header + bytes(144 * kbps * 1000 // rate + padding - 4)


def mp3(kbps: int = 128, rate: int = 48000, mono: bool = True, frames: int = 20) -> bytes:
    return mp3_frame(kbps, rate, mono) * frames


# -- requests -------------------------------------------------------------------------------------------


def listing(text: str) -> dict[str, str]:
    """param.cgi's (or the simple format's) `name=value` lines; names without `root.`."""
    return dict(line.removeprefix("").split("=", 1) for line in text.splitlines() if "=" in line)


async def params(client: DeviceClient, group: str, **kwargs: Any) -> dict[str, str]:
    response = await client.get(f"/axis-cgi/param.cgi?action=list&group={group}", **kwargs)
    assert response.status == 200, await response.text()
    return listing(await response.text())


async def clip_groups(client: DeviceClient) -> set[int]:
    names = await params(client, "MediaClip")
    return {int(m.group(1)) for name in names if (m := re.match(r"MediaClip\.M(\d+)\.Name$", name))}


async def upload(
    client: DeviceClient, data: bytes, filename: str, query: str = "action=upload&media=audio", **kwargs: Any
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData(quote_fields=False)  # the file name as curl and browsers send it, not %-encoded
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return await client.post(f"{MEDIACLIP}?{query}", data=form, **kwargs)


async def uploaded(client: DeviceClient, data: bytes, filename: str, query: str = "action=upload&media=audio") -> int:
    response = await upload(client, data, filename, query)
    text = await response.text()
    assert response.status == 200, text
    match = re.fullmatch(r"OK\r\nuploaded=(\d+)\r\n", text)
    assert match, text
    return int(match.group(1))


async def refused(response: aiohttp.ClientResponse) -> str:
    """The documented 400: text/plain `400 Bad Request` and a reason; the reason."""
    text = await response.text()
    assert response.status == 400, text
    assert response.headers["Content-Type"] == "text/plain"
    assert text.startswith("400 Bad Request\r\n") and text.endswith("\r\n") and len(text) > 19, text
    return text[len("400 Bad Request\r\n") : -2]


async def playing(client: DeviceClient, **kwargs: Any) -> dict[str, str]:
    values = await params(client, "AudioStatus", **kwargs)
    return {name.rsplit(".", 1)[-1]: value for name, value in values.items()}


def audio_of(device: Device) -> AudioSubsystem:
    audio = device.subsystems[AudioSubsystem.name]
    assert isinstance(audio, AudioSubsystem)
    return audio


async def axast(client: DeviceClient, command: str, **kwargs: Any) -> tuple[int, Any]:
    response = await client.post(AXAST, data=json.dumps({f"axast:{command}": {}}), **kwargs)
    body = await response.text()
    if response.status in (200, 400):
        assert response.headers["Content-Type"] == "application/json"
        return response.status, json.loads(body)
    return response.status, body


async def report(client: DeviceClient) -> dict[str, str]:
    status, document = await axast(client, "GetSpeakerTestReport")
    assert status == 200, document
    assert set(document) == {"SpeakerTestReport"}
    return document["SpeakerTestReport"]


def fault(subcode: str, reason: str) -> dict[str, Any]:
    return {"Fault": "env:Receiver", "FaultCode": "ter:Action", "FaultSubCode": subcode,
            "FaultReason": reason, "FaultMsg": None}  # fmt: skip


async def recreate_root(client: DeviceClient) -> None:
    """A factory default leaves no account: create the first administrator again."""
    created = await client.get(
        "/axis-cgi/pwdgrp.cgi?action=add&user=root&pwd=pass&grp=root&sgrp=admin:operator:viewer:ptz", auth=None
    )
    assert "Created account root." in await created.text()


# -- 1. uploads the manual allows -----------------------------------------------------------------------

ACCEPTED = [
    ("au-8k.au", "audio/basic", au(8000)),
    ("au-16k.au", "audio/basic", au(16000)),
    *[
        (f"pcm{bits}-{channels}ch-{rate}.wav", "audio/wav", wav(rate, bits, channels))
        for bits in (8, 16)
        for channels in (1, 2)
        for rate in (8000, 48000)
    ],
    ("low.mp3", "audio/mpeg", mp3(64, 48000)),
    ("high.mp3", "audio/mpeg", mp3(320, 44100, mono=False)),
]


@pytest.mark.parametrize(("filename", "content_type", "data"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
async def test_upload_at_the_manuals_limits_is_listed_and_downloads_as_sent(
    device_client: DeviceClientFactory, filename: str, content_type: str, data: bytes
) -> None:
    client = await device_client(SPEAKER)
    before = await clip_groups(client)
    number = await uploaded(client, data, filename)
    assert await clip_groups(client) == before | {number}
    assert await params(client, f"MediaClip.M{number}") == {
        f"MediaClip.M{number}.Location": f"/etc/audioclips/{filename}",
        f"MediaClip.M{number}.Name": filename.rsplit(".", 1)[0],
        f"MediaClip.M{number}.Type": "audio",
    }
    response = await client.get(f"{MEDIACLIP}?action=download&clip={number}")
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert await response.read() == data


async def test_upload_takes_its_name_from_the_name_argument(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    first = await uploaded(client, wav(), "door.wav", "action=upload&media=audio&name=Front%20door")
    second = await uploaded(client, au(), "door.au", "action=upload&media=audio")
    assert (first, second) == (0, 1)  # the lowest free numbers
    values = await params(client, "MediaClip")
    assert values["MediaClip.M0.Name"] == "Front door"
    assert values["MediaClip.M1.Name"] == "door"
    assert values["MediaClip.M1.Location"] == "/etc/audioclips/door.au"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("mpeg2-24k.mp3", (bytes((0xFF, 0xF3, 0x80 | 1 << 2, 0xC0)) + bytes(192 - 4)) * 10),  # MPEG-2, 64 kbps, 24 kHz
        ("mpeg25-8k.mp3", (bytes((0xFF, 0xE3, 0x80 | 2 << 2, 0xC0)) + bytes(576 - 4)) * 10),  # MPEG-2.5, 64 kbps, 8 kHz
        ("tagged.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x05" + b"TIT2\x00" + mp3(128, 44100)),
        ("padded.mp3", (mp3_frame(128, 44100, True, padding=1) + mp3_frame(128, 44100, True)) * 5),
    ],
)
async def test_other_playable_mp3_files_are_accepted(
    device_client: DeviceClientFactory, filename: str, data: bytes
) -> None:
    client = await device_client(SPEAKER)
    number = await uploaded(client, data, filename)
    response = await client.get(f"{MEDIACLIP}?action=download&clip={number}")
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert await response.read() == data


async def test_preinstalled_clip_downloads_as_au(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    response = await client.get(f"{MEDIACLIP}?action=download&clip={CAMERA_CLICKS}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "audio/basic"
    assert (await response.read()).startswith(b".snd")


# -- 2. uploads refused ---------------------------------------------------------------------------------

REFUSED = [
    ("linear.au", au(8000, encoding=3)),
    ("cd-rate.au", au(44100)),
    ("deep.wav", wav(8000, bits=24)),
    ("fast.wav", wav(96000, bits=16)),
    ("float.wav", wav(8000, bits=32, encoding=3)),
    ("float16.wav", wav(8000, bits=16, encoding=3)),
    ("surround.wav", wav(8000, bits=16, channels=6)),
    ("slow32.mp3", mp3(32, 32000)),
    ("slow48.mp3", mp3(48, 44100)),
    ("noise.mp3", bytes(range(7, 256)) * 40),
    ("disguised.mp3", wav()),
    ("clip.txt", au()),
    ("empty.wav", b""),
]


@pytest.mark.parametrize(("filename", "data"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_unplayable_upload_is_refused_and_nothing_is_stored(
    device_client: DeviceClientFactory, filename: str, data: bytes
) -> None:
    client = await device_client(SPEAKER)
    before = await params(client, "MediaClip")
    assert await refused(await upload(client, data, filename))
    assert await params(client, "MediaClip") == before
    assert audio_of(client.device).uploads == {}
    assert hashlib.sha256(data).hexdigest() not in client.device.files


async def test_upload_over_max_upload_size_is_refused(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert (await params(client, "MediaClip.MaxUploadSize")) == {"MediaClip.MaxUploadSize": "10"}
    header = wav(8000, 8, 1, seconds=0)
    big = header + b"\x80" * (10 * MIB + 1 - len(header))
    before = await params(client, "MediaClip")
    assert "too large" in (await refused(await upload(client, big, "long.wav"))).lower()
    assert await params(client, "MediaClip") == before
    assert audio_of(client.device).uploads == {}
    # just under the limit is fine
    fits = wav(8000, 8, 1, seconds=(9 * MIB) / 8000)
    number = await uploaded(client, fits, "fits.wav")
    assert await (await client.get(f"{MEDIACLIP}?action=download&clip={number}")).read() == fits


async def test_upload_beyond_max_groups_is_refused(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    room = int((await params(client, "MediaClip.MaxGroups"))["MediaClip.MaxGroups"]) - len(await clip_groups(client))
    assert room == 50 - 19
    for index in range(room):
        await uploaded(client, au(8000, seconds=0.01), f"c{index}.au")
    before = await params(client, "MediaClip")
    assert await refused(await upload(client, au(8000, seconds=0.01), "one-more.au"))
    assert await params(client, "MediaClip") == before
    await client.text("GET", f"{MEDIACLIP}?action=remove&clip=3")
    assert await uploaded(client, wav(), "again.wav") == 3


@pytest.mark.parametrize("query", ["action=upload", "action=upload&media=video", "action=upload&name=x"])
async def test_upload_without_media_audio_is_refused(device_client: DeviceClientFactory, query: str) -> None:
    client = await device_client(SPEAKER)
    before = await params(client, "MediaClip")
    assert await refused(await upload(client, wav(), "ok.wav", query))
    assert await params(client, "MediaClip") == before


async def test_upload_without_a_file_is_refused(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert await refused(await client.get(f"{MEDIACLIP}?action=upload&media=audio"))
    form = aiohttp.FormData()
    form.add_field("name", "no file here")
    form.add_field("other", "x")  # parts without a filename
    assert await refused(await client.post(f"{MEDIACLIP}?action=upload&media=audio", data=form))
    assert audio_of(client.device).uploads == {}


async def test_upload_with_a_name_over_64_characters_is_refused(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    before = await params(client, "MediaClip")
    assert await refused(await upload(client, wav(), "x.wav", f"action=upload&media=audio&name={'n' * 65}"))
    assert await params(client, "MediaClip") == before
    assert audio_of(client.device).uploads == {}


# -- 3. playing and stopping ----------------------------------------------------------------------------


async def test_clip_plays_with_repeat_and_volume_then_stops_by_itself(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert await playing(client) == {"Playing": "no", "Clip": "", "Repeat": "", "Volume": ""}
    text = await client.text("GET", f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}&repeat=1&volume=40")
    assert text == f"OK\r\nplaying={CAMERA_CLICKS}\r\n"
    assert await playing(client) == {"Playing": "yes", "Clip": "25", "Repeat": "1", "Volume": "40"}
    client.device.clock.advance(1.9)  # 1 s clip, played twice
    assert (await playing(client))["Playing"] == "yes"
    client.device.clock.advance(0.2)
    assert await playing(client) == {"Playing": "no", "Clip": "", "Repeat": "", "Volume": ""}


@pytest.mark.parametrize(
    ("filename", "data", "seconds"),
    [
        ("two.au", au(8000, seconds=2.0), 2.0),
        ("two.wav", wav(16000, 16, 2, seconds=2.0), 2.0),
        ("two.mp3", mp3(64, 48000, frames=100), 2.4),  # 100 frames of 1152 samples at 48 kHz
    ],
)
async def test_uploaded_clip_plays_for_its_duration(
    device_client: DeviceClientFactory, filename: str, data: bytes, seconds: float
) -> None:
    client = await device_client(SPEAKER)
    number = await uploaded(client, data, filename)
    assert await client.text("GET", f"{MEDIACLIP}?action=play&clip={number}") == f"OK\r\nplaying={number}\r\n"
    client.device.clock.advance(seconds - 0.1)
    assert await playing(client) == {"Playing": "yes", "Clip": str(number), "Repeat": "0", "Volume": "100"}
    client.device.clock.advance(0.2)
    assert (await playing(client))["Playing"] == "no"


async def test_repeat_forever_plays_until_stopped(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}&repeat=-1")
    client.device.clock.advance(24 * 3600)
    assert (await playing(client))["Playing"] == "yes"
    assert await client.text("GET", "/axis-cgi/stopclip.cgi") == "OK\r\nstopping\r\n"
    assert (await playing(client))["Playing"] == "no"
    assert await client.text("GET", "/axis-cgi/stopclip.cgi") == "OK\r\nstopping\r\n"  # nothing playing: fine


async def test_mediaclip_play_and_stop_actions(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    text = await client.text("GET", f"{MEDIACLIP}?action=play&clip={DING_DONG}&repeat=-1&volume=0")
    assert text == f"OK\r\nplaying={DING_DONG}\r\n"
    assert await playing(client) == {"Playing": "yes", "Clip": "28", "Repeat": "-1", "Volume": "0"}
    assert await client.text("GET", f"{MEDIACLIP}?action=stop") == "OK\r\nstopping\r\n"
    assert (await playing(client))["Playing"] == "no"


async def test_play_request_while_a_clip_plays_is_dropped(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}&repeat=-1&volume=40")
    response = await client.get(f"/axis-cgi/playclip.cgi?clip={DING_DONG}&volume=900")
    assert response.status == 200
    assert await playing(client) == {"Playing": "yes", "Clip": "25", "Repeat": "-1", "Volume": "40"}
    await client.text("GET", "/axis-cgi/stopclip.cgi")
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={DING_DONG}&volume=900")
    assert await playing(client) == {"Playing": "yes", "Clip": "28", "Repeat": "0", "Volume": "900"}


@pytest.mark.parametrize(
    "query",
    ["clip=99", "clip=abc", "clip=-1", "", f"clip={CAMERA_CLICKS}&repeat=-2", f"clip={CAMERA_CLICKS}&volume=1001",
     f"clip={CAMERA_CLICKS}&volume=abc", f"clip={CAMERA_CLICKS}&volume=-1", f"clip={CAMERA_CLICKS}&repeat=x",
     "location=no_such_clip.mp3"],
)  # fmt: skip
async def test_invalid_play_request_is_refused_and_changes_nothing(
    device_client: DeviceClientFactory, query: str
) -> None:
    client = await device_client(SPEAKER)
    assert await refused(await client.get(f"/axis-cgi/playclip.cgi?{query}"))
    assert (await playing(client))["Playing"] == "no"
    assert await refused(await client.get(f"{MEDIACLIP}?action=play&{query}"))
    assert (await playing(client))["Playing"] == "no"


async def test_invalid_play_request_leaves_the_playing_clip_alone(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={DING_DONG}&repeat=-1&volume=30")
    assert await refused(await client.get(f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}&volume=1001"))
    assert await playing(client) == {"Playing": "yes", "Clip": "28", "Repeat": "-1", "Volume": "30"}


@pytest.mark.parametrize("volume", ["0", "1000"])
async def test_volume_limits_are_accepted(device_client: DeviceClientFactory, volume: str) -> None:
    client = await device_client(SPEAKER)
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}&volume={volume}")
    assert (await playing(client))["Volume"] == volume


async def test_location_plays_the_preinstalled_clip_by_file_name(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    text = await client.text("GET", "/axis-cgi/playclip.cgi?location=ding_dong.mp3&repeat=0&volume=100")
    assert text == f"OK\r\nplaying={DING_DONG}\r\n"
    assert (await playing(client))["Clip"] == str(DING_DONG)


async def test_location_plays_an_uploaded_clip(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    number = await uploaded(client, wav(), "closing.wav")
    text = await client.text("GET", "/axis-cgi/playclip.cgi?location=closing.wav")
    assert text == f"OK\r\nplaying={number}\r\n"


async def test_location_finds_an_uploaded_clip_by_its_file_name_with_a_space(
    device_client: DeviceClientFactory,
) -> None:
    client = await device_client(SPEAKER)
    number = await uploaded(client, wav(), "Pre cierre.wav")
    assert (await params(client, f"MediaClip.M{number}.Name")) == {f"MediaClip.M{number}.Name": "Pre cierre"}
    text = await client.text("GET", "/axis-cgi/playclip.cgi?location=Pre%20cierre.wav")
    assert text == f"OK\r\nplaying={number}\r\n"


# -- 4. rename and remove -------------------------------------------------------------------------------


async def test_update_renames_a_clip(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    text = await client.text("GET", f"{MEDIACLIP}?action=update&clip={DING_DONG}&name=Front%20door%20bell")
    assert text == f"OK\r\nupdated={DING_DONG}\r\n"
    assert (await params(client, f"MediaClip.M{DING_DONG}.Name")) == {f"MediaClip.M{DING_DONG}.Name": "Front door bell"}
    longest = "x" * 64
    await client.text("GET", f"{MEDIACLIP}?action=update&clip={DING_DONG}&name={longest}")
    assert (await params(client, "MediaClip"))[f"MediaClip.M{DING_DONG}.Name"] == longest


@pytest.mark.parametrize(
    "query", [f"clip={DING_DONG}&name={'x' * 65}", f"clip={DING_DONG}", "clip=77&name=x", "name=x"]
)
async def test_invalid_rename_is_refused(device_client: DeviceClientFactory, query: str) -> None:
    client = await device_client(SPEAKER)
    before = await params(client, "MediaClip")
    assert await refused(await client.get(f"{MEDIACLIP}?action=update&{query}"))
    assert await params(client, "MediaClip") == before


async def test_removing_the_playing_clip_stops_it(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    number = await uploaded(client, au(16000), "chime.au")
    digest = hashlib.sha256(au(16000)).hexdigest()
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={number}&repeat=-1")
    assert await client.text("GET", f"{MEDIACLIP}?action=remove&clip={number}") == f"OK\r\nremoved={number}\r\n"
    assert (await playing(client))["Playing"] == "no"
    assert number not in await clip_groups(client)
    assert digest not in client.device.files
    assert await refused(await client.get(f"{MEDIACLIP}?action=download&clip={number}"))
    assert await refused(await client.get(f"/axis-cgi/playclip.cgi?clip={number}"))
    assert await refused(await client.get(f"{MEDIACLIP}?action=remove&clip={number}"))


async def test_a_file_two_clips_share_is_kept_until_both_are_removed(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    data = wav(16000, 16, 1)
    digest = hashlib.sha256(data).hexdigest()
    first = await uploaded(client, data, "a.wav")
    second = await uploaded(client, data, "b.wav")
    await client.text("GET", f"{MEDIACLIP}?action=remove&clip={first}")
    assert digest in client.device.files
    assert await (await client.get(f"{MEDIACLIP}?action=download&clip={second}")).read() == data
    await client.text("GET", f"{MEDIACLIP}?action=remove&clip={second}")
    assert digest not in client.device.files


async def test_factory_default_restores_preinstalled_clips_and_drops_uploads(
    device_client: DeviceClientFactory,
) -> None:
    client = await device_client(SPEAKER)
    factory = await clip_groups(client)
    assert factory == set(range(25, 44))
    data = mp3(128, 44100)
    number = await uploaded(client, data, "mine.mp3")
    await client.text("GET", f"{MEDIACLIP}?action=remove&clip={CAMERA_CLICKS}")
    await client.text("GET", f"{MEDIACLIP}?action=update&clip={DING_DONG}&name=Renamed")
    assert await clip_groups(client) == (factory - {CAMERA_CLICKS}) | {number}
    assert await refused(await client.get(f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}"))
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={number}&repeat=-1")
    response = await client.get("/axis-cgi/factorydefault.cgi")
    assert response.status == 200
    await recreate_root(client)
    assert await clip_groups(client) == factory
    values = await params(client, "MediaClip")
    assert values[f"MediaClip.M{DING_DONG}.Name"] == "Ding-dong"
    assert values[f"MediaClip.M{CAMERA_CLICKS}.Location"] == "/etc/audioclips/camera_clicks16k.au"
    assert (await playing(client))["Playing"] == "no"
    assert audio_of(client.device).uploads == {}
    assert hashlib.sha256(data).hexdigest() not in client.device.files
    assert await client.text("GET", f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}") == "OK\r\nplaying=25\r\n"


@pytest.mark.parametrize("kind", [RestartKind.SOFT, RestartKind.HARD])
async def test_restart_with_factory_default_forgets_uploads(
    device_client: DeviceClientFactory, kind: RestartKind
) -> None:
    client = await device_client(SPEAKER)
    number = await uploaded(client, wav(), "mine.wav")
    await client.text("GET", f"{MEDIACLIP}?action=remove&clip={DING_DONG}")
    client.device.restart(kind)
    names = {d.name for d in client.device.params.all()}
    assert f"MediaClip.M{number}.Name" not in names
    assert f"MediaClip.M{DING_DONG}.Name" in names
    assert client.device.param(f"MediaClip.M{DING_DONG}.Location") == "/etc/audioclips/ding_dong.mp3"
    assert audio_of(client.device).uploads == {}


async def test_reboot_keeps_uploads_and_stops_playback(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    data = wav()
    number = await uploaded(client, data, "mine.wav")
    await client.text("GET", f"/axis-cgi/playclip.cgi?clip={number}&repeat=-1")
    client.device.restart(RestartKind.REBOOT)
    assert (await playing(client))["Playing"] == "no"
    assert await (await client.get(f"{MEDIACLIP}?action=download&clip={number}")).read() == data


@pytest.mark.parametrize("query", ["", "action=list", "action=remove", "action=download&clip=5"])
async def test_bad_mediaclip_requests_are_refused(device_client: DeviceClientFactory, query: str) -> None:
    client = await device_client(SPEAKER)
    assert await refused(await client.get(f"{MEDIACLIP}?{query}"))


# -- 5. roles -------------------------------------------------------------------------------------------

ROLE_ACCOUNTS = [DEFAULT_ACCOUNT, AccountSpec("viewer", "vpass", "viewer"), AccountSpec("op", "opass", "operator")]
VIEWER = ("viewer", "vpass")
OPERATOR = ("op", "opass")


async def test_viewer_plays_and_stops_clips_but_not_mediaclip_cgi(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER, accounts=ROLE_ACCOUNTS)
    response = await client.get(f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}&repeat=-1", auth=VIEWER)
    assert (response.status, await response.text()) == (200, "OK\r\nplaying=25\r\n")
    assert (await playing(client, auth=VIEWER))["Playing"] == "yes"  # AudioStatus is readable by viewers
    response = await client.get("/axis-cgi/stopclip.cgi", auth=VIEWER)
    assert (response.status, await response.text()) == (200, "OK\r\nstopping\r\n")
    for query in (f"action=play&clip={CAMERA_CLICKS}", "action=stop", f"action=download&clip={CAMERA_CLICKS}",
                  f"action=remove&clip={CAMERA_CLICKS}", f"action=update&clip={CAMERA_CLICKS}&name=x"):  # fmt: skip
        assert (await client.get(f"{MEDIACLIP}?{query}", auth=VIEWER)).status == 401, query
    assert (await upload(client, wav(), "v.wav", auth=VIEWER)).status == 401
    assert (await playing(client))["Playing"] == "no"
    assert CAMERA_CLICKS in await clip_groups(client)
    assert audio_of(client.device).uploads == {}


async def test_operator_uploads_renames_and_removes(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER, accounts=ROLE_ACCOUNTS)
    response = await upload(client, wav(), "op.wav", auth=OPERATOR)
    assert (response.status, await response.text()) == (200, "OK\r\nuploaded=0\r\n")
    response = await client.get(f"{MEDIACLIP}?action=update&clip=0&name=Op", auth=OPERATOR)
    assert (response.status, await response.text()) == (200, "OK\r\nupdated=0\r\n")
    response = await client.get(f"{MEDIACLIP}?action=remove&clip=0", auth=OPERATOR)
    assert (response.status, await response.text()) == (200, "OK\r\nremoved=0\r\n")


async def test_anonymous_gets_401_everywhere(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    for path in (f"/axis-cgi/playclip.cgi?clip={CAMERA_CLICKS}", "/axis-cgi/stopclip.cgi", f"{MEDIACLIP}?action=stop"):
        assert (await client.get(path, auth=None)).status == 401, path
    assert (await playing(client))["Playing"] == "no"


# -- 6. speaker test (/vapix/axast) ---------------------------------------------------------------------


async def calibrated(client: DeviceClient) -> None:
    assert await axast(client, "CalibrateSpeakerTest") == (200, {})
    client.device.clock.advance(TEST_SECONDS + 0.1)
    assert (await report(client))["SpeakerTestStatus"] == "Calibrated"


async def test_speaker_test_starts_uncalibrated(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert await report(client) == UNCALIBRATED
    assert await params(client, "SpeakerTest") == {
        "SpeakerTest.Status": "Uncalibrated", "SpeakerTest.Calibrated": "no",
        "SpeakerTest.CalibrationTime": "", "SpeakerTest.TestTime": "",
    }  # fmt: skip
    properties = await params(client, "Properties.API.SpeakerTest")
    assert properties["Properties.API.SpeakerTest.AutomaticTest"] == "yes"


async def test_perform_before_calibration_is_the_documented_fault(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert await axast(client, "PerformSpeakerTest") == (400, fault("axast:DeviceNotCalibrated", NOT_CALIBRATED_REASON))
    response = await client.get(f"{AXAST}?format=simple&action=axast:PerformSpeakerTest")
    assert response.status == 400
    lines = (await response.text()).splitlines()
    assert lines[:3] == ['Fault="env:Receiver"', 'FaultCode="ter:Action"', 'FaultSubCode="axast:DeviceNotCalibrated"']
    assert lines[4] == "FaultMsg=null"
    assert lines[3].startswith("FaultReason=") and "prior" in lines[3]
    assert (await report(client))["SpeakerTestStatus"] == "Uncalibrated"


async def test_calibration_is_pending_for_the_test_tones_then_calibrated(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    assert await axast(client, "CalibrateSpeakerTest") == (200, {})
    assert await report(client) == {"SpeakerTestStatus": "Pending", "TestTimestamp": "", "CalibrationTimestamp": ""}
    assert (await params(client, "SpeakerTest"))["SpeakerTest.Status"] == "Pending"
    # no test while the calibration runs
    assert (await axast(client, "PerformSpeakerTest"))[1]["FaultSubCode"] == "axast:DeviceNotCalibrated"
    client.device.clock.advance(TEST_SECONDS - 0.5)
    assert (await report(client))["SpeakerTestStatus"] == "Pending"
    before = client.device.clock.wall()
    client.device.clock.advance(1)
    got = await report(client)
    assert got["SpeakerTestStatus"] == "Calibrated" and got["TestTimestamp"] == ""
    assert ISO.fullmatch(got["CalibrationTimestamp"])
    stamp = time.mktime(time.strptime(got["CalibrationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before - 1 <= stamp <= client.device.clock.wall() + 1
    assert await params(client, "SpeakerTest") == {
        "SpeakerTest.Status": "Calibrated", "SpeakerTest.Calibrated": "yes",
        "SpeakerTest.CalibrationTime": got["CalibrationTimestamp"], "SpeakerTest.TestTime": "",
    }  # fmt: skip


@pytest.mark.parametrize(("passes", "status"), [(False, "Failed"), (True, "OK")])
async def test_speaker_test_result_is_what_the_python_api_chose(
    device_client: DeviceClientFactory, passes: bool, status: str
) -> None:
    client = await device_client(SPEAKER)
    await calibrated(client)
    calibration = (await report(client))["CalibrationTimestamp"]
    audio_of(client.device).set_speaker_test_result(passes)
    assert await axast(client, "PerformSpeakerTest") == (200, {})
    assert await report(client) == {"SpeakerTestStatus": "Pending", "TestTimestamp": "",
                                    "CalibrationTimestamp": calibration}  # fmt: skip
    client.device.clock.advance(TEST_SECONDS + 0.1)
    got = await report(client)
    assert got["SpeakerTestStatus"] == status and got["CalibrationTimestamp"] == calibration
    assert ISO.fullmatch(got["TestTimestamp"])
    values = await params(client, "SpeakerTest")
    assert (values["SpeakerTest.Status"], values["SpeakerTest.Calibrated"]) == (status, "yes")
    assert values["SpeakerTest.TestTime"] == got["TestTimestamp"]


async def test_failed_then_passing_test(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await calibrated(client)
    audio = audio_of(client.device)
    for passes, status in ((False, "Failed"), (True, "OK"), (False, "Failed")):
        audio.set_speaker_test_result(passes)
        await axast(client, "PerformSpeakerTest")
        client.device.clock.advance(TEST_SECONDS + 0.1)
        assert (await report(client))["SpeakerTestStatus"] == status


async def test_speaker_test_in_the_simple_format(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    response = await client.get(f"{AXAST}?format=simple&action=axast:CalibrateSpeakerTest")
    assert (response.status, await response.text()) == (200, "")
    client.device.clock.advance(TEST_SECONDS + 0.1)
    response = await client.get(f"{AXAST}?format=simple&action=axast:GetSpeakerTestReport")
    assert response.status == 200
    values = {k: v.strip('"') for k, v in listing(await response.text()).items()}
    assert values["SpeakerTestReport_SpeakerTestStatus"] == "Calibrated"
    assert values["SpeakerTestReport_TestTimestamp"] == ""
    assert ISO.fullmatch(values["SpeakerTestReport_CalibrationTimestamp"].replace("%3A", ":"))


async def test_unknown_axast_action_is_a_fault(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    status, document = await axast(client, "SelfDestruct")
    assert status == 400 and set(document) == {"Fault", "FaultCode", "FaultSubCode", "FaultReason", "FaultMsg"}
    assert "axast:SelfDestruct" in document["FaultReason"]
    assert (await report(client))["SpeakerTestStatus"] == "Uncalibrated"


async def test_microphone_switch_off_refuses_the_speaker_test(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    audio = audio_of(client.device)
    await calibrated(client)
    audio.set_microphone_switch(False)
    for command in ("CalibrateSpeakerTest", "PerformSpeakerTest"):
        status, document = await axast(client, command)
        assert status == 400 and document["FaultSubCode"] == "axast:DisabledInHardware", command
        assert (document["Fault"], document["FaultCode"]) == ("env:Receiver", "ter:Action")
    assert (await report(client))["SpeakerTestStatus"] == "DisabledInHardware"
    audio.set_microphone_switch(True)
    assert (await report(client))["SpeakerTestStatus"] == "Calibrated"  # the calibration is still there
    assert await axast(client, "PerformSpeakerTest") == (200, {})


async def test_control_button_calibrates(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    audio_of(client.device).press_control_button()
    assert (await report(client))["SpeakerTestStatus"] == "Pending"
    client.device.clock.advance(TEST_SECONDS + 0.1)
    got = await report(client)
    assert got["SpeakerTestStatus"] == "Calibrated" and ISO.fullmatch(got["CalibrationTimestamp"])
    assert (await params(client, "SpeakerTest.Calibrated")) == {"SpeakerTest.Calibrated": "yes"}


@pytest.mark.parametrize("who", [OPERATOR, VIEWER])
async def test_speaker_test_is_for_administrators(device_client: DeviceClientFactory, who: tuple[str, str]) -> None:
    client = await device_client(SPEAKER, accounts=ROLE_ACCOUNTS)
    for command in ("CalibrateSpeakerTest", "PerformSpeakerTest", "GetSpeakerTestReport"):
        status, _ = await axast(client, command, auth=who)
        assert status == 401, command
    response = await client.get(f"{AXAST}?format=simple&action=axast:CalibrateSpeakerTest", auth=who)
    assert response.status == 401
    assert (await report(client))["SpeakerTestStatus"] == "Uncalibrated"
    assert (await params(client, "SpeakerTest.Calibrated", auth=who)) == {"SpeakerTest.Calibrated": "no"}


async def test_factory_default_forgets_the_calibration_and_a_reboot_keeps_it(
    device_client: DeviceClientFactory,
) -> None:
    client = await device_client(SPEAKER)
    await calibrated(client)
    audio_of(client.device).set_speaker_test_result(False)
    await axast(client, "PerformSpeakerTest")
    client.device.clock.advance(TEST_SECONDS + 0.1)
    kept = await report(client)
    assert kept["SpeakerTestStatus"] == "Failed"
    client.device.restart(RestartKind.REBOOT)
    assert await report(client) == kept
    assert (await params(client, "SpeakerTest.Calibrated")) == {"SpeakerTest.Calibrated": "yes"}
    response = await client.get("/axis-cgi/factorydefault.cgi")
    assert response.status == 200
    await recreate_root(client)
    assert await report(client) == UNCALIBRATED
    assert (await params(client, "SpeakerTest.Calibrated")) == {"SpeakerTest.Calibrated": "no"}
    assert (await axast(client, "PerformSpeakerTest"))[1]["FaultSubCode"] == "axast:DeviceNotCalibrated"


async def test_reboot_during_calibration_does_not_leave_it_pending(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await axast(client, "CalibrateSpeakerTest")
    client.device.restart(RestartKind.REBOOT)
    client.device.clock.advance(TEST_SECONDS * 10)
    assert (await report(client))["SpeakerTestStatus"] != "Pending"


async def test_reboot_during_a_test_keeps_the_calibration(device_client: DeviceClientFactory) -> None:
    client = await device_client(SPEAKER)
    await calibrated(client)
    await axast(client, "PerformSpeakerTest")
    client.device.restart(RestartKind.REBOOT)
    client.device.clock.advance(TEST_SECONDS * 10)
    assert (await report(client))["SpeakerTestStatus"] == "Calibrated"


# -- 7. persistence -------------------------------------------------------------------------------------


async def state_client(aiohttp_client: Any, state: Path) -> DeviceClient:
    device = make_device(SPEAKER, accounts=[DEFAULT_ACCOUNT])
    StateDir(state).attach(device)
    return DeviceClient(await aiohttp_client(build_app(device)), device)


async def test_uploaded_clip_survives_a_reload_and_removal_deletes_its_file(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await state_client(aiohttp_client, tmp_path)
    kept, dropped = wav(48000, 16, 2, seconds=0.25), mp3(320, 48000)
    keep = await uploaded(client, kept, "keep.wav", "action=upload&media=audio&name=Keep%20me")
    drop = await uploaded(client, dropped, "drop.mp3")
    kept_file = tmp_path / FILES_DIR / hashlib.sha256(kept).hexdigest()
    dropped_file = tmp_path / FILES_DIR / hashlib.sha256(dropped).hexdigest()
    assert kept_file.read_bytes() == kept and dropped_file.read_bytes() == dropped
    assert "RIFF" not in (tmp_path / "device.json").read_text()  # the state file only names the files

    again = await state_client(aiohttp_client, tmp_path)
    assert {keep, drop} <= await clip_groups(again)
    assert (await params(again, f"MediaClip.M{keep}.Name")) == {f"MediaClip.M{keep}.Name": "Keep me"}
    response = await again.get(f"{MEDIACLIP}?action=download&clip={keep}")
    assert (response.headers["Content-Type"], await response.read()) == ("audio/wav", kept)
    assert await again.text("GET", f"{MEDIACLIP}?action=remove&clip={drop}") == f"OK\r\nremoved={drop}\r\n"
    assert not dropped_file.exists() and kept_file.exists()

    third = await state_client(aiohttp_client, tmp_path)
    assert drop not in await clip_groups(third)
    assert await (await third.get(f"{MEDIACLIP}?action=download&clip={keep}")).read() == kept
    assert sorted(p.name for p in (tmp_path / FILES_DIR).iterdir()) == [kept_file.name]


async def test_calibration_and_switch_survive_a_reload(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await state_client(aiohttp_client, tmp_path)
    await calibrated(client)
    calibration = (await report(client))["CalibrationTimestamp"]
    audio_of(client.device).set_microphone_switch(False)
    again = await state_client(aiohttp_client, tmp_path)
    assert (await report(again))["SpeakerTestStatus"] == "DisabledInHardware"
    audio_of(again.device).set_microphone_switch(True)
    assert await report(again) == {"SpeakerTestStatus": "Calibrated", "TestTimestamp": "",
                                   "CalibrationTimestamp": calibration}  # fmt: skip


async def test_reload_during_a_test_keeps_the_calibration(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await state_client(aiohttp_client, tmp_path)
    await calibrated(client)
    await axast(client, "PerformSpeakerTest")
    client.device.changed()  # anything saved while the test tones play
    again = await state_client(aiohttp_client, tmp_path)
    got = await report(again)
    assert (got["SpeakerTestStatus"], got["TestTimestamp"]) == ("Calibrated", "")
    assert ISO.fullmatch(got["CalibrationTimestamp"])


async def test_factory_default_deletes_uploaded_files_from_the_state_dir(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await state_client(aiohttp_client, tmp_path)
    await uploaded(client, au(16000), "a.au")
    assert len(list((tmp_path / FILES_DIR).iterdir())) == 1
    client.device.restart(RestartKind.SOFT)
    assert list((tmp_path / FILES_DIR).iterdir()) == []


# -- 8. other models ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [f"{MEDIACLIP}?action=stop", "/axis-cgi/playclip.cgi?clip=0", "/axis-cgi/stopclip.cgi", AXAST]
)
async def test_recorder_has_no_audio_apis(device_client: DeviceClientFactory, path: str) -> None:
    client = await device_client("S3008")
    assert (await client.get(path)).status == 404
