"""A fleet file (TOML) read into a FleetPlan: every key checked, each error naming where it is.

    seed = "site-a"
    addressing = "ports"      # "ports": consecutive ports on `host`; "loopback": 127.0.x.y each;
                              # "interface": each its own address from first_address on `interface`
    host = "127.0.0.1"
    base_port = 20000         # ports: the first device's port; loopback: every device's port
    https = false             # also an HTTPS listener per device, on https_port:
    https_port = 20100        #   ports: the first device's (default: right after the HTTP ports,
                              #   base_port + devices); loopback: every device's (default: base_port + 363)
    rtsp = true               # the RTSP event stream (default: on in fleets of up to 100 devices)
    rtsp_port = 20200         #   ports: the first device's (default: after the HTTPS block, base_port +
                              #   2 x devices); loopback: every device's (default: 554 where it can be
                              #   bound, else base_port + 474)
    websocket_events = true   # false: devices without the WebSocket event stream (older firmware)
    discovery = false         # true: announced over mDNS/Bonjour (README "Discovery")
    state_dir = "site-a"      # each device keeps its state in <state_dir>/<serial>
    accounts = ["root:pass:admin", "viewer:view:viewer"]
    boot_time = 0.0           # seconds offline during a restart
    ready_time = 0.0          # seconds booting before systemready says yes

    fixtures_dir = "recorded"  # model folders of your own (a path or a list, relative to this file)

    [[group]]
    model = "S3008"
    variant = "4TB"
    count = 10
    accounts = ["admin:secret:admin"]   # any top-level option can be set per group

    [[group]]
    fixture = "recorded/M3106LVEMkII"  # one model folder (relative to this file) instead of a model name
    count = 2

"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .device import AccountSpec
from .fleet_plan import (
    FIRST_LOOPBACK,
    MAX_SECONDS,
    Addressing,
    FleetError,
    FleetPlan,
    Group,
    Options,
    Shard,
    make_plan,
    parse_account,
)  # fmt: skip
from .model import ModelError, add_fixture, add_fixtures_dir


def _options(table: dict[str, Any], base: Options, where: str) -> Options:
    def number(key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_SECONDS:
            raise FleetError(f"{where}: {key} is a number of seconds, 0 to {MAX_SECONDS}")
        return float(value)

    def flag(key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise FleetError(f"{where}: {key} is true or false")
        return value

    accounts = base.accounts
    if "accounts" in table:
        raw = table["accounts"]
        if not isinstance(raw, list):
            raise FleetError(f"{where}: accounts is a list")
        accounts = tuple(_account_entry(item, where) for item in raw)
    rtsp = table.get("rtsp", base.rtsp)
    if rtsp is not None and not isinstance(rtsp, bool):
        raise FleetError(f"{where}: rtsp is true or false")
    return Options(
        accounts=accounts,
        rtsp=rtsp,
        https=flag("https", base.https),
        strict_nc=flag("strict_nonce", base.strict_nc),
        boot_time=number("boot_time", base.boot_time),
        ready_time=number("ready_time", base.ready_time),
        websocket_events=flag("websocket_events", base.websocket_events),
        discovery=flag("discovery", base.discovery),
    )


def _account_entry(item: Any, where: str) -> AccountSpec:
    if isinstance(item, str):
        return parse_account(item)
    if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("password"), str):
        role = item.get("role", "admin")
        return parse_account(f"{item['name']}:{item['password']}:{role}")
    raise FleetError(f"{where}: an account is 'NAME:PASSWORD[:ROLE]' or {{name, password, role}}")


GROUP_KEYS = {"model", "fixture", "variant", "count", "accounts", "https", "strict_nonce", "boot_time", "ready_time",
              "rtsp", "websocket_events", "discovery"}
TOP_KEYS = GROUP_KEYS - {"model", "fixture", "variant", "count"} | {
    "seed", "addressing", "host", "base_port", "port", "https_port", "rtsp_port", "first_address", "interface",
    "state_dir", "group", "fixtures_dir",
}  # fmt: skip


def _fixtures(document: dict[str, Any], base_dir: Path, where: str) -> None:
    """`fixtures_dir`: one path or a list of them, relative to the fleet file; each joins the model sources."""
    raw = document.get("fixtures_dir", [])
    folders = [raw] if isinstance(raw, str) else raw
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise FleetError(f"{where}: fixtures_dir is a path or a list of paths")
    try:
        for folder in folders:
            add_fixtures_dir(base_dir / folder)
    except ModelError as exc:
        raise FleetError(f"{where}: {exc}") from exc


def _group_model(table: dict[str, Any], base_dir: Path, where: str) -> str:
    """A group's `model`, or the id of its `fixture` folder (relative to the fleet file)."""
    model, fixture = table.get("model"), table.get("fixture")
    if fixture is None:
        if not isinstance(model, str):
            raise FleetError(f"{where}: model (and variant) are strings")
        return model
    if not isinstance(fixture, str) or model is not None:
        raise FleetError(f"{where}: fixture is a model folder's path, instead of model")
    try:
        return add_fixture(base_dir / fixture)
    except ModelError as exc:
        raise FleetError(f"{where}: {exc}") from exc


def load_fleet_file(path: Path, shard: Shard | None = None) -> FleetPlan:
    """A FleetPlan from a TOML fleet file, for one shard of its site (a site larger than one process
    is checked shard by shard); FleetError says what is wrong and where."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FleetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FleetError(f"{path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise FleetError(f"{path}: unknown key(s) {', '.join(unknown)}")
    defaults = _options(document, Options(), str(path))
    base_dir = path.parent
    _fixtures(document, base_dir, str(path))
    raw_groups = document.get("group", [])
    if not isinstance(raw_groups, list) or not raw_groups:
        raise FleetError(f"{path}: list the devices in [[group]] tables (model, count, ...)")
    groups = []
    for number, table in enumerate(raw_groups, 1):
        where = f"{path}, group {number}"
        if not isinstance(table, dict):
            raise FleetError(f"{where}: a group is a table")
        extra = sorted(set(table) - GROUP_KEYS)
        if extra:
            raise FleetError(f"{where}: unknown key(s) {', '.join(extra)}")
        count = table.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise FleetError(f"{where}: count is a whole number, 0 or more")
        model = _group_model(table, base_dir, where)
        variant = table.get("variant")
        if variant is not None and not isinstance(variant, str):
            raise FleetError(f"{where}: model (and variant) are strings")
        groups.append(Group(model, count, variant, _options(table, defaults, where)))
    state_dir = document.get("state_dir")
    if state_dir is not None and not isinstance(state_dir, str):
        raise FleetError(f"{path}: state_dir is a path")
    seed = document.get("seed", "axisim")
    if not isinstance(seed, str):
        raise FleetError(f"{path}: seed is a string")
    return make_plan(
        groups,
        seed=seed,
        addressing=_addressing(document, str(path)),
        state_dir=(base_dir / state_dir) if state_dir else None,
        shard=shard or Shard(),
    )


def _addressing(document: dict[str, Any], where: str) -> Addressing:
    mode = document.get("addressing", "ports")
    if mode not in ("ports", "loopback", "interface"):
        raise FleetError(f"{where}: addressing is 'ports', 'loopback' or 'interface'")
    default_port = 20000 if mode == "ports" else 8080
    port = document.get("base_port", document.get("port", default_port))
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise FleetError(f"{where}: base_port is a TCP port, 0-65535")
    https_port = document.get("https_port")
    if https_port is not None and (
        isinstance(https_port, bool) or not isinstance(https_port, int) or not 1 <= https_port <= 65535
    ):
        raise FleetError(f"{where}: https_port is a TCP port, 1-65535")
    rtsp_port = document.get("rtsp_port")
    if rtsp_port is not None and (
        isinstance(rtsp_port, bool) or not isinstance(rtsp_port, int) or not 0 <= rtsp_port <= 65535
    ):
        raise FleetError(f"{where}: rtsp_port is a TCP port, 0-65535 (0: any free port)")
    host = document.get("host", "127.0.0.1")
    first = document.get("first_address", FIRST_LOOPBACK)
    interface = document.get("interface", "")
    if not isinstance(host, str) or not isinstance(first, str) or not isinstance(interface, str):
        raise FleetError(f"{where}: host and first_address are addresses, interface a name")
    return Addressing(mode, host, port, first, https_port, rtsp_port, interface)
