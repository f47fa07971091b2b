"""What the fuzz test sends: the endpoints each model serves, the names each endpoint knows,
and the hostile values, all read from the code so a new endpoint or parameter is fuzzed
without editing this file.

The endpoints come from `cgi_handlers.ROUTES` filtered as `axisim.pipeline.build_app` filters
them; the names an endpoint knows are the string literals of its handler's module (and of
its subsystem's modules, where AJR methods and SIP commands live): the keys it reads with
`first(form, "...")`, `.get("...")` or `["..."]` become query and JSON keys, every
identifier-like literal becomes a candidate value or method name.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qsl

from axisim.device import make_device
from axisim.model import load_model
from axisim.replay import RecordedReply
from cgi_handlers import HANDLER_MODULES, ROUTES, config_discover, config_rest
from cgi_handlers.routing import Route
from param_tree import Role

# the wire layer's shared helpers (what every handler uses): not an endpoint's own vocabulary
SHARED_MODULES = frozenset(
    f"cgi_handlers.{name}"
    for name in ("ajr", "apache_pages", "api_errors", "bodies", "forms", "replies", "request_context", "routing")
)
SUBSYSTEMS_DIR = Path(__file__).resolve().parent.parent / "axisim" / "subsystems"

_KEY_PATTERNS = (
    re.compile(r"""first\(\s*\w+\s*,\s*["']([^"'\s]{1,60})["']\s*\)"""),
    re.compile(r"""\.get\(\s*["']([^"'\s]{1,60})["']"""),
    re.compile(r"""\[\s*["']([A-Za-z_][\w.]{0,60})["']\s*\]"""),
    re.compile(r"""\(\s*["']([A-Za-z_][\w.]{0,60})["']\s*,\s*["'][^"']*["']\s*\)"""),  # ("key", "value") pairs
    re.compile(r"""\b(?:name|key)\s*==\s*["']([^"'\s]{1,60})["']"""),  # for name, value in form: if name == "check"
)
_ACTION_TABLE = re.compile(r"""\bACTIONS\s*(?::[^=]*)?=\s*[{(\[]([^})\]]*)[})\]]""")  # ACTIONS = {"list": ...}
_CHOICE = re.compile(r"""\b(?:action|method|command|cmd|mode|shown)\s*==\s*["']([^"'\s]{1,60})["']""")
_WORD = re.compile(r"""["']([A-Za-z_][\w.:-]{0,60})["']""")


@dataclass(frozen=True)
class Endpoint:
    """One route of one model, with the vocabulary its handler knows."""

    model: str
    path: str
    methods: tuple[str, ...]
    keys: tuple[str, ...]  # query / JSON keys the handler reads
    words: tuple[str, ...]  # every identifier-like literal: values, actions, method names
    json: bool  # the handler reads a JSON body (AJR, firmware management, /vapix services)
    multipart: bool  # the handler reads multipart uploads
    actions: tuple[str, ...]  # values the handler compares `action`, `method`, `cmd` or `mode` with
    anonymous: bool  # the route answers anonymous clients (its least role)
    route: str = ""  # the route's path when `path` is one URL it serves (the DCA's /config/rest/...)

    @property
    def id(self) -> str:
        return f"{self.model}:{self.path}"


def served_routes(model: str) -> list[Route]:
    """The routes `build_app` installs for `model` (the same subsystem filter)."""
    subsystems = make_device(model).subsystems
    return [r for r in ROUTES if r.subsystem is None or r.subsystem in subsystems]


@functools.cache
def _source(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _wire_modules(route: Route) -> list[ModuleType]:
    """The handler's module, the module declaring the route (a shared handler such as the /vapix
    services' is declared by its feature's module) and the wire-layer modules that one imports."""
    found = [inspect.getmodule(route.handler)]
    if route.handler.__module__ == config_rest.__name__:  # the Device Configuration APIs' own modules
        found += [m for m in list(sys.modules.values()) if isinstance(getattr(m, "API", None), config_rest.ConfigApi)]
    declaring = [m for m in HANDLER_MODULES if any(r is route for r in m.ROUTES)]
    for module in declaring:
        found.append(module)
        for value in vars(module).values():
            owner = value if isinstance(value, ModuleType) else inspect.getmodule(value)
            name = owner.__name__ if owner is not None else ""
            if name.startswith("cgi_handlers.") and name not in SHARED_MODULES:
                found.append(owner)
    return list(dict.fromkeys(m for m in found if m is not None))


def _sources(route: Route) -> tuple[str, list[str]]:
    """(the wire layer's text for the route, every source file's text including its subsystem's)."""
    wire = [_source(str(inspect.getsourcefile(m))) for m in _wire_modules(route)]
    files: list[str] = []
    if route.subsystem is not None:  # e.g. sip -> the modules of axisim/subsystems/sip/
        files += sorted(str(p) for p in (SUBSYSTEMS_DIR / route.subsystem).glob("*.py"))
    return "\n".join(wire), wire + [_source(f) for f in files]


def endpoint(model: str, route: Route) -> Endpoint:
    handler_text, sources = _sources(route)
    keys = {k for pattern in _KEY_PATTERNS for k in pattern.findall(handler_text)}
    if "check_schema_version" in handler_text:  # the XML APIs' shared `schemaversion` check
        keys.add("schemaversion")
    if route.handler.__module__ == "cgi_handlers.param":  # param.cgi's keys are the device's parameters
        params = sorted(make_device(model).params.all(), key=lambda p: p.name)
        typed = [p for p in params if p.type.kind in ("bool", "int")]  # where "yes", "1" and "NaN" differ
        chosen = params[:: max(1, len(params) // 40)] + typed[:: max(1, len(typed) // 12)]
        keys |= {p.name.removeprefix("root.") for p in chosen} | {"Network.SSH.Enabled"}
    keys = sorted(keys)
    words = sorted({w for text in sources for w in _WORD.findall(text)} | set(keys))
    return Endpoint(
        model, route.path, route.methods, tuple(keys), tuple(words),
        json=bool(re.search(r"ajr_call|json_object|json\.loads|read_json", handler_text)),
        multipart=".multipart()" in handler_text, actions=_actions(handler_text),
        anonymous=route.role is Role.ANONYMOUS,
    )  # fmt: skip


def _actions(text: str) -> tuple[str, ...]:
    tables = {w for table in _ACTION_TABLE.findall(text) for w in _WORD.findall(table)}
    return tuple(sorted(set(_CHOICE.findall(text)) | tables))


def _urls(model: str, route: Route) -> list[str]:
    """The URLs a route with a path pattern serves (the Device Configuration APIs' trees); the
    route's path itself otherwise."""
    if route.path.startswith(config_rest.REST):
        return [*config_rest.paths(make_device(model)), f"{config_rest.REST}nope/v1"]
    if route.path.startswith(config_discover.DISCOVER):
        apis = [f"{config_discover.DISCOVER}/apis/{a.name}/v{a.major}" for a in config_rest.registered()]
        return [config_discover.DISCOVER, f"{config_discover.DISCOVER}/apis", *apis]
    return [route.path]


REPLAYED = "/{unrouted}"  # the catch-all route that answers a recorded model's recorded paths


def recorded_endpoints(model: str) -> list[Endpoint]:
    """A recorded model's recorded paths that no live route serves (the replay answers them), with the
    keys, words and JSON methods of the recorded requests as their vocabulary."""
    recording = load_model(model).recording
    if recording is None:
        return []
    routed = {route.path for route in served_routes(model)}
    by_path: dict[str, list[RecordedReply]] = {}
    for entry in recording.replies.entries:
        if entry.path not in routed:
            by_path.setdefault(entry.path, []).append(entry)
    found = []
    for path, recorded in by_path.items():
        keys = {k for e in recorded for k, _ in parse_qsl(e.query)}
        methods = set()
        for entry in recorded:
            if entry.json_request:
                document = json.loads(entry.request_body)
                keys |= set(document) | set(document.get("params") or {})
                methods.add(document.get("method", ""))
        words = {w for e in recorded for w in _WORD.findall(json.dumps(e.query + " " + e.request_body))}
        found.append(
            Endpoint(
                model, path, tuple(sorted({e.method for e in recorded})), tuple(sorted(keys)), tuple(sorted(words)),
                json=any(e.json_request for e in recorded), multipart=False, actions=tuple(sorted(methods - {""})),
                anonymous=False, route=REPLAYED,
            )
        )  # fmt: skip
    return found


def endpoints(models: list[str]) -> list[Endpoint]:
    return [
        replace(found, path=url, route=route.path)
        for model in models
        for route in served_routes(model)
        for found in (endpoint(model, route),)
        for url in _urls(model, route)
    ] + [found for model in models for found in recorded_endpoints(model)]


def one_model_each(all_endpoints: list[Endpoint]) -> list[Endpoint]:
    """Each path once, on one of the models serving it (chosen by the path, so stable and spread
    over the models): the systematic table runs the same handler code once, not five times."""
    by_path: dict[str, list[Endpoint]] = {}
    for e in all_endpoints:
        by_path.setdefault(e.path, []).append(e)
    return [group[zlib.crc32(path.encode()) % len(group)] for path, group in by_path.items()]


# -- hostile values ------------------------------------------------------------------------------

# query-string values, percent-encoded exactly as sent on the wire
HOSTILE_QUERY_VALUES: tuple[str, ...] = (
    "%FF",  # not UTF-8
    "%C2%B2",  # "²": str.isdigit() says yes, int() says no
    "%D9%A3",  # Arabic-Indic three: isdigit() and int() both say yes
    "9" * 5000,  # past int()'s 4,300-digit limit
    "",
    "x" * 6000,  # long, but under aiohttp's 8,190-byte request line
    "%00",
    "%0D%0AX-Injected:%201",
    "%E2%80%AE%F0%9F%92%A9",
    "-1",
    "NaN",
    "1e309",
    "0x10",
    "..%2F..%2Fetc%2Fpasswd",
    "%",
    "%zz",
    "%3Cx%3E%26amp%3B%22%27",
    "99999999999999999999",
    "1.5",
    "+",
    "%C2%A0",
    "%ED%A0%80",  # a UTF-16 surrogate in UTF-8 form
)

NESTING = 2000


def deep_json(levels: int = NESTING) -> dict[str, bytes]:
    """Bodies that stress a JSON reader: nesting, NaN, huge numbers, wrong top-level types."""
    return {
        "deep-array": b"[" * levels + b"]" * levels,
        "deep-object": b'{"a":' * levels + b"1" + b"}" * levels,
        "deep-params": b'{"apiVersion":"1.0","method":"getApiList","params":' + b"[" * levels + b"]" * levels + b"}",
        "deep-context": b'{"apiVersion":"1.0","context":' + b'{"a":' * levels + b"1" + b"}" * levels + b"}",
        "nan": b'{"apiVersion":"1.0","method":"x","params":{"timeout":NaN,"a":Infinity,"b":-Infinity}}',
        "huge-int": b'{"apiVersion":"1.0","method":"x","params":{"timeout":' + b"9" * 5000 + b"}}",
        "huge-float": b'{"apiVersion":"1.0","method":"x","params":{"timeout":1e999}}',
        "array": b"[]",
        "string": b'"x"',
        "null": b"null",
        "number": b"1",
        "not-utf8": b'{"apiVersion":"1.0","method":"\xff"}',
        "bom": b'\xef\xbb\xbf{"apiVersion":"1.0"}',
        "utf16": '{"apiVersion":"1.0"}'.encode("utf-16"),
        "truncated": b'{"apiVersion":"1.0","method":',
        "lone-surrogate": b'{"apiVersion":"1.0","method":"\\ud800"}',
        "duplicate-keys": b'{"method":"a","method":"b","apiVersion":"1.0","apiVersion":2}',
    }


def malformed_multipart(boundary: str = "B") -> dict[str, bytes]:
    """Multipart bodies a careless or hostile client sends (boundary `B`)."""
    b = boundary.encode()
    return {
        "garbage-header": b"--" + b + b"\r\nGarbage\r\n\r\nx\r\n--" + b + b"--\r\n",
        "no-terminator": b"--" + b + b'\r\nContent-Disposition: form-data; name="a"\r\n\r\nx',
        "empty": b"",
        "only-close": b"--" + b + b"--\r\n",
        "bad-disposition": b"--" + b + b"\r\nContent-Disposition: ;;;=\r\n\r\nx\r\n--" + b + b"--\r\n",
        "bad-encoding": b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!\r\n--" + b + b"--\r\n",
        "non-utf8-name": b"--" + b + b'\r\nContent-Disposition: form-data; name="\xff"; filename="\xff.mp3"\r\n\r\n'
        b"ID3\x00\r\n--" + b + b"--\r\n",
        "nested": b"--"
        + b
        + b"\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n--C\r\nGarbage\r\n\r\n--C--\r\n--"
        + b
        + b"--\r\n",
        "json-then-garbage": b"--" + b + b'\r\nContent-Disposition: form-data; name="json"\r\n\r\n'
        b'{"apiVersion":"1.0","method":"upgrade"}\r\n--' + b + b"\r\nGarbage\r\n\r\nx\r\n--" + b + b"--\r\n",
    }


CONTENT_TYPES: tuple[str, ...] = (
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=B",
    "multipart/form-data",  # no boundary
    "multipart/form-data; boundary=",
    "application/json; charset=utf-16",
    "application/json; charset=nonsense",
    "text/plain; charset=\xff",
    ";;;",
    "",
)
CONTENT_ENCODINGS: tuple[str, ...] = ("deflate", "gzip", "br", "identity", "x-nonsense", "gzip, deflate")
