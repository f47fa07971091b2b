"""RTP packets of the metadata stream (events.md §3.5): one XML document per frame, split over
packets of at most 1400 bytes with consecutive sequence numbers and one timestamp, the marker bit
on the last; a 12-byte header (v2, no CSRC, no extension), payload type 98, a 90 kHz clock and one
SSRC per session (the `ssrc=` of the SETUP reply)."""

from __future__ import annotations

import os
import struct

PAYLOAD_TYPE = 98
CLOCK_RATE = 90_000
MAX_PACKET = 1400
HEADER = 12
_HEADER = struct.Struct("!BBHII")


class RtpStream:
    """Sequence numbers, timestamps and SSRC of one session's stream."""

    __slots__ = ("_offset", "seq", "ssrc")

    def __init__(self) -> None:
        self.ssrc = int.from_bytes(os.urandom(4), "big")
        self.seq = int.from_bytes(os.urandom(2), "big")  # RFC 3550: random first sequence number
        self._offset = int.from_bytes(os.urandom(4), "big")  # and random first timestamp

    def timestamp(self, wall: float) -> int:
        """The 90 kHz RTP time of a wall-clock time."""
        return (self._offset + int(wall * CLOCK_RATE)) & 0xFFFFFFFF

    def packets(self, payload: bytes, wall: float) -> list[bytes]:
        """The packets of one document, in order."""
        stamp = self.timestamp(wall)
        size = MAX_PACKET - HEADER
        chunks = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
        packets = []
        for number, chunk in enumerate(chunks, 1):
            marker = 0x80 if number == len(chunks) else 0
            packets.append(_HEADER.pack(0x80, marker | PAYLOAD_TYPE, self.seq, stamp, self.ssrc) + chunk)
            self.seq = (self.seq + 1) & 0xFFFF
        return packets


def interleaved(channel: int, packet: bytes) -> bytes:
    """A packet on the RTSP connection (RFC 2326 §10.12): `$`, channel, 16-bit length, packet."""
    return b"$" + bytes((channel,)) + len(packet).to_bytes(2, "big") + packet
