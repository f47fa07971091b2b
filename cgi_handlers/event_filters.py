"""The filters of `events:configure` (events.md §2.3): a topic filter and an optional content filter
per `eventFilterList` entry.

Topic filters go through the bus's one matcher (`axisim.events.topic_matches`: `a/b//.`, `//.`,
`|`, exact); clients write them in the declaration spelling (`tns1:`/`tnsaxis:`) or with the
`onvif:`/`axis:` prefixes of the RTSP and MQTT filters (events.md §0.3), so those are converted
first. Content filters: the ItemFilter form the reference documents,
`boolean(//SimpleItem[@Name="port" and @Value="1"])`, several joined by ` and ` or ` or `; an
item matches a source or a data item of the event. Anything else is refused (2104), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from axisim.events import Event, topic_matches

PREFIXES = {"onvif": "tns1", "axis": "tnsaxis"}  # the RTSP/MQTT spelling -> the stream's (§0.3)
MAX_FILTERS = 64
MAX_FILTER_TEXT = 1024
_ITEM = re.compile(r'\s*boolean\(\s*//SimpleItem\[\s*@Name\s*=\s*"([^"]*)"\s+and\s+@Value\s*=\s*"([^"]*)"\s*\]\s*\)\s*')
_JOIN = re.compile(r"(?<=\))\s+(and|or)\s+(?=boolean\s*\()")


class FilterError(ValueError):
    """A filter entry that is not one the device understands (error 2104)."""


def spelled(pattern: str) -> str:
    """A topic filter in the stream's spelling: `onvif:Device/axis:IO//.` -> `tns1:Device/tnsaxis:IO//.`."""
    segments = []
    for segment in pattern.strip().split("/"):
        prefix, colon, rest = segment.partition(":")
        segments.append(f"{PREFIXES[prefix]}:{rest}" if colon and prefix in PREFIXES else segment)
    return "/".join(segments)


@dataclass(frozen=True, slots=True)
class ContentFilter:
    """Items (name, value) an event must carry: all of them (`and`) or any one (`or`)."""

    items: tuple[tuple[str, str], ...]
    any_of: bool = False

    def matches(self, event: Event) -> bool:
        found = (event.source.get(n, event.data.get(n)) == v for n, v in self.items)
        return any(found) if self.any_of else all(found)


def content_filter(text: str) -> ContentFilter:
    """Parse `boolean(//SimpleItem[@Name="n" and @Value="v"])` [and|or boolean(...)]..."""
    pieces = _JOIN.split(text)
    parts, joins = pieces[::2], set(pieces[1::2])
    if len(joins) > 1:
        raise FilterError("a content filter joins its items with and or with or, not both")
    items = []
    for part in parts:
        match = _ITEM.fullmatch(part)
        if match is None:
            raise FilterError(f"unsupported content filter: {text[:80]}")
        items.append((match.group(1), match.group(2)))
    return ContentFilter(tuple(items), any_of=joins == {"or"})


@dataclass(frozen=True, slots=True)
class EventFilter:
    """One `eventFilterList` entry: its own subscription (an event matching two entries is sent twice)."""

    topic: str  # in the stream's spelling; "" = every topic
    content: ContentFilter | None = None

    def matches(self, event: Event) -> bool:
        return (not self.topic or topic_matches(self.topic, event.topic)) and (
            self.content is None or self.content.matches(event)
        )

    @property
    def shown(self) -> str:
        """How the journal lists it."""
        return self.topic or "//." if self.content is None else f"{self.topic or '//.'} {self.content.items}"


def parse_filters(entries: object) -> list[EventFilter]:
    """`params.eventFilterList` as the device reads it; FilterError for anything it would refuse."""
    if not isinstance(entries, list) or len(entries) > MAX_FILTERS:
        raise FilterError("eventFilterList is a list of up to 64 filters")
    filters = []
    for entry in entries:
        if not isinstance(entry, dict) or not ({"topicFilter", "contentFilter"} & entry.keys()):
            raise FilterError("a filter has a topicFilter and/or a contentFilter")
        topic, content = entry.get("topicFilter", ""), entry.get("contentFilter")
        if not isinstance(topic, str) or len(topic) > MAX_FILTER_TEXT:
            raise FilterError("topicFilter is a string")
        if content is not None and (not isinstance(content, str) or len(content) > MAX_FILTER_TEXT):
            raise FilterError("contentFilter is a string")
        filters.append(EventFilter(spelled(topic), content_filter(content) if content else None))
    return filters
