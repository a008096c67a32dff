"""Dataset loaders: one per on-disk layout, behind one interface, chosen by name or detection.

A loader is any object with

* ``name: str`` -- its registry name;
* ``layout: str`` -- a one-line description of the files it looks for (used in errors);
* ``detect(path) -> bool`` -- whether ``path`` looks like its layout (cheap: file tests only);
* ``load(path, *, load_mesh=True, **opts) -> Scene``.

Built-in loaders register themselves in :data:`LOADERS`; third-party ones through the
``spar3d.loaders`` entry-point group. See ``docs/loaders.md``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from spar3d.errors import InputError
from spar3d.paths import check_component
from spar3d.registry import Registry
from spar3d.scenes.model import Scene


class SceneLoadError(InputError):
    """A scene folder is missing a file, or a file is malformed; the message names the file."""


@runtime_checkable
class SceneLoader(Protocol):
    """The interface every loader implements (see the module docstring)."""

    name: str
    layout: str

    def detect(self, path: Path) -> bool: ...

    def load(self, path: Path, *, load_mesh: bool = True, **opts: Any) -> Scene: ...


_BUILTIN_MODULES = (
    "spar3d.scenes.scannet",
    "spar3d.scenes.scannet_preprocessed",
    "spar3d.scenes.scannetpp",
    "spar3d.scenes.structured3d",
    "spar3d.scenes.arkitscenes",
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


def load_scene(
    path: str | Path, loader: str | None = None, *, load_mesh: bool = True, **opts: Any
) -> Scene:
    """Load one scene, picking the loader by name or, when ``loader`` is None, by detection.

    Args:
        path: Scene folder (or the file a loader documents as its entry point).
        loader: Registry name (``"scannet"``, ``"scannet_preprocessed"``, ...) or None.
        load_mesh: Read the surface (faces); loaders still read vertices that boxes need.
        **opts: Loader-specific options (see ``docs/loaders.md``).

    Returns:
        The scene in its aligned world frame.
    """
    chosen = detect_loader(path) if loader is None else _instance(LOADERS.get(loader))
    return check_scene(chosen.load(Path(path), load_mesh=load_mesh, **opts), path)


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


def parse_loader_opts(items: Sequence[str], loader: str | None = None) -> dict[str, Any]:
    """``["key=value", ...]`` (``spar3d index --loader-opt``) -> loader keyword options.

    ``true``/``false`` become booleans and ``none`` None; anything else stays a string (paths,
    names). Keys are checked against the options of ``loader`` (or of any registered loader).

    Raises:
        ConfigError: naming ``--loader-opt`` and the item.
    """
    import inspect

    from spar3d.errors import ConfigError

    names = [loader] if loader else LOADERS.names()
    known: set[str] = set()
    for n in names:
        params = inspect.signature(LOADERS.get(n).load).parameters
        known |= {k for k, p in params.items() if p.kind is p.KEYWORD_ONLY and k != "load_mesh"}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--loader-opt {item!r}: expected key=value")
        if key not in known:
            raise ConfigError(
                f"--loader-opt {item!r}: unknown option {key!r}; "
                f"{'/'.join(names)} accept(s) {', '.join(sorted(known))}"
            )
        low = raw.strip().lower()
        value: Any = {"true": True, "false": False, "none": None}.get(low, raw.strip())
        out[key] = value
    return out
