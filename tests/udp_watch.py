"""Every UDP datagram that reaches a network interface from elsewhere, captured below the sockets
(an AF_PACKET socket: multicast, broadcast and unicast alike, whoever listens), as a script in the
LAN namespace: `python3 tests/udp_watch.py INTERFACE SECONDS`. It prints {"ready": true}, sends an
mDNS query for `_axis-video._tcp.local.` and an SSDP `M-SEARCH ssdp:all` (something for a responder
to answer), repeats them every second, and once a datagram to port 9 (discard: the test's end
marker) arrives, or SECONDS have passed, prints one JSON line: the datagrams it received, each
{"src", "dst", "sport", "dport"}, the marker last. Used by tests/test_discovery_netns.py to show that
a site with discovery off sends nothing (events.md §6: the announcements are mDNS on 5353 and SSDP
on 1900, both UDP). Linux only, root.
"""

from __future__ import annotations

import ipaddress
import json
import select
import socket
import struct
import sys
import time

from tests.ssdp_search import GROUP as SSDP_GROUP
from tests.ssdp_search import search_message

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MDNS_GROUP = ("224.0.0.251", 5353)
END_MARKER_PORT = 9  # discard


def mdns_query(name: str = "_axis-video._tcp.local.") -> bytes:
    """One PTR question, as a browser asks (RFC 6762)."""
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.rstrip(".").split("."))
    return struct.pack("!6H", 0, 0, 1, 0, 0, 0) + labels + b"\x00" + struct.pack("!2H", 12, 1)


def udp_of(frame: bytes) -> dict[str, object] | None:
    """The addresses and ports of an Ethernet frame carrying UDP over IPv4 or IPv6 (None: not UDP)."""
    kind = int.from_bytes(frame[12:14], "big")
    packet = frame[14:]
    if kind == 0x0800 and len(packet) >= 20 and packet[9] == 17:
        start = (packet[0] & 0x0F) * 4
        src, dst = ipaddress.ip_address(packet[12:16]), ipaddress.ip_address(packet[16:20])
    elif kind == 0x86DD and len(packet) >= 40 and packet[6] == 17:
        start = 40
        src, dst = ipaddress.ip_address(packet[8:24]), ipaddress.ip_address(packet[24:40])
    else:
        return None
    sport, dport = struct.unpack("!2H", packet[start : start + 4])
    return {"src": str(src), "dst": str(dst), "sport": sport, "dport": dport}


def watch(interface: str, seconds: float) -> list[dict[str, object]]:
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    capture.bind((interface, 0))
    asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    asker.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    asker.bind(("", 0))
    print(json.dumps({"ready": True}), flush=True)
    seen: list[dict[str, object]] = []
    deadline, next_ask = time.monotonic() + seconds, 0.0
    try:
        while (left := deadline - time.monotonic()) > 0:
            if time.monotonic() >= next_ask:
                asker.sendto(mdns_query(), MDNS_GROUP)
                asker.sendto(search_message("ssdp:all"), SSDP_GROUP)
                next_ask = time.monotonic() + 1.0
            ready, _, _ = select.select([capture], [], [], min(left, 0.2))
            if not ready:
                continue
            frame, address = capture.recvfrom(65535)
            if address[2] == PACKET_OUTGOING:
                continue  # this namespace's own questions
            datagram = udp_of(frame)
            if datagram is not None:
                seen.append(datagram)
                if datagram["dport"] == END_MARKER_PORT:
                    break
    finally:
        capture.close()
        asker.close()
    return seen


if __name__ == "__main__":
    print(json.dumps(watch(sys.argv[1], float(sys.argv[2]))), flush=True)
