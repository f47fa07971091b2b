"""DeviceModel: one loaded fixture, shared by every device of that model.

`fixtures/<MODEL>/params.xml` (parameterDefinitions, values = factory defaults),
`model.toml` (variants, identity templates, hardware facts, subsystems) and
an optional `templates.xml` (dynamic-group templates).
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from param_tree import ModelTree, parse_definitions, parse_templates

from .subsystems import UnknownSubsystem, subsystem_class

FIXTURES_ENV = "AXISIM_FIXTURES"


class ModelError(ValueError):
    """A model or variant that does not exist, or a fixture that is broken."""


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    description: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class DeviceModel:
    id: str
    short_name: str
    firmware: str
    tree: ModelTree
    variants: dict[str, Variant]
    default_variant: str
    oui: str
    identity_templates: dict[str, str]
    param_cgi: bool = True
    facts: dict[str, Any] = field(default_factory=dict)
    subsystems: tuple[str, ...] = ()  # parameter-group plugins the model has (`[model] subsystems`)

    def variant(self, name: str | None) -> Variant:
        key = name or self.default_variant
        for variant in self.variants.values():
            if variant.name.lower() == key.lower():
                return variant
        raise ModelError(f"{self.id} has no variant {key!r}; variants: {', '.join(self.variants)}")

    def param(self, name: str) -> str:
        """A factory value (model constants such as Brand.ProdFullName)."""
        definition = self.tree.definition(name)
        return definition.value if definition else ""

    def identity_values(self, placeholders: dict[str, str]) -> dict[str, str]:
        """The identity layer of a device: templates filled in, for parameters that exist."""
        return {
            name: template.format_map(placeholders)
            for name, template in self.identity_templates.items()
            if name in self.tree
        }


def fixtures_dir() -> Traversable:
    """Where the model folders are: $AXISIM_FIXTURES (your own models), else the package's `fixtures`.

    The models ship inside the package (`axisim/fixtures`, a link to the repository's top-level
    `fixtures/`), so one lookup finds them in a source tree, an editable install, a venv, `--user`,
    `--target` or a zipped wheel, whatever the working directory.
    """
    override = os.environ.get(FIXTURES_ENV)
    if override:
        return Path(override)
    shipped = resources.files(__package__) / "fixtures"
    if not shipped.is_dir():
        raise ModelError(f"the models are missing from the installed package ({shipped}); reinstall axisim")
    return shipped


def model_ids() -> list[str]:
    base = fixtures_dir()
    return sorted(p.name for p in base.iterdir() if (p / "params.xml").is_file() and (p / "model.toml").is_file())


def resolve_model_id(name: str) -> str:
    """Accept `S3008`, `s3008`, `AXIS S3008`, `C1410 Mk II` for `C1410MkII`."""
    wanted = name.upper().removeprefix("AXIS").replace(" ", "").replace("-", "")
    for model_id in model_ids():
        if model_id.upper().replace("-", "") == wanted:
            return model_id
    raise ModelError(f"unknown model {name!r}; models: {', '.join(model_ids())}")


@functools.cache
def load_model(name: str) -> DeviceModel:
    """Load (once per process) the model named `name`."""
    model_id = resolve_model_id(name)
    folder = fixtures_dir() / model_id
    try:
        document = parse_definitions((folder / "params.xml").read_bytes())
        manifest = tomllib.loads((folder / "model.toml").read_text(encoding="utf-8"))
        templates_file = folder / "templates.xml"
        templates = parse_templates(templates_file.read_bytes()) if templates_file.is_file() else []
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"fixture {folder} is broken: {exc}") from exc
    meta = manifest.get("model", {})
    if "apis" in manifest:
        # what apidiscovery lists follows from the routes served (cgi_handlers' APIS), never a hand-kept list
        raise ModelError(f"fixture {folder}: [[apis]] is no longer read; the handler modules declare their APIs")
    variants = {
        key: Variant(name=key, description=str(spec.get("description", key)), facts=dict(spec))
        for key, spec in manifest.get("variants", {}).items()
    }
    if not variants:
        variants = {"standard": Variant("standard", "standard", {})}
    default_variant = str(meta.get("default_variant", next(iter(variants))))
    names = tuple(str(n) for n in meta.get("subsystems", ()))
    try:
        classes = [subsystem_class(name) for name in names]
    except UnknownSubsystem as exc:
        raise ModelError(f"fixture {folder}: no subsystem package axisim/subsystems/{exc}") from exc
    try:
        # a subsystem's parameters are part of the model's tree (DESIGN.md, subsystems)
        facts = variants[default_variant].facts
        extra = [d for cls in classes for d in cls.definitions(facts)]
        templates += [t for cls in classes for t in cls.templates(facts)]
        tree = ModelTree([*document.definitions, *extra], templates)
    except (KeyError, ValueError) as exc:
        raise ModelError(f"fixture {folder} is broken: {exc!r}") from exc
    return DeviceModel(
        id=model_id,
        short_name=document.model,
        firmware=document.firmware,
        tree=tree,
        variants=variants,
        default_variant=default_variant,
        oui=str(meta.get("oui", "B8A44F")).upper(),
        identity_templates={str(k): str(v) for k, v in manifest.get("identity", {}).items()},
        param_cgi=bool(meta.get("param_cgi", True)),
        facts={k: v for k, v in meta.items()},
        subsystems=names,
    )
