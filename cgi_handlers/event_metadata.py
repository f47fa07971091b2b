"""One device event as the ONVIF metadata document of the RTSP event stream (events.md §3.6).

The layout is the one Axis devices send [REC Kane610 packet captures]: the XML declaration, a newline,
`tt:MetadataStream`, a newline, then the whole `tt:Event` on one line, one `wsnt:NotificationMessage`
(two crash the `axis` library), a `wsnt:Topic` with its `Dialect` attribute (a bare one crashes it too),
`UtcTime` with six fractional digits, `PropertyOperation` only on property states, an empty
`tt:Key`, an empty `tt:Source` for sourceless topics, and a newline after the root's end tag.
Topics keep their `tns1:`/`tnsaxis:` spelling (§0.3); values are the bus's strings (§0.4).
"""

from __future__ import annotations

import re
import time
import uuid
from xml.sax.saxutils import escape

from axisim.events import Event

INITIALIZED, CHANGED = "Initialized", "Changed"  # events.md §0.5: the first message per instance, then changes

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">\n'
_EVENT = (
    '<tt:Event><wsnt:NotificationMessage xmlns:tns1="http://www.onvif.org/ver10/topics" '
    'xmlns:tnsaxis="http://www.axis.com/2009/event/topics" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
    'xmlns:wsa5="http://www.w3.org/2005/08/addressing">'
    '<wsnt:Topic Dialect="http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple">'
)
_TAIL = "</tt:Message></wsnt:Message></wsnt:NotificationMessage></tt:Event></tt:MetadataStream>\n"
# characters XML 1.0 cannot carry (a value a client configured may hold them): replaced, never sent
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def producer_address(serial: str) -> str:
    """`uri://<uuid>/ProducerReference`, one stable UUID per device (events.md §3.6)."""
    return f"uri://{uuid.uuid5(uuid.NAMESPACE_OID, 'axisim-producer-' + serial)}/ProducerReference"


def utc_time(wall: float) -> str:
    """ISO 8601 UTC with six fractional digits and `Z`: `2019-01-15T07:50:45.206264Z`."""
    micros = round(wall * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:06d}Z"


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def _attr(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value), {'"': "&quot;"})


def _items(items: dict[str, str]) -> str:
    return "".join(f'<tt:SimpleItem Name="{_attr(name)}" Value="{_attr(value)}"/>' for name, value in items.items())


def metadata_document(event: Event, producer: str, operation: str | None = CHANGED) -> bytes:
    """The document of one event; `operation` is Initialized or Changed for a property state and
    ignored for a pulse (pulses carry no PropertyOperation)."""
    op = f' PropertyOperation="{operation}"' if event.stateful and operation else ""
    return (
        f"{_HEAD}{_EVENT}{_text(event.topic)}</wsnt:Topic>"
        f"<wsnt:ProducerReference><wsa5:Address>{_text(producer)}</wsa5:Address></wsnt:ProducerReference>"
        f'<wsnt:Message><tt:Message UtcTime="{utc_time(event.time)}"{op}>'
        f"<tt:Source>{_items(event.source)}</tt:Source><tt:Key></tt:Key><tt:Data>{_items(event.data)}</tt:Data>"
        f"{_TAIL}"
    ).encode()
