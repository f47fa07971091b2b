"""The RTSP metadata event stream of a device (events.md §3): `RtspServer` per device, started
and stopped with its HTTP listeners (axisim/server.py `start_device(rtsp_ports=...)`)."""

from .listener import SESSION_TIMEOUT, RtspListenError, RtspServer

RTSP_PORT = 554  # where the `axis` library dials, always (events.md §3.1)
RTSP_OFFSET = 474  # remapped beside the HTTP port where 554 cannot be had: 8080 -> 8554

__all__ = [
    "RTSP_OFFSET", "RTSP_PORT", "SESSION_TIMEOUT", "RtspListenError", "RtspServer", "default_ports",
    "rtsp_block_problem",
]  # fmt: skip


def default_ports(http_port: int) -> tuple[int, ...]:
    """554 first, then the HTTP port + 474 (8080 -> 8554; any free port when HTTP takes any)."""
    if http_port == 0:
        return (RTSP_PORT, 0)
    remapped = http_port + RTSP_OFFSET
    return (RTSP_PORT, remapped) if remapped <= 65535 else (RTSP_PORT, 0)


def rtsp_block_problem(first: int, size: int, others: dict[str, int]) -> str | None:
    """Why a fleet's block of `size` RTSP ports from `first` (ports mode) cannot be had: past 65535,
    or overlapping another block of the same size (name -> its first port); None when it can."""
    if not first:
        return None
    last = first + size - 1
    if last > 65535:
        return (
            f"the RTSP ports ({first} to {last}) run past 65535; lower the base port or set the first RTSP "
            "port (--rtsp-port; rtsp_port in a fleet file), or turn RTSP off (--no-rtsp; rtsp = false)"
        )
    for what, low in others.items():
        if low and first <= low + size - 1 and low <= last:
            return (
                f"the RTSP ports ({first} to {last}) overlap the {what} ports ({low} to {low + size - 1}); "
                "choose another first RTSP port (--rtsp-port; rtsp_port in a fleet file)"
            )
    return None
