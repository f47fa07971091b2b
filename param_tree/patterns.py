"""Group patterns as `param.cgi` accepts them.

`group=` takes a comma-separated list; each item is a group, a subgroup or a
single parameter, with or without the `root.` prefix, and may use `*` (and `?`)
as a shell-style glob inside a path segment (`ImageSource.*.Name`,
`Image.I*.Appearance`). The reply echoes the prefix as it was requested.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fnmatch import fnmatchcase

ROOT = "root"


@dataclass(frozen=True, slots=True)
class GroupPattern:
    """One item of a `group=` list."""

    text: str  # exactly as requested, for error messages
    segments: tuple[str, ...]  # without the leading root segment
    rooted: bool  # whether the request wrote `root.`

    @property
    def is_glob(self) -> bool:
        return any("*" in s or "?" in s or "[" in s for s in self.segments)

    @property
    def dotted(self) -> str:
        return ".".join(self.segments)

    def matches(self, path: tuple[str, ...]) -> bool:
        """Whether a parameter path lies in (or is) what the pattern names."""
        if len(path) < len(self.segments):
            return False
        return all(fnmatchcase(p, s) for p, s in zip(path, self.segments, strict=False))


def parse_pattern(text: str) -> GroupPattern:
    segments = tuple(text.split("."))
    rooted = segments[0] == ROOT
    if rooted:
        segments = segments[1:]
    return GroupPattern(text=text, segments=segments, rooted=rooted)


@functools.lru_cache(maxsize=1024)
def parse_group_list(text: str) -> tuple[GroupPattern, ...]:
    """Split a `group=` value on commas, keeping empty items (they are errors).
    Cached: every device of a fleet is asked for the same few groups."""
    return tuple(parse_pattern(item) for item in text.split(","))


def is_valid_pattern(pattern: GroupPattern) -> bool:
    """An item names something only if it has no empty segment."""
    if not pattern.segments:
        return pattern.rooted  # bare `root` means everything
    return all(pattern.segments)
