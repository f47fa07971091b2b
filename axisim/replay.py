"""A recorded model's replies (`replies/index.json` and its body files): which recorded request a
request is, the nearest one when none is, and each served device's identity in place of the
placeholder identity the recording was anonymised to (fixtures/README.md, "Recorded models").

Pure: the wire layer (`cgi_handlers/replay.py`) gives a request's method, path, query, Content-Type
and body, and sends what it gets back. Loaded once per model (the index eagerly, so a broken fixture
is refused when the model loads; each body file on its first use).

Matching: method and path exactly, the query as parsed pairs (order ignored) and the body by kind:
JSON as parsed JSON with the AJR `context` left out (each client sends its own), form bodies as
parsed pairs, XML (SOAP) as parsed XML (namespace URIs, not prefixes; whitespace between elements
ignored), anything else byte for byte. A CGI's form request matches across GET and POST: the pairs
of the query and of a form body (or none) together, as Apache hands either to the CGI alike
(vapix-wire.md §0.3: clients POST forms where others GET them).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from param_tree import Role

from .identity import Identity
from .jsonread import JsonError, read_json

MAX_ENTRIES = 20_000
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_COMPARED = 1000  # characters of a request compared when looking for the nearest one
NEAREST_COMPARED = 8  # recorded requests whose similarity is computed in full for one miss
NEAR_PATH = 0.6  # a path this similar to a recorded one is offered as nearest when its own has none
ROLES = {"anonymous": Role.ANONYMOUS, "viewer": Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
DEFAULT_ROLE = Role.VIEWER  # GUESS: most read methods of the VAPIX APIs are viewer-level
KEPT_HEADERS = ("Content-Type", "WWW-Authenticate", "Content-Disposition")  # Server: the quirk (axisim/quirks.py)
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)


class ReplayError(ValueError):
    """A `replies/` folder that does not follow the recorded format."""


@dataclass(frozen=True, slots=True)
class RecordedReply:
    """One recorded request and what the device answered."""

    number: int  # its place in index.json, from 1
    api: str
    method: str
    path: str
    query: str
    request_content_type: str
    request_body: str
    status: int | None  # None: the call failed without a reply (timeout, connection error)
    headers: tuple[tuple[str, str], ...]
    body_file: str | None
    failed: str | None
    role: Role  # the least role a caller needs to be answered from it
    key: Hashable = field(compare=False)  # the request as matched (canonical query and body)
    text: str = field(compare=False)  # the request as compared for "nearest"

    @property
    def replayable(self) -> bool:
        return self.status is not None

    @property
    def json_request(self) -> bool:
        """The request was JSON (an AJR call: its reply's `context` follows the caller's)."""
        return self.key[1][0] == "json"  # type: ignore[index]

    def summary(self, similarity: float | None = None) -> dict[str, Any]:
        """As the journal shows it, next to a request that matched nothing."""
        shown: dict[str, Any] = {
            "entry": self.number, "api": self.api, "method": self.method, "path": self.path, "query": self.query,
            "request_body": self.request_body[:500], "status": self.status,
        }  # fmt: skip
        if self.failed:
            shown["failed"] = self.failed
        if similarity is not None:
            shown["similarity"] = round(similarity, 3)
        return shown


def _frozen(value: Any) -> Hashable:
    """A JSON value as a hashable one (objects compared whatever their key order)."""
    if isinstance(value, dict):
        return ("{", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("[", tuple(_frozen(v) for v in value))
    return value


def _xml_key(element: etree._Element) -> Hashable:
    if not isinstance(element.tag, str):
        return ()
    children = tuple(_xml_key(child) for child in element if isinstance(child.tag, str))
    text = (element.text or "").strip()
    return (element.tag, tuple(sorted(element.attrib.items())), text, children)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(text, keep_blank_values=True)))


def body_key(body: bytes, content_type: str) -> tuple[Hashable, str]:
    """The body as matched, and as compared for "nearest" (text)."""
    stripped = body.strip()
    if not stripped:
        return ("empty",), ""
    if stripped[:1] in (b"{", b"["):
        try:
            document = read_json(stripped)
        except JsonError:
            pass
        else:
            if isinstance(document, dict):
                document.pop("context", None)
            return ("json", _frozen(document)), json.dumps(document, sort_keys=True)
    if stripped[:1] == b"<" and b"<!DOCTYPE" not in stripped and b"<!ENTITY" not in stripped:
        try:
            root = etree.fromstring(stripped, _XML_PARSER)
        except (etree.XMLSyntaxError, ValueError):
            pass
        else:
            key = _xml_key(root)
            return ("xml", key), repr(key)
    text = body.decode("utf-8", "replace")
    kind = content_type.partition(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "text/plain", "") and "=" in text and "\n" not in text.strip():
        pairs = _pairs(text.strip())
        return ("form", pairs), "&".join(f"{k}={v}" for k, v in pairs)
    return ("raw", body), text


def request_key(query: str, body: bytes, content_type: str) -> tuple[Hashable, str]:
    key, text = body_key(body, content_type)
    pairs = _pairs(query)
    return (pairs, key), (f"{query}\n{text}" if query else text)


def form_of(key: Hashable) -> tuple[tuple[str, str], ...] | None:
    """A form request's pairs, query and body together (None: the body is not a form)."""
    pairs, body = key  # type: ignore[misc]
    if body[0] == "empty":
        return pairs  # type: ignore[no-any-return]
    if body[0] == "form":
        return tuple(sorted(pairs + body[1]))
    return None


FORM_METHODS = ("GET", "POST")


Replacement = tuple[bytes, frozenset[int], frozenset[int]]  # the device's form; bytes not allowed before, after
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_DIGITS = frozenset(b"0123456789")
_DIGITS_DOT = frozenset(b"0123456789.")


class Substitution:
    """The placeholder identity's forms -> one device's; `apply` rewrites bytes in one pass. The
    pattern is a plain alternation of the forms (a lookbehind in it costs six times as much); the
    edges are checked per match: a hex form not inside a longer hex run, an address not inside a
    longer one."""

    __slots__ = ("_mapping", "_pattern")

    def __init__(self, pattern: re.Pattern[bytes], mapping: dict[bytes, Replacement]) -> None:
        self._pattern = pattern
        self._mapping = mapping

    def _one(self, match: re.Match[bytes]) -> bytes:
        found = match.group(0)
        own, before, after = self._mapping[found]
        data, start, end = match.string, match.start(), match.end()
        if (start and data[start - 1] in before) or (end < len(data) and data[end] in after):
            return found
        return own

    def apply(self, data: bytes) -> bytes:
        return self._pattern.sub(self._one, data)

    def text(self, value: str) -> str:
        return self.apply(value.encode("latin-1", "replace")).decode("latin-1")


def identity_forms(identity: Identity) -> dict[str, str]:
    """How an identity shows in a device's replies, by kind (vapix-wire.md §7): the serial (= bare
    MAC; inside the host name `axis-<serial lower>` and the realm `AXIS_<serial>`), the MAC with colons
    and dashes, each in upper and lower case, the IP address, the SoC serial."""
    serial, mac = identity.serial, identity.mac
    network = identity.placeholders()  # the gateway and broadcast the anonymiser gave the recording
    forms = {
        "serial": serial, "serial_lower": serial.lower(), "mac": mac, "mac_lower": mac.lower(),
        "mac_dash": mac.replace(":", "-"), "mac_dash_lower": mac.replace(":", "-").lower(),
        "soc": identity.soc_serial, "soc_lower": identity.soc_serial.lower(),
        "ip": identity.ip, "gateway": network["gateway"], "broadcast": network["broadcast"],
    }  # fmt: skip
    return forms


ADDRESS_FORMS = ("ip", "gateway", "broadcast")


def _placeholder_pattern(forms: dict[str, str]) -> re.Pattern[bytes]:
    """Every form, the longest first (a MAC before the serial it contains)."""
    longest_first = sorted(set(forms.values()) - {""}, key=len, reverse=True)
    return re.compile(b"|".join(re.escape(v.encode()) for v in longest_first))


class Replies:
    """The recorded replies of one model, shared by all its devices."""

    def __init__(self, folder: Traversable, entries: list[RecordedReply], placeholder: Identity) -> None:
        self.folder = folder
        self.entries = entries
        self.placeholder = placeholder
        self._identity_forms = identity_forms(placeholder)
        self.pattern = _placeholder_pattern(self._identity_forms)
        self._exact: dict[tuple[str, str, Hashable], RecordedReply] = {}
        self._forms: dict[tuple[str, Hashable], RecordedReply] = {}  # (path, pairs) of GET/POST form requests
        self._by_path: dict[str, list[RecordedReply]] = {}
        for entry in entries:
            self._by_path.setdefault(entry.path, []).append(entry)
            if entry.replayable:
                self._exact.setdefault((entry.method, entry.path, entry.key), entry)  # the first recorded wins
                form = form_of(entry.key) if entry.method in FORM_METHODS else None
                if form is not None:
                    self._forms.setdefault((entry.path, form), entry)
        self._bodies: dict[int, tuple[bytes, bool]] = {}

    @classmethod
    def load(cls, folder: Traversable, placeholder: Identity) -> Replies:
        """`<folder>/replies/index.json` (no folder: no replies); ReplayError when it is broken."""
        index = folder / "replies" / "index.json"
        if not index.is_file():
            return cls(folder, [], placeholder)
        try:
            raw = index.read_bytes()
            document = read_json(raw, max_bytes=MAX_INDEX_BYTES, max_depth=8)
        except (OSError, JsonError) as exc:
            raise ReplayError(f"replies/index.json: {exc}") from exc
        if not isinstance(document, list) or len(document) > MAX_ENTRIES:
            raise ReplayError(f"replies/index.json is a list of at most {MAX_ENTRIES} recorded requests")
        return cls(folder, [_entry(number, item) for number, item in enumerate(document, 1)], placeholder)

    def __len__(self) -> int:
        return len(self.entries)

    def paths(self) -> set[str]:
        return set(self._by_path)

    def least_role(self, path: str) -> Role | None:
        """The least role of the replayable requests recorded on `path` (None: none is)."""
        return min((e.role for e in self._by_path.get(path, ()) if e.replayable), default=None)

    def find(self, method: str, path: str, query: str, content_type: str, body: bytes) -> RecordedReply | None:
        """The recorded request this one is (None: none is)."""
        if path not in self._by_path:
            return None
        key, _ = request_key(query, body, content_type)
        found = self._exact.get((method, path, key))
        if found is None and method in FORM_METHODS:
            form = form_of(key)
            found = self._forms.get((path, form)) if form is not None else None
        return found

    def nearest(
        self, method: str, path: str, query: str, content_type: str, body: bytes
    ) -> tuple[RecordedReply, float] | None:
        """The recorded request closest to one that matched none: on the same path, the most similar
        query and body (the same method first); else on the most similar recorded path."""
        _, text = request_key(query, body, content_type)
        text = text[:MAX_COMPARED]
        candidates = self._by_path.get(path)
        if not candidates:
            scored = [(difflib.SequenceMatcher(None, path, p).ratio(), p) for p in self._by_path]
            best_path = max(scored, default=(0.0, ""))
            if best_path[0] < NEAR_PATH:
                return None
            candidates = self._by_path[best_path[1]]
        # a cheap bound first (quick_ratio, linear), then the real ratio for the few best: a miss costs
        # about a millisecond whatever the recording holds
        ranked = []
        for entry in candidates:
            matcher = difflib.SequenceMatcher(None, text, entry.text[:MAX_COMPARED])
            ranked.append((entry.method == method, matcher.quick_ratio(), entry.number, entry, matcher))
        ranked.sort(key=lambda r: (r[0], r[1], -r[2]), reverse=True)
        best: tuple[RecordedReply, float] | None = None
        best_rank: tuple[bool, float] = (False, -1.0)
        for same_method, _, _, entry, matcher in ranked[:NEAREST_COMPARED]:
            score = matcher.ratio()
            if (same_method, score) > best_rank:
                best, best_rank = (entry, score), (same_method, score)
        return best

    def body(self, entry: RecordedReply) -> tuple[bytes, bool]:
        """The reply's bytes as recorded, and whether the placeholder identity shows in them."""
        found = self._bodies.get(entry.number)
        if found is None:
            data = b""
            if entry.body_file:
                try:
                    data = (self.folder / "replies" / entry.body_file).read_bytes()
                except OSError as exc:
                    raise ReplayError(f"replies/{entry.body_file}: {exc}") from exc
            found = self._bodies[entry.number] = (data, self.pattern.search(data) is not None)
        return found

    def substitution(self, identity: Identity) -> Substitution:
        """The rewriting of this recording's placeholder identity into `identity` (each device makes
        its own once: `cgi_handlers/replay.py` keeps it beside the device)."""
        own = identity_forms(identity)
        forms = self._identity_forms
        mapping: dict[bytes, Replacement] = {}
        for kind, value in forms.items():  # a placeholder address met twice (gateway = ip) keeps its first meaning
            edges = (_DIGITS_DOT, _DIGITS) if kind in ADDRESS_FORMS else (_HEX, _HEX)
            mapping.setdefault(value.encode(), (own[kind].encode(), *edges))
        return Substitution(self.pattern, mapping)


def _entry(number: int, item: Any) -> RecordedReply:
    where = f"replies/index.json entry {number}"
    if not isinstance(item, dict):
        raise ReplayError(f"{where} is not an object")
    method, path = item.get("method"), item.get("path")
    if not isinstance(method, str) or not method.isalpha() or not isinstance(path, str) or not path.startswith("/"):
        raise ReplayError(f"{where}: method and path (from /) are needed")
    query = _text(item, "query", where)
    request_body = _text(item, "request_body", where)
    content_type = _text(item, "request_content_type", where)
    status = item.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise ReplayError(f"{where}: status is an HTTP status or null")
    headers = item.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ReplayError(f"{where}: headers is an object of strings")
    kept = tuple(
        (name, value) for name, value in headers.items()
        if name.title() in KEPT_HEADERS and value.isprintable() and value.isascii()
    )  # fmt: skip
    body_file = item.get("body_file")
    if body_file is not None and (
        not isinstance(body_file, str) or not body_file or body_file.startswith("/") or ".." in body_file.split("/")
    ):
        raise ReplayError(f"{where}: body_file is a file name inside replies/")
    role_name = item.get("role", None)
    if role_name is not None and role_name not in ROLES:
        raise ReplayError(f"{where}: role is one of {', '.join(ROLES)}")
    failed = item.get("failed")
    key, text = request_key(query, request_body.encode("utf-8", "surrogateescape"), content_type)
    return RecordedReply(
        number, str(item.get("api") or ""), method.upper(), path, query, content_type, request_body, status, kept,
        body_file, str(failed) if failed else None, ROLES[role_name] if role_name else DEFAULT_ROLE, key, text,
    )  # fmt: skip


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReplayError(f"{where}: {name} is a string")
    return value
