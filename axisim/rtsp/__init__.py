"""The RTSP metadata event stream of a device (events.md §3): `RtspServer` per device, started
and stopped with its HTTP listeners (axisim/server.py `start_device(rtsp_ports=...)`)."""

from .listener import SESSION_TIMEOUT, RtspListenError, RtspServer

RTSP_PORT = 554  # where the `axis` library dials, always (events.md §3.1)
RTSP_OFFSET = 474  # remapped beside the HTTP port where 554 cannot be had: 8080 -> 8554

__all__ = ["RTSP_OFFSET", "RTSP_PORT", "SESSION_TIMEOUT", "RtspListenError", "RtspServer", "default_ports"]


def default_ports(http_port: int) -> tuple[int, ...]:
    """554 first, then the HTTP port + 474 (8080 -> 8554; any free port when HTTP takes any)."""
    if http_port == 0:
        return (RTSP_PORT, 0)
    remapped = http_port + RTSP_OFFSET
    return (RTSP_PORT, remapped) if remapped <= 65535 else (RTSP_PORT, 0)
