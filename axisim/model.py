"""DeviceModel: one loaded fixture, shared by every device of that model.

`fixtures/<MODEL>/params.xml` (parameterDefinitions, values = factory defaults),
`model.toml` (variants, identity templates, hardware facts, subsystems, `[quirks]`) and
an optional `templates.xml` (dynamic-group templates). A recorded model (`recorded = true`,
fixtures/README.md "Recorded models") also has `events.xml` (its event declarations) and `replies/` (read by
`axisim.replay`). Model folders come from the package and from folders of your own
(`FixtureSources`: `--fixture`, `--fixtures-dir`, `$AXISIM_FIXTURES`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from param_tree import ModelTree, infer_templates, parse_definitions, parse_templates

from .event_xml import EventXmlError, parse_event_instances
from .events import TopicDecl
from .identity import Identity
from .quirks import DEFAULT_QUIRKS, QuirkError, Quirks
from .replay import ReplayError, Replies
from .subsystems import UnknownSubsystem, subsystem_class

FIXTURES_ENV = "AXISIM_FIXTURES"


class ModelError(ValueError):
    """A model or variant that does not exist, or a fixture that is broken."""


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    description: str
    facts: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Recording:
    """What a recorded model adds (model.toml `[recording]`, fixtures/README.md "Recorded models"): its folder (the
    replies are read from `replies/` by `axisim.replay`, once) and the placeholder identity the
    anonymiser put in its files, which the replay replaces by each served device's own."""

    folder: Traversable
    placeholder: Identity
    replies: Replies
    events: bytes | None = None  # the recorded GetEventInstances reply (events.xml), served as recorded
    source_firmware: str = ""
    recorded_at: str = ""


DEFAULT_PLACEHOLDER_IP = "192.168.0.90"


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
    quirks: Quirks = DEFAULT_QUIRKS  # firmware quirks of the wire forms (`[quirks]`, axisim/quirks.py)
    recording: Recording | None = None  # a recorded model (`recorded = true`): where its replies are
    topics: tuple[TopicDecl, ...] | None = None  # declared events from events.xml; None: the device's own

    @property
    def recorded(self) -> bool:
        return self.recording is not None

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


class FixtureSources:
    """Where the model folders are: the package's built-in models, then folders of your own.

    Searched in this order for a name: the folders named one by one (`serve --fixture DIR`), the
    directories added by the command line, fleet files and the pytest plugin (`--fixtures-dir`),
    then `$AXISIM_FIXTURES` (directories separated by `:`), then the package's `fixtures`. A model
    id is known once: a folder of your own with a built-in model's id, or one id in two folders, is
    a ModelError naming both, never a silent shadow. Process-wide: a fleet's workers inherit the
    environment and get the same options again.
    """

    def __init__(self) -> None:
        self._dirs: list[Path] = []
        self._folders: list[Path] = []
        self._catalogue: tuple[tuple[object, ...], dict[str, Traversable]] | None = None

    def add_dir(self, path: str | os.PathLike[str]) -> Path:
        """A directory of model folders (each `<DIR>/<MODEL_ID>/params.xml` + `model.toml`)."""
        folder = Path(path).resolve()
        if not folder.is_dir():
            raise ModelError(f"fixtures directory {path} is not a directory")
        if folder not in self._dirs:
            self._dirs.append(folder)
        return folder

    def add_folder(self, path: str | os.PathLike[str]) -> str:
        """One model folder (`serve --fixture DIR`); returns its model id (`[model] id`, else the folder's name)."""
        folder = Path(path).resolve()
        if not _is_model_folder(folder):
            raise ModelError(f"{path} is not a model folder (it needs params.xml and model.toml)")
        if folder not in self._folders:
            self._folders.append(folder)
        return _folder_id(folder, declared=True)

    @contextlib.contextmanager
    def using(
        self, dirs: Iterable[str | os.PathLike[str]] = (), folders: Iterable[str | os.PathLike[str]] = ()
    ) -> Iterator[list[str]]:
        """Directories and folders among the sources for a while (the pytest plugin's, for a test); the
        folders' model ids. Those that were there before stay after."""
        had = {*self._dirs, *self._folders}
        added: list[Path] = []
        try:
            for folder in dirs:
                added.append(self.add_dir(folder))
            ids = []
            for folder in folders:
                ids.append(self.add_folder(folder))
                added.append(Path(folder).resolve())
            yield ids
        finally:
            for folder in added:
                if folder not in had:
                    self.remove(folder)

    def remove(self, path: str | os.PathLike[str]) -> None:
        """Forget a directory or folder added before (tests restore the process's sources)."""
        folder = Path(path).resolve()
        for kept in (self._dirs, self._folders):
            if folder in kept:
                kept.remove(folder)

    @staticmethod
    def env_dirs() -> list[Path]:
        raw = os.environ.get(FIXTURES_ENV, "")
        return [Path(part).resolve() for part in raw.split(os.pathsep) if part.strip()]

    def catalogue(self) -> dict[str, Traversable]:
        """Model id -> folder, built once for each state of the sources (a fleet asks for every device)."""
        env = self.env_dirs()
        # a directory's mtime changes when a folder is added to it or taken out (a recording just written)
        key = (tuple(self._folders), tuple(self._dirs), tuple(env), tuple(_mtime(d) for d in [*self._dirs, *env]))
        if self._catalogue is not None and self._catalogue[0] == key:
            return self._catalogue[1]
        found: dict[str, Traversable] = {}
        owners: dict[str, str] = {}  # normalised id -> where it was found

        def add(model_id: str, folder: Traversable, where: str) -> None:
            norm = normalised(model_id)
            if norm in owners:
                raise ModelError(
                    f"model id {model_id!r} of {where} is already the id of {owners[norm]}; "
                    "rename the folder (or its [model] id): a model is never shadowed"
                )
            owners[norm] = "the built-in model " + model_id if where == "" else where
            found[model_id] = folder

        builtin = builtin_dir()
        for child in sorted(builtin.iterdir(), key=lambda c: c.name):
            if _is_model_folder(child):
                add(child.name, child, "")
        for folder in self._folders:
            add(_folder_id(folder, declared=True), folder, str(folder))
        seen: set[Path] = set()
        for directory in [*self._dirs, *env]:
            if directory in seen or not directory.is_dir():
                continue
            seen.add(directory)
            for child in sorted(directory.iterdir(), key=lambda c: c.name):
                if child not in self._folders and _is_model_folder(child):
                    add(child.name, child, str(child))
        self._catalogue = (key, found)
        return found


def _mtime(directory: Path) -> int:
    try:
        return directory.stat().st_mtime_ns
    except OSError:
        return -1


def normalised(name: str) -> str:
    """How model names compare: `S3008`, `s3008`, `AXIS S3008`, `C1410 Mk II` = `C1410MkII`."""
    return name.upper().removeprefix("AXIS").replace(" ", "").replace("-", "")


def _is_model_folder(folder: Traversable) -> bool:
    return folder.is_dir() and (folder / "params.xml").is_file() and (folder / "model.toml").is_file()


def _folder_id(folder: Path, *, declared: bool) -> str:
    """A folder's model id: its `[model] id` when `declared` (a folder named on its own), else its name."""
    if declared:
        try:
            meta = tomllib.loads((folder / "model.toml").read_text(encoding="utf-8")).get("model", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ModelError(f"fixture {folder} is broken: {exc}") from exc
        declared_id = meta.get("id") if isinstance(meta, dict) else None
        if isinstance(declared_id, str) and declared_id.strip():
            return declared_id.strip()
    return folder.name


SOURCES = FixtureSources()


def builtin_dir() -> Traversable:
    """The package's own models.

    They ship inside the package (`axisim/fixtures`, a link to the repository's top-level
    `fixtures/`), so one lookup finds them in a source tree, an editable install, a venv, `--user`,
    `--target` or a zipped wheel, whatever the working directory.
    """
    shipped = resources.files(__package__) / "fixtures"
    if not shipped.is_dir():
        raise ModelError(f"the models are missing from the installed package ({shipped}); reinstall axisim")
    return shipped


def add_fixtures_dir(path: str | os.PathLike[str]) -> Path:
    """Search `path` for model folders too (`--fixtures-dir`, a fleet file's `fixtures_dir`)."""
    return SOURCES.add_dir(path)


def add_fixture(path: str | os.PathLike[str]) -> str:
    """Serve the model folder `path` (`serve --fixture DIR`); returns its model id."""
    return SOURCES.add_folder(path)


def model_folder(name: str) -> Traversable:
    return SOURCES.catalogue()[resolve_model_id(name)]


def builtin_ids() -> frozenset[str]:
    return frozenset(c.name for c in builtin_dir().iterdir() if _is_model_folder(c))


def model_ids() -> list[str]:
    return sorted(SOURCES.catalogue())


def resolve_model_id(name: str) -> str:
    """Accept `S3008`, `s3008`, `AXIS S3008`, `C1410 Mk II` for `C1410MkII`."""
    wanted = normalised(name)
    catalogue = SOURCES.catalogue()
    for model_id in catalogue:
        if normalised(model_id) == wanted:
            return model_id
    raise ModelError(f"unknown model {name!r}; models: {', '.join(sorted(catalogue))}")


def load_model(name: str) -> DeviceModel:
    """Load (once per process and folder) the model named `name`."""
    model_id = resolve_model_id(name)
    return _load(model_id, SOURCES.catalogue()[model_id])


_LOADED: dict[tuple[str, str], DeviceModel] = {}


def _load(model_id: str, folder: Traversable) -> DeviceModel:
    key = (model_id, str(folder))
    found = _LOADED.get(key)
    if found is None:
        found = _LOADED[key] = _read_model(model_id, folder)
    return found


def _read_model(model_id: str, folder: Traversable) -> DeviceModel:
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
    oui = str(meta.get("oui", "B8A44F")).upper()
    recording = _recording(folder, manifest, oui) if meta.get("recorded") is True else None
    try:
        # a subsystem's parameters are part of the model's tree (DESIGN.md, subsystems)
        facts = variants[default_variant].facts
        extra = [d for cls in classes for d in cls.definitions(facts)]
        templates += [t for cls in classes for t in cls.templates(facts)]
        if recording is not None and not templates_file.is_file():  # a recording has no templates to read
            templates += infer_templates(document.definitions, templates)
        tree = ModelTree([*document.definitions, *extra], templates)
        quirks = Quirks.read(manifest.get("quirks"))
        events_file = folder / "events.xml"
        topics = tuple(parse_event_instances(events_file.read_bytes())) if events_file.is_file() else None
    except QuirkError as exc:
        raise ModelError(f"fixture {folder}: [quirks]: {exc}") from exc
    except EventXmlError as exc:
        raise ModelError(f"fixture {folder}: events.xml: {exc}") from exc
    except (KeyError, ValueError, OSError) as exc:
        raise ModelError(f"fixture {folder} is broken: {exc!r}") from exc
    return DeviceModel(
        id=model_id,
        short_name=document.model,
        firmware=document.firmware,
        tree=tree,
        variants=variants,
        default_variant=default_variant,
        oui=oui,
        identity_templates={str(k): str(v) for k, v in manifest.get("identity", {}).items()},
        param_cgi=bool(meta.get("param_cgi", True)),
        facts={k: v for k, v in meta.items()},
        subsystems=names,
        quirks=quirks,
        recording=recording,
        topics=topics,
    )


def _recording(folder: Traversable, manifest: dict[str, Any], oui: str) -> Recording:
    """A recorded model's `[recording]` table: the placeholder identity (default: the anonymiser's,
    `Identity.derive(oui, 0, seed="recorded")`, fixtures/README.md "Recorded models")."""
    table = manifest.get("recording", {})
    if not isinstance(table, dict):
        raise ModelError(f"fixture {folder}: [recording] is a table")
    try:
        derived = Identity.derive(oui, 0, seed="recorded")
        serial = str(table.get("placeholder_serial", derived.serial)).upper()
        ip = str(table.get("placeholder_ip", DEFAULT_PLACEHOLDER_IP))
        ipaddress.ip_address(ip)
        placeholder = Identity(serial, ip=ip)
    except ValueError as exc:
        raise ModelError(f"fixture {folder}: [recording] placeholder identity: {exc}") from exc
    try:
        replies = Replies.load(folder, placeholder)
    except ReplayError as exc:
        raise ModelError(f"fixture {folder}: {exc}") from exc
    events_file = folder / "events.xml"
    events = events_file.read_bytes() if events_file.is_file() else None
    return Recording(
        folder, placeholder, replies, events, str(table.get("source_firmware", "")), str(table.get("recorded_at", ""))
    )  # fmt: skip
