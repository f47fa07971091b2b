"""Which uploaded sound files the speaker plays (manual, "Problems with sound files").

- .au: mu-law, 8 or 16 kHz;
- .wav: PCM, 8 or 16-bit, mono or stereo, 8 to 48 kHz;
- .mp3: mono or stereo, 64 to 320 kbps, 8 to 48 kHz;
- .opus and .vorbis (Ogg), which the web interface also accepts ("Add clip") and
  `Properties.AudioClip.Format` lists.

The file's content decides its format; a name whose extension says otherwise is
refused, as is anything else. The duration is what playback lasts.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

AU_RATES = (8000, 16000)
WAV_RATES = (8000, 48000)
MP3_KBPS = (64, 320)
MP3_RATES = (8000, 48000)
EXTENSIONS = {"au": "au", "wav": "wav", "mp3": "mp3", "opus": "opus", "ogg": None, "oga": None, "vorbis": "vorbis"}
CONTENT_TYPES = {
    "au": "audio/basic",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "vorbis": "audio/ogg",
}

_MP3_BITRATES = {
    # (MPEG-1 layer III, MPEG-2/2.5 layer III) in kbps, by bitrate index 1..14
    1: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


class ClipFormatError(ValueError):
    """A file the speaker cannot play; the message says why."""


@dataclass(frozen=True, slots=True)
class SoundFile:
    format: str  # au, wav, mp3, opus, vorbis
    sample_rate: int
    channels: int
    duration: float  # seconds
    bits: int = 0  # wav
    kbps: int = 0  # mp3

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def inspect(data: bytes, filename: str = "") -> SoundFile:
    """The sound file in `data`; ClipFormatError when the speaker would refuse it."""
    if data.startswith(b".snd"):
        found = _au(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        found = _wav(data)
    elif data.startswith(b"OggS"):
        found = _ogg(data)
    elif data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        found = _mp3(data)
    else:
        raise ClipFormatError("unsupported file format (supported: au, wav, mp3, opus, vorbis)")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension:
        if extension not in EXTENSIONS:
            raise ClipFormatError(f"unsupported file type .{extension}")
        named = EXTENSIONS[extension]
        if named is not None and named != found.format:
            raise ClipFormatError(f"the file is {found.format}, not .{extension}")
    return found


def _au(data: bytes) -> SoundFile:
    if len(data) < 24:
        raise ClipFormatError("au: truncated header")
    offset, size, encoding, rate, channels = struct.unpack(">IIIII", data[4:24])
    if encoding != 1:
        raise ClipFormatError("au: only mu-law encoding is supported")
    if rate not in AU_RATES:
        raise ClipFormatError(f"au: sample rate {rate} Hz is not 8 or 16 kHz")
    if channels not in (1, 2) or offset < 24 or offset > len(data):
        raise ClipFormatError("au: malformed header")
    available = len(data) - offset
    frames = (available if size == 0xFFFFFFFF else min(size, available)) / channels
    return SoundFile("au", rate, channels, frames / rate)


def _chunks(data: bytes, start: int) -> dict[bytes, bytes]:
    chunks: dict[bytes, bytes] = {}
    position = start
    while position + 8 <= len(data):
        name, size = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])[0]
        chunks.setdefault(name, data[position + 8 : position + 8 + size])
        position += 8 + size + (size & 1)
    return chunks


def _wav(data: bytes) -> SoundFile:
    chunks = _chunks(data, 12)
    fmt = chunks.get(b"fmt ")
    if fmt is None or len(fmt) < 16 or b"data" not in chunks:
        raise ClipFormatError("wav: missing fmt or data chunk")
    encoding, channels, rate, byte_rate, _align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if encoding != 1:
        raise ClipFormatError("wav: only PCM encoding is supported")
    if bits not in (8, 16):
        raise ClipFormatError(f"wav: {bits}-bit samples are not 8 or 16-bit")
    if channels not in (1, 2):
        raise ClipFormatError(f"wav: {channels} channels is not mono or stereo")
    if not WAV_RATES[0] <= rate <= WAV_RATES[1]:
        raise ClipFormatError(f"wav: sample rate {rate} Hz is not 8 to 48 kHz")
    if byte_rate != rate * channels * bits // 8:
        raise ClipFormatError("wav: malformed fmt chunk")
    return SoundFile("wav", rate, channels, len(chunks[b"data"]) / byte_rate, bits=bits)


def _mp3_header(data: bytes, position: int) -> tuple[int, int, int, int] | None:
    """(kbps, sample rate, channels, frame length) of a layer III frame header at `position`."""
    if position + 4 > len(data):
        return None
    b1, b2, b3 = data[position + 1], data[position + 2], data[position + 3]
    if data[position] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    kbps = _MP3_BITRATES[1 if version == 3 else 2][bitrate_index - 1]
    rate = _MP3_RATES[version][rate_index]
    samples = 1152 if version == 3 else 576
    length = samples // 8 * kbps * 1000 // rate + padding
    channels = 1 if b3 >> 6 == 3 else 2
    return kbps, rate, channels, length


def _mp3(data: bytes) -> SoundFile:
    position = 0
    if data.startswith(b"ID3") and len(data) >= 10:
        size = data[6:10]
        position = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    header = _mp3_header(data, position)
    if header is None:
        raise ClipFormatError("mp3: no MPEG layer III frame")
    kbps, rate, channels, length = header
    following = _mp3_header(data, position + length)
    if following is None and position + length < len(data):
        raise ClipFormatError("mp3: malformed frames")
    if not MP3_KBPS[0] <= kbps <= MP3_KBPS[1]:
        raise ClipFormatError(f"mp3: bitrate {kbps} kbps is not 64 to 320 kbps")
    if not MP3_RATES[0] <= rate <= MP3_RATES[1]:
        raise ClipFormatError(f"mp3: sample rate {rate} Hz is not 8 to 48 kHz")
    return SoundFile("mp3", rate, channels, (len(data) - position) * 8 / (kbps * 1000), kbps=kbps)


def _ogg(data: bytes) -> SoundFile:
    if len(data) < 28:
        raise ClipFormatError("ogg: truncated")
    segments = data[26]
    body = data[27 + segments : 27 + segments + 19]
    if body.startswith(b"OpusHead") and len(body) >= 16:
        channels, rate, kind = body[9], 48000, "opus"
    elif body.startswith(b"\x01vorbis") and len(body) >= 16:
        channels, rate, kind = body[11], struct.unpack("<I", body[12:16])[0], "vorbis"
    else:
        raise ClipFormatError("ogg: neither Opus nor Vorbis")
    if channels not in (1, 2) or not 8000 <= rate <= 48000:
        raise ClipFormatError(f"{kind}: unsupported channels or sample rate")
    last = data.rfind(b"OggS")
    granule = struct.unpack("<q", data[last + 6 : last + 14])[0] if last + 14 <= len(data) else 0
    return SoundFile(kind, rate, channels, max(granule, 0) / rate)


# -- files the device ships with (their bytes are generated, not stored) -----------------


def silent_au(seconds: float, rate: int = 16000) -> bytes:
    frames = int(seconds * rate)
    return struct.pack(">4sIIIII", b".snd", 24, frames, 1, rate, 1) + b"\xff" * frames


def silent_mp3(seconds: float) -> bytes:
    """MPEG-1 layer III, 128 kbps, 44.1 kHz mono frames of silence (all-zero side info)."""
    frame = bytes((0xFF, 0xFB, 0x90, 0xC0)) + bytes(413)  # 417-byte frames, no padding
    count = max(1, round(seconds * 44100 / 1152))
    return frame * count
