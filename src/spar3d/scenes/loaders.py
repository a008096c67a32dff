"""Dataset loaders: one per on-disk layout, behind one interface, chosen by name or detection.

A loader is any object with

* ``name: str`` -- its registry name;
* ``layout: str`` -- a one-line description of the files it looks for (used in errors);
* ``options_type`` -- its frozen :class:`LoaderOptions` dataclass (typed fields with defaults,
  validated when built: a bad value is a :class:`~spar3d.errors.ConfigError` naming it);
* ``detect(path) -> bool`` -- whether ``path`` looks like its layout (cheap: file tests only);
* ``load(path, options=None, *, load_mesh=True) -> Scene`` (``None``: the defaults).

:func:`resolve_loader` picks the loader and builds its options from ``key=value`` text
(``spar3d index --loader-opt``) or Python values; :func:`load_scene` then loads and records both
in the scene (``Scene.loader``, ``Scene.loader_options``), and the scene index stores them.

Built-in loaders register themselves in :data:`LOADERS`; third-party ones through the
``spar3d.loaders`` entry-point group. See ``docs/loaders.md``.
"""

from __future__ import annotations

import importlib
import json
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from spar3d.errors import ConfigError, InputError
from spar3d.paths import check_component
from spar3d.registry import Registry
from spar3d.scenes.model import Scene


class SceneLoadError(InputError):
    """A scene folder is missing a file, or a file is malformed; the message names the file."""


OptionsT = TypeVar("OptionsT", bound="LoaderOptions")
_TRUE, _FALSE, _NONE = ("true", "yes", "1"), ("false", "no", "0"), ("none", "null")


@dataclass(frozen=True)
class LoaderOptions:
    """Base of every loader's typed options: a frozen dataclass whose fields all have defaults.

    Field types are among ``bool``, ``int``, ``float``, ``str``, ``Path`` and ``Literal[...]``
    (the allowed values), alone or in a union with ``None`` / ``bool``. Every field is checked
    (and a ``str`` path turned into a ``Path``) when the options are built, then
    :meth:`validate` checks ranges; a bad value is a :class:`ConfigError` naming the loader and
    the option (``scannetpp option camera: 'front' is not one of auto, dslr, iphone``). Fields
    whose metadata has ``file=True`` name a file the loaded scene depends on: its content is
    part of the index's fingerprint (:meth:`files`).
    """

    loader: ClassVar[str] = "loader"

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in fields(self):
            value = _check_value(getattr(self, f.name), hints[f.name], self.option_name(f.name))
            object.__setattr__(self, f.name, value)
        self.validate()

    def validate(self) -> None:
        """Rules beyond the types (ranges); subclasses override it."""

    @classmethod
    def option_name(cls, key: str) -> str:
        return f"{cls.loader} option {key}"

    @classmethod
    def describe(cls) -> str:
        """``name (type, default ...)`` of every option, for help and error messages."""
        hints = _hints(cls)
        return "; ".join(
            f"{f.name} ({_describe(hints[f.name])}, default {_text(f.default)})"
            for f in fields(cls)
        ) or "no options"

    @classmethod
    def from_mapping(
        cls: type[OptionsT], values: Mapping[str, Any], origin: str = ""
    ) -> OptionsT:
        """Options from ``{name: value}``; a ``str`` value is parsed by the field's type
        (``"8"`` for an ``int``, ``"true"``, ``"none"``), anything else checked as it is.

        ``origin`` (e.g. ``"--loader-opt"``) prefixes error messages, with the item.

        Raises:
            ConfigError: An unknown name, or a value of the wrong type or out of range.
        """
        hints = _hints(cls)
        names = [f.name for f in fields(cls)]
        out: dict[str, Any] = {}
        for key, value in values.items():
            where = f"{origin} {f'{key}={_text(value)}'!r}: " if origin else ""
            if key not in names:
                raise ConfigError(
                    f"{where}unknown option {key!r} for the {cls.loader} loader; "
                    f"it accepts {cls.describe()}"
                )
            try:
                out[key] = (
                    _parse_text(value, hints[key], cls.option_name(key))
                    if isinstance(value, str)
                    else value
                )
            except ConfigError as exc:
                raise ConfigError(f"{where}{exc}") from None
        try:
            return cls(**out)
        except ConfigError as exc:
            raise ConfigError(f"{origin + ': ' if origin else ''}{exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON values (paths as text), as the scene index records them."""
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self)}

    def files(self) -> tuple[str, ...]:
        """The existing files named by ``file=True`` options (hashed into fingerprints)."""
        out = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.metadata.get("file") and isinstance(v, Path) and v.is_file():
                out.append(str(v))
        return tuple(out)


def option(default: Any, help: str, *, file: bool = False) -> Any:
    """A :class:`LoaderOptions` field: its default, a one-line help and whether it names a
    file whose content the scene depends on."""
    from dataclasses import field

    return field(default=default, metadata={"help": help, "file": file})


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of an options class (cached per class)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _members(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return (tp,)


def _describe(tp: Any) -> str:
    words = []
    for m in _members(tp):
        if typing.get_origin(m) is Literal:
            words.append("one of " + ", ".join(str(a) for a in typing.get_args(m)))
        else:
            words.append({bool: "true/false", int: "integer", float: "number", str: "text",
                          Path: "path", type(None): "none"}.get(m, str(m)))
    return " or ".join(words)


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _parse_text(text: str, tp: Any, name: str) -> Any:
    """``text`` (from ``key=value``) as a value of type ``tp``."""
    members = _members(tp)
    low = text.strip().lower()
    if type(None) in members and low in _NONE:
        return None
    # the specific readings first: "false" for ``Path | bool`` is the boolean, not a path
    rank = {bool: 1, int: 2, float: 3, Path: 4, str: 5}
    for m in sorted(members, key=lambda m: rank.get(m, 0)):
        if typing.get_origin(m) is Literal:
            if text in typing.get_args(m):
                return text
        elif m is bool:
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
        elif m is int:
            try:
                return int(text)
            except ValueError:
                pass
        elif m is float:
            try:
                return float(text)
            except ValueError:
                pass
        elif m in (str, Path) and text:
            return m(text)
    raise ConfigError(f"{name}: expected {_describe(tp)}, got {text!r}")


def _check_value(value: Any, tp: Any, name: str) -> Any:
    """``value`` if it has type ``tp`` (a ``str`` for a ``Path`` becomes a ``Path``)."""
    for m in _members(tp):
        if typing.get_origin(m) is Literal:
            if isinstance(value, str) and value in typing.get_args(m):
                return value
        elif m is type(None):
            if value is None:
                return None
        elif m is bool:
            if isinstance(value, bool | np.bool_):
                return bool(value)
        elif m is int:
            if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
                return int(value)
        elif m is float:
            if isinstance(value, int | float | np.number) and not isinstance(value, bool):
                return float(value)
        elif m is Path:
            if isinstance(value, Path) or (isinstance(value, str) and value):
                return Path(value)
        elif m is str and isinstance(value, str):
            return value
    if isinstance(value, str) and any(typing.get_origin(m) is Literal for m in _members(tp)):
        raise ConfigError(f"{name}: {value!r} is not {_describe(tp)}")
    raise ConfigError(f"{name}: expected {_describe(tp)}, got {value!r}")


@dataclass(frozen=True)
class NoOptions(LoaderOptions):
    """Options of a loader that takes none."""


@runtime_checkable
class SceneLoader(Protocol):
    """The interface every loader implements (see the module docstring)."""

    name: str
    layout: str

    @property
    def options_type(self) -> type[LoaderOptions]: ...

    def detect(self, path: Path) -> bool: ...

    def load(self, path: Path, options: Any = None, *, load_mesh: bool = True) -> Scene: ...


_BUILTIN_MODULES = (
    "spar3d.scenes.scannet",
    "spar3d.scenes.scannet_preprocessed",
    "spar3d.scenes.scannetpp",
    "spar3d.scenes.structured3d",
    "spar3d.scenes.arkitscenes",
    "spar3d.scenes.trscan",
    "spar3d.scenes.matterport3d",
)


class _LoaderRegistry(Registry[SceneLoader]):
    """A Registry that imports the built-in loader modules the first time it is queried.

    Importing them lazily (rather than at the end of this module) keeps ``import
    spar3d.scenes.labels`` and friends free of import cycles.
    """

    def _load_entry_points(self) -> None:
        if not self._entry_points_loaded:
            for module in _BUILTIN_MODULES:
                importlib.import_module(module)
        super()._load_entry_points()


LOADERS: Registry[SceneLoader] = _LoaderRegistry("loader", "spar3d.loaders")


def _instance(obj: Any) -> SceneLoader:
    # Entry points may name a loader class rather than an instance.
    return obj() if isinstance(obj, type) else obj


def detect_loader(path: str | Path) -> SceneLoader:
    """The first registered loader whose ``detect`` accepts ``path``.

    Raises:
        SceneLoadError: No loader recognises the path; the message lists what each looked for.
    """
    path = Path(path)
    if not path.exists() and not path.parent.is_dir():
        raise SceneLoadError(f"{path}: no such file or folder")
    tried = []
    for name, obj in LOADERS.items():
        loader = _instance(obj)
        if loader.detect(path):
            return loader
        tried.append(f"  {name}: {loader.layout}")
    raise SceneLoadError(
        f"{path}: no loader recognises this layout; looked for:\n" + "\n".join(tried)
    )


def resolve_loader(
    path: str | Path,
    loader: str | None = None,
    options: LoaderOptions | Mapping[str, Any] | None = None,
    *,
    origin: str = "",
) -> tuple[SceneLoader, LoaderOptions]:
    """The loader for ``path`` (by name, or detected) and its typed options.

    ``options`` is the loader's own options object, or ``{name: value}`` (values as text, as
    ``--loader-opt`` gives them, or typed) turned into one by its fields; ``origin`` names
    where they came from in error messages.

    Raises:
        SceneLoadError: No loader recognises the path.
        ConfigError: An option the loader does not have, or a bad value.
    """
    chosen = detect_loader(path) if loader is None else _instance(LOADERS.get(loader))
    kind = getattr(chosen, "options_type", NoOptions)
    if isinstance(options, LoaderOptions):
        if not isinstance(options, kind):
            raise ConfigError(
                f"the {chosen.name} loader takes {kind.__name__}, got {type(options).__name__}"
            )
        return chosen, options
    if kind is NoOptions and options:
        raise ConfigError(
            f"{origin + ': ' if origin else ''}the {chosen.name} loader takes no options, got "
            f"{', '.join(sorted(options))}"
        )
    return chosen, kind.from_mapping(options or {}, origin)


def load_scene(
    path: str | Path,
    loader: str | None = None,
    *,
    load_mesh: bool = True,
    options: LoaderOptions | None = None,
    **opts: Any,
) -> Scene:
    """Load one scene, picking the loader by name or, when ``loader`` is None, by detection.

    Args:
        path: Scene folder (or the file a loader documents as its entry point).
        loader: Registry name (``"scannet"``, ``"scannet_preprocessed"``, ...) or None.
        load_mesh: Read the surface (faces); loaders still read vertices that boxes need.
        options: The loader's options object (``ScanNetOptions(...)``, ...).
        **opts: Or the same options by name (``label_map="x.tsv"``); see ``docs/loaders.md``.

    Returns:
        The scene in its aligned world frame, with ``loader`` and ``loader_options`` set.

    Raises:
        ConfigError: An unknown option or a bad value (naming the loader and the option).
    """
    if options is not None and opts:
        raise ConfigError("load_scene: give options= or keyword options, not both")
    chosen, typed = resolve_loader(path, loader, options if options is not None else opts)
    if hasattr(chosen, "options_type"):
        scene = chosen.load(Path(path), typed, load_mesh=load_mesh)
    else:  # a loader written before typed options (``load(path, *, load_mesh)``): none to pass
        scene = chosen.load(Path(path), load_mesh=load_mesh)
    scene.loader, scene.loader_options = chosen.name, typed
    return check_scene(scene, path)


def check_scene(scene: Scene, path: str | Path) -> Scene:
    """Refuse a loaded scene whose numbers cannot be geometry (NaN / inf / negative sizes).

    Every loader's output passes here, so a hostile or corrupt file fails with a message naming
    the scene path, the object or frame and the field, instead of indexing garbage slowly.
    Frames whose pose is invalid are dropped by the loaders themselves (ScanNet's ``-inf``
    poses); what reaches here must be finite.
    """
    where = str(path)
    check_component(scene.scene_id, "scene_id", where)
    check_component(scene.source, "source", where)
    if scene.mesh is not None:
        v = np.asarray(scene.mesh.vertices)
        bad = ~np.isfinite(v).all(axis=1) if v.ndim == 2 else np.ones(1, dtype=bool)
        if v.ndim != 2 or v.shape[1] != 3 or bad.any():
            first = int(np.argmax(bad))
            raise SceneLoadError(
                f"{where}: mesh vertices must be finite (N, 3) numbers; "
                f"vertex {first} is {v.reshape(-1, 3)[first].tolist() if v.size >= 3 else v}"
            )
        f = scene.mesh.faces
        if f is not None and len(f) and (int(f.min()) < 0 or int(f.max()) >= len(v)):
            raise SceneLoadError(
                f"{where}: mesh faces index vertices outside 0..{len(v) - 1} "
                f"(min {int(f.min())}, max {int(f.max())})"
            )
    for obj in scene.objects:
        b = obj.box
        if not (np.isfinite(b.center).all() and np.isfinite(b.size).all()):
            raise SceneLoadError(
                f"{where}: object {obj.object_id} ({obj.label}): box centre/size must be finite, "
                f"got centre {b.center.tolist()} size {b.size.tolist()}"
            )
        if (b.size < 0).any() or not np.isfinite(b.R_world_box).all():
            raise SceneLoadError(
                f"{where}: object {obj.object_id} ({obj.label}): box size must be >= 0 and its "
                f"rotation finite, got size {b.size.tolist()}"
            )
    for fr in scene.frames:
        if not np.isfinite(fr.T_world_cam).all():
            raise SceneLoadError(f"{where}: frame {fr.frame_id}: pose T_world_cam is not finite")
        for name, intr in (("colour", fr.color), ("depth", fr.depth)):
            if intr is None:
                continue
            K = intr.K
            if (
                not np.isfinite(K).all()
                or K[0, 0] <= 0
                or K[1, 1] <= 0
                or intr.width <= 0
                or intr.height <= 0
            ):
                raise SceneLoadError(
                    f"{where}: frame {fr.frame_id}: {name} intrinsics must be finite with fx, fy "
                    f"> 0 and a positive image size, got K={K.tolist()} "
                    f"size={intr.width}x{intr.height}"
                )
    return scene


# --- small readers shared by the loaders: every failure names the file ---------------------


def scene_folder(path: str | Path) -> Path:
    """The scene folder a loader was given: ``path`` itself, or the folder of a file in it."""
    path = Path(path)
    return path.parent if path.is_file() else path


def require_file(path: Path, what: str = "file") -> Path:
    """Return ``path`` if it is a file, else raise a SceneLoadError naming it."""
    if not path.is_file():
        raise SceneLoadError(f"{path}: missing {what}")
    return path


def read_json(path: Path) -> Any:
    """Parse a JSON file, naming the file (and line/column) when it is missing or malformed."""
    require_file(path, "JSON file")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise SceneLoadError(
            f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc


def parse_matrix(values: Any, n: int, where: str) -> NDArray[np.float64]:
    """``values`` (nested or flat, n*n numbers) as an ``(n, n) float64`` matrix.

    Non-finite entries (ScanNet's ``-inf`` poses) are kept; callers decide what to do.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"{where}: expected {n}x{n} numbers ({exc})") from exc
    if arr.size != n * n:
        raise SceneLoadError(f"{where}: expected {n * n} numbers, found {arr.size}")
    return arr.reshape(n, n)


def read_matrix_txt(path: Path, n: int = 4) -> NDArray[np.float64]:
    """Read an ``n x n`` whitespace-separated matrix text file (pose or intrinsics)."""
    require_file(path, "matrix file")
    try:
        tokens = path.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc
    try:
        values = [float(t) for t in tokens]
    except ValueError as exc:
        raise SceneLoadError(f"{path}: not a matrix of numbers ({exc})") from exc
    return parse_matrix(values, n, str(path))


@lru_cache(maxsize=256)
def _image_size_cached(path: str, mtime_ns: int) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:  # reads the header only
            return int(im.width), int(im.height)
    except (OSError, UnidentifiedImageError) as exc:
        raise SceneLoadError(f"{path}: cannot read image header ({exc})") from exc


def image_size(path: Path | None, default: tuple[int, int]) -> tuple[int, int]:
    """``(width, height)`` from an image header, or ``default`` when there is no image."""
    if path is None or not path.is_file():
        return default
    return _image_size_cached(str(path), path.stat().st_mtime_ns)


def frame_sort_key(name: str) -> tuple[int, int, str]:
    """Sort frame names numerically when they are integers (``"2" < "10"``), else by name."""
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def parse_loader_opts(items: Sequence[str], loader: str | None = None) -> dict[str, str]:
    """``["key=value", ...]`` (``spar3d index --loader-opt``) -> ``{key: value}`` text, checked.

    With ``loader`` the values are parsed by that loader's option fields here (so a bad one
    fails before any scene is read); without, each key must be an option of some registered
    loader and its value valid for at least one that has it, and each scene's detected loader
    parses them again (:func:`resolve_loader`).

    Raises:
        ConfigError: naming ``--loader-opt`` and the item.
    """
    names = [loader] if loader else LOADERS.names()
    kinds = {n: getattr(_instance(LOADERS.get(n)), "options_type", NoOptions) for n in names}
    out: dict[str, str] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise ConfigError(f"--loader-opt {item!r}: expected key=value")
        having = {n: k for n, k in kinds.items() if key in {f.name for f in fields(k)}}
        if not having:
            known = sorted({f.name for k in kinds.values() for f in fields(k)})
            raise ConfigError(
                f"--loader-opt {item!r}: unknown option {key!r}; "
                f"{'/'.join(names)} accept(s) {', '.join(known)}"
            )
        errors = []
        for kind in having.values():
            try:
                _parse_text(raw, _hints(kind)[key], kind.option_name(key))
                break
            except ConfigError as exc:
                errors.append(str(exc))
        else:
            raise ConfigError(f"--loader-opt {item!r}: {'; '.join(errors)}")
        out[key] = raw
    if loader:
        kinds[loader].from_mapping(out, "--loader-opt")  # ranges and combinations, up front
    return out
