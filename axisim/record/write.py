"""The fixture folder of a recording (/work/record-format.md): params.xml, model.toml, events.xml,
replies/index.json with one body file per reply, README.md.

`fixture_files` builds every file's bytes in memory (anonymised when an `Anonymiser` is given),
`leaks` is the final check over those bytes, and `write_folder` writes them only when asked to,
through a temporary folder renamed into place, so a refused or failed recording leaves nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from param_tree import parse_definitions

from . import plan
from .anonymise import Anonymiser, Found
from .recording import Recording

IP_FORMS = ("ip", "gateway", "broadcast")
TEMPLATE_FORMS = ("hostname", "mac", "serial_lower", "serial", "ip", "gateway", "broadcast")


@dataclass
class Fixture:
    """What the writer needs beside the recording."""

    model_id: str
    forms: dict[str, str]  # the fixture's identity forms: serial, serial_lower, mac, hostname, ip, gateway, broadcast
    oui: str
    prefix_len: int
    anonymised: bool
    axisim_version: str
    quirks: dict[str, Any] = field(default_factory=dict)
    quirk_notes: list[str] = field(default_factory=list)  # differences no quirk flag can say
    not_recorded: dict[str, str] = field(default_factory=dict)  # advertised API id -> why it has no calls
    stopped: str = ""  # why the recording stopped early (--max-calls), if it did
    replaced: dict[str, int] = field(default_factory=dict)  # anonymiser: kind -> how many originals


def model_id_of(recording: Recording, given: str | None) -> str:
    """`--model-id`, else the product short name without `AXIS`, spaces and dashes (M3106LVEMkII),
    with `Recorded` added when that is a built-in model's id (a fixture may not take one)."""
    if given:
        return given
    params = recording.params()
    name = params.get("Brand.ProdShortName") or recording.device_properties().get("ProdShortName", "")
    name = re.sub(r"^AXIS\s*", "", name, flags=re.I)
    model_id = re.sub(r"[^A-Za-z0-9_]", "", name) or "Recorded"
    return model_id + "Recorded" if _comparable(model_id) in {_comparable(m) for m in _built_in()} else model_id


def _comparable(model_id: str) -> str:
    """Model ids compare as axisim.model.resolve_model_id compares them."""
    return model_id.upper().removeprefix("AXIS").replace(" ", "").replace("-", "")


def _built_in() -> list[str]:
    shipped = resources.files("axisim") / "fixtures"
    return [p.name for p in shipped.iterdir() if (p / "model.toml").is_file()] if shipped.is_dir() else []


def identity_forms(found: Found, anonymiser: Anonymiser | None) -> dict[str, str]:
    """The identity the fixture carries: the placeholder's, or with --keep-identity the device's own."""
    if anonymiser is not None:
        forms = anonymiser.placeholder.placeholders()
        return {k: forms[k] for k in TEMPLATE_FORMS}
    serial = found.serial or (found.macs[0] if found.macs else "")
    mac = found.macs[0] if found.macs else serial
    return {
        "serial": serial, "serial_lower": serial.lower(), "mac": ":".join(mac[i : i + 2] for i in range(0, 12, 2)),
        "hostname": found.hostnames[0] if found.hostnames else f"axis-{serial.lower()}",
        "ip": found.own_ips[0] if found.own_ips else "", "gateway": found.gateway, "broadcast": found.broadcast,
    }  # fmt: skip


def identity_templates(params_xml: bytes, forms: dict[str, str]) -> dict[str, str]:
    """Parameter -> template for every parameter whose value holds an identity form."""
    patterns = []
    for name in TEMPLATE_FORMS:
        value = forms.get(name, "")
        if not value or (name in ("gateway", "broadcast") and value == forms.get("ip")):
            continue
        edge = (r"(?<![\d.])", r"(?!\d)") if name in IP_FORMS else ("", "")
        patterns.append((name, re.compile(edge[0] + re.escape(value) + edge[1], 0 if name != "hostname" else re.I)))
    templates: dict[str, str] = {}
    for definition in parse_definitions(params_xml).definitions:
        text = definition.value.replace("{", "{{").replace("}", "}}")
        changed = text
        for name, pattern in patterns:
            changed = pattern.sub("{" + name + "}", changed)
        if changed != text:
            templates[definition.name] = changed
    return templates


def fixture_files(recording: Recording, fixture: Fixture, anonymiser: Anonymiser | None) -> dict[str, bytes]:
    """Every file of the folder, by path relative to it."""

    def clean(data: bytes) -> bytes:
        return anonymiser.apply(data) if anonymiser is not None else data

    files: dict[str, bytes] = {}
    definitions = recording.ok_body(plan.DEFINITIONS)
    if definitions is None:
        raise ValueError("the recording has no parameter definitions")
    files["params.xml"] = clean(definitions)
    events = recording.ok_body(plan.EVENTS)
    if events is not None:
        files["events.xml"] = clean(events)
    index: list[dict[str, Any]] = []
    for number, exchange in enumerate(recording.exchanges, start=1):
        call, reply = exchange.call, exchange.reply
        body_file = f"{number:04d}.body" if reply.status else None
        if body_file is not None:
            files[f"replies/{body_file}"] = clean(reply.body)
        index.append({
            "api": call.api, "method": call.method, "path": call.path,
            "query": clean(call.query.encode()).decode(), "request_content_type": call.content_type,
            "request_body": clean(call.body.encode()).decode(), "status": reply.status,
            "headers": {k: clean(v.encode()).decode("utf-8", "replace") for k, v in reply.headers.items()},
            "body_file": body_file, "elapsed_ms": reply.elapsed_ms, "failed": reply.failed,
        })  # fmt: skip
        if reply.status == 200 and not reply.authenticated:
            index[-1]["role"] = "anonymous"  # answered without credentials (the replay's `role`)
    files["replies/index.json"] = (json.dumps(index, indent=1, ensure_ascii=False) + "\n").encode()
    templates = identity_templates(files["params.xml"], fixture.forms)
    quirks = {k: clean(v.encode()).decode() if isinstance(v, str) else v for k, v in fixture.quirks.items()}
    files["model.toml"] = model_toml(recording, fixture, templates, quirks, clean).encode()
    files["README.md"] = readme(recording, fixture, templates, quirks).encode()
    return files


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string


def model_toml(
    recording: Recording, fixture: Fixture, templates: dict[str, str], quirks: dict[str, Any], clean: Any
) -> str:
    params = recording.params()
    full_name = clean((params.get("Brand.ProdFullName") or fixture.model_id).encode()).decode()
    failed = sum(1 for e in recording.exchanges if e.reply.failed)
    lines = [
        "# axisim model fixture recorded by `axisim record` (see README.md). The parameter tree is served",
        "# live from params.xml; requests axisim does not serve are answered from replies/.",
        "",
        "[model]",
        f"id = {_toml(fixture.model_id)}",
        'default_variant = "recorded"',
        f"oui = {_toml(fixture.oui)}",
        "param_cgi = true",
        "subsystems = []",
        "recorded = true",
        "",
        "[variants.recorded]",
        f"description = {_toml(full_name + ' (recorded)')}",
        "",
        "[identity]",
        "# parameter -> template; placeholders: {serial} {serial_lower} {mac} {hostname} {ip} {gateway} {broadcast}",
        *(f"{_toml(name)} = {_toml(template)}" for name, template in templates.items()),
        "",
        "[recording]",
        f"source_firmware = {_toml(clean(recording.firmware().encode()).decode())}",
        f"recorded_at = {_toml(recording.started_at)}",
        f"axisim_version = {_toml(fixture.axisim_version)}",
        f"anonymised = {_toml(fixture.anonymised)}",
        f"placeholder_serial = {_toml(fixture.forms['serial'])}",
        f"placeholder_ip = {_toml(fixture.forms['ip'])}",
        f"placeholder_prefix_len = {fixture.prefix_len}",
        f"calls = {len(recording.exchanges)}",
        f"failed = {failed}",
    ]
    if recording.challenge:
        lines.append(f"www_authenticate = {_toml(clean(recording.challenge.encode()).decode())}")
    lines += ["", "[quirks]", *(f"{name} = {_toml(value)}" for name, value in quirks.items())]
    return "\n".join(lines) + "\n"


def readme(recording: Recording, fixture: Fixture, templates: dict[str, str], quirks: dict[str, Any]) -> str:
    failed = [e for e in recording.exchanges if e.reply.failed]
    apis = sorted({e.call.api for e in recording.exchanges})
    out = [
        f"# {fixture.model_id} (recorded)",
        "",
        f"Recorded by `axisim record` (axisim {fixture.axisim_version}) on {recording.started_at}, firmware "
        f"{recording.firmware()}: "
        f"{len(recording.exchanges)} read-only calls, {len(failed)} failed.",
        "",
        f"Serve it: `axisim serve --fixture <this folder>`, or put its parent folder in `--fixtures-dir` or "
        f"`AXISIM_FIXTURES` and serve `--model {fixture.model_id}` (fleet files too).",
        "",
        "## Identity",
        "",
    ]
    if fixture.anonymised:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(fixture.replaced.items())) or "none found"
        out += [
            f"Anonymised: the device's identifiers were replaced in every file ({kinds}); the fixture's own "
            f"identity is serial {fixture.forms['serial']}, address {fixture.forms['ip']}. Secrets were blanked "
            "and certificates replaced by a placeholder.",
        ]
    else:
        out += ["NOT anonymised (`--keep-identity`): this folder holds the device's real serial, MAC, addresses "
                "and names. Do not publish it."]  # fmt: skip
    out += ["", f"{len(templates)} parameters follow the served device's identity (model.toml [identity]).", ""]
    out += ["## Recorded APIs", "", *(f"- {api}" for api in apis), ""]
    if fixture.not_recorded:
        out += ["## Advertised, not recorded", ""]
        out += [f"- {api}: {why}" for api, why in sorted(fixture.not_recorded.items())]
        out.append("")
    if failed:
        out += ["## Failed calls", ""]
        out += [f"- {e.call.describe()}: {e.reply.failed}" for e in failed]
        out.append("")
    if fixture.stopped:
        out += [f"Stopped early: {fixture.stopped}.", ""]
    out += ["## Quirks", ""]
    out += [f"- `{k}` = `{json.dumps(v)}`" for k, v in quirks.items()]
    out += [f"- {note}" for note in fixture.quirk_notes]
    if not quirks and not fixture.quirk_notes:
        out.append("None: the firmware answers as axisim does.")
    return "\n".join(out) + "\n"


def leaks(files: dict[str, bytes], anonymiser: Anonymiser) -> list[tuple[str, list[str]]]:
    """(file, what is still there) for every file that holds an original identifier."""
    return [(path, found) for path, data in files.items() if (found := anonymiser.leaks(data))]


def write_folder(files: dict[str, bytes], folder: Path, force: bool = False) -> Path:
    """Write `files` as `folder` (FileExistsError if it exists and not `force`), all or nothing."""
    if folder.exists() and not force:
        raise FileExistsError(f"{folder} exists (use --force to replace it)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    for path, data in files.items():
        target = partial / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return folder
